// The offboarding template in a real browser (Chromium through playwright-core) against the real
// server, worker, Temporal dev server and sandbox tenant: a designer creates a runbook from the
// gallery (its sub-runbooks are created and published with it), sees no rule warning, moves
// "Remove licences" before "Convert to shared" by rewiring the edges on the canvas, sees the
// licence-before-shared-mailbox warning with its fix, applies the fix, publishes, runs it on the
// sandbox and sees the run succeed; the tenant is read back through Exchange and Graph.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { sandboxExchange } from '../sandbox/testing.ts';
import { ARTIFACTS, CHROMIUM, canvasSettled, connectHandles, signIn, startDesignerSession, type DesignerSession } from './designer-kit.ts';

const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const DESIGNER = 'oona.offboarder@tenantflow.test';

let s: DesignerSession;
let page: Page;
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `offboarding-${name}.png`) });

async function mailboxUser(tag: string): Promise<{ id: string; userPrincipalName: string }> {
  const upn = `${tag}.${randomUUID().slice(0, 8)}@${s.env.sandbox.tenant.domain}`;
  const u = await s.env.graph.api('/users').post({
    accountEnabled: true, displayName: `Browser ${tag}`, mailNickname: upn.split('@')[0], userPrincipalName: upn, usageLocation: 'US',
    passwordProfile: { password: `Pw-${randomBytes(6).toString('hex')}!`, forceChangePasswordNextSignIn: true },
  });
  const sku = ((await s.env.graph.api('/subscribedSkus').get()).value as { skuId: string; skuPartNumber: string }[]).find((x) => x.skuPartNumber === 'EXCHANGESTANDARD')!;
  await s.env.graph.api(`/users/${u.id}/assignLicense`).post({ addLicenses: [{ skuId: sku.skuId, disabledPlans: [] }], removeLicenses: [] });
  const exo = sandboxExchange(s.env.sandbox);
  for (let i = 0; ; i++) {
    const found = await exo('Get-Mailbox', { Identity: upn }).then(() => true, () => false);
    if (found) break;
    assert.ok(i < 600, `no mailbox for ${upn}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { id: u.id, userPrincipalName: upn };
}

/** Removes an edge the way a user does: focus it on the canvas, select it, press Delete. */
async function removeEdge(source: string, handle: string, target: string) {
  const edge = page.locator(`.react-flow__edge[data-id="${source}:${handle}->${target}"]`);
  const before = await page.locator('.react-flow__edge').count();
  await edge.focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Delete');
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__edge').length === n, before - 1);
}

const connect = (source: string, handle: string, target: string) => connectHandles(page, source, handle, target);

before(async () => {
  s = await startDesignerSession([{ name: 'Oona Offboarder', email: DESIGNER, grants: [['sandbox', 'designer'], ['sandbox', 'operator']] }], PASSWORD, { width: 1600, height: 1500 });
  page = s.page;
});
after(async () => s?.close());

describe('offboarding template in the designer', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)` }, () => {
  it('from the gallery with no warning; licences moved before the conversion warn with a fix; fixed, published and run on the sandbox', async () => {
    const leaver = await mailboxUser('leaver');
    const manager = await mailboxUser('manager');

    await signIn(page, s.base, DESIGNER, PASSWORD);
    await page.goto(`${s.base}/runbooks`);
    await page.click('button:has-text("New runbook")');
    await page.click('[data-template="offboarding"][data-gallery]');
    await page.waitForURL(/\/runbooks\/offboarding-complete$/);
    await page.waitForSelector('.editor .react-flow__node[data-id="remove_licences"]');
    await canvasSettled(page);
    await page.waitForFunction(() => document.querySelector('.problems h2')?.textContent === 'No problems');
    assert.equal(await page.locator('.rule-warning').count(), 0, 'no rule warning on the template');
    await shot('from-gallery');

    // Move "Remove licences" before "Convert to shared": take it out of its place (its branches go
    // straight on), then put it between the "Convert?" condition and the conversion.
    await removeEdge('remove_licences', 'out', 'if_immutable');
    await removeEdge('if_licences', 'true', 'remove_licences');
    await removeEdge('if_licences_no_mailbox', 'true', 'remove_licences');
    await connect('if_licences', 'true', 'if_immutable');
    await connect('if_licences_no_mailbox', 'true', 'if_immutable');
    await removeEdge('if_convert', 'true', 'convert_shared');
    await connect('if_convert', 'true', 'remove_licences');
    await connect('remove_licences', 'out', 'convert_shared');

    const warning = page.locator('.rule-warning[data-rule="licence-before-shared-mailbox"]');
    await warning.waitFor();
    assert.match(await warning.innerText(), /remove_licences/);
    const fix = warning.locator('.rule-fix');
    assert.match(await fix.innerText(), /insert mailbox\.convertToShared before "remove_licences"/);
    await shot('warning');
    await fix.click();
    await warning.waitFor({ state: 'detached' });
    await page.waitForSelector('.editor .react-flow__node[data-id="convertToShared"]');
    await shot('fixed');

    await page.click('[data-action="publish"]');
    await page.waitForSelector('.banner-ok:has-text("Published version 1")');

    const q = new URLSearchParams({ user: leaver.userPrincipalName, manager: manager.userPrincipalName, resetPassword: 'false', managerOneDriveAccess: 'false', removeMailboxPermissions: 'false', managedDevices: 'none' });
    await page.goto(`${s.base}/runbooks/offboarding-complete/run?${q}`);
    await page.waitForSelector('[data-input="user"] input');
    assert.equal(await page.locator('[data-input="user"] input').inputValue(), leaver.userPrincipalName);
    await page.click('[data-action="start-run"]');
    await page.waitForURL(/\/runs\/run-/);
    await page.waitForSelector('.run-page .badge.status-succeeded', { timeout: 300_000 });
    await shot('run-succeeded');

    // What the run did, read back from the tenant: the inserted conversion ran before the licences went.
    const mbx = (await sandboxExchange(s.env.sandbox)('Get-Mailbox', { Identity: leaver.userPrincipalName })).value[0]!;
    assert.equal(mbx['RecipientTypeDetails'], 'SharedMailbox');
    const u = await s.env.graph.api(`/users/${leaver.id}`).select('accountEnabled,assignedLicenses').get();
    assert.equal(u.accountEnabled, false);
    assert.deepEqual(u.assignedLicenses, []);
  });
});
