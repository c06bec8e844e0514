// `npm run bench`: runs every bench/*.ts file (except this one and workflows.ts, the hand-written
// baselines bench/api.ts loads; bench/lib/ holds shared helpers) in its own process. Each compares
// against a baseline measured in the same run and prints ratios, never absolute verdicts.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
/** Flags (--large) go to every bench file. */
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
/**
 * The machine's CPU counters (Linux /proc/stat, in ticks): how busy it was during a file, and how much
 * time the host took from this virtual machine ("steal"), which slows every figure that counts
 * throughput rather than a ratio of two samples side by side. Undefined elsewhere.
 */
function cpuTicks(): { busy: number; steal: number; total: number } | undefined {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq!;
    return { busy, steal: steal!, total: busy + idle! + iowait! + steal! };
  } catch {
    return undefined;
  }
}

let failed = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'workflows.ts').sort()) {
  if (only.length && !only.some((o) => file.includes(o))) continue;
  console.log(`bench: ${file}`);
  const before = cpuTicks();
  const res = spawnSync(process.execPath, [join(dir, file), ...flags], { stdio: 'inherit' });
  const after = cpuTicks();
  if (before && after && after.total > before.total) {
    const share = (k: 'busy' | 'steal') => `${((100 * (after[k] - before[k])) / (after.total - before.total)).toFixed(1)}%`;
    console.log(`machine during ${file}: ${cpus().length} CPUs ${share('busy')} busy, ${share('steal')} of their time taken by the host (steal)`);
  }
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
