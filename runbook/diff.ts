// What changed between two runbook definitions: the one copy of the diff, used by the server
// (GET /api/runbooks/:id/diff, "has unpublished changes") and by the designer's version compare
// for a draft not saved yet. Definitions are compared as JSON documents (a key whose value is
// undefined is the same as no key; key order does not matter). Pure: no Node or browser APIs.
import type { RunbookDefinition } from './definition.ts';
import { validateRunbook } from './validate.ts';

export interface DefinitionDiff {
  inputs: { added: string[]; removed: string[]; changed: string[] };
  /** Nodes by id: `changed` names the fields that differ (position aside), `moved` the nodes only moved. */
  nodes: { added: string[]; removed: string[]; changed: { id: string; fields: string[] }[]; moved: string[] };
  /** Edges as "source.handle->target". */
  edges: { added: string[]; removed: string[] };
  /** Settings that differ. */
  settings: string[];
  name?: { from: string; to: string };
}

/** Deep equality of JSON values. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => sameJson(x, (b as unknown[])[i]));
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
  const kx = keys(x);
  return kx.length === keys(y).length && kx.every((k) => y[k] !== undefined && sameJson(x[k], y[k]));
}

/** What changed from a to b. */
export function diffDefinitions(a: RunbookDefinition, b: RunbookDefinition): DefinitionDiff {
  const byKey = <T>(xs: T[], key: (x: T) => string) => new Map(xs.map((x) => [key(x), x]));
  const compare = <T>(from: Map<string, T>, to: Map<string, T>) => ({
    added: [...to.keys()].filter((k) => !from.has(k)),
    removed: [...from.keys()].filter((k) => !to.has(k)),
    common: [...to.keys()].filter((k) => from.has(k)),
  });
  const fieldsDiffer = (x: Record<string, unknown> = {}, y: Record<string, unknown> = {}, ignore: string[] = []) =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => !ignore.includes(k) && !sameJson(x[k], y[k])).sort();

  const ia = byKey(a.inputs, (i) => i.name);
  const ib = byKey(b.inputs, (i) => i.name);
  const inputs = compare(ia, ib);
  const na = byKey(a.nodes, (n) => n.id);
  const nb = byKey(b.nodes, (n) => n.id);
  const nodes = compare(na, nb);
  const edgeKey = (e: RunbookDefinition['edges'][number]) => `${e.source}.${e.sourceHandle ?? 'out'}->${e.target}`;
  const edges = compare(byKey(a.edges, edgeKey), byKey(b.edges, edgeKey));
  const changed = nodes.common
    .map((id) => ({ id, fields: fieldsDiffer(na.get(id) as never, nb.get(id) as never, ['position']) }))
    .filter((c) => c.fields.length > 0);
  return {
    inputs: { added: inputs.added, removed: inputs.removed, changed: inputs.common.filter((k) => !sameJson(ia.get(k), ib.get(k))) },
    nodes: {
      added: nodes.added,
      removed: nodes.removed,
      changed,
      moved: nodes.common.filter((id) => !sameJson(na.get(id)!.position, nb.get(id)!.position)),
    },
    edges: { added: edges.added, removed: edges.removed },
    settings: fieldsDiffer(a.settings as never, b.settings as never),
    name: a.name !== b.name ? { from: a.name, to: b.name } : undefined,
  };
}

/** Two definitions are the same runbook when they match after defaults and ignoring layout. */
export function sameDefinition(a: unknown, b: unknown): boolean {
  const strip = (d: unknown) => {
    const r = validateRunbook(d);
    const def = (r.ok ? r.definition : d) as { nodes?: { position?: unknown }[] };
    return { ...(def as object), nodes: (def.nodes ?? []).map(({ position: _p, ...n }) => n) };
  };
  return sameJson(strip(a), strip(b));
}
