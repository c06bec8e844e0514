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

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'tenantflow-test-'));

let server: DevServer | undefined;
let address = process.env.TEMPORAL_ADDRESS;
if (!address) {
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
    },
  },
);
const code: number = await new Promise((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
await server?.stop();
rmSync(scratch, { recursive: true, force: true });
process.exit(code);
