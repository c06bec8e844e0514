// Mailbox settings actions as runbook steps on the real worker against the sandbox: type, forwarding,
// automatic replies, quotas, client access, holds, archive, addresses, properties, regional settings,
// auditing, policies, provisioning and inbox rules. Every effect is read back through Exchange's own
// Get-* cmdlets (or Graph), and a repeat of each write reports that nothing changed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sandboxExchange } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let exo: ReturnType<typeof sandboxExchange>;

before(async () => {
  env = await startActionsEnv();
  exo = sandboxExchange(env.sandbox);
});
after(async () => env?.close());

/** A new licensed user with a user mailbox. */
const licensedUser = (tag: string) => env.newUser(tag, { licences: ['EXCHANGESTANDARD'] });
/** A new shared mailbox (no licence needed, so tests do not run out of seats). */
async function mailboxUser(tag: string): Promise<{ id: string; userPrincipalName: string }> {
  const alias = `${tag}${randomUUID().slice(0, 6)}`;
  const m = (await exo('New-Mailbox', { Shared: true, Name: alias, Alias: alias })).value[0]!;
  return { id: String(m['ExternalDirectoryObjectId']), userPrincipalName: String(m['UserPrincipalName']) };
}
const getMailbox = async (id: string) => (await exo('Get-Mailbox', { Identity: id })).value[0]!;

describe('mailbox type', { concurrency: true }, () => {
  it('mailbox.convertToShared and mailbox.convertToRegular', async () => {
    const u = await licensedUser('convert');
    const r = await env.run('mailbox.convertToShared', { mailbox: u.userPrincipalName });
    ok(r);
    assert.deepEqual([r.output.changed, r.output.previousType], [true, 'UserMailbox']);
    assert.equal((await getMailbox(u.id))['RecipientTypeDetails'], 'SharedMailbox');
    assert.equal((await env.run('mailbox.convertToShared', { mailbox: u.id })).output.changed, false, 'a repeat changes nothing');
    const back = await env.run('mailbox.convertToRegular', { mailbox: u.userPrincipalName });
    ok(back);
    assert.equal(back.output.previousType, 'SharedMailbox');
    assert.equal((await getMailbox(u.id))['RecipientTypeDetails'], 'UserMailbox');
  });

  it('mailbox.setMailboxType makes a room that books by itself', async () => {
    const u = await mailboxUser('totype');
    const r = await env.run('mailbox.setMailboxType', { mailbox: u.userPrincipalName, type: 'Room' });
    ok(r);
    assert.equal(r.output.type, 'RoomMailbox');
    assert.equal((await getMailbox(u.id))['RecipientTypeDetails'], 'RoomMailbox');
    assert.equal((await exo('Get-CalendarProcessing', { Identity: u.userPrincipalName })).value[0]!['AutomateProcessing'], 'AutoAccept');
    const nope = await env.run('mailbox.setMailboxType', { mailbox: `nobody.${randomUUID().slice(0, 6)}@${env.domain}`, type: 'Shared' });
    assert.equal(nope.error?.code, 'MailboxNotFound');
    assert.match(nope.error!.hint!, /licence/);
  });

  it('mailbox.list and mailbox.get read what Exchange has', async () => {
    const alias = `info${randomUUID().slice(0, 6)}`;
    await exo('New-Mailbox', { Shared: true, Name: `Info ${alias}`, Alias: alias });
    const list = await env.run('mailbox.list', { types: ['SharedMailbox'], max: 5000 });
    ok(list);
    assert.ok(list.output.mailboxes.some((m: { identity: string; type: string }) => m.identity === `${alias}@${env.domain}` && m.type === 'SharedMailbox'));
    assert.ok(list.output.mailboxes.every((m: { type: string }) => m.type === 'SharedMailbox'));
    const small = await env.run('mailbox.list', { max: 2 });
    assert.deepEqual([small.output.mailboxes.length, small.output.truncated], [2, true]);
    const got = await env.run('mailbox.get', { mailbox: alias });
    ok(got);
    assert.deepEqual([got.output.type, got.output.archiveEnabled, got.output.retentionPolicy, got.output.services.owa], ['SharedMailbox', false, 'Default MRM Policy', true]);
  });
});

