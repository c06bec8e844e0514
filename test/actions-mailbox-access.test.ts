// Who may use a mailbox: full access (automapping), send as, send on behalf, delegates with any mix of
// rights, the manager's access, removing and copying a user's access, calendar and contacts folder
// sharing, and booking of rooms, as runbook steps on the real worker against the sandbox, read back with
// Get-MailboxPermission, Get-RecipientPermission, Get-Mailbox, Get-MailboxFolderPermission and
// Get-CalendarProcessing. The "limited" connection is an app that Exchange only knows as Exchange
// Recipient Administrator: what that role does not grant fails with a hint naming the role that does.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sandboxExchange } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let exo: ReturnType<typeof sandboxExchange>;

before(async () => {
  env = await startActionsEnv({ limitedPermissions: ['User.Read.All', 'Exchange/Exchange.ManageAsApp'] });
  exo = sandboxExchange(env.sandbox);
  const sp = (await env.graph.api('/servicePrincipals').filter(`appId eq '${env.limited.clientId}'`).get()).value[0];
  await env.graph.api('/roleManagement/directory/roleAssignments').post({ principalId: sp.id, roleDefinitionId: '31392ffb-586c-42d1-9346-e59415a2cc4e', directoryScopeId: '/' });
});
after(async () => env?.close());

async function sharedMailbox(tag: string): Promise<{ id: string; userPrincipalName: string }> {
  const alias = `${tag}${randomUUID().slice(0, 6)}`;
  const m = (await exo('New-Mailbox', { Shared: true, Name: alias, Alias: alias })).value[0]!;
  return { id: String(m['ExternalDirectoryObjectId']), userPrincipalName: String(m['UserPrincipalName']) };
}
/** A user to give access to (mail users and unlicensed users can hold permissions too). */
const person = (tag: string, extra: Record<string, unknown> = {}) => env.newUser(tag, extra);

const fullAccessOf = async (mailbox: string) =>
  (await exo('Get-MailboxPermission', { Identity: mailbox })).value.filter((p) => (p['AccessRights'] as string[]).includes('FullAccess') && p['User'] !== 'NT AUTHORITY\\SELF').map((p) => p['User']);
const sendAsOf = async (mailbox: string) => (await exo('Get-RecipientPermission', { Identity: mailbox })).value.map((p) => p['Trustee']).filter((t) => t !== 'NT AUTHORITY\\SELF');
const onBehalfOf = async (mailbox: string) => (await exo('Get-Mailbox', { Identity: mailbox })).value[0]!['GrantSendOnBehalfTo'] as string[];
const rightsOf = async (mailbox: string, user: string) => (await exo('Get-MailboxPermission', { Identity: mailbox, User: user })).value.flatMap((p) => p['AccessRights'] as string[]).sort();
const mailboxState = (id: string) => env.sandbox.admin.store.perUser.get(id)?.['mailbox'] as { fullAccess: { user: string; autoMapping: boolean }[] };

