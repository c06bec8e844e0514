// The plan of a run (docs/plan.md): walks the runbook's graph with the given inputs the way the
// interpreter would, asking each action step's plan what it would change. Values that come from
// earlier steps' outputs are "known after the run"; reads run for real, so conditions on them are
// decided; conditions that cannot be decided yet plan both branches, each marked with the
// condition it runs under; forEach items are planned a page at a time. When a step may run is the
// scheduler's rule (workflows/scheduler.ts: a node runs once every incoming edge is decided and
// one was taken), here over three values: taken, not taken, taken if.
import { isKnownAfterRun, knownAfterRun, type ActionPlan, type Change } from '../catalog/contract.ts';
import { durationMs, handlesOf, type RunbookEdge, type RunbookNode } from '../runbook/definition.ts';
import { evaluate, inspectExpression, resolveTemplate, templateExpressions, type ExpressionContext } from '../runbook/expressions.ts';
import { DEFAULT_PAGE, MAX_PAGE, PLAN_VERSION, summarize, type LoopPlan, type PlanRequest, type RunPlan, type StepPlan, type StepRuns } from '../runbook/plan.ts';
import { maskSealed, openSealed, type Sealer } from '../runbook/secrets.ts';
import { readiness } from '../workflows/scheduler.ts';
import type { ActionImplementation, PlanContext } from './implementation.ts';
import { planAction } from './planning.ts';

export interface PlannerDeps {
  actions: ReadonlyMap<string, ActionImplementation>;
  ctx: PlanContext;
  secrets?: Sealer;
}

type Graph = { nodes: RunbookNode[]; edges: RunbookEdge[] };

/** An edge's state in the plan: taken, not taken, or taken under conditions (alternatives, in words). */
type EdgeState = { taken: 'yes' } | { taken: 'no'; why?: string } | { taken: 'if'; when: string[] };

/** How a node's handles go: certainly, or under a condition in words. */
type Handles = Map<string, true | string>;

const MAX_ALTERNATIVES = 6;

interface Scope {
  inputs: Record<string, unknown>;
  run: Record<string, unknown>;
  item?: unknown;
  /** Outputs known now (reads that ran, decided conditions, steps that already ran). */
  outputs: Map<string, unknown>;
  req: PlanRequest;
  /** Before-values as earlier certain steps leave them: "object|property" -> after. */
  overlay: Map<string, unknown>;
}

/** Kahn's order, definition order among equals. */
function topological(g: Graph): RunbookNode[] {
  const indegree = new Map(g.nodes.map((n) => [n.id, 0]));
  for (const e of g.edges) if (indegree.has(e.target)) indegree.set(e.target, indegree.get(e.target)! + 1);
  const out: RunbookNode[] = [];
  const ready = g.nodes.filter((n) => indegree.get(n.id) === 0);
  while (ready.length) {
    const n = ready.shift()!;
    out.push(n);
    for (const e of g.edges.filter((x) => x.source === n.id)) {
      indegree.set(e.target, indegree.get(e.target)! - 1);
      if (indegree.get(e.target) === 0) ready.push(g.nodes.find((x) => x.id === e.target)!);
    }
  }
  return out;
}

const exprCtx = (s: Scope): ExpressionContext => ({
  inputs: s.inputs,
  run: s.run,
  item: s.item,
  steps: Object.fromEntries([...s.outputs].map(([id, output]) => [id, { output, status: 'succeeded' }])),
});

/** Steps an expression reads whose output is not known now. */
function unknownRefs(expr: string, s: Scope): string[] {
  return inspectExpression(expr).steps.filter((id) => !s.outputs.has(id));
}

/** A parameter value resolved as far as it can be: parts that read unknown outputs become KnownAfterRun. */
async function resolveKnown(value: unknown, s: Scope): Promise<unknown> {
  if (typeof value === 'string' && value.includes('{{')) {
    const exprs = templateExpressions(value);
    if (exprs.some((e) => unknownRefs(e.expr, s).length)) return knownAfterRun(exprs.length === 1 && /^\s*\{\{[\s\S]+\}\}\s*$/.test(value) ? exprs[0]!.expr : value);
    return resolveTemplate(value, exprCtx(s));
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveKnown(v, s)));
  if (value && typeof value === 'object') return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveKnown(v, s)] as const)));
  return value;
}

function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