describe('forwarding and automatic replies', { concurrency: true }, () => {
  it('mailbox.setForwarding (SMTP address and address book) and mailbox.disableForwarding', async () => {
    const [u, manager] = [await mailboxUser('fwd'), await mailboxUser('fwdmgr')];
    const r = await env.run('mailbox.setForwarding', { mailbox: u.userPrincipalName, toAddress: 'archive@fabrikam.example', keepCopy: true });
    ok(r);
    let m = await getMailbox(u.id);
    assert.deepEqual([m['ForwardingSmtpAddress'], m['DeliverToMailboxAndForward'], m['ForwardingAddress']], ['smtp:archive@fabrikam.example', true, null]);
    assert.equal((await env.run('mailbox.setForwarding', { mailbox: u.id, toAddress: 'archive@fabrikam.example' })).output.changed, false);
    const internal = await env.run('mailbox.setForwarding', { mailbox: u.userPrincipalName, toRecipient: manager.userPrincipalName, keepCopy: false });
    ok(internal);
    m = await getMailbox(u.id);
    assert.deepEqual([m['ForwardingSmtpAddress'], m['DeliverToMailboxAndForward']], [null, false]);
    assert.equal(m['ForwardingAddress'], (await getMailbox(manager.id))['Name']);
    assert.equal((await env.run('mailbox.setForwarding', { mailbox: u.id, toRecipient: manager.userPrincipalName, keepCopy: false })).output.changed, false);
    const both = await env.run('mailbox.setForwarding', { mailbox: u.id, toAddress: 'a@b.example', toRecipient: manager.id });
    assert.equal(both.error?.code, 'InvalidInput');
    const off = await env.run('mailbox.disableForwarding', { mailbox: u.userPrincipalName });
    ok(off);
    assert.equal(off.output.previousForwardingTo, m['ForwardingAddress']);
    m = await getMailbox(u.id);
    assert.deepEqual([m['ForwardingSmtpAddress'], m['ForwardingAddress'], m['DeliverToMailboxAndForward']], [null, null, false]);
    assert.equal((await env.run('mailbox.disableForwarding', { mailbox: u.id })).output.changed, false);
  });

  it('mailbox.setAutoReply (now and scheduled) and mailbox.clearAutoReply, read back through Exchange', async () => {
    const u = await mailboxUser('oof');
    const reply = async () => (await exo('Get-MailboxAutoReplyConfiguration', { Identity: u.userPrincipalName })).value[0]!;
    const r = await env.run('mailbox.setAutoReply', { mailbox: u.userPrincipalName, internalMessage: 'I have left the company.', externalAudience: 'contactsOnly' });
    ok(r);
    let a = await reply();
    assert.deepEqual([a['AutoReplyState'], a['InternalMessage'], a['ExternalMessage'], a['ExternalAudience']], ['Enabled', 'I have left the company.', 'I have left the company.', 'Known']);
    assert.equal((await env.run('mailbox.setAutoReply', { mailbox: u.id, internalMessage: 'I have left the company.', externalAudience: 'contactsOnly' })).output.changed, false);
    const scheduled = await env.run('mailbox.setAutoReply', { mailbox: u.id, internalMessage: 'On holiday', externalMessage: 'Away', start: '2031-07-01T08:00:00Z', end: '2031-07-15T17:00:00Z' });
    ok(scheduled);
    assert.equal(scheduled.output.status, 'scheduled');
    a = await reply();
    assert.deepEqual([a['AutoReplyState'], a['ExternalMessage'], a['StartTime'], a['EndTime']], ['Scheduled', 'Away', '2031-07-01T08:00:00.000Z', '2031-07-15T17:00:00.000Z']);
    assert.equal((await env.run('mailbox.setAutoReply', { mailbox: u.id, internalMessage: 'On holiday', externalMessage: 'Away', start: '2031-07-01T08:00:00Z', end: '2031-07-15T17:00:00Z' })).output.changed, false);
    const backwards = await env.run('mailbox.setAutoReply', { mailbox: u.id, internalMessage: 'x', start: '2031-07-15T08:00:00Z', end: '2031-07-01T08:00:00Z' });
    assert.match(backwards.error!.message, /"end" must be after "start"/);
    ok(await env.run('mailbox.clearAutoReply', { mailbox: u.userPrincipalName }));
    a = await reply();
    assert.deepEqual([a['AutoReplyState'], a['InternalMessage']], ['Disabled', '']);
    assert.equal((await env.run('mailbox.clearAutoReply', { mailbox: u.id })).output.changed, false);
  });

  it('mailbox.listInboxRules and mailbox.removeInboxRules (only the suspicious ones)', async () => {
    const u = await mailboxUser('rules');
    const rules = `/users/${u.id}/mailFolders/inbox/messageRules`;
    await env.graph.api(rules).post({ displayName: 'Tidy newsletters', sequence: 1, isEnabled: true, conditions: { senderContains: ['news'] }, actions: { moveToFolder: 'AQMkANews' } });
    await env.graph.api(rules).post({ displayName: 'x', sequence: 2, isEnabled: true, conditions: {}, actions: { forwardTo: [{ emailAddress: { address: 'drop@evil.example' } }], markAsRead: true } });
    const listed = await env.run('mailbox.listInboxRules', { mailbox: u.userPrincipalName });
    ok(listed);
    assert.equal(listed.output.forwarding, true);
    assert.deepEqual(listed.output.rules.map((r: { name: string; forwardsTo: string[] }) => [r.name, r.forwardsTo]), [['Tidy newsletters', []], ['x', ['drop@evil.example']]]);
    const removed = await env.run('mailbox.removeInboxRules', { mailbox: u.id, onlySuspicious: true });
    ok(removed);
    assert.deepEqual(removed.output.removed.map((r: { name: string }) => r.name), ['x']);
    const left = (await env.graph.api(rules).get()).value.map((r: { displayName: string }) => r.displayName);
    assert.deepEqual(left, ['Tidy newsletters']);
    assert.deepEqual((await env.run('mailbox.removeInboxRules', { mailbox: u.id, onlySuspicious: true })).output.removed, []);
    ok(await env.run('mailbox.removeInboxRules', { mailbox: u.id, names: ['tidy NEWSLETTERS'] }));
    assert.deepEqual((await env.graph.api(rules).get()).value, []);
  });
});

