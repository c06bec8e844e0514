// Issue 16, the control plane's side doors and hostile inputs: every route that causes a run checks
// the caller's rights and operator scope and records the caller (schedules trigger / delete,
// retry, resume); hostile ids, queries and bodies answer 4xx naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let api: ApiServer;
let sales: Caller, finance: Caller, viewer: Caller;

// Scopes read a `department` input directly; the failing step is an addMember to no such group.
const tick = { name: 'Tick', inputs: [{ name: 'department', type: 'string' }], nodes: [{ id: 'done', kind: 'end', status: 'succeeded', message: 'tick' }], edges: [] };
const failing = {
  name: 'Fails',
  inputs: [{ name: 'department', type: 'string' }],
  nodes: [{ id: 'add', kind: 'action', action: 'group.addMember', params: { group: '00000000-0000-0000-0000-000000000000', user: '00000000-0000-0000-0000-000000000001' }, retry: { maximumAttempts: 1 } }],
  edges: [],
};

async function publish(id: string, definition: unknown, customAction = true) {
  assert.equal((await api.admin.call('POST', '/api/runbooks', { id, definition, customAction })).status, 201);
  assert.equal((await api.admin.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
}

before(async () => {
  env = await startTestEnv();
  api = await startApiServer(env);
  sales = await api.as('sales.helpdesk@contoso.test', [{ tenant: 'sandbox', role: 'operator', scope: { department: ['Sales'] } }]);
  finance = await api.as('finance.helpdesk@contoso.test', [{ tenant: 'sandbox', role: 'operator', scope: { department: ['Finance'] } }]);
  viewer = await api.as('viewer@contoso.test', [{ tenant: 'sandbox', role: 'viewer' }]);
  await publish('sec-tick', tick);
  await publish('sec-fails', failing);
  await publish('sec-internal', failing, false);
});
after(async () => {
  for (const s of (await api?.admin.call('GET', '/api/schedules'))?.body ?? []) await api.admin.call('DELETE', `/api/schedules/${s.id}`);
  await api?.close();
  await env?.close();
});

describe('finding 2: every route that causes a run checks rights and scope, and records the caller', () => {
  it('a schedule outside the operator\'s scope cannot be triggered, paused or deleted; inside, a trigger runs as the caller', async () => {
    const made = await api.admin.call('POST', '/api/schedules', { runbookId: 'sec-tick', cron: ['0 3 * * *'], inputs: { department: 'Finance' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.id as string;
    for (const [m, path] of [['POST', `/api/schedules/${id}/trigger`], ['POST', `/api/schedules/${id}/pause`], ['DELETE', `/api/schedules/${id}`]] as const) {
      const r = await sales.call(m, path, m === 'POST' ? {} : undefined);
      assert.equal(r.status, 403, `${m} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.problems[0].field, 'inputs.department');
    }
    assert.equal((await viewer.call('POST', `/api/schedules/${id}/trigger`, {})).status, 403);
    assert.equal((await api.admin.call('GET', `/api/schedules/${id}`)).body.exists, true, 'still there');

    const triggered = await finance.call('POST', `/api/schedules/${id}/trigger`, {});
    assert.equal(triggered.status, 200, JSON.stringify(triggered.body));
    const runs = await pollApi(viewer, '/api/runs?runbook=sec-tick', (b) => b.runs.length === 1);
    assert.equal(runs.runs[0].startedBy, 'finance.helpdesk@contoso.test', 'the run is recorded as started by the caller');
    const audit = await api.admin.call('GET', `/api/audit?q=${id}`);
    assert.ok(JSON.stringify(audit.body).includes('finance.helpdesk@contoso.test'));
    assert.equal((await finance.call('DELETE', `/api/schedules/${id}`)).status, 200);
  });

  it('retrying and resuming a failed run apply the start rights and the operator scope', async () => {
    const started = await api.admin.call('POST', '/api/runs', { runbookId: 'sec-fails', inputs: { department: 'Finance' } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    await pollApi(viewer, `/api/runs/${started.body.id}`, (b) => b.status === 'failed');
    const outside = await sales.call('POST', `/api/runs/${started.body.id}/retry`, {});
    assert.equal(outside.status, 403, JSON.stringify(outside.body));
    assert.equal(outside.body.problems[0].field, 'inputs.department');
    const inside = await finance.call('POST', `/api/runs/${started.body.id}/retry`, {});
    assert.equal(inside.status, 201, JSON.stringify(inside.body));
    const retried = await pollApi(viewer, `/api/runs/${inside.body.id}`, (b) => b.status === 'failed');
    assert.equal(retried.startedBy, 'finance.helpdesk@contoso.test');

    const internal = await api.admin.call('POST', '/api/runs', { runbookId: 'sec-internal', inputs: { department: 'Finance' } });
    await pollApi(viewer, `/api/runs/${internal.body.id}`, (b) => b.status === 'failed');
    const refused = await finance.call('POST', `/api/runs/${internal.body.id}/retry`, {});
    assert.equal(refused.status, 403, 'operators may not retry a runbook that is not offered to them');
    assert.match(refused.body.error, /not offered to operators/);
  });
});

describe('finding 8: hostile ids, queries and bodies are 4xx naming the field', () => {
  const named = (r: { status: number; body: any }, field: string) => {
    assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${JSON.stringify(r.body)}`);
    assert.ok(JSON.stringify(r.body).includes(field), `names ${field}: ${JSON.stringify(r.body)}`);
  };
  it('a NUL byte in an id or a query', async () => {
    named(await api.admin.call('GET', '/api/runbooks/%00'), 'id');
    named(await api.admin.call('GET', '/api/runs/%00'), 'id');
    named(await api.admin.call('GET', '/api/audit?q=%00'), 'q');
    named(await api.admin.call('GET', '/api/runs?runbook=%00'), 'runbook');
    named(await api.admin.call('GET', '/api/runs?requester=a%00b'), 'requester');
  });
  it('an id that does not decode names its parameter', async () => {
    named(await api.admin.call('GET', '/api/runbooks/%E0%A4%A'), 'id');
  });
  it('a bad pageToken', async () => {
    named(await api.admin.call('GET', '/api/runs?pageToken=not-a-token'), 'pageToken');
  });
  it('schedules every 0s and an invalid cron', async () => {
    named(await api.admin.call('POST', '/api/schedules', { runbookId: 'sec-tick', every: ['0s'] }), 'every');
    named(await api.admin.call('POST', '/api/schedules', { runbookId: 'sec-tick', cron: ['61 25 * * *'] }), 'cron');
    assert.equal((await api.admin.call('GET', '/api/schedules')).body.filter((x: { runbookId: string }) => x.runbookId === 'sec-tick').length, 0, 'nothing half-written');
  });
  it('JSON nested 100,000 levels deep', async () => {
    const deep = '{"definition":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    const r = await api.admin.call('POST', '/api/runbooks', deep);
    assert.ok(r.status >= 400 && r.status < 500, `${r.status}`);
  });
  it('a 3 MB input is refused before starting', async () => {
    const r = await api.admin.call('POST', '/api/runs', { runbookId: 'sec-tick', inputs: { department: 'x'.repeat(3_000_000) } });
    named(r, 'inputs');
  });
});
