// The template gallery: runbook definitions in server/templates/<id>.json, each with a
// description and documented inputs ("New runbook → from template", `tenantflow runbooks new
// --template`). Read once; each is validated, and carries its rule warnings (there should be none).
import { readdirSync, readFileSync } from 'node:fs';
import { RunbookDefinition } from '../runbook/definition.ts';
import { formatProblem, validateRunbook } from '../runbook/validate.ts';
import type { RuleWarning } from '../runbook/rules.ts';

export interface RunbookTemplate {
  id: string;
  name: string;
  description: string;
  definition: RunbookDefinition;
  warnings: RuleWarning[];
}

const dir = new URL('./templates/', import.meta.url);
let cache: RunbookTemplate[] | undefined;

export function templates(): RunbookTemplate[] {
  cache ??= readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const checked = validateRunbook(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
      if (!checked.ok) throw new Error(`template ${file} is not a valid runbook:\n${checked.problems.map(formatProblem).join('\n')}`);
      const def = checked.definition;
      return { id: file.replace(/\.json$/, ''), name: def.name, description: def.description ?? '', definition: def, warnings: checked.warnings };
    });
  return cache;
}