describe('limits, services, holds and archive', { concurrency: true }, () => {
  it('mailbox.setQuota changes only the quotas that differ; Exchange refuses inconsistent ones', async () => {
    const u = await mailboxUser('quota');
    const r = await env.run('mailbox.setQuota', { mailbox: u.userPrincipalName, issueWarningQuota: '9GB', prohibitSendQuota: '9.5GB', prohibitSendReceiveQuota: '10GB' });
    ok(r);
    assert.deepEqual(r.output.changed, ['issueWarningQuota', 'prohibitSendQuota', 'prohibitSendReceiveQuota']);
    const m = await getMailbox(u.id);
    assert.deepEqual([m['IssueWarningQuota'], m['ProhibitSendQuota'], m['ProhibitSendReceiveQuota']], ['9 GB (9,663,676,416 bytes)', '9.5 GB (10,200,547,328 bytes)', '10 GB (10,737,418,240 bytes)']);
    assert.deepEqual((await env.run('mailbox.setQuota', { mailbox: u.id, prohibitSendReceiveQuota: '10240 MB' })).output.changed, [], '10240 MB is 10 GB');
    const bad = await env.run('mailbox.setQuota', { mailbox: u.id, issueWarningQuota: '20GB' });
    assert.equal(bad.status, 'failed');
    assert.match(bad.error!.message, /IssueWarningQuota .* must be less than or equal to the value of ProhibitSendReceiveQuota/);
  });

  it('mailbox.setCasServices turns protocols off and on', async () => {
    const u = await mailboxUser('cas');
    const r = await env.run('mailbox.setCasServices', { mailbox: u.userPrincipalName, pop: false, imap: false, activeSync: false, owa: true });
    ok(r);
    assert.deepEqual(r.output.changed, ['activeSync', 'pop', 'imap']);
    const cas = (await exo('Get-CASMailbox', { Identity: u.userPrincipalName })).value[0]!;
    assert.deepEqual([cas['PopEnabled'], cas['ImapEnabled'], cas['ActiveSyncEnabled'], cas['OWAEnabled'], cas['MAPIEnabled']], [false, false, false, true, true]);
    assert.deepEqual((await env.run('mailbox.setCasServices', { mailbox: u.id, pop: false })).output.changed, []);
  });

  it('mailbox.setLitigationHold places a hold for a number of days and lifts it', async () => {
    const u = await licensedUser('hold');
    const r = await env.run('mailbox.setLitigationHold', { mailbox: u.userPrincipalName, durationDays: 2555 });
    ok(r);
    let m = await getMailbox(u.id);
    assert.deepEqual([m['LitigationHoldEnabled'], m['LitigationHoldDuration']], [true, '2555.00:00:00']);
    assert.equal((await env.run('mailbox.setLitigationHold', { mailbox: u.id, durationDays: 2555 })).output.changed, false);
    ok(await env.run('mailbox.setLitigationHold', { mailbox: u.id }));
    assert.equal((await getMailbox(u.id))['LitigationHoldDuration'], 'Unlimited');
    ok(await env.run('mailbox.setLitigationHold', { mailbox: u.id, enabled: false }));
    m = await getMailbox(u.id);
    assert.equal(m['LitigationHoldEnabled'], false);
  });

  it('mailbox.enableArchive, mailbox.setArchiveName and mailbox.disableArchive', async () => {
    const u = await mailboxUser('archive');
    const r = await env.run('mailbox.enableArchive', { mailbox: u.userPrincipalName, archiveName: 'Old mail' });
    ok(r);
    let m = await getMailbox(u.id);
    assert.deepEqual([m['ArchiveStatus'], m['ArchiveName']], ['Active', ['Old mail']]);
    assert.equal((await env.run('mailbox.enableArchive', { mailbox: u.id })).output.changed, false);
    const renamed = await env.run('mailbox.setArchiveName', { mailbox: u.id, archiveName: 'Archive 2020-2025' });
    ok(renamed);
    assert.equal(renamed.output.previousName, 'Old mail');
    assert.deepEqual((await getMailbox(u.id))['ArchiveName'], ['Archive 2020-2025']);
    assert.equal((await env.run('mailbox.setArchiveName', { mailbox: u.id, archiveName: 'Archive 2020-2025' })).output.changed, false);
    ok(await env.run('mailbox.disableArchive', { mailbox: u.id }));
    m = await getMailbox(u.id);
    assert.equal(m['ArchiveStatus'], 'None');
    assert.equal((await env.run('mailbox.disableArchive', { mailbox: u.id })).output.changed, false);
  });

  it('mailbox.hideFromAddressList hides and shows', async () => {
    const u = await mailboxUser('hide');
    ok(await env.run('mailbox.hideFromAddressList', { mailbox: u.userPrincipalName }));
    assert.equal((await getMailbox(u.id))['HiddenFromAddressListsEnabled'], true);
    assert.equal((await env.run('mailbox.hideFromAddressList', { mailbox: u.id, hidden: true })).output.changed, false);
    ok(await env.run('mailbox.hideFromAddressList', { mailbox: u.id, hidden: false }));
    assert.equal((await getMailbox(u.id))['HiddenFromAddressListsEnabled'], false);
  });

  it('mailbox.setClutter turns Clutter on and off', async () => {
    const u = await mailboxUser('clutter');
    const clutter = async () => (await exo('Get-Clutter', { Identity: u.userPrincipalName })).value[0]!['IsEnabled'];
    ok(await env.run('mailbox.setClutter', { mailbox: u.userPrincipalName, enabled: true }));
    assert.equal(await clutter(), true);
    assert.equal((await env.run('mailbox.setClutter', { mailbox: u.id, enabled: true })).output.changed, false);
    ok(await env.run('mailbox.setClutter', { mailbox: u.id, enabled: false }));
    assert.equal(await clutter(), false);
  });

  it('mailbox.enableAuditing switches audit logging and its age limit', async () => {
    const u = await mailboxUser('audit');
    const off = await env.run('mailbox.enableAuditing', { mailbox: u.userPrincipalName, enabled: false });
    ok(off);
    assert.deepEqual(off.output.changed, ['enabled']);
    assert.equal((await getMailbox(u.id))['AuditEnabled'], false);
    const on = await env.run('mailbox.enableAuditing', { mailbox: u.id, ageLimitDays: 180 });
    ok(on);
    const m = await getMailbox(u.id);
    assert.deepEqual([m['AuditEnabled'], m['AuditLogAgeLimit']], [true, '180.00:00:00']);
    assert.deepEqual((await env.run('mailbox.enableAuditing', { mailbox: u.id, ageLimitDays: 180 })).output.changed, []);
  });
});

