// The worker's throttle gate: one budget per Microsoft service and resource, with the documented quotas.
// Classification of Graph requests, separation of budgets (a throttled service holds only itself), and
// the Exchange and SharePoint transports drawing from their own budgets of the same app-and-tenant gate
// (against the sandbox, through the real transports).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { graphBudget, QUOTAS, SIGNAL_WINDOW_MS, ThrottleGate, gateFor, runOnQueueTurn, sharepointBudget, exchangeBudget } from '../m365/throttle.ts';
import { createSharePointClient } from '../m365/sharepoint.ts';
import { createExchangeClient } from '../m365/exchange.ts';
import { graphClientCache } from '../m365/graph.ts';
import { sandboxTenant } from './harness.ts';
import type { TenantConnection } from '../m365/tenants.ts';

describe('which budget a Graph request draws from', () => {
  const g = 'https://graph.microsoft.com/v1.0';
  it('Entra ID: writes apart from reads, reads costed in resource units with the documented modifiers', () => {
    assert.equal(graphBudget('POST', `${g}/users`).key, 'directory:write');
    assert.deepEqual(graphBudget('POST', `${g}/users`).quotas, [QUOTAS.directoryWrite]);
    assert.equal(graphBudget('PATCH', `${g}/groups/abc`).key, 'directory:write');
    const list = graphBudget('GET', `${g}/users`);
    assert.deepEqual([list.key, list.cost], ['directory:read', 2]);
    assert.equal(graphBudget('GET', `${g}/users?$select=id`).cost, 1, '$select lowers the cost by 1');
    assert.equal(graphBudget('GET', `${g}/groups/abc/transitiveMembers?$expand=x`).cost, 6, '$expand raises it by 1');
    assert.equal(graphBudget('GET', `${g}/users/abc?$select=id&$top=5`).cost, 1, 'never below 1');
    assert.equal(graphBudget('POST', `${g}/directoryObjects/getByIds`).key, 'directory:read', 'getByIds costs no write');
  });

  it('Intune: writes 100 per 20 s', () => {
    const w = graphBudget('POST', `${g}/deviceManagement/managedDevices/1/retire`);
    assert.equal(w.key, 'intune:write');
    assert.deepEqual([w.quotas[0]!.units, w.quotas[0]!.perMs], [100, 20_000]);
    assert.equal(graphBudget('GET', `${g}/users/abc/managedDevices`).key, 'intune:read');
  });

  it('Teams: creating teams, teaming up groups, deletes, lists and the rest have their own rates', () => {
    assert.equal(graphBudget('POST', `${g}/teams`).key, 'teams:create');
    assert.equal(graphBudget('PUT', `${g}/groups/abc/team`).key, 'teams:fromGroup');
    assert.equal(graphBudget('DELETE', `${g}/teams/abc/channels/x`).key, 'teams:delete');
    assert.equal(graphBudget('GET', `${g}/teams/abc/members`).key, 'teams:list');
    assert.equal(graphBudget('POST', `${g}/admin/teams/policy/userAssignments/assign`).service, 'teams');
    assert.equal(graphBudget('GET', `${g}/users/abc/joinedTeams`).service, 'teams');
  });

  it('Outlook per mailbox, SharePoint and OneDrive in resource units', () => {
    assert.equal(graphBudget('POST', `${g}/users/anna@contoso.com/sendMail`).key, 'outlook:anna@contoso.com');
    assert.equal(graphBudget('GET', `${g}/users/bob@contoso.com/mailboxSettings`).key, 'outlook:bob@contoso.com');
    const sites = graphBudget('GET', `${g}/sites/root`);
    assert.deepEqual([sites.service, sites.cost], ['sharepoint', 1]);
    assert.equal(graphBudget('GET', `${g}/drives/b!x/root/children`).cost, 2, 'a multi-item query costs 2');
    assert.equal(graphBudget('POST', `${g}/users/abc/drive/root/children`).cost, 2, 'a write costs 2');
    assert.equal(graphBudget('GET', `${g}/users/abc/drive`).service, 'sharepoint');
  });
});

/** A fake request answering with `status` (and Retry-After seconds). */
const answer = (status: number, retryAfter?: number) => async () => ({ status, headers: new Headers(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }) });

