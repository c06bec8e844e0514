// A graph trigger's subscription kept alive, read back through Microsoft Graph (the sandbox over
// HTTPS, the real server, Temporal and worker):
// - near expiry it is renewed: "26 days later" (the sandbox's clock and the keeper's moved together;
//   a keeper a day later leaves it alone), PATCH /subscriptions/{id} moves its expirationDateTime;
// - expired meanwhile (30 days on), it is created again without a PATCH; removed at Microsoft, the
//   renewal's 404 makes the keeper subscribe again, and the new subscription's notifications start
//   the trigger's run;
// - reauthorizationRequired: Graph holds the subscription's change notifications until the app
//   reauthorizes; the keeper sends one PATCH (reauthorize and renew in one, as Microsoft asks), no
//   reauthorize call next to it, and the notifications flow again.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TriggerWatcher } from '../server/triggers-m365.ts';
import { pollApi, startApiServerOverHttps, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const DAY_S = 24 * 3600;

let env: TestEnv;
let server: ApiServer;
let closeHttps: () => Promise<void>;
let httpsBase: string;
let designer: Caller;
const tag = randomUUID().slice(0, 6);

before(async () => {
  env = await startTestEnv();
  // Graph calls notification URLs over HTTPS only.
  ({ server, httpsBase, close: closeHttps } = await startApiServerOverHttps(env));
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  const definition = { name: 'Renewal target', inputs: [{ name: 'upn', type: 'string', required: true }], nodes: [{ id: 'done', kind: 'end', status: 'succeeded', message: '{{ inputs.upn }}' }], edges: [] };
  assert.equal((await designer.call('POST', '/api/runbooks', { id: 'renew-evt', definition })).status, 201);
  assert.equal((await designer.call('POST', '/api/runbooks/renew-evt/publish', {})).status, 201);
});
after(async () => {
  await closeHttps?.();
  await env?.close();
});

type GraphSubscription = { id: string; expirationDateTime: string; notificationUrl: string };
const readSubscription = (id: string) => env.graph.api(`/subscriptions/${id}`).get() as Promise<GraphSubscription>;
const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;

/** A graph trigger on updated users whose jobTitle becomes `title`; its id once it is subscribed. */
async function graphTrigger(title: string): Promise<{ id: string; subscriptionId: string }> {
  const created = await designer.call('POST', '/api/triggers', {
    kind: 'graph',
    name: `Title ${title}`,
    runbookId: 'renew-evt',
    graph: { changeType: 'updated' },
    filter: `changeType = 'updated' and user.jobTitle = '${title}'`,
    inputs: { upn: 'user.userPrincipalName' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const t = await pollApi(designer, `/api/triggers/${created.body.id}`, (x) => !!x.watch?.syncedAt && !!x.watch?.subscriptionId);
  assert.equal(t.watch.mode, 'notifications');
  return { id: created.body.id as string, subscriptionId: t.watch.subscriptionId as string };
}

/**
 * The trigger keeper as a server started `days` later would run it: its clock and Microsoft's
 * (the sandbox's) both moved by `days` for one round. A new keeper, like a restarted server, asks
 * Entra for a token at that time.
 */
async function keeperRound(days: number): Promise<void> {
  const keeper = new TriggerWatcher(server.services, { publicUrl: httpsBase, wallClock: () => Date.now() + days * DAY_S * 1000, log: (m) => console.warn(`keeper: ${m}`) });
  env.sandbox.admin.advanceClock(days * DAY_S);
  try {
    await keeper.tick();
  } finally {
    env.sandbox.admin.advanceClock(-days * DAY_S);
  }
}

/** Writes the sandbox received for a subscription (method, path, status; oldest first; not this test's reads). */
const subscriptionCalls = (id: string) =>
  env.sandbox.admin
    .requestLog()
    .filter((r) => r.path.includes(`/subscriptions/${id}`) && r.method !== 'GET')
    .map((r) => `${r.method} ${r.path.replace(/^\/v1\.0/, '').split('?')[0]} ${r.status}`);

const members = async (n: number) => {
  const page = (await env.graph.api('/users').select(['id', 'userPrincipalName', 'accountEnabled', 'userType']).top(50).get()) as { value: { id: string; userPrincipalName: string; accountEnabled: boolean; userType: string }[] };
  return page.value.filter((u) => u.accountEnabled && u.userType === 'Member').slice(0, n);
};
const runsOf = async () => ((await designer.call('GET', '/api/runs?runbook=renew-evt&pageSize=200')).body.runs as { id: string; inputs?: Record<string, unknown> }[]).map((r) => r.id).sort();
const waitRuns = async (n: number) => {
  for (let i = 0; i < 600; i++) {
    const runs = await runsOf();
    if (runs.length >= n) return runs;
    await new Promise((r) => setTimeout(r, 100));
  }
  return runsOf();
};
const audit = async (id: string) => ((await server.admin.call('GET', `/api/audit?target=${id}`)).body as { action: string }[]).map((e) => e.action);

describe('graph trigger subscriptions kept alive', () => {
  it('the sandbox holds change notifications after reauthorizationRequired until the app reauthorizes, as Graph does', { timeout: 300_000 }, async () => {
    const { id } = await graphTrigger(`Held ${tag}`);
    // A subscription of this test's own on the trigger's URL (which answers the handshake; its
    // notifications are refused there for their clientState: what counts is that Graph sent them).
    const url = `${httpsBase}/api/graph-notifications/${id}`;
    const own = (await env.graph.api('/subscriptions').post({ changeType: 'updated', resource: 'users', notificationUrl: url, lifecycleNotificationUrl: url, expirationDateTime: new Date(Date.now() + 3600_000).toISOString(), clientState: 'own' })) as GraphSubscription;
    const [u] = await members(1);
    const changes = () => env.sandbox.admin.notifications.deliveries(own.id).filter((d) => d.kind === 'change').length;
    await env.graph.api(`/users/${u!.id}`).patch({ officeLocation: `A ${tag}` });
    for (let i = 0; i < 100 && changes() < 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(changes(), 1, 'a change is notified');

    await env.sandbox.admin.notifications.lifecycle(own.id, 'reauthorizationRequired');
    await env.graph.api(`/users/${u!.id}`).patch({ officeLocation: `B ${tag}` });
    // The sandbox sends after answering the write (setImmediate): a later request has passed it.
    await env.graph.api(`/users/${u!.id}`).get();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(changes(), 1, 'held until reauthorized');

    await env.graph.api(`/subscriptions/${own.id}/reauthorize`).post({});
    assert.equal((await readSubscription(own.id)).expirationDateTime, own.expirationDateTime, 'reauthorize keeps the expiry');
    await env.graph.api(`/users/${u!.id}`).patch({ officeLocation: `C ${tag}` });
    for (let i = 0; i < 100 && changes() < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(changes(), 2, 'the flow resumes');
    await env.graph.api(`/subscriptions/${own.id}`).delete();
    assert.equal(statusOf(await env.graph.api(`/subscriptions/${own.id}`).patch({ expirationDateTime: new Date(Date.now() + 3600_000).toISOString() }).catch((e) => e)), 404, 'a PATCH of a deleted subscription is 404');
    assert.equal((await designer.call('DELETE', `/api/triggers/${id}`)).status, 200);
  });

  it('renews the subscription when it nears expiry: its expirationDateTime, read back through Graph, moves', { timeout: 300_000 }, async () => {
    const { id, subscriptionId } = await graphTrigger(`Renewed ${tag}`);
    const first = await readSubscription(subscriptionId);
    const firstExpiry = Date.parse(first.expirationDateTime);
    assert.ok(firstExpiry - Date.now() > 27 * DAY_S * 1000, `a 28-day subscription: ${first.expirationDateTime}`);

    // A day later nothing is due: no request for the subscription.
    const before = subscriptionCalls(subscriptionId).length;
    await keeperRound(1);
    assert.deepEqual(subscriptionCalls(subscriptionId).slice(before), [], 'renewed too early');
    assert.equal((await readSubscription(subscriptionId)).expirationDateTime, first.expirationDateTime);

    // 26 days later (2 days left, under the 3-day margin): renewed for another 28 days.
    await keeperRound(26);
    assert.deepEqual(subscriptionCalls(subscriptionId).slice(before), [`PATCH /subscriptions/${subscriptionId} 200`]);
    const renewed = await readSubscription(subscriptionId);
    assert.equal(renewed.id, subscriptionId, 'the same subscription');
    assert.ok(Date.parse(renewed.expirationDateTime) - firstExpiry > 25 * DAY_S * 1000, `moved from ${first.expirationDateTime} to ${renewed.expirationDateTime}`);
    const t = (await designer.call('GET', `/api/triggers/${id}`)).body;
    assert.equal(Date.parse(t.watch.subscriptionExpiresAt), Date.parse(renewed.expirationDateTime), 'the trigger shows the new expiry');
    assert.ok((await audit(id)).includes('trigger.subscription-renewed'));
    assert.equal((await designer.call('DELETE', `/api/triggers/${id}`)).status, 200);
  });

  it('subscribes again when the subscription expired meanwhile (the server was down past its expiry): no PATCH of a dead subscription', { timeout: 300_000 }, async () => {
    const title = `Expired ${tag}`;
    const { id, subscriptionId } = await graphTrigger(title);
    // While the subscription is lapsed nothing is notified: a change the trigger wants happens then.
    const runsBefore = await runsOf();
    const [u] = await members(1);
    env.sandbox.admin.notifications.pause(true);
    try {
      await env.graph.api(`/users/${u!.id}`).patch({ jobTitle: title });
    } finally {
      env.sandbox.admin.notifications.pause(false);
    }
    const before = subscriptionCalls(subscriptionId).length;
    await keeperRound(30);
    assert.deepEqual(subscriptionCalls(subscriptionId).slice(before), [], 'nothing sent for the expired subscription');
    const t = (await designer.call('GET', `/api/triggers/${id}`)).body;
    assert.ok(t.watch.subscriptionId && t.watch.subscriptionId !== subscriptionId, JSON.stringify(t.watch));
    // Made 30 days on, for 28 more days: read back through Graph (its clock is back at today).
    const fresh = await readSubscription(t.watch.subscriptionId);
    assert.ok(Date.parse(fresh.expirationDateTime) - Date.now() > 57 * DAY_S * 1000, fresh.expirationDateTime);
    assert.equal(fresh.notificationUrl, `${httpsBase}/api/graph-notifications/${id}`);
    // The keeper caught up at once with a delta round: the change made meanwhile started its run.
    const runs = await waitRuns(runsBefore.length + 1);
    assert.equal(runs.length, runsBefore.length + 1, 'the change missed while the subscription was lapsed starts its run');
    assert.equal((await designer.call('DELETE', `/api/triggers/${id}`)).status, 200);
    await env.graph.api(`/users/${u!.id}`).patch({ jobTitle: null });
  });

  it('re-creates a subscription removed at Microsoft (404 on renewal), and its notifications start the run', { timeout: 600_000 }, async () => {
    const title = `Recreated ${tag}`;
    const { id, subscriptionId } = await graphTrigger(title);
    // Removed at Microsoft without a word to the server.
    await env.graph.api(`/subscriptions/${subscriptionId}`).delete();

    await keeperRound(26);
    assert.deepEqual(subscriptionCalls(subscriptionId).slice(-1), [`PATCH /subscriptions/${subscriptionId} 404`]);
    const t = (await designer.call('GET', `/api/triggers/${id}`)).body;
    assert.ok(t.watch.subscriptionId && t.watch.subscriptionId !== subscriptionId, JSON.stringify(t.watch));
    const again = await readSubscription(t.watch.subscriptionId);
    assert.equal(again.notificationUrl, `${httpsBase}/api/graph-notifications/${id}`);
    assert.equal(statusOf(await readSubscription(subscriptionId).catch((e) => e)), 404);
    const actions = await audit(id);
    assert.ok(actions.includes('trigger.subscription-gone') && actions.filter((a) => a === 'trigger.subscribed').length === 2, actions.join(', '));

    // The new subscription's notification (with its new clientState) starts the one run.
    const runsBefore = await runsOf();
    const [u] = await members(1);
    await env.graph.api(`/users/${u!.id}`).patch({ jobTitle: title });
    const runs = await waitRuns(runsBefore.length + 1);
    assert.equal(runs.length, runsBefore.length + 1);
    const delivered = env.sandbox.admin.notifications.deliveries(again.id).filter((d) => d.kind === 'change');
    assert.ok(delivered.some((d) => d.status === 202), JSON.stringify(delivered.map((d) => d.status)));
    assert.equal((await designer.call('DELETE', `/api/triggers/${id}`)).status, 200);
    await env.graph.api(`/users/${u!.id}`).patch({ jobTitle: null });
  });

  it('reauthorizationRequired: one PATCH reauthorizes and renews, no reauthorize beside it, and notifications flow again', { timeout: 600_000 }, async () => {
    const title = `Reauthorized ${tag}`;
    const { id, subscriptionId } = await graphTrigger(title);
    const beforeCalls = subscriptionCalls(subscriptionId).length;
    const sent = await env.sandbox.admin.notifications.lifecycle(subscriptionId, 'reauthorizationRequired');
    assert.equal(sent?.status, 202, 'the lifecycle notification is acknowledged with 202');
    for (let i = 0; i < 600 && !subscriptionCalls(subscriptionId).slice(beforeCalls).length; i++) await new Promise((r) => setTimeout(r, 100));
    // Let the keeper finish its catch-up round, then look at everything it sent.
    for (let i = 0; i < 600 && !(await audit(id)).includes('trigger.subscription-renewed'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(subscriptionCalls(subscriptionId).slice(beforeCalls), [`PATCH /subscriptions/${subscriptionId} 200`]);

    const runsBefore = await runsOf();
    const [u] = await members(1);
    await env.graph.api(`/users/${u!.id}`).patch({ jobTitle: title });
    const runs = await waitRuns(runsBefore.length + 1);
    assert.equal(runs.length, runsBefore.length + 1, 'the notification after reauthorization starts the run');
    assert.ok(env.sandbox.admin.notifications.deliveries(subscriptionId).some((d) => d.kind === 'change' && d.status === 202));
    assert.equal((await designer.call('DELETE', `/api/triggers/${id}`)).status, 200);
    await env.graph.api(`/users/${u!.id}`).patch({ jobTitle: null });
  });
});