/** Decides the node's runs from its incoming edges (the scheduler's readiness over three values). */
function runsOf(incoming: RunbookEdge[], states: Map<RunbookEdge, EdgeState>): { runs: StepRuns; when?: string[] } {
  const st = incoming.map((e) => states.get(e) ?? { taken: 'no' as const });
  const definite = new Map(incoming.map((e, i) => [e, st[i]!.taken === 'yes'] as const));
  if (st.every((x) => x.taken !== 'if')) return { runs: readiness(incoming, definite) === 'run' ? 'yes' : 'no' };
  if (st.some((x) => x.taken === 'yes')) return { runs: 'yes' };
  const when = [...new Set(st.flatMap((x) => (x.taken === 'if' ? x.when : [])))];
  return { runs: 'if', when: when.length > MAX_ALTERNATIVES ? [...when.slice(0, MAX_ALTERNATIVES), `${when.length - MAX_ALTERNATIVES} more conditions`] : when };
}

function masked(impl: ActionImplementation | undefined, params: unknown): Record<string, unknown> {
  const out = maskSealed(params) as Record<string, unknown>;
  for (const f of impl?.contract.secretFields ?? []) if (out[f] !== undefined && !isKnownAfterRun(out[f])) out[f] = '[secret]';
  return out;
}

/** Earlier certain steps' changes become the before-values of later ones; what ends up the same is dropped. */
function applyOverlay(plan: ActionPlan, s: Scope, certain: boolean): ActionPlan {
  if (plan.outcome !== 'changes') return plan;
  const key = (c: Change) => `${c.objectId ?? c.object}|${c.property}`;
  const changes = plan.changes
    .map((c) => (s.overlay.has(key(c)) ? { ...c, before: s.overlay.get(key(c)) } : c))
    .filter((c) => JSON.stringify(c.before) !== JSON.stringify(c.after) || isKnownAfterRun(c.after));
  if (certain) for (const c of changes) if (!isKnownAfterRun(c.after)) s.overlay.set(key(c), c.after);
  return changes.length ? { ...plan, changes } : { outcome: 'no-change', ...(plan.notes ? { notes: plan.notes } : {}) };
}

async function planActionNode(node: Extract<RunbookNode, { kind: 'action' }>, step: StepPlan, s: Scope, deps: PlannerDeps): Promise<{ handles: Handles; halt?: string }> {
  const impl = deps.actions.get(node.action);
  step.title = impl?.contract.title;
  if (impl?.contract.irreversible) step.irreversible = impl.contract.irreversible;
  let params: unknown;
  try {
    params = await resolveKnown(node.params, s);
  } catch (err) {
    step.plan = { outcome: 'would-fail', reason: `a parameter's expression fails: ${(err as Error).message}`, code: 'ExpressionError' };
    return { handles: new Map(), halt: `step ${node.id} would fail` };
  }
  step.params = masked(impl, params);
  const plan: ActionPlan = impl
    ? await planAction(impl, deps.secrets ? openSealed(deps.secrets, params) : params, deps.ctx)
    : { outcome: 'not-predicted', reason: `changes not predicted for ${node.action}: this worker does not know the action` };
  step.plan = applyOverlay(plan, s, step.runs === 'yes');
  if (plan.outcome === 'read') s.outputs.set(node.id, plan.output);
  const handles: Handles = new Map();
  if (plan.outcome === 'would-fail') {
    if (node.onError === 'continue') handles.set('out', true);
    else if (node.onError === 'route') handles.set('error', true);
    else if (node.onError === 'pause') handles.set('out', `an operator skips or retries ${node.id} after it fails`);
    else return { handles, halt: `step ${node.id} would fail` };
    return { handles };
  }
  handles.set('out', true);
  const sure = plan.outcome === 'changes' || plan.outcome === 'no-change' || plan.outcome === 'read';
  if (node.onError === 'route' && !sure) handles.set('error', `${node.id} fails`);
  return { handles };
}

