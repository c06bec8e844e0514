// The designer in a real browser (Debian's Chromium through playwright-core) against the real
// server, worker, Temporal dev server and sandbox tenant: build a runbook from an empty canvas by
// drag and drop, fill its forms, watch a validation problem appear and clear, publish, run it,
// approve it from the inbox as someone else, watch every node turn green; then bulk-check a CSV
// with one bad row. Screenshots of each main page go to test-results/designer/.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { pollApi, type ApiServer } from './api-harness.ts';
import { ARTIFACTS, CHROMIUM, canvasSettled as settled, connectHandles, signIn as signInAs, signOut as signOutOf, startDesignerSession, type DesignerSession } from './designer-kit.ts';
import type { TestEnv } from './harness.ts';

const artifacts = ARTIFACTS;
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const DESIGNER = 'dana.designer@tenantflow.test';
const APPROVER = 'aaron.approver@tenantflow.test';

let session: DesignerSession;
let env: TestEnv;
let api: ApiServer;
let base: string;
let page: Page;

before(async () => {
  session = await startDesignerSession(
    [
      { email: DESIGNER, name: 'Dana Designer', grants: [['*', 'admin']] },
      { email: APPROVER, name: 'Aaron Approver', grants: [['sandbox', 'approver'], ['sandbox', 'viewer']] },
    ],
    PASSWORD,
  );
  ({ env, api, base, page } = session);
});

after(async () => session?.close());

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** axe-core in the page: no serious or critical accessibility violation (WCAG 2 A/AA rules). */
async function a11y(name: string) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(violations, [], `accessibility problems on ${name}`);
}
const shot = async (name: string) => {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
  await a11y(name);
};

const signIn = (email: string) => signInAs(page, base, email, PASSWORD);
const signOut = () => signOutOf(page);

const canvasSettled = () => settled(page);

async function dropOnCanvas(paletteKey: string, at: { x: number; y: number }) {
  const canvas = page.locator('[data-testid="canvas"] .react-flow__pane');
  await page.locator(`[data-palette="${paletteKey}"]`).dragTo(canvas, { targetPosition: at });
}

async function autoLayout() {
  await page.click('button:has-text("Auto layout")');
  await canvasSettled();
}

const connect = (source: string, handle: string, target: string) => connectHandles(page, source, handle, target);

async function select(nodeId: string) {
  // A click that lands while the canvas is still moving (auto layout, fit view) can miss the node
  // on a loaded machine: click again, up to three times, until its inspector shows.
  for (let attempt = 1; ; attempt++) {
    await page.locator(`.react-flow__node[data-id="${nodeId}"] .flow-node-head`).click();
    try {
      await page.waitForSelector(`.inspector[aria-label="Step ${nodeId}"]`, { timeout: attempt < 3 ? 5000 : 15000 });
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
      await canvasSettled();
    }
  }
}

/** Renames the selected step through the inspector's Step id field. */
async function rename(from: string, to: string) {
  await select(from);
  await page.locator('.inspector [data-field="id"] input').fill(to);
  await page.locator('.inspector [data-field="id"] input').press('Enter');
  await page.waitForSelector(`.react-flow__node[data-id="${to}"]`);
}

async function param(name: string, value: string) {
  await page.locator(`[data-field="params.${name}"] input`).fill(value);
}

/** Waits for a node of the run view to show a status; on timeout, says what the API knows. */
async function nodeTurns(runId: string, nodeId: string, status: string) {
  try {
    const node = `.flow-node[data-node-id="${nodeId}"]`;
    await page.waitForSelector(`${node}[data-status="${status}"], ${node}[data-status="failed"], ${node}[data-status="cancelled"]`, { timeout: 45_000 });
    assert.equal(await page.locator(node).getAttribute('data-status'), status);
  } catch (err) {
    const run = await api.admin.call('GET', `/api/runs/${runId}`);
    throw new Error(`${nodeId} did not turn ${status}; the run: ${JSON.stringify(run.body.nodes?.[nodeId] ?? run.body, null, 1)}`, { cause: err });
  }
}

