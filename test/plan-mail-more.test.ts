// Plans, recorded changes and undo of the remaining mailbox write actions (delegates over several
// mailboxes, removing a user's access, copying permissions, addresses, properties, regional settings,
// services, archive, policies, auditing, booking, inbox rules, creating and removing mailboxes),
// quarantine, mail contacts and mail users (docs/plan.md). For each: the plan against the sandbox
// shows before -> after and writes nothing, the step records the same rows, planning again says "no
// change" (or, after a creation or a removal, what a repeat would fail with), and the inverse steps
// built from the record put the tenant back as it was, read back with Get-* cmdlets and Graph; the
// actions that cannot be undone say so.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { catalog } from '../catalog/index.ts';
import { changesIn } from '../catalog/contract.ts';
import { ExchangeCallError, sandboxExchange } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';
import { assertRepeatSafe, lastWrite, writesSince, planOf as kitPlanOf, roundTrip as kitRoundTrip, rows } from './plan-kit.ts';

let env: ActionsEnv;
let exo: ReturnType<typeof sandboxExchange>;

before(async () => {
  env = await startActionsEnv();
  exo = sandboxExchange(env.sandbox);
});
after(async () => env?.close());

const roundTrip = (action: string, params: Record<string, unknown>, expected: string[], state: () => Promise<unknown>) => kitRoundTrip(env, action, params, expected, state);
const planOf = (action: string, params: Record<string, unknown>) => kitPlanOf(env, action, params);
const tag = (t: string) => `${t}${randomUUID().slice(0, 6)}`;

/**
 * The round trip of an action whose repeat is not "no change" (a creation or a removal: `again` is the
 * code a repeat would fail with) or that cannot be undone (`irreversible`: the contract says why).
 */
async function oneWay(action: string, params: Record<string, unknown>, expected: string[], state: () => Promise<unknown>, o: { again?: string; irreversible?: boolean }) {
  const original = await state();
  const planned = await planOf(action, params);
  assert.equal(planned?.outcome, 'changes', JSON.stringify(planned));
  const plannedRows = planned?.outcome === 'changes' ? rows(planned.changes) : [];
  assert.deepEqual(plannedRows, expected);
  const seq = lastWrite(env);
  const r = await env.run(action, params);
  ok(r);
  const firstWrites = writesSince(env, seq);
  const recorded = changesIn(r.output);
  assert.ok(recorded, `${action} recorded no changes`);
  assert.deepEqual(rows(recorded), plannedRows, 'the record is what the plan said');
  assert.notDeepEqual(await state(), original, 'the step changed the tenant');
  const again = await planOf(action, params);
  if (o.again) assert.deepEqual([again?.outcome, again?.outcome === 'would-fail' ? again.code : undefined], ['would-fail', o.again], JSON.stringify(again));
  else {
    assert.equal(again?.outcome, 'no-change', JSON.stringify(again));
    await assertRepeatSafe(env, action, params, firstWrites);
  }
  const contract = catalog.get(action)!;
  if (o.irreversible) {
    assert.ok(contract.irreversible, `${action} says why it cannot be undone`);
    return r;
  }
  const reversal = contract.reverse!({ input: contract.input.parse(params), output: r.output, changes: recorded });
  assert.ok('steps' in reversal && reversal.steps.length > 0, JSON.stringify(reversal));
  for (const s of reversal.steps) ok(await env.run(s.action, s.params));
  assert.deepEqual(await state(), original, 'the undo put the tenant back');
  return r;
}

async function sharedMailbox(t: string): Promise<{ id: string; userPrincipalName: string }> {
  const alias = tag(`pm${t}`);
  const m = (await exo('New-Mailbox', { Shared: true, Name: alias, Alias: alias })).value[0]!;
  return { id: String(m['ExternalDirectoryObjectId']), userPrincipalName: String(m['UserPrincipalName']) };
}
const mailbox = async (id: string) => (await exo('Get-Mailbox', { Identity: id })).value[0]!;
async function status(cmdlet: string, params: Record<string, unknown>): Promise<number> {
  try {
    await exo(cmdlet, params);
    return 200;
  } catch (err) {
    return (err as ExchangeCallError).status;
  }
}
const rightsOn = async (upn: string) => {
  const full = (await exo('Get-MailboxPermission', { Identity: upn })).value.filter((p) => p['User'] !== 'NT AUTHORITY\\SELF').map((p) => `${String(p['User'])}: ${(p['AccessRights'] as string[]).join(',')}`);
  const sendAs = (await exo('Get-RecipientPermission', { Identity: upn })).value.map((p) => String(p['Trustee'])).filter((t) => t !== 'NT AUTHORITY\\SELF');
  const onBehalf = ((await mailbox(upn))['GrantSendOnBehalfTo'] as string[] | undefined) ?? [];
  return { full: full.sort(), sendAs: sendAs.sort(), onBehalf: [...onBehalf].sort() };
};
const rightsOnAll = (...upns: string[]) => async () => Promise.all(upns.map(rightsOn));

