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
  /** false: skip the repeat check (see assertRepeatSafe); it is skipped anyway when the plan again says 'would-fail'. */
  repeat?: boolean;
}

/** The writes the sandbox logged (Graph, Exchange InvokeCommand, SharePoint REST) after seq, as "METHOD path" per write. */
export const lastWrite = (env: ActionsEnv) => env.sandbox.admin.mutations().at(-1)?.seq ?? 0;
export const writesSince = (env: ActionsEnv, seq: number) => env.sandbox.admin.mutations().filter((m) => m.seq > seq).map((m) => `${m.method} ${m.path}`);

/** Graph and Exchange writes the sandbox can fail after they took effect; SharePoint REST has no fault injection. */
const WRITE_REQUEST = '^(POST|PATCH|PUT|DELETE) /(v1\\.0|beta)/|^POST /adminapi/InvokeCommand (?!Get-)';

/**
 * Finding 1 of issue 16: after a step ran once (writing `firstWrites`), the same step runs again with
 * the same input, from the state its first run left (what a retry sees once the write took effect),
 * and its own first write's answer is lost after the write took effect (Graph, Exchange; SharePoint
 * REST has no fault injection: a plain repeat), so the retry inside it must recognise that write too.
 * It must succeed and write no request more often than the first run did (an action that reads the
 * state writes nothing; one that always acts, like a session revocation, writes once, not twice).
 * The actions checked this way are listed in test/repeat-coverage.ts (test/repeat-safety.test.ts counts them).
 */
export async function assertRepeatSafe(env: ActionsEnv, action: string, params: Record<string, unknown>, firstWrites: string[], opts: { tenant?: string } = {}): Promise<void> {
  assert.ok(firstWrites.length > 0, `${action} wrote nothing on its first run: a repeat would prove nothing`);
  const faults = env.sandbox.admin.faults();
  const since = lastWrite(env);
  env.sandbox.admin.failNext({ status: 'drop', afterEffect: true, match: WRITE_REQUEST });
  let r;
  try {
    r = await env.run(action, params, { tenant: opts.tenant, maximumAttempts: 3 });
  } finally {
    env.sandbox.admin.setFaults(faults);
  }
  ok(r);
  const count = (ws: string[]) => ws.reduce((m, w) => m.set(w, (m.get(w) ?? 0) + 1), new Map<string, number>());
  const first = count(firstWrites);
  const more = [...count(writesSince(env, since))].filter(([w, n]) => n > (first.get(w) ?? 0));
  assert.deepEqual(more, [], `${action} repeated with the same input after a lost answer wrote more than its first run (${JSON.stringify(firstWrites)}): it is not safe to retry`);
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
  const seq = lastWrite(env);
  const r = await env.run(action, params, opts);
  ok(r);
  const firstWrites = writesSince(env, seq);
  const recorded = changesIn(r.output);
  assert.ok(recorded, `${action} recorded no changes`);
  assert.deepEqual(rows(recorded), plannedRows, 'the record is what the plan said');
  const again = await planOf(env, action, params, opts);
  assert.equal(again?.outcome, opts.again ?? 'no-change', JSON.stringify(again));
  if (opts.repeat !== false && opts.again !== 'would-fail') await assertRepeatSafe(env, action, params, firstWrites, opts);
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

