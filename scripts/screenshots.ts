// `npm run screenshots`: the key pages as PNGs in docs/screenshots/, taken by the browser tests
// (Debian's Chromium through playwright-core) against a seeded local stack with real runs: the
// real server, worker, Temporal dev server and sandbox tenant, as `npm test` starts them. The
// README and docs/screenshots.md show them. To add a page, add a line to SHOTS naming the test
// file and the shot it saves (test-results/<dir>/<shot>.png); a shot whose test file is not in this
// tree yet is listed as missing, not an error.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs', 'screenshots');

export interface Shot {
  /** File name in docs/screenshots (without .png). */
  name: string;
  caption: string;
  /** The test file that takes it, and where it saves it under test-results/. */
  test: string;
  from: string;
}

export const SHOTS: Shot[] = [
  { name: 'dashboard', caption: 'Home dashboard: runs per day by outcome, failing steps, approvals waiting, batches, throttling', test: 'designer-e2e', from: 'designer/dashboard' },
  { name: 'designer', caption: 'The designer with a runbook', test: 'designer-e2e', from: 'designer/editor' },
  { name: 'run-view', caption: 'A run, every step green', test: 'designer-e2e', from: 'designer/run-succeeded' },
  { name: 'run-waiting', caption: 'A run waiting for approval', test: 'designer-e2e', from: 'designer/run-waiting' },
  { name: 'approvals', caption: 'The approval inbox', test: 'designer-e2e', from: 'designer/approvals' },
  { name: 'bulk-check', caption: 'A bulk CSV checked row by row', test: 'designer-e2e', from: 'designer/bulk-report' },
  { name: 'batch', caption: 'A bulk batch: progress, rows by status with their runs, retry failed rows, the CSV report', test: 'designer-e2e', from: 'designer/batch' },
  { name: 'runbooks', caption: 'Runbooks', test: 'designer-e2e', from: 'designer/runbooks' },
  { name: 'evidence-pack', caption: "A run's evidence pack", test: 'evidence-e2e', from: 'evidence/evidence-pack' },
  { name: 'plan-view', caption: 'What approving lets run: the plan in the approval inbox', test: 'designer-plan', from: 'designer/plan-approval' },
  { name: 'run-changes', caption: 'What a step changed', test: 'designer-plan', from: 'designer/run-changes' },
  { name: 'undo-draft', caption: 'The generated undo runbook', test: 'designer-plan', from: 'designer/undo-runbook' },
  { name: 'plan-run-form', caption: 'What this run would change: the plan on the run form, before Start', test: 'designer-plan', from: 'designer/plan-run-form' },
  { name: 'undo-generated', caption: 'Generate undo: what the draft undoes, and what it cannot', test: 'designer-plan', from: 'designer/undo-generated' },
  { name: 'run-with-warnings', caption: 'A run that succeeded with warnings: amber, every warning listed', test: 'evidence-e2e', from: 'evidence/run-with-warnings' },
  { name: 'approval-phone', caption: 'One approval on a phone (390 px wide), where mail and Teams links land', test: 'approval-page-e2e', from: 'designer/approval-phone' },
  { name: 'helpdesk', caption: 'The help desk: the runbooks offered to an operator, as forms', test: 'helpdesk-e2e', from: 'helpdesk/helpdesk' },
  // Pages added later: their test saves the shot, and a line here names it.
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const tests = [...new Set(SHOTS.map((s) => s.test))].filter((t) => existsSync(join(root, 'test', `${t}.test.ts`)));
  const results = join(root, 'test-results');
  // --no-run: copy what the last browser test run saved (test-results/) without running them again.
  const rerun = !process.argv.includes('--no-run');
  let status = 0;
  if (rerun) {
    for (const s of SHOTS) rmSync(join(results, `${s.from}.png`), { force: true });
    console.log(`screenshots: running ${tests.join(', ')} (real stack, Chromium)...`);
    status = spawnSync(process.execPath, [join(root, 'scripts', 'test.ts'), ...tests], { cwd: root, stdio: 'inherit', env: { ...process.env, TEST_CONCURRENCY: '1' } }).status ?? 1;
  }
  mkdirSync(out, { recursive: true });
  const missing: string[] = [];
  for (const s of SHOTS) {
    const src = join(results, `${s.from}.png`);
    if (!existsSync(src)) {
      missing.push(`${s.name} (${s.test})`);
      continue;
    }
    copyFileSync(src, join(out, `${s.name}.png`));
    console.log(`screenshots: docs/screenshots/${s.name}.png`);
  }
  if (missing.length) console.log(`screenshots: not taken (their tests are not in this tree or did not get there): ${missing.join(', ')}`);
  process.exit(status);
}