describe('addresses, properties, regional settings and policies', { concurrency: true }, () => {
  it('mailbox.addEmailAddress (with a new primary) and mailbox.removeEmailAddress', async () => {
    const u = await mailboxUser('alias');
    const [a1, a2] = [`sales.${randomUUID().slice(0, 6)}@${env.domain}`, `help.${randomUUID().slice(0, 6)}@${env.domain}`];
    const r = await env.run('mailbox.addEmailAddress', { mailbox: u.userPrincipalName, addresses: [a1, a2] });
    ok(r);
    assert.deepEqual(r.output.added, [a1, a2]);
    let m = await getMailbox(u.id);
    assert.ok([a1, a2].every((a) => (m['EmailAddresses'] as string[]).includes(`smtp:${a}`)));
    const primary = await env.run('mailbox.addEmailAddress', { mailbox: u.id, addresses: [a1], makePrimary: true });
    ok(primary);
    assert.deepEqual([primary.output.added, primary.output.primaryChanged], [[], true]);
    m = await getMailbox(u.id);
    assert.equal(m['PrimarySmtpAddress'], a1);
    assert.ok((m['EmailAddresses'] as string[]).includes(`SMTP:${a1}`));
    const refused = await env.run('mailbox.removeEmailAddress', { mailbox: u.id, addresses: [a1] });
    assert.equal(refused.error?.code, 'PrimaryAddress');
    const removed = await env.run('mailbox.removeEmailAddress', { mailbox: u.id, addresses: [a2, 'never@contoso.com'] });
    ok(removed);
    assert.deepEqual(removed.output.removed, [a2]);
    assert.ok(!((await getMailbox(u.id))['EmailAddresses'] as string[]).some((a) => a.toLowerCase() === `smtp:${a2}`));
    const foreign = await env.run('mailbox.addEmailAddress', { mailbox: u.id, addresses: ['someone@not-ours.example'] });
    assert.equal(foreign.status, 'failed');
    assert.match(foreign.error!.message, /accepted domain/);
  });

  it('mailbox.update sets the display name, MailTip and custom attributes (Entra sees them as extension attributes)', async () => {
    const u = await mailboxUser('props');
    const r = await env.run('mailbox.update', { mailbox: u.userPrincipalName, displayName: 'Props Renamed', mailTip: 'Left the company; write to the team.', customAttributes: { '1': 'Leaver', '15': 'Q3' } });
    ok(r);
    assert.deepEqual(r.output.changed, ['displayName', 'mailTip', 'customAttribute1', 'customAttribute15']);
    const m = await getMailbox(u.id);
    assert.deepEqual([m['DisplayName'], m['MailTip'], m['CustomAttribute1'], m['CustomAttribute15']], ['Props Renamed', 'Left the company; write to the team.', 'Leaver', 'Q3']);
    const graph = await env.graph.api(`/users/${u.id}`).select('displayName,onPremisesExtensionAttributes').get();
    assert.deepEqual([graph.displayName, graph.onPremisesExtensionAttributes.extensionAttribute1], ['Props Renamed', 'Leaver']);
    const cleared = await env.run('mailbox.update', { mailbox: u.id, mailTip: '', customAttributes: { '1': '', '15': 'Q3' } });
    assert.deepEqual(cleared.output.changed, ['mailTip', 'customAttribute1']);
    assert.deepEqual([(await getMailbox(u.id))['MailTip'], (await getMailbox(u.id))['CustomAttribute1']], [null, '']);
    const capacity = await env.run('mailbox.update', { mailbox: u.id, resourceCapacity: 8 });
    assert.equal(capacity.error?.code, 'NotAResourceMailbox');
  });

  it('mailbox.setRegionalSettings: language, time zone and formats, also in Graph mailboxSettings', async () => {
    const u = await mailboxUser('regional');
    const r = await env.run('mailbox.setRegionalSettings', { mailbox: u.userPrincipalName, language: 'de-DE', timeZone: 'W. Europe Standard Time' });
    ok(r);
    assert.deepEqual(r.output.changed, ['language', 'timeZone']);
    const cfg = (await exo('Get-MailboxRegionalConfiguration', { Identity: u.userPrincipalName })).value[0]!;
    assert.deepEqual([cfg['Language'], cfg['TimeZone'], cfg['DateFormat'], cfg['TimeFormat']], ['de-DE', 'W. Europe Standard Time', 'dd.MM.yyyy', 'HH:mm']);
    const settings = await env.graph.api(`/users/${u.id}/mailboxSettings`).get();
    assert.deepEqual([settings.language.locale, settings.timeZone], ['de-DE', 'W. Europe Standard Time']);
    assert.deepEqual((await env.run('mailbox.setRegionalSettings', { mailbox: u.id, language: 'de-DE' })).output.changed, []);
    const bad = await env.run('mailbox.setRegionalSettings', { mailbox: u.id, timeZone: 'Mars/Olympus' });
    assert.equal(bad.status, 'failed');
  });

  it('mailbox.setRetentionPolicy and mailbox.setAddressBookPolicy assign existing policies', async () => {
    const u = await mailboxUser('policy');
    const rp = `Leavers ${randomUUID().slice(0, 6)}`;
    const abp = `Partners ${randomUUID().slice(0, 6)}`;
    await exo('New-RetentionPolicy', { Name: rp });
    await exo('New-AddressBookPolicy', { Name: abp, AddressLists: ['\\All Users'], GlobalAddressList: '\\Default Global Address List', OfflineAddressBook: '\\Default Offline Address Book', RoomList: '\\All Rooms' });
    const r = await env.run('mailbox.setRetentionPolicy', { mailbox: u.userPrincipalName, policy: rp });
    ok(r);
    assert.deepEqual([r.output.changed, r.output.previousPolicy], [true, 'Default MRM Policy']);
    assert.equal((await getMailbox(u.id))['RetentionPolicy'], rp);
    assert.equal((await env.run('mailbox.setRetentionPolicy', { mailbox: u.id, policy: rp })).output.changed, false);
    ok(await env.run('mailbox.setAddressBookPolicy', { mailbox: u.id, policy: abp }));
    assert.equal((await getMailbox(u.id))['AddressBookPolicy'], abp);
    ok(await env.run('mailbox.setAddressBookPolicy', { mailbox: u.id, policy: null }));
    assert.equal((await getMailbox(u.id))['AddressBookPolicy'], null);
    const missing = await env.run('mailbox.setRetentionPolicy', { mailbox: u.id, policy: 'No such policy' });
    assert.equal(missing.error?.code, 'PolicyNotFound');
  });
});

