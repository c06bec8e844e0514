// The SharePoint REST transport: the tenant's hosts (https://{tenant}.sharepoint.com, -admin for tenant
// administration, -my for OneDrives), app-only tokens for each host from the connection's @azure/identity
// credential, OData JSON without metadata, the tenant's SharePoint budget in the throttle gate, and
// SharePoint's error body mapped to the ServiceError shape errors.ts reads, with a hint for the
// operator. Like the other transports it never retries (Temporal does).
//
// SharePoint REST accepts app-only tokens only from a certificate credential: a token obtained with a
// client secret is refused (401 "Unsupported app only token."), so every action that calls it needs a
// tenant connection with a certificate.
import type { TokenCredential } from '@azure/identity';
import { ActionError, type ServiceError } from './errors.ts';
import { credentialFor } from './graph.ts';
import { gateFor, sharepointBudget } from './throttle.ts';
import { sendRetrying } from './transient.ts';
import type { TenantConnection } from './tenants.ts';

/** The application permission (API "Office 365 SharePoint Online") SharePoint administration needs. */
export const SHAREPOINT_PERMISSION = 'SharePoint/Sites.FullControl.All';

export const CERTIFICATE_HINT =
  'SharePoint REST refuses app-only tokens obtained with a client secret: connect this tenant with a certificate ' +
  '(upload the certificate to the app registration under Certificates & secrets, and give the connection the certificate and its private key)';

export interface SharePointHosts {
  /** https://contoso.sharepoint.com */
  root: string;
  /** https://contoso-admin.sharepoint.com (tenant administration) */
  admin: string;
  /** https://contoso-my.sharepoint.com (OneDrives) */
  my: string;
}

export interface SharePointClient {
  /** The tenant's SharePoint hosts (read once from Graph's root site). */
  hosts(signal?: AbortSignal): Promise<SharePointHosts>;
  /** Calls SharePoint REST at an absolute URL (https://host/site/_api/...): the parsed JSON, or undefined for 204. */
  call<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, signal?: AbortSignal): Promise<T>;
  /** A tenant administration call on the -admin host: api is the part after /_api/. */
  admin<T = unknown>(method: 'GET' | 'POST' | 'PATCH', api: string, body?: unknown, signal?: AbortSignal): Promise<T>;
}

/** SharePoint's error: `code` is the exception's short name (e.g. FileNotFoundException), `spCode` the full code. */
export class SharePointError extends Error implements ServiceError {
  readonly statusCode: number;
  readonly code: string;
  readonly spCode: string;
  readonly headers: Headers;
  constructor(statusCode: number, spCode: string, message: string, headers: Headers) {
    super(message);
    this.name = 'SharePointError';
    this.statusCode = statusCode;
    this.spCode = spCode;
    this.code = /[\w.]+$/.exec(spCode)?.[0]?.split('.').pop() ?? `HTTP${statusCode}`;
    this.headers = headers;
  }
}

export function isSharePointError(err: unknown, ...codes: string[]): err is SharePointError {
  return err instanceof SharePointError && (codes.length === 0 || codes.includes(err.code));
}

/** Turns SharePoint's OData error body (odata=nometadata or verbose) into a SharePointError. */
export function parseSharePointError(status: number, body: unknown, headers: Headers): SharePointError {
  const b = (body ?? {}) as { 'odata.error'?: SpErrorBody; error?: SpErrorBody | string; error_description?: string };
  const e = b['odata.error'] ?? (typeof b.error === 'object' ? b.error : undefined);
  const message = e?.message?.value ?? b.error_description ?? (typeof b.error === 'string' ? b.error : typeof body === 'string' && body ? body : `HTTP ${status}`);
  return new SharePointError(status, e?.code ?? `HTTP${status}`, message, headers);
}

interface SpErrorBody {
  code?: string;
  message?: { lang?: string; value?: string };
}

/**
 * Where a SharePoint URL is sent. On a real tenant the URL itself; with a `sharepointUrl` override
 * (the sandbox) https://{host}/{path} goes to {sharepointUrl}/{host}/{path}.
 */
export function sharepointRequestUrl(conn: Pick<TenantConnection, 'sharepointUrl'>, url: string): string {
  if (!conn.sharepointUrl) return url;
  const u = new URL(url);
  return `${conn.sharepointUrl.replace(/\/$/, '')}/${u.host}${u.pathname}${u.search}`;
}

