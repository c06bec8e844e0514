// OpenID Connect sign-in (Microsoft Entra ID in production): the authorization code flow with
// PKCE, state (bound to the browser that started the sign-in) and nonce; the ID token's signature
// is checked against the issuer's JWKS and its issuer, audience, nonce and lifetime are checked
// before a session is created. Proven against the sandbox tenant (test/api-oidc.test.ts).
import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';

export interface OidcSettings {
  /** e.g. https://login.microsoftonline.com/<tenant id>/v2.0 */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the IdP sends the browser back: <public URL>/api/auth/oidc/callback */
  redirectUri: string;
  /** Create an account (without roles) for a first-time sign-in instead of refusing it. */
  autoProvision?: boolean;
}

export function oidcFromEnv(env: NodeJS.ProcessEnv, publicUrl: string): OidcSettings | undefined {
  if (!env.OIDC_ISSUER || !env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET) return undefined;
  return {
    issuer: env.OIDC_ISSUER.replace(/\/$/, ''),
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    redirectUri: env.OIDC_REDIRECT_URI ?? `${publicUrl.replace(/\/$/, '')}/api/auth/oidc/callback`,
    autoProvision: env.OIDC_AUTO_PROVISION === 'true',
  };
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

const discoveries = new Map<string, Promise<Discovery>>();

export function discover(issuer: string): Promise<Discovery> {
  let d = discoveries.get(issuer);
  if (!d) {
    d = fetch(`${issuer}/.well-known/openid-configuration`).then(async (r) => {
      if (!r.ok) throw new Error(`OpenID discovery at ${issuer} answered ${r.status}`);
      const doc = (await r.json()) as Discovery;
      // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
      if (doc.issuer !== issuer) throw new Error(`OpenID discovery at ${issuer} names another issuer (${doc.issuer}): check OIDC_ISSUER`);
      return doc;
    });
    d.catch(() => discoveries.delete(issuer));
    discoveries.set(issuer, d);
  }
  return d;
}

/**
 * The key a sign-in attempt is stored under: its state bound to a secret the starting browser
 * holds in a cookie, so a callback URL replayed in another browser (login CSRF) matches nothing.
 */
export function stateKey(state: string, browserBinding: string): string {
  return createHash('sha256').update(`${state}|${browserBinding}`).digest('base64url');
}

export function newLoginRequest() {
  const state = randomBytes(24).toString('base64url');
  const nonce = randomBytes(24).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
  return { state, nonce, codeVerifier, codeChallenge };
}

export async function authorizeUrl(s: OidcSettings, req: ReturnType<typeof newLoginRequest>): Promise<string> {
  const d = await discover(s.issuer);
  const u = new URL(d.authorization_endpoint);
  u.search = new URLSearchParams({
    client_id: s.clientId,
    response_type: 'code',
    redirect_uri: s.redirectUri,
    response_mode: 'query',
    scope: 'openid profile email',
    state: req.state,
    nonce: req.nonce,
    code_challenge: req.codeChallenge,
    code_challenge_method: 'S256',
  }).toString();
  return u.toString();
}

export interface IdTokenClaims {
  sub: string;
  oid?: string;
  email?: string;
  preferred_username?: string;
  name?: string;
  tid?: string;
  iss: string;
  aud: string | string[];
  azp?: string;
  exp: number;
  nbf?: number;
  iat?: number;
  nonce?: string;
}

const SKEW_MS = 60_000;

const jwksCache = new Map<string, Promise<(JsonWebKey & { kid?: string })[]>>();

async function signingKeys(jwksUri: string, refresh = false): Promise<(JsonWebKey & { kid?: string })[]> {
  let k = jwksCache.get(jwksUri);
  if (!k || refresh) {
    k = fetch(jwksUri).then(async (r) => {
      if (!r.ok) throw new Error(`the identity provider's keys (${jwksUri}) answered ${r.status}`);
      return ((await r.json()) as { keys: (JsonWebKey & { kid?: string })[] }).keys;
    });
    k.catch(() => jwksCache.delete(jwksUri));
    jwksCache.set(jwksUri, k);
  }
  return k;
}


export async function redeemCode(s: OidcSettings, code: string, codeVerifier: string, nonce: string): Promise<IdTokenClaims> {
  const d = await discover(s.issuer);
  const res = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: s.redirectUri,
      client_id: s.clientId,
      client_secret: s.clientSecret,
      code_verifier: codeVerifier,
    }),
  });
  const body = (await res.json().catch(() => ({}))) as { id_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.id_token) throw new Error(`the identity provider refused the code: ${body.error ?? res.status} ${body.error_description ?? ''}`.trim());
  return verifyIdToken(body.id_token, s, d, nonce);
}

export async function verifyIdToken(jwt: string, s: OidcSettings, d: Discovery, nonce: string): Promise<IdTokenClaims> {
  const [h, p, sig] = jwt.split('.');
  if (!h || !p || !sig) throw new Error('the ID token is malformed');
  let header: { alg: string; kid?: string };
  let claims: IdTokenClaims;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid?: string };
    claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as IdTokenClaims;
  } catch {
    throw new Error('the ID token is malformed');
  }
  if (header.alg !== 'RS256') throw new Error(`ID token algorithm ${header.alg} is not accepted`);
  const pick = (keys: (JsonWebKey & { kid?: string })[]) => (header.kid ? keys.find((k) => k.kid === header.kid) : keys.length === 1 ? keys[0] : undefined);
  // An unknown kid may be a key the provider has just rolled over to: fetch the keys once more.
  const jwk = pick(await signingKeys(d.jwks_uri)) ?? pick(await signingKeys(d.jwks_uri, true));
  if (!jwk) throw new Error('the ID token was signed with an unknown key');
  const ok = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig, 'base64url'));
  if (!ok) throw new Error('the ID token signature is invalid');
  if (claims.iss !== d.issuer) throw new Error(`the ID token was issued by ${claims.iss}, not ${d.issuer}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(s.clientId)) throw new Error('the ID token is for another application');
  // OpenID Connect Core §3.1.3.7: with several audiences, azp must name this client.
  if (aud.length > 1 && claims.azp !== s.clientId) throw new Error('the ID token names several audiences and this application is not its authorized party');
  const now = Date.now();
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < now - SKEW_MS) throw new Error('the ID token has expired');
  if (typeof claims.nbf === 'number' && claims.nbf * 1000 > now + SKEW_MS) throw new Error('the ID token is not valid yet');
  if (claims.nonce !== nonce) throw new Error('the ID token nonce does not match this sign-in');
  if (!claims.sub) throw new Error('the ID token has no subject');
  return claims;
}
