// The template gallery: runbook definitions in server/templates/<id>.json, each with a
// description and documented inputs ("New runbook → from template", `tenantflow runbooks new
// --template`). Read once; each is validated, and carries its rule warnings (there should be none).
// A template's subRunbook steps name other templates by id (offboarding → secure-account, ...):
// creating a runbook from it creates and publishes those children first (or reuses the published
// runbooks of those ids), so the new runbook can be published on an empty tenant database.
import { readdirSync, readFileSync } from 'node:fs';
import { RunbookDefinition } from '../runbook/definition.ts';
import { formatProblem, validateRunbook } from '../runbook/validate.ts';
import { subRunbookNodes } from '../runbook/subrunbooks.ts';
import type { RuleWarning } from '../runbook/rules.ts';
import { RunbookError, type Runbooks, type StoredRunbook } from './runbooks.ts';
import { ALL_TENANTS } from './people.ts';
import { childUsable, type Placement } from './runbook-access.ts';

export interface RunbookTemplate {
  id: string;
  name: string;
  description: string;
  definition: RunbookDefinition;
  warnings: RuleWarning[];
  /** Templates this one runs as sub-runbooks (their runbook ids are the template ids). */
  children: string[];
}

const dir = new URL('./templates/', import.meta.url);
let cache: RunbookTemplate[] | undefined;

export function templates(): RunbookTemplate[] {
  if (cache) return cache;
  const read = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const checked = validateRunbook(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
      if (!checked.ok) throw new Error(`template ${file} is not a valid runbook:\n${checked.problems.map(formatProblem).join('\n')}`);
      const def = checked.definition;
      return { id: file.replace(/\.json$/, ''), name: def.name, description: def.description ?? '', definition: def, warnings: checked.warnings, children: [] as string[] };
    });
  const ids = new Set(read.map((t) => t.id));
  for (const t of read) {
    t.children = [...new Set(subRunbookNodes(t.definition).map((s) => s.node.runbook))];
    const missing = t.children.filter((c) => !ids.has(c));
    if (missing.length) throw new Error(`template ${t.id} runs ${missing.join(', ')}, which is not a template: ship it in server/templates/`);
  }
  return (cache = read);
}

export interface CreatedChild {
  id: string;
  version: number;
  /** false when a published runbook of that id was already there and is reused. */
  created: boolean;
}

/**
 * Creates a draft runbook from a template; its sub-runbook templates are created and published
 * first (children of children before their parents), or reused when a published runbook of the
 * same id exists. Refused (409) when such a runbook is archived or was never published.
 */
export async function createFromTemplate(
  runbooks: Runbooks,
  templateId: string,
  opts: { id?: string; name?: string; by: string; placement: Placement },
): Promise<StoredRunbook & { children: CreatedChild[] }> {
  const all = templates();
  const t = all.find((x) => x.id === templateId);
  if (!t) throw new RunbookError(404, `no template "${templateId}" (GET /api/templates lists them)`);
  const children: CreatedChild[] = [];
  const ensure = async (id: string, path: string[]): Promise<void> => {
    if (children.some((c) => c.id === id)) return;
    const child = all.find((x) => x.id === id)!;
    for (const c of child.children) if (!path.includes(c)) await ensure(c, [...path, c]);
    const existing = await runbooks.get(id);
    if (existing && !childUsable(opts.placement, existing))
      throw new RunbookError(409, `runbook ${id} (the sub-runbook "${child.name}" of template ${templateId}) belongs to tenant ${existing.tenant ?? '(global)'} and is not shared where the new runbook runs: ask an admin to share it, then try again`);
    if (existing?.archived) throw new RunbookError(409, `runbook ${id} (the sub-runbook "${child.name}" of template ${templateId}) is archived: restore it, then try again`);
    const published = existing && (await runbooks.version(id));
    if (published) {
      children.push({ id, version: published.version, created: false });
      return;
    }
    if (existing) throw new RunbookError(409, `runbook ${id} (the sub-runbook "${child.name}" of template ${templateId}) exists but was never published: publish it, then try again`);
    // A template's sub-runbooks are the gallery's shared building blocks, the same for every tenant:
    // global and shared with every tenant (changed only by designers of every tenant), so one
    // tenant's designers never change what another tenant's offboarding runs.
    await runbooks.create({ id, definition: child.definition, by: opts.by, sharedWith: [ALL_TENANTS] });
    const v = await runbooks.publish(id, opts.by, `created from the template gallery (sub-runbook of ${templateId})`);
    children.push({ id, version: v.version, created: true });
  };
  for (const c of t.children) await ensure(c, [templateId, c]);
  const definition = opts.name ? { ...t.definition, name: opts.name } : t.definition;
  const rb = await runbooks.create({ id: opts.id, definition, by: opts.by, ...opts.placement });
  return { ...rb, children };
}