describe('provisioning', () => {
  it('mailbox.waitForMailbox waits until a licence has given the user a mailbox', async () => {
    const u = await env.newUser('waiter');
    const waiting = env.run('mailbox.waitForMailbox', { mailbox: u.userPrincipalName, timeoutMinutes: 2 });
    // The licence arrives while the step is waiting (its first look finds nothing).
    await new Promise((r) => setTimeout(r, 1000));
    ok(await env.run('licence.assign', { user: u.id, licences: ['EXCHANGESTANDARD'] }));
    const r = await waiting;
    ok(r);
    assert.deepEqual([r.output.identity.toLowerCase(), r.output.type], [u.userPrincipalName.toLowerCase(), 'UserMailbox']);
    const never = await env.run('mailbox.waitForMailbox', { mailbox: `ghost.${randomUUID().slice(0, 6)}@${env.domain}`, timeoutMinutes: 0.1 }, { maximumAttempts: 1 });
    assert.equal(never.error?.code, 'MailboxNotProvisioned');
  });
  it('mailbox.cancelMeetings cancels the meetings the mailbox organises in the window, for the attendees too; a repeat is harmless', async () => {
    const organizer = await env.newUser('organizer', { licences: ['EXCHANGESTANDARD'] });
    const attendee = await env.newUser('attendee', { licences: ['EXCHANGESTANDARD'] });
    for (const u of [organizer, attendee]) ok(await env.run('mailbox.waitForMailbox', { mailbox: u.userPrincipalName, timeoutMinutes: 2 }));
    const at = (days: number) => ({ dateTime: new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 19), timeZone: 'UTC' });
    const invite = [{ type: 'required', emailAddress: { address: attendee.userPrincipalName } }];
    await env.graph.api(`/users/${organizer.id}/events`).post({ subject: 'Team meeting', start: at(1), end: at(1.05), attendees: invite });
    await env.graph.api(`/users/${organizer.id}/events`).post({ subject: 'Far away', start: at(200), end: at(200.05), attendees: invite });
    await env.graph.api(`/users/${organizer.id}/events`).post({ subject: 'Focus time', start: at(2), end: at(2.05) });
    const subjects = async (u: { id: string }) => ((await env.graph.api(`/users/${u.id}/events`).get()).value as { subject: string }[]).map((e) => e.subject).sort();

    const r = await env.run('mailbox.cancelMeetings', { mailbox: organizer.userPrincipalName, days: 90 });
    ok(r);
    assert.equal(r.output.days, 90);
    // Its plan, read just before the cancellation and recorded: only the meeting in the window with attendees.
    const recorded = (r.output.__changes as { property: string; before: unknown; after: unknown }[]).map((x) => [x.property.replace(/ at .*/, ''), x.before, x.after]);
    assert.deepEqual(recorded, [['meeting Team meeting', true, null]]);
    assert.deepEqual(await subjects(organizer), ['Far away', 'Focus time']);
    assert.deepEqual(await subjects(attendee), ['Far away']);
    ok(await env.run('mailbox.cancelMeetings', { mailbox: organizer.id, days: 90 }));
    assert.deepEqual(await subjects(attendee), ['Far away']);
  });
});
