// Honest outcomes and the evidence pack in a real browser (Chromium through playwright-core)
// against the real server, worker, Temporal and sandbox tenant: a run with a failed step it went
// past shows "Succeeded with warnings" in amber with each warning (never a green banner); the
// Evidence pack button opens a page with who asked and why, the version hash, the approval, the
// steps, the warnings, the Temporal ids and the audit hashes. Screenshots in test-results/evidence/.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildDesignerIfStale } from '../scripts/designer-build.ts';
import { startApiServer, type ApiServer } from './api-harness.ts';
import { CHROMIUM, CHROMIUM_ARGS, designerOrigin } from './designer-origin.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const artifacts = join(process.env.TENANTFLOW_TEST_ARTIFACTS ?? fileURLToPath(new URL('../test-results', import.meta.url)), 'evidence');
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const OPERATOR = 'olga.operator@tenantflow.test';
const APPROVER = 'aaron.approver@tenantflow.test';

let env: TestEnv;
let api: ApiServer;
let front: Server;
let base: string;
let browser: Browser;
let page: Page;

const runbook = {
  name: 'Joiner, checked',
  inputs: [{ name: 'upn', type: 'string', required: true, title: 'Sign-in name' }],
  nodes: [
    { id: 'ask', kind: 'approval', approvers: { roles: ['approver'] }, message: 'Create {{ inputs.upn }}?' },
    { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Evidence test', usageLocation: 'US' } },
    { id: 'group', kind: 'action', action: 'group.addMember', params: { group: 'No Such Group', user: '{{ steps.create.output.id }}' }, onError: 'continue', retry: { maximumAttempts: 1 } },
  ],
  edges: [
    { source: 'ask', sourceHandle: 'approved', target: 'create' },
    { source: 'create', target: 'group' },
  ],
};

before(async () => {
  await buildDesignerIfStale();
  env = await startTestEnv();
  api = await startApiServer(env);
  const operator = await api.services.people.create({ email: OPERATOR, name: 'Olga Operator', password: PASSWORD });
  await api.services.people.grant(operator.id, 'sandbox', 'operator');
  const created = await api.admin.call('POST', '/api/runbooks', { id: 'joiner-checked', definition: runbook, customAction: true });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await api.admin.call('POST', '/api/runbooks/joiner-checked/publish', {})).status, 201);
  front = designerOrigin(api.base).listen(0, '127.0.0.1');
  await new Promise((r) => front.once('listening', r));
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (err) => console.error('browser error:', err.message));
});

after(async () => {
  await browser?.close();
  front?.closeAllConnections();
  await new Promise<void>((r) => (front ? front.close(() => r()) : r()));
  await api?.close();
  await env?.close();
});

const shot = (p: Page, name: string) => p.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

