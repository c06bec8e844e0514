// Microsoft identity platform: OpenID discovery, the v2.0 token endpoint (client credentials with
// a secret or a certificate assertion; authorization codes in oidc.ts), and validation of the
// tokens it issues on every API surface.
import { createHash, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCES, rolesFor, type ResourceName } from './permissions.ts';
import type { AppRegistration, TenantStore } from './store.ts';
import type { Caller } from './types.ts';
import { GraphError, invalidToken } from './errors.ts';
import { checkClientAssertion, redeemAuthorizationCode } from './oidc.ts';
import { accessTokenBase, signJwt, tokenError, TOKEN_LIFETIME_S } from './tokens.ts';
import type { SigningKey, TokenError } from './types.ts';

// ---- token endpoint ----

/** Maps a client-credentials scope to the resource it names, or undefined. */
export function resourceOfScope(scope: string, store: TenantStore): { resource: ResourceName; audience: string } | undefined {
  const m = /^(.*)\/\.default$/i.exec(scope.trim());
  if (!m) return undefined;
  const res = m[1]!.toLowerCase().replace(/\/$/, '');
  if (res === RESOURCES.graph || res === '00000003-0000-0000-c000-000000000000' || res === 'https://graph.microsoft.com/v1.0') return { resource: 'graph', audience: RESOURCES.graph };
  if (res === RESOURCES.exchange || res === 'https://outlook.office.com' || res === '00000002-0000-0ff1-ce00-000000000000') return { resource: 'exchange', audience: RESOURCES.exchange };
  const tenantName = store.info.initialDomain.split('.')[0]!;
  if (res === `https://${tenantName}.sharepoint.com` || res === `https://${tenantName}-admin.sharepoint.com` || res === `https://${tenantName}-my.sharepoint.com` || res === '00000003-0000-0ff1-ce00-000000000000') {
    return { resource: 'sharepoint', audience: `https://${tenantName}.sharepoint.com` };
  }
  return undefined;
}

