// The designer's pickers in a browser: in a step's form, typing part of a mailbox's, a team's, a
// device's or a site's name lists the sandbox tenant's matches by readable name; picking one puts
// the value the action expects into the field (a user principal name, the team's id, the channel's
// id among that team's channels, the Intune device id, the site's address), says what was picked,
// and the draft saved on the server holds those values. An expression is still taken as typed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { createExchangeClient } from '../m365/exchange.ts';
import { signIn, startDesignerSession, type DesignerSession } from './designer-kit.ts';

const DESIGNER = 'pia.picker@tenantflow.test';
const PASSWORD = 'correct horse battery staple 42';
let session: DesignerSession;
let page: Page;

before(async () => {
  session = await startDesignerSession([{ email: DESIGNER, name: 'Pia Picker', grants: [['*', 'admin']] }], PASSWORD);
  page = session.page;
});
after(async () => session?.close());

/** Adds a step from the palette (it is selected) and waits for its form. */
async function addStep(action: string, firstField: string) {
  await page.locator(`[data-palette="${action}"]`).click();
  await page.waitForSelector(`.inspector [data-field="params.${firstField}"] input`);
}

/** Types into a step's field, waits for the tenant's match named `label` and picks it; the field's value after. */
async function pick(field: string, typed: string, noun: string, label: string): Promise<string> {
  const box = page.locator(`.inspector [data-field="params.${field}"]`);
  await box.locator('input').fill(typed);
  const option = box.locator(`[role="listbox"][aria-label="${noun} choices"] [role="option"]`, { hasText: label }).first();
  await option.waitFor();
  await option.click();
  await box.locator('.picked', { hasText: label }).waitFor();
  return box.locator('input').inputValue();
}

