// Finding 1 of issue 16 for the Exchange Online write actions: each runs on fresh fixtures once cleanly,
// then with the answer of its first Exchange write lost after the write took effect (the sandbox applies
// the cmdlet, then drops the connection: scripted fault `match: 'exchange-writes'`, any cmdlet of a
// writing verb), then once more for each other writing cmdlet the clean run used, its first answer lost.
// The retry must recognise its own earlier write: no write (cmdlet and operation, as the sandbox's
// mutation log records them, and each writing cmdlet asked for) may happen more often than on the clean run.
// Creations find and return their own object, removals succeed on what is already gone, a remote wipe
// and a meeting cancellation are not sent twice. test/repeat-coverage.ts lists the actions proven here
// (test/repeat-safety.test.ts counts them and checks the list against the trip() calls below).
//   Check that it catches a repeat: make mailbox.hideFromAddressList (worker/actions/mailbox.ts) set
//   without reading first and run `TENANTFLOW_REPEAT_ONLY=mailbox.hideFromAddressList npm test -- repeat-safety-exchange`.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sandboxExchange } from '../sandbox/testing.ts';
import { EXCHANGE_WRITE_VERBS } from '../sandbox/faults.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let exo: ReturnType<typeof sandboxExchange>;
/** Seeded phones (one per mailbox that has one), handed out one per run. */
const phones: { mailbox: string; deviceId: string }[] = [];

before(async () => {
  env = await startActionsEnv();
  exo = sandboxExchange(env.sandbox);
  for (const u of env.sandbox.admin.store.users.values()) {
    if (!u.assignedLicenses.length || u.userType !== 'Member') continue;
    const list = (await exo('Get-MobileDevice', { Mailbox: u.userPrincipalName }).catch(() => ({ value: [] }))).value;
    for (const d of list) phones.push({ mailbox: u.userPrincipalName, deviceId: String(d['DeviceId']) });
  }
});
after(async () => {
  env?.sandbox.admin.setFaults({});
  await env?.close();
});

const tag = (t: string) => `${t}${randomUUID().slice(0, 6)}`;

/** A user without a mailbox (a trustee, a member). */
async function person(): Promise<string> {
  const nick = tag('rx');
  const u = (await env.graph.api('/users').post({ accountEnabled: true, displayName: `Repeat ${nick}`, mailNickname: nick, userPrincipalName: `${nick}@${env.domain}`, usageLocation: 'US', passwordProfile: { password: `Pw-${randomBytes(6).toString('hex')}!` } })) as { userPrincipalName: string };
  return u.userPrincipalName;
}
/** A new shared mailbox (no licence needed); its user principal name. */
async function shared(): Promise<string> {
  const alias = tag('rxm');
  return String((await exo('New-Mailbox', { Shared: true, Name: alias, Alias: alias })).value[0]!['UserPrincipalName']);
}
/** A new distribution group; its primary address. */
async function group(): Promise<string> {
  const alias = tag('rxg');
  return String((await exo('New-DistributionGroup', { Name: alias, Alias: alias })).value[0]!['PrimarySmtpAddress']);
}
function phone(): { mailbox: string; deviceId: string } {
  const p = phones.shift();
  assert.ok(p, 'a seeded phone left for this run');
  return p;
}

const WRITING_CMDLET = new RegExp(`InvokeCommand (${EXCHANGE_WRITE_VERBS.join('|')})-`);

/**
 * What the step wrote after the marks, ids left out so two fixtures compare: each write the sandbox's
 * mutation log recorded ("cmdlet-or-path operation"), and each time a writing cmdlet was asked for and
 * not refused ("asked Set-Mailbox", lost answers included): a repeat that happens to change nothing
 * (a second Remove-CalendarEvents) still counts.
 */
function writesSince(since: { mutation: number; request: number }): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string) => out.set(key, (out.get(key) ?? 0) + 1);
  for (const m of env.sandbox.admin.mutations().filter((x) => x.seq > since.mutation)) add(`${m.method} ${m.path.replace(/\/[^/ ]*(%40|@)[^/ ]*|\/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '/{id}')} ${m.op}`);
  for (const r of env.sandbox.admin.requestLog({ since: since.request, surface: 'exchange' })) if (WRITING_CMDLET.test(r.path) && r.status < 400) add(`asked ${r.path.split(' ').at(-1)}`);
  return out;
}
const marks = () => ({ mutation: env.sandbox.admin.mutations().at(-1)?.seq ?? 0, request: env.sandbox.admin.requestLog().at(-1)?.seq ?? 0 });

/** Whose answer is lost: the first Exchange write, the first Graph write, or the first call of one cmdlet. */
type Lose = 'exchange-writes' | 'graph-writes' | { cmdlet: string };
const matchOf = (lose: Lose) => (typeof lose === 'string' ? lose : `^POST /adminapi/InvokeCommand ${lose.cmdlet}$`);
const nameOf = (lose: Lose) => (typeof lose === 'string' ? lose : `the first ${lose.cmdlet}`);

