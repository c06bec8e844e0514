// A forEach loop's body as the inspector edits it: a list of steps chained in sequence (each
// step's first handle leads to the next). Pure functions, tested in Node; a body that branches
// keeps its edges and is only edited step by step (or as JSON).
import { handlesOf, type ForEachNode } from '../../../../../runbook/definition.ts';
import { freshId } from '../../store.ts';

export type Body = ForEachNode['body'];
export type BodyStep = Body['nodes'][number];
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
/** A step before it has an id (what `newNode` gives). */
export type NewBodyStep = WithoutId<BodyStep>;

const firstHandle = (step: BodyStep): string | undefined => handlesOf(step)[0];

/** The body is one chain: every step but the last (and an end) leads to the next by its first handle. */
export function isChain(body: Body): boolean {
  const key = (e: Body['edges'][number]) => `${e.source}.${e.sourceHandle ?? 'out'}->${e.target}`;
  const want = chain(bodySteps(body)).edges.map(key).sort();
  return JSON.stringify(body.edges.map(key).sort()) === JSON.stringify(want);
}

/** The steps in the order they run: along the chain from its first step, then any left over. */
export function bodySteps(body: Body): BodyStep[] {
  const byId = new Map(body.nodes.map((n) => [n.id, n]));
  const targets = new Set(body.edges.map((e) => e.target));
  const next = new Map(body.edges.map((e) => [e.source, e.target]));
  const out: BodyStep[] = [];
  const seen = new Set<string>();
  for (let at = body.nodes.find((n) => !targets.has(n.id)); at && !seen.has(at.id); at = byId.get(next.get(at.id) ?? '')) {
    seen.add(at.id);
    out.push(at);
  }
  return [...out, ...body.nodes.filter((n) => !seen.has(n.id))];
}

/** Steps chained in this order (an end step leads nowhere). */
export function chain(steps: BodyStep[]): Body {
  const edges: Body['edges'] = [];
  for (let i = 0; i + 1 < steps.length; i++) {
    const handle = firstHandle(steps[i]!);
    if (handle) edges.push({ source: steps[i]!.id, sourceHandle: handle, target: steps[i + 1]!.id });
  }
  return { nodes: steps, edges };
}

/** Adds a step (given without an id: it gets a fresh one) at the end of the chain, before a final end step. */
export function addBodyStep(body: Body, step: NewBodyStep, base: string): Body {
  const id = freshId(base, body.nodes.map((n) => n.id));
  const steps = bodySteps(body);
  const at = steps.at(-1)?.kind === 'end' && step.kind !== 'end' ? steps.length - 1 : steps.length;
  steps.splice(at, 0, { ...step, id } as BodyStep);
  return chain(steps);
}

export function removeBodyStep(body: Body, index: number): Body {
  return chain(bodySteps(body).filter((_, i) => i !== index));
}

export function moveBodyStep(body: Body, index: number, delta: number): Body {
  const steps = bodySteps(body);
  const to = index + delta;
  if (index < 0 || index >= steps.length || to < 0 || to >= steps.length) return body;
  const [step] = steps.splice(index, 1);
  steps.splice(to, 0, step!);
  return chain(steps);
}

/** Changes one step (found by id); the edges stay as they are. */
export function updateBodyStep(body: Body, id: string, update: (step: BodyStep) => BodyStep): Body {
  return { ...body, nodes: body.nodes.map((n) => (n.id === id ? update(n) : n)) };
}

/** Renames a step and rewires its edges; undefined when the id is not usable or is taken. */
export function renameBodyStep(body: Body, from: string, to: string): Body | undefined {
  if (from === to) return body;
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(to) || body.nodes.some((n) => n.id === to)) return undefined;
  const r = (id: string) => (id === from ? to : id);
  return {
    nodes: body.nodes.map((n) => (n.id === from ? { ...n, id: to } : n)),
    edges: body.edges.map((e) => ({ ...e, source: r(e.source), target: r(e.target) })),
  };
}
