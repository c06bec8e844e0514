// What the plan tests of single actions share (test/plan-mailbox, plan-teams, plan-teams-more, plan-sites-apps):
// plan one action (the sandbox must see no write), and the round trip plan -> run -> record -> plan
// again (no change) -> run the inverse steps built from the record -> the state is as before.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { catalog } from '../catalog/index.ts';
import { changesIn, isKnownAfterRun, type Change } from '../catalog/contract.ts';
import { RunbookDefinition } from '../runbook/definition.ts';
import { PLAN_WORKFLOW, type StepPlan } from '../runbook/plan.ts';
import type { PlanJobResult } from '../workflows/plan.ts';
import { ok, type ActionsEnv } from './actions-kit.ts';

/** Which tenant connection the plan and the runs use ("sandbox-cert" for SharePoint REST); the second plan's answer (a new object's name is then taken). */
export interface PlanOptions {
  tenant?: string;
  again?: 'no-change' | 'would-fail';
}

/** The plan of one action as the single step of a runbook; the sandbox must see no write. */
export async function planOf(env: ActionsEnv, action: string, params: Record<string, unknown>, opts: PlanOptions = {}): Promise<StepPlan['plan']> {
  const writes = env.sandbox.admin.mutationCount();
  const definition = RunbookDefinition.parse({ name: `plan ${action}`, nodes: [{ id: 'step', kind: 'action', action, params }] });
  const res = (await env.client.workflow.execute(PLAN_WORKFLOW, {
    taskQueue: env.taskQueue,
    workflowId: `plan-${randomUUID()}`,
    args: [{ request: { definition, inputs: {}, run: { startedBy: 'operator@tenantflow.test', tenant: opts.tenant ?? 'sandbox', runbookId: 'test', version: 1 } } }],
  })) as PlanJobResult;
  assert.ok('plan' in res);
  assert.equal(env.sandbox.admin.mutationCount(), writes, `planning ${action} wrote nothing`);
  return res.plan.steps.find((s) => s.nodeId === 'step')!.plan;
}

export const rows = (cs: Change[]) => cs.map((c) => `${c.object} | ${c.property} | ${JSON.stringify(isKnownAfterRun(c.before) ? 'later' : c.before)} -> ${JSON.stringify(isKnownAfterRun(c.after) ? 'later' : c.after)}`);

/**
 * Plans the action (expecting these rows), runs it (it records the same rows) and plans it again
 * (no change, or for a creation "would fail": the name is taken now). Returns the step's output and record.
 */
// Outputs are whatever the action's output schema says; tests read them loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function planRunAgain(env: ActionsEnv, action: string, params: Record<string, unknown>, expected: string[], opts: PlanOptions = {}): Promise<{ output: any; recorded: Change[] }> {
  const planned = await planOf(env, action, params, opts);
  assert.equal(planned?.outcome, 'changes', JSON.stringify(planned));
  const plannedRows = planned?.outcome === 'changes' ? rows(planned.changes) : [];
  assert.deepEqual(plannedRows, expected);
  const r = await env.run(action, params, opts);
  ok(r);
  const recorded = changesIn(r.output);
  assert.ok(recorded, `${action} recorded no changes`);
  assert.deepEqual(rows(recorded), plannedRows, 'the record is what the plan said');
  const again = await planOf(env, action, params, opts);
  assert.equal(again?.outcome, opts.again ?? 'no-change', JSON.stringify(again));
  return { output: r.output, recorded };
}

/**
 * planRunAgain, then runs the inverse steps built from the record, and compares the state before
 * with after.
 */
export async function roundTrip(env: ActionsEnv, action: string, params: Record<string, unknown>, expected: string[], state: () => Promise<unknown>, opts: PlanOptions = {}): Promise<void> {
  const original = await state();
  const { output, recorded } = await planRunAgain(env, action, params, expected, opts);
  assert.notDeepEqual(await state(), original, 'the step changed the tenant');
  const contract = catalog.get(action)!;
  const reversal = contract.reverse!({ input: contract.input.parse(params), output, changes: recorded });
  assert.ok('steps' in reversal, JSON.stringify(reversal));
  assert.ok(reversal.steps.length > 0);
  for (const s of reversal.steps) ok(await env.run(s.action, s.params, opts));
  assert.deepEqual(await state(), original, 'the undo put the tenant back');
}

