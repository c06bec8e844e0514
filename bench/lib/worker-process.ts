// Worker processes as production runs them (`npm run worker`), for the benchmarks that measure
// two workers sharing one tenant budget (bench/throttle.ts, bench/batch.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflows } from '../../worker/worker.ts';
import { childProcessEnv, type TestEnv } from '../../test/harness.ts';

/** A scratch directory holding the sandbox's CA and one workflow bundle every spawned worker loads. */
export async function workerScratch(env: TestEnv, name: string): Promise<{ dir: string; bundle: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), `tenantflow-bench-${name}-`));
  writeFileSync(join(dir, 'ca.pem'), env.sandbox.caPem);
  const bundle = process.env.TENANTFLOW_WORKFLOW_BUNDLE ?? join(dir, 'workflow-bundle.js');
  if (!process.env.TENANTFLOW_WORKFLOW_BUNDLE) writeFileSync(bundle, (await bundleWorkflows()).code);
  return { dir, bundle, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `worker/main.ts` serving `taskQueue` (and its tenants' budget queues); resolves once it polls. */
export function workerProcess(env: TestEnv, taskQueue: string, scratch: string, bundle: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../worker/main.ts', import.meta.url))], {
    env: {
      ...childProcessEnv(env, join(scratch, 'ca.pem'), taskQueue),
      TENANTFLOW_WORKFLOW_BUNDLE: bundle,
      TENANTFLOW_DATA: scratch,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker: polling')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker process exited (${code}) before it polled: ${out}`)));
  });
}

/** SIGTERM first (the SDK's graceful shutdown); a process that does not exit in 30 s is killed. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const late = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await gone;
  clearTimeout(late);
}
