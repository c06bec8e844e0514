// JSON batching: POST /{version}/$batch with at most 20 requests, unique ids, dependsOn. The envelope
// answers 200; each item runs through the normal pipeline (permissions, throttling, faults) and gets
// its own status; dependents of a failed item get 424.
import { randomUUID } from 'node:crypto';
import { verifyBearer, WWW_AUTHENTICATE } from '../auth.ts';
import { GraphError, errorBody } from '../errors.ts';
import { RESOURCES } from '../permissions.ts';
import type { Surface } from '../server.ts';
import type { Runtime } from '../runtime.ts';
import type { Caller } from '../types.ts';
import { dispatchGraph, faultReply } from './dispatch.ts';

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

export const MAX_BATCH = 20;

function validate(body: unknown): BatchItem[] {
  const requests = (body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests)) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format.');
  if (requests.length === 0) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format. The batch request must contain at least one request.');
  if (requests.length > MAX_BATCH) throw new GraphError(400, 'BadRequest', `Invalid batch payload format. The number of requests in a batch exceeds the limit of ${MAX_BATCH}.`);
  const ids = new Set<string>();
  const items: BatchItem[] = [];
  for (const r of requests as Record<string, unknown>[]) {
    const id = r['id'];
    if (typeof id !== 'string' || !id) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format. Every request needs an id.');
    if (ids.has(id)) throw new GraphError(400, 'BadRequest', `Invalid batch payload format. Request id '${id}' is not unique.`);
    ids.add(id);
    if (typeof r['method'] !== 'string' || typeof r['url'] !== 'string') throw new GraphError(400, 'BadRequest', `Invalid batch payload format. Request '${id}' needs a method and a url.`);
    if (/^https?:/i.test(r['url'])) throw new GraphError(400, 'BadRequest', `Invalid batch payload format. Request '${id}' must use a relative url.`);
    const dependsOn = r['dependsOn'];
    if (dependsOn !== undefined && (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string'))) {
      throw new GraphError(400, 'BadRequest', `Invalid batch payload format. dependsOn of request '${id}' must be an array of ids.`);
    }
    items.push({ id, method: r['method'].toUpperCase(), url: r['url'], headers: r['headers'] as Record<string, string> | undefined, body: r['body'], dependsOn: dependsOn as string[] | undefined });
  }
  for (const item of items) {
    for (const dep of item.dependsOn ?? []) {
      if (!ids.has(dep)) throw new GraphError(400, 'BadRequest', `Invalid batch payload format. Request '${item.id}' depends on unknown request '${dep}'.`);
      if (items.findIndex((i) => i.id === dep) >= items.indexOf(item)) throw new GraphError(400, 'BadRequest', `Invalid batch payload format. Request '${item.id}' must come after the requests it depends on.`);
    }
  }
  return items;
}

async function runItem(rt: Runtime, envelopeVersion: 'v1.0' | 'beta', caller: Caller, item: BatchItem): Promise<{ status: number; headers: Record<string, string>; body?: unknown }> {
  let version = envelopeVersion;
  let url = item.url.startsWith('/') ? item.url : `/${item.url}`;
  // The Graph SDK's BatchRequestContent keeps the version segment ("/v1.0/users"); Graph accepts it.
  const versioned = /^\/(v1\.0|beta)(\/.*)$/i.exec(url);
  if (versioned) {
    version = versioned[1]!.toLowerCase() === 'beta' ? 'beta' : 'v1.0';
    url = versioned[2]!;
  }
  const u = new URL(url, 'https://batch.local');
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(item.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (item.body !== undefined && !headers['content-type']) {
    const id = randomUUID();
    const err = new GraphError(400, 'BadRequest', `Write request id : ${item.id} does not contain Content-Type header or body.`);
    return { status: 400, headers: { 'content-type': 'application/json' }, body: errorBody(err, id, id, new Date(rt.now())) };
  }
  const out = await dispatchGraph(rt, { method: item.method, version, path: decodeURI(u.pathname), query: u.searchParams, headers, body: item.body }, { caller, surface: 'batch-item' });
  const h = { ...out.reply.headers };
  if (out.drop) return { status: 504, headers: h, body: errorBody(new GraphError(504, 'UnknownError', 'The request timed out.'), h['request-id'] ?? '', h['client-request-id'] ?? '', new Date(rt.now())) };
  return { status: out.reply.status, headers: h, body: out.reply.body };
}

export function batchSurface(): Surface {
  return {
    matches: (path) => path === '$batch',
    async handle(rt, req) {
      const version = /^\/beta\//i.test(req.url.pathname) ? 'beta' : 'v1.0';
      const requestId = randomUUID();
      const clientRequestId = req.headers['client-request-id'] ?? requestId;
      const nowMs = rt.now();
      const started = performance.now();
      const baseHeaders = { 'request-id': requestId, 'client-request-id': clientRequestId, 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8' };
      const finish = (status: number, body: unknown, extra: Record<string, string> = {}, caller?: Caller, injected?: string) => {
        rt.log.add({ time: new Date(nowMs).toISOString(), surface: 'graph', method: req.method, path: `/${version}/$batch`, status, durationMs: Math.round(performance.now() - started), requestId, clientRequestId, tenantId: caller?.tenantId, appId: caller?.appId, ...(injected ? { injected } : {}) });
        return { status, body, headers: { ...baseHeaders, ...extra } };
      };
      let caller: Caller;
      try {
        if (req.method !== 'POST') throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
        caller = verifyBearer(req.headers['authorization'], rt.signing, [RESOURCES.graph, '00000003-0000-0000-c000-000000000000'], nowMs).caller;
      } catch (err) {
        const e = err instanceof GraphError ? err : new GraphError(500, 'UnknownError', String(err));
        return finish(e.status, errorBody(e, requestId, clientRequestId, new Date(nowMs)), e.status === 401 ? { 'www-authenticate': WWW_AUTHENTICATE } : {});
      }
      // Only faults scripted for the envelope itself (match on "$batch") hit the envelope.
      const fault = rt.faults.decideScripted(`POST /${version}/$batch`);
      if (fault) {
        if (fault.status === 'drop') return { status: 0, drop: true };
        const r = faultReply(fault);
        return finish(r.status, errorBody(r.body as GraphError, requestId, clientRequestId, new Date(nowMs)), r.headers, caller, fault.reason);
      }
      let items: BatchItem[];
      try {
        items = validate(req.body);
      } catch (err) {
        const e = err as GraphError;
        return finish(e.status, errorBody(e, requestId, clientRequestId, new Date(nowMs)), {}, caller);
      }
      const statuses = new Map<string, number>();
      const responses: unknown[] = [];
      for (const item of items) {
        const failedDep = (item.dependsOn ?? []).find((d) => (statuses.get(d) ?? 0) >= 400);
        if (failedDep) {
          statuses.set(item.id, 424);
          const e = new GraphError(424, 'FailedDependency', `The request could not be processed because request '${failedDep}' it depends on failed.`);
          responses.push({ id: item.id, status: 424, headers: { 'content-type': 'application/json' }, body: errorBody(e, requestId, clientRequestId, new Date(nowMs)) });
          continue;
        }
        const out = await runItem(rt, version, caller, item);
        statuses.set(item.id, out.status);
        responses.push({ id: item.id, status: out.status, headers: out.headers, ...(out.body !== undefined ? { body: out.body } : {}) });
      }
      return finish(200, { responses }, {}, caller);
    },
  };
}