describe('budgets are separate', () => {
  it('a throttled service holds its own budget, not the others', async () => {
    const gate = new ThrottleGate();
    const intune = graphBudget('POST', '/deviceManagement/managedDevices/1/syncDevice');
    const directory = graphBudget('POST', '/users');
    await gate.send(intune, undefined, answer(429, 120));
    assert.ok(gate.state()['intune:write']!.heldForMs > 60_000, 'Intune is held for its Retry-After');
    // Entra writes go on at once while Intune waits.
    const held = new AbortController();
    let intuneSent = false;
    const waiting = gate.send(intune, held.signal, async () => {
      intuneSent = true;
      return { status: 204, headers: new Headers() };
    });
    await gate.send(directory, undefined, answer(201));
    await gate.send(sharepointBudget(), undefined, answer(200));
    await gate.send(exchangeBudget(), undefined, answer(200));
    assert.equal(intuneSent, false, 'the held Intune request has not been sent');
    assert.equal(gate.state()['directory:write']!.heldForMs, 0);
    held.abort(new Error('step cancelled'));
    await assert.rejects(waiting, /step cancelled/);
    assert.equal(intuneSent, false);
  });

  it('starts below the documented ceiling, steps down on a 429 and approaches the limit it learned from below', async () => {
    const gate = new ThrottleGate({ rate: 40 });
    const teams = graphBudget('POST', '/teams/abc/channels'); // Teams' other calls: 30 rps
    await gate.send(teams, undefined, answer(200));
    assert.equal(gate.state()['teams:write']!.rate, 25.8, 'starts at 85% of 30 rps, +1% of the ceiling per success');
    await gate.send(teams, undefined, answer(429));
    await gate.send(graphBudget('GET', '/users'), undefined, answer(200));
    assert.equal(gate.state()['teams:write']!.rate, 20.64, '80% of the rate that drew the 429');
    assert.equal(gate.state()['directory:read']!.rate, 41.75, 'the other budget is untouched (40 + 1% of its 175 rps ceiling)');
    for (let i = 0; i < 100; i++) await gate.send(teams, undefined, answer(200));
    const rate = gate.state()['teams:write']!.rate;
    // Fast (0.3 rps a step) up to 95% of the learned 25.8, then 0.03 rps a step: 100 successes climb
    // well under 30 (the ceiling) -- at 1% steps throughout it would be there.
    assert.ok(rate > 0.95 * 25.8 && rate < 25.8 + 100 * 0.03, `climbs back fast, then slowly near the learned limit (${rate})`);
    assert.ok(rate < 30);
  });

  it('several 429s are one signal: one step-down and one hold of exactly the Retry-After per window (issue 16, finding 13)', async () => {
    const gate = new ThrottleGate({ rate: 40 });
    const teams = graphBudget('POST', '/teams/abc/channels'); // Teams' other calls: 30 rps, starts at 25.5
    // Two requests on their way together, both answered 429 (Retry-After 1 s): one event.
    let release!: () => void;
    const answered = new Promise<void>((r) => (release = r));
    const both = [0, 1].map(() => gate.send(teams, undefined, async () => (await answered, { status: 429, headers: new Headers({ 'retry-after': '1' }) })));
    setTimeout(release, 200);
    await Promise.all(both);
    assert.equal(gate.state()['teams:write']!.rate, 20.4, 'stepped down once, to 80% of 25.5');
    const held = gate.state()['teams:write']!.heldForMs;
    assert.ok(held > 0 && held <= 1000, `held for the Retry-After, not twice (${held} ms)`);
    // Sent after the hold, within the window: that request waits its own Retry-After; the budget
    // is neither stepped down nor held again (a storm of random 429s does not keep it at its floor).
    await gate.send(teams, undefined, answer(429, 1));
    assert.equal(gate.state()['teams:write']!.rate, 20.4);
    assert.equal(gate.state()['teams:write']!.heldForMs, 0);
    // After the window a 429 is a new signal.
    await new Promise((r) => setTimeout(r, SIGNAL_WINDOW_MS));
    await gate.send(teams, undefined, answer(429, 1));
    assert.equal(gate.state()['teams:write']!.rate, 16.32, 'a new step-down after the window');
    assert.ok(gate.state()['teams:write']!.heldForMs > 0);
  });

  it('a 503, a 504 or a lost answer is not throttling: the rate stays and nothing is held', async () => {
    const gate = new ThrottleGate();
    const writes = graphBudget('POST', '/users'); // 20 writes per second
    await gate.send(writes, undefined, answer(503, 5));
    await gate.send(writes, undefined, answer(504));
    await gate.send(writes, undefined, async () => undefined);
    assert.equal(gate.state()['directory:write']!.rate, 17);
    assert.equal(gate.state()['directory:write']!.heldForMs, 0);
    // SharePoint documents 503 with Retry-After as its throttled answer.
    await gate.send(sharepointBudget(), undefined, answer(503, 5));
    assert.ok(gate.state()['sharepoint']!.heldForMs > 4000);
  });

  it('a quota sets its budget\'s pace: below it, the next write waits while other budgets go on', async () => {
    const gate = new ThrottleGate({ rate: 1000, maxRate: 1000 });
    // Intune's writes, on a quota of 100 per hour so the test does not depend on the clock: the
    // budget starts at 85% of that ceiling, so after one write the next waits (about 42 s).
    const writes = { ...graphBudget('POST', '/deviceManagement/managedDevices/1/syncDevice'), quotas: [{ units: 100, perMs: 3_600_000, source: 'test' }] };
    await gate.send(writes, undefined, answer(204));
    const next = new AbortController();
    let sent = false;
    const waiting = gate.send(writes, next.signal, async () => {
      sent = true;
      return { status: 204, headers: new Headers() };
    });
    // Intune reads draw from their own budget: not held back by the writes' pace.
    await gate.send(graphBudget('GET', '/deviceManagement/managedDevices'), undefined, answer(200));
    assert.equal(sent, false, 'the second write waits for its pace');
    assert.equal(gate.state()['intune:write']!.queued, 1);
    assert.ok(gate.state()['intune:write']!.rate < (100 / 3600) * 0.9, 'the pace starts below the documented ceiling');
    next.abort(new Error('cancelled'));
    await assert.rejects(waiting, /cancelled/);
  });
});