describe('full access, send as, send on behalf', { concurrency: true }, () => {
  it('mailbox.addFullAccess (without automapping) and mailbox.removeFullAccess', async () => {
    const [m, a, b] = [await sharedMailbox('fa'), await person('faa'), await person('fab')];
    const r = await env.run('mailbox.addFullAccess', { mailbox: m.userPrincipalName, users: [a.userPrincipalName, b.id], autoMapping: false });
    ok(r);
    assert.deepEqual(r.output.results.map((x: { changed: boolean }) => x.changed), [true, true]);
    assert.deepEqual((await fullAccessOf(m.userPrincipalName)).sort(), [a.userPrincipalName, b.userPrincipalName].sort());
    // Automapping is not readable through any Get-* cmdlet; the sandbox keeps it with the permission.
    assert.deepEqual(mailboxState(m.id).fullAccess.map((f) => f.autoMapping), [false, false]);
    const again = await env.run('mailbox.addFullAccess', { mailbox: m.id, users: [a.id] });
    assert.equal(again.output.results[0].changed, false);
    ok(await env.run('mailbox.removeFullAccess', { mailbox: m.userPrincipalName, users: [a.id] }));
    assert.deepEqual(await fullAccessOf(m.userPrincipalName), [b.userPrincipalName]);
    assert.equal((await env.run('mailbox.removeFullAccess', { mailbox: m.id, users: [a.id] })).output.results[0].changed, false);
  });

  it('mailbox.addSendAs and mailbox.removeSendAs', async () => {
    const [m, a] = [await sharedMailbox('sa'), await person('saa')];
    ok(await env.run('mailbox.addSendAs', { mailbox: m.userPrincipalName, users: [a.id] }));
    assert.deepEqual(await sendAsOf(m.userPrincipalName), [a.userPrincipalName]);
    assert.equal((await env.run('mailbox.addSendAs', { mailbox: m.id, users: [a.userPrincipalName] })).output.results[0].changed, false);
    ok(await env.run('mailbox.removeSendAs', { mailbox: m.id, users: [a.id] }));
    assert.deepEqual(await sendAsOf(m.userPrincipalName), []);
  });

  it('mailbox.addSendOnBehalf and mailbox.removeSendOnBehalf', async () => {
    const [m, a, b] = [await sharedMailbox('sob'), await person('soba'), await person('sobb')];
    ok(await env.run('mailbox.addSendOnBehalf', { mailbox: m.userPrincipalName, users: [a.id, b.id] }));
    assert.equal((await onBehalfOf(m.userPrincipalName)).length, 2);
    assert.deepEqual((await env.run('mailbox.addSendOnBehalf', { mailbox: m.id, users: [b.userPrincipalName] })).output.results[0].changed, false);
    ok(await env.run('mailbox.removeSendOnBehalf', { mailbox: m.id, users: [a.userPrincipalName] }));
    const left = await onBehalfOf(m.userPrincipalName);
    assert.equal(left.length, 1);
    assert.equal(left[0], b.userPrincipalName.split('@')[0]);
  });

  it('mailbox.grantManagerFullAccess gives the manager access, or says there is none', async () => {
    const manager = await person('mgr');
    const leaver = await env.newUser('leaver', { licences: ['EXCHANGESTANDARD'], manager: manager.id });
    const r = await env.run('mailbox.grantManagerFullAccess', { mailbox: leaver.userPrincipalName });
    ok(r);
    assert.deepEqual([r.output.manager, r.output.changed], [manager.userPrincipalName, true]);
    assert.deepEqual(await fullAccessOf(leaver.userPrincipalName), [manager.userPrincipalName]);
    assert.equal((await env.run('mailbox.grantManagerFullAccess', { mailbox: leaver.id })).output.changed, false);
    const orphan = await env.newUser('orphan', { licences: ['EXCHANGESTANDARD'] });
    const none = await env.run('mailbox.grantManagerFullAccess', { mailbox: orphan.id });
    assert.equal(none.error?.code, 'NoManager');
  });
});

