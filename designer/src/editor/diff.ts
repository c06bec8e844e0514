// Version compare, as shown next to the two canvases: the changes of runbook/diff.ts (the one copy
// of the diff, which the server answers GET /api/runbooks/:id/diff with) one line each.
import type { DefinitionDiff } from '../../../runbook/diff.ts';

/** What changed, one line each. */
export function diffLines(d: DefinitionDiff): string[] {
  const lines: string[] = [];
  const list = (xs: string[]) => xs.join(', ');
  if (d.name) lines.push(`Name: "${d.name.from}" → "${d.name.to}"`);
  if (d.nodes.added.length) lines.push(`Steps added: ${list(d.nodes.added)}`);
  if (d.nodes.removed.length) lines.push(`Steps removed: ${list(d.nodes.removed)}`);
  for (const c of d.nodes.changed) lines.push(`Step ${c.id} changed: ${list(c.fields)}`);
  if (d.edges.added.length) lines.push(`Connections added: ${list(d.edges.added)}`);
  if (d.edges.removed.length) lines.push(`Connections removed: ${list(d.edges.removed)}`);
  if (d.inputs.added.length) lines.push(`Inputs added: ${list(d.inputs.added)}`);
  if (d.inputs.removed.length) lines.push(`Inputs removed: ${list(d.inputs.removed)}`);
  if (d.inputs.changed.length) lines.push(`Inputs changed: ${list(d.inputs.changed)}`);
  if (d.settings.length) lines.push(`Settings changed: ${list(d.settings)}`);
  return lines;
}
