// Creating and removing Exchange recipients as runbook steps on the real worker against the sandbox:
// shared and resource mailboxes, mail contacts, mail users, and quarantined messages; read back with
// Get-Mailbox, Get-MailContact, Get-Contact, Get-MailUser, Get-QuarantineMessage and Graph (the inbox a
// released message lands in). Creations are retried after a lost answer to show they find their own
// earlier effect.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ExchangeCallError, sandboxExchange } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let exo: ReturnType<typeof sandboxExchange>;
let sender: string;

before(async () => {
  env = await startActionsEnv();
  exo = sandboxExchange(env.sandbox);
  sender = (await env.newUser('service', { licences: ['EXCHANGESTANDARD'] })).userPrincipalName;
});
after(async () => env?.close());

const tag = (t: string) => `${t}${randomUUID().slice(0, 6)}`;
async function exoStatus(cmdlet: string, params: Record<string, unknown>): Promise<number> {
  try {
    await exo(cmdlet, params);
    return 200;
  } catch (err) {
    return (err as ExchangeCallError).status;
  }
}

// failNext matches by cmdlet name: nothing else may call New-Mailbox while this runs.
describe('retries', () => {
  it('mailbox.createShared with delegates, addresses and policies; a retry after a lost answer finds its own mailbox', async () => {
    const alias = tag('team');
    const [a, b] = [await env.newUser('sharea'), await env.newUser('shareb')];
    const extra = `${alias}.help@${env.domain}`;
    env.sandbox.admin.failNext({ status: 503, match: 'New-Mailbox', afterEffect: true });
    const r = await env.run('mailbox.createShared', { name: `Team ${alias}`, alias, fullAccess: [a.id], sendAs: [b.userPrincipalName], emailAddresses: [extra], retentionPolicy: 'Default MRM Policy' });
    ok(r);
    assert.deepEqual([r.attempts, r.output.created, r.output.identity], [2, false, `${alias}@${env.domain}`]);
    assert.equal(env.sandbox.admin.mutationCount({ objectId: r.output.id, op: 'mailbox.create' }), 1, 'one mailbox');
    const m = (await exo('Get-Mailbox', { Identity: alias })).value[0]!;
    assert.deepEqual([m['RecipientTypeDetails'], m['DisplayName']], ['SharedMailbox', `Team ${alias}`]);
    assert.ok((m['EmailAddresses'] as string[]).includes(`smtp:${extra}`));
    const perms = (await exo('Get-MailboxPermission', { Identity: alias, User: a.userPrincipalName })).value[0]!;
    assert.deepEqual(perms['AccessRights'], ['FullAccess']);
    assert.equal((await exo('Get-RecipientPermission', { Identity: alias, Trustee: b.userPrincipalName })).value.length, 1);
    const dup = await env.run('mailbox.createShared', { name: `Team ${alias} again`, alias });
    assert.equal(dup.error?.code, 'ObjectConflict');
  });
});

describe('shared and resource mailboxes', { concurrency: true }, () => {
  it('mailbox.createResource makes a room with capacity, booking and hidden from the address book', async () => {
    const alias = tag('room');
    const approver = await env.newUser('approver');
    const r = await env.run('mailbox.createResource', { kind: 'Room', name: `Room ${alias}`, alias, capacity: 12, hiddenFromAddressLists: true, booking: { bookingWindowInDays: 30, allowRecurringMeetings: false, resourceDelegates: [approver.id] } });
    ok(r);
    assert.equal(r.output.created, true);
    const m = (await exo('Get-Mailbox', { Identity: alias })).value[0]!;
    assert.deepEqual([m['RecipientTypeDetails'], m['ResourceCapacity'], m['HiddenFromAddressListsEnabled']], ['RoomMailbox', 12, true]);
    const cp = (await exo('Get-CalendarProcessing', { Identity: alias })).value[0]!;
    assert.deepEqual([cp['AutomateProcessing'], cp['BookingWindowInDays'], cp['AllowRecurringMeetings'], cp['ResourceDelegates']], ['AutoAccept', 30, false, [approver.userPrincipalName]]);
    const eq = await env.run('mailbox.createResource', { kind: 'Equipment', name: `Van ${alias}`, alias: `van${alias}` });
    ok(eq);
    assert.equal((await exo('Get-Mailbox', { Identity: `van${alias}` })).value[0]!['RecipientTypeDetails'], 'EquipmentMailbox');
  });

  it('mailbox.delete removes a mailbox; a repeat on a retry is done, a first attempt on nothing says so', async () => {
    const alias = tag('gone');
    await exo('New-Mailbox', { Shared: true, Name: alias, Alias: alias });
    const r = await env.run('mailbox.delete', { mailbox: alias });
    ok(r);
    assert.equal(r.output.deleted, true);
    assert.equal(await exoStatus('Get-Mailbox', { Identity: alias }), 404);
    const again = await env.run('mailbox.delete', { mailbox: alias });
    assert.equal(again.error?.code, 'MailboxNotFound');
  });
});

