// The approval page a mail or Teams link opens, on a phone-sized screen (390 x 844) in a real
// browser (Debian's Chromium through playwright-core) against the real server, worker, Temporal dev
// server and sandbox: signing in lands on the request, opening it decides nothing, everything fits
// the screen, and the Approve button (a POST) decides. Screenshot: test-results/designer/approval-phone.png.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildDesignerIfStale } from '../scripts/designer-build.ts';
import { pollApi, startApiServer, type ApiServer } from './api-harness.ts';
import { closeDesigner, launchChromium, serveDesigner } from './designer-kit.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const artifacts = join(process.env.TENANTFLOW_TEST_ARTIFACTS ?? fileURLToPath(new URL('../test-results', import.meta.url)), 'designer');
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const APPROVER = 'phoebe.phone@tenantflow.test';

let env: TestEnv;
let api: ApiServer;
let front: Server;
let base: string;
let browser: Browser;
let page: Page;

before(async () => {
  await buildDesignerIfStale();
  env = await startTestEnv();
  api = await startApiServer(env);
  const approver = await api.services.people.create({ email: APPROVER, name: 'Phoebe Phone', password: PASSWORD });
  await api.services.people.grant(approver.id, 'sandbox', 'viewer');
  ({ server: front, base } = await serveDesigner(api.base));
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (err) => console.error('browser error:', err.message));
});

after(async () => {
  await browser?.close();
  await closeDesigner(front);
  await api?.close();
  await env?.close();
});

describe('the approval page on a phone', () => {
  it('opens from a link without deciding, fits 390 px, and approves with a POST', async () => {
    const id = `phone-${randomUUID().slice(0, 6)}`;
    const definition = {
      name: 'Offboard a leaver',
      inputs: [{ name: 'who', type: 'string' }, { name: 'department', type: 'string' }],
      nodes: [
        { id: 'ask', kind: 'approval', approvers: { users: [APPROVER] }, message: 'Offboard {{ inputs.who }} from {{ inputs.department }} and remove every licence and group membership?' },
        { id: 'done', kind: 'end' },
      ],
      edges: [{ source: 'ask', sourceHandle: 'approved', target: 'done' }],
    };
    assert.equal((await api.admin.call('POST', '/api/runbooks', { id, definition })).status, 201);
    assert.equal((await api.admin.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
    const started = await api.admin.call('POST', '/api/runs', { runbookId: id, inputs: { who: 'Ada Lovelace', department: 'Engineering' } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const runId = started.body.id as string;
    await pollApi(api.admin, `/api/runs/${runId}`, (r) => r.status === 'waiting-approval');

    // The link from the mail: sign-in first, then the request itself.
    await page.goto(`${base}/approvals/${encodeURIComponent(runId)}/ask`);
    await page.fill('input[name="email"]', APPROVER);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button:has-text("Sign in")');
    await page.waitForSelector('[data-page="approval"] .task');
    await page.getByText('Offboard Ada Lovelace from Engineering').waitFor();

    // Opening the page decided nothing.
    const before = await api.admin.call('GET', `/api/runs/${runId}`);
    assert.equal(before.body.status, 'waiting-approval');

    // Readable on the phone: nothing wider than the screen, the buttons on screen and thumb-sized.
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth }));
    assert.equal(widths.view, 390);
    assert.ok(widths.doc <= 390 && widths.body <= 390, `the page scrolls sideways: ${JSON.stringify(widths)}`);
    for (const name of ['Approve', 'Reject']) {
      const box = await page.getByRole('button', { name, exact: true }).boundingBox();
      assert.ok(box, `${name} is shown`);
      assert.ok(box.x >= 0 && box.x + box.width <= 390, `${name} fits the width: ${JSON.stringify(box)}`);
      assert.ok(box.height >= 40, `${name} is big enough to tap: ${JSON.stringify(box)}`);
    }
    const fontSize = await page.locator('.approval-message').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(fontSize >= 16, `the request is readable (${fontSize}px)`);
    await page.screenshot({ path: join(artifacts, 'approval-phone.png'), fullPage: true });

    await page.getByRole('button', { name: 'Approve', exact: true }).tap();
    await page.getByRole('status').filter({ hasText: 'Approved' }).waitFor();
    await pollApi(api.admin, `/api/runs/${runId}`, (r) => r.status === 'succeeded');
    const decision = (await env.state(runId)).nodes.ask!.approval!.decisions.find((d) => !d.refused);
    assert.equal(decision?.by, APPROVER);
  });
});
