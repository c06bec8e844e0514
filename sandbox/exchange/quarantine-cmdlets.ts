// Get-QuarantineMessage, Release-QuarantineMessage, Delete-QuarantineMessage (Exchange Online
// Protection). Parameter sets as documented: -Identity alone gives the details of one message; the
// summary filters (recipient, sender, type, release status, dates, subject, paging) list them, newest
// first, 100 a page. A release goes to all original recipients (-ReleaseToAll, or -Identity alone) or to
// named users of the organisation (-User); recipients it already reached are skipped, and a message
// already released to everyone it targets needs -Force.
import { deliverToInbox } from '../graph/mail.ts';
import { mailboxOf } from '../mailboxes.ts';
import { bool, ExoError, int, invalidParam, multi, notFoundExo, registerCmdlets, str, type CmdletParams, type ExoCtx } from './invoke.ts';
import { QUARANTINE_TYPES, quarantineOf, type QuarantinedMessage } from './quarantine.ts';

const TYPE_NAMES: Record<string, string> = { Spam: 'Spam', Bulk: 'Bulk', Phish: 'Phish', HighConfPhish: 'High Confidence Phish', Malware: 'Malware', TransportRule: 'Transport Rule' };
const POLICY_TYPES: Record<string, string> = { Malware: 'AntiMalwarePolicy', TransportRule: 'ExchangeTransportRule' };
const RELEASE_STATUS = ['NOTRELEASED', 'RELEASED'];

const releaseStatus = (m: QuarantinedMessage): string => (m.releasedTo.length && m.recipientAddress.every((r) => m.releasedTo.some((x) => x.toLowerCase() === r.toLowerCase())) ? 'RELEASED' : 'NOTRELEASED');

function view(m: QuarantinedMessage, details: boolean): Record<string, unknown> {
  return {
    Identity: m.identity,
    ReceivedTime: m.receivedTime,
    MessageId: m.messageId,
    SenderAddress: m.senderAddress,
    RecipientAddress: m.recipientAddress,
    Subject: m.subject,
    Size: m.size,
    Type: TYPE_NAMES[m.type],
    QuarantineTypes: m.type,
    PolicyType: POLICY_TYPES[m.type] ?? 'HostedContentFilterPolicy',
    PolicyName: 'Default',
    Expires: m.expires,
    Direction: 'Inbound',
    RecipientCount: m.recipientAddress.length,
    Released: m.releasedTo.length > 0,
    ReleaseStatus: releaseStatus(m),
    Reported: false,
    ...(details ? { ReleasedUser: m.releasedTo, QuarantineUser: [] } : {}),
  };
}

function find(ctx: ExoCtx, identity: string): QuarantinedMessage {
  if (!/^[0-9a-f-]{36}\\[0-9a-f-]{36}$/i.test(identity)) throw invalidParam('Identity', `Cannot convert value "${identity}" to type "Microsoft.Exchange.Management.FfoQuarantine.QuarantineMessageIdentity": the format is GUID1\\GUID2.`);
  const m = quarantineOf(ctx.store).find((x) => x.identity.toLowerCase() === identity.toLowerCase());
  if (!m) throw notFoundExo(identity, ctx);
  return m;
}

/** -Identities (bulk; -Identity is then required but ignored), else -Identity. */
function targets(ctx: ExoCtx, p: CmdletParams): QuarantinedMessage[] {
  const many = multi(p, 'Identities')?.set;
  if (many?.length) {
    str(p, 'Identity', true);
    return many.map((id) => find(ctx, id));
  }
  return [find(ctx, str(p, 'Identity', true)!)];
}

const SUMMARY = ['RecipientAddress', 'SenderAddress', 'Type', 'QuarantineTypes', 'ReleaseStatus', 'Subject', 'MessageId', 'StartReceivedDate', 'EndReceivedDate', 'Page', 'PageSize', 'Direction'];

function date(p: CmdletParams, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw invalidParam(name, `Cannot convert value "${v}" to type "System.DateTime".`);
  return ms;
}

function enumList(p: CmdletParams, name: string, valid: readonly string[]): string[] | undefined {
  const v = multi(p, name)?.set;
  if (!v) return undefined;
  return v.map((x) => {
    const hit = valid.find((y) => y.toLowerCase() === x.toLowerCase());
    if (!hit) throw invalidParam(name, `Cannot convert value "${x}". Valid values: ${valid.join(', ')}.`);
    return hit;
  });
}

