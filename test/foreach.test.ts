// forEach on real Temporal: one child run per item with bounded concurrency, per-item results,
// failed items recorded without stopping the loop (or stopping it), and continue-as-new batches.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { RunbookDefinitionInput } from '../runbook/definition.ts';
import { RunbookDefinition } from '../runbook/definition.ts';
import type { ForEachInput, ForEachResult } from '../workflows/for-each.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
before(async () => {
  env = await startTestEnv();
});
after(async () => env?.close());

const loop = (onItemError: 'continue' | 'fail'): RunbookDefinitionInput =>
  ({
    name: 'create each user',
    inputs: [{ name: 'people', type: 'list' }],
    nodes: [
      {
        id: 'each',
        kind: 'forEach',
        items: 'inputs.people',
        concurrency: 2,
        onItemError,
        body: {
          nodes: [
            {
              id: 'create',
              kind: 'action',
              action: 'user.create',
              params: { userPrincipalName: '{{ item }}', displayName: '{{ $substringBefore(item, "@") }}' },
              retry: { maximumAttempts: 1 },
            },
          ],
        },
      },
      { id: 'report', kind: 'condition', expression: 'steps.each.output.failed > 0' },
    ],
    edges: [{ source: 'each', target: 'report' }],
  }) as RunbookDefinitionInput;

/** A loop of twelve numbers straight to forEachWorkflow, five per loop run (so three runs). */
function twelveNumbers(workflowId: string, more: Partial<ForEachInput>): ForEachInput {
  const body = RunbookDefinition.parse({ name: 'noop', nodes: [{ id: 'check', kind: 'condition', expression: 'item % 2 = 0' }] });
  return {
    parentWorkflowId: `${workflowId}-parent`,
    nodeId: 'each',
    body,
    inputs: {},
    run: { startedBy: 'test@contoso.com', tenant: 'sandbox', runbookId: 'test', version: 1 },
    items: Array.from({ length: 12 }, (_, i) => i),
    offset: 0,
    total: 12,
    concurrency: 4,
    onItemError: 'continue',
    batch: 5,
    ...more,
  };
}