async function planCondition(node: Extract<RunbookNode, { kind: 'condition' }>, step: StepPlan, s: Scope): Promise<Handles> {
  const exprs = node.cases ? node.cases.map((c) => c.expression) : [node.expression ?? 'false'];
  const handles: Handles = new Map();
  if (exprs.some((e) => unknownRefs(e, s).length)) {
    if (node.cases) {
      for (const c of node.cases) handles.set(c.handle, `${node.id}: ${c.expression}`);
      handles.set('default', `${node.id}: no case holds`);
    } else {
      handles.set('true', `${node.id}: ${node.expression}`);
      handles.set('false', `${node.id}: not (${node.expression})`);
    }
    step.detail = 'decided during the run: it reads values known only after the run';
    return handles;
  }
  let handle = node.cases ? 'default' : 'false';
  if (node.cases) {
    for (const c of node.cases)
      if (truthy(await evaluate(c.expression, exprCtx(s)))) {
        handle = c.handle;
        break;
      }
  } else if (truthy(await evaluate(node.expression ?? 'false', exprCtx(s)))) handle = 'true';
  step.decided = handle;
  s.outputs.set(node.id, { handle });
  handles.set(handle, true);
  return handles;
}

async function planApproval(node: Extract<RunbookNode, { kind: 'approval' }>, step: StepPlan, s: Scope): Promise<Handles> {
  const who = [...node.approvers.users, ...node.approvers.roles.map((r) => `role ${r}`), ...node.approvers.groups.map((g) => `group ${g}`)].join(', ');
  let message = '';
  if (node.message) {
    const resolved = await resolveKnown(node.message, s).catch(() => undefined);
    message = typeof resolved === 'string' ? `: "${resolved}"` : '';
  }
  step.detail = `waits for approval by ${who || 'nobody named'}${message}`;
  const handles: Handles = new Map();
  if (s.req.gate === node.id) {
    handles.set('approved', true);
    step.detail += ' (this plan shows what approving it lets run)';
    return handles;
  }
  for (const h of handlesOf(node)) handles.set(h, `${node.id} is ${h === 'timeout' ? 'not decided in time' : h}`);
  return handles;
}

async function planLoop(node: Extract<RunbookNode, { kind: 'forEach' }>, step: StepPlan, s: Scope, deps: PlannerDeps): Promise<{ handles: Handles; halt?: string }> {
  const page = { offset: Math.max(0, s.req.items?.offset ?? 0), limit: Math.min(MAX_PAGE, Math.max(1, s.req.items?.limit ?? DEFAULT_PAGE)) };
  const handles: Handles = new Map([['out', true]]);
  const refs = unknownRefs(node.items, s);
  if (refs.length) {
    step.loop = { total: null, offset: 0, items: [], more: 0, reason: `the list comes from ${refs.map((r) => `steps.${r}`).join(', ')}, known only after the run` };
    return { handles };
  }
  const items = await evaluate(node.items, exprCtx(s));
  if (!Array.isArray(items)) {
    step.detail = `"items" gives ${JSON.stringify(items)?.slice(0, 100)}, not a list: the run would fail here`;
    return { handles: new Map(), halt: `step ${node.id} would fail` };
  }
  const loop: LoopPlan = { total: items.length, offset: page.offset, items: [], more: 0 };
  const body: Graph = { nodes: node.body.nodes as RunbookNode[], edges: node.body.edges };
  const chunk = items.slice(page.offset, page.offset + page.limit);
  for (const [i, item] of chunk.entries()) {
    const scope: Scope = { ...s, item, outputs: new Map(), overlay: new Map(s.overlay) };
    loop.items.push({ index: page.offset + i, item: maskSealed(item), steps: await planGraph(body, scope, deps) });
  }
  loop.more = Math.max(0, items.length - page.offset - chunk.length);
  step.loop = loop;
  return { handles };
}

