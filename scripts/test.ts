// `npm test`: one throwaway Temporal dev server (in memory, free ports) and one workflow bundle
// for the whole run, then every test file under the Node test runner against them. The last line
// printed is the test runner's own summary.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflows } from '../worker/worker.ts';
import { startDevServer, type DevServer } from './temporal.ts';
import { sambaEnv, sambaUnavailable, startSambaDc, type SambaDc } from './samba.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'tenantflow-test-'));

let server: DevServer | undefined;
let address = process.env.TEMPORAL_ADDRESS;
if (!address && process.env.TENANTFLOW_TEST_TEMPORAL === 'postgres') {
  // `npm run test:temporal-pg`: the Temporal server itself on PostgreSQL (scripts/temporal-pg.ts).
  console.log('test: starting the Temporal server on a throwaway PostgreSQL...');
  const { startTemporalOnPostgres } = await import('./temporal-pg.ts');
  server = await startTemporalOnPostgres();
  address = server.address;
} else if (!address) {
  console.log('test: starting a throwaway Temporal dev server...');
  server = await startDevServer({ headless: true });
  address = server.address;
}
const bundlePath = join(scratch, 'workflow-bundle.js');
writeFileSync(bundlePath, (await bundleWorkflows()).code);

const filter = process.argv.slice(2);
const files = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
  .sort()
  .map((f) => join('test', f));

// One Samba AD DC for the whole run when a hybrid test is selected (test/ad-*, test/hybrid-*).
let dc: SambaDc | undefined;
const adEnv: Record<string, string> = {};
if (files.some((f) => /\/(ad|hybrid)-/.test(f))) {
  const why = sambaUnavailable();
  if (why) {
    console.log(`test: the on-premises AD tests are skipped: ${why}`);
    adEnv.TENANTFLOW_TEST_AD_SKIP = why;
  } else {
    console.log('test: provisioning a throwaway Samba AD domain controller...');
    dc = await startSambaDc();
    Object.assign(adEnv, sambaEnv(dc));
  }
}

// Stop the DC and the dev server when the run is interrupted.
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    void Promise.all([dc?.stop(), server?.stop()]).finally(() => process.exit(130));
  });

const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    // A file whose tests are done exits even if a handle is left open, and no test hangs CI.
    '--test-force-exit',
    `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? 300_000}`,
    ...files,
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      TENANTFLOW_TEST_TEMPORAL_ADDRESS: address,
      TENANTFLOW_WORKFLOW_BUNDLE: bundlePath,
      TENANTFLOW_TEST_ARTIFACTS: join(root, 'test-results'),
      ...adEnv,
    },
  },
);
const code: number = await new Promise((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
await server?.stop();
await dc?.stop();
rmSync(scratch, { recursive: true, force: true });
process.exit(code);
