// Plans, recorded changes and undo of the mailbox actions an offboarding uses (docs/plan.md): convert
// to shared, forwarding, out of office, full access, send as, send on behalf, calendar and contacts
// folder permissions. For each: the plan
// against the sandbox shows before -> after and writes nothing (the sandbox's mutation log is
// unchanged), the step records the same before -> after, a second plan says "no change", and the
// inverse steps built from the record put the mailbox back as it was, read back with Get-* cmdlets.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { catalog } from '../catalog/index.ts';
import { sandboxExchange } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';
import { planOf as kitPlanOf, roundTrip as kitRoundTrip } from './plan-kit.ts';

let env: ActionsEnv;
let exo: ReturnType<typeof sandboxExchange>;

before(async () => {
  env = await startActionsEnv();
  exo = sandboxExchange(env.sandbox);
});
after(async () => env?.close());

const roundTrip = (action: string, params: Record<string, unknown>, expected: string[], state: () => Promise<unknown>) => kitRoundTrip(env, action, params, expected, state);
const planOf = (action: string, params: Record<string, unknown>) => kitPlanOf(env, action, params);

async function sharedMailbox(tag: string): Promise<{ id: string; userPrincipalName: string }> {
  const alias = `plan${tag}${randomUUID().slice(0, 6)}`;
  const m = (await exo('New-Mailbox', { Shared: true, Name: alias, Alias: alias })).value[0]!;
  return { id: String(m['ExternalDirectoryObjectId']), userPrincipalName: String(m['UserPrincipalName']) };
}
const mailbox = async (id: string) => (await exo('Get-Mailbox', { Identity: id })).value[0]!;

