// Plans and undo in the designer (docs/plan.md), in a real browser against the real server,
// worker, Temporal and sandbox: the run form shows what the run would change before Start, the
// approvals inbox shows what approving lets run, the run view shows each step's changes and
// generates the undo runbook. Screenshots go to test-results/designer/ (the README's come from here).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ApiServer } from './api-harness.ts';
import { ARTIFACTS, canvasSettled, CHROMIUM, signIn, signOut, startDesignerSession, type DesignerSession } from './designer-kit.ts';
import type { TestEnv } from './harness.ts';

const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const DESIGNER = 'pat.planner@tenantflow.test';
const APPROVER = 'ada.approver@tenantflow.test';

let session: DesignerSession;
let env: TestEnv;
let api: ApiServer;
let base: string;
let page: Page;

before(async () => {
  session = await startDesignerSession(
    [
      { email: DESIGNER, name: 'Pat Planner', grants: [['*', 'admin']] },
      { email: APPROVER, name: 'Ada Approver', grants: [['sandbox', 'approver'], ['sandbox', 'viewer']] },
    ],
    PASSWORD,
    { width: 1280, height: 900 },
  );
  ({ env, api, base, page } = session);
  page.setDefaultTimeout(20_000);
});

after(async () => session?.close());

const shot = (name: string, what?: string) => (what ? page.locator(what).first().screenshot({ path: join(ARTIFACTS, `${name}.png`) }) : page.screenshot({ path: join(ARTIFACTS, `${name}.png`) }));

describe('plans and undo in the designer', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)` }, () => {
  const tag = `planned.hire.${randomUUID().slice(0, 8)}`;
  const hire = () => `${tag}@${env.sandbox.tenant.domain}`;
  let runUrl = '';

  it('shows on the run form what the run would change, before Start', async () => {
    await signIn(page, base, DESIGNER, PASSWORD);
    await page.goto(`${base}/runbooks/onboarding/run?userPrincipalName=${encodeURIComponent(hire())}&givenName=Nia&surname=Okafor&jobTitle=Analyst&department=Finance`);
    const create = page.locator('[data-plan="run"] [data-plan-step="create_user"]');
    await create.waitFor();
    assert.match(await create.innerText(), /runs if approve_request is approved/);
    assert.equal(await create.locator(`[data-change="user ${hire()}|jobTitle"] td`).last().innerText(), 'Analyst');
    assert.match(await page.locator('[data-plan="run"] [data-plan-step="assign_licence"]').innerText(), /known after the run/);
    assert.match(await page.locator('[data-plan="run"] .plan-summary').innerText(), /3 steps change something/);
    await shot('plan-run-form', '.plan-panel');

    // A licence the tenant does not have: the plan says the step would fail, and why.
    await page.locator('[data-input="licence"] input').fill('NOT_A_SKU');
    await page.locator('[data-plan="run"] [data-plan-step="assign_licence"] .would-fail').waitFor();
    assert.match(await page.locator('[data-plan="run"] [data-plan-step="assign_licence"] .would-fail').innerText(), /Would fail: licence NOT_A_SKU is not subscribed/);
    await page.locator('[data-input="licence"] input').fill('');
    await page.locator('[data-plan="run"] [data-plan-step="assign_licence"] .would-fail').waitFor({ state: 'detached' });

    await page.click('[data-action="start-run"]');
    await page.waitForURL(/\/runs\/run-/);
    runUrl = new URL(page.url()).pathname;
    await page.waitForSelector('.flow-node[data-node-id="approve_request"][data-status="waiting-approval"]', { timeout: 30_000 });
  });

  it('shows the approver what approving lets run', async () => {
    await signOut(page);
    await signIn(page, base, APPROVER, PASSWORD);
    await page.click('nav a:has-text("Approvals")');
    const task = page.locator(`[data-task="${runUrl.split('/').pop()}/approve_request"]`);
    await task.waitFor({ timeout: 30_000 });
    const gated = task.locator('[data-plan="approve_request"]');
    await gated.waitFor();
    assert.match(await gated.locator('h3').innerText(), /what approving lets run/i);
    assert.equal(await gated.locator(`[data-plan-step="create_user"] [data-change="user ${hire()}|exists"] td`).last().innerText(), 'yes');
    await shot('plan-approval', `[data-task="${runUrl.split('/').pop()}/approve_request"]`);
    await task.locator('button:has-text("Approve")').click();
    await task.locator('.banner-ok:has-text("Approved")').waitFor();
  });

  it('shows what each step changed, and generates the undo runbook of the finished run', async () => {
    await signOut(page);
    await signIn(page, base, DESIGNER, PASSWORD);
    await page.goto(`${base}${runUrl}`);
    await page.waitForSelector('.run-page .badge.status-succeeded', { timeout: 45_000 });
    await canvasSettled(page);
    await page.locator('.react-flow__node[data-id="create_user"] .flow-node-head').click();
    const changes = page.locator('.step-panel[data-step="create_user"] table[aria-label="Changes this step made"]');
    await changes.waitFor();
    assert.equal(await changes.locator(`[data-change="user ${hire()}|exists"] td`).last().innerText(), 'yes');
    await shot('run-changes');
    await page.click('[data-action="generate-undo"]');
    const undo = page.locator('[data-undo]');
    await undo.waitFor();
    const id = await undo.getAttribute('data-undo');
    assert.match(id!, /^undo-onboarding-/);
    assert.match(await undo.innerText(), /Created the draft undo runbook Undo: Onboard a new employee .* \(4 steps\)\. Review it, publish it, then run it\./);
    await shot('undo-generated');
    await undo.locator('a').click();
    await page.waitForSelector('.editor .react-flow__node[data-id="undo_create_user"]');
    await shot('undo-runbook');
    const draft = await api.admin.call('GET', `/api/runbooks/${id}`);
    const ids = draft.body.draft.nodes.map((n: { id: string }) => n.id);
    assert.deepEqual([ids[0], ids.at(-1)], ['approve_undo', 'undo_create_user']);
    assert.deepEqual(ids.slice(1, 3).sort(), ['undo_add_to_group', 'undo_assign_licence']);
  });
});
