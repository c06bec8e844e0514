// Schedules on real Temporal: an interval schedule fires, pauses (and stops firing), triggers
// now; cron with a time zone lists upcoming times; a one-off future run; delete.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let server: ApiServer;
let operator: Caller, designer: Caller, viewer: Caller;

const tick = { name: 'Tick', inputs: [{ name: 'note', type: 'string' }], nodes: [{ id: 'done', kind: 'end', status: 'succeeded', message: 'tick' }], edges: [] };

before(async () => {
  env = await startTestEnv();
  server = await startApiServer(env);
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  operator = await server.as('operator@contoso.test', [{ tenant: 'sandbox', role: 'operator' }]);
  viewer = await server.as('viewer@contoso.test', [{ tenant: 'sandbox', role: 'viewer' }]);
  assert.equal((await designer.call('POST', '/api/runbooks', { id: 'tick', definition: tick, customAction: true })).status, 201);
  assert.equal((await designer.call('POST', '/api/runbooks/tick/publish', {})).status, 201);
  assert.equal((await designer.call('POST', '/api/runbooks', { id: 'internal', definition: tick })).status, 201);
  assert.equal((await designer.call('POST', '/api/runbooks/internal/publish', {})).status, 201);
});
after(async () => {
  for (const s of (await server?.admin.call('GET', '/api/schedules'))?.body ?? []) await server.admin.call('DELETE', `/api/schedules/${s.id}`);
  await server?.close();
  await env?.close();
});

const runsOf = async () => (await viewer.call('GET', '/api/runs?runbook=tick&pageSize=200')).body.runs as { id: string; status: string }[];

describe('schedules on Temporal', () => {
  it('an interval schedule fires, pause stops it, trigger runs now, delete removes it', async () => {
    const created = await operator.call('POST', '/api/schedules', { runbookId: 'tick', every: ['1s'], inputs: { note: 'hello' }, overlap: 'allow' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    assert.ok(created.body.upcoming.length > 0);
    const fired = await pollApi(viewer, '/api/runs?runbook=tick', (r) => r.runs.some((x: { status: string }) => x.status === 'succeeded'));
    const run = await viewer.call('GET', `/api/runs/${fired.runs[0].id}`);
    assert.equal(run.body.inputs.note, 'hello');
    assert.equal(run.body.origin.schedule, id);
    assert.equal(run.body.startedBy, 'operator@contoso.test');

    const paused = await operator.call('POST', `/api/schedules/${id}/pause`, { note: 'holiday' });
    assert.equal(paused.body.paused, true);
    assert.equal(paused.body.note, 'holiday');
    await new Promise((r) => setTimeout(r, 1500));
    const before = (await runsOf()).length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await runsOf()).length, before, 'no run while paused');

    assert.equal((await operator.call('POST', `/api/schedules/${id}/trigger`, {})).status, 200);
    await pollApi(viewer, '/api/runs?runbook=tick&pageSize=200', (r) => r.runs.length === before + 1);
    // The schedule says how its last run ended, in the same words as the run itself.
    const shown = await pollApi(viewer, `/api/schedules/${id}`, (b) => b.lastRun?.status === 'succeeded');
    assert.equal(shown.recentRuns.at(-1).status, 'succeeded');
    const resumed = await operator.call('POST', `/api/schedules/${id}/resume`, {});
    assert.equal(resumed.body.paused, false);

    assert.equal((await viewer.call('POST', `/api/schedules/${id}/pause`, {})).status, 403);
    assert.equal((await operator.call('DELETE', `/api/schedules/${id}`)).status, 200);
    assert.equal((await viewer.call('GET', `/api/schedules/${id}`)).status, 404);
  });

  it('cron in a time zone lists upcoming times; a one-off run waits for its time', async () => {
    const cron = await operator.call('POST', '/api/schedules', { runbookId: 'tick', cron: ['0 17 * * 5'], timezone: 'Europe/Stockholm', overlap: 'skip' });
    assert.equal(cron.status, 201, JSON.stringify(cron.body));
    assert.ok(cron.body.upcoming.length >= 3);
    for (const t of cron.body.upcoming) {
      const d = new Date(t);
      assert.equal(d.getUTCDay(), 5, 'Fridays');
      assert.ok([15, 16].includes(d.getUTCHours()), '17:00 in Stockholm is 15:00 or 16:00 UTC');
    }
    const at = new Date(Date.now() + 3_600_000);
    at.setUTCMilliseconds(0);
    const once = await operator.call('POST', '/api/schedules', { runbookId: 'tick', at: at.toISOString() });
    assert.equal(once.status, 201, JSON.stringify(once.body));
    assert.equal(once.body.oneOff, true);
    assert.deepEqual(once.body.upcoming, [at.toISOString()]);
    const list = await viewer.call('GET', '/api/schedules');
    assert.deepEqual(list.body.map((s: { id: string }) => s.id).sort(), [cron.body.id, once.body.id].sort());
  });

  it('refuses bad specs with the field named, and runbooks not offered to operators', async () => {
    const bad = await operator.call('POST', '/api/schedules', { runbookId: 'tick', cron: ['0 7 * * *'], timezone: 'Mars/Olympus' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.problems[0].field, 'timezone');
    const past = await operator.call('POST', '/api/schedules', { runbookId: 'tick', at: '2020-01-01T00:00:00Z' });
    assert.equal(past.status, 400);
    assert.equal(past.body.problems[0].field, 'at');
    const internal = await operator.call('POST', '/api/schedules', { runbookId: 'internal', every: ['1h'] });
    assert.equal(internal.status, 403);
    assert.equal((await viewer.call('POST', '/api/schedules', { runbookId: 'tick', every: ['1h'] })).status, 403);
  });
});