describe('designer pickers', () => {
  it('picks a mailbox, a team then one of its channels, a device and a site, and the saved draft holds their values', { timeout: 300_000 }, async () => {
    const { env } = session;
    // What the tenant holds, read the way an administrator would.
    const mailbox = (await createExchangeClient(env.tenant).invoke<Record<string, string>>('Get-Mailbox', { RecipientTypeDetails: 'UserMailbox', ResultSize: 1 }))[0]!;
    const team = (await env.graph.api('/groups').filter("resourceProvisioningOptions/Any(x:x eq 'Team')").select('id,displayName').top(1).get()).value[0] as { id: string; displayName: string };
    const channel = (await env.graph.api(`/teams/${team.id}/channels`).post({ displayName: 'Picker Planning', membershipType: 'standard' })) as { id: string };
    const device = (await env.graph.api('/deviceManagement/managedDevices').select('id,deviceName').top(1).get()).value[0] as { id: string; deviceName: string };
    const site = ((await env.graph.api('/sites').query({ search: '*' }).select('displayName,webUrl').top(50).get()).value as { displayName: string; webUrl: string }[]).find((s) => s.displayName && /\/sites\//.test(s.webUrl))!;
    assert.ok(mailbox && team && device && site, 'the sandbox has one of each');

    await signIn(page, session.base, DESIGNER, PASSWORD);
    await page.click('nav a:has-text("Runbooks")');
    await page.click('button:has-text("New runbook")');
    await page.click('[data-template="blank"]');
    await page.waitForSelector('.editor .react-flow__node[data-id="done"]');
    const id = new URL(page.url()).pathname.split('/').pop()!;

    await addStep('mailbox.hideFromAddressList', 'mailbox');
    assert.equal(await pick('mailbox', mailbox.DisplayName!.slice(0, 5), 'mailbox', mailbox.DisplayName!), mailbox.UserPrincipalName);

    await addStep('teams.updateChannel', 'team');
    // Before a team is chosen, the channel field says so and offers nothing.
    await page.locator('.inspector [data-field="params.channel"]', { hasText: 'Choose the team first' }).waitFor();
    assert.equal(await pick('team', team.displayName.slice(0, 3), 'team', team.displayName), team.id);
    assert.equal(await pick('channel', 'Picker', 'channel', 'Picker Planning'), channel.id);

    await addStep('device.sync', 'device');
    assert.equal(await pick('device', device.deviceName.slice(0, -2), 'device', device.deviceName), device.id);

    await addStep('site.get', 'site');
    assert.equal(await pick('site', site.displayName.split(' ')[0]!, 'site', site.displayName), site.webUrl);

    // An expression is taken as typed: nothing is searched, nothing offered.
    const user = page.locator('.inspector [data-field="params.site"] input');
    await user.fill('{{ inputs.site }}');
    assert.equal(await page.locator('.inspector [data-field="params.site"] [role="listbox"]').count(), 0);
    await user.fill(site.webUrl);

    await page.waitForSelector('.save-state:has-text("Draft saved")');
    const saved = await session.api.admin.call('GET', `/api/runbooks/${id}`);
    const params = Object.fromEntries((saved.body.draft.nodes as { kind: string; action?: string; params?: Record<string, unknown> }[]).filter((n) => n.kind === 'action').map((n) => [n.action, n.params]));
    assert.deepEqual(params['mailbox.hideFromAddressList'], { mailbox: mailbox.UserPrincipalName });
    assert.deepEqual(params['teams.updateChannel'], { team: team.id, channel: channel.id });
    assert.deepEqual(params['device.sync'], { device: device.id });
    assert.deepEqual(params['site.get'], { site: site.webUrl });
  });

  it("the run form's team and channel inputs: the channel picker lists the chosen team's channels", { timeout: 300_000 }, async () => {
    const { env, api } = session;
    const teams = (await env.graph.api('/groups').filter("resourceProvisioningOptions/Any(x:x eq 'Team')").select('id,displayName').top(2).get()).value as { id: string; displayName: string }[];
    const [team, other] = teams as [{ id: string; displayName: string }, { id: string; displayName: string }];
    const channel = (await env.graph.api(`/teams/${team.id}/channels`).post({ displayName: 'Run Form Desk', membershipType: 'standard' })) as { id: string };
    await env.graph.api(`/teams/${other.id}/channels`).post({ displayName: 'Run Form Elsewhere', membershipType: 'standard' });
    const definition = {
      name: 'Rename a channel',
      inputs: [
        { name: 'team', type: 'team', required: true, title: 'Team' },
        { name: 'channel', type: 'channel', required: true, title: 'Channel' },
      ],
      nodes: [
        { id: 'rename', kind: 'action', action: 'teams.updateChannel', params: { team: '{{ inputs.team }}', channel: '{{ inputs.channel }}', description: 'Renamed by a runbook' } },
        { id: 'done', kind: 'end', status: 'succeeded', message: 'done' },
      ],
      edges: [{ source: 'rename', sourceHandle: 'out', target: 'done' }],
    };
    const created = await api.admin.call('POST', '/api/runbooks', { id: 'pick-channel', definition });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await api.admin.call('POST', '/api/runbooks/pick-channel/publish', {})).status, 201);

    await page.goto(`${session.base}/runbooks/pick-channel/run?test=true`);
    const field = (name: string) => page.locator(`[data-input="${name}"]`);
    await field('channel').locator('.muted', { hasText: 'Choose the team first' }).waitFor();
    await field('team').locator('input').fill(team.displayName.slice(0, 3));
    await field('team').locator('[role="listbox"][aria-label="team choices"] [role="option"]', { hasText: team.displayName }).first().click();
    assert.equal(await field('team').locator('input').inputValue(), team.id);
    await field('channel').locator('input').fill('Run Form');
    const options = field('channel').locator('[role="listbox"][aria-label="channel choices"] [role="option"]');
    await options.first().waitFor();
    assert.deepEqual(await options.allInnerTexts().then((t) => t.map((x) => x.split('\n')[0])), ['Run Form Desk'], "only the chosen team's channels");
    await options.first().click();
    assert.equal(await field('channel').locator('input').inputValue(), channel.id);
    await field('channel').locator('.picked', { hasText: 'Run Form Desk' }).waitFor();
  });
});