describe('outcomes and evidence in the browser', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)` }, () => {
  it('shows a run with a failed step as succeeded with warnings, and opens its evidence pack', async () => {
    const upn = `evidence.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    await page.goto(`${base}/`);
    await page.fill('input[name="email"]', OPERATOR);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('nav.sidebar');

    await page.goto(`${base}/runbooks/joiner-checked/run?upn=${encodeURIComponent(upn)}`);
    await page.fill('[data-field="reason"]', 'ticket HR-4711: joiner in Finance');
    await page.click('[data-action="start-run"]');
    await page.waitForURL(/\/runs\/run-/);
    const runId = new URL(page.url()).pathname.split('/').pop()!;

    // Someone else approves (the API as an approver), with a comment the pack must show.
    const approver = await api.as(APPROVER, [{ tenant: 'sandbox', role: 'approver' }]);
    for (let i = 0; ; i++) {
      const r = await approver.call('POST', `/api/runs/${runId}/approvals/ask`, { decision: 'approve', comment: 'checked with HR' });
      if (r.status === 202) break;
      if (i > 100) throw new Error(`could not approve: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 200));
    }

    // The outcome: amber, worded, every warning listed; no green banner anywhere.
    const outcome = page.locator('.run-outcome[data-outcome="succeeded-with-warnings"]');
    await outcome.waitFor({ timeout: 60_000 });
    assert.match(await outcome.getAttribute('class') ?? '', /banner-warn/);
    assert.equal(await page.locator('.run-outcome.banner-ok').count(), 0);
    await page.locator('.run-page .editor-bar .badge.status-succeeded-with-warnings:has-text("Succeeded with warnings")').waitFor();
    assert.match(await outcome.locator('ul.warnings li').first().innerText(), /step group failed and the run went on: /);
    await page.locator('text=Why: ticket HR-4711: joiner in Finance').waitFor();
    assert.equal(await page.locator('[data-source="record"]').count(), 0, 'Temporal still keeps the run');
    await shot(page, 'run-with-warnings');

    // The run list says the same.
    await page.goto(`${base}/runs`);
    await page.locator(`tr[data-run="${runId}"] .badge.status-succeeded-with-warnings`).waitFor();
    await page.goto(`${base}/runs/${runId}`);

    // One click: the evidence pack opens in a new tab.
    const [pack] = await Promise.all([page.context().waitForEvent('page'), page.click('[data-action="evidence"]')]);
    await pack.waitForLoadState();
    await pack.waitForSelector('#summary');
    assert.equal(await pack.title(), `Evidence: Joiner, checked — ${runId}`);
    assert.equal(await pack.locator('#summary .status').getAttribute('data-status'), 'succeeded-with-warnings');
    assert.match(await pack.locator('#summary .status').innerText(), /succeeded with warnings/);
    assert.equal(await pack.locator('#requested-by').innerText(), OPERATOR);
    assert.equal(await pack.locator('#reason').innerText(), 'ticket HR-4711: joiner in Finance');
    assert.match(await pack.locator('#definition-hash').innerText(), /^sha256:[0-9a-f]{64}$/);
    assert.equal(await pack.locator('#workflow-id').innerText(), runId);
    assert.match(await pack.locator('#temporal-run-id').innerText(), /^[0-9a-f-]{36}$/);
    assert.match(await pack.locator('#inputs pre').innerText(), new RegExp(upn.replace(/\./g, '\\.')));
    const approval = pack.locator('#approvals-table tbody tr').first();
    assert.match(await approval.innerText(), /ask\s+approved\s+aaron\.approver@tenantflow\.test/);
    assert.match(await approval.innerText(), /checked with HR/);
    const steps = await pack.locator('#steps-table tbody tr').allInnerTexts();
    assert.deepEqual(steps.map((s) => s.split('\t')[0]), ['ask', 'create', 'group']);
    assert.match(steps[2]!, /failed/);
    // user.create records its change (docs/plan.md): the user the run created, before -> after.
    assert.match(await pack.locator('#changes-table').innerText(), new RegExp(`user ${upn.replace(/\./g, '\\.')}\\s+exists\\s+false\\s+true`), 'the user the run created, as recorded');
    assert.match(await pack.locator('#warnings').innerText(), /step group failed and the run went on/);
    assert.match(await pack.locator('#chain-check').innerText(), /^intact \(\d+ entries\)$/);
    const audit = await pack.locator('#audit-table tbody tr').allInnerTexts();
    assert.ok(audit.some((r) => /run\.started/.test(r)) && audit.some((r) => /approval\.approve/.test(r)) && audit.some((r) => /m365\.change/.test(r)), audit.join('\n'));
    assert.equal(await pack.locator('#audit-table code.hash').first().innerText().then((h) => /^[0-9a-f]{64}$/.test(h)), true);
    assert.match(await pack.locator('#digest').innerText(), /^sha256:[0-9a-f]{64}$/);
    await shot(pack, 'evidence-pack');
    await pack.emulateMedia({ media: 'print' });
    const pdf = await pack.pdf({ format: 'A4' });
    assert.ok(pdf.length > 10_000, 'it prints');
    await pack.close();
  });
});
