// Signing and shaping the tokens the sandbox's identity platform issues (token endpoint in auth.ts,
// authorization codes and client assertions in oidc.ts).
import { createHash, createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppRegistration, TenantStore } from './store.ts';
import type { SigningKey, TokenError } from './types.ts';

export function loadOrCreateSigningKey(statePath?: string): SigningKey {
  const file = statePath ? join(statePath, 'tls', 'token-signing-key.pem') : undefined;
  let privateKeyPem: string;
  if (file && existsSync(file)) privateKeyPem = readFileSync(file, 'utf8');
  else {
    privateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    if (file) {
      mkdirSync(join(statePath!, 'tls'), { recursive: true });
      writeFileSync(file, privateKeyPem, { mode: 0o600 });
    }
  }
  const kid = createHash('sha256').update(privateKeyPem).digest('base64url').slice(0, 27);
  return { privateKeyPem, kid };
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

export function signJwt(key: SigningKey, payload: Record<string, unknown>): string {
  const head = b64({ typ: 'JWT', alg: 'RS256', kid: key.kid, x5t: key.kid });
  const body = b64(payload);
  const sig = sign('sha256', Buffer.from(`${head}.${body}`), key.privateKeyPem).toString('base64url');
  return `${head}.${body}.${sig}`;
}

export function jwks(key: SigningKey): unknown {
  const jwk = createPublicKey(key.privateKeyPem).export({ format: 'jwk' });
  return { keys: [{ kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: jwk.n, e: jwk.e, issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' }] };
}

export function tokenError(status: number, error: string, code: number, description: string, correlationId: string, nowMs: number): TokenError {
  const traceId = randomUUID();
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${new Date(nowMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`,
      error_codes: [code],
      timestamp: new Date(nowMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

export const TOKEN_LIFETIME_S = 3599;

/** The claims every v1.0 access token the sandbox issues starts with (app-only or delegated). */
export function accessTokenBase(store: TenantStore, app: AppRegistration, audience: string, iat: number): Record<string, unknown> {
  return {
    aud: audience,
    iss: `https://sts.windows.net/${store.info.id}/`,
    iat,
    nbf: iat,
    exp: iat + TOKEN_LIFETIME_S + 1,
    app_displayname: app.displayName,
    appid: app.appId,
    appidacr: '1',
  };
}
