// `npm run bench`: runs every bench/*.ts file (except this one and workflows.ts, the hand-written
// baselines bench/api.ts loads; bench/lib/ holds shared helpers) in its own process. Each compares
// against a baseline measured in the same run and prints ratios, never absolute verdicts.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
/** Flags (--large) go to every bench file. */
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
let failed = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'workflows.ts').sort()) {
  if (only.length && !only.some((o) => file.includes(o))) continue;
  console.log(`bench: ${file}`);
  const res = spawnSync(process.execPath, [join(dir, file), ...flags], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
