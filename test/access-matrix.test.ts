// The access matrix (issue 16): every route of the API contract, called by every kind of caller,
// on the caller's own tenant and on another tenant, and for the routes that cause a run, with a
// target inside and outside an operator's scope. What each call must get is one table,
// server/access-matrix.ts, which docs/api.md renders; this test holds the server to it against the
// real server, Temporal and sandbox. A route added to the contract without a row (or without a
// request here) fails the test.
//   TENANTFLOW_MATRIX=print npm test -- access-matrix   prints what the server answers instead.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { API, type RouteKey } from '../server/api-contract.ts';
import { ACCESS, CALLERS, type CallerKind } from '../server/access-matrix.ts';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { reviewRunbook } from './api-suite.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const OWN = 'acme';
const OTHER = 'globex';
let env: TestEnv;
let api: ApiServer;
const callers = {} as Record<CallerKind, Caller>;
let finance: string, sales: string;
const uniq = () => randomUUID().slice(0, 8);

before(async () => {
  env = await startTestEnv({ aliases: [OWN, OTHER] });
  api = await startApiServer(env);
  for (const name of [OWN, OTHER]) {
    const t = env.tenant;
    const r = await api.admin.call('POST', '/api/tenants', { name, tenantId: t.tenantId, clientId: t.clientId, clientSecret: t.clientSecret, authorityHost: t.authorityHost, graphUrl: t.graphUrl, caPem: t.caPem });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const anonymous: Caller = { email: '', token: '', call: async (method, path, body) => {
    const res = await fetch(`${api.base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* text */ }
    return { status: res.status, body: parsed, headers: res.headers };
  } };
  callers.anonymous = anonymous;
  callers['no-role'] = await api.as('mx.none@tenantflow.test', []);
  callers.viewer = await api.as('mx.viewer@tenantflow.test', [{ tenant: OWN, role: 'viewer' }]);
  callers.approver = await api.as('mx.approver@tenantflow.test', [{ tenant: OWN, role: 'approver' }]);
  callers.operator = await api.as('mx.operator@tenantflow.test', [{ tenant: OWN, role: 'operator', scope: { department: ['Finance'] } }]);
  callers.designer = await api.as('mx.designer@tenantflow.test', [{ tenant: OWN, role: 'designer' }]);
  callers['tenant-admin'] = await api.as('mx.tadmin@tenantflow.test', [{ tenant: OWN, role: 'admin' }]);
  callers.admin = api.admin;
  starter = await api.as('mx.starter@tenantflow.test', [{ tenant: OWN, role: 'operator' }, { tenant: OTHER, role: 'operator' }]);
  const users = (await env.graph.api('/users').select('userPrincipalName,department').top(999).get()).value as { userPrincipalName: string; department?: string }[];
  finance = users.find((u) => u.department === 'Finance')!.userPrincipalName;
  sales = users.find((u) => u.department === 'Sales')!.userPrincipalName;
  assert.equal((await api.admin.call('POST', '/api/runbooks', { id: 'mx-review', definition: reviewRunbook('Matrix review'), customAction: true })).status, 201);
  assert.equal((await api.admin.call('POST', '/api/runbooks/mx-review/publish', {})).status, 201);
});
after(async () => {
  await api?.close();
  await env?.close();
});

interface Req {
  method?: string;
  path: string;
  body?: unknown;
}
interface Ctx {
  tenant: string;
  caller: CallerKind;
  /** The target user: inside the operator's scope (Finance) unless the row checks scope. */
  user: string;
}

const admin = () => api.admin;
/** Starts the fixture runs and makes the fixture schedules: an operator of both tenants, none of the callers. */
let starter: Caller;
async function run(tenant: string, by: Caller = starter): Promise<string> {
  const r = await by.call('POST', '/api/runs', { runbookId: 'mx-review', tenant, inputs: { user: finance } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}
async function schedule(tenant: string): Promise<string> {
  const r = await starter.call('POST', '/api/schedules', { runbookId: 'mx-review', tenant, inputs: { user: finance }, every: ['1d'], paused: true });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}
async function trigger(tenant: string): Promise<string> {
  const r = await admin().call('POST', '/api/triggers', { kind: 'webhook', runbookId: 'mx-review', tenant, inputs: { user: 'body.user' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}
/** A paused date trigger (it never reaches the tenant): its plans, and a target for Graph's notifications. */
async function dateTrigger(tenant: string): Promise<string> {
  const r = await admin().call('POST', '/api/triggers', { kind: 'date', runbookId: 'mx-review', tenant, paused: true, date: { attribute: 'employeeHireDate', offsetDays: -7 }, inputs: { user: 'user.userPrincipalName' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}
async function batch(tenant: string): Promise<string> {
  const r = await starter.call('POST', '/api/runs/bulk', { runbookId: 'mx-review', tenant, csv: `user\n${finance}\n` });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.batch;
}
async function account(): Promise<{ id: string; grant: number }> {
  const r = await admin().call('POST', '/api/users', { email: `mx-${uniq()}@tenantflow.test` });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const g = await admin().call('POST', `/api/users/${r.body.id}/grants`, { tenant: OWN, role: 'viewer' });
  return { id: r.body.id, grant: g.body.id };
}
const shared = new Map<string, Promise<string>>();
const once = (key: string, make: () => Promise<string>) => (shared.has(key) ? shared.get(key)! : (shared.set(key, make()), shared.get(key)!));
const runbook = { name: 'Matrix scratch', nodes: [{ id: 'end', kind: 'end' }], edges: [] };
/** A runbook owned by the tenant (finding 10: a role on another tenant gives nothing on it). */
async function scratchRunbook(tenant: string): Promise<string> {
  const id = `mx-${uniq()}`;
  const r = await admin().call('POST', '/api/runbooks', { id, definition: runbook, tenant });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return id;
}
/** A published runbook owned by the tenant, offered to its operators. */
async function tenantRunbook(tenant: string): Promise<string> {
  const id = `mx-${tenant}-${uniq()}`;
  assert.equal((await admin().call('POST', '/api/runbooks', { id, definition: reviewRunbook('Matrix review'), customAction: true, tenant })).status, 201);
  assert.equal((await admin().call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
  return id;
}
const owned = (tenant: string) => once(`runbook:${tenant}`, () => tenantRunbook(tenant));

/** One representative request per route (fixtures made by the global admin). */
const REQUESTS: Record<RouteKey, (c: Ctx) => Promise<Req> | Req> = {
  'POST /api/auth/login': () => ({ path: '/api/auth/login', body: { email: 'nobody@tenantflow.test', password: 'wrong-password-1' } }),
  'POST /api/auth/logout': () => ({ path: '/api/auth/logout' }),
  'GET /api/auth/me': () => ({ path: '/api/auth/me' }),
  'POST /api/auth/password': () => ({ path: '/api/auth/password', body: { currentPassword: 'not-the-password', newPassword: 'a-new-password-123' } }),
  'GET /api/auth/tokens': () => ({ path: '/api/auth/tokens' }),
  'POST /api/auth/tokens': () => ({ path: '/api/auth/tokens', body: { name: `mx ${uniq()}` } }),
  'DELETE /api/auth/tokens/:id': async (c) => {
    if (c.caller === 'anonymous') return { path: '/api/auth/tokens/1' };
    const t = await callers[c.caller].call('POST', '/api/auth/tokens', { name: `mx ${uniq()}` });
    return { path: `/api/auth/tokens/${t.body.id}` };
  },
  'GET /api/auth/oidc': () => ({ path: '/api/auth/oidc' }),
  'GET /api/auth/oidc/login': () => ({ path: '/api/auth/oidc/login' }),
  'GET /api/auth/oidc/callback': () => ({ path: '/api/auth/oidc/callback?code=x&state=y' }),
  'GET /api/users': () => ({ path: '/api/users' }),
  'POST /api/users': () => ({ path: '/api/users', body: { email: `mx-${uniq()}@tenantflow.test` } }),
  'PATCH /api/users/:id': async () => ({ path: `/api/users/${(await account()).id}`, body: { name: 'Renamed' } }),
  'POST /api/users/:id/password-reset': async () => ({ path: `/api/users/${(await account()).id}/password-reset` }),
  'POST /api/users/:id/grants': async (c) => ({ path: `/api/users/${(await account()).id}/grants`, body: { tenant: c.tenant, role: 'viewer' } }),
  'DELETE /api/users/:id/grants/:grantId': async (c) => {
    const a = await account();
    const g = await admin().call('POST', `/api/users/${a.id}/grants`, { tenant: c.tenant, role: 'approver' });
    return { path: `/api/users/${a.id}/grants/${g.body.id}` };
  },
  'GET /api/actions': () => ({ path: '/api/actions' }),
  'GET /api/templates': () => ({ path: '/api/templates' }),
  'POST /api/templates/:id/runbooks': (c) => ({ path: '/api/templates/compromised-account/runbooks', body: { id: `mx-${uniq()}`, tenant: c.tenant } }),
  'GET /api/runbooks': () => ({ path: '/api/runbooks' }),
  'POST /api/runbooks': (c) => ({ path: '/api/runbooks', body: { id: `mx-${uniq()}`, definition: runbook, tenant: c.tenant } }),
  'POST /api/runbooks/validate': () => ({ path: '/api/runbooks/validate', body: { definition: runbook } }),
  'POST /api/runbooks/import': (c) => ({ path: '/api/runbooks/import', body: { file: { tenantflowRunbook: 1, id: `mx-${uniq()}`, definition: runbook }, publish: false, tenant: c.tenant } }),
  'GET /api/runbooks/:id': async (c) => ({ path: `/api/runbooks/${await owned(c.tenant)}` }),
  'PUT /api/runbooks/:id/draft': async (c) => ({ path: `/api/runbooks/${await scratchRunbook(c.tenant)}/draft`, body: { definition: runbook } }),
  'POST /api/runbooks/:id/validate': async (c) => ({ path: `/api/runbooks/${await owned(c.tenant)}/validate` }),
  'POST /api/runbooks/:id/publish': async (c) => ({ path: `/api/runbooks/${await scratchRunbook(c.tenant)}/publish`, body: {} }),
  'GET /api/runbooks/:id/versions': async (c) => ({ path: `/api/runbooks/${await owned(c.tenant)}/versions` }),
  'GET /api/runbooks/:id/versions/:version': async (c) => ({ path: `/api/runbooks/${await owned(c.tenant)}/versions/1` }),
  'GET /api/runbooks/:id/diff': async (c) => ({ path: `/api/runbooks/${await owned(c.tenant)}/diff?from=1&to=draft` }),
  'PATCH /api/runbooks/:id': async (c) => ({ path: `/api/runbooks/${await scratchRunbook(c.tenant)}`, body: { archived: true } }),
  'POST /api/runbooks/:id/clone': async (c) => ({ path: `/api/runbooks/${await owned(c.tenant)}/clone`, body: { name: `Matrix clone ${uniq()}`, tenant: c.tenant } }),
  'GET /api/runbooks/:id/export': async (c) => ({ path: `/api/runbooks/${await owned(c.tenant)}/export` }),
  'GET /api/custom-actions': () => ({ path: '/api/custom-actions' }),
  'POST /api/runs': (c) => ({ path: '/api/runs', body: { runbookId: 'mx-review', tenant: c.tenant, inputs: { user: c.user } } }),
  'POST /api/runs/bulk': (c) => ({ path: '/api/runs/bulk', body: { runbookId: 'mx-review', tenant: c.tenant, csv: `user\n${c.user}\n`, dryRun: true } }),
  'POST /api/runs/plan': (c) => ({ path: '/api/runs/plan', body: { runbookId: 'mx-review', tenant: c.tenant, inputs: { user: c.user } } }),
  'POST /api/runs/:id/undo': async (c) => ({ path: `/api/runs/${await once(`run:${c.tenant}`, () => run(c.tenant))}/undo`, body: {} }),
  'GET /api/runs': (c) => ({ path: `/api/runs?tenant=${c.tenant}` }),
  'GET /api/runs/events': () => ({ path: '/api/runs/events' }),
  'GET /api/runs/:id': async (c) => ({ path: `/api/runs/${await once(`run:${c.tenant}`, () => run(c.tenant))}` }),
  'GET /api/runs/:id/evidence': async (c) => ({ path: `/api/runs/${await once(`run:${c.tenant}`, () => run(c.tenant))}/evidence` }),
  'GET /api/dashboard': (c) => ({ path: `/api/dashboard?tenant=${c.tenant}` }),
  'GET /api/batches/:id': async (c) => ({ path: `/api/batches/${await once(`batch:${c.tenant}`, () => batch(c.tenant))}` }),
  'GET /api/batches/:id/rows': async (c) => ({ path: `/api/batches/${await once(`batch:${c.tenant}`, () => batch(c.tenant))}/rows` }),
  'GET /api/batches/:id/events': async (c) => ({ path: `/api/batches/${await once(`batch:${c.tenant}`, () => batch(c.tenant))}/events` }),
  'POST /api/batches/:id/retry': async (c) => ({ path: `/api/batches/${await once(`batch:${c.tenant}`, () => batch(c.tenant))}/retry` }),
  'GET /api/settings/run-retention': () => ({ path: '/api/settings/run-retention' }),
  'PUT /api/settings/run-retention': () => ({ path: '/api/settings/run-retention', body: { days: null } }),
  'GET /api/runs/:id/events': async (c) => ({ path: `/api/runs/${await once(`run:${c.tenant}`, () => run(c.tenant))}/events` }),
  'POST /api/runs/:id/cancel': async (c) => ({ path: `/api/runs/${await run(c.tenant)}/cancel` }),
  'POST /api/runs/:id/resume': async (c) => ({ path: `/api/runs/${await once(`run:${c.tenant}`, () => run(c.tenant))}/resume`, body: { nodeId: 'approve', action: 'retry' } }),
  'POST /api/runs/:id/retry': async (c) => ({ path: `/api/runs/${await once(`run:${c.tenant}`, () => run(c.tenant))}/retry`, body: {} }),
  'POST /api/runs/:id/rerun': async (c) => ({ path: `/api/runs/${await once(`run:${c.tenant}`, () => run(c.tenant))}/rerun`, body: {} }),
  'GET /api/approvals': () => ({ path: '/api/approvals' }),
  'GET /api/runs/:id/approvals/:nodeId': async (c) => ({ path: `/api/runs/${await once(`run:${c.tenant}`, () => run(c.tenant))}/approvals/approve` }),
  'POST /api/runs/:id/approvals/:nodeId': async (c) => {
    const id = await run(c.tenant);
    await pollApi(admin(), `/api/runs/${id}`, (r) => r.status === 'waiting-approval', 120_000);
    return { path: `/api/runs/${id}/approvals/approve`, body: { decision: 'reject', comment: 'matrix' } };
  },
  'GET /api/schedules': () => ({ path: '/api/schedules' }),
  'POST /api/schedules': (c) => ({ path: '/api/schedules', body: { runbookId: 'mx-review', tenant: c.tenant, inputs: { user: c.user }, every: ['1d'], paused: true } }),
  'GET /api/schedules/:id': async (c) => ({ path: `/api/schedules/${await once(`schedule:${c.tenant}`, () => schedule(c.tenant))}` }),
  'POST /api/schedules/:id/pause': async (c) => ({ path: `/api/schedules/${await schedule(c.tenant)}/pause`, body: {} }),
  'POST /api/schedules/:id/resume': async (c) => ({ path: `/api/schedules/${await schedule(c.tenant)}/resume`, body: {} }),
  'POST /api/schedules/:id/trigger': async (c) => ({ path: `/api/schedules/${await schedule(c.tenant)}/trigger` }),
  'DELETE /api/schedules/:id': async (c) => ({ path: `/api/schedules/${await schedule(c.tenant)}` }),
  'GET /api/triggers': () => ({ path: '/api/triggers' }),
  'POST /api/triggers': (c) => ({ path: '/api/triggers', body: { kind: 'webhook', runbookId: 'mx-review', tenant: c.tenant, inputs: { user: 'body.user' } } }),
  'GET /api/triggers/:id': async (c) => ({ path: `/api/triggers/${await once(`trigger:${c.tenant}`, () => trigger(c.tenant))}` }),
  'GET /api/triggers/:id/firings': async (c) => ({ path: `/api/triggers/${await once(`trigger:${c.tenant}`, () => trigger(c.tenant))}/firings` }),
  'GET /api/triggers/:id/plans': async (c) => ({ path: `/api/triggers/${await once(`date-trigger:${c.tenant}`, () => dateTrigger(c.tenant))}/plans` }),
  'POST /api/triggers/:id/pause': async (c) => ({ path: `/api/triggers/${await trigger(c.tenant)}/pause`, body: {} }),
  'POST /api/triggers/:id/resume': async (c) => ({ path: `/api/triggers/${await trigger(c.tenant)}/resume`, body: {} }),
  'POST /api/triggers/:id/rotate-secret': async (c) => ({ path: `/api/triggers/${await trigger(c.tenant)}/rotate-secret` }),
  'DELETE /api/triggers/:id': async (c) => ({ path: `/api/triggers/${await trigger(c.tenant)}` }),
  'POST /api/graph-notifications/:id': async (c) => ({ path: `/api/graph-notifications/${await once(`date-trigger:${c.tenant}`, () => dateTrigger(c.tenant))}`, body: { value: [{ subscriptionId: 'not-it', clientState: 'not-the-secret', changeType: 'updated' }] } }),
  'POST /api/graph-notifications/:id/lifecycle': async (c) => ({ path: `/api/graph-notifications/${await once(`date-trigger:${c.tenant}`, () => dateTrigger(c.tenant))}/lifecycle`, body: { value: [{ subscriptionId: 'not-it', clientState: 'not-the-secret', lifecycleEvent: 'missed' }] } }),
  'POST /api/hooks/:id': async (c) => ({ path: `/api/hooks/${await once(`trigger:${c.tenant}`, () => trigger(c.tenant))}`, body: { user: finance } }),
  'GET /api/tenants': () => ({ path: '/api/tenants' }),
  'POST /api/tenants': () => ({ path: '/api/tenants', body: { name: `mx-${uniq()}`, tenantId: 'contoso.onmicrosoft.com', clientId: 'abc', clientSecret: 'shh' } }),
  'GET /api/tenants/:name': (c) => ({ path: `/api/tenants/${c.tenant}` }),
  'PUT /api/tenants/:name': (c) => ({ path: `/api/tenants/${c.tenant}`, body: { tenantId: env.tenant.tenantId, clientId: env.tenant.clientId, authorityHost: env.tenant.authorityHost, graphUrl: env.tenant.graphUrl, caPem: env.tenant.caPem } }),
  'DELETE /api/tenants/:name': async (c) => {
    const name = `${c.tenant === OWN ? 'acme' : 'globex'}-gone-${uniq()}`;
    // A tenant of its own to delete; the caller's grants name OWN, so "own" means a grant on it.
    assert.equal((await admin().call('POST', '/api/tenants', { name, tenantId: 'contoso.onmicrosoft.com', clientId: 'abc', clientSecret: 'shh' })).status, 201);
    if (c.tenant === OWN && c.caller !== 'anonymous' && c.caller !== 'no-role' && c.caller !== 'admin') {
      const me = (await callers[c.caller].call('GET', '/api/auth/me')).body;
      await admin().call('POST', `/api/users/${me.id}/grants`, { tenant: name, role: CALLERS[c.caller].role });
    }
    return { path: `/api/tenants/${name}` };
  },
  'POST /api/tenants/:name/test': (c) => ({ path: `/api/tenants/${c.tenant}/test` }),
  'GET /api/tenants/:name/users': (c) => ({ path: `/api/tenants/${c.tenant}/users?search=a` }),
  'GET /api/tenants/:name/groups': (c) => ({ path: `/api/tenants/${c.tenant}/groups?search=a` }),
  'GET /api/tenants/:name/licences': (c) => ({ path: `/api/tenants/${c.tenant}/licences` }),
  'GET /api/tenants/:name/mailboxes': (c) => ({ path: `/api/tenants/${c.tenant}/mailboxes?search=a` }),
  'GET /api/tenants/:name/shared-mailboxes': (c) => ({ path: `/api/tenants/${c.tenant}/shared-mailboxes` }),
  'GET /api/tenants/:name/devices': (c) => ({ path: `/api/tenants/${c.tenant}/devices?search=C` }),
  'GET /api/tenants/:name/teams': (c) => ({ path: `/api/tenants/${c.tenant}/teams` }),
  'GET /api/tenants/:name/teams/:team/channels': (c) => ({ path: `/api/tenants/${c.tenant}/teams/Sales/channels` }),
  'GET /api/tenants/:name/sites': (c) => ({ path: `/api/tenants/${c.tenant}/sites?search=a` }),
  'GET /api/tenants/:name/onedrives': (c) => ({ path: `/api/tenants/${c.tenant}/onedrives?search=a&top=3` }),
  'GET /api/tenants/:name/applications': (c) => ({ path: `/api/tenants/${c.tenant}/applications` }),
  'GET /api/tenants/:name/domains': (c) => ({ path: `/api/tenants/${c.tenant}/domains` }),
  'GET /api/audit': () => ({ path: '/api/audit' }),
  'GET /api/audit/verify': () => ({ path: '/api/audit/verify' }),
  'GET /api/audit/chain': () => ({ path: '/api/audit/chain' }),
};

const DENIED = new Set([401, 403, 404]);
type Outcome = 'allow' | 'deny';
/** Routes whose answer to a caller who may call them is itself a refusal of the request. */
const REACHED: Partial<Record<RouteKey, (status: number, body: any) => boolean>> = {
  // The request signs in with a wrong password: everyone may try, and hears that.
  'POST /api/auth/login': (status, body) => status === 401 && /wrong email or password/.test(body?.error ?? ''),
  // The request gives a wrong current password: a caller who may change theirs hears exactly that.
  'POST /api/auth/password': (status, body) => status === 403 && /current password/i.test(body?.error ?? ''),
  // Sign-in through OpenID Connect is not configured on this server: everyone hears that.
  'GET /api/auth/oidc/login': (status, body) => status === 404 && /not configured|OpenID/i.test(body?.error ?? ''),
  // The request is not signed: a trigger's URL answers that to everyone (test/triggers.test.ts signs).
  'POST /api/hooks/:id': (status, body) => status === 401 && /signature/i.test(body?.error ?? ''),
  // A notification without the trigger's clientState: Graph's receivers answer that to everyone.
  'POST /api/graph-notifications/:id': (status, body) => status === 401 && /clientState/.test(body?.error ?? ''),
  'POST /api/graph-notifications/:id/lifecycle': (status, body) => status === 401 && /clientState/.test(body?.error ?? ''),
  'GET /api/auth/oidc/callback': (status, body) => status === 404 && /not configured|OpenID/i.test(body?.error ?? ''),
};

async function attempt(route: RouteKey, caller: CallerKind, tenant: string, user: string): Promise<{ outcome: Outcome; status: number; body: unknown }> {
  const req = await REQUESTS[route]({ tenant, caller, user });
  const method = route.split(' ')[0]!;
  let r: { status: number; body: any };
  if ((API as Record<string, { produces?: string }>)[route]!.produces === 'text/event-stream') {
    // An event stream answers and stays open: its status is all this needs.
    const abort = new AbortController();
    const token = callers[caller].token;
    const res = await fetch(`${api.base}${req.path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
    r = { status: res.status, body: res.status === 200 ? '(stream)' : await res.text() };
    abort.abort();
  } else
    r = await callers[caller].call(method, req.path, req.body).catch((err: Error) => {
      throw new Error(`${route} as ${caller} on ${tenant}: ${err.message} (${(err.cause as Error | undefined)?.message ?? ''})`, { cause: err });
    });
  assert.ok(r.status < 500, `${route} as ${caller} on ${tenant}: ${r.status} ${JSON.stringify(r.body)}`);
  const reached = REACHED[route]?.(r.status, r.body) ?? !DENIED.has(r.status);
  return { outcome: reached ? 'allow' : 'deny', status: r.status, body: r.body };
}

describe('access matrix', () => {
  it('has one row and one request for every route of the contract', () => {
    const routes = Object.keys(API) as RouteKey[];
    assert.deepEqual(routes.filter((r) => !ACCESS[r]), [], 'routes without a row in server/access-matrix.ts');
    assert.deepEqual(routes.filter((r) => !REQUESTS[r]), [], 'routes without a request in this test');
    assert.deepEqual(Object.keys(ACCESS).filter((r) => !(r in API)), [], 'rows for routes the contract no longer has');
  });

  it('every caller on every route, on its own tenant and another, in and out of scope, gets what the table says', { timeout: 1_200_000 }, async () => {
    const print = process.env.TENANTFLOW_MATRIX === 'print';
    const wrong: string[] = [];
    let calls = 0;
    const check = async (route: RouteKey, caller: CallerKind): Promise<string> => {
      const row = ACCESS[route];
      const own = await attempt(route, caller, OWN, finance);
      calls++;
      const expectOwn: Outcome = row.allow.includes(caller) ? 'allow' : 'deny';
      const cells = [`${own.outcome}(${own.status})`];
      if (own.outcome !== expectOwn) wrong.push(`${route} as ${caller} on its own tenant: ${own.status} ${JSON.stringify(own.body).slice(0, 160)}, the table says ${expectOwn}`);
      if (row.tenant === 'bound') {
        const other = await attempt(route, caller, OTHER, finance);
        calls++;
        // On a tenant where the caller holds no role only a grant on every tenant (admin) helps.
        const expectOther: Outcome = expectOwn === 'allow' && (caller === 'admin' || CALLERS[caller].role === undefined) ? 'allow' : 'deny';
        cells.push(`other:${other.outcome}(${other.status})`);
        if (other.outcome !== expectOther) wrong.push(`${route} as ${caller} on another tenant: ${other.status} ${JSON.stringify(other.body).slice(0, 160)}, the table says ${expectOther}`);
      }
      if (row.scoped && caller === 'operator') {
        const out = await attempt(route, caller, OWN, sales);
        calls++;
        cells.push(`out-of-scope:${out.outcome}(${out.status})`);
        // A bulk file is checked row by row: the row outside the scope is refused in the report (422).
        const refusedRow = out.status === 422 && /scope/i.test(JSON.stringify(out.body));
        if (out.outcome !== 'deny' && !refusedRow) wrong.push(`${route} as a Finance-scoped operator for a Sales user: ${out.status}, the table says deny`);
      }
      return `${route.padEnd(44)} ${caller.padEnd(13)} ${cells.join(' ')}`;
    };
    // Four routes at a time (each makes its own fixtures), the callers of each at once.
    const routes = Object.keys(API) as RouteKey[];
    const printed: string[][] = [];
    let next = 0;
    const lane = async () => {
      while (next < routes.length) {
        const i = next++;
        printed[i] = await Promise.all((Object.keys(CALLERS) as CallerKind[]).map((caller) => check(routes[i]!, caller)));
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    if (print) console.log(printed.flat().join('\n'));
    assert.ok(calls > 500, `${calls} calls`);
    if (!print) assert.deepEqual(wrong, []);
  });
});