describe('delegates', { concurrency: true }, () => {
  it('mailbox.addDelegate, mailbox.listDelegates and mailbox.removeDelegate', async () => {
    const [m1, m2, a] = [await sharedMailbox('dl1'), await sharedMailbox('dl2'), await person('dla')];
    const r = await env.run('mailbox.addDelegate', { mailboxes: [m1.userPrincipalName, m2.id], users: [a.id], rights: ['FullAccess', 'SendAs', 'SendOnBehalf', 'DeleteItem', 'ReadPermission'] });
    ok(r);
    assert.equal(r.output.results.length, 10);
    assert.ok(r.output.results.every((x: { changed: boolean }) => x.changed));
    for (const m of [m1, m2]) {
      assert.deepEqual(await rightsOf(m.userPrincipalName, a.userPrincipalName), ['DeleteItem', 'FullAccess', 'ReadPermission']);
      assert.deepEqual(await sendAsOf(m.userPrincipalName), [a.userPrincipalName]);
      assert.equal((await onBehalfOf(m.userPrincipalName)).length, 1);
    }
    const listed = await env.run('mailbox.listDelegates', { mailbox: m1.userPrincipalName });
    ok(listed);
    assert.deepEqual(listed.output.delegates.find((d: { user: string }) => d.user === a.userPrincipalName).rights.sort(), ['DeleteItem', 'FullAccess', 'ReadPermission', 'SendAs']);
    assert.equal((await env.run('mailbox.addDelegate', { mailboxes: [m1.id], users: [a.id], rights: ['FullAccess'] })).output.results[0].changed, false);
    const some = await env.run('mailbox.removeDelegate', { mailboxes: [m1.id], users: [a.userPrincipalName], rights: ['DeleteItem', 'SendAs'] });
    ok(some);
    assert.deepEqual(await rightsOf(m1.userPrincipalName, a.userPrincipalName), ['FullAccess', 'ReadPermission']);
    assert.deepEqual(await sendAsOf(m1.userPrincipalName), []);
    const all = await env.run('mailbox.removeDelegate', { mailboxes: [m1.id, m2.id] });
    ok(all);
    for (const m of [m1, m2]) {
      assert.deepEqual(await rightsOf(m.userPrincipalName, a.userPrincipalName), []);
      assert.deepEqual([await sendAsOf(m.userPrincipalName), await onBehalfOf(m.userPrincipalName)], [[], []]);
    }
  });

  it('mailbox.removeUserAccess removes everything a user has on other mailboxes', async () => {
    const [m1, m2, m3, a, other] = [await sharedMailbox('ua1'), await sharedMailbox('ua2'), await sharedMailbox('ua3'), await person('uaa'), await person('uao')];
    await exo('Add-MailboxPermission', { Identity: m1.userPrincipalName, User: a.userPrincipalName, AccessRights: ['FullAccess'] });
    await exo('Add-MailboxPermission', { Identity: m1.userPrincipalName, User: other.userPrincipalName, AccessRights: ['FullAccess'] });
    await exo('Add-RecipientPermission', { Identity: m2.userPrincipalName, Trustee: a.userPrincipalName, AccessRights: ['SendAs'] });
    await exo('Set-Mailbox', { Identity: m3.userPrincipalName, GrantSendOnBehalfTo: [a.userPrincipalName] });
    const r = await env.run('mailbox.removeUserAccess', { user: a.userPrincipalName, mailboxes: [m1.id, m2.id, m3.id] });
    ok(r);
    assert.deepEqual(r.output.results.map((x: { right: string }) => x.right), ['FullAccess', 'SendAs', 'SendOnBehalf']);
    assert.deepEqual(await fullAccessOf(m1.userPrincipalName), [other.userPrincipalName], 'other people keep their access');
    assert.deepEqual([await sendAsOf(m2.userPrincipalName), await onBehalfOf(m3.userPrincipalName)], [[], []]);
    const whole = await env.run('mailbox.removeUserAccess', { user: a.id });
    ok(whole);
    assert.deepEqual(whole.output.results, []);
    assert.ok(whole.output.scanned > 3, 'without a list every mailbox is looked at');
  });

  it('mailbox.copyPermissions adds, or replaces with, the source user\'s access', async () => {
    const [m1, m2, source, target] = [await sharedMailbox('cp1'), await sharedMailbox('cp2'), await person('cpsrc'), await person('cptgt')];
    await exo('Add-MailboxPermission', { Identity: m1.userPrincipalName, User: source.userPrincipalName, AccessRights: ['FullAccess'] });
    await exo('Add-RecipientPermission', { Identity: m1.userPrincipalName, Trustee: source.userPrincipalName, AccessRights: ['SendAs'] });
    await exo('Add-MailboxPermission', { Identity: m2.userPrincipalName, User: target.userPrincipalName, AccessRights: ['FullAccess'] });
    const add = await env.run('mailbox.copyPermissions', { from: source.id, to: [target.userPrincipalName], mailboxes: [m1.id, m2.id] });
    ok(add);
    assert.deepEqual(add.output.results.map((x: { right: string }) => x.right).sort(), ['FullAccess', 'SendAs']);
    assert.deepEqual((await fullAccessOf(m1.userPrincipalName)).sort(), [source.userPrincipalName, target.userPrincipalName].sort());
    assert.ok((await sendAsOf(m1.userPrincipalName)).includes(target.userPrincipalName));
    assert.deepEqual(await fullAccessOf(m2.userPrincipalName), [target.userPrincipalName], 'add keeps the target\'s own access');
    assert.deepEqual((await env.run('mailbox.copyPermissions', { from: source.id, to: [target.id], mailboxes: [m1.id, m2.id] })).output.results, []);
    ok(await env.run('mailbox.copyPermissions', { from: source.id, to: [target.id], mode: 'replace', mailboxes: [m1.id, m2.id] }));
    assert.deepEqual(await fullAccessOf(m2.userPrincipalName), [], 'replace removes what the source does not have');
    assert.ok((await fullAccessOf(m1.userPrincipalName)).includes(target.userPrincipalName));
  });
});

