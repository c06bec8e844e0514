// Issue 16, the control plane's side doors and hostile inputs: every route that causes a run checks
// the caller's rights and operator scope and records the caller (schedules trigger / delete,
// retry, resume); hostile ids, queries and bodies answer 4xx naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';
import { isSealed, openSealed } from '../runbook/secrets.ts';

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

describe('finding 9: sessions and input hygiene', () => {
  const login = (email: string, password: string) =>
    fetch(`${api.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });

  it('a password change ends the person\'s other sessions and API tokens, not the one in use', async () => {
    const email = 'changer@contoso.test';
    await api.services.people.create({ email, name: 'changer', password: 'Old-password-1!' });
    const other = await login(email, 'Old-password-1!');
    assert.equal(other.status, 200);
    const otherCookie = other.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const me = await api.as(email);
    const second = await me.call('POST', '/api/auth/tokens', { name: 'second' });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const changed = await me.call('POST', '/api/auth/password', { currentPassword: 'Old-password-1!', newPassword: 'New-password-2!' });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal((await fetch(`${api.base}/api/auth/me`, { headers: { cookie: otherCookie } })).status, 401, 'the other session ended');
    assert.equal((await fetch(`${api.base}/api/auth/me`, { headers: { authorization: `Bearer ${second.body.token}` } })).status, 401, 'the other token ended');
    assert.equal((await me.call('GET', '/api/auth/me')).status, 200, 'the token the change was made with goes on');
  });

  it('wrong passwords lock the account after 10 tries (429 with Retry-After), even with the right password', async () => {
    const email = 'target@contoso.test';
    await api.services.people.create({ email, name: 'target', password: 'Right-password-1!' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login(email, `wrong-${i}`)).status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
    assert.ok(statuses.slice(10).every((x) => x === 429), statuses.join(','));
    const locked = await login(email, 'Right-password-1!');
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.equal((await login('someone.else@contoso.test', 'x')).status, 401, 'other accounts are not locked');
  });

  it('POST /api/tenants refuses unknown fields and over-long values by name', async () => {
    const base = { name: 'hygiene', tenantId: 'contoso.onmicrosoft.com', clientId: '00000000-0000-0000-0000-000000000000', clientSecret: 's' };
    for (const extra of ['__proto__', 'constructor', 'isAdmin']) {
      const r = await api.admin.call('POST', '/api/tenants', `{${JSON.stringify(base).slice(1, -1)},"${extra}":{"polluted":true}}`);
      assert.equal(r.status, 400, `${extra}: ${JSON.stringify(r.body)}`);
      assert.ok(r.body.problems.some((x: { field: string }) => x.field === extra), JSON.stringify(r.body));
    }
    const long = await api.admin.call('POST', '/api/tenants', { ...base, tenantId: 'x'.repeat(100_000) });
    assert.equal(long.status, 400);
    assert.equal(long.body.problems[0].field, 'tenantId');
    assert.equal((await api.admin.call('GET', '/api/tenants')).body.some((t: { name: string }) => t.name === 'hygiene'), false, 'nothing written');
  });

  it('bulk files with a duplicate column, a NUL byte or a 1,000,000-character value are refused naming row and column', async () => {
    const bulk = (csv: string) => api.admin.call('POST', '/api/runs/bulk', { runbookId: 'sec-tick', csv });
    const dup = await bulk('department,department\nSales,Finance\n');
    assert.equal(dup.status, 422);
    assert.match(dup.body.problems.join(' '), /duplicate column department/);
    assert.equal(dup.body.started, 0);
    const nul = await bulk('department\nSa\u0000les\nFinance\n');
    assert.equal(nul.status, 422);
    assert.deepEqual(nul.body.rows[0].problems.map((x: { field: string }) => x.field), ['department']);
    assert.match(nul.body.rows[0].problems[0].message, /line 2, column department/);
    const huge = await bulk(`department\n${'x'.repeat(1_000_000)}\n`);
    assert.equal(huge.status, 422);
    assert.equal(huge.body.rows[0].problems[0].field, 'department');
    assert.equal(huge.body.started, 0);
  });
});

describe('finding 6c: a literal secret in a runbook definition is write-only', () => {
  it('GET, versions and export show "[secret]"; saving the masked draft back keeps the stored secret', async () => {
    const literal = 'Literal-Secret-Value-9!';
    const definition = {
      name: 'Reset with a literal',
      inputs: [{ name: 'user', type: 'string', required: true }],
      nodes: [{ id: 'reset', kind: 'action', action: 'user.resetPassword', params: { user: '{{ inputs.user }}', password: literal } }],
      edges: [],
    };
    assert.equal((await api.admin.call('POST', '/api/runbooks', { id: 'sec-literal', definition })).status, 201);
    assert.equal((await api.admin.call('POST', '/api/runbooks/sec-literal/publish', {})).status, 201);
    const answers = [
      await viewer.call('GET', '/api/runbooks/sec-literal'),
      await viewer.call('GET', '/api/runbooks/sec-literal/versions/1'),
      await viewer.call('GET', '/api/runbooks/sec-literal/export'),
      await viewer.call('GET', '/api/runbooks/sec-literal/export?version=draft'),
    ];
    for (const a of answers) {
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.ok(!JSON.stringify(a.body).includes(literal), JSON.stringify(a.body));
      assert.ok(JSON.stringify(a.body).includes('[secret]'));
    }
    const shown = answers[0]!.body.draft;
    const saved = await api.admin.call('PUT', '/api/runbooks/sec-literal/draft', { definition: { ...shown, name: 'Renamed' } });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.ok(!JSON.stringify(saved.body).includes(literal));
    const stored = await api.services.runbooks.get('sec-literal');
    const kept = (stored!.draft as { nodes: { params: { password: unknown } }[] }).nodes[0]!.params.password;
    assert.ok(isSealed(kept), 'the stored secret is sealed at rest');
    assert.equal(openSealed(api.services.deps.secretBox, kept), literal, 'the stored secret is kept');
    const row = await api.db.one<{ draft: string }>('SELECT draft::text AS draft FROM runbooks WHERE id = $1', ['sec-literal']);
    assert.ok(!row!.draft.includes(literal), 'no plaintext in the database');
  });
});

describe('finding 6a: a secret input only as a whole value', () => {
  it('a secret inside a longer text is refused at publish, naming the field', async () => {
    const def = (password: string) => ({
      name: 'Secret inside text',
      inputs: [{ name: 'user', type: 'string', required: true }, { name: 'pw', type: 'string', secret: true }],
      nodes: [{ id: 'reset', kind: 'action', action: 'user.resetPassword', params: { user: '{{ inputs.user }}', password } }],
      edges: [],
    });
    assert.equal((await api.admin.call('POST', '/api/runbooks', { id: 'sec-inside', definition: def('Xx1!{{ inputs.pw }}') })).status, 201);
    const refused = await api.admin.call('POST', '/api/runbooks/sec-inside/publish', {});
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.ok(refused.body.problems.some((x: { nodeId: string; field: string; message: string }) => x.nodeId === 'reset' && x.field === 'params.password' && /secret input "pw"/.test(x.message)), JSON.stringify(refused.body));
    assert.equal((await api.admin.call('PUT', '/api/runbooks/sec-inside/draft', { definition: def('{{ inputs.pw }}') })).status, 200);
    assert.equal((await api.admin.call('POST', '/api/runbooks/sec-inside/publish', {})).status, 201, 'a whole value is fine');
  });
});
