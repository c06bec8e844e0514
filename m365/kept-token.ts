// A credential's access tokens, kept until MSAL would fetch new ones itself. @azure/identity's
// getToken goes through MSAL's token cache on every call (a request object, cache keys, URL parsing,
// log lines): 120-200 µs of CPU per Graph, Exchange or SharePoint request in a hot loop on a 2-core
// machine (0.8 s of a worker's 13 busy seconds in a bulk run's CPU profile), to hand back the token
// it gave an hour ago. The token still comes from @azure/identity; this only skips asking while
// MSAL would answer from its cache.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** MSAL fetches a new token this long before the one it has expires (its default refresh offset). */
export const RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;

/** Until when a token is given out again: its refresh time if it has one, and never within the renewal window. */
function keptUntil(token: AccessToken): number {
  return Math.min(token.refreshAfterTimestamp ?? Infinity, token.expiresOnTimestamp - RENEW_BEFORE_EXPIRY_MS);
}

/**
 * `credential` with its tokens kept per scope. A call with a claims challenge (continuous access
 * evaluation), for another tenant or for a proof-of-possession token always asks the credential.
 */
export function keptTokens(credential: TokenCredential, now: () => number = Date.now): TokenCredential {
  const kept = new Map<string, AccessToken>();
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      if (options?.claims || options?.tenantId || options?.enableCae || options?.proofOfPossessionOptions) return credential.getToken(scopes, options);
      const key = typeof scopes === 'string' ? scopes : scopes.join(' ');
      const have = kept.get(key);
      if (have && now() < keptUntil(have)) return have;
      const token = await credential.getToken(scopes, options);
      if (token) kept.set(key, token);
      else kept.delete(key);
      return token;
    },
  };
}
