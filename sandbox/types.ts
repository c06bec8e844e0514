// Types every part of the sandbox shares: a leaf, so no import loop runs through them.

export type Workload = 'directory' | 'intune' | 'teams' | 'outlook' | 'sharepoint' | 'files' | 'other';

export interface Caller {
  tenantId: string;
  appId: string;
  servicePrincipalId: string;
  appDisplayName: string;
  roles: ReadonlySet<string>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GraphCall {
  method: string;
  version: 'v1.0' | 'beta';
  /** Path after the version segment, without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
}

export interface SigningKey {
  privateKeyPem: string;
  kid: string;
}

export interface TokenError {
  status: number;
  body: Record<string, unknown>;
}