export function issueToken(
  form: URLSearchParams,
  store: TenantStore | undefined,
  tenantInPath: string,
  key: SigningKey,
  nowMs: number,
  correlationId: string,
  /** The sandbox's URL: client assertions must name this tenant's token endpoint as audience. */
  baseUrl = '',
): { status: 200; body: Record<string, unknown> } | TokenError {
  if (!store) {
    return tokenError(400, 'invalid_request', 90002, `Tenant '${tenantInPath}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`, correlationId, nowMs);
  }
  const grant = form.get('grant_type');
  if (grant !== 'client_credentials' && grant !== 'authorization_code') {
    return tokenError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant ?? ''}'. The sandbox supports client_credentials and authorization_code.`, correlationId, nowMs);
  }
  const clientId = form.get('client_id') ?? '';
  const app = store.appByClientId(clientId);
  if (!app || app.hasServicePrincipal === false) {
    return tokenError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${store.info.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`, correlationId, nowMs);
  }
  if (app.accountEnabled === false) {
    return tokenError(400, 'unauthorized_client', 7000112, `Application '${app.appId}'(${app.displayName}) is disabled.`, correlationId, nowMs);
  }
  const secret = form.get('client_secret');
  const byCertificate = form.has('client_assertion') || form.has('client_assertion_type');
  if (byCertificate) {
    const refused = checkClientAssertion(form, store, app, baseUrl, nowMs, correlationId);
    if (refused) return refused;
  } else if (!secret) {
    return grant === 'client_credentials'
      ? tokenError(401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.", correlationId, nowMs)
      : tokenError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", correlationId, nowMs);
  } else {
    const matching = app.secrets.find((s) => s.secretText === secret);
    if (!matching) {
      return tokenError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`, correlationId, nowMs);
    }
    if (Date.parse(matching.endDateTime) < nowMs) {
      return tokenError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${app.appId}' are expired. Visit the Azure portal to create new keys for your app.`, correlationId, nowMs);
    }
  }
  if (grant === 'authorization_code') return redeemAuthorizationCode(form, store, app, key, baseUrl, nowMs, correlationId);
  const scope = form.get('scope') ?? '';
  const scopes = scope.split(' ').filter(Boolean);
  if (scopes.length !== 1 || !/\/\.default$/i.test(scopes[0]!)) {
    return tokenError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`, correlationId, nowMs);
  }
  const target = resourceOfScope(scopes[0]!, store);
  if (!target) {
    return tokenError(400, 'invalid_resource', 500011, `The resource principal named ${scopes[0]!.replace(/\/\.default$/i, '')} was not found in the tenant named ${store.info.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`, correlationId, nowMs);
  }
  const iat = Math.floor(nowMs / 1000);
  const roles = rolesFor(target.resource, app.permissions);
  const iss = `https://sts.windows.net/${store.info.id}/`;
  const token = signJwt(key, {
    ...accessTokenBase(store, app, target.audience, iat),
    // How the app proved itself: 1 = client secret, 2 = certificate (SharePoint REST accepts only 2).
    appidacr: byCertificate ? '2' : '1',
    idp: iss,
    idtyp: 'app',
    oid: app.servicePrincipalId,
    ...(roles.length ? { roles } : {}),
    sub: app.servicePrincipalId,
    tid: store.info.id,
    uti: randomUUID().replace(/-/g, '').slice(0, 22),
    ver: '1.0',
  });
  return { status: 200, body: { token_type: 'Bearer', expires_in: TOKEN_LIFETIME_S, ext_expires_in: TOKEN_LIFETIME_S, access_token: token } };
}

/** The OpenID configuration MSAL reads before it asks for a token. */
export function openIdConfiguration(baseUrl: string, tenantId: string): Record<string, unknown> {
  const t = `${baseUrl}/${tenantId}`;
  return {
    token_endpoint: `${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${t}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${t}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email', 'oid'],
    code_challenge_methods_supported: ['plain', 'S256'],
    kerberos_endpoint: `${t}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

// ---- validation on the API surfaces ----

export interface VerifiedToken {
  caller: Caller;
  audience: string;
  /** appidacr: '1' client secret, '2' certificate, '0' public client. */
  appAuthentication: string;
}

let cachedPublicKey: { pem: string; key: KeyObject } | undefined;

function publicKeyOf(signing: SigningKey): KeyObject {
  if (cachedPublicKey?.pem !== signing.privateKeyPem) cachedPublicKey = { pem: signing.privateKeyPem, key: createPublicKey(signing.privateKeyPem) };
  return cachedPublicKey.key;
}

/** Validates "Authorization: Bearer ..." for `audiences`; throws Graph's 401 InvalidAuthenticationToken. */
export function verifyBearer(header: string | undefined, signing: SigningKey, audiences: readonly string[], nowMs: number): VerifiedToken {
  if (!header || !/^Bearer\s+\S/i.test(header)) throw invalidToken('Access token is empty.');
  const token = header.replace(/^Bearer\s+/i, '').trim();
  const parts = token.split('.');
  if (parts.length !== 3) throw invalidToken('IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format.');
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
  } catch {
    throw invalidToken('CompactToken parsing failed with error code: 80049217');
  }
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKeyOf(signing), Buffer.from(parts[2]!, 'base64url'));
  if (!ok) throw invalidToken('Access token validation failure. Invalid signature.');
  if (!audiences.includes(String(claims['aud']))) throw invalidToken('Access token validation failure. Invalid audience.');
  if (typeof claims['exp'] !== 'number' || claims['exp'] * 1000 < nowMs) throw invalidToken('Lifetime validation failed, the token is expired.');
  const roles = Array.isArray(claims['roles']) ? (claims['roles'] as string[]) : [];
  return {
    audience: String(claims['aud']),
    appAuthentication: String(claims['appidacr'] ?? claims['azpacr'] ?? ''),
    caller: {
      tenantId: String(claims['tid']),
      appId: String(claims['appid']),
      servicePrincipalId: String(claims['oid']),
      appDisplayName: String(claims['app_displayname'] ?? ''),
      roles: new Set(roles),
    },
  };
}

export const WWW_AUTHENTICATE = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

export function isAuthError(err: unknown): err is GraphError {
  return err instanceof GraphError && err.status === 401;
}
