// The plan of a run (docs/plan.md): what each step of a runbook would do with the given inputs,
// read from the tenant before anything changes. The worker makes it (it holds the tenant's
// credentials and the actions' plans); the server stores and serves it; the designer, the CLI and
// the approvals inbox show it. This module is the document's shape and its pure helpers.
import type { Change } from '../catalog/contract.ts';
import { isKnownAfterRun } from '../catalog/contract.ts';
import type { NodeState, NodeStatus, RunbookDefinition, RunContext } from './definition.ts';
import { inspectExpression, templateExpressions } from './expressions.ts';
import { PLAN_VERSION, type PlanSummary, type RunPlan, type StepPlan } from './plan-document.ts';

export * from './plan-document.ts';

/** A finished (or waiting) step of a run under way, for the plan of what an approval gates. */
export interface PastStep {
  status: NodeStatus;
  output?: unknown;
  handle?: string;
}

/** What the planRunbook activity is asked. Inputs carry sealed secrets as they do in a run. */
export interface PlanRequest {
  definition: RunbookDefinition;
  inputs: Record<string, unknown>;
  run: RunContext;
  /** Which page of each forEach's items to plan. */
  items?: { offset: number; limit: number };
  /** The run's item, when the runbook is a loop body. */
  item?: { value: unknown; index: number };
  /** Steps of a run under way, by node id. */
  done?: Record<string, PastStep>;
  /** Plan only the steps after this approval's "approved" handle (it is assumed approved). */
  gate?: string;
}

/** Several input sets at once (the rows of a CSV): one plan each. */
export interface PlanBatch {
  request: Omit<PlanRequest, 'inputs'>;
  rows: { line: number; inputs: Record<string, unknown> }[];
}

/** Steps whose outputs some expression of the definition reads. */
export function referencedSteps(def: Pick<RunbookDefinition, 'nodes'>): Set<string> {
  const out = new Set<string>();
  const exprs = (n: RunbookDefinition['nodes'][number] | { kind: string; [k: string]: unknown }): string[] => {
    const node = n as Record<string, unknown> & { kind: string };
    switch (node.kind) {
      case 'action':
        return templateExpressions(node['params']).map((e) => e.expr);
      case 'approval':
        return node['message'] ? templateExpressions(node['message']).map((e) => e.expr) : [];
      case 'condition':
        return [...(node['expression'] ? [node['expression'] as string] : []), ...((node['cases'] as { expression: string }[] | undefined) ?? []).map((c) => c.expression)];
      case 'delay':
        return node['until'] ? [node['until'] as string] : [];
      case 'forEach':
        return [node['items'] as string, ...(node['body'] as { nodes: { kind: string }[] }).nodes.flatMap((b) => exprs(b as never))];
      default:
        return [];
    }
  };
  for (const n of def.nodes) for (const e of exprs(n)) for (const id of inspectExpression(e).steps) out.add(id);
  return out;
}

/** A run's steps so far, for the plan of what an approval gates: outputs only of the steps expressions read. */
export function pastSteps(def: Pick<RunbookDefinition, 'nodes'>, nodes: Record<string, NodeState>): Record<string, PastStep> {
  const read = referencedSteps(def);
  return Object.fromEntries(
    Object.values(nodes).map((n) => [n.id, { status: n.status, ...(n.handle ? { handle: n.handle } : {}), ...(read.has(n.id) && n.output !== undefined ? { output: n.output } : {}) }]),
  );
}

export const PLAN_ACTIVITY = 'planRunbook';
export const PLAN_BATCH_ACTIVITY = 'planRunbookRows';
export const PLAN_WORKFLOW = 'planWorkflow';

function walk(steps: StepPlan[], visit: (s: StepPlan) => void): void {
  for (const s of steps) {
    visit(s);
    for (const i of s.loop?.items ?? []) walk(i.steps, visit);
  }
}

export function summarize(steps: StepPlan[]): PlanSummary {
  const s: PlanSummary = { changes: 0, changeRows: 0, noChange: 0, wouldFail: 0, notPredicted: 0, unknown: 0, planFailed: 0, irreversible: 0 };
  walk(steps, (step) => {
    if (!step.plan || step.runs === 'no' || step.runs === 'done') return;
    const p = step.plan;
    if (p.outcome === 'changes') {
      s.changes++;
      s.changeRows += p.changes.length;
      if (step.irreversible) s.irreversible++;
    } else if (p.outcome === 'no-change') s.noChange++;
    else if (p.outcome === 'would-fail') s.wouldFail++;
    else if (p.outcome === 'not-predicted') s.notPredicted++;
    else if (p.outcome === 'unknown') s.unknown++;
    else if (p.outcome === 'plan-failed') s.planFailed++;
  });
  return s;
}

