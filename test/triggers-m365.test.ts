// Microsoft 365 triggers on real Temporal, the real worker and the sandbox over HTTPS:
// - graph: the server subscribes to users (the sandbox's validation handshake reaches it over
//   HTTPS), a user disabled in the tenant starts exactly one run with inputs from the user; a
//   repeated notification starts none; a wrong clientState is refused; a change made while
//   notifications do not arrive is caught by the scheduled delta query; lifecycle notifications
//   renew, re-create and catch up.
// - date: employeeHireDate − 7 days for the users of a department, on a clock the test moves:
//   a date in range starts one run (once, however often it is evaluated), a changed date re-plans
//   (the change arrives by notification), a cleared date starts none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, startApiServerOverHttps, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let server: ApiServer;
let closeHttps: () => Promise<void>;
let httpsBase: string;
let designer: Caller, viewer: Caller;
/** The triggers' clock: real time shifted, or a fixed instant (date tests). */
let shiftMs = 0;
let fixedMs: number | undefined;
const clock = () => fixedMs ?? Date.now() + shiftMs;

const runbook = (name: string) => ({
  name,
  inputs: [
    { name: 'upn', type: 'string', required: true },
    { name: 'day', type: 'string' },
  ],
  nodes: [{ id: 'done', kind: 'end', status: 'succeeded', message: '{{ inputs.upn }}' }],
  edges: [],
});

before(async () => {
  env = await startTestEnv();
  // Graph calls notification URLs over HTTPS only.
  ({ server, httpsBase, close: closeHttps } = await startApiServerOverHttps(env, { triggerClock: clock }));
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  viewer = await server.as('viewer@contoso.test', [{ tenant: 'sandbox', role: 'viewer' }]);
  for (const id of ['offboard-evt', 'preboard-date']) {
    assert.equal((await designer.call('POST', '/api/runbooks', { id, definition: runbook(id) })).status, 201);
    assert.equal((await designer.call('POST', '/api/runbooks/' + id + '/publish', {})).status, 201);
  }
});
after(async () => {
  await closeHttps?.();
  await env?.close();
});

const runsOf = async (rb: string) => ((await viewer.call('GET', `/api/runs?runbook=${rb}&pageSize=200`)).body.runs as { id: string }[]).map((r) => r.id).sort();
const waitRuns = async (rb: string, n: number) => {
  for (let i = 0; i < 600; i++) {
    const runs = await runsOf(rb);
    if (runs.length >= n) return runs;
    await new Promise((r) => setTimeout(r, 100));
  }
  return runsOf(rb);
};
const users = async (n: number) => {
  const page = (await env.graph.api('/users').select(['id', 'userPrincipalName', 'accountEnabled', 'userType']).top(50).get()) as { value: { id: string; userPrincipalName: string; accountEnabled: boolean; userType: string }[] };
  return page.value.filter((u) => u.accountEnabled && u.userType === 'Member').slice(0, n);
};
const patchUser = (id: string, body: Record<string, unknown>) => env.graph.api(`/users/${id}`).patch(body);