describe('mail contacts', { concurrency: true }, () => {
  it('contact.create, contact.list, contact.update and contact.delete', async () => {
    const name = tag('Vendor ');
    const external = `${name.replace(/\s/g, '').toLowerCase()}@vendor.example`;
    env.sandbox.admin.failNext({ status: 503, match: 'New-MailContact', afterEffect: true });
    const r = await env.run('contact.create', { name, externalEmailAddress: external, emailAddresses: [`sales.${external}`], company: 'Vendor Ltd', title: 'Account manager', phone: '+1 425 555 0100', hiddenFromAddressLists: true });
    ok(r);
    assert.deepEqual([r.attempts, r.output.created], [2, false]);
    const mc = (await exo('Get-MailContact', { Identity: external })).value[0]!;
    assert.deepEqual([mc['Name'], mc['HiddenFromAddressListsEnabled'], mc['ExternalEmailAddress']], [name, true, `SMTP:${external}`]);
    assert.ok((mc['EmailAddresses'] as string[]).includes(`smtp:sales.${external}`));
    const details = (await exo('Get-Contact', { Identity: external })).value[0]!;
    assert.deepEqual([details['Company'], details['Title'], details['Phone']], ['Vendor Ltd', 'Account manager', '+1 425 555 0100']);
    const list = await env.run('contact.list', {});
    assert.ok(list.output.contacts.some((c: { externalEmailAddress: string }) => c.externalEmailAddress === external));
    const moved = `new.${external}`;
    const upd = await env.run('contact.update', { contact: name, externalEmailAddress: moved, hiddenFromAddressLists: false, removeEmailAddresses: [`sales.${external}`], title: '', department: 'Sales' });
    ok(upd);
    assert.deepEqual(upd.output.changed, ['externalEmailAddress', 'hiddenFromAddressLists', 'emailAddresses', 'title', 'department']);
    const after1 = (await exo('Get-MailContact', { Identity: moved })).value[0]!;
    assert.deepEqual([after1['ExternalEmailAddress'], after1['HiddenFromAddressListsEnabled']], [`SMTP:${moved}`, false]);
    assert.ok(!(after1['EmailAddresses'] as string[]).some((a) => a.includes('sales.')));
    const d2 = (await exo('Get-Contact', { Identity: moved })).value[0]!;
    assert.deepEqual([d2['Title'], d2['Department'], d2['Company']], ['', 'Sales', 'Vendor Ltd']);
    assert.deepEqual((await env.run('contact.update', { contact: moved, department: 'Sales' })).output.changed, []);
    ok(await env.run('contact.delete', { contact: moved }));
    assert.equal(await exoStatus('Get-MailContact', { Identity: moved }), 404);
    assert.equal((await env.run('contact.delete', { contact: moved })).error?.code, 'ContactNotFound');
    const conflict = await env.run('contact.create', { name: tag('Other'), externalEmailAddress: sender });
    assert.equal(conflict.status, 'failed');
  });
});