export function createSharePointClient(conn: TenantConnection, credential: TokenCredential = credentialFor(conn)): SharePointClient {
  const gate = gateFor(conn);
  let hosts: Promise<SharePointHosts> | undefined;

  const readHosts = async (signal?: AbortSignal): Promise<SharePointHosts> => {
    const graph = (conn.graphUrl ?? 'https://graph.microsoft.com').replace(/\/$/, '');
    const token = await credential.getToken('https://graph.microsoft.com/.default', { abortSignal: signal });
    const url = `${graph}/v1.0/sites/root?$select=siteCollection,webUrl`;
    const res = await gate.send(sharepointBudget(1), signal, () => fetch(url, { signal, headers: { authorization: `Bearer ${token!.token}`, accept: 'application/json' } }), { method: 'GET', url });
    const body = (await res.json().catch(() => ({}))) as { webUrl?: string; siteCollection?: { hostname?: string }; error?: { code?: string; message?: string } };
    if (!res.ok)
      throw new ActionError(`could not find the tenant's SharePoint address (Graph GET /sites/root answered ${res.status} ${body.error?.code ?? ''})`.trim(), {
        code: body.error?.code ?? `HTTP${res.status}`,
        hint: 'grant the app registration the Microsoft Graph application permission Sites.Read.All (it reads the root site to learn the tenant\'s SharePoint address)',
        status: res.status,
        retryable: res.status === 429 || res.status >= 500,
      });
    const root = body.siteCollection?.hostname ?? new URL(body.webUrl!).host;
    const name = root.replace(/\.sharepoint\.[a-z.]+$/i, '');
    const suffix = root.slice(name.length);
    return { root: `https://${root}`, admin: `https://${name}-admin${suffix}`, my: `https://${name}-my${suffix}` };
  };

  const call = async <T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> => {
    const host = new URL(url).origin;
    const token = await credential.getToken(`${host}/.default`, { abortSignal: signal });
    if (!token) throw new ActionError('could not get a token for SharePoint', { code: 'InvalidAuthenticationToken', retryable: true });
    const target = sharepointRequestUrl(conn, url);
    // Throttled and transient answers are sent again in place (m365/transient.ts).
    const res = await sendRetrying(method, signal, () => gate.send(sharepointBudget(2), signal, () =>
      fetch(target, {
        method,
        signal,
        headers: {
          authorization: `Bearer ${token.token}`,
          accept: 'application/json;odata=nometadata',
          ...(body === undefined ? {} : { 'content-type': 'application/json;odata=nometadata' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
      { method, url: target },
    ));
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // an HTML or plain-text error page
    }
    if (res.status === 401) {
      const err = parseSharePointError(401, parsed, res.headers);
      const secret = /unsupported app only token/i.test(err.message) || !conn.certificatePem;
      throw new ActionError(`SharePoint refused the app's token: ${err.message}`, {
        code: secret ? 'UnsupportedAppOnlyToken' : 'InvalidAuthenticationToken',
        hint: secret ? CERTIFICATE_HINT : 'check the tenant connection: client id, certificate (expired? uploaded to the app?) and tenant id',
        status: 401,
      });
    }
    if (res.status === 403)
      throw new ActionError(`SharePoint refused ${method} ${new URL(url).pathname}: ${parseSharePointError(403, parsed, res.headers).message}`, {
        code: 'Authorization_RequestDenied',
        hint: 'grant the app registration the Office 365 SharePoint Online application permission Sites.FullControl.All with admin consent',
        status: 403,
      });
    if (!res.ok) throw parseSharePointError(res.status, parsed, res.headers);
    if (parsed && typeof parsed === 'object' && (parsed as { 'odata.null'?: boolean })['odata.null']) return undefined as T;
    return parsed as T;
  };

  return {
    hosts(signal) {
      hosts ??= readHosts(signal).catch((err) => {
        hosts = undefined;
        throw err;
      });
      return hosts;
    },
    call,
    async admin(method, api, body, signal) {
      const { admin } = await this.hosts(signal);
      return call(method, `${admin}/_api/${api}`, body, signal);
    },
  };
}

/** One SharePoint client per tenant connection (the credential caches its tokens per host). */
export function sharepointClientCache(): (conn: TenantConnection) => SharePointClient {
  const clients = new Map<string, { conn: TenantConnection; client: SharePointClient }>();
  return (conn) => {
    const hit = clients.get(conn.name);
    if (hit && hit.conn === conn) return hit.client;
    const client = createSharePointClient(conn);
    clients.set(conn.name, { conn, client });
    return client;
  };
}
