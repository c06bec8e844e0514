// What a fresh control plane needs before it serves: the bundled example runbooks published as
// version 1 (seeds), and a first admin when there is no account yet.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatProblem, validateRunbook } from '../runbook/validate.ts';
import type { Services } from './services.ts';

/** Publishes each example (server/examples/*.json) as v1 when the runbook does not exist yet. */
export async function seedRunbooks(s: Services, dir: string): Promise<string[]> {
  const seeded: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    const id = basename(file, '.json');
    if (await s.runbooks.get(id)) continue;
    const raw = JSON.parse(await readFile(join(dir, file), 'utf8')) as unknown;
    const checked = validateRunbook(raw);
    if (!checked.ok) throw new Error(`${file} is not a valid runbook:\n${checked.problems.map(formatProblem).join('\n')}`);
    await s.runbooks.create({ id, definition: raw, by: 'system', customAction: true });
    await s.runbooks.publish(id, 'system', 'bundled example');
    await s.audit.record({ actor: 'system' }, 'runbook.seeded', id, { version: 1 });
    seeded.push(id);
  }
  return seeded;
}

/** Creates the first admin when there is no account, and returns its one-time password (print it once). */
export async function firstAdmin(s: Services, email?: string): Promise<{ email: string; password: string } | undefined> {
  const created = await s.people.ensureFirstAdmin(email);
  if (created) await s.audit.record({ actor: 'system' }, 'user.created', created.email, { firstAdmin: true });
  return created;
}
