// The help desk in a real browser (Chromium through playwright-core) against the real server, worker,
// Temporal dev server and sandbox tenant: a designer offers a published runbook from the runbook
// list; an operator limited to the Finance department sees only what is offered, gets the form
// prefilled from the URL, is refused a Sales user by the server, runs it on a Finance user and
// watches it succeed; the tenant is read back through Graph. Withdrawn, it leaves the help desk.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildDesignerIfStale } from '../scripts/designer-build.ts';
import { startApiServer, type ApiServer } from './api-harness.ts';
import { CHROMIUM, closeDesigner, launchChromium, serveDesigner, signIn, signOut } from './designer-kit.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const artifacts = join(process.env.TENANTFLOW_TEST_ARTIFACTS ?? fileURLToPath(new URL('../test-results', import.meta.url)), 'helpdesk');
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const DESIGNER = 'dina.designer@tenantflow.test';
const OPERATOR = 'olaf.operator@tenantflow.test';

let env: TestEnv;
let api: ApiServer;
let front: Server;
let base: string;
let browser: Browser;
let page: Page;
let finance: { id: string; userPrincipalName: string };
let sales: { id: string; userPrincipalName: string };

const TITLE_RUNBOOK = {
  name: 'Change job title',
  description: 'Sets a colleague\'s job title.',
  inputs: [
    { name: 'user', type: 'user', required: true, title: 'Colleague', description: 'User principal name' },
    { name: 'jobTitle', type: 'string', required: true, title: 'New job title', description: 'The title to set' },
  ],
  nodes: [
    { id: 'set_title', kind: 'action', action: 'user.update', params: { user: '{{ inputs.user }}', jobTitle: '{{ inputs.jobTitle }}' } },
    { id: 'done', kind: 'end' },
  ],
  edges: [{ source: 'set_title', target: 'done' }],
};
const HIDDEN_RUNBOOK = { ...TITLE_RUNBOOK, name: 'Not offered', description: 'Designers only.' };

async function userIn(department: string) {
  const upn = `${department.toLowerCase()}.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
  return (await env.graph.api('/users').post({
    accountEnabled: true, displayName: `${department} person`, mailNickname: upn.split('@')[0], userPrincipalName: upn, department,
    passwordProfile: { password: `Pw-${randomBytes(6).toString('hex')}!`, forceChangePasswordNextSignIn: true },
  })) as { id: string; userPrincipalName: string };
}

async function publish(id: string, definition: unknown) {
  const created = await api.admin.call('POST', '/api/runbooks', { id, definition });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const published = await api.admin.call('POST', `/api/runbooks/${id}/publish`, {});
  assert.ok(published.status < 300, JSON.stringify(published.body));
}

before(async () => {
  await buildDesignerIfStale();
  env = await startTestEnv();
  api = await startApiServer(env);
  const designer = await api.services.people.create({ email: DESIGNER, name: 'Dina Designer', password: PASSWORD });
  await api.services.people.grant(designer.id, '*', 'designer');
  const operator = await api.services.people.create({ email: OPERATOR, name: 'Olaf Operator', password: PASSWORD });
  await api.services.people.grant(operator.id, 'sandbox', 'operator', { department: ['Finance'] });
  await publish('change-title', TITLE_RUNBOOK);
  await publish('not-offered', HIDDEN_RUNBOOK);
  finance = await userIn('Finance');
  sales = await userIn('Sales');
  ({ server: front, base } = await serveDesigner(api.base));
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => console.error('browser error:', err.message));
});

after(async () => {
  await browser?.close();
  await closeDesigner(front);
  await api?.close();
  await env?.close();
});

const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`) });

describe('help desk in the browser', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)` }, () => {
  it('a designer offers a published runbook on the help desk from the runbook list', async () => {
    await signIn(page, base, DESIGNER, PASSWORD);
    await page.goto(`${base}/runbooks`);
    const row = page.locator('[data-runbook="change-title"]');
    await row.waitFor();
    assert.equal(await page.locator('[data-offered="change-title"]').count(), 0, 'not offered yet');
    await row.locator('[data-action="offer"]').click();
    await page.waitForSelector('[data-offered="change-title"]');
    await row.locator('[data-action="withdraw"]').waitFor();
    await shot('offered');
    const stored = await api.admin.call('GET', '/api/runbooks/change-title');
    assert.equal(stored.body.customAction, true, 'the server stored the offer');
    await signOut(page);
  });

  it('an operator limited to Finance sees only what is offered, is refused a Sales user, and runs it on a Finance user', async () => {
    await signIn(page, base, OPERATOR, PASSWORD);
    await page.click('nav a:has-text("Help desk")');
    await page.waitForSelector('[data-offered-runbook="change-title"]');
    assert.equal(await page.locator('[data-offered-runbook="not-offered"]').count(), 0, 'a runbook not offered is not listed');
    await shot('helpdesk');

    // The URL prefills the form (a ticket system can link straight to it).
    await page.goto(`${base}/helpdesk/change-title?user=${encodeURIComponent(sales.userPrincipalName)}&jobTitle=Controller`);
    await page.waitForSelector('[data-input="user"] input');
    assert.equal(await page.locator('[data-input="jobTitle"] input').inputValue(), 'Controller');
    assert.equal(await page.locator('[data-input="user"] input').inputValue(), sales.userPrincipalName);
    await page.click('[data-action="start-run"]');
    await page.waitForSelector('text=outside your operator scope');
    await shot('refused');
    assert.equal((await env.graph.api(`/users/${sales.id}`).select('jobTitle').get()).jobTitle ?? null, null, 'nothing was changed for the Sales user');

    await page.locator('[data-input="user"] input').fill(finance.userPrincipalName);
    await page.click('[data-action="start-run"]');
    await page.waitForURL(/\/runs\/run-/);
    await page.waitForSelector('.flow-node[data-node-id="set_title"][data-status="succeeded"]', { timeout: 45_000 });
    await page.waitForSelector('.run-page .badge.status-succeeded');
    await shot('ran');
    assert.equal((await env.graph.api(`/users/${finance.id}`).select('jobTitle').get()).jobTitle, 'Controller');
    const runs = await api.admin.call('GET', '/api/runs?runbook=change-title');
    assert.equal(runs.body.runs[0]?.startedBy, OPERATOR, 'the run is recorded as the operator\'s');
    await signOut(page);
  });

  it('withdrawn, the runbook leaves the help desk and the server refuses to run it', async () => {
    await signIn(page, base, DESIGNER, PASSWORD);
    await page.goto(`${base}/runbooks`);
    await page.locator('[data-runbook="change-title"] [data-action="withdraw"]').click();
    await page.locator('[data-runbook="change-title"] [data-action="offer"]').waitFor();
    await signOut(page);
    await signIn(page, base, OPERATOR, PASSWORD);
    await page.goto(`${base}/helpdesk`);
    await page.waitForSelector('[data-offered-runbook="onboarding"]'); // the seeded example stays offered
    assert.equal(await page.locator('[data-offered-runbook="change-title"]').count(), 0);
    await page.goto(`${base}/helpdesk/change-title`);
    await page.waitForSelector('text=is not offered on the help desk');
    const operator = await api.as('olaf.api@tenantflow.test', [{ tenant: 'sandbox', role: 'operator', scope: { department: ['Finance'] } }]);
    const refused = await operator.call('POST', '/api/runs', { runbookId: 'change-title', inputs: { user: finance.userPrincipalName, jobTitle: 'X' } });
    assert.equal(refused.status, 403);
  });
});