// Outputs are whatever the action's output schema says; the checks read them loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OutputCheck = (output: any) => void;

/** Runs the step on fresh fixtures; with `lose`, the answer of that write is lost after the write took effect. */
async function writesOfOneRun(action: string, make: () => Promise<Record<string, unknown>>, lose?: Lose, check?: OutputCheck): Promise<Map<string, number>> {
  const params = await make();
  const since = marks();
  if (lose) env.sandbox.admin.failNext({ status: 'drop', afterEffect: true, match: matchOf(lose) });
  let r;
  try {
    r = await env.run(action, params, { maximumAttempts: 3 });
    if (lose) assert.equal(env.sandbox.admin.faults().scripted?.length ?? 0, 0, `${action} made no write (${nameOf(lose)}) whose answer could be lost`);
  } finally {
    env.sandbox.admin.setFaults({});
  }
  ok(r);
  if (lose) assert.ok(r.attempts > 1, `${action}: the lost answer made the step try again`);
  check?.(r.output);
  return writesSince(since);
}

/**
 * One case: a retry after a lost answer writes no more than a clean run, for the answer of its first
 * Exchange write (the generic 'exchange-writes' fault), of the first call of every other writing cmdlet
 * the clean run asked for (a step that dies half-way), and of its first Graph write when `also` says so;
 * `output` checks what every run reports.
 */
function trip(action: string, make: () => Promise<Record<string, unknown>>, o: { also?: Lose[]; output?: OutputCheck } = {}): void {
  if (process.env.TENANTFLOW_REPEAT_ONLY && !process.env.TENANTFLOW_REPEAT_ONLY.split(',').includes(action)) return;
  it(`${action}: a retry after a lost answer writes no more than a clean run`, { timeout: 300_000 }, async () => {
    const clean = await writesOfOneRun(action, make, undefined, o.output);
    assert.ok(clean.size > 0, `${action} wrote nothing on a clean run: the count would prove nothing`);
    const later = [...clean.keys()].filter((k) => k.startsWith('asked ')).slice(1).map((k) => ({ cmdlet: k.slice('asked '.length) }));
    for (const lose of ['exchange-writes', ...later, ...(o.also ?? [])] as Lose[]) {
      const lost = await writesOfOneRun(action, make, lose, o.output);
      if (process.env.TENANTFLOW_REPEAT_ONLY) console.log(`${action}: clean ${JSON.stringify([...clean])}, after a lost answer (${nameOf(lose)}) ${JSON.stringify([...lost])}`);
      const more = [...lost].filter(([w, n]) => n > (clean.get(w) ?? 0));
      assert.deepEqual(more, [], `${action} after a lost answer (${nameOf(lose)}) wrote more than a clean run (${JSON.stringify([...clean])}): it repeated its write`);
    }
  });
}

