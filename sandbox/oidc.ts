// Microsoft identity platform, the parts beyond a daemon's client secret: user sign-in with the
// OpenID Connect authorization code flow (PKCE, state, nonce, registered redirect URIs, ID tokens)
// and certificate credentials (client assertions signed with a certificate uploaded to the app).
// The sandbox signs in the user named by login_hint without a password (or offers a picker).
import { createHash, createPublicKey, randomBytes, randomUUID, verify, constants, X509Certificate } from 'node:crypto';
import type { AppRegistration, TenantStore, User } from './store.ts';
import { accessTokenBase, signJwt, tokenError, TOKEN_LIFETIME_S } from './tokens.ts';
import { type SigningKey, type TokenError } from './types.ts';
import { RESOURCES } from './permissions.ts';

export interface AppCertificate {
  keyId: string;
  displayName: string;
  /** The certificate only (never a private key), PEM. */
  certificatePem: string;
  /** Hex SHA-1 thumbprint, as the portal shows it. */
  thumbprint: string;
  /** base64url SHA-1 and SHA-256 of the DER: the x5t and x5t#S256 an assertion names. */
  x5t: string;
  x5tS256: string;
  startDateTime: string;
  endDateTime: string;
}

interface CodeGrant {
  clientId: string;
  tenantId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  expiresMs: number;
  redeemed: boolean;
}

interface IdentityState {
  certificates: Record<string, AppCertificate[]>;
  redirectUris: Record<string, string[]>;
  codes: Record<string, CodeGrant>;
  /** Claim overrides for the next ID tokens (relying-party tests: wrong audience, expired...). */
  idTokenOverrides: Record<string, unknown>[];
}

const state = (store: TenantStore): IdentityState =>
  store.tenantState('identity', () => ({ certificates: {}, redirectUris: {}, codes: {}, idTokenOverrides: [] }));

/** How long an authorization code can be redeemed (Entra: about ten minutes). */
export const CODE_LIFETIME_MS = 10 * 60_000;

// ---- registration (admin API) ----

export function addCertificate(store: TenantStore, app: AppRegistration, pem: string, displayName?: string): AppCertificate {
  let x: X509Certificate;
  try {
    x = new X509Certificate(pem);
  } catch {
    throw new Error('certificate must be a PEM (or base64 DER) X.509 certificate');
  }
  const sha1 = createHash('sha1').update(x.raw).digest();
  const cert: AppCertificate = {
    keyId: randomUUID(),
    displayName: displayName ?? (/CN=([^\n,]+)/.exec(x.subject)?.[1] ?? x.subject),
    certificatePem: x.toString(),
    thumbprint: sha1.toString('hex').toUpperCase(),
    x5t: sha1.toString('base64url'),
    x5tS256: createHash('sha256').update(x.raw).digest('base64url'),
    startDateTime: new Date(x.validFrom).toISOString(),
    endDateTime: new Date(x.validTo).toISOString(),
  };
  const list = (state(store).certificates[app.appId] ??= []);
  if (list.some((c) => c.thumbprint === cert.thumbprint)) throw new Error(`a certificate with thumbprint ${cert.thumbprint} is already registered on app ${app.appId}`);
  list.push(cert);
  return cert;
}

export function certificatesOf(store: TenantStore, appId: string): AppCertificate[] {
  return state(store).certificates[appId.toLowerCase()] ?? [];
}

export function removeCertificate(store: TenantStore, appId: string, keyId: string): boolean {
  const s = state(store);
  const before = s.certificates[appId]?.length ?? 0;
  s.certificates[appId] = (s.certificates[appId] ?? []).filter((c) => c.keyId !== keyId);
  return s.certificates[appId]!.length < before;
}

/** Graph's PATCH keyCredentials: the app's certificates become exactly these. */
export function replaceCertificates(store: TenantStore, appId: string, certs: AppCertificate[]): void {
  state(store).certificates[appId.toLowerCase()] = certs;
}

export function setRedirectUris(store: TenantStore, appId: string, uris: string[]): void {
  for (const u of uris) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new Error(`redirect URI ${u} is not an absolute URI`);
    }
    // Entra: https, or http only for localhost.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))) throw new Error(`redirect URI ${u} must use https (http only for localhost)`);
  }
  state(store).redirectUris[appId.toLowerCase()] = [...new Set(uris)];
}

export function redirectUrisOf(store: TenantStore, appId: string): string[] {
  return state(store).redirectUris[appId.toLowerCase()] ?? [];
}

export function overrideNextIdToken(store: TenantStore, claims: Record<string, unknown>): void {
  state(store).idTokenOverrides.push(claims);
}

