// Compares two versions of a runbook node by node (for "compare versions" side by side): the
// server's diff (GET /api/runbooks/:id/diff) when it answers, else this browser-side one. Both end
// up in one shape, and `diffLines` turns either into the list shown next to the canvases.
import type { RunbookDefinition } from '../../../runbook/definition.ts';
import type { DefinitionDiff as ServerDiff } from '../../../server/runbooks.ts';

export type { ServerDiff };

export interface DefinitionDiff {
  added: string[];
  removed: string[];
  changed: string[];
  /** Edges as "source.handle->target". */
  edgesAdded: string[];
  edgesRemoved: string[];
  inputsChanged: boolean;
  settingsChanged: boolean;
  /** Where it was computed; the server's diff also names fields. */
  source: 'server' | 'browser';
  /** Changed fields of each changed node (server only). */
  fields?: Record<string, string[]>;
  inputs?: { added: string[]; removed: string[]; changed: string[] };
  settings?: string[];
  name?: { from: string; to: string };
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

export function diffDefinitions(before: RunbookDefinition, after: RunbookDefinition): DefinitionDiff {
  const strip = ({ position: _p, ...n }: RunbookDefinition['nodes'][number]) => n;
  const a = new Map(before.nodes.map((n) => [n.id, stable(strip(n))]));
  const b = new Map(after.nodes.map((n) => [n.id, stable(strip(n))]));
  const edge = (e: RunbookDefinition['edges'][number]) => `${e.source}.${e.sourceHandle ?? 'out'}->${e.target}`;
  const ea = new Set(before.edges.map(edge));
  const eb = new Set(after.edges.map(edge));
  return {
    added: [...b.keys()].filter((id) => !a.has(id)),
    removed: [...a.keys()].filter((id) => !b.has(id)),
    changed: [...b.keys()].filter((id) => a.has(id) && a.get(id) !== b.get(id)),
    edgesAdded: [...eb].filter((e) => !ea.has(e)),
    edgesRemoved: [...ea].filter((e) => !eb.has(e)),
    inputsChanged: stable(before.inputs) !== stable(after.inputs),
    settingsChanged: stable(before.settings) !== stable(after.settings),
    source: 'browser',
    name: before.name !== after.name ? { from: before.name, to: after.name } : undefined,
  };
}

/** The server's diff in the designer's shape (moved-only nodes are not changes). */
export function fromServerDiff(d: ServerDiff): DefinitionDiff {
  return {
    added: d.nodes.added,
    removed: d.nodes.removed,
    changed: d.nodes.changed.map((c) => c.id),
    edgesAdded: d.edges.added,
    edgesRemoved: d.edges.removed,
    inputsChanged: d.inputs.added.length + d.inputs.removed.length + d.inputs.changed.length > 0,
    settingsChanged: d.settings.length > 0,
    source: 'server',
    fields: Object.fromEntries(d.nodes.changed.map((c) => [c.id, c.fields])),
    inputs: d.inputs,
    settings: d.settings,
    name: d.name,
  };
}

/** What changed, one line each, for the list next to the canvases. */
export function diffLines(d: DefinitionDiff): string[] {
  const lines: string[] = [];
  const list = (xs: string[]) => xs.join(', ');
  if (d.name) lines.push(`Name: "${d.name.from}" → "${d.name.to}"`);
  if (d.added.length) lines.push(`Steps added: ${list(d.added)}`);
  if (d.removed.length) lines.push(`Steps removed: ${list(d.removed)}`);
  for (const id of d.changed) lines.push(d.fields?.[id]?.length ? `Step ${id} changed: ${list(d.fields[id])}` : `Step ${id} changed`);
  if (d.edgesAdded.length) lines.push(`Connections added: ${list(d.edgesAdded)}`);
  if (d.edgesRemoved.length) lines.push(`Connections removed: ${list(d.edgesRemoved)}`);
  if (d.inputs) {
    if (d.inputs.added.length) lines.push(`Inputs added: ${list(d.inputs.added)}`);
    if (d.inputs.removed.length) lines.push(`Inputs removed: ${list(d.inputs.removed)}`);
    if (d.inputs.changed.length) lines.push(`Inputs changed: ${list(d.inputs.changed)}`);
  } else if (d.inputsChanged) lines.push('Inputs changed');
  if (d.settings?.length) lines.push(`Settings changed: ${list(d.settings)}`);
  else if (d.settingsChanged && !d.settings) lines.push('Settings changed');
  return lines;
}
