// Sub-runbooks at publish: each subRunbook node (forEach bodies included) pinned to a published
// version of its child, with the child's definition; and the checks the validator makes with a
// resolver: a missing or archived child, a missing version, inputs that do not fit the child,
// and a runbook that would call itself through any chain. Pure: the server gives the resolver.
import type { RunbookDefinition, RunbookNode, SubRunbookNode } from './definition.ts';
import { isExpression } from './expressions.ts';
import { validateInputs } from './inputs.ts';

/** What the server knows of a child: it does not exist, is archived, or its version (latest when `version` is "latest"). */
export type ChildLookup =
  | { found: false }
  | { found: true; archived: boolean; version?: { version: number; definition: RunbookDefinition } };
export type ChildResolver = (runbook: string, version: number | 'latest') => ChildLookup;

export interface SubRunbookProblem {
  nodeId: string;
  field: string;
  message: string;
}

/** Every subRunbook node, with the id problems name it by ("loop.step" inside a forEach body). */
export function subRunbookNodes(def: { nodes: RunbookNode[] }): { nodeId: string; node: SubRunbookNode }[] {
  const out: { nodeId: string; node: SubRunbookNode }[] = [];
  for (const n of def.nodes) {
    if (n.kind === 'subRunbook') out.push({ nodeId: n.id, node: n });
    if (n.kind === 'forEach') for (const b of n.body.nodes) if (b.kind === 'subRunbook') out.push({ nodeId: `${n.id}.${b.id}`, node: b });
  }
  return out;
}

/** The runbook ids a pinned definition calls, through every level of its pinned children. */
function chainsOf(def: { nodes: RunbookNode[] }, path: string[], out: string[][]): void {
  for (const { node } of subRunbookNodes(def)) {
    const next = [...path, node.runbook];
    out.push(next);
    if (node.pinned && path.length < 20) chainsOf(node.pinned.definition as unknown as RunbookDefinition, next, out);
  }
}

/**
 * Problems of the sub-runbook steps. `self` is the id of the runbook being checked (a call back
 * to it through any chain is refused); without a resolver only self-calls are found.
 */
export function checkSubRunbooks(def: RunbookDefinition, opts: { self?: string; resolve?: ChildResolver }): SubRunbookProblem[] {
  const problems: SubRunbookProblem[] = [];
  if (!opts.self && !opts.resolve) return problems;
  for (const { nodeId, node } of subRunbookNodes(def)) {
    if (opts.self && node.runbook === opts.self) {
      problems.push({ nodeId, field: 'runbook', message: `this step runs runbook ${opts.self}, the runbook itself: a runbook cannot call itself` });
      continue;
    }
    const pinned = resolvedChild(node, opts.resolve);
    if ('problem' in pinned) {
      problems.push({ nodeId, field: pinned.field, message: pinned.problem });
      continue;
    }
    if (!pinned.child) continue;
    const child = pinned.child.definition;
    if (opts.self) {
      const chains: string[][] = [];
      chainsOf(child, [node.runbook], chains);
      const cycle = chains.find((c) => c.at(-1) === opts.self);
      if (cycle) problems.push({ nodeId, field: 'runbook', message: `runbook ${opts.self} would call itself: ${[opts.self, ...cycle].join(' → ')}; remove the call back to ${opts.self}` });
    }
    // Inputs: names the child declares, its required ones given, literals of the right type.
    const declared = new Set(child.inputs.map((i) => i.name));
    for (const name of Object.keys(node.inputs))
      if (!declared.has(name)) problems.push({ nodeId, field: `inputs.${name}`, message: `runbook ${node.runbook} has no input "${name}" (it takes: ${[...declared].join(', ') || 'nothing'})` });
    const literals: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node.inputs)) if (declared.has(k) && !(typeof v === 'string' && isExpression(v))) literals[k] = v;
    const given = new Set(Object.keys(node.inputs).filter((k) => node.inputs[k] !== undefined && node.inputs[k] !== ''));
    for (const i of child.inputs)
      if (i.required && i.default === undefined && !given.has(i.name))
        problems.push({ nodeId, field: `inputs.${i.name}`, message: `runbook ${node.runbook} requires input "${i.name}"${i.title ? ` (${i.title})` : ''}: map it to a value or an expression` });
    const typed = validateInputs({ inputs: child.inputs.filter((i) => i.name in literals).map((i) => ({ ...i, required: false })) }, literals);
    if (!typed.ok) for (const p of typed.problems) problems.push({ nodeId, field: p.field, message: p.message });
  }
  return problems;
}

function resolvedChild(node: SubRunbookNode, resolve?: ChildResolver): { child?: { version: number; definition: RunbookDefinition } } | { problem: string; field: string } {
  if (!resolve) return { child: node.pinned && { version: node.pinned.version, definition: node.pinned.definition as unknown as RunbookDefinition } };
  const got = resolve(node.runbook, node.version);
  if (!got.found) return { field: 'runbook', problem: `runbook ${node.runbook} does not exist: pick a published runbook` };
  if (got.archived) return { field: 'runbook', problem: `runbook ${node.runbook} is archived: restore it or pick another runbook` };
  if (!got.version)
    return node.version === 'latest'
      ? { field: 'runbook', problem: `runbook ${node.runbook} has no published version yet: publish it first` }
      : { field: 'version', problem: `runbook ${node.runbook} has no version ${node.version}` };
  return { child: got.version };
}

/** The definition with every subRunbook node pinned to the version the resolver gives (call after a clean check). */
export function pinSubRunbooks(def: RunbookDefinition, resolve: ChildResolver): RunbookDefinition {
  const pin = <N extends RunbookNode>(n: N): N => {
    if (n.kind === 'forEach') return { ...n, body: { ...n.body, nodes: n.body.nodes.map(pin) } };
    if (n.kind !== 'subRunbook') return n;
    const got = resolve(n.runbook, n.version);
    if (!got.found || !got.version) return n;
    return { ...n, pinned: { version: got.version.version, definition: got.version.definition as unknown as Record<string, unknown> } };
  };
  return { ...def, nodes: def.nodes.map(pin) };
}
