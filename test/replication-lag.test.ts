// Replication lag (issue 16, finding 11): with the sandbox answering 404 for a new directory object
// for 5 s (as Entra replicas do), create user -> assign licence -> add to group completes: each later
// step waits the lag out inside its attempt instead of failing for good. With a window shorter
// than the lag the step fails, non-retryable, saying how long it waited.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunbookDefinitionInput } from '../runbook/definition.ts';
import { startTestEnv, statuses, type TestEnv } from './harness.ts';
import { nextReplicationDelay, REPLICATION_POLL_FIRST_MS } from '../worker/replication.ts';

// Set before the worker's first lookup (the worker runs in this process and reads it per step).
process.env.TENANTFLOW_REPLICATION_WAIT_SECONDS = '30';
let env: TestEnv;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  env?.sandbox.admin.setFaults({});
  await env?.close();
});

const onboarding = (upn: string): RunbookDefinitionInput => ({
  name: 'onboarding under replication lag',
  nodes: [
    { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: upn, displayName: 'Lagging User', usageLocation: 'US' } },
    { id: 'licence', kind: 'action', action: 'licence.assign', params: { user: upn, licences: ['SPE_E3'] } },
    { id: 'group', kind: 'action', action: 'group.addMember', params: { user: '{{ steps.create.output.id }}', group: 'All Company' } },
  ],
  edges: [
    { source: 'create', target: 'licence' },
    { source: 'licence', target: 'group' },
  ],
});

describe('replication lag', () => {
  it('create user, assign licence, add to group: every step completes, each write done once', { timeout: 300_000 }, async () => {
    const upn = `lag.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    env.sandbox.admin.setFaults({ replicationLagSeconds: 5 });
    const final = await (await env.start(onboarding(upn))).result();
    assert.deepEqual(statuses(final), { create: 'succeeded', licence: 'succeeded', group: 'succeeded' }, JSON.stringify(final.nodes, null, 2));
    env.sandbox.admin.setFaults({});
    const users = (await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).select('id,assignedLicenses').get()).value;
    assert.equal(users.length, 1, 'one user');
    assert.equal(users[0].assignedLicenses.length, 1, 'the licence is assigned');
    const groups = (await env.graph.api(`/users/${users[0].id}/memberOf`).get()).value.map((g: { displayName: string }) => g.displayName);
    assert.ok(groups.includes('All Company'), `member of All Company (${groups.join(', ')})`);
  });

  it('a window shorter than the lag: the step fails for good, saying it waited for replication', { timeout: 300_000 }, async () => {
    const upn = `lagshort.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    process.env.TENANTFLOW_REPLICATION_WAIT_SECONDS = '1';
    env.sandbox.admin.setFaults({ replicationLagSeconds: 20 });
    try {
      const h = await env.start(onboarding(upn));
      await assert.rejects(h.result(), /failed/i, 'the run fails at the licence step');
      const final = await env.state(h);
      assert.equal(final.nodes.create?.status, 'succeeded');
      assert.equal(final.nodes.licence?.status, 'failed');
      assert.match(JSON.stringify(final.nodes.licence), /does not exist.*still not found after waiting \d+ s for directory replication/);
    } finally {
      process.env.TENANTFLOW_REPLICATION_WAIT_SECONDS = '30';
      env.sandbox.admin.setFaults({});
    }
  });
});

describe('the lookups while waiting for replication (issue 16, finding 13)', () => {
  it('poll on a short, growing interval: a 5 s lag is seen within a second of its end', () => {
    // The times of the lookups after the first, from the schedule waitOutReplication follows.
    const at: number[] = [];
    for (let t = 0, d = REPLICATION_POLL_FIRST_MS; t <= 30_000; d = nextReplicationDelay(d)) at.push((t += d));
    const gaps = at.map((t, i) => t - (at[i - 1] ?? 0));
    assert.ok(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]!), 'growing');
    assert.ok(Math.max(...gaps) <= 1000, `at most a second apart (${gaps.join(', ')})`);
    const seen = at.find((t) => t >= 5000)!;
    assert.ok(seen - 5000 <= 1000, `the object appearing at 5 s is found at ${seen} ms`);
  });
});