async function planGraph(g: Graph, s: Scope, deps: PlannerDeps): Promise<StepPlan[]> {
  const states = new Map<RunbookEdge, EdgeState>();
  const steps: StepPlan[] = [];
  let halted: string | undefined;
  for (const node of topological(g)) {
    const incoming = g.edges.filter((e) => e.target === node.id);
    const step: StepPlan = { nodeId: node.id, kind: node.kind, ...(node.label ? { label: node.label } : {}), ...(node.kind === 'action' ? { action: node.action } : {}), runs: 'yes' };
    steps.push(step);
    const past = s.req.done?.[node.id];
    let handles: Handles = new Map();
    let halt: string | undefined;
    const decided = runsOf(incoming, states);
    step.runs = decided.runs;
    if (decided.when) step.when = decided.when;
    if (past && s.req.gate !== node.id && ['succeeded', 'failed', 'skipped', 'cancelled'].includes(past.status)) {
      step.runs = past.status === 'succeeded' || past.status === 'failed' ? 'done' : 'no';
      delete step.when;
      if (step.runs === 'no') step.why = `${past.status} in this run`;
      else {
        if (past.output !== undefined) s.outputs.set(node.id, past.output);
        if (past.handle) handles.set(past.handle, true);
      }
    } else if (past && s.req.gate !== node.id && past.status !== 'pending') {
      step.detail = `${past.status} now`;
      for (const h of handlesOf(node)) handles.set(h, h === 'out' ? true : `${node.id} takes "${h}"`);
    } else if (halted && step.runs !== 'no') {
      step.runs = 'no';
      step.why = `the run ends before it: ${halted}`;
      delete step.when;
    } else if (step.runs === 'no') {
      const why = incoming.map((e) => states.get(e)).find((x): x is { taken: 'no'; why: string } => x?.taken === 'no' && !!x.why)?.why;
      step.why = why ?? `not reached: the branches into it are not taken (${incoming.map((e) => `${e.source} -> ${e.sourceHandle}`).join(', ')})`;
    } else {
      switch (node.kind) {
        case 'action':
          ({ handles, halt } = await planActionNode(node, step, s, deps));
          break;
        case 'condition':
          try {
            handles = await planCondition(node, step, s);
          } catch (err) {
            step.detail = `its expression fails: ${(err as Error).message}`;
            halt = `step ${node.id} would fail`;
          }
          break;
        case 'approval':
          handles = await planApproval(node, step, s);
          break;
        case 'delay':
          step.detail = node.duration !== undefined ? `waits ${typeof node.duration === 'number' ? `${durationMs(node.duration)} ms` : node.duration}` : `waits until ${node.until}`;
          handles.set('out', true);
          break;
        case 'end':
          step.detail = `ends the run: ${node.status}${node.message ? ` (${node.message})` : ''}`;
          if (step.runs === 'yes') halt = `${node.id} ends it`;
          break;
        case 'forEach':
          ({ handles, halt } = await planLoop(node, step, s, deps));
          break;
      }
      if (halt && step.runs === 'yes') halted = halt;
    }
    deps.ctx.heartbeat({ planned: node.id });
    for (const e of g.edges.filter((x) => x.source === node.id)) {
      const h = handles.get(e.sourceHandle);
      if (step.runs === 'no' || h === undefined) states.set(e, { taken: 'no', ...(step.runs === 'no' ? (step.why ? { why: step.why } : {}) : halt ? { why: `the run ends before it: ${halt}` } : {}) });
      else if (step.runs === 'yes' || step.runs === 'done') states.set(e, h === true ? { taken: 'yes' } : { taken: 'if', when: [h] });
      else states.set(e, { taken: 'if', when: (step.when ?? []).map((w) => (h === true ? w : `${w} and ${h}`)) });
    }
  }
  return steps;
}

/** The nodes after an approval's "approved" handle (what approving it lets run). */
function gated(g: Graph, gate: string): Set<string> {
  const out = new Set<string>();
  const queue = g.edges.filter((e) => e.source === gate && e.sourceHandle === 'approved').map((e) => e.target);
  while (queue.length) {
    const id = queue.shift()!;
    if (out.has(id)) continue;
    out.add(id);
    queue.push(...g.edges.filter((e) => e.source === id).map((e) => e.target));
  }
  return out;
}

export async function planRunbook(req: PlanRequest, deps: PlannerDeps): Promise<RunPlan> {
  const { definition, run } = req;
  const scope: Scope = {
    inputs: req.inputs,
    run: { ...run, id: '(known after the run)' },
    item: req.item?.value,
    outputs: new Map(),
    req,
    overlay: new Map(),
  };
  let steps = await planGraph({ nodes: definition.nodes, edges: definition.edges }, scope, deps);
  if (req.gate) {
    const keep = gated(definition, req.gate);
    steps = steps.filter((s) => keep.has(s.nodeId));
  }
  return {
    planVersion: PLAN_VERSION,
    plannedAt: new Date().toISOString(),
    tenant: run.tenant,
    runbook: { id: run.runbookId, version: run.version, name: definition.name },
    ...(req.gate ? { gate: req.gate } : {}),
    steps,
    summary: summarize(steps),
  };
}