describe('a step a budget queue dispatched goes on the queue\'s turn', () => {
  // Intune's writes on a quota of 100 per hour, so the gate's spacing (about 42 s) outlasts the test.
  const slow = { ...graphBudget('POST', '/deviceManagement/managedDevices/1/syncDevice'), quotas: [{ units: 100, perMs: 3_600_000, source: 'test' }] };
  const QUEUE_RATE = 0.027;
  /** A request that records whether it was sent, cancelled with `stop`. */
  const tracked = (gate: ThrottleGate, spec: typeof slow) => {
    const stop = new AbortController();
    const t = { sent: false, stop: () => stop.abort(new Error('cancelled')), done: undefined as unknown as Promise<unknown> };
    t.done = gate.send(spec, stop.signal, async () => ((t.sent = true), { status: 204, headers: new Headers() }));
    return t;
  };

  it('its first write of the budget is not paced at the gate\'s rate, only under the ceiling; its next write and other requests are', async () => {
    // A gate whose rate is far below the ceiling (1,000 per second: 1 ms apart): 0.01 per second.
    const gate = new ThrottleGate({ startShare: 0.00001 });
    // (Exchange's budget, which has no documented ceiling, only lets the other requests run meanwhile.)
    const fast = { ...graphBudget('POST', '/users'), quotas: [{ units: 1000, perMs: 1000, source: 'test' }] };
    await gate.send(fast, undefined, answer(201));
    const waiting = tracked(gate, fast);
    await gate.send(exchangeBudget(), undefined, answer(200));
    assert.equal(waiting.sent, false, 'a write sent outside a queue turn waits for the gate\'s rate');
    let second!: ReturnType<typeof tracked>;
    await runOnQueueTurn('directory:write', 19.6, async () => {
      await gate.send(fast, undefined, answer(201));
      second = tracked(gate, fast);
    });
    await gate.send(exchangeBudget(), undefined, answer(200));
    assert.equal(second.sent, false, 'the step\'s second write is paced by the gate');
    assert.equal(waiting.sent, false);
    // A turn of another budget's queue does not let this budget's writes through.
    const other = await runOnQueueTurn('intune:write', 4.9, async () => tracked(gate, fast));
    await gate.send(exchangeBudget(), undefined, answer(200));
    assert.equal(other.sent, false);
    const state = gate.state()['directory:write']!;
    assert.deepEqual([state.queueTurns, state.queued, state.spacingQueueTurns], [1, 3, false]);
    for (const t of [waiting, second, other]) t.stop();
    for (const t of [waiting, second, other]) await assert.rejects(t.done, /cancelled/);
  });

  it('its turns are spaced at the documented ceiling within the process', async () => {
    const gate = new ThrottleGate();
    // 100 an hour: once a turn went, the next waits about 36 s, however fast the queue dispatches.
    await runOnQueueTurn('intune:write', 1000, () => gate.send(slow, undefined, answer(204)));
    const next = await runOnQueueTurn('intune:write', 1000, async () => tracked(gate, slow));
    await gate.send(graphBudget('GET', '/users'), undefined, answer(200));
    assert.equal(next.sent, false);
    assert.equal(gate.state()['intune:write']!.queueTurns, 1);
    next.stop();
    await assert.rejects(next.done, /cancelled/);
  });

  it('a 429 still holds a queue turn for the Retry-After, then spaces the turns until the rate is back at the queue\'s', async () => {
    const gate = new ThrottleGate();
    await runOnQueueTurn('intune:write', QUEUE_RATE, () => gate.send(slow, undefined, answer(429, 120)));
    assert.ok(gate.state()['intune:write']!.heldForMs > 60_000);
    const held = await runOnQueueTurn('intune:write', QUEUE_RATE, async () => tracked(gate, slow));
    await gate.send(graphBudget('GET', '/users'), undefined, answer(200));
    assert.equal(held.sent, false, 'the turn waits for the Retry-After');
    held.stop();
    await assert.rejects(held.done, /cancelled/);

    // A budget fast enough to climb back in a few requests: 1,000 per second, starting at 850.
    const fast = { ...graphBudget('POST', '/users'), quotas: [{ units: 1000, perMs: 1000, source: 'test' }] };
    const turn = (status: number) => runOnQueueTurn('directory:write', 700, () => gate.send(fast, undefined, answer(status)));
    await turn(429);
    let s = gate.state()['directory:write']!;
    assert.deepEqual([s.rate, s.spacingQueueTurns, s.queueTurns, s.heldForMs], [680, true, 1, 0], 'stepped down to 80%, no Retry-After: spaced, not held');
    await turn(201);
    s = gate.state()['directory:write']!;
    assert.deepEqual([s.spacingQueueTurns, s.queueTurns], [true, 1], 'a turn while recovering waits for the spacing');
    await gate.send(fast, undefined, answer(201));
    s = gate.state()['directory:write']!;
    assert.ok(s.rate >= 700, String(s.rate));
    assert.equal(s.spacingQueueTurns, false, 'back at the queue\'s rate');
    await turn(201);
    assert.equal(gate.state()['directory:write']!.queueTurns, 2);
  });
});