describe('every Exchange write action is safe to repeat', { concurrency: false }, () => {
  // Mailboxes: creations and removal.
  trip('mailbox.createShared', async () => {
    const alias = tag('rxnew');
    return { name: alias, alias, fullAccess: [await person()], sendAs: [await person()], emailAddresses: [`${alias}.extra@${env.domain}`], retentionPolicy: 'Default MRM Policy' };
  });
  trip('mailbox.createResource', async () => {
    const alias = tag('rxroom');
    return { kind: 'Room', name: alias, alias, capacity: 8, hiddenFromAddressLists: true, booking: { bookingWindowInDays: 30, allowRecurringMeetings: false } };
  });
  trip('mailbox.delete', async () => ({ mailbox: await shared() }));
  trip('mailbox.convertToRegular', async () => ({ mailbox: await shared() }));

  // Mailbox settings.
  trip('mailbox.hideFromAddressList', async () => ({ mailbox: await shared(), hidden: true }));
  trip('mailbox.setClutter', async () => ({ mailbox: await shared(), enabled: true }));
  trip('mailbox.setLitigationHold', async () => ({ mailbox: await shared(), durationDays: 365 }));
  trip('mailbox.setQuota', async () => ({ mailbox: await shared(), issueWarningQuota: '9GB', prohibitSendQuota: '9.5GB', prohibitSendReceiveQuota: '10GB' }));
  trip('mailbox.setArchiveName', async () => {
    const mailbox = await shared();
    await exo('Enable-Mailbox', { Identity: mailbox, Archive: true });
    return { mailbox, archiveName: 'Repeat archive' };
  });

  // Delegations and folder permissions.
  trip('mailbox.addSendAs', async () => ({ mailbox: await shared(), users: [await person()] }));
  trip('mailbox.removeFullAccess', async () => {
    const [mailbox, user] = [await shared(), await person()];
    await exo('Add-MailboxPermission', { Identity: mailbox, User: user, AccessRights: ['FullAccess'] });
    return { mailbox, users: [user] };
  });
  trip('mailbox.removeSendOnBehalf', async () => {
    const [mailbox, user] = [await shared(), await person()];
    await exo('Set-Mailbox', { Identity: mailbox, GrantSendOnBehalfTo: { Add: [user] } });
    return { mailbox, users: [user] };
  });
  trip('mailbox.addContactsDelegate', async () => ({ mailbox: await shared(), users: [await person()], accessRights: 'Editor' }));
  trip('mailbox.removeCalendarPermission', async () => {
    const [mailbox, user] = [await shared(), await person()];
    await exo('Add-MailboxFolderPermission', { Identity: `${mailbox}:\\Calendar`, User: user, AccessRights: ['Reviewer'] });
    return { mailbox, users: [user] };
  });

  // Meetings: Remove-CalendarEvents cancels a meeting with an attendee; a retry must not cancel (or ask) again.
  trip('mailbox.cancelMeetings', async () => {
    const [organizer, attendee] = [await shared(), await shared()];
    const at = (days: number) => ({ dateTime: new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 19), timeZone: 'UTC' });
    await env.graph.api(`/users/${organizer}/events`).post({ subject: 'Repeat meeting', start: at(1), end: at(1.05), attendees: [{ type: 'required', emailAddress: { address: attendee } }] });
    return { mailbox: organizer, days: 30 };
  });

  // Distribution groups.
  trip('distributionGroup.create', async () => {
    const alias = tag('rxdl');
    return { name: alias, alias, owners: [await person()], members: [await person()] };
  });
  trip('distributionGroup.update', async () => ({ group: await group(), displayName: 'Repeat renamed', hiddenFromAddressLists: true }));
  trip('distributionGroup.delete', async () => ({ group: await group() }));
  trip('distributionGroup.addMembers', async () => ({ group: await group(), members: [await person()] }));
  trip('distributionGroup.removeMembers', async () => {
    const [g, user] = [await group(), await person()];
    await exo('Add-DistributionGroupMember', { Identity: g, Member: user });
    return { group: g, members: [user] };
  });
  trip('distributionGroup.grantSendPermission', async () => ({ group: await group(), users: [await person()], permission: 'SendAs' }));
  trip('distributionGroup.removeSendPermission', async () => {
    const [g, user] = [await group(), await person()];
    await exo('Add-RecipientPermission', { Identity: g, Trustee: user, AccessRights: ['SendAs'], Confirm: false });
    return { group: g, users: [user], permission: 'SendAs' };
  });

  // Mail contacts and mail users (mailUser.create writes to Graph first: the account; its lost answer is checked too).
  trip('contact.create', async () => ({ name: tag('Repeat contact '), externalEmailAddress: `${tag('rxc')}@partner.example`, emailAddresses: [`${tag('rxc2')}@partner.example`], company: 'Partner Ltd' }));
  trip('contact.delete', async () => {
    const address = `${tag('rxc')}@partner.example`;
    await exo('New-MailContact', { Name: tag('Repeat contact '), ExternalEmailAddress: address });
    return { contact: address };
  });
  trip(
    'mailUser.create',
    async () => ({ userPrincipalName: `${tag('rxmu')}@${env.domain}`, displayName: 'Repeat mail user', externalEmailAddress: `${tag('rxmu')}@partner.example`, emailAddresses: [`${tag('rxmu2')}@${env.domain}`] }),
    { also: ['graph-writes'] },
  );
  trip('mailUser.delete', async () => {
    const upn = await person();
    await exo('Enable-MailUser', { Identity: upn, ExternalEmailAddress: `${tag('rxmu')}@partner.example` });
    return { mailUser: upn };
  });

  // ActiveSync phones (seeded): the access lists, the partnership, the remote wipe.
  trip('mobileDevice.allow', async () => {
    const p = phone();
    return { mailbox: p.mailbox, device: p.deviceId };
  });
  trip('mobileDevice.block', async () => {
    const p = phone();
    return { mailbox: p.mailbox, device: p.deviceId };
  });
  trip('mobileDevice.remove', async () => {
    const p = phone();
    return { mailbox: p.mailbox, device: p.deviceId };
  });
  // A retry finds the wipe its earlier attempt asked for (Get-MobileDeviceStatistics) and reports it sent, once.
  trip(
    'mobileDevice.wipe',
    async () => {
      const p = phone();
      return { mailbox: p.mailbox, device: p.deviceId, accountOnly: true };
    },
    { output: (out) => assert.deepEqual([out.sent, out.deviceWipeStatus], [true, 'AccountOnlyWipePending']) },
  );

  // Quarantine.
  trip('quarantine.delete', async () => {
    const held = env.sandbox.admin.quarantineMessage({ to: [await shared()], from: 'x@phish.example', subject: tag('Verify now '), type: 'HighConfPhish' });
    return { identity: held.identity };
  });
});
