// Plans and undo runbooks on the control plane's side (docs/plan.md). A plan is made on a worker
// (the worker holds the tenant's credentials and the actions' plans): the server runs the short
// planWorkflow and waits for its answer. An undo runbook is built from the finished run's steps
// as Temporal keeps them (runbook/undo.ts).
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { catalog } from '../catalog/index.ts';
import type { NodeState, RunbookDefinition, RunContext } from '../runbook/definition.ts';
import { DEFAULT_PAGE, MAX_PAGE, PLAN_WORKFLOW, type PlanBatch, type PlanRequest, type RunPlan } from '../runbook/plan.ts';
import { sealRunSecrets } from '../runbook/secrets.ts';
import { buildUndo, type UndoDraft, type UndoSourceStep } from '../runbook/undo.ts';
import type { PlanJob, PlanJobResult } from '../workflows/plan.ts';
import { HttpError } from './http.ts';
import { CHANGES_KEY } from '../catalog/contract.ts';
import type { RunRecord } from './run-records.ts';
import type { Services } from './services.ts';

/** How long a plan may take before the API gives up waiting (the reads respect the tenant's throttle budget). */
const PLAN_TIMEOUT = '5m';
/** Items of a loop read back for an undo runbook. */
export const UNDO_MAX_ITEMS = 200;

async function runPlanJob(s: Services, job: PlanJob): Promise<PlanJobResult> {
  try {
    return (await s.runs.client.workflow.execute(PLAN_WORKFLOW, {
      taskQueue: s.runs.taskQueue,
      workflowId: `plan-${randomUUID()}`,
      args: [job],
      workflowExecutionTimeout: PLAN_TIMEOUT,
    })) as PlanJobResult;
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? (err.cause?.cause ?? err.cause) : err;
    const message = (cause as Error | undefined)?.message ?? String(err);
    if (/timed out|timeout/i.test(message)) throw new HttpError(504, `the plan took longer than ${PLAN_TIMEOUT}: is a worker running?`);
    throw new HttpError(502, `the plan could not be made: ${message}`);
  }
}

export interface PlanInput {
  definition: RunbookDefinition;
  run: RunContext;
  page?: { offset?: number; limit?: number };
}

const pageOf = (p: PlanInput['page']) => ({ offset: Math.max(0, p?.offset ?? 0), limit: Math.min(MAX_PAGE, Math.max(1, p?.limit ?? DEFAULT_PAGE)) });

/** Secret inputs and secret step fields travel sealed, as they do when a run starts. */
function sealed(s: Services, definition: RunbookDefinition, inputs: Record<string, unknown>) {
  return sealRunSecrets(s.deps.secretBox, definition, inputs, (a) => catalog.get(a)?.secretFields);
}

/** The plan of one run with these (already validated) inputs. */
export async function planRun(s: Services, p: PlanInput & { inputs: Record<string, unknown> }): Promise<RunPlan> {
  const { definition, inputs } = sealed(s, p.definition, p.inputs);
  const request: PlanRequest = { definition, inputs, run: p.run, items: pageOf(p.page) };
  const res = await runPlanJob(s, { request });
  if (!('plan' in res)) throw new HttpError(502, 'the worker answered without a plan');
  return res.plan;
}

/** The plans of a page of CSV rows (already checked), one per row. */
export async function planRows(s: Services, p: PlanInput & { rows: { line: number; inputs: Record<string, unknown> }[] }): Promise<{ line: number; plan: RunPlan }[]> {
  if (p.rows.length === 0) return [];
  const rows = p.rows.map((r) => ({ line: r.line, inputs: sealed(s, p.definition, r.inputs).inputs }));
  const batch: PlanBatch = { request: { definition: sealed(s, p.definition, {}).definition, run: p.run, items: pageOf({ limit: 5 }) }, rows };
  const res = await runPlanJob(s, { batch });
  if (!('rows' in res)) throw new HttpError(502, 'the worker answered without the rows\' plans');
  return res.rows;
}

/** The undo runbook of a finished run, from its steps as Temporal keeps them (and the items of its loops). */
export async function undoOf(s: Services, runId: string, definition: RunbookDefinition, nodes: Record<string, NodeState>): Promise<UndoDraft> {
  const steps: UndoSourceStep[] = [];
  const unreadItems: { loop: string; reason: string }[] = [];
  const actionOf = (nodes: RunbookDefinition['nodes'], id: string) => {
    const n = nodes.find((x) => x.id === id);
    return n?.kind === 'action' ? n.action : undefined;
  };
  for (const state of Object.values(nodes)) {
    const node = definition.nodes.find((n) => n.id === state.id);
    if (node?.kind !== 'forEach') {
      steps.push({ state, action: actionOf(definition.nodes, state.id) });
      continue;
    }
    const items = ((state.output as { items?: { index: number; runId: string }[]; truncated?: boolean } | undefined)?.items ?? []).slice();
    const total = state.progress?.done ?? items.length;
    if (total > UNDO_MAX_ITEMS || items.length < total)
      unreadItems.push({ loop: state.id, reason: `only ${Math.min(items.length, UNDO_MAX_ITEMS)} of the loop's ${total} items are read back for an undo runbook; undo the others with a runbook of their own` });
    for (const item of items.slice(0, UNDO_MAX_ITEMS)) {
      // Temporal first; the item run's record once Temporal has forgotten it.
      const child = await s.runs.get(item.runId).catch(() => undefined);
      const childNodes = child?.state?.nodes ?? recordedNodes(await s.records.get(item.runId).catch(() => undefined));
      if (!childNodes) {
        unreadItems.push({ loop: state.id, reason: `item ${item.index + 1} (${item.runId}) can no longer be read, from Temporal or the run records` });
        continue;
      }
      for (const cs of Object.values(childNodes)) steps.push({ state: cs, action: actionOf(node.body.nodes as RunbookDefinition['nodes'], cs.id), item: { loop: state.id, index: item.index } });
    }
  }
  return buildUndo({ runId, definition, steps, unreadItems }, (id) => catalog.get(id));
}

/**
 * A run record's steps as the workflow had them: the record lifts a step's changes out of its
 * output (server/run-records.ts), the undo builder reads them under __changes.
 */
export function recordedNodes(rec: RunRecord | undefined): Record<string, NodeState> | undefined {
  if (!rec) return undefined;
  return Object.fromEntries(
    Object.entries(rec.nodes).map(([id, { changes, action: _a, title: _t, ...n }]) => [
      id,
      changes && n.output && typeof n.output === 'object' && !Array.isArray(n.output) ? { ...n, output: { ...(n.output as object), [CHANGES_KEY]: changes } } : changes ? { ...n, output: { [CHANGES_KEY]: changes } } : n,
    ]),
  );
}