describe('mail users', { concurrency: true }, () => {
  it('mailUser.create (password mailed, never in the run), mailUser.update and mailUser.delete', async () => {
    const upn = env.upn('partner');
    const external = `${upn.split('@')[0]}@partner.example`;
    const helpdesk = await env.newUser('mudesk', { licences: ['EXCHANGESTANDARD'] });
    const r = await env.run('mailUser.create', { userPrincipalName: upn, displayName: 'Partner Jane', externalEmailAddress: external, givenName: 'Jane', emailAddresses: [`jane.${upn}`], sendPasswordTo: helpdesk.userPrincipalName, mailFrom: sender });
    ok(r);
    assert.deepEqual([r.output.created, r.output.externalEmailAddress, r.output.passwordSentTo], [true, external, helpdesk.userPrincipalName]);
    const mu = (await exo('Get-MailUser', { Identity: upn })).value[0]!;
    assert.deepEqual([mu['RecipientTypeDetails'], mu['ExternalEmailAddress']], ['MailUser', `SMTP:${external}`]);
    assert.ok((mu['EmailAddresses'] as string[]).includes(`smtp:jane.${upn}`));
    const account = await env.graph.api(`/users/${r.output.id}`).select('givenName,displayName').get();
    assert.deepEqual([account.givenName, account.displayName], ['Jane', 'Partner Jane']);
    const inbox = (await env.graph.api(`/users/${helpdesk.id}/mailFolders/inbox/messages`).get()).value as { subject: string; body: { content: string } }[];
    const mail = inbox.find((m) => m.subject.includes(upn))!;
    const password = /\n {4}(\S+)\n/.exec(mail.body.content)![1]!;
    assert.equal(env.sandbox.admin.findUser(r.output.id)?._password, password, 'the mailed password is the account\'s');
    assert.ok(!(await r.history()).includes(password), 'the password is not in the run\'s history');
    const upd = await env.run('mailUser.update', { mailUser: upn, externalEmailAddress: `moved.${external}`, hiddenFromAddressLists: true, jobTitle: 'Auditor' });
    ok(upd);
    assert.deepEqual(upd.output.changed.sort(), ['externalEmailAddress', 'hiddenFromAddressLists', 'jobTitle']);
    const mu2 = (await exo('Get-MailUser', { Identity: upn })).value[0]!;
    assert.deepEqual([mu2['ExternalEmailAddress'], mu2['HiddenFromAddressListsEnabled']], [`SMTP:moved.${external}`, true]);
    assert.equal((await env.graph.api(`/users/${r.output.id}`).select('jobTitle').get()).jobTitle, 'Auditor');
    ok(await env.run('mailUser.delete', { mailUser: upn }));
    assert.equal(await exoStatus('Get-MailUser', { Identity: upn }), 404);
    const licensed = await env.run('mailUser.update', { mailUser: helpdesk.userPrincipalName, displayName: 'x' });
    assert.equal(licensed.error?.code, 'MailUserNotFound', 'a user with a mailbox is not a mail user');
  });
});

describe('quarantine', { concurrency: true }, () => {
  it('quarantine.list, quarantine.release into the inbox, quarantine.delete', async () => {
    const u = await env.newUser('quser', { licences: ['EXCHANGESTANDARD'] });
    const subject = `Invoice ${randomUUID().slice(0, 6)}`;
    const held = env.sandbox.admin.quarantineMessage({ to: [u.userPrincipalName], from: 'billing@supplier.example', subject, type: 'Spam' });
    const doomed = env.sandbox.admin.quarantineMessage({ to: [u.userPrincipalName], from: 'x@phish.example', subject: 'Verify now', type: 'HighConfPhish' });
    const list = await env.run('quarantine.list', { recipient: u.userPrincipalName });
    ok(list);
    assert.deepEqual(list.output.messages.map((m: { identity: string }) => m.identity).sort(), [held.identity, doomed.identity].sort());
    assert.deepEqual((await env.run('quarantine.list', { recipient: u.userPrincipalName, types: ['HighConfPhish'] })).output.messages.map((m: { subject: string }) => m.subject), ['Verify now']);
    const r = await env.run('quarantine.release', { identity: held.identity });
    ok(r);
    assert.deepEqual([r.output.changed, r.output.releasedTo], [true, [u.userPrincipalName]]);
    const inbox = (await env.graph.api(`/users/${u.id}/mailFolders/inbox/messages`).get()).value as { subject: string }[];
    assert.deepEqual(inbox.map((m) => m.subject), [subject], 'the released message is in the inbox');
    assert.equal((await exo('Get-QuarantineMessage', { Identity: held.identity })).value[0]!['ReleaseStatus'], 'RELEASED');
    const again = await env.run('quarantine.release', { identity: held.identity });
    assert.equal(again.output.changed, false);
    assert.equal((await env.graph.api(`/users/${u.id}/mailFolders/inbox/messages`).get()).value.length, 1, 'not delivered twice');
    assert.deepEqual((await env.run('quarantine.list', { recipient: u.userPrincipalName })).output.messages.map((m: { identity: string }) => m.identity), [doomed.identity], 'released ones are left out');
    ok(await env.run('quarantine.delete', { identity: doomed.identity }));
    assert.equal(await exoStatus('Get-QuarantineMessage', { Identity: doomed.identity }), 404);
    assert.equal((await env.run('quarantine.delete', { identity: doomed.identity })).error?.code, 'QuarantineMessageNotFound');
    assert.equal((await env.run('quarantine.release', { identity: 'not-an-id' })).error?.code, 'InvalidInput');
  });
});