describe('plans and undo of the offboarding mailbox actions (one at a time: the mutation log is the whole sandbox)', () => {
  it('mailbox.convertToShared: UserMailbox -> SharedMailbox, undone by Edit mailbox type', async () => {
    const u = await env.newUser('conv', { licences: ['EXCHANGESTANDARD'] });
    await roundTrip('mailbox.convertToShared', { mailbox: u.userPrincipalName }, [`mailbox ${u.userPrincipalName} | type | "UserMailbox" -> "SharedMailbox"`], async () => (await mailbox(u.id))['RecipientTypeDetails']);
  });

  it('mailbox.setMailboxType: a shared mailbox becomes a room and goes back', async () => {
    const m = await sharedMailbox('type');
    await roundTrip('mailbox.setMailboxType', { mailbox: m.userPrincipalName, type: 'Room' }, [`mailbox ${m.userPrincipalName} | type | "SharedMailbox" -> "RoomMailbox"`], async () => (await mailbox(m.id))['RecipientTypeDetails']);
  });

  const forwarding = (id: string) => async () => {
    const m = await mailbox(id);
    return [m['ForwardingSmtpAddress'] ?? null, m['ForwardingAddress'] ?? null, m['DeliverToMailboxAndForward'] ?? false];
  };

  it('mailbox.setForwarding: none -> an SMTP address with a copy, undone by disabling it', async () => {
    const m = await sharedMailbox('fwd');
    await roundTrip('mailbox.setForwarding', { mailbox: m.userPrincipalName, toAddress: 'archive@fabrikam.example', keepCopy: true }, [`mailbox ${m.userPrincipalName} | forwarding | null -> {"toAddress":"archive@fabrikam.example","keepCopy":true}`], forwarding(m.id));
  });

  it('mailbox.disableForwarding: forwarding to a recipient -> none, undone by forwarding to it again', async () => {
    const m = await sharedMailbox('nofwd');
    const to = await sharedMailbox('fwdto');
    ok(await env.run('mailbox.setForwarding', { mailbox: m.userPrincipalName, toRecipient: to.userPrincipalName, keepCopy: false }));
    const was = String((await mailbox(m.id))['ForwardingAddress']);
    await roundTrip('mailbox.disableForwarding', { mailbox: m.id }, [`mailbox ${m.userPrincipalName} | forwarding | {"toRecipient":${JSON.stringify(was)},"keepCopy":false} -> null`], forwarding(m.id));
  });

  /** Out of office as Exchange shows it; the external audience only while replies are on (turning them off leaves it, inert). */
  const autoReply = (upn: string) => async () => {
    const a = (await exo('Get-MailboxAutoReplyConfiguration', { Identity: upn })).value[0]!;
    return [a['AutoReplyState'], a['InternalMessage'], a['ExternalMessage'], a['AutoReplyState'] === 'Disabled' ? null : a['ExternalAudience'], a['StartTime'] ?? null, a['EndTime'] ?? null];
  };

  it('mailbox.setAutoReply: off -> on with the messages, undone by turning it off', async () => {
    const m = await sharedMailbox('oof');
    const off = JSON.stringify({ status: 'disabled', externalAudience: 'all', internalMessage: '', externalMessage: '' });
    await roundTrip(
      'mailbox.setAutoReply',
      { mailbox: m.userPrincipalName, internalMessage: 'I have left the company.', externalAudience: 'contactsOnly' },
      [`mailbox ${m.userPrincipalName} | autoReply | ${off} -> {"status":"alwaysEnabled","externalAudience":"contactsOnly","internalMessage":"I have left the company.","externalMessage":"I have left the company."}`],
      autoReply(m.userPrincipalName),
    );
    const reversal = catalog.get('mailbox.setAutoReply')!.reverse!({
      input: catalog.get('mailbox.setAutoReply')!.input.parse({ mailbox: m.userPrincipalName, internalMessage: 'x', externalAudience: 'contactsOnly' }),
      output: {},
      changes: [{ object: 'm', property: 'autoReply', before: JSON.parse(off), after: { status: 'alwaysEnabled', externalAudience: 'contactsOnly', internalMessage: 'x', externalMessage: 'x' } }],
    });
    assert.match('note' in reversal ? String(reversal.note) : '', /external audience stays contactsOnly/, 'the undo says what it leaves');
  });

  it('mailbox.clearAutoReply: a scheduled reply -> off, undone by scheduling it again', async () => {
    const m = await sharedMailbox('clroof');
    ok(await env.run('mailbox.setAutoReply', { mailbox: m.userPrincipalName, internalMessage: 'On holiday', externalMessage: 'Away', start: '2031-07-01T08:00:00Z', end: '2031-07-15T17:00:00Z' }));
    await roundTrip(
      'mailbox.clearAutoReply',
      { mailbox: m.userPrincipalName },
      [
        `mailbox ${m.userPrincipalName} | autoReply | {"status":"scheduled","externalAudience":"all","internalMessage":"On holiday","externalMessage":"Away","start":"2031-07-01T08:00:00.000Z","end":"2031-07-15T17:00:00.000Z"} -> {"status":"disabled","externalAudience":"all","internalMessage":"","externalMessage":""}`,
      ],
      autoReply(m.userPrincipalName),
    );
  });

  const rights = (upn: string) => async () => {
    const full = (await exo('Get-MailboxPermission', { Identity: upn })).value.filter((p) => (p['AccessRights'] as string[]).includes('FullAccess') && p['User'] !== 'NT AUTHORITY\\SELF').map((p) => String(p['User']));
    const sendAs = (await exo('Get-RecipientPermission', { Identity: upn })).value.map((p) => String(p['Trustee'])).filter((t) => t !== 'NT AUTHORITY\\SELF');
    const onBehalf = ((await mailbox(upn))['GrantSendOnBehalfTo'] as string[] | undefined) ?? [];
    return { full: full.sort(), sendAs: sendAs.sort(), onBehalf: [...onBehalf].sort() };
  };

  it('mailbox.addFullAccess: only the users without it, undone by removing it from them', async () => {
    const m = await sharedMailbox('full');
    const [had, fresh] = [await env.newUser('hadfull'), await env.newUser('newfull')];
    ok(await env.run('mailbox.addFullAccess', { mailbox: m.userPrincipalName, users: [had.userPrincipalName] }));
    await roundTrip('mailbox.addFullAccess', { mailbox: m.userPrincipalName, users: [had.userPrincipalName, fresh.id] }, [`mailbox ${m.userPrincipalName} | FullAccess ${fresh.userPrincipalName} | false -> true`], rights(m.userPrincipalName));
  });

  it('mailbox.removeSendAs: taken away, undone by granting it again', async () => {
    const m = await sharedMailbox('sendas');
    const u = await env.newUser('sendas');
    ok(await env.run('mailbox.addSendAs', { mailbox: m.userPrincipalName, users: [u.id] }));
    await roundTrip('mailbox.removeSendAs', { mailbox: m.userPrincipalName, users: [u.userPrincipalName] }, [`mailbox ${m.userPrincipalName} | SendAs ${u.userPrincipalName} | true -> false`], rights(m.userPrincipalName));
  });

  it('mailbox.addSendOnBehalf: granted, undone by taking it away', async () => {
    const m = await sharedMailbox('behalf');
    const u = await env.newUser('behalf');
    await roundTrip('mailbox.addSendOnBehalf', { mailbox: m.userPrincipalName, users: [u.userPrincipalName] }, [`mailbox ${m.userPrincipalName} | SendOnBehalf ${u.userPrincipalName} | false -> true`], rights(m.userPrincipalName));
  });

  const folder = (upn: string, scope: 'Calendar' | 'Contacts') => async () =>
    (await exo('Get-MailboxFolderPermission', { Identity: `${upn}:\\${scope}` })).value
      .map((p) => `${String(p['User'])}: ${(p['AccessRights'] as string[]).join(',')} ${String(p['SharingPermissionFlags'] ?? '')}`)
      .sort();

  it('mailbox.setCalendarPermission: a reviewer becomes a delegate and a new user is added, undone per user', async () => {
    const m = await sharedMailbox('cal');
    const [had, fresh] = [await env.newUser('calhad'), await env.newUser('calnew')];
    ok(await env.run('mailbox.setCalendarPermission', { mailbox: m.userPrincipalName, users: [had.id], accessRights: 'Reviewer' }));
    const delegate = '{"accessRights":"Editor","flags":["CanViewPrivateItems","Delegate"]}';
    await roundTrip(
      'mailbox.setCalendarPermission',
      { mailbox: m.userPrincipalName, users: [had.userPrincipalName, fresh.userPrincipalName], accessRights: 'Editor', delegate: true, canViewPrivateItems: true },
      [
        `mailbox ${m.userPrincipalName} | calendar permission ${had.userPrincipalName} | {"accessRights":"Reviewer","flags":[]} -> ${delegate}`,
        `mailbox ${m.userPrincipalName} | calendar permission ${fresh.userPrincipalName} | null -> ${delegate}`,
      ],
      folder(m.userPrincipalName, 'Calendar'),
    );
  });

  it('mailbox.removeContactsDelegate: taken away, undone by giving the same level again', async () => {
    const m = await sharedMailbox('cts');
    const u = await env.newUser('cts');
    ok(await env.run('mailbox.addContactsDelegate', { mailbox: m.userPrincipalName, users: [u.id], accessRights: 'Reviewer' }));
    await roundTrip('mailbox.removeContactsDelegate', { mailbox: m.userPrincipalName, users: [u.userPrincipalName] }, [`mailbox ${m.userPrincipalName} | contacts permission ${u.userPrincipalName} | {"accessRights":"Reviewer","flags":[]} -> null`], folder(m.userPrincipalName, 'Contacts'));
  });

  it('mailbox.removeCalendarAccess: the user\'s entries on other calendars removed, undone with the recorded levels', async () => {
    const [m1, m2, keep] = [await sharedMailbox('rca1'), await sharedMailbox('rca2'), await sharedMailbox('rca3')];
    const [leaver, other] = [await env.newUser('rcaleaver'), await env.newUser('rcaother')];
    ok(await env.run('mailbox.setCalendarPermission', { mailbox: m1.userPrincipalName, users: [leaver.id, other.id], accessRights: 'Reviewer' }));
    ok(await env.run('mailbox.setCalendarPermission', { mailbox: m2.userPrincipalName, users: [leaver.id], accessRights: 'Editor', delegate: true }));
    const calendars = async () => [await folder(m1.userPrincipalName, 'Calendar')(), await folder(m2.userPrincipalName, 'Calendar')(), await folder(keep.userPrincipalName, 'Calendar')()];
    await roundTrip(
      'mailbox.removeCalendarAccess',
      { user: leaver.userPrincipalName, mailboxes: [m1.id, m2.userPrincipalName, keep.id] },
      [
        `mailbox ${m1.userPrincipalName} | calendar permission ${leaver.userPrincipalName} | {"accessRights":"Reviewer","flags":[]} -> null`,
        `mailbox ${m2.userPrincipalName} | calendar permission ${leaver.userPrincipalName} | {"accessRights":"Editor","flags":["Delegate"]} -> null`,
      ],
      calendars,
    );
  });

  it('a plan of a mailbox that does not exist would fail, naming it', async () => {
    const p = await planOf('mailbox.convertToShared', { mailbox: `nobody.${randomUUID().slice(0, 6)}@${env.domain}` });
    assert.equal(p?.outcome, 'would-fail', JSON.stringify(p));
  });
});
