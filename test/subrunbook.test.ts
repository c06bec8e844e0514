// Sub-runbooks on real Temporal: a runbook runs another published runbook as a child workflow of
// the same interpreter. Nesting two levels deep with outputs read downstream, a child's failure
// carried up, a cancellation carried down to the child, forEach running a sub-runbook per item,
// and the validator refusing a call back to itself through a chain.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { RunbookDefinition, type RunbookDefinitionInput } from '../runbook/definition.ts';
import { pinSubRunbooks, type ChildResolver } from '../runbook/subrunbooks.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { startTestEnv, statuses, type TestEnv } from './harness.ts';

let env: TestEnv;
before(async () => {
  env = await startTestEnv();
});
after(async () => env?.close());

/** Published runbooks of this test: id -> definition (pinned as the server pins at publish). */
const published = new Map<string, RunbookDefinition>();
const resolver: ChildResolver = (id) => {
  const d = published.get(id);
  return d ? { found: true, archived: false, version: { version: 1, definition: d } } : { found: false };
};
function publish(id: string, raw: RunbookDefinitionInput): RunbookDefinition {
  const checked = validateRunbook(raw, { self: id, resolve: resolver });
  assert.ok(checked.ok, JSON.stringify(checked.problems));
  const def = pinSubRunbooks(checked.definition, resolver);
  published.set(id, def);
  return def;
}

const tag = randomUUID().slice(0, 6);
const upn = (who: string) => `${who}.${tag}@${env.sandbox.tenant.domain}`;