// ---- authorize endpoint ----

export interface AuthorizeReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function errorPage(code: number, message: string, correlationId: string, nowMs: number): AuthorizeReply {
  const e = tokenError(400, 'invalid_request', code, message, correlationId, nowMs);
  return {
    status: 400,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: `<!doctype html><title>Sign in to your account</title><h1>Sorry, but we're having trouble signing you in.</h1><p>${esc(String(e.body['error_description']))}</p>`,
  };
}

function redirectWith(redirectUri: string, params: Record<string, string | undefined>): AuthorizeReply {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return { status: 302, headers: { location: u.toString(), 'cache-control': 'no-store' } };
}

function redirectError(redirectUri: string, stateParam: string | undefined, error: string, code: number, message: string, correlationId: string, nowMs: number): AuthorizeReply {
  const e = tokenError(400, error, code, message, correlationId, nowMs);
  return redirectWith(redirectUri, { error, error_description: String(e.body['error_description']), error_uri: String(e.body['error_uri']), state: stateParam });
}

function picker(store: TenantStore, authorizeUrl: URL): AuthorizeReply {
  const users = [...store.users.values()].filter((u) => u.accountEnabled && u.userType === 'Member').slice(0, 50);
  const items = users
    .map((u) => {
      const link = new URL(authorizeUrl);
      link.searchParams.set('login_hint', u.userPrincipalName);
      return `<li><a href="${esc(link.pathname + link.search)}">${esc(u.displayName)}</a> <small>${esc(u.userPrincipalName)}</small></li>`;
    })
    .join('');
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: `<!doctype html><title>Pick an account</title><h1>${esc(store.info.displayName)} (sandbox)</h1><p>Pick an account (the sandbox signs in without a password; add login_hint to skip this page).</p><ul>${items}</ul>`,
  };
}

