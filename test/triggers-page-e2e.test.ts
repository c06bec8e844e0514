// The Triggers page in a real browser against the real server: a designer creates a date trigger
// (hire date − 7 days for Sales) and a webhook trigger, sees them listed with their settings,
// pauses one and sees it paused (the API agrees), and deletes it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ARTIFACTS, signIn, startDesignerSession, type DesignerSession } from './designer-kit.ts';

const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const DESIGNER = 'tara.triggers@tenantflow.test';
let session: DesignerSession;
let page: Page;

before(async () => {
  session = await startDesignerSession([{ email: DESIGNER, name: 'Tara Triggers', grants: [['sandbox', 'designer'], ['sandbox', 'viewer']] }], PASSWORD);
  page = session.page;
  const definition = { name: 'Pre-boarding', inputs: [{ name: 'upn', type: 'string', required: true }], nodes: [{ id: 'done', kind: 'end', status: 'succeeded' }], edges: [] };
  assert.equal((await session.api.admin.call('POST', '/api/runbooks', { id: 'preboarding-page', definition })).status, 201);
  assert.equal((await session.api.admin.call('POST', '/api/runbooks/preboarding-page/publish', {})).status, 201);
});
after(async () => session?.close());

describe('Triggers page', () => {
  it('creates a date trigger and a webhook, lists them, pauses and deletes', { timeout: 300_000 }, async () => {
    await signIn(page, session.base, DESIGNER, PASSWORD);
    await page.click('nav >> text=Triggers');
    await page.waitForSelector('[data-page="triggers"]');

    // A date trigger, created paused (nothing to evaluate in this test).
    await page.click('button:has-text("New trigger")');
    const form = page.locator('form[aria-label="New trigger"]');
    await form.locator('input[name="name"]').fill('Week before hire');
    await form.locator('input[name="kind"][value="date"]').check();
    await form.locator('select[name="attribute"]').selectOption('employeeHireDate');
    await form.locator('input[name="offsetDays"]').fill('-7');
    await form.locator('input[name="scope"]').fill("department eq 'Sales'");
    await form.locator('select[name="runbook"]').selectOption('preboarding-page');
    await form.locator('input[name="input-upn"]').fill('user.userPrincipalName');
    await form.locator('input[name="paused"]').check();
    await form.locator('button[type="submit"]').click();
    await page.waitForSelector('[role="status"]:has-text("Created trigger")');
    const dateRow = page.locator('tr[data-trigger]', { hasText: 'Week before hire' });
    await dateRow.waitFor();
    assert.match(await dateRow.innerText(), /employeeHireDate −7 days, department eq 'Sales'/);
    assert.equal(await dateRow.locator('[data-state]').getAttribute('data-state'), 'paused');

    // A webhook: its secret is shown once.
    await page.click('button:has-text("New trigger")');
    await form.locator('input[name="name"]').fill('HR system');
    await form.locator('input[name="kind"][value="webhook"]').check();
    await form.locator('select[name="runbook"]').selectOption('preboarding-page');
    await form.locator('input[name="input-upn"]').fill('body.upn');
    await form.locator('button[type="submit"]').click();
    await page.waitForSelector('[data-secret]');
    assert.match(await page.locator('[data-secret]').innerText(), /whsec_/);
    const hookRow = page.locator('tr[data-trigger]', { hasText: 'HR system' });
    await hookRow.waitFor();
    assert.equal(await hookRow.locator('[data-state]').getAttribute('data-state'), 'active');
    await page.screenshot({ path: join(ARTIFACTS, 'triggers.png') });

    // Pause it: the page and the API say paused.
    await hookRow.locator('button:has-text("Pause")').click();
    await page.waitForFunction(() => document.querySelector('tr[data-trigger] [data-state]') !== null && [...document.querySelectorAll('tr[data-trigger]')].some((r) => r.textContent?.includes('HR system') && r.querySelector('[data-state="paused"]')));
    const id = await hookRow.getAttribute('data-trigger');
    const viaApi = await session.api.admin.call('GET', `/api/triggers/${id}`);
    assert.equal(viaApi.body.paused, true);
    const audit = (await session.api.admin.call('GET', `/api/audit?target=${id}`)).body as { action: string; actor: string }[];
    assert.ok(audit.some((e) => e.action === 'trigger.pause' && e.actor === DESIGNER), 'the pause is audited as the designer');

    // Delete it.
    page.once('dialog', (d) => void d.accept());
    await hookRow.locator('button:has-text("Delete")').click();
    await page.waitForSelector('[role="status"]:has-text("Deleted")');
    assert.equal((await session.api.admin.call('GET', `/api/triggers/${id}`)).status, 404);
    assert.equal(await page.locator('tr[data-trigger]').count(), 1);
  });
});