describe('sub-runbooks', () => {
  it('nests two levels: the grandchild creates the user, outputs read back up, the user is in the tenant', async () => {
    publish('create-account', {
      name: 'Create the account',
      inputs: [{ name: 'upn', type: 'user', required: true }],
      nodes: [{ id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Sub {{ inputs.upn }}' }, retry: { maximumAttempts: 1 } }],
    });
    publish('set-up-account', {
      name: 'Set up the account',
      inputs: [{ name: 'upn', type: 'user', required: true }],
      nodes: [
        { id: 'account', kind: 'subRunbook', runbook: 'create-account', inputs: { upn: '{{ inputs.upn }}' } },
        { id: 'dept', kind: 'action', action: 'user.update', params: { user: '{{ steps.account.output.steps.create.output.id }}', department: 'Sub' }, retry: { maximumAttempts: 1 } },
      ],
      edges: [{ source: 'account', target: 'dept' }],
    });
    const parent = publish('onboard', {
      name: 'Onboard',
      inputs: [{ name: 'who', type: 'user', required: true }],
      nodes: [
        { id: 'setup', kind: 'subRunbook', runbook: 'set-up-account', inputs: { upn: '{{ inputs.who }}' } },
        { id: 'after', kind: 'condition', expression: "steps.setup.output.steps.account.output.steps.create.output.id != ''" },
      ],
      edges: [{ source: 'setup', target: 'after' }],
    });
    const who = upn('nest');
    const h = await env.start(parent, { who });
    const final = await h.result();
    assert.equal(final.status, 'succeeded', final.message);
    assert.deepEqual(statuses(final), { setup: 'succeeded', after: 'succeeded' });
    assert.equal(final.nodes.after!.handle, 'true');
    const child = final.nodes.setup!.child!;
    assert.equal(child.runId, `${h.workflowId}.setup`);
    assert.equal(child.status, 'succeeded');
    // The child and grandchild are runs of their own, on the same tenant, for the same person.
    const grand = await env.state(`${h.workflowId}.setup.account`);
    assert.equal(grand.status, 'succeeded');
    const user = await env.graph.api(`/users/${encodeURIComponent(who)}`).select('id,department').get();
    assert.equal(user.department, 'Sub');
  });

  it("carries a child's failure up: the step fails with the child's reason, and the parent fails", async () => {
    publish('broken', {
      name: 'Broken',
      inputs: [{ name: 'upn', type: 'string' }],
      nodes: [{ id: 'update', kind: 'action', action: 'user.update', params: { user: '{{ inputs.upn }}', department: 'X' }, retry: { maximumAttempts: 1 } }],
    });
    const parent = publish('calls-broken', {
      name: 'Calls broken',
      nodes: [
        { id: 'inner', kind: 'subRunbook', runbook: 'broken', inputs: { upn: upn('nobody') } },
        { id: 'next', kind: 'delay', duration: '0s' },
      ],
      edges: [{ source: 'inner', target: 'next' }],
    });
    const h = await env.start(parent);
    const err = await h.result().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    const s = await env.state(h);
    assert.equal(s.status, 'failed');
    assert.deepEqual(statuses(s), { inner: 'failed', next: 'skipped' });
    assert.match(s.nodes.inner!.error!.message, /sub-runbook broken failed: Step update failed/);
    assert.equal(s.nodes.inner!.child!.status, 'failed');

    // With onError "continue" the parent goes on and ends with a warning naming the step.
    const lenient = publish('calls-broken-leniently', {
      name: 'Calls broken leniently',
      nodes: [
        { id: 'inner', kind: 'subRunbook', runbook: 'broken', inputs: { upn: upn('nobody2') }, onError: 'continue' },
        { id: 'next', kind: 'delay', duration: '0s' },
      ],
      edges: [{ source: 'inner', target: 'next' }],
    });
    const s2 = await (await env.start(lenient)).result();
    assert.equal(s2.status, 'succeeded-with-warnings');
    assert.match(s2.warnings![0]!, /^step inner failed and the run went on: sub-runbook broken failed/);
  });

  it("checks the inputs it gives the child against the child's declared pattern, in the run", async () => {
    publish('coded', {
      name: 'Coded',
      inputs: [{ name: 'code', type: 'string', pattern: '^[A-Z]{3}-[0-9]+$' }],
      nodes: [{ id: 'wait', kind: 'delay', duration: '0s' }],
    });
    const calls = (code: string) => publish(`calls-coded-${code}`, { name: 'Calls coded', inputs: [{ name: 'code', type: 'string' }], nodes: [{ id: 'inner', kind: 'subRunbook', runbook: 'coded', inputs: { code: '{{ inputs.code }}' } }] });
    const bad = await env.start(calls('bad'), { code: 'abc-1' });
    await assert.rejects(bad.result(), WorkflowFailedError);
    assert.match((await env.state(bad)).nodes.inner!.error!.message, /inputs given to sub-runbook coded do not fit it: inputs.code: code "abc-1" does not match the pattern/);
    const good = await (await env.start(calls('good'), { code: 'ABC-12' })).result();
    assert.equal(good.status, 'succeeded');
  });

  it('carries a cancellation down: cancelling the parent cancels the child waiting on its timer', async () => {
    publish('waits', {
      name: 'Waits',
      nodes: [
        { id: 'wait', kind: 'delay', duration: '1h' },
        { id: 'never', kind: 'action', action: 'user.create', params: { userPrincipalName: upn('never'), displayName: 'never' } },
      ],
      edges: [{ source: 'wait', target: 'never' }],
    });
    const parent = publish('calls-waits', { name: 'Calls waits', nodes: [{ id: 'inner', kind: 'subRunbook', runbook: 'waits' }] });
    const h = await env.start(parent);
    await env.waitFor(`${h.workflowId}.inner`, (s) => s.nodes.wait?.status === 'running');
    await h.cancel();
    await h.result().catch(() => undefined);
    const child = await env.client.workflow.getHandle(`${h.workflowId}.inner`).describe();
    assert.equal(child.status.name, 'CANCELLED');
    const cs = await env.state(`${h.workflowId}.inner`);
    assert.deepEqual(statuses(cs), { wait: 'cancelled', never: 'skipped' });
    const res = await env.graph.api('/users').filter(`userPrincipalName eq '${upn('never')}'`).get();
    assert.equal(res.value.length, 0);
  });

  it('runs a sub-runbook per item of a forEach', async () => {
    const parent = publish('create-each', {
      name: 'Create each',
      inputs: [{ name: 'people', type: 'list' }],
      nodes: [{ id: 'each', kind: 'forEach', items: 'inputs.people', body: { nodes: [{ id: 'one', kind: 'subRunbook', runbook: 'create-account', inputs: { upn: '{{ item }}' } }] } }],
    });
    const people = [upn('each1'), upn('each2')];
    const final = await (await env.start(parent, { people })).result();
    assert.equal(final.status, 'succeeded', final.message);
    for (const p of people) assert.equal((await env.graph.api(`/users/${encodeURIComponent(p)}`).select('id').get()).id.length > 0, true);
  });

  it('refuses a runbook that would call itself, directly or through a chain, and a missing child, naming node and field', () => {
    publish('a-first', { name: 'A first', nodes: [{ id: 'd', kind: 'delay', duration: '0s' }] });
    publish('b-calls-a', { name: 'B', nodes: [{ id: 'toA', kind: 'subRunbook', runbook: 'a-first' }] });
    const cyc = validateRunbook({ name: 'A again', nodes: [{ id: 'toB', kind: 'subRunbook', runbook: 'b-calls-a' }] }, { self: 'a-first', resolve: resolver });
    assert.equal(cyc.ok, false);
    assert.deepEqual(cyc.problems.map((p) => [p.nodeId, p.field]), [['toB', 'runbook']]);
    assert.match(cyc.problems[0]!.message, /a-first → b-calls-a → a-first/);
    const self = validateRunbook({ name: 'A', nodes: [{ id: 'me', kind: 'subRunbook', runbook: 'a-first' }] }, { self: 'a-first', resolve: resolver });
    assert.match(self.problems[0]!.message, /cannot call itself/);
    const missing = validateRunbook({ name: 'X', nodes: [{ id: 'm', kind: 'subRunbook', runbook: 'no-such' }] }, { self: 'x', resolve: resolver });
    assert.deepEqual(missing.problems.map((p) => [p.nodeId, p.field]), [['m', 'runbook']]);
    const inputs = validateRunbook(
      { name: 'X', nodes: [{ id: 'm', kind: 'subRunbook', runbook: 'create-account', inputs: { upn: 42, extra: 'x' } }] },
      { self: 'x', resolve: resolver },
    );
    assert.deepEqual(inputs.problems.map((p) => [p.nodeId, p.field]).sort(), [['m', 'inputs.extra'], ['m', 'inputs.upn']]);
  });
});
