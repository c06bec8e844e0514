// Compares two versions of a runbook node by node (for "compare versions" side by side).
import type { RunbookDefinition } from '../../../workflows/definition.ts';

export interface DefinitionDiff {
  added: string[];
  removed: string[];
  changed: string[];
  edgesAdded: string[];
  edgesRemoved: string[];
  inputsChanged: boolean;
  settingsChanged: boolean;
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

export function diffDefinitions(before: RunbookDefinition, after: RunbookDefinition): DefinitionDiff {
  const strip = ({ position: _p, ...n }: RunbookDefinition['nodes'][number]) => n;
  const a = new Map(before.nodes.map((n) => [n.id, stable(strip(n))]));
  const b = new Map(after.nodes.map((n) => [n.id, stable(strip(n))]));
  const edge = (e: RunbookDefinition['edges'][number]) => `${e.source}:${e.sourceHandle ?? 'out'}->${e.target}`;
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
  };
}