describe('plans and undo of the remaining mail actions (one at a time: the mutation log is the whole sandbox)', () => {
  it('mailbox.addDelegate over two mailboxes: only the rights missing, undone per mailbox and right', async () => {
    const [m1, m2] = [await sharedMailbox('dl1'), await sharedMailbox('dl2')];
    const u = await env.newUser('deleg');
    ok(await env.run('mailbox.addFullAccess', { mailbox: m1.userPrincipalName, users: [u.id] }));
    await roundTrip(
      'mailbox.addDelegate',
      { mailboxes: [m1.userPrincipalName, m2.id], users: [u.userPrincipalName], rights: ['FullAccess', 'SendAs'] },
      [`mailbox ${m1.userPrincipalName} | SendAs ${u.userPrincipalName} | false -> true`, `mailbox ${m2.userPrincipalName} | FullAccess ${u.userPrincipalName} | false -> true`, `mailbox ${m2.userPrincipalName} | SendAs ${u.userPrincipalName} | false -> true`],
      rightsOnAll(m1.userPrincipalName, m2.userPrincipalName),
    );
  });

  it('mailbox.removeDelegate: the rights held are taken away, undone by giving them back', async () => {
    const m = await sharedMailbox('rmdl');
    const u = await env.newUser('rmdeleg');
    ok(await env.run('mailbox.addDelegate', { mailboxes: [m.id], users: [u.id], rights: ['FullAccess', 'SendOnBehalf'] }));
    await roundTrip(
      'mailbox.removeDelegate',
      { mailboxes: [m.userPrincipalName], users: [u.userPrincipalName], rights: ['FullAccess', 'SendAs', 'SendOnBehalf'] },
      [`mailbox ${m.userPrincipalName} | FullAccess ${u.userPrincipalName} | true -> false`, `mailbox ${m.userPrincipalName} | SendOnBehalf ${u.userPrincipalName} | true -> false`],
      rightsOn.bind(null, m.userPrincipalName),
    );
  });

  it('mailbox.removeDelegate of every delegate: Send on Behalf (shown by alias) is recorded by user principal name, so the undo gives it back', async () => {
    const m = await sharedMailbox('rmall');
    const u = await env.newUser('rmall');
    ok(await env.run('mailbox.addDelegate', { mailboxes: [m.id], users: [u.id], rights: ['FullAccess', 'SendOnBehalf'] }));
    assert.ok(!((await mailbox(m.id))['GrantSendOnBehalfTo'] as string[])[0]!.includes('@'), 'Exchange names the delegate by alias');
    await roundTrip(
      'mailbox.removeDelegate',
      { mailboxes: [m.userPrincipalName] },
      [`mailbox ${m.userPrincipalName} | FullAccess ${u.userPrincipalName} | true -> false`, `mailbox ${m.userPrincipalName} | SendOnBehalf ${u.userPrincipalName} | true -> false`],
      rightsOn.bind(null, m.userPrincipalName),
    );
  });

  it('mailbox.removeUserAccess: every right of the user on the mailboxes, undone by giving each back', async () => {
    const [m1, m2] = [await sharedMailbox('rua1'), await sharedMailbox('rua2')];
    const u = await env.newUser('leaver');
    ok(await env.run('mailbox.addFullAccess', { mailbox: m1.id, users: [u.id] }));
    ok(await env.run('mailbox.addSendAs', { mailbox: m2.id, users: [u.id] }));
    await roundTrip(
      'mailbox.removeUserAccess',
      { user: u.userPrincipalName, mailboxes: [m1.userPrincipalName, m2.userPrincipalName] },
      [`mailbox ${m1.userPrincipalName} | FullAccess ${u.userPrincipalName} | true -> false`, `mailbox ${m2.userPrincipalName} | SendAs ${u.userPrincipalName} | true -> false`],
      rightsOnAll(m1.userPrincipalName, m2.userPrincipalName),
    );
  });

  it('mailbox.copyPermissions (replace): the source\'s rights given, the target\'s own taken away, both undone', async () => {
    const m = await sharedMailbox('copy');
    const [src, dst] = [await env.newUser('copysrc'), await env.newUser('copydst')];
    ok(await env.run('mailbox.addFullAccess', { mailbox: m.id, users: [src.id] }));
    ok(await env.run('mailbox.addSendAs', { mailbox: m.id, users: [dst.id] }));
    await roundTrip(
      'mailbox.copyPermissions',
      { from: src.userPrincipalName, to: [dst.userPrincipalName], mode: 'replace', mailboxes: [m.userPrincipalName] },
      [`mailbox ${m.userPrincipalName} | FullAccess ${dst.userPrincipalName} | false -> true`, `mailbox ${m.userPrincipalName} | SendAs ${dst.userPrincipalName} | true -> false`],
      rightsOn.bind(null, m.userPrincipalName),
    );
  });

  it('mailbox.grantManagerFullAccess: the manager gets Full Access, undone by taking it away; without a manager it would fail', async () => {
    const [u, mgr] = [await env.newUser('mgd', { licences: ['EXCHANGESTANDARD'] }), await env.newUser('mgr')];
    const lonely = await planOf('mailbox.grantManagerFullAccess', { mailbox: u.userPrincipalName });
    assert.deepEqual([lonely?.outcome, lonely?.outcome === 'would-fail' ? lonely.code : undefined], ['would-fail', 'NoManager']);
    ok(await env.run('user.setManager', { user: u.id, manager: mgr.id }));
    await roundTrip('mailbox.grantManagerFullAccess', { mailbox: u.userPrincipalName }, [`mailbox ${u.userPrincipalName} | FullAccess ${mgr.userPrincipalName} | false -> true`], rightsOn.bind(null, u.userPrincipalName));
  });

  const addresses = (id: string) => async () => {
    const m = await mailbox(id);
    return [m['PrimarySmtpAddress'], [...(m['EmailAddresses'] as string[])].sort()];
  };

  it('mailbox.addEmailAddress (make primary): addresses added and the primary changed, undone in that order', async () => {
    const m = await sharedMailbox('addr');
    const [a, b] = [`${tag('sales')}@${env.domain}`, `${tag('info')}@${env.domain}`];
    await roundTrip(
      'mailbox.addEmailAddress',
      { mailbox: m.userPrincipalName, addresses: [a, b], makePrimary: true },
      [`mailbox ${m.userPrincipalName} | address ${a} | false -> true`, `mailbox ${m.userPrincipalName} | address ${b} | false -> true`, `mailbox ${m.userPrincipalName} | primarySmtpAddress | "${m.userPrincipalName}" -> "${a}"`],
      addresses(m.id),
    );
  });

  it('mailbox.removeEmailAddress: removed, undone by adding it again; the primary would fail', async () => {
    const m = await sharedMailbox('rmaddr');
    const a = `${tag('old')}@${env.domain}`;
    ok(await env.run('mailbox.addEmailAddress', { mailbox: m.id, addresses: [a] }));
    await roundTrip('mailbox.removeEmailAddress', { mailbox: m.id, addresses: [a] }, [`mailbox ${m.userPrincipalName} | address ${a} | true -> false`], addresses(m.id));
    const primary = await planOf('mailbox.removeEmailAddress', { mailbox: m.id, addresses: [m.userPrincipalName] });
    assert.deepEqual([primary?.outcome, primary?.outcome === 'would-fail' ? primary.code : undefined], ['would-fail', 'PrimaryAddress']);
  });

  it('mailbox.update: display name, MailTip and a custom attribute, undone (the empty ones cleared again)', async () => {
    const m = await sharedMailbox('upd');
    const was = String((await mailbox(m.id))['DisplayName']);
    const props = async () => {
      const x = await mailbox(m.id);
      return [x['DisplayName'], x['MailTip'] || null, x['CustomAttribute3'] || null];
    };
    await roundTrip(
      'mailbox.update',
      { mailbox: m.userPrincipalName, displayName: 'Front desk', mailTip: 'Answered within a day', customAttributes: { '3': 'Pilot' } },
      [`mailbox ${m.userPrincipalName} | displayName | "${was}" -> "Front desk"`, `mailbox ${m.userPrincipalName} | mailTip | null -> "Answered within a day"`, `mailbox ${m.userPrincipalName} | customAttribute3 | null -> "Pilot"`],
      props,
    );
  });

  it('mailbox.setRegionalSettings: a new language resets the formats, all undone', async () => {
    const m = await sharedMailbox('reg');
    ok(await env.run('mailbox.setRegionalSettings', { mailbox: m.id, language: 'en-GB', timeZone: 'GMT Standard Time' }));
    const regional = async () => {
      const r = (await exo('Get-MailboxRegionalConfiguration', { Identity: m.userPrincipalName })).value[0]!;
      return [r['Language'], r['TimeZone'], r['DateFormat'], r['TimeFormat']];
    };
    const [, , date, time] = await regional();
    await roundTrip(
      'mailbox.setRegionalSettings',
      { mailbox: m.userPrincipalName, language: 'de-DE', timeZone: 'W. Europe Standard Time' },
      [
        `mailbox ${m.userPrincipalName} | language | "en-GB" -> "de-DE"`,
        `mailbox ${m.userPrincipalName} | timeZone | "GMT Standard Time" -> "W. Europe Standard Time"`,
        `mailbox ${m.userPrincipalName} | dateFormat | ${JSON.stringify(date)} -> null`,
        `mailbox ${m.userPrincipalName} | timeFormat | ${JSON.stringify(time)} -> null`,
      ],
      regional,
    );
  });

  it('mailbox.setCasServices: only the protocols that differ, undone', async () => {
    const m = await sharedMailbox('cas');
    const cas = async () => {
      const c = (await exo('Get-CASMailbox', { Identity: m.userPrincipalName })).value[0]!;
      return [c['OWAEnabled'], c['PopEnabled'], c['ImapEnabled']];
    };
    const [owa, pop, imap] = await cas();
    await roundTrip(
      'mailbox.setCasServices',
      { mailbox: m.userPrincipalName, owa, pop: !pop, imap: !imap },
      [`mailbox ${m.userPrincipalName} | pop | ${pop} -> ${!pop}`, `mailbox ${m.userPrincipalName} | imap | ${imap} -> ${!imap}`],
      cas,
    );
  });

  const archive = (id: string) => async () => (await mailbox(id))['ArchiveStatus'];

  it('mailbox.enableArchive: the archive with its name, undone by disconnecting it (the name stays, and the undo says so)', async () => {
    const u = await env.newUser('arch', { licences: ['EXCHANGESTANDARD'] });
    const r = await roundTrip('mailbox.enableArchive', { mailbox: u.userPrincipalName, archiveName: 'Old mail' }, [`mailbox ${u.userPrincipalName} | archive | false -> true`, `mailbox ${u.userPrincipalName} | archiveName | null -> "Old mail"`], archive(u.id));
    void r;
    const reversal = catalog.get('mailbox.enableArchive')!.reverse!({ input: { mailbox: u.id }, output: {}, changes: [{ object: 'm', property: 'archive', before: false, after: true }, { object: 'm', property: 'archiveName', before: null, after: 'Old mail' }] });
    assert.match('note' in reversal ? String(reversal.note) : '', /archive name stays Old mail/);
  });

  it('mailbox.disableArchive: disconnected, undone by reconnecting it', async () => {
    const u = await env.newUser('disarch', { licences: ['EXCHANGESTANDARD'] });
    ok(await env.run('mailbox.enableArchive', { mailbox: u.id }));
    await roundTrip('mailbox.disableArchive', { mailbox: u.userPrincipalName }, [`mailbox ${u.userPrincipalName} | archive | true -> false`], archive(u.id));
  });

  it('mailbox.setRetentionPolicy and setAddressBookPolicy: assigned, undone to what it was; a missing policy would fail', async () => {
    const m = await sharedMailbox('pol');
    const [rp, abp] = [tag('Keep 7 years '), tag('ABP ')];
    await exo('New-RetentionPolicy', { Name: rp });
    await exo('New-AddressBookPolicy', { Name: abp, AddressLists: ['\\All Users'], GlobalAddressList: '\\Default Global Address List', OfflineAddressBook: '\\Default Offline Address Book', RoomList: '\\All Rooms' });
    const policies = async () => [(await mailbox(m.id))['RetentionPolicy'] ?? null, (await mailbox(m.id))['AddressBookPolicy'] ?? null];
    const [retention, book] = await policies();
    await roundTrip('mailbox.setRetentionPolicy', { mailbox: m.userPrincipalName, policy: rp }, [`mailbox ${m.userPrincipalName} | retentionPolicy | ${JSON.stringify(retention)} -> "${rp}"`], policies);
    await roundTrip('mailbox.setAddressBookPolicy', { mailbox: m.userPrincipalName, policy: abp }, [`mailbox ${m.userPrincipalName} | addressBookPolicy | ${JSON.stringify(book)} -> "${abp}"`], policies);
    const missing = await planOf('mailbox.setRetentionPolicy', { mailbox: m.id, policy: 'No such policy' });
    assert.deepEqual([missing?.outcome, missing?.outcome === 'would-fail' ? missing.code : undefined], ['would-fail', 'PolicyNotFound']);
  });

  it('mailbox.enableAuditing: on or off and the age limit, undone', async () => {
    const m = await sharedMailbox('aud');
    const audit = async () => {
      const x = await mailbox(m.id);
      return [x['AuditEnabled'] ?? false, x['AuditLogAgeLimit']];
    };
    const [enabled, limit] = await audit();
    const days = Number(/^(\d+)\./.exec(String(limit))?.[1]);
    await roundTrip(
      'mailbox.enableAuditing',
      { mailbox: m.userPrincipalName, enabled: !enabled, ageLimitDays: 180 },
      [`mailbox ${m.userPrincipalName} | auditEnabled | ${enabled} -> ${!enabled}`, `mailbox ${m.userPrincipalName} | auditAgeLimitDays | ${days} -> 180`],
      audit,
    );
  });

  it('mailbox.setCalendarProcessing: booking settings and delegates, undone; a shared mailbox would fail', async () => {
    const alias = tag('pmroom');
    const room = (await exo('New-Mailbox', { Room: true, Name: alias, Alias: alias })).value[0]!;
    const upn = String(room['UserPrincipalName']);
    const approver = await env.newUser('booker');
    const booking = async () => {
      const c = (await exo('Get-CalendarProcessing', { Identity: upn })).value[0]!;
      return [c['AutomateProcessing'], c['BookingWindowInDays'], c['ResourceDelegates'] ?? [], c['AddAdditionalResponse'] ? c['AdditionalResponse'] : ''];
    };
    const [automate, window] = await booking();
    await roundTrip(
      'mailbox.setCalendarProcessing',
      { mailbox: upn, automateProcessing: automate === 'AutoUpdate' ? 'AutoAccept' : 'AutoUpdate', bookingWindowInDays: Number(window) + 10, resourceDelegates: [approver.id], additionalResponse: 'Bring your badge' },
      [
        `mailbox ${upn} | automateProcessing | ${JSON.stringify(automate)} -> ${JSON.stringify(automate === 'AutoUpdate' ? 'AutoAccept' : 'AutoUpdate')}`,
        `mailbox ${upn} | bookingWindowInDays | ${window} -> ${Number(window) + 10}`,
        `mailbox ${upn} | resourceDelegates | [] -> ["${approver.userPrincipalName}"]`,
        `mailbox ${upn} | additionalResponse | "" -> "Bring your badge"`,
      ],
      booking,
    );
    const shared = await sharedMailbox('notroom');
    const refused = await planOf('mailbox.setCalendarProcessing', { mailbox: shared.id, allowConflicts: true });
    assert.deepEqual([refused?.outcome, refused?.outcome === 'would-fail' ? refused.code : undefined], ['would-fail', 'NotAResourceMailbox']);
  });

  it('mailbox.removeInboxRules: the rules it deletes with what they did; it cannot be undone', async () => {
    const u = await env.newUser('rules', { licences: ['EXCHANGESTANDARD'] });
    const path = `/users/${u.id}/mailFolders/inbox/messageRules`;
    await env.graph.api(path).post({ displayName: 'Tidy', sequence: 1, isEnabled: true, conditions: { senderContains: ['news'] }, actions: { markAsRead: true } });
    await env.graph.api(path).post({ displayName: 'x', sequence: 2, isEnabled: true, conditions: {}, actions: { forwardTo: [{ emailAddress: { address: 'drop@evil.example' } }] } });
    const names = async () => ((await env.graph.api(path).get()).value as { displayName: string }[]).map((r) => r.displayName).sort();
    await oneWay('mailbox.removeInboxRules', { mailbox: u.userPrincipalName, onlySuspicious: true }, [`mailbox ${u.userPrincipalName} | inbox rule x | {"enabled":true,"forwardsTo":["drop@evil.example"],"deletes":false} -> null`], names, { irreversible: true });
  });

  it('mailbox.createShared: a new mailbox with its delegates, undone by removing it; a repeat would fail', async () => {
    const alias = tag('pmnew');
    const u = await env.newUser('newfa');
    const exists = () => status('Get-Mailbox', { Identity: alias });
    await oneWay(
      'mailbox.createShared',
      { name: `Team ${alias}`, alias, fullAccess: [u.id] },
      [`mailbox ${alias} | exists | false -> true`, `mailbox ${alias} | type | null -> "SharedMailbox"`, `mailbox ${alias} | name | null -> "Team ${alias}"`, `mailbox ${alias} | displayName | null -> "Team ${alias}"`, `mailbox ${alias} | alias | null -> "${alias}"`, `mailbox ${alias} | fullAccess | null -> ["${u.userPrincipalName}"]`],
      exists,
      { again: 'ObjectConflict' },
    );
  });

  it('mailbox.createResource: a room with its capacity, undone by removing it', async () => {
    const alias = tag('pmnewroom');
    await oneWay(
      'mailbox.createResource',
      { kind: 'Room', name: `Room ${alias}`, alias, capacity: 8 },
      [`mailbox ${alias} | exists | false -> true`, `mailbox ${alias} | type | null -> "RoomMailbox"`, `mailbox ${alias} | name | null -> "Room ${alias}"`, `mailbox ${alias} | displayName | null -> "Room ${alias}"`, `mailbox ${alias} | alias | null -> "${alias}"`, `mailbox ${alias} | resourceCapacity | null -> 8`],
      () => status('Get-Mailbox', { Identity: alias }),
      { again: 'ObjectConflict' },
    );
  });

  it('mailbox.delete: removed with its account, undone by restoring the account', async () => {
    const m = await sharedMailbox('del');
    await oneWay('mailbox.delete', { mailbox: m.userPrincipalName }, [`mailbox ${m.userPrincipalName} | exists | true -> false`], () => status('Get-Mailbox', { Identity: m.id }), { again: 'MailboxNotFound' });
  });

  it('quarantine.release and quarantine.delete: planned per recipient, neither can be undone', async () => {
    const u = await env.newUser('quser', { licences: ['EXCHANGESTANDARD'] });
    const held = env.sandbox.admin.quarantineMessage({ to: [u.userPrincipalName], from: 'billing@supplier.example', subject: 'Invoice', type: 'Spam' });
    const doomed = env.sandbox.admin.quarantineMessage({ to: [u.userPrincipalName], from: 'x@phish.example', subject: 'Verify now', type: 'HighConfPhish' });
    const released = async () => (await exo('Get-QuarantineMessage', { Identity: held.identity })).value[0]!['ReleaseStatus'];
    await oneWay('quarantine.release', { identity: held.identity }, [`quarantined message "Invoice" (${held.identity}) | released to ${u.userPrincipalName} | false -> true`], released, { irreversible: true });
    await oneWay('quarantine.delete', { identity: doomed.identity }, [`quarantined message "Verify now" (${doomed.identity}) | exists | true -> false`], () => status('Get-QuarantineMessage', { Identity: doomed.identity }), {
      again: 'QuarantineMessageNotFound',
      irreversible: true,
    });
  });

  it('contact.create: a new mail contact, undone by removing it; a repeat would fail', async () => {
    const address = `${tag('jane')}@fabrikam.example`;
    await oneWay(
      'contact.create',
      { name: `Jane ${address}`, externalEmailAddress: address, company: 'Fabrikam' },
      [`mail contact ${address} | exists | false -> true`, `mail contact ${address} | name | null -> "Jane ${address}"`, `mail contact ${address} | displayName | null -> "Jane ${address}"`, `mail contact ${address} | externalEmailAddress | null -> "${address}"`, `mail contact ${address} | company | null -> "Fabrikam"`],
      () => status('Get-MailContact', { Identity: address }),
      { again: 'ObjectConflict' },
    );
  });

  it('contact.update: name, external address, an address and a detail, undone; contact.delete cannot be undone', async () => {
    const address = `${tag('joe')}@fabrikam.example`;
    const c = (await exo('New-MailContact', { Name: tag('Joe '), ExternalEmailAddress: address })).value[0]!;
    const id = String(c['ExternalDirectoryObjectId']);
    const moved = `${tag('joe.new')}@fabrikam.example`;
    const extra = `${tag('joe.alt')}@fabrikam.example`;
    const contact = async () => {
      const x = (await exo('Get-MailContact', { Identity: id })).value[0]!;
      const d = (await exo('Get-Contact', { Identity: id })).value[0]!;
      return [x['DisplayName'], x['ExternalEmailAddress'], [...(x['EmailAddresses'] as string[])].map((a) => a.toLowerCase()).sort(), d['Company'] || null];
    };
    await roundTrip(
      'contact.update',
      { contact: id, displayName: 'Joe at Fabrikam', externalEmailAddress: moved, addEmailAddresses: [extra], company: 'Fabrikam' },
      [
        `mail contact ${address} | displayName | ${JSON.stringify(c['DisplayName'])} -> "Joe at Fabrikam"`,
        `mail contact ${address} | externalEmailAddress | "${address}" -> "${moved}"`,
        `mail contact ${address} | address ${extra} | false -> true`,
        `mail contact ${address} | company | null -> "Fabrikam"`,
      ],
      contact,
    );
    await oneWay('contact.delete', { contact: id }, [`mail contact ${address} | exists | true -> false`], () => status('Get-MailContact', { Identity: id }), { again: 'ContactNotFound', irreversible: true });
  });

  it('mailUser.create, mailUser.update and mailUser.delete: planned, recorded and undone', async () => {
    const upn = `${tag('partner')}@${env.domain}`;
    const external = `${tag('partner')}@partner.example`;
    const created = await oneWay(
      'mailUser.create',
      { userPrincipalName: upn, displayName: 'Partner', externalEmailAddress: external, givenName: 'Pat' },
      [`mail user ${upn} | exists | false -> true`, `mail user ${upn} | displayName | null -> "Partner"`, `mail user ${upn} | externalEmailAddress | null -> "${external}"`, `mail user ${upn} | givenName | null -> "Pat"`],
      () => status('Get-MailUser', { Identity: upn }),
      { again: 'ObjectConflict' },
    );
    assert.ok(created);
    ok(await env.run('user.restore', { user: created.output.id }));
    const id = String(created.output.id);
    await env.graph.api(`/users/${id}`).patch({ jobTitle: 'Consultant' });
    const mailUser = async () => {
      const x = (await exo('Get-MailUser', { Identity: id })).value[0]!;
      const g = await env.graph.api(`/users/${id}`).select('jobTitle,givenName').get();
      return [x['DisplayName'], x['HiddenFromAddressListsEnabled'] ?? false, g.jobTitle, g.givenName];
    };
    await roundTrip(
      'mailUser.update',
      { mailUser: upn, displayName: 'Pat Partner', hiddenFromAddressLists: true, jobTitle: 'Partner', givenName: 'Pat' },
      [`mail user ${upn} | displayName | "Partner" -> "Pat Partner"`, `mail user ${upn} | hiddenFromAddressLists | false -> true`, `mail user ${upn} | jobTitle | "Consultant" -> "Partner"`],
      mailUser,
    );
    await oneWay('mailUser.delete', { mailUser: upn }, [`mail user ${upn} | exists | true -> false`], () => status('Get-MailUser', { Identity: id }), { again: 'MailUserNotFound' });
  });
});
