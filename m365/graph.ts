// The Graph transport: one Microsoft Graph client per tenant connection, over an
// @azure/identity credential (client secret or certificate). The same code path serves a real tenant and the
// sandbox (only the authority and base URLs differ). The client's own retry middleware is left
// out on purpose: throttled and transient answers are sent again in place by m365/transient.ts
// (bounded, Retry-After honoured), and anything else fails the attempt for Temporal to retry.
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { AuthenticationHandler, Client, HTTPMessageHandler } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { ActionError, statusOf } from './errors.ts';
import { keptTokens } from './kept-token.ts';
import { gateFor, ThrottleGate } from './throttle.ts';
import { sendRetrying } from './transient.ts';

export { ThrottleGate, gateFor } from './throttle.ts';
import type { TenantConnection } from './tenants.ts';

const trusted = new Set<string>();

/** Adds a CA certificate (the sandbox's) to the process's default trust store. */
export function trustCa(pem: string): void {
  if (trusted.has(pem)) return;
  trusted.add(pem);
  setDefaultCACertificates([...getCACertificates('default'), ...trusted]);
}

/**
 * The connection's app credential: a certificate (client assertion signed with its key) when the
 * connection has one, otherwise the client secret. It keeps its tokens while they are fresh
 * (m365/kept-token.ts).
 */
export function credentialFor(conn: TenantConnection): TokenCredential {
  if (conn.caPem) trustCa(conn.caPem);
  const opts = {
    authorityHost: conn.authorityHost,
    // A custom authority (the sandbox) has no entry in Microsoft's instance discovery.
    disableInstanceDiscovery: conn.authorityHost !== undefined,
  };
  return keptTokens(
    conn.certificatePem
      ? new ClientCertificateCredential(conn.tenantId, conn.clientId, { certificate: conn.certificatePem }, opts)
      : new ClientSecretCredential(conn.tenantId, conn.clientId, conn.clientSecret, opts),
  );
}

export interface GraphOptions {
  /** Pace a tenant's requests by each service's budget (default true; off only to measure it). */
  throttleGate?: boolean;
}

interface Transport {
  middleware: AuthenticationHandler;
  gate?: ThrottleGate;
  baseUrl: string;
  host: string;
}

function transportFor(conn: TenantConnection, opts: GraphOptions = {}): Transport {
  const credential = credentialFor(conn);
  const authProvider = new TokenCredentialAuthenticationProvider(credential, {
    scopes: ['https://graph.microsoft.com/.default'],
  });
  const middleware = new AuthenticationHandler(authProvider);
  const http = new HTTPMessageHandler();
  // One gate per app and tenant, shared with the Exchange and SharePoint transports.
  const gate = opts.throttleGate === false ? undefined : gateFor(conn);
  // Throttled and transient answers are sent again in place, within bounds (m365/transient.ts);
  // through the gate, so each send waits for its budget (and a 429's Retry-After).
  const send = (ctx: Parameters<ThrottleGate['execute']>[0]) => (gate ? gate.execute(ctx, http) : http.execute(ctx));
  const link = {
    execute: (ctx: Parameters<ThrottleGate['execute']>[0]) => {
      const method = ctx.options?.method ?? (typeof ctx.request === 'string' ? 'GET' : ctx.request.method);
      const body = ctx.options?.body;
      const resendable = body == null || typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body);
      return sendRetrying(method, ctx.options?.signal ?? undefined, async () => {
        await send(ctx);
        return ctx.response;
      }, resendable ? {} : { tries: 1 }).then((res) => void (ctx.response = res));
    },
    setNext() {},
  };
  middleware.setNext(link);
  const baseUrl = (conn.graphUrl ?? 'https://graph.microsoft.com').replace(/\/$/, '');
  return { middleware, gate, baseUrl, host: new URL(baseUrl).hostname };
}

function clientOn(t: Transport, signal?: AbortSignal): Client {
  return Client.initWithMiddleware({
    middleware: t.middleware,
    baseUrl: `${t.baseUrl}/`,
    defaultVersion: 'v1.0',
    customHosts: new Set([t.host]),
    // Cancelling the step aborts the request in flight.
    fetchOptions: signal ? { signal } : undefined,
  });
}

export function createGraphClient(conn: TenantConnection): Client {
  return clientOn(transportFor(conn));
}

/**
 * Graph clients per connection. The credential (and its token cache) and the middleware chain
 * are built once per connection; each call gets a light client bound to its abort signal.
 */
export function graphClientCache(opts: GraphOptions = {}): (conn: TenantConnection, signal?: AbortSignal) => Client {
  const transports = new Map<string, { conn: TenantConnection; transport: Transport }>();
  return (conn, signal) => {
    let hit = transports.get(conn.name);
    if (!hit || hit.conn !== conn) {
      hit = { conn, transport: transportFor(conn, opts) };
      transports.set(conn.name, hit);
    }
    return clientOn(hit.transport, signal);
  };
}

// ---- small helpers actions share ----

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName?: string;
  mail?: string | null;
  assignedLicenses?: { skuId: string; disabledPlans: string[] }[];
  [key: string]: unknown;
}

/** Reads a user by UPN or id; a missing user is an operator-grade, non-retryable failure. */
export async function getUser(graph: Client, ref: string, select = 'id,userPrincipalName,displayName,mail'): Promise<GraphUser> {
  try {
    return (await graph.api(`/users/${encodeURIComponent(ref)}`).select(select).get()) as GraphUser;
  } catch (err) {
    if (statusOf(err) === 404)
      throw new ActionError(`user ${ref} does not exist`, {
        code: 'Request_ResourceNotFound',
        hint: 'check the user principal name; a user created moments ago can take a few seconds to appear',
        status: 404,
      });
    throw err;
  }
}

export interface GraphGroup {
  id: string;
  displayName: string;
  mail?: string | null;
  groupTypes?: string[];
  mailEnabled?: boolean;
  securityEnabled?: boolean;
}

/** Finds a group by id, display name or mail; refuses an ambiguous name. */
export async function findGroup(graph: Client, ref: string): Promise<GraphGroup> {
  const select = 'id,displayName,mail,groupTypes,mailEnabled,securityEnabled';
  if (GUID.test(ref)) {
    try {
      return (await graph.api(`/groups/${ref}`).select(select).get()) as GraphGroup;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      throw new ActionError(`group ${ref} does not exist`, { code: 'Request_ResourceNotFound', status: 404 });
    }
  }
  const res = (await graph
    .api('/groups')
    .filter(`displayName eq ${odataString(ref)} or mail eq ${odataString(ref)}`)
    .select(select)
    .top(5)
    .get()) as { value: GraphGroup[] };
  if (res.value.length === 0)
    throw new ActionError(`group "${ref}" does not exist`, {
      code: 'Request_ResourceNotFound',
      hint: 'use the group\'s exact display name, its mail address or its object id',
      status: 404,
    });
  if (res.value.length > 1)
    throw new ActionError(`more than one group is called "${ref}" (${res.value.map((g) => g.id).join(', ')})`, {
      code: 'AmbiguousGroup',
      hint: 'use the group\'s object id instead of its name',
    });
  return res.value[0]!;
}
