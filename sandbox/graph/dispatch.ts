// One Graph request through the pipeline: authenticate, fault injection, route, permission check,
// throttling, handler, error body, request log and mutation records. $batch items go through it too.
import { randomUUID } from 'node:crypto';
import { verifyBearer, WWW_AUTHENTICATE } from '../auth.ts';
import { GraphError, errorBody, insufficientPrivileges, methodNotAllowed, noRoute } from '../errors.ts';
import type { FaultDecision } from '../faults.ts';
import { RESOURCES } from '../permissions.ts';
import { recordAudits } from '../audit.ts';
import type { Caller, Reply } from '../types.ts';
import type { Ctx } from '../runtime.ts';
import type { Runtime } from '../runtime.ts';
import type { GraphCall } from '../types.ts';
import { settleSharePoint } from '../sharepoint/model.ts';

export interface GraphOutcome {
  reply: Reply;
  /** The connection should be closed without an answer (injected fault). */
  drop?: boolean;
}

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/**
 * Graph addresses some resources by path inside the URL: `/sites/{host}:/sites/{name}[:/rest]` and
 * `/drives/{id}/root:/{item path}[:/rest]`. The router sees the addressed part as one segment.
 */
export function addressedPath(path: string): string {
  const site = /^\/sites\/([^/]+):(\/[^:]*?)?(?::(\/.*))?$/i.exec(path);
  if (site) return `/sites/${encodeURIComponent(`${site[1]}:${site[2] ?? ''}`)}${site[3] ?? ''}`;
  return path;
}

export function faultReply(decision: FaultDecision): Reply {
  const status = decision.status as number;
  const retry = { 'retry-after': String(decision.retryAfterSeconds) };
  if (status === 429) return { status, headers: retry, body: new GraphError(429, 'TooManyRequests', 'Too many requests.') };
  if (status === 503) return { status, headers: retry, body: new GraphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable. Please retry after some time.') };
  if (status === 504) return { status, body: new GraphError(504, 'UnknownError', 'The gateway did not receive a timely response from the upstream service.') };
  return { status, body: new GraphError(status, 'UnknownError', 'An unexpected error occurred.') };
}

/**
 * Runs one Graph call. `caller` is given for $batch items (the envelope was authenticated);
 * `surface` says how the log records it.
 */
export async function dispatchGraph(rt: Runtime, call: GraphCall, opts: { caller?: Caller; surface?: 'graph' | 'batch-item' } = {}): Promise<GraphOutcome> {
  const started = performance.now();
  const nowMs = rt.now();
  const requestId = randomUUID();
  const clientRequestId = call.headers['client-request-id'] ?? requestId;
  const target = `${call.method} /${call.version}${call.path}${call.query.size ? `?${call.query}` : ''}`;
  const pending: { op: string; objectIds: string[] }[] = [];
  let caller = opts.caller;
  let injected: string | undefined;
  let drop = false;
  let reply: Reply;

  try {
    if (!caller) caller = verifyBearer(call.headers['authorization'], rt.signing, [RESOURCES.graph, '00000003-0000-0000-c000-000000000000'], nowMs).caller;
    const store = rt.tenants.get(caller.tenantId);
    // Sites and OneDrives whose provisioning has finished by now exist from this request on.
    if (store) settleSharePoint(store, nowMs);
    if (!store) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid tenant.');

    const fault = rt.faults.decide(target);
    if (fault && !fault.afterEffect) {
      injected = fault.reason;
      if (fault.status === 'drop') {
        drop = true;
        reply = { status: 0 };
      } else reply = faultReply(fault);
    } else {
      const match = rt.graph.match(call.method, addressedPath(call.path));
      if (match === 'method') throw methodNotAllowed();
      if (!match || (match.route.betaOnly && call.version === 'v1.0')) throw noRoute(call.method, call.path);
      const { route, params } = match;
      if (route.permissions.length && !route.permissions.some((p) => caller!.roles.has(p))) throw route.denied ? route.denied(route, caller) : insufficientPrivileges();
      // status 429: throttled; otherwise its headers (x-ms-resource-unit, ...) go on the answer.
      const throttle = rt.throttler?.check(caller, store, route, call);
      if (throttle && throttle.status === 429) {
        injected = 'throttled';
        reply = throttle;
      } else {
        const ctx: Ctx = {
          method: call.method,
          path: call.path,
          params,
          query: call.query,
          headers: call.headers,
          body: call.body,
          version: call.version,
          serviceRoot: `${rt.baseUrl}/${call.version}`,
          store,
          rt,
          caller,
          requestId,
          clientRequestId,
          nowMs,
          nowIso: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          mutated: (op, ...objectIds) => pending.push({ op, objectIds: objectIds.map((id) => id.toLowerCase()) }),
        };
        reply = await route.handler(ctx);
        if (throttle?.headers) reply = { ...reply, headers: { ...throttle.headers, ...reply.headers } };
        if (fault?.afterEffect) {
          injected = `${fault.reason}:after-effect`;
          if (fault.status === 'drop') drop = true;
          else reply = { ...faultReply(fault), headers: { ...faultReply(fault).headers } };
        }
      }
    }
  } catch (err) {
    if (err instanceof GraphError) reply = { status: err.status, body: err, headers: err.headers };
    else {
      rt.opts.log(`sandbox: handler error on ${target}: ${(err as Error).stack ?? String(err)}`);
      reply = { status: 500, body: new GraphError(500, 'UnknownError', 'An internal server error occurred.') };
    }
    pending.length = 0;
  }

  if (reply.status < 400 || injected?.endsWith('after-effect')) {
    for (const m of pending) {
      rt.log.recordMutation({ time: new Date(nowMs).toISOString(), tenantId: caller!.tenantId, appId: caller!.appId, op: m.op, objectIds: m.objectIds, method: call.method, path: `/${call.version}${call.path}`, requestId });
      rt.changes.record(caller!.tenantId, m.op, m.objectIds, nowMs);
    }
    const store = pending.length ? rt.tenants.get(caller!.tenantId) : undefined;
    if (store) recordAudits(store, caller!, pending, new Date(nowMs).toISOString(), clientRequestId);
  }

  const headers: Record<string, string> = {
    'request-id': requestId,
    'client-request-id': clientRequestId,
    'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'Sandbox', Slice: 'E', Ring: '1', ScaleUnit: '000', RoleInstance: 'SANDBOX' } }),
    ...reply.headers,
  };
  let body = reply.body;
  if (body instanceof GraphError) body = errorBody(body, requestId, clientRequestId, new Date(nowMs));
  if (reply.status === 401) headers['www-authenticate'] = WWW_AUTHENTICATE;
  if (body !== undefined && !headers['content-type']) headers['content-type'] = JSON_TYPE;

  rt.log.add({
    time: new Date(nowMs).toISOString(),
    surface: opts.surface ?? 'graph',
    method: call.method,
    path: `/${call.version}${call.path}${call.query.size ? `?${call.query}` : ''}`,
    status: drop ? 0 : reply.status,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    requestId,
    clientRequestId,
    tenantId: caller?.tenantId,
    appId: caller?.appId,
    ...(injected ? { injected } : {}),
    ...(pending.length && reply.status < 400 ? { ops: pending.map((m) => m.op) } : {}),
  });
  return { reply: { status: reply.status, headers, body }, drop };
}
