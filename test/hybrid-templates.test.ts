// The hybrid templates end to end: Samba AD DC + the sandbox tenant with its directory sync agent
// (Entra Connect's part, every second here) + the cloud worker + the on-premises worker, through
// real Temporal. What the test reads: the AD objects over LDAP, the tenant through Graph.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { adSkip, startAdEnv, stopOwnDc, type AdEnv } from './ad-kit.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { statuses } from './harness.ts';
import { sandboxExchange } from '../sandbox/testing.ts';

const template = (name: string) => JSON.parse(readFileSync(new URL(`../server/templates/${name}.json`, import.meta.url), 'utf8'));
const onboarding = template('hybrid-onboarding');
const offboarding = template('hybrid-offboarding');
const absent = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0);

let env: AdEnv;
before(async () => {
  if (!adSkip) env = await startAdEnv({ syncIntervalMs: 1000 });
});
after(async () => {
  await env?.close();
  await stopOwnDc();
});

describe('hybrid templates', { skip: adSkip }, () => {
  it('both templates pass the validator the server publishes with', () => {
    for (const t of [onboarding, offboarding]) assert.deepEqual(validateRunbook(t).problems ?? [], [], t.name);
  });

  it('the sync agent projects the seeded OU: synced users with their anchor and on-premises attributes, refused cloud edits', async () => {
    await env.sync();
    const tom = await env.graph.api(`/users/tom.wright@${env.upnSuffix}`).select('id,onPremisesSyncEnabled,onPremisesImmutableId,onPremisesSamAccountName,onPremisesDistinguishedName,onPremisesDomainName,department').get();
    const ad = (await env.read('(sAMAccountName=tom.wright)', ['objectGUID']))!;
    assert.equal(tom.onPremisesSyncEnabled, true);
    assert.equal(tom.onPremisesImmutableId, (ad['objectGUID'] as Buffer).toString('base64'));
    assert.equal(tom.onPremisesSamAccountName, 'tom.wright');
    assert.equal(tom.onPremisesDistinguishedName, ad.dn);
    assert.equal(tom.onPremisesDomainName, env.dc.connection.domain);
    assert.equal(tom.department, 'Sales');
    await assert.rejects(env.graph.api(`/users/${tom.id}`).patch({ department: 'Cloud' }), /on-premises mastered/);
    const status = await (await fetch(`${env.sandbox.url}/_admin/sync`)).json();
    assert.ok(status.runs >= 1 && status.configured);
  });

  it('hybrid onboarding: AD account and remote mailbox, waits for sync, licenses the synced user', async () => {
    const sam = env.uniq('hire');
    const upn = `${sam}@${env.upnSuffix}`;
    const run = await env.startRunbook(onboarding, {
      sAMAccountName: sam,
      upnSuffix: env.upnSuffix,
      givenName: 'Hanna',
      surname: 'Hire',
      jobTitle: 'Analyst',
      department: 'Finance',
      countryCode: 'SE',
      manager: 'nora.berg',
      groups: ['Staff'],
      routingDomain: 'contoso.mail.onmicrosoft.com',
      licence: 'EXCHANGESTANDARD',
    });
    const state = await run.result();
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));
    assert.deepEqual(statuses(state), { create_ad_user: 'succeeded', enable_remote_mailbox: 'succeeded', wait_for_sync: 'succeeded', assign_licence: 'succeeded', done: 'succeeded' });

    // On premises: the account, in the users OU, with the remote mailbox attributes.
    const e = (await env.read(`(sAMAccountName=${sam})`, ['targetAddress', 'msExchRecipientTypeDetails', 'memberOf', 'manager', 'objectGUID']))!;
    assert.ok(e.dn.endsWith(env.dc.seeded.staffOu));
    assert.equal(e['targetAddress'], `SMTP:${sam}@contoso.mail.onmicrosoft.com`);
    assert.equal(e['msExchRecipientTypeDetails'], '2147483648');

    // In the cloud: the synchronised user, anchored to the AD account, licensed, with its manager and group.
    const u = await env.graph.api(`/users/${upn}`).select('id,onPremisesSyncEnabled,onPremisesImmutableId,usageLocation,assignedLicenses,jobTitle').get();
    assert.equal(u.onPremisesSyncEnabled, true);
    assert.equal(u.onPremisesImmutableId, (e['objectGUID'] as Buffer).toString('base64'));
    assert.equal(u.usageLocation, 'SE');
    assert.equal(u.assignedLicenses.length, 1);
    assert.equal(state.nodes['wait_for_sync']!.output && (state.nodes['wait_for_sync']!.output as { id: string }).id, u.id);
    const manager = await env.graph.api(`/users/${u.id}/manager`).get();
    assert.equal(manager.userPrincipalName, `nora.berg@${env.upnSuffix}`);
    const groups = (await env.graph.api(`/users/${u.id}/memberOf`).get()).value.map((g: { displayName: string }) => g.displayName);
    assert.ok(groups.includes('Staff'), `member of the synced group: ${groups}`);
  });

  it('hybrid offboarding: disabled, stripped, hidden and moved in AD; signed out and unlicensed in the cloud; sync disables the cloud user', async () => {
    const sam = env.uniq('leaver');
    const upn = `${sam}@${env.upnSuffix}`;
    const created = await env.run('ad.createUser', { sAMAccountName: sam, userPrincipalName: upn, displayName: `Leo Leaver ${sam}`, countryCode: 'US', groups: ['Staff', 'Finance'], mail: upn });
    assert.equal(created.status, 'succeeded', JSON.stringify(created.error));
    await env.sync();
    const cloud = await env.graph.api(`/users/${upn}`).select('id,signInSessionsValidFromDateTime').get();
    await env.graph.api(`/users/${cloud.id}/assignLicense`).post({ addLicenses: [{ skuId: (await env.graph.api('/subscribedSkus').get()).value.find((s: { skuPartNumber: string }) => s.skuPartNumber === 'EXCHANGESTANDARD').skuId, disabledPlans: [] }], removeLicenses: [] });
    const mailbox = await env.run('mailbox.waitForMailbox', { mailbox: upn, timeoutMinutes: 2 });
    assert.equal(mailbox.status, 'succeeded', JSON.stringify(mailbox.error));

    // Graph keeps signInSessionsValidFromDateTime to the second: start the run in a later second than the
    // account's creation, so a revocation shows as a later time and a missing one as the same time.
    const wait = Date.parse(cloud.signInSessionsValidFromDateTime) + 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const run = await env.startRunbook(offboarding, { user: sam });
    const state = await run.result();
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));

    const e = (await env.read(`(sAMAccountName=${sam})`, ['userAccountControl', 'memberOf', 'msExchHideFromAddressLists']))!;
    assert.equal(e['userAccountControl'], '514');
    assert.ok(absent(e['memberOf']), 'no AD groups left');
    assert.equal(e['msExchHideFromAddressLists'], 'TRUE');
    assert.ok(e.dn.endsWith(env.dc.seeded.leaversOu), e.dn);

    const after = await env.graph.api(`/users/${cloud.id}`).select('assignedLicenses,signInSessionsValidFromDateTime').get();
    assert.equal(after.assignedLicenses.length, 0);
    // The Exchange Online mailbox was converted to shared before the licence went (it is kept).
    assert.deepEqual(statuses(state), { ...statuses(state), read_mailbox: 'succeeded', convert_shared: 'succeeded', remove_licences: 'succeeded' });
    const mbx = (await sandboxExchange(env.sandbox)('Get-Mailbox', { Identity: upn })).value[0]!;
    assert.equal(mbx['RecipientTypeDetails'], 'SharedMailbox');
    assert.ok(after.signInSessionsValidFromDateTime > cloud.signInSessionsValidFromDateTime, 'sessions revoked');

    // Entra Connect's next cycle carries the on-premises changes to the cloud.
    await env.sync();
    const synced = await env.graph.api(`/users/${cloud.id}`).select('accountEnabled,onPremisesDistinguishedName').get();
    assert.equal(synced.accountEnabled, false);
    assert.equal(synced.onPremisesDistinguishedName, e.dn);
    const groups = (await env.graph.api(`/users/${cloud.id}/memberOf`).get()).value;
    assert.equal(groups.length, 0, 'synced groups left in the cloud too');
  });
});