describe('the transports share one gate per app and tenant, each service in its own budget', () => {
  let sb: Sandbox;
  let conn: TenantConnection;
  before(async () => {
    sb = await startSandbox({ seed: 5, users: 30 });
    const base = sandboxTenant(sb);
    conn = { ...base, name: 'gate-test', clientSecret: '', certificatePem: sb.admin.createAppCertificate(base.clientId).pem };
  });
  after(() => sb.close());

  it('Graph, SharePoint REST and the Exchange admin API draw from their own budgets of gateFor(connection)', async () => {
    const graph = graphClientCache()(conn);
    await graph.api('/users').top(1).get();
    const sp = createSharePointClient(conn);
    const hosts = await sp.hosts();
    const props = await sp.admin<{ Url: string }>('POST', 'SPO.Tenant/GetSitePropertiesByUrl', { url: hosts.root });
    assert.equal(props.Url, hosts.root);
    await createExchangeClient(conn).invoke('Get-Mailbox', { ResultSize: 1 });
    const state = gateFor(conn).state();
    assert.deepEqual(Object.keys(state).sort(), ['directory:read', 'exchange', 'sharepoint']);
    assert.deepEqual([state['directory:read']!.service, state['sharepoint']!.service, state['exchange']!.service], ['directory', 'sharepoint', 'exchange']);
    assert.equal(state['sharepoint']!.quotaLeft.length, 2, 'per-minute and per-day resource units');
  });
});