describe('forEach', () => {
  it('runs the body once per item and records each item, going on past a failed one', async () => {
    const domain = env.sandbox.tenant.domain;
    const tag = randomUUID().slice(0, 6);
    const people = [`a.${tag}@${domain}`, `b.${tag}@${domain}`, 'not-an-email', `c.${tag}@${domain}`];
    const final = await (await env.start(loop('continue'), { people })).result();
    // Some items failed: the run says so rather than "succeeded".
    assert.equal(final.status, 'partially-failed');
    assert.equal(final.message, '1 of 4 items of each failed');
    assert.match(final.warnings![0]!, /^step each, item 3: failed: .*userPrincipalName/);
    const out = final.nodes.each!.output as ForEachResult;
    assert.deepEqual({ total: out.total, done: out.done, succeeded: out.succeeded, failed: out.failed }, { total: 4, done: 4, succeeded: 3, failed: 1 });
    assert.deepEqual(out.items.map((i) => i.status), ['succeeded', 'succeeded', 'failed', 'succeeded']);
    assert.match(out.items[2]!.error!, /userPrincipalName/);
    assert.deepEqual(final.nodes.each!.progress, { total: 4, done: 4, succeeded: 3, failed: 1 });
    assert.deepEqual(final.nodes.report!.output, { handle: 'true' });
    for (const p of [people[0], people[1], people[3]]) {
      const found = await env.graph.api('/users').filter(`userPrincipalName eq '${p}'`).get();
      assert.equal(found.value.length, 1, p);
    }
  });

  it('stops the loop and fails the step when onItemError is "fail"', async () => {
    const h = await env.start(loop('fail'), { people: ['bad-one', 'bad-two'] });
    await assert.rejects(h.result(), WorkflowFailedError);
    const s = await env.state(h);
    assert.equal(s.nodes.each!.status, 'failed');
    assert.match(s.nodes.each!.error!.message, /item [01] failed: Step create failed: user\.create: parameter "userPrincipalName"/);
    assert.deepEqual((s.nodes.each!.output as ForEachResult).items.map((i) => i.status), ['failed', 'failed']);
    assert.equal(s.nodes.report!.status, 'skipped');
  });

  it('keeps item outputs up to its budget, then lists the items without them (across continue-as-new)', async () => {
    const workflowId = `loop-${randomUUID()}`;
    const input = twelveNumbers(workflowId, { concurrency: 1, outputBudget: 100 });
    const h = await env.client.workflow.start('forEachWorkflow', { taskQueue: env.taskQueue, workflowId, args: [input] });
    const result = (await h.result()) as ForEachResult;
    assert.equal(result.succeeded, 12);
    assert.deepEqual(result.items.map((i) => i.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'every item is listed');
    const withOutput = result.items.filter((i) => i.output !== undefined);
    assert.deepEqual(withOutput[0]!.output, { handle: 'true' }, 'the first items keep their output');
    const kept = withOutput.reduce((n, i) => n + JSON.stringify(i.output).length, 0);
    assert.ok(kept <= 100 && kept > 100 - JSON.stringify(withOutput[0]!.output).length * 2, `outputs kept fill the budget: ${kept} chars`);
    assert.ok(withOutput.every((i) => i.index < withOutput.length), 'the outputs kept are the first items\'');
    assert.equal(result.outputsOmitted, 12 - withOutput.length);
    assert.ok(result.outputsOmitted! > 5, 'the budget ran out in the first of the three loop runs and stayed spent');
  });

  it("gives each item's run the inputs its body reads, not the list the loop goes over", async () => {
    const withBody = (expression: string): RunbookDefinitionInput =>
      ({
        name: 'lean items',
        inputs: [
          { name: 'people', type: 'list' },
          { name: 'tags', type: 'list' },
          { name: 'dept', type: 'string' },
        ],
        nodes: [{ id: 'each', kind: 'forEach', items: 'inputs.people', concurrency: 2, body: { nodes: [{ id: 'check', kind: 'condition', expression }] } }],
        edges: [],
      }) as RunbookDefinitionInput;
    /** The inputs item 0's run was started with, as Temporal stored them. */
    const itemInputs = async (workflowId: string) => {
      const history = await env.client.workflow.getHandle(`${workflowId}.each.0`).fetchHistory();
      const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      return (JSON.parse(new TextDecoder().decode(payload.data!)) as { inputs: Record<string, unknown> }).inputs;
    };
    const inputs = { people: ['a', 'b', 'c'], tags: ['x'], dept: 'Sales' };

    const lean = await env.start(withBody("item != '' and inputs.tags[0] = 'x'"), inputs);
    const done = await lean.result();
    assert.equal(done.status, 'succeeded');
    assert.deepEqual((done.nodes.each!.output as ForEachResult).items.map((i) => i.output), [{ handle: 'true' }, { handle: 'true' }, { handle: 'true' }]);
    assert.deepEqual(await itemInputs(lean.workflowId), { tags: ['x'], dept: 'Sales' });

    // A body that could read any input without naming it gets them all.
    const whole = await env.start(withBody('$count($keys(inputs)) = 3'), inputs);
    const all = await whole.result();
    assert.deepEqual((all.nodes.each!.output as ForEachResult).items.map((i) => i.output), [{ handle: 'true' }, { handle: 'true' }, { handle: 'true' }]);
    assert.deepEqual(await itemInputs(whole.workflowId), inputs);
  });

  it('continues as new between batches and keeps counting', async () => {
    const workflowId = `loop-${randomUUID()}`;
    const input = twelveNumbers(workflowId, {});
    const h = await env.client.workflow.start('forEachWorkflow', { taskQueue: env.taskQueue, workflowId, args: [input] });
    const result = (await h.result()) as ForEachResult;
    assert.deepEqual({ done: result.done, succeeded: result.succeeded }, { done: 12, succeeded: 12 });
    assert.deepEqual(result.items.map((i) => i.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const runs = [];
    for await (const w of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(w.status.name);
    assert.equal(runs.filter((s) => s === 'CONTINUED_AS_NEW').length, 2, `three runs, two continued as new: ${runs}`);
  });
});
