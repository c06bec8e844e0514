// OpenID Connect sign-in (Microsoft Entra ID in production): the authorization code flow with
// PKCE, state (bound to the browser that started the sign-in) and nonce. Discovery, the code
// redemption, the issuer's JWKS and the ID token's checks (RS256 signature, issuer, audience and
// authorized party, nonce, lifetime) are openid-client's (panva's certified relying party);
// this file configures it and words its refusals. Proven against the sandbox tenant
// (test/api-oidc.test.ts).
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';

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

/** Clock difference tolerated on the ID token's exp / nbf / iat, in seconds. */
const SKEW_S = 60;

const configs = new Map<string, Promise<oidc.Configuration>>();

/**
 * The provider's configuration from its discovery document (fetched once per issuer and client;
 * openid-client refuses a document that names another issuer, OpenID Connect Discovery 1.0 §4.3),
 * holding its JWKS cache: an unknown key id refetches the keys (a key roll-over).
 */
export function configFor(s: OidcSettings): Promise<oidc.Configuration> {
  const key = JSON.stringify([s.issuer, s.clientId, s.clientSecret]);
  let c = configs.get(key);
  if (!c) {
    c = oidc
      .discovery(new URL(s.issuer), s.clientId, { id_token_signed_response_alg: 'RS256', [oidc.clockTolerance]: SKEW_S }, oidc.ClientSecretPost(s.clientSecret))
      .catch((err: unknown) => {
        throw new Error(`OpenID discovery at ${s.issuer} failed: ${reason(err)} (check OIDC_ISSUER)`);
      });
    c.catch(() => configs.delete(key));
    configs.set(key, c);
  }
  return c;
}

/**
 * The key a sign-in attempt is stored under: its state bound to a secret the starting browser
 * holds in a cookie, so a callback URL replayed in another browser (login CSRF) matches nothing.
 */
export function stateKey(state: string, browserBinding: string): string {
  return createHash('sha256').update(`${state}|${browserBinding}`).digest('base64url');
}

export function newLoginRequest() {
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
  return { state, nonce, codeVerifier, codeChallenge };
}

export async function authorizeUrl(s: OidcSettings, req: ReturnType<typeof newLoginRequest>): Promise<string> {
  return oidc
    .buildAuthorizationUrl(await configFor(s), {
      redirect_uri: s.redirectUri,
      response_mode: 'query',
      scope: 'openid profile email',
      state: req.state,
      nonce: req.nonce,
      code_challenge: req.codeChallenge,
      code_challenge_method: 'S256',
    })
    .toString();
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

/**
 * Redeems the code the provider sent the browser back with (`callbackQuery`: the callback's query
 * string), checking the state, the PKCE verifier and the ID token; its claims, or an Error whose
 * message says what was refused.
 */
export async function redeemCode(s: OidcSettings, callbackQuery: URLSearchParams, expected: { state: string; codeVerifier: string; nonce: string }): Promise<IdTokenClaims> {
  const config = await configFor(s);
  const callback = new URL(s.redirectUri);
  callback.search = callbackQuery.toString();
  let tokens;
  try {
    tokens = await oidc.authorizationCodeGrant(config, callback, { expectedState: expected.state, pkceCodeVerifier: expected.codeVerifier, expectedNonce: expected.nonce, idTokenExpected: true });
  } catch (err) {
    throw new Error(reason(err, config.serverMetadata().issuer));
  }
  const claims = tokens.claims() as unknown as IdTokenClaims | undefined;
  if (!claims?.sub) throw new Error('the ID token has no subject');
  return claims;
}

/** What the provider or the ID token check refused, in words an operator can act on. */
function reason(err: unknown, issuer?: string): string {
  if (err instanceof oidc.ResponseBodyError) return `the identity provider refused the code: ${err.error} ${err.error_description ?? ''}`.trim();
  // openid-client's errors wrap oauth4webapi's, whose cause names the claim that failed.
  let e: unknown = err;
  let message = err instanceof Error ? err.message : String(err);
  for (let i = 0; e instanceof Error && i < 4; i++, e = e.cause) {
    const detail = e.cause as { claim?: string; claims?: { iss?: string } } | undefined;
    switch (detail?.claim) {
      case 'aud':
      case 'azp':
        return 'the ID token is for another application';
      case 'iss':
        return `the ID token was issued by ${detail.claims?.iss ?? 'another issuer'}, not ${issuer ?? 'the configured issuer'}`;
      case 'exp':
        return 'the ID token has expired';
      case 'nbf':
        return 'the ID token is not valid yet';
      case 'nonce':
        return 'the ID token nonce does not match this sign-in';
    }
    if (e !== err) message = `${message}: ${e.message}`;
  }
  return `the ID token was refused: ${message}`;
}
