// Runbooks kept as JSON files (the bundled examples). The control-plane database replaces this
// for drafts and versions; files remain the way to ship examples and runbooks as code.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatProblem, validateRunbook } from '../workflows/validate.ts';
import type { RunbookDefinition } from '../workflows/definition.ts';

export interface StoredRunbook {
  id: string;
  version: number;
  definition: RunbookDefinition;
}

export interface RunbookStore {
  list(): Promise<StoredRunbook[]>;
  get(id: string): Promise<StoredRunbook | undefined>;
}

export async function fileRunbookStore(dir: string): Promise<RunbookStore> {
  const byId = new Map<string, StoredRunbook>();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    const id = basename(file, '.json');
    const result = validateRunbook(JSON.parse(await readFile(join(dir, file), 'utf8')));
    if (!result.ok) throw new Error(`${file} is not a valid runbook:\n${result.problems.map(formatProblem).join('\n')}`);
    byId.set(id, { id, version: 1, definition: result.definition });
  }
  return {
    async list() {
      return [...byId.values()];
    },
    async get(id) {
      return byId.get(id);
    },
  };
}