function list(ctx: ExoCtx, p: CmdletParams): Record<string, unknown>[] {
  const lower = (xs: string[] | undefined) => xs?.map((x) => x.toLowerCase());
  const recipients = lower(multi(p, 'RecipientAddress')?.set);
  const senders = lower(multi(p, 'SenderAddress')?.set);
  const types = [...(enumList(p, 'QuarantineTypes', QUARANTINE_TYPES) ?? []), ...(enumList(p, 'Type', QUARANTINE_TYPES) ?? [])];
  const statuses = enumList(p, 'ReleaseStatus', RELEASE_STATUS);
  const direction = enumList(p, 'Direction', ['Inbound', 'Outbound']);
  const subject = str(p, 'Subject')?.toLowerCase();
  const messageId = str(p, 'MessageId');
  const from = date(p, 'StartReceivedDate');
  const to = date(p, 'EndReceivedDate');
  const page = int(p, 'Page') ?? 1;
  const size = int(p, 'PageSize') ?? 100;
  if (page < 1 || page > 1000) throw invalidParam('Page', 'Valid input for this parameter is an integer between 1 and 1000.');
  if (size < 1 || size > 1000) throw invalidParam('PageSize', 'Valid input for this parameter is an integer between 1 and 1000.');
  const hits = quarantineOf(ctx.store)
    .filter((m) => !recipients || m.recipientAddress.some((r) => recipients.includes(r.toLowerCase())))
    .filter((m) => !senders || senders.includes(m.senderAddress.toLowerCase()))
    .filter((m) => !types.length || types.includes(m.type))
    .filter((m) => !statuses || statuses.includes(releaseStatus(m)))
    .filter((m) => !direction || direction.includes('Inbound'))
    .filter((m) => !subject || m.subject.toLowerCase().includes(subject))
    .filter((m) => !messageId || m.messageId === messageId)
    .filter((m) => (from === undefined || Date.parse(m.receivedTime) >= from) && (to === undefined || Date.parse(m.receivedTime) <= to))
    .sort((a, b) => b.receivedTime.localeCompare(a.receivedTime));
  return hits.slice((page - 1) * size, page * size).map((m) => view(m, false));
}

registerCmdlets({
  'Get-QuarantineMessage': {
    params: ['Identity', ...SUMMARY],
    area: 'quarantine',
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      if (identity === undefined) return list(ctx, p);
      if (SUMMARY.some((k) => k !== 'SenderAddress' && k.toLowerCase() in p)) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', 'Parameter set cannot be resolved using the specified named parameters.');
      return [view(find(ctx, identity), true)];
    },
  },
  'Release-QuarantineMessage': {
    params: ['Identity', 'Identities', 'ReleaseToAll', 'User', 'Force'],
    area: 'quarantine',
    run: (ctx, p) => {
      const toAll = bool(p, 'ReleaseToAll') ?? false;
      const users = multi(p, 'User')?.set;
      if (toAll && users) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', 'Parameter set cannot be resolved using the specified named parameters.');
      const force = bool(p, 'Force') ?? false;
      const messages = targets(ctx, p);
      const plan: { m: QuarantinedMessage; deliver: string[] }[] = [];
      for (const m of messages) {
        const wanted = users ?? m.recipientAddress;
        for (const address of wanted) {
          const user = ctx.store.findUser(address) ?? ctx.store.userById(ctx.store.addressOwner(address) ?? '');
          if (!user || !mailboxOf(ctx.store, user)) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `The user "${address}" doesn't have a mailbox in this organization; a quarantined message can only be released to mailboxes of the organization.`);
        }
        const fresh = wanted.filter((a) => !m.releasedTo.some((r) => r.toLowerCase() === a.toLowerCase()));
        if (!fresh.length && !force) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `The message ${m.identity} has already been released to ${wanted.join(', ')}. Use the Force switch to release it again.`);
        plan.push({ m, deliver: fresh.length ? fresh : wanted });
      }
      for (const { m, deliver } of plan) {
        for (const address of deliver) {
          const user = ctx.store.findUser(address) ?? ctx.store.userById(ctx.store.addressOwner(address)!)!;
          deliverToInbox(ctx.store, user, { from: m.senderAddress, subject: m.subject, body: m.body, receivedDateTime: ctx.nowIso, internetMessageId: m.messageId });
          if (!m.releasedTo.some((r) => r.toLowerCase() === address.toLowerCase())) m.releasedTo.push(address);
          ctx.mutated('quarantine.release', user.id);
        }
      }
    },
  },
  'Delete-QuarantineMessage': {
    params: ['Identity', 'Identities'],
    area: 'quarantine',
    run: (ctx, p) => {
      const doomed = new Set(targets(ctx, p));
      const store = quarantineOf(ctx.store);
      const kept = store.filter((m) => !doomed.has(m));
      store.splice(0, store.length, ...kept);
      for (const m of doomed) ctx.mutated('quarantine.delete', m.identity);
    },
  },
});