/** GET /{tenant}/oauth2/v2.0/authorize: response_type=code with PKCE; signs in login_hint's user. */
export function authorize(store: TenantStore | undefined, tenantPart: string, url: URL, nowMs: number, correlationId: string): AuthorizeReply {
  const q = url.searchParams;
  if (!store) return errorPage(90002, `Tenant '${tenantPart}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`, correlationId, nowMs);
  const clientId = q.get('client_id');
  if (!clientId) return errorPage(900144, "The request body must contain the following parameter: 'client_id'.", correlationId, nowMs);
  const app = store.appByClientId(clientId);
  if (!app || app.hasServicePrincipal === false)
    return errorPage(700016, `Application with identifier '${clientId}' was not found in the directory '${store.info.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`, correlationId, nowMs);
  if (app.accountEnabled === false) return errorPage(7000112, `Application '${app.appId}'(${app.displayName}) is disabled.`, correlationId, nowMs);
  const redirectUri = q.get('redirect_uri');
  if (!redirectUri) return errorPage(900971, 'No reply address provided.', correlationId, nowMs);
  // An unregistered redirect URI never receives anything: an error page, as Entra shows.
  if (!redirectUrisOf(store, app.appId).includes(redirectUri))
    return errorPage(50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`, correlationId, nowMs);

  const stateParam = q.get('state') ?? undefined;
  const fail = (error: string, code: number, message: string) => redirectError(redirectUri, stateParam, error, code, message, correlationId, nowMs);
  const responseType = q.get('response_type');
  if (responseType !== 'code') return fail('unsupported_response_type', 70005, `The sandbox supports response_type 'code' only; '${responseType ?? ''}' was requested.`);
  const mode = q.get('response_mode') ?? 'query';
  if (mode !== 'query') return fail('invalid_request', 70007, `The sandbox supports response_mode 'query' only; '${mode}' was requested.`);
  const scope = q.get('scope');
  if (!scope) return fail('invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (method && method !== 'S256' && method !== 'plain') return fail('invalid_request', 501491, `Invalid code_challenge_method '${method}': S256 or plain.`);
  if (method && !challenge) return fail('invalid_request', 50147, 'The code_challenge parameter is required when code_challenge_method is given.');
  if (challenge && method === 'S256' && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail('invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');

  const hint = q.get('login_hint');
  if (!hint) {
    if (q.get('prompt') === 'none') return fail('login_required', 50058, 'A silent sign-in request was sent but no user is signed in.');
    return picker(store, url);
  }
  const user = store.findUser(hint) ?? [...store.users.values()].find((u) => u.mail?.toLowerCase() === hint.toLowerCase());
  if (!user) return errorPage(50034, `The user account ${hint} does not exist in the '${store.info.id}' directory. To sign into this application, the account must be added to the directory.`, correlationId, nowMs);
  if (!user.accountEnabled) return errorPage(50057, 'The user account is disabled.', correlationId, nowMs);

  const code = `1.${randomBytes(48).toString('base64url')}`;
  state(store).codes[code] = {
    clientId: app.appId,
    tenantId: store.info.id,
    userId: user.id,
    redirectUri,
    scope,
    nonce: q.get('nonce') ?? undefined,
    codeChallenge: challenge,
    codeChallengeMethod: method as CodeGrant['codeChallengeMethod'],
    expiresMs: nowMs + CODE_LIFETIME_MS,
    redeemed: false,
  };
  // Redeemed or expired codes are kept a while so a replay gets 54005, then dropped.
  for (const [k, g] of Object.entries(state(store).codes)) if (g.expiresMs < nowMs - 3600_000) delete state(store).codes[k];
  return redirectWith(redirectUri, { code, state: stateParam, session_state: randomUUID() });
}

// ---- token endpoint: authorization_code ----

export function redeemAuthorizationCode(
  form: URLSearchParams,
  store: TenantStore,
  app: AppRegistration,
  key: SigningKey,
  baseUrl: string,
  nowMs: number,
  correlationId: string,
): { status: 200; body: Record<string, unknown> } | TokenError {
  const err = (status: number, error: string, code: number, message: string) => tokenError(status, error, code, message, correlationId, nowMs);
  const code = form.get('code');
  if (!code) return err(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'code'.");
  const grant = state(store).codes[code];
  if (!grant) return err(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid: the authorization code is not one this tenant issued.');
  if (grant.redeemed) return err(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
  if (grant.expiresMs < nowMs) return err(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
  if (grant.tenantId !== store.info.id) return err(400, 'invalid_grant', 700005, 'Provided Authorization Code is intended to use against other tenant, thus rejected.');
  if (grant.clientId !== app.appId) return err(400, 'invalid_grant', 70000, `The provided authorization code was issued to another application, not '${app.appId}'.`);
  // Any attempt past this point uses the code up (RFC 6749 §4.1.2: a code is for one use).
  grant.redeemed = true;
  const redirectUri = form.get('redirect_uri');
  if (redirectUri !== grant.redirectUri)
    return err(400, 'invalid_grant', 500112, `The reply address '${redirectUri ?? ''}' does not match the reply address '${grant.redirectUri}' provided when requesting Authorization code.`);
  if (grant.codeChallenge) {
    const verifier = form.get('code_verifier') ?? '';
    const computed = grant.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
    if (!verifier || computed !== grant.codeChallenge) return err(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
  }
  const user = store.users.get(grant.userId);
  if (!user) return err(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
  if (!user.accountEnabled) return err(400, 'invalid_grant', 50057, 'The user account is disabled.');

  const iat = Math.floor(nowMs / 1000);
  const scopes = grant.scope.split(' ').filter(Boolean);
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: [...scopes.filter((s) => !['openid', 'profile', 'email', 'offline_access'].includes(s)), 'User.Read', 'openid', 'profile', 'email'].filter((s, i, a) => a.indexOf(s) === i).join(' '),
    expires_in: TOKEN_LIFETIME_S,
    ext_expires_in: TOKEN_LIFETIME_S,
    access_token: delegatedAccessToken(key, store, app, user, iat),
  };
  if (scopes.includes('openid')) {
    const overrides = state(store).idTokenOverrides.shift() ?? {};
    body['id_token'] = signJwt(key, { ...idTokenClaims(store, app, user, grant, baseUrl, iat), ...overrides });
  }
  return { status: 200, body };
}

function idTokenClaims(store: TenantStore, app: AppRegistration, user: User, grant: CodeGrant, baseUrl: string, iat: number): Record<string, unknown> {
  return {
    aud: app.appId,
    iss: `${baseUrl}/${store.info.id}/v2.0`,
    iat,
    nbf: iat,
    exp: iat + 3600,
    ...(user.mail ? { email: user.mail } : {}),
    name: user.displayName,
    ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
    oid: user.id,
    preferred_username: user.userPrincipalName,
    // Entra's sub is pairwise: the same user has another sub in another app.
    sub: createHash('sha256').update(`${app.appId}|${user.id}`).digest('base64url'),
    tid: store.info.id,
    uti: randomUUID().replace(/-/g, '').slice(0, 22),
    ver: '2.0',
  };
}

/** A delegated Graph token for the signed-in user (scp, no roles): Graph calls with it are not emulated. */
function delegatedAccessToken(key: SigningKey, store: TenantStore, app: AppRegistration, user: User, iat: number): string {
  return signJwt(key, {
    ...accessTokenBase(store, app, RESOURCES.graph, iat),
    idtyp: 'user',
    name: user.displayName,
    oid: user.id,
    scp: 'openid profile email User.Read',
    sub: createHash('sha256').update(`graph|${user.id}`).digest('base64url'),
    tid: store.info.id,
    unique_name: user.userPrincipalName,
    upn: user.userPrincipalName,
    uti: randomUUID().replace(/-/g, '').slice(0, 22),
    ver: '1.0',
  });
}

// ---- client assertions (certificate credentials) ----

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_SKEW_S = 300;

/**
 * Checks a private_key_jwt client assertion the way Entra does: the header names a certificate
 * registered on the app (x5t#S256 or x5t), the signature verifies with it (RS256 or PS256),
 * iss = sub = client_id, aud = this tenant's token endpoint, exp/nbf in range, jti present.
 * A jti is not refused when seen again: MSAL reuses one assertion for up to ten minutes.
 */
export function checkClientAssertion(
  form: URLSearchParams,
  store: TenantStore,
  app: AppRegistration,
  baseUrl: string,
  nowMs: number,
  correlationId: string,
): TokenError | undefined {
  const err = (status: number, error: string, code: number, message: string) => tokenError(status, error, code, message, correlationId, nowMs);
  if (form.get('client_assertion_type') !== JWT_BEARER)
    return err(400, 'invalid_request', 50027, `client_assertion_type must be '${JWT_BEARER}'.`);
  const assertion = form.get('client_assertion') ?? '';
  const parts = assertion.split('.');
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    if (parts.length !== 3) throw new Error('not a JWS');
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
  } catch {
    return err(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  }
  const certs = certificatesOf(store, app.appId);
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const x5t = typeof header['x5t'] === 'string' ? header['x5t'] : undefined;
  const cert = certs.find((c) => (x5tS256 !== undefined && c.x5tS256 === x5tS256) || (x5tS256 === undefined && x5t !== undefined && c.x5t === x5t));
  const portalHint = `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.appId}'.`;
  if (!cert) {
    const used = x5tS256 ?? x5t;
    const shown = used ? Buffer.from(used, 'base64url').toString('hex').toUpperCase() : '';
    return err(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${shown}', ${portalHint}]`);
  }
  const alg = header['alg'];
  if (alg !== 'RS256' && alg !== 'PS256') return err(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - The algorithm '${String(alg)}' is not supported: RS256 or PS256.]`);
  const key = createPublicKey(cert.certificatePem);
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2]!, 'base64url');
  const ok =
    alg === 'RS256'
      ? verify('sha256', signed, key, sig)
      : verify('sha256', signed, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig);
  if (!ok) return err(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - The signature does not verify with the certificate '${cert.thumbprint}'.]`);
  if (Date.parse(cert.endDateTime) < nowMs) return err(401, 'invalid_client', 700027, `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${cert.thumbprint}', ${portalHint}]`);
  if (claims['iss'] !== claims['sub']) return err(401, 'invalid_client', 50048, 'Subject mismatches Issuer claim in the client assertion.');
  if (claims['sub'] !== app.appId) return err(401, 'invalid_client', 700021, `Client assertion application identifier doesn't match 'client_id' parameter.`);
  const audiences = new Set<string>();
  for (const t of [store.info.id, ...store.info.verifiedDomains]) {
    audiences.add(`${baseUrl}/${t}/oauth2/v2.0/token`);
    audiences.add(`${baseUrl}/${t}/oauth2/token`);
  }
  const aud = Array.isArray(claims['aud']) ? (claims['aud'] as unknown[]) : [claims['aud']];
  if (!aud.some((a) => typeof a === 'string' && audiences.has(a)))
    return err(401, 'invalid_client', 50027, `Invalid JWT token. The client assertion's audience '${String(claims['aud'])}' is not this tenant's token endpoint '${baseUrl}/${store.info.id}/oauth2/v2.0/token'.`);
  const now = nowMs / 1000;
  if (typeof claims['exp'] !== 'number' || claims['exp'] + ASSERTION_SKEW_S < now || (typeof claims['nbf'] === 'number' && claims['nbf'] - ASSERTION_SKEW_S > now))
    return err(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
  if (typeof claims['jti'] !== 'string' || !claims['jti']) return err(401, 'invalid_client', 50027, "Invalid JWT token. The client assertion has no 'jti' claim.");
  return undefined;
}