describe('graph (Microsoft 365 event) triggers', () => {
  it('the sandbox refuses what Graph refuses: a notification URL that fails the handshake, a too long subscription', async () => {
    const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
    const refused = await env.graph.api('/subscriptions').post({ changeType: 'updated', resource: 'users', notificationUrl: `${httpsBase}/api/nothing-here`, expirationDateTime: at(60) }).catch((e) => e);
    assert.equal(refused.statusCode, 400);
    assert.match(refused.message, /validation request failed/i);
    const tooLong = await env.graph.api('/subscriptions').post({ changeType: 'updated', resource: 'users', notificationUrl: `${httpsBase}/api/x`, expirationDateTime: at(41_761) }).catch((e) => e);
    assert.equal(tooLong.statusCode, 400);
    assert.match(tooLong.message, /41760 minutes/);
    const plain = await env.graph.api('/subscriptions').post({ changeType: 'updated', resource: 'users', notificationUrl: 'http://127.0.0.1:1/x', expirationDateTime: at(60) }).catch((e) => e);
    assert.equal(plain.statusCode, 400);
  });

  it('a user disabled in the tenant starts exactly one run; a repeat starts none; a wrong clientState is refused; delta catches what notifications missed', { timeout: 600_000 }, async () => {
    const created = await designer.call('POST', '/api/triggers', {
      kind: 'graph',
      name: 'Disabled → offboarding',
      runbookId: 'offboard-evt',
      graph: { changeType: 'updated' },
      filter: "changeType = 'updated' and before.accountEnabled = true and user.accountEnabled = false",
      inputs: { upn: 'user.userPrincipalName' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const t = await pollApi(viewer, `/api/triggers/${id}`, (x) => !!x.watch?.syncedAt && !!x.watch?.subscriptionId);
    assert.equal(t.watch.mode, 'notifications');
    // The subscription as Microsoft holds it: users, our URLs, a clientState, within 29 days.
    const sub = env.sandbox.admin.notifications.subscriptions().find((s) => s['id'] === t.watch.subscriptionId)!;
    assert.ok(sub, 'the subscription exists in the tenant');
    assert.equal(sub['resource'], 'users');
    assert.equal(sub['notificationUrl'], `${httpsBase}/api/graph-notifications/${id}`);
    assert.equal(sub['lifecycleNotificationUrl'], `${httpsBase}/api/graph-notifications/${id}/lifecycle`);
    assert.ok(typeof sub['clientState'] === 'string' && (sub['clientState'] as string).length >= 32);
    assert.ok(Date.parse(sub['expirationDateTime'] as string) - Date.now() <= 41_760 * 60_000);
    assert.ok(!JSON.stringify((await viewer.call('GET', `/api/triggers/${id}`)).body).includes(sub['clientState'] as string), 'the clientState is never in an API answer');

    // The handshake, as Graph sends it.
    const hs = await fetch(`${httpsBase}/api/graph-notifications/${id}?validationToken=${encodeURIComponent('Validation: token 1')}`, { method: 'POST', headers: { 'content-type': 'text/plain' } });
    assert.equal(hs.status, 200);
    assert.match(hs.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await hs.text(), 'Validation: token 1');

    const [ada, bob, cy] = await users(3);
    // A change the filter does not want starts nothing.
    await patchUser(cy!.id, { jobTitle: 'Trigger tester' });
    await patchUser(ada!.id, { accountEnabled: false });
    const first = await waitRuns('offboard-evt', 1);
    assert.equal(first.length, 1);
    const run = await pollApi(viewer, `/api/runs/${first[0]}`, (r) => r.status === 'succeeded');
    assert.equal(run.inputs.upn, ada!.userPrincipalName);
    assert.equal(run.origin.trigger, id);

    // The same notification again: accepted, answered by a delta round with no change, no run.
    const delivered = env.sandbox.admin.notifications.deliveries(sub['id'] as string).filter((d) => d.kind === 'change' && (d.body.value[0]!['resource'] as string).endsWith(ada!.id));
    assert.ok(delivered.length >= 1 && delivered[0]!.status === 202, JSON.stringify(delivered));
    const syncedBefore = (await viewer.call('GET', `/api/triggers/${id}`)).body.watch.syncedAt;
    const again = await fetch(sub['notificationUrl'] as string, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(delivered[0]!.body) });
    assert.equal(again.status, 202);
    await pollApi(viewer, `/api/triggers/${id}`, (x) => x.watch.syncedAt !== syncedBefore);
    assert.deepEqual(await runsOf('offboard-evt'), first, 'a repeated notification starts no run');

    // A wrong clientState: refused (401), audited, nothing runs.
    const forged = structuredClone(delivered[0]!.body);
    forged.value[0]!['clientState'] = 'guessed';
    const wrong = await fetch(sub['notificationUrl'] as string, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(forged) });
    assert.equal(wrong.status, 401);
    const audit = (await server.admin.call('GET', `/api/audit?target=${id}`)).body as { action: string }[];
    assert.ok(audit.some((e) => e.action === 'trigger.notification-refused'));
    assert.ok(audit.some((e) => e.action === 'trigger.subscribed'));
    assert.ok(audit.some((e) => e.action === 'trigger.fired'));

    // Notifications stop reaching the server: bob is disabled, nothing arrives; the scheduled
    // delta query (the clock moved past the next check) catches it and starts his one run.
    env.sandbox.admin.notifications.pause(true);
    try {
      const sent = env.sandbox.admin.notifications.deliveries().length;
      await patchUser(bob!.id, { accountEnabled: false });
      assert.equal(env.sandbox.admin.notifications.deliveries().length, sent, 'no notification was delivered');
      shiftMs += 2 * 3600_000;
      await server.triggers.tick();
    } finally {
      env.sandbox.admin.notifications.pause(false);
    }
    const both = await waitRuns('offboard-evt', 2);
    assert.equal(both.length, 2);
    const bobRun = both.find((r) => r !== first[0])!;
    assert.equal((await pollApi(viewer, `/api/runs/${bobRun}`, (r) => r.status === 'succeeded')).inputs.upn, bob!.userPrincipalName);
    // Another round finds nothing new.
    shiftMs += 2 * 3600_000;
    await server.triggers.tick();
    assert.deepEqual(await runsOf('offboard-evt'), both);

    // Lifecycle: subscriptionRemoved -> a new subscription; reauthorizationRequired -> renewed.
    const removed = await env.sandbox.admin.notifications.lifecycle(t.watch.subscriptionId, 'subscriptionRemoved');
    assert.equal(removed?.status, 202);
    const resubscribed = await pollApi(viewer, `/api/triggers/${id}`, (x) => !!x.watch.subscriptionId && x.watch.subscriptionId !== t.watch.subscriptionId);
    const reauth = await env.sandbox.admin.notifications.lifecycle(resubscribed.watch.subscriptionId, 'reauthorizationRequired');
    assert.equal(reauth?.status, 202);
    const audit2 = async () => ((await server.admin.call('GET', `/api/audit?target=${id}`)).body as { action: string }[]).map((e) => e.action);
    // The work goes on after the 202: wait (a loaded machine may take a while) for the renewal.
    for (let i = 0; i < 600 && !(await audit2()).includes('trigger.subscription-renewed'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok((await audit2()).includes('trigger.subscription-renewed'));
    assert.deepEqual(await runsOf('offboard-evt'), both, 'lifecycle catch-up starts nothing new');

    // Deleting the trigger removes its subscription from the tenant.
    assert.equal((await designer.call('DELETE', `/api/triggers/${id}`)).status, 200);
    assert.ok(!env.sandbox.admin.notifications.subscriptions().some((s) => s['id'] === resubscribed.watch.subscriptionId));
    for (const u of [ada, bob]) await patchUser(u!.id, { accountEnabled: true });
  });
});

describe('graph triggers where Microsoft cannot reach the server', () => {
  it('the subscription handshake fails, so delta queries on the schedule start the run', { timeout: 300_000 }, async () => {
    // A public URL nothing answers on: Graph's validation request fails, as for a server behind a firewall.
    const hidden = await startApiServer(env, { publicUrl: 'https://127.0.0.1:9', triggerClock: clock });
    try {
      const d = await hidden.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
      assert.equal((await d.call('POST', '/api/runbooks', { id: 'offboard-hidden', definition: runbook('offboard-hidden') })).status, 201);
      assert.equal((await d.call('POST', '/api/runbooks/offboard-hidden/publish', {})).status, 201);
      const created = await d.call('POST', '/api/triggers', { kind: 'graph', runbookId: 'offboard-hidden', graph: { changeType: 'updated' }, filter: 'before.accountEnabled = true and user.accountEnabled = false', inputs: { upn: 'user.userPrincipalName' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const t = await pollApi(d, `/api/triggers/${created.body.id}`, (x) => !!x.watch?.syncedAt);
      assert.equal(t.watch.mode, 'delta');
      assert.match(t.watch.lastError, /delta queries.*validation request failed/i);
      const [u] = (await users(6)).slice(5);
      await patchUser(u!.id, { accountEnabled: false });
      shiftMs += 2 * 3600_000;
      await hidden.triggers.tick();
      const run = await pollApi(d, '/api/runs?runbook=offboard-hidden&pageSize=50', (b) => b.runs.length === 1);
      assert.equal((await pollApi(d, `/api/runs/${run.runs[0].id}`, (r) => r.status === 'succeeded')).inputs.upn, u!.userPrincipalName);
      await patchUser(u!.id, { accountEnabled: true });
    } finally {
      await hidden.close();
    }
  });
});

describe('date triggers', () => {
  it('a hire date in range starts one run; a changed date re-plans; a cleared date starts none', { timeout: 600_000 }, async () => {
    fixedMs = Date.parse('2027-03-01T08:00:00Z');
    const dept = `Sales-${Date.now().toString(36)}`;
    const [u1, u2, u3, outside] = await users(4);
    await patchUser(u1!.id, { department: dept, employeeHireDate: '2027-03-10T00:00:00Z' });
    await patchUser(u2!.id, { department: dept, employeeHireDate: '2027-04-10T00:00:00Z' });
    await patchUser(u3!.id, { department: dept, employeeHireDate: '2027-03-20T00:00:00Z' });
    await patchUser(outside!.id, { employeeHireDate: '2027-03-10T00:00:00Z' });

    const bad = await designer.call('POST', '/api/triggers', { kind: 'date', runbookId: 'preboard-date', date: { attribute: 'birthday', offsetDays: 1 }, inputs: { upn: 'user.userPrincipalName' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.problems[0].field, 'date.attribute');

    const created = await designer.call('POST', '/api/triggers', {
      kind: 'date',
      name: 'Pre-boarding',
      runbookId: 'preboard-date',
      date: { attribute: 'employeeHireDate', offsetDays: -7, scope: `department eq '${dept}'` },
      inputs: { upn: 'user.userPrincipalName', day: 'date' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const plans = async () => (await viewer.call('GET', `/api/triggers/${id}/plans`)).body as { userId: string; date: string; due: string; status: string; runId?: string }[];
    const planOf = async (u: { id: string }) => (await plans()).find((p) => p.userId === u.id);
    await pollApi(viewer, `/api/triggers/${id}/plans`, (p: unknown[]) => p.length === 3);
    assert.deepEqual((await planOf(u1!)), { ...(await planOf(u1!)), date: '2027-03-10', due: '2027-03-03', status: 'planned' });
    assert.equal((await planOf(outside!)), undefined, 'a user outside the scope is not planned');

    // Changed: the notification makes the trigger evaluate at once; the plan moves.
    await patchUser(u2!.id, { employeeHireDate: '2027-05-10T00:00:00Z' });
    await pollApi(viewer, `/api/triggers/${id}/plans`, (p: { userId: string; due: string }[]) => p.some((x) => x.userId === u2!.id && x.due === '2027-05-03'));
    // Cleared: the plan is cancelled.
    await patchUser(u3!.id, { employeeHireDate: null });
    await pollApi(viewer, `/api/triggers/${id}/plans`, (p: { userId: string; status: string }[]) => p.some((x) => x.userId === u3!.id && x.status === 'cancelled'));
    assert.deepEqual(await runsOf('preboard-date'), [], 'nothing is due yet');

    // The day comes for u1: one run, however often the trigger is evaluated that day.
    fixedMs = Date.parse('2027-03-03T09:00:00Z');
    await server.triggers.tick();
    const one = await waitRuns('preboard-date', 1);
    assert.equal(one.length, 1);
    const run = await pollApi(viewer, `/api/runs/${one[0]}`, (r) => r.status === 'succeeded');
    assert.deepEqual(run.inputs, { upn: u1!.userPrincipalName, day: '2027-03-10' });
    assert.equal((await planOf(u1!))!.status, 'started');
    assert.equal((await planOf(u1!))!.runId, one[0]);
    fixedMs = Date.parse('2027-03-03T11:00:00Z');
    await server.triggers.tick();
    // u3's old day and u2's old day pass: nothing starts.
    fixedMs = Date.parse('2027-03-14T11:00:00Z');
    await server.triggers.tick();
    fixedMs = Date.parse('2027-04-04T11:00:00Z');
    await server.triggers.tick();
    assert.deepEqual(await runsOf('preboard-date'), one);
    // u2's new day: its one run.
    fixedMs = Date.parse('2027-05-03T07:00:00Z');
    await server.triggers.tick();
    const two = await waitRuns('preboard-date', 2);
    assert.equal(two.length, 2);
    const u2run = two.find((r) => r !== one[0])!;
    assert.deepEqual((await pollApi(viewer, `/api/runs/${u2run}`, (r) => r.status === 'succeeded')).inputs, { upn: u2!.userPrincipalName, day: '2027-05-10' });
    fixedMs = Date.parse('2027-05-04T07:00:00Z');
    await server.triggers.tick();
    assert.deepEqual(await runsOf('preboard-date'), two, 'each user once per date');
    assert.equal((await planOf(u3!))!.status, 'cancelled');

    const audit = ((await server.admin.call('GET', `/api/audit?target=${id}`)).body as { action: string }[]).map((e) => e.action);
    for (const a of ['trigger.created', 'trigger.plan-changed', 'trigger.plan-cancelled', 'trigger.fired']) assert.ok(audit.includes(a), `${a} audited`);
    fixedMs = undefined;
  });
});
