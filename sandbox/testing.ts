// Clients wired to a sandbox the way the worker wires them to a real tenant: @azure/identity's
// ClientSecretCredential with the sandbox as authority host, and the Graph client on top of it.
import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { X509Certificate, createHash } from 'node:crypto';
import { AuthenticationHandler, Client, HTTPMessageHandler, type GraphError } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { trustSandboxCa, type Sandbox } from './index.ts';

export interface ClientCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Certificate + private key (PEM): signs in with a certificate instead of the secret. */
  certificatePem?: string;
}

export function sandboxCredential(sandbox: Sandbox, creds: ClientCredentials = sandbox.tenant): TokenCredential {
  trustSandboxCa(sandbox.caPem);
  const opts = { authorityHost: sandbox.url, disableInstanceDiscovery: true };
  if (creds.certificatePem) return new ClientCertificateCredential(creds.tenantId, creds.clientId, { certificate: creds.certificatePem }, opts);
  return new ClientSecretCredential(creds.tenantId, creds.clientId, creds.clientSecret, opts);
}

/**
 * The demo app (or `creds`' app) with a certificate made for it: SharePoint REST needs a certificate
 * credential. The certificate is registered again if a reset of the sandbox dropped it.
 */
export function withCertificate(sandbox: Sandbox, creds: ClientCredentials = sandbox.tenant): ClientCredentials & { certificatePem: string; ensureRegistered(): void } {
  const made = sandbox.admin.createAppCertificate(creds.clientId, { tenantId: creds.tenantId });
  const certPem = made.pem.slice(0, made.pem.indexOf('-----END CERTIFICATE-----') + 25);
  const thumbprint = createHash('sha1').update(new X509Certificate(certPem).raw).digest('hex').toUpperCase();
  return {
    ...creds,
    certificatePem: made.pem,
    ensureRegistered() {
      if (!sandbox.admin.appCertificates(creds.clientId, creds.tenantId).some((c) => c.thumbprint === thumbprint)) sandbox.admin.addAppCertificate(creds.clientId, certPem, { tenantId: creds.tenantId });
    },
  };
}

export interface GraphClientOptions {
  creds?: ClientCredentials;
  /** false: no RetryHandler, so the caller sees the raw 429 / 503 / 504 (the worker leaves retries to Temporal). */
  retry?: boolean;
}

export function sandboxGraphClient(sandbox: Sandbox, opts: GraphClientOptions = {}): Client {
  const credential = sandboxCredential(sandbox, opts.creds ?? sandbox.tenant);
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] });
  const customHosts = new Set([new URL(sandbox.url).hostname]);
  if (opts.retry === false) {
    const auth = new AuthenticationHandler(authProvider);
    auth.setNext(new HTTPMessageHandler());
    return Client.initWithMiddleware({ middleware: auth, baseUrl: sandbox.url, customHosts });
  }
  return Client.initWithMiddleware({ authProvider, baseUrl: sandbox.url, customHosts });
}

/** Awaits a Graph call that must fail and returns the SDK's GraphError (statusCode, code, body). */
export async function expectGraphError(call: Promise<unknown>): Promise<GraphError> {
  try {
    await call;
  } catch (err) {
    return err as GraphError;
  }
  throw new Error('expected the Graph call to fail');
}

export interface ExchangeResult {
  value: Record<string, unknown>[];
  warnings: string[];
}

export class ExchangeCallError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, message: string, body: unknown) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * Calls the sandbox's Exchange admin API the way the ExchangeOnlineManagement module does:
 * a token for https://outlook.office365.com/.default and POST {exchangeBaseUrl}/InvokeCommand.
 */
export function sandboxExchange(sandbox: Sandbox, creds: ClientCredentials = sandbox.tenant): (cmdlet: string, parameters?: Record<string, unknown>) => Promise<ExchangeResult> {
  const credential = sandboxCredential(sandbox, creds);
  return async (cmdlet, parameters = {}) => {
    const token = await credential.getToken('https://outlook.office365.com/.default');
    const res = await fetch(`${sandbox.url}/adminapi/beta/${creds.tenantId}/InvokeCommand`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } }),
    });
    const body = (await res.json()) as { value?: Record<string, unknown>[]; '@adminapi.warnings'?: string[]; error?: { message: string } };
    if (!res.ok) throw new ExchangeCallError(res.status, body.error?.message ?? `HTTP ${res.status}`, body);
    return { value: body.value ?? [], warnings: body['@adminapi.warnings'] ?? [] };
  };
}

export interface SharePointReply {
  status: number;
  /** Parsed JSON (odata=nometadata unless the call asked for verbose), or undefined for 204. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Calls the SharePoint REST API of a real-looking URL (https://contoso-admin.sharepoint.com/_api/…) on the
 * sandbox, with an app-only token for `resource` (default: the URL's own host), as PnP and the CLI do.
 */
export function sandboxSharePoint(
  sandbox: Sandbox,
  creds?: ClientCredentials,
): (method: string, url: string, body?: unknown, opts?: { resource?: string; accept?: string }) => Promise<SharePointReply> {
  // SharePoint refuses secret-based app tokens: by default, the demo app with a certificate.
  const cert = creds ? undefined : withCertificate(sandbox);
  const credential = sandboxCredential(sandbox, creds ?? cert);
  return async (method, url, body, opts = {}) => {
    cert?.ensureRegistered();
    const u = new URL(url);
    const token = await credential.getToken(`${opts.resource ?? `https://${u.host}`}/.default`);
    const res = await fetch(`${sandbox.sharepointUrl(`${u.origin}${u.pathname.replace(/\/_api\/.*$/, '')}`)}${u.pathname.slice(u.pathname.indexOf('/_api/'))}${u.search}`, {
      method,
      headers: { authorization: `Bearer ${token!.token}`, accept: opts.accept ?? 'application/json;odata=nometadata', 'content-type': 'application/json;odata=nometadata' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
