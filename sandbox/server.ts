// The HTTPS front door: identity endpoints, Graph (v1.0 and beta), $batch, Exchange admin API,
// and the sandbox's own /_admin API.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { issueToken, openIdConfiguration } from './auth.ts';
import { jwks } from './tokens.ts';
import { authorize } from './oidc.ts';
import { AdminError, handleAdmin, type SandboxAdmin } from './admin.ts';
import { dispatchGraph } from './graph/dispatch.ts';
import { GraphError, errorBody } from './errors.ts';
import type { Runtime } from './runtime.ts';
import type { SandboxTls } from './tls.ts';
import type { Reply } from './types.ts';

export type SurfaceHandler = (rt: Runtime, req: ParsedRequest) => Promise<Reply & { drop?: boolean }>;

export interface ParsedRequest {
  method: string;
  url: URL;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  body: unknown;
}

/** Extra surfaces (Exchange, SharePoint) register themselves by path prefix. */
export interface Surface {
  matches(path: string): boolean;
  handle: SurfaceHandler;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function headerMap(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

class BadJson extends Error {}

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (!raw.length) return undefined;
  const text = raw.toString('utf8');
  if (contentType?.includes('application/x-www-form-urlencoded')) return new URLSearchParams(text);
  if (contentType?.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      throw new BadJson();
    }
  }
  return text;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const h: Record<string, string> = { ...headers };
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] ??= typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8';
  }
  res.writeHead(status, h);
  res.end(payload);
}

export function createSandboxServer(rt: Runtime, admin: SandboxAdmin, tls: SandboxTls, surfaces: Surface[]): https.Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', rt.baseUrl || 'https://127.0.0.1');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = headerMap(req);
    const rawBody = await readBody(req);
    let body: unknown;
    try {
      // A drive item's /content is the file's bytes, whatever its content type says.
      body = /\/content$/i.test(path) ? rawBody : parseBody(rawBody, headers['content-type']);
    } catch {
      const err = new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
      const id = randomUUID();
      send(res, 400, errorBody(err, id, headers['client-request-id'] ?? id, new Date(rt.now())), { 'request-id': id });
      return;
    }

    const hook = /^\/_webhooks\/(.+)$/.exec(path);
    if (hook) {
      const out = rt.webhooks.receive(decodeURIComponent(hook[1]!), method, headers, rawBody, rt.now());
      if (out.drop) {
        req.socket.destroy();
        return;
      }
      send(res, out.status, typeof out.body === 'string' ? out.body : out.body, out.headers);
      return;
    }

    if (path === '/_admin' || path.startsWith('/_admin/')) {
      try {
        const out = await handleAdmin(admin, rt, method, path, url.searchParams, body);
        send(res, out.status, out.body);
      } catch (err) {
        send(res, err instanceof AdminError ? err.status : 500, { error: (err as Error).message });
      }
      return;
    }

    const graph = /^\/(v1\.0|beta)(\/.*)?$/i.exec(path);
    if (graph) {
      if (rt.faults.latencyMs) await sleep(rt.faults.latencyMs);
      const version = graph[1]!.toLowerCase() === 'beta' ? 'beta' : 'v1.0';
      const call = { method, version: version as 'v1.0' | 'beta', path: graph[2] ?? '/', query: url.searchParams, headers, body };
      const batch = /^\/\$batch\/?$/i.test(call.path) ? surfaces.find((s) => s.matches('$batch')) : undefined;
      // A dropped answer closes the connection without a word (it used to be lost here, and a
      // 'drop' fault answered 500 or, after its effect, the real answer).
      const out = batch ? await batch.handle(rt, { method, url, headers, rawBody, body }) : await dispatchGraph(rt, call).then((d) => ({ ...d.reply, drop: d.drop }));
      const dropped = 'drop' in out && out.drop;
      if (dropped) {
        req.socket.destroy();
        return;
      }
      send(res, out.status, out.body, out.headers);
      return;
    }

    for (const surface of surfaces) {
      if (!surface.matches(path)) continue;
      if (rt.faults.latencyMs) await sleep(rt.faults.latencyMs);
      const out = await surface.handle(rt, { method, url, headers, rawBody, body });
      if (out.drop) {
        req.socket.destroy();
        return;
      }
      send(res, out.status, out.body, out.headers);
      return;
    }

    if (identity(rt, method, url, headers, body, res)) return;
    send(res, 404, { error: { code: 'NotFound', message: `The sandbox does not serve ${method} ${path}.` } });
  };

  return https.createServer({ cert: tls.certPem, key: tls.keyPem, keepAliveTimeout: 5000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      rt.opts.log(`sandbox: ${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) send(res, 500, { error: { code: 'UnknownError', message: 'Sandbox internal error.' } });
      else res.destroy();
    });
  });
}

/** login.microsoftonline.com, the parts MSAL uses for a confidential client. */
function identity(rt: Runtime, method: string, url: URL, headers: Record<string, string | undefined>, body: unknown, res: ServerResponse): boolean {
  const path = url.pathname;
  const started = performance.now();
  const log = (status: number, surface: 'token' | 'discovery', appId?: string, tenantId?: string): void => {
    rt.log.add({ time: new Date(rt.now()).toISOString(), surface, method, path, status, durationMs: Math.round(performance.now() - started), requestId: randomUUID(), clientRequestId: headers['client-request-id'], appId, tenantId });
  };
  const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|\.well-known\/openid-configuration|discovery\/v2\.0\/keys|discovery\/keys|oauth2\/v2\.0\/token|oauth2\/v2\.0\/authorize|discovery\/instance)$/.exec(path);
  if (!m) return false;
  const [, tenantPart, what] = m as unknown as [string, string, string];
  const common = ['common', 'organizations', 'consumers'].includes(tenantPart.toLowerCase());
  const store = common ? undefined : rt.tenant(tenantPart);
  const correlationId = headers['client-request-id'] ?? randomUUID();

  if (what.includes('openid-configuration') && method === 'GET') {
    if (!common && !store) {
      const err = issueToken(new URLSearchParams(), undefined, tenantPart, rt.signing, rt.now(), correlationId);
      send(res, 400, err.body);
      log(400, 'discovery');
      return true;
    }
    send(res, 200, openIdConfiguration(rt.baseUrl, store ? store.info.id : '{tenantid}'));
    log(200, 'discovery');
    return true;
  }
  if (what.includes('keys') && method === 'GET') {
    send(res, 200, jwks(rt.signing));
    log(200, 'discovery');
    return true;
  }
  if (what === 'discovery/instance' && method === 'GET') {
    const host = new URL(rt.baseUrl).host;
    send(res, 200, {
      tenant_discovery_endpoint: `${rt.baseUrl}/{tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
    log(200, 'discovery');
    return true;
  }
  if (what === 'oauth2/v2.0/token' && method === 'POST') {
    const form = body instanceof URLSearchParams ? body : new URLSearchParams();
    const out = issueToken(form, store, tenantPart, rt.signing, rt.now(), correlationId, rt.baseUrl);
    send(res, out.status, out.body, { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': randomUUID(), 'client-request-id': correlationId });
    log(out.status, 'token', form.get('client_id') ?? undefined, store?.info.id);
    return true;
  }
  if (what === 'oauth2/v2.0/authorize' && method === 'GET') {
    const out = authorize(store, tenantPart, url, rt.now(), correlationId);
    send(res, out.status, out.body, out.headers);
    log(out.status, 'token', url.searchParams.get('client_id') ?? undefined, store?.info.id);
    return true;
  }
  return false;
}