describe('folders and booking', { concurrency: true }, () => {
  it('mailbox.setCalendarPermission (reviewer, then delegate) and mailbox.removeCalendarPermission', async () => {
    const [m, a] = [await sharedMailbox('cal'), await person('cala')];
    const perms = async () => (await exo('Get-MailboxFolderPermission', { Identity: `${m.userPrincipalName}:\\Calendar` })).value;
    const entry = async () => (await perms()).find((p) => p['User'] === `Test cala`);
    ok(await env.run('mailbox.setCalendarPermission', { mailbox: m.userPrincipalName, users: [a.id], accessRights: 'Reviewer' }));
    assert.deepEqual((await entry())!['AccessRights'], ['Reviewer']);
    assert.equal((await env.run('mailbox.setCalendarPermission', { mailbox: m.id, users: [a.id], accessRights: 'Reviewer' })).output.results[0].changed, false);
    ok(await env.run('mailbox.setCalendarPermission', { mailbox: m.id, users: [a.userPrincipalName], accessRights: 'Editor', delegate: true, canViewPrivateItems: true }));
    const e = (await entry())!;
    assert.deepEqual([e['AccessRights'], e['SharingPermissionFlags']], [['Editor'], 'Delegate, CanViewPrivateItems']);
    const bad = await env.run('mailbox.setCalendarPermission', { mailbox: m.id, users: [a.id], accessRights: 'Reviewer', delegate: true });
    assert.match(bad.error!.message, /calendar delegates need the Editor level/);
    ok(await env.run('mailbox.removeCalendarPermission', { mailbox: m.id, users: [a.id] }));
    assert.deepEqual((await perms()).map((p) => p['User']), ['Default', 'Anonymous']);
    assert.equal((await env.run('mailbox.removeCalendarPermission', { mailbox: m.id, users: [a.id] })).output.results[0].changed, false);
  });

  it('mailbox.removeCalendarAccess removes a user\'s permissions on other people\'s calendars, others keep theirs', async () => {
    const [m1, m2, a, other] = [await sharedMailbox('rcal1'), await sharedMailbox('rcal2'), await person('rcala'), await person('rcalo')];
    const calendar = async (m: { userPrincipalName: string }) => (await exo('Get-MailboxFolderPermission', { Identity: `${m.userPrincipalName}:\\Calendar` })).value.filter((p) => !['Default', 'Anonymous'].includes(String(p['User']))).map((p) => `${String(p['User'])}: ${(p['AccessRights'] as string[]).join(',')}`);
    await exo('Add-MailboxFolderPermission', { Identity: `${m1.userPrincipalName}:\\Calendar`, User: a.userPrincipalName, AccessRights: ['Reviewer'] });
    await exo('Add-MailboxFolderPermission', { Identity: `${m1.userPrincipalName}:\\Calendar`, User: other.userPrincipalName, AccessRights: ['Editor'] });
    await exo('Add-MailboxFolderPermission', { Identity: `${m2.userPrincipalName}:\\Calendar`, User: a.userPrincipalName, AccessRights: ['Editor'], SharingPermissionFlags: 'Delegate' });
    const r = await env.run('mailbox.removeCalendarAccess', { user: a.id, mailboxes: [m1.id, m2.userPrincipalName] });
    ok(r);
    assert.deepEqual(r.output.results.map((x: { mailbox: string; accessRights: string; changed: boolean }) => [x.mailbox, x.accessRights, x.changed]), [[m1.userPrincipalName, 'Reviewer', true], [m2.userPrincipalName, 'Editor', true]]);
    assert.deepEqual(await calendar(m1), ['Test rcalo: Editor'], 'other people keep their access');
    assert.deepEqual(await calendar(m2), []);
    const again = await env.run('mailbox.removeCalendarAccess', { user: a.userPrincipalName, mailboxes: [m1.id, m2.id] });
    ok(again);
    assert.deepEqual([again.output.results, again.output.scanned], [[], 2], 'a repeat finds nothing left to remove');
  });

  it('mailbox.addContactsDelegate and mailbox.removeContactsDelegate', async () => {
    const [m, a] = [await sharedMailbox('con'), await person('cona')];
    const perms = async () => (await exo('Get-MailboxFolderPermission', { Identity: `${m.userPrincipalName}:\\Contacts` })).value;
    ok(await env.run('mailbox.addContactsDelegate', { mailbox: m.userPrincipalName, users: [a.id] }));
    assert.deepEqual((await perms()).find((p) => p['User'] === 'Test cona')!['AccessRights'], ['Editor']);
    assert.equal((await env.run('mailbox.addContactsDelegate', { mailbox: m.id, users: [a.id] })).output.results[0].changed, false);
    ok(await env.run('mailbox.removeContactsDelegate', { mailbox: m.id, users: [a.id] }));
    assert.ok(!(await perms()).some((p) => p['User'] === 'Test cona'));
  });

  it('mailbox.setCalendarProcessing sets booking of a room; a user mailbox is refused', async () => {
    const alias = `room${randomUUID().slice(0, 6)}`;
    const room = (await exo('New-Mailbox', { Room: true, Name: alias, Alias: alias })).value[0]!;
    const delegate = await person('booker');
    const r = await env.run('mailbox.setCalendarProcessing', { mailbox: alias, allowConflicts: false, bookingWindowInDays: 90, maximumDurationInMinutes: 240, allBookInPolicy: false, resourceDelegates: [delegate.id], additionalResponse: 'Please tidy up.' });
    ok(r);
    assert.deepEqual(r.output.changed, ['bookingWindowInDays', 'maximumDurationInMinutes', 'allBookInPolicy', 'resourceDelegates', 'additionalResponse']);
    const cp = (await exo('Get-CalendarProcessing', { Identity: String(room['PrimarySmtpAddress']) })).value[0]!;
    assert.deepEqual([cp['BookingWindowInDays'], cp['MaximumDurationInMinutes'], cp['AllBookInPolicy'], cp['ResourceDelegates'], cp['AddAdditionalResponse'], cp['AdditionalResponse']], [90, 240, false, [delegate.userPrincipalName], true, 'Please tidy up.']);
    assert.deepEqual((await env.run('mailbox.setCalendarProcessing', { mailbox: alias, bookingWindowInDays: 90, resourceDelegates: [delegate.userPrincipalName] })).output.changed, []);
    const user = await sharedMailbox('notroom');
    const refused = await env.run('mailbox.setCalendarProcessing', { mailbox: user.id, bookingWindowInDays: 30 });
    assert.equal(refused.error?.code, 'NotAResourceMailbox');
  });
});

describe('Exchange roles', { concurrency: true }, () => {
  it('an Exchange Recipient Administrator app may delegate, but litigation hold and quarantine name the role they need', async () => {
    const [m, a] = [await sharedMailbox('rbac'), await person('rbaca')];
    ok(await env.run('mailbox.addFullAccess', { mailbox: m.userPrincipalName, users: [a.id] }, { tenant: 'limited' }));
    const hold = await env.run('mailbox.setLitigationHold', { mailbox: m.userPrincipalName }, { tenant: 'limited' });
    assert.equal(hold.error?.code, 'ParameterBindingException');
    assert.match(hold.error!.hint!, /Legal Hold role.*Exchange Administrator/);
    const q = await env.run('quarantine.list', {}, { tenant: 'limited' });
    assert.equal(q.error?.code, 'CommandNotFoundException');
    assert.match(q.error!.hint!, /Security Administrator/);
  });
});