/** Every predicted change of a plan, with the step it belongs to. */
export function planChanges(plan: Pick<RunPlan, 'steps'>): { nodeId: string; change: Change }[] {
  const out: { nodeId: string; change: Change }[] = [];
  walk(plan.steps, (s) => {
    const p = s.plan;
    if (s.runs !== 'no' && p && (p.outcome === 'changes' || p.outcome === 'would-fail')) for (const c of p.changes ?? []) out.push({ nodeId: s.nodeId, change: c });
  });
  return out;
}

/** A plan value in words: "(known after the run)" for what comes from earlier steps. */
export function showValue(v: unknown): string {
  if (isKnownAfterRun(v)) return '(known after the run)';
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(showValue).join(', ')}]`;
  if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (isKnownAfterRun(x) ? '(known after the run)' : x));
  return String(v);
}

/** One line per change: "user anna@contoso.com  department: "Sales" -> "Finance"". */
export function changeLine(c: Change): string {
  return `${c.object}  ${c.property}: ${showValue(c.before)} -> ${showValue(c.after)}${c.note ? `  (${c.note})` : ''}`;
}

/** The plan as text, as the CLI prints it. */
export function planText(plan: RunPlan): string {
  const out: string[] = [];
  const s = plan.summary;
  out.push(`Plan for ${plan.runbook.name} (v${plan.runbook.version}) on tenant ${plan.tenant}${plan.gate ? `, what approving ${plan.gate} lets run` : ''}`);
  const parts = [`${s.changes} step(s) change something (${s.changeRows} change(s))`, `${s.noChange} no change`];
  if (s.wouldFail) parts.push(`${s.wouldFail} would fail`);
  if (s.notPredicted) parts.push(`${s.notPredicted} not predicted`);
  if (s.unknown) parts.push(`${s.unknown} known after the run`);
  if (s.planFailed) parts.push(`${s.planFailed} could not be planned`);
  if (s.irreversible) parts.push(`${s.irreversible} cannot be undone`);
  out.push(parts.join(', '));
  const step = (p: StepPlan, indent: string) => {
    const head = `${indent}${p.runs === 'no' ? '-' : p.runs === 'if' ? '?' : p.runs === 'done' ? '=' : '*'} ${p.nodeId}${p.action ? ` (${p.action})` : ` [${p.kind}]`}`;
    const cond = p.runs === 'if' ? `  runs if ${p.when?.join(' or ')}` : p.runs === 'no' ? `  does not run: ${p.why}` : p.runs === 'done' ? '  already ran' : '';
    out.push(head + cond);
    const inner = `${indent}    `;
    if (p.detail) out.push(`${inner}${p.detail}`);
    if (p.decided) out.push(`${inner}takes "${p.decided}"`);
    const a = p.plan;
    if (a && p.runs !== 'no') {
      if (a.outcome === 'changes') for (const c of a.changes) out.push(`${inner}${changeLine(c)}`);
      else if (a.outcome === 'no-change') out.push(`${inner}no change`);
      else if (a.outcome === 'would-fail') {
        out.push(`${inner}WOULD FAIL: ${a.reason}${a.hint ? ` (${a.hint})` : ''}`);
        for (const c of a.changes ?? []) out.push(`${inner}${changeLine(c)}`);
      } else if (a.outcome === 'read') out.push(`${inner}reads (ran during the plan)`);
      else out.push(`${inner}${a.reason}`);
      for (const n of a.outcome === 'changes' || a.outcome === 'no-change' ? (a.notes ?? []) : []) out.push(`${inner}note: ${n}`);
    }
    if (p.irreversible && a?.outcome === 'changes') out.push(`${inner}cannot be undone: ${p.irreversible}`);
    if (p.loop) {
      if (p.loop.total === null) out.push(`${inner}items: ${p.loop.reason ?? 'known after the run'}`);
      for (const i of p.loop.items) {
        out.push(`${inner}item ${i.index + 1}: ${showValue(i.item)}`);
        for (const x of i.steps) step(x, `${inner}  `);
      }
      if (p.loop.more) out.push(`${inner}... ${p.loop.more} more item(s) not planned in this page`);
    }
  };
  for (const p of plan.steps) step(p, '  ');
  return out.join('\n');
}