const problems = () => page.locator('.problems h2').innerText();

/** Presses Tab (Shift+Tab with `back`) until the focused element matches `selector`: how a keyboard user gets there. */
async function tabTo(selector: string, back = false) {
  const target = page.locator(selector).first();
  await target.waitFor();
  for (let i = 0; i < 300; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

let hired = '';

/** Signs in with Tab, typing and Enter. */
async function signInByKeyboard(email: string) {
  await page.waitForSelector('input[name="email"]');
  await tabTo('input[name="email"]');
  await page.keyboard.type(email);
  await tabTo('input[name="password"]');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForSelector('nav.sidebar');
}

describe('designer in the browser', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)` }, () => {
  let runbookUrl = '';

  it('builds the onboarding runbook by drag and drop, validates as you type, and publishes it', async () => {
    await signIn(DESIGNER);
    await page.waitForSelector('[data-page="dashboard"] .dash-grid');
    await page.click('nav a:has-text("Runbooks")');
    await page.waitForSelector('[data-runbook="onboarding"]');
    await shot('runbooks');

    await page.click('button:has-text("New runbook")');
    await page.click('[data-template="blank"]');
    await page.waitForSelector('.editor .react-flow__node[data-id="done"]');
    runbookUrl = new URL(page.url()).pathname;
    await page.fill('input[aria-label="Runbook name"]', 'Onboard from the designer');

    // Inputs: the run form's fields.
    await page.click('.side .tab:has-text("Inputs")');
    const inputs: [string, string, boolean, string?][] = [
      ['userPrincipalName', 'string', true],
      ['givenName', 'string', true],
      ['surname', 'string', true],
      ['licence', 'licence', false, 'SPE_E3'],
      ['group', 'group', false, 'All Company'],
    ];
    for (const [name, type, required, fallback] of inputs) {
      await page.click('button:has-text("+ Add input")');
      const card = page.locator('.input-card').last();
      await card.locator('input[aria-label="Input name"]').fill(name);
      await card.locator('select[aria-label="Input type"]').selectOption(type);
      if (required) await card.locator('input[type="checkbox"]').first().check();
      if (fallback) await card.locator('input[aria-label="Input default"]').fill(fallback);
    }

    // Steps from the palette, dropped on the canvas; then named as in server/examples/onboarding.json.
    await dropOnCanvas('approval', { x: 120, y: 60 });
    await dropOnCanvas('user.create', { x: 120, y: 220 });
    await dropOnCanvas('licence.assign', { x: 40, y: 380 });
    await dropOnCanvas('group.addMember', { x: 300, y: 380 });
    await dropOnCanvas('end', { x: 420, y: 220 });
    for (const [from, to] of [
      ['approval', 'approve_request'],
      ['user_create', 'create_user'],
      ['licence_assign', 'assign_licence'],
      ['group_addMember', 'add_to_group'],
      ['end', 'rejected'],
    ]) await rename(from!, to!);
    await autoLayout();

    await connect('approve_request', 'approved', 'create_user');
    await connect('approve_request', 'rejected', 'rejected');
    await connect('create_user', 'out', 'assign_licence');
    await connect('create_user', 'out', 'add_to_group');
    await connect('assign_licence', 'out', 'done');
    await connect('add_to_group', 'out', 'done');
    await autoLayout();

    // A new approval has no approver: the shared validator says so, on the node and in the list.
    await page.waitForSelector('.problem:has-text("name at least one approver")');
    assert.equal(await page.locator('[data-action="publish"]').isDisabled(), true, 'publishing is blocked while problems remain');
    await select('approve_request');
    await page.locator('[data-field="approvers.roles"] input').fill('approver');
    await page.waitForSelector('.problem:has-text("name at least one approver")', { state: 'detached' });
    await page.locator('[data-field="message"] textarea').fill("Create an account for {{ inputs.givenName & ' ' & inputs.surname }}?");

    await select('create_user');
    await param('userPrincipalName', '{{ inputs.userPrincipalName }}');
    await param('displayName', "{{ inputs.givenName & ' ' & inputs.surname }}");
    await param('surname', '{{ inputs.surname }}');
    await param('usageLocation', 'US');
    // Completion offers the runbook's inputs inside {{ }}, and the preview evaluates sample data.
    const given = page.locator('[data-field="params.givenName"] input');
    await given.fill('{{ inputs.gi');
    await page.waitForSelector('.completions li:has-text("inputs.givenName")');
    await given.press('Enter');
    await given.type(' }}');
    assert.equal(await given.inputValue(), '{{ inputs.givenName }}');
    await page.waitForSelector('[data-field="params.givenName"] .preview:has-text("Anna")');

    await select('assign_licence');
    await param('user', '{{ steps.create_user.output.id }}');
    await param('licences', '{{ inputs.licence }}');

    await select('add_to_group');
    await param('group', '{{ inputs.group }}');
    await param('user', '{{ steps.create_user.output.id }}');

    await select('rejected');
    await page.locator('[data-field="message"] input').fill('The request was rejected; nothing was created');
    await page.waitForFunction(() => document.querySelector('.problems h2')?.textContent === 'No problems');
    assert.equal(await page.locator('.react-flow__node').count(), 6);
    await shot('editor');

    await page.click('[data-action="publish"]');
    await page.waitForSelector('.banner-ok:has-text("Published version 1")');
    assert.equal(await problems(), 'No problems');

    // Palette categories fold away.
    await page.click('[data-group="Flow"] .palette-group-toggle');
    await page.waitForSelector('[data-palette="approval"]', { state: 'detached' });
    await page.click('[data-group="Flow"] .palette-group-toggle');
    await page.waitForSelector('[data-palette="approval"]');
  });

  it('runs it, is approved from the inbox by someone else, and every node turns green', async () => {
    const upn = `new.hire.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    hired = upn;
    await page.goto(`${base}${runbookUrl}/run?givenName=Nia&surname=Okafor`);
    await page.waitForSelector('[data-input="userPrincipalName"] input');
    assert.equal(await page.locator('[data-input="givenName"] input').inputValue(), 'Nia', 'the query string prefills the form');
    await page.locator('[data-input="userPrincipalName"] input').fill(upn);
    await shot('run-form');
    await page.click('[data-action="start-run"]');
    await page.waitForURL(/\/runs\/run-/);
    const runUrl = new URL(page.url()).pathname;
    await page.waitForSelector('.flow-node[data-node-id="approve_request"][data-status="waiting-approval"]', { timeout: 30_000 });
    await page.waitForSelector('text=another approver has to decide');
    await page.waitForSelector('.run-page[data-live="live"]'); // the server's event stream, not polling
    await shot('run-waiting');

    await signOut();
    await signIn(APPROVER);
    await page.click('nav a:has-text("Approvals")');
    const task = page.locator('[data-task]').first();
    await task.waitFor({ timeout: 30_000 });
    await task.locator('text=Create an account for Nia Okafor?').waitFor();
    await shot('approvals');
    await task.locator('textarea').fill('welcome aboard');
    await task.locator('button:has-text("Approve")').click();
    await task.locator('.banner-ok:has-text("Approved")').waitFor();

    await page.goto(`${base}${runUrl}`);
    const runId = runUrl.split('/').pop()!;
    for (const id of ['approve_request', 'create_user', 'assign_licence', 'add_to_group', 'done']) await nodeTurns(runId, id, 'succeeded');
    await nodeTurns(runId, 'rejected', 'skipped');
    await page.waitForSelector('.run-page .badge.status-succeeded');
    // Green is what the operator sees, not only an attribute.
    const colour = await page.locator('.flow-node[data-node-id="create_user"]').evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.match(colour, /rgb\((\d+), (\d+), (\d+)\)/);
    const [r, g, b] = colour.match(/\d+/g)!.map(Number);
    assert.ok(g! > r! && g! > b!, `a succeeded node is green (${colour})`);
    await shot('run-succeeded');

    const user = (await env.graph.api(`/users/${upn}`).select('displayName,assignedLicenses').get()) as { displayName: string; assignedLicenses: unknown[] };
    assert.equal(user.displayName, 'Nia Okafor');
    assert.equal(user.assignedLicenses.length, 1);
  });

  it('checks a bulk CSV row by row before anything starts, and starts the good rows', async () => {
    await signOut();
    await signIn(DESIGNER);
    await page.goto(`${base}${runbookUrl}/run`);
    await page.click('.tab:has-text("Bulk from CSV")');
    const d = env.sandbox.tenant.domain;
    const csv = [
      'userPrincipalName,givenName,surname',
      `bulk.one.${randomUUID().slice(0, 6)}@${d},One,Bulk`,
      `bulk.two.${randomUUID().slice(0, 6)}@${d},,Bulk`,
      `bulk.three.${randomUUID().slice(0, 6)}@${d},Three,Bulk`,
    ].join('\n');
    await page.locator('input[data-field="csv"]').setInputFiles({ name: 'hires.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.waitForSelector('.bulk-report h3:has-text("2 rows ready · 1 with problems")');
    await page.waitForSelector('tr[data-row="3"].row-bad:has-text("givenName")');
    assert.equal(await page.locator('[data-action="start-bulk"]').isDisabled(), true, 'nothing starts while a row is bad');
    await shot('bulk-report');
    await page.locator('label:has-text("Skip the 1 bad row") input').check();
    await page.click('[data-action="start-bulk"]');
    await page.waitForSelector('.banner-ok:has-text("2 rows queued")', { timeout: 30_000 });
    await page.click('.banner-ok a:has-text("Follow the batch")');
    await page.waitForSelector('[data-page="batch"] [data-count="pending"], [data-page="batch"]');
    await page.click('nav a:has-text("Runs")');
    await page.waitForSelector('[data-page="runs"][data-live="live"]');
    // The batch starts its rows' runs in the background: wait for them (a slow machine takes a while).
    await page.waitForFunction(() => document.querySelectorAll('tr[data-run]').length >= 3, undefined, { timeout: 120_000 });
    await shot('runs');
  });

  it('schedules a runbook, pauses and resumes it', async () => {
    await page.click('nav a:has-text("Schedules")');
    await page.click('button:has-text("New schedule")');
    const form = page.locator('form[aria-label="New schedule"]');
    await form.locator('select[name="runbook"]').selectOption(runbookUrl.split('/').pop()!);
    await form.locator('label:has-text("every interval") input').check();
    await form.locator('input[name="when"]').fill('1h');
    await form.locator('[data-input="userPrincipalName"] input').fill(`scheduled@${env.sandbox.tenant.domain}`);
    await form.locator('[data-input="givenName"] input').fill('Sched');
    await form.locator('[data-input="surname"] input').fill('Uled');
    await form.locator('[data-action="create-schedule"]').click();
    const row = page.locator('tr[data-schedule]').first();
    await row.locator('td:has-text("every")').waitFor();
    await row.locator('.upcoming div').first().waitFor(); // upcoming times from Temporal
    await row.locator('button:has-text("Pause")').click();
    await row.locator('[data-state="paused"]').waitFor();
    await shot('schedules');
    await row.locator('button:has-text("Resume")').click();
    await row.locator('[data-state="active"]').waitFor();
  });

  it('shows the dashboard with charts drawn from the real runs, each linking to its runs', async () => {
    await page.click('nav a:has-text("Dashboard")');
    const perDay = page.locator('[data-chart="runs-per-day"]');
    // Bars drawn by recharts from GET /api/dashboard: the runs above (approved, bulk) are counted.
    await perDay.locator('.recharts-bar-rectangle path, .recharts-bar-rectangle').first().waitFor();
    // The dashboard reads the run records, which follow Temporal a moment behind.
    const dash = await pollApi(api.admin, '/api/dashboard', (d) => d.days.at(-1).total >= 3 && d.batches.some((b: { runs: number }) => b.runs === 2), 120_000);
    const today = dash.days.at(-1);
    assert.ok(today.total >= 3, `today counts the runs started above: ${JSON.stringify(today)}`);
    assert.ok((today.counts.succeeded ?? 0) >= 1, 'the approved run succeeded');
    assert.ok(dash.batches.some((b: { runs: number }) => b.runs === 2), 'the bulk batch of 2 runs');
    await page.locator('[data-chart="batches"] [data-batch]').first().waitFor();
    await page.locator('[data-chart="throttling"] [data-throttle="sandbox"]').waitFor();
    // The gate's rate now, read from the worker's own /metrics: the runs above called Graph.
    const gate = page.locator('[data-chart="throttling"] [data-gate="sandbox"]');
    await gate.waitFor();
    assert.match(await gate.innerText(), /directory:\w+ \d+\.\d\/s.* of \d+ answers 429/);
    await page.locator('[data-chart="schedules"] [data-next]').first().waitFor(); // the schedule made above
    await shot('dashboard');
    // The outcome legend links to the run list filtered by that outcome.
    await perDay.locator('a[data-status="succeeded"]').click();
    await page.waitForURL(/\/runs\?status=succeeded/);
    await page.waitForSelector('.filter-note');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-run]').length >= 1);
    const shown = await page.locator('tr[data-run] .badge').allInnerTexts();
    assert.ok(shown.every((t) => t === 'Succeeded'), `only succeeded runs: ${shown.join(', ')}`);
    // A batch links to its page: progress, its rows with their runs, retry and the CSV report.
    await page.click('nav a:has-text("Dashboard")');
    await page.locator('[data-chart="batches"] [data-batch] a').first().click();
    await page.waitForURL(/\/batches\//);
    // The CSV's three rows: two ran (each links to its run), the bad one was skipped.
    await page.waitForFunction(() => document.querySelectorAll('[data-page="batch"] tr[data-row]').length === 3 && document.querySelectorAll('[data-page="batch"] tr[data-row] a').length === 2);
    assert.equal(await page.locator('[data-page="batch"] tr[data-row][data-status="skipped"]').count(), 1);
    await shot('batch');
  });

  it('tests the tenant connection and lists missing permissions', async () => {
    await page.click('nav a:has-text("Tenants")');
    const card = page.locator('[data-tenant="sandbox"]');
    await card.locator('[data-action="test-connection"]').click();
    await card.locator('.test-result:has-text("Connected")').waitFor();
    await shot('tenants');
  });

  it('compares a version with the draft using the server\'s diff', async () => {
    await page.goto(`${base}${runbookUrl}`);
    await page.click('[role="tab"]:has-text("Versions")');
    await page.locator('.versions button:has-text("Compare")').first().click();
    const dialog = page.locator('dialog.compare');
    await dialog.locator('[data-diff-source="server"]').waitFor();
    await dialog.locator('.compare-changes').waitFor();
    await shot('compare');
    await dialog.locator('button:has-text("Close")').click();
    await dialog.waitFor({ state: 'detached' });
  });

  let copy = '';
  it('clones a runbook, archives the copy (hidden from the list) and restores it', async () => {
    const id = runbookUrl.split('/').pop()!;
    await page.click('nav a:has-text("Runbooks")');
    await page.locator(`tr[data-runbook="${id}"] button:has-text("Clone")`).click();
    await page.waitForURL((u) => u.pathname.startsWith('/runbooks/') && u.pathname !== runbookUrl);
    copy = new URL(page.url()).pathname.split('/').pop()!;
    assert.match(await page.locator('input[aria-label="Runbook name"]').inputValue(), /\(copy\)$/);
    await page.locator('.editor-bar button:has-text("Archive")').click();
    await page.locator('.editor-notices:has-text("archived")').waitFor();
    await page.click('a[aria-label="Back to runbooks"]');
    await page.locator(`tr[data-runbook="${id}"]`).waitFor();
    assert.equal(await page.locator(`tr[data-runbook="${copy}"]`).count(), 0);
    await page.check('input[aria-label="Show archived"]');
    const row = page.locator(`tr[data-runbook="${copy}"]`);
    await row.locator('.tag:has-text("archived")').waitFor();
    await row.locator('button:has-text("Restore")').click();
    await row.locator('button:has-text("Archive")').waitFor();
    await page.uncheck('input[aria-label="Show archived"]');
    await row.waitFor();
  });

  it('edits a loop\'s steps as a list: add, fill in with the step form, reorder, and see the JSON', async () => {
    await page.goto(`${base}/runbooks/${copy}`);
    await page.click('[data-palette="forEach"]');
    const inspector = page.locator('.side .inspector');
    await inspector.locator('[data-body-step="each"]').waitFor();
    await inspector.locator('select[aria-label="Add a step"]').selectOption('delay');
    await inspector.locator('select[aria-label="Add a step"]').selectOption('delay');
    // The new step opens with the delay's own form; steps go before the final end.
    const second = inspector.locator('[data-body-step="delay_2"]');
    await second.locator('.body-step-form [data-field="duration"] input').fill('5m');
    await second.locator('button[aria-label="Move delay_2 up"]').click();
    const order = () => inspector.locator('[data-body-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-body-step')).join());
    assert.equal(await order(), 'delay_2,delay,each');
    await shot('foreach-body');
    await inspector.locator('input[aria-label="Edit the steps as JSON"]').check();
    const json = JSON.parse(await inspector.locator('textarea[aria-label="Steps per item"]').inputValue());
    assert.deepEqual(json.nodes.map((n: { id: string }) => n.id), ['delay_2', 'delay', 'each']);
    assert.equal(json.nodes[0].duration, '5m');
    assert.deepEqual(json.edges, [
      { source: 'delay_2', sourceHandle: 'out', target: 'delay' },
      { source: 'delay', sourceHandle: 'out', target: 'each' },
    ]);
  });

  it('grants and revokes a role, and shows pages by role', async () => {
    await page.click('nav a:has-text("People")');
    const row = page.locator(`tr[data-person="${APPROVER}"]`);
    await row.locator('select[aria-label="Role"]').selectOption('operator');
    await row.locator('select[aria-label="Tenant"]').selectOption('sandbox');
    await row.locator('button:has-text("Grant")').click();
    await row.locator('[data-grant="sandbox:operator"]').waitFor();
    await shot('people');
    await row.locator('button[aria-label^="Revoke operator on sandbox"]').click();
    await row.locator('[data-grant="sandbox:operator"]').waitFor({ state: 'detached' });

    await page.click('nav a:has-text("Audit log")');
    await page.waitForSelector('[data-page="audit"] td:has-text("user.granted")');
    await shot('audit');

    // An approver sees neither people nor the audit log.
    await signOut();
    await signIn(APPROVER);
    await page.waitForSelector('nav a:has-text("Approvals")');
    await page.waitForSelector('nav a:has-text("People")', { state: 'detached' });
    assert.equal(await page.locator('nav a:has-text("Audit log")').count(), 0);
    // Nor clone or archive buttons, which the server would refuse them.
    await page.click('nav a:has-text("Runbooks")');
    await page.waitForSelector('[data-runbook="onboarding"]');
    assert.equal(await page.locator('[data-runbook] button:has-text("Clone"), [data-runbook] button:has-text("Archive")').count(), 0);
    await page.goto(`${base}${runbookUrl}`);
    await page.waitForSelector('.editor-bar');
    assert.equal(await page.locator('.editor-bar button:has-text("Clone"), .editor-bar button:has-text("Archive")').count(), 0);
    await a11y('runbooks-approver');
  });

  it('clears the catalog error once the one-time password is changed', async () => {
    await signOut();
    const email = `first.login.${randomUUID().slice(0, 6)}@tenantflow.test`;
    const first = await api.services.people.create({ email, name: 'First Login', password: PASSWORD, mustChangePassword: true });
    await api.services.people.grant(first.id, 'sandbox', 'designer');
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('input[type="password"] >> nth=1');
    await a11y('change-password');
    const pw = page.locator('input[type="password"]');
    const n = await pw.count();
    const fresh = `${PASSWORD}-new-Xy9`;
    for (let i = 0; i < n; i++) await pw.nth(i).fill(i === 0 ? PASSWORD : fresh);
    await page.click('button:has-text("Change password")');
    await page.waitForSelector('nav.sidebar');
    await page.click('nav a:has-text("Runbooks")');
    await page.waitForSelector('[data-runbook="onboarding"]');
    assert.equal(await page.locator('[data-banner="catalog"]').count(), 0, 'no catalog error after the password change');
    await page.goto(`${base}${runbookUrl}`);
    await page.waitForSelector('[data-palette="user.create"]'); // the catalog loaded
    assert.equal(await page.locator('[data-banner="catalog"]').count(), 0);
  });
  it('builds, publishes, runs and approves a runbook with the keyboard only', async () => {
    await signOut();
    const type = async (text: string) => page.keyboard.type(text);
    // Sign in as the designer: Tab between fields, Enter submits.
    await page.goto(`${base}/`);
    await signInByKeyboard(DESIGNER);
    await tabTo('nav a[href="/runbooks"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-runbook="onboarding"]');
    // Build it from the approval template, name it, publish it.
    await tabTo('button:has-text("New runbook")');
    await page.keyboard.press('Enter');
    await tabTo('[data-template="licence-request"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.editor .react-flow__node[data-id="approve"]');
    await tabTo('input[aria-label="Runbook name"]');
    await page.keyboard.press('Control+A');
    await type('Licence by keyboard');
    // A step added from the palette with Enter lands on the canvas.
    const before = await page.locator('.react-flow__node').count();
    await tabTo('[data-palette="delay"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length === n + 1, before);
    // It is not connected yet: undo it (the Undo button, by keyboard), and the runbook is valid again.
    await tabTo('.editor-bar button:has-text("Undo")', true);
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length === n, before);
    await page.waitForFunction(() => document.querySelector('.problems h2')?.textContent === 'No problems');
    await tabTo('[data-action="publish"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.banner-ok:has-text("Published version 1")');
    await a11y('keyboard-editor');
    const id = new URL(page.url()).pathname.split('/').pop()!;
    // Run it.
    await tabTo('button:has-text("Run v1")');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-input="user"] input');
    await tabTo('[data-input="user"] input');
    await type(hired);
    await tabTo('[data-action="start-run"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/runs\/run-/);
    const runId = new URL(page.url()).pathname.split('/').pop()!;
    await page.waitForSelector('.flow-node[data-node-id="approve"][data-status="waiting-approval"]', { timeout: 30_000 });
    // The approver signs in and approves, keyboard only.
    await tabTo('button:has-text("Sign out")');
    await page.keyboard.press('Enter');
    await signInByKeyboard(APPROVER);
    await tabTo('nav a[href="/approvals"]');
    await page.keyboard.press('Enter');
    const task = page.locator(`[data-task]:has-text("${runId}"), [data-task]:has-text("Licence by keyboard")`).first();
    await task.waitFor({ timeout: 30_000 });
    await a11y('keyboard-approvals');
    await tabTo(`[data-task]:has-text("Licence by keyboard") textarea`);
    await type('ok by keyboard');
    await tabTo(`[data-task]:has-text("Licence by keyboard") button:has-text("Approve")`);
    await page.keyboard.press('Enter');
    await task.locator('.banner-ok:has-text("Approved")').waitFor();
    const run = await api.admin.call('GET', `/api/runs/${runId}`);
    assert.equal(run.body.runbook, id);
    for (let i = 0; i < 150; i++) {
      const r = await api.admin.call('GET', `/api/runs/${runId}`);
      if (r.body.status !== 'running' && r.body.status !== 'waiting-approval') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const done = await api.admin.call('GET', `/api/runs/${runId}`);
    assert.equal(done.body.nodes.approve.status, 'succeeded');
    assert.equal(done.body.decisions[0]?.comment, 'ok by keyboard');
  });
});
