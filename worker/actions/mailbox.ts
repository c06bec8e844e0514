// Handlers of the mailbox actions (catalog/actions/mailbox.ts). Every write reads the mailbox first and
// changes only what differs, so a repeated step (a retry after a lost answer) finds its own earlier
// effect and reports changed: false.
import * as c from '../../catalog/actions/mailbox.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { ActionHandler, InputOf, PlanContext, PlanDraft } from '../implementation.ts';
import { change, creation } from './changes.ts';
import { GONE_NOTE, RESTORABLE_NOTE } from '../../catalog/reversal.ts';
import type { Change } from '../../catalog/contract.ts';
import { isKnownAfterRun } from '../../catalog/contract.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { isExchangeError, NOT_FOUND } from '../../m365/exchange.ts';
import { createdByThisStep, getUser, listAll, orNotFound, resolveUsers, type GraphUser } from './shared.ts';
import {
  delegationsOf,
  exoDate,
  findMailbox,
  folderPath,
  getMailbox,
  grantRight,
  mailboxNotFound,
  removeOnce,
  holds,
  mailboxesIn,
  orExoNotFound,
  pause,
  requireResource,
  revokeRight,
  sameUser,
  sizeBytes,
  type Delegation,
  type ExoMailbox,
  type Right,
} from './exchange-shared.ts';

const set = (ctx: ActionContext, mbx: ExoMailbox, params: Record<string, unknown>) => ctx.exchange.invoke('Set-Mailbox', { Identity: mbx.PrimarySmtpAddress, ...params }, ctx.signal);
const summary = (m: ExoMailbox) => ({ identity: m.PrimarySmtpAddress, id: m.ExternalDirectoryObjectId, displayName: m.DisplayName, userPrincipalName: m.UserPrincipalName, type: m.RecipientTypeDetails });
const USER_SELECT = 'id,userPrincipalName,mail,displayName';

// ---- reads ----

export const mailboxList = implement(c.mailboxList, async (input, ctx) => {
  const list = await ctx.exchange.invoke<ExoMailbox>('Get-Mailbox', { ...(input.types.length ? { RecipientTypeDetails: input.types } : {}), ResultSize: input.max + 1 }, ctx.signal);
  return { mailboxes: list.slice(0, input.max).map(summary), truncated: list.length > input.max };
});

interface CasMailbox {
  OWAEnabled: boolean;
  ActiveSyncEnabled: boolean;
  PopEnabled: boolean;
  ImapEnabled: boolean;
  MAPIEnabled: boolean;
  EwsEnabled: boolean;
}

const getCas = async (ctx: ActionContext, mbx: ExoMailbox): Promise<CasMailbox> => (await ctx.exchange.invoke<CasMailbox>('Get-CASMailbox', { Identity: mbx.PrimarySmtpAddress }, ctx.signal))[0]!;
const archived = (m: ExoMailbox) => m.ArchiveStatus === 'Active' || (!!m.ArchiveGuid && !/^0{8}-/.test(m.ArchiveGuid));
const bareSmtp = (v: string | null | undefined) => (v ? v.replace(/^smtp:/i, '') : null);

export const mailboxGet = implement(c.mailboxGet, async (input, ctx) => {
  const m = await getMailbox(ctx, input.mailbox);
  const cas = await getCas(ctx, m);
  return {
    ...summary(m),
    primarySmtpAddress: m.PrimarySmtpAddress,
    emailAddresses: m.EmailAddresses ?? [],
    forwardingSmtpAddress: bareSmtp(m.ForwardingSmtpAddress),
    forwardingAddress: m.ForwardingAddress ?? null,
    deliverToMailboxAndForward: m.DeliverToMailboxAndForward ?? false,
    hiddenFromAddressLists: m.HiddenFromAddressListsEnabled ?? false,
    litigationHoldEnabled: m.LitigationHoldEnabled ?? false,
    litigationHoldDuration: m.LitigationHoldDuration ?? null,
    archiveEnabled: archived(m),
    archiveName: m.ArchiveName?.[0] ?? null,
    retentionPolicy: m.RetentionPolicy ?? null,
    addressBookPolicy: m.AddressBookPolicy ?? null,
    auditEnabled: m.AuditEnabled ?? false,
    issueWarningQuota: m.IssueWarningQuota ?? 'Unlimited',
    prohibitSendQuota: m.ProhibitSendQuota ?? 'Unlimited',
    prohibitSendReceiveQuota: m.ProhibitSendReceiveQuota ?? 'Unlimited',
    services: { owa: cas.OWAEnabled, activeSync: cas.ActiveSyncEnabled, pop: cas.PopEnabled, imap: cas.ImapEnabled, mapi: cas.MAPIEnabled, ews: cas.EwsEnabled },
  };
});

export const mailboxListDelegates = implement(c.mailboxListDelegates, async (input, ctx) => {
  const m = await getMailbox(ctx, input.mailbox);
  const byUser = new Map<string, string[]>();
  for (const d of await delegationsOf(ctx, m)) byUser.set(d.who, [...(byUser.get(d.who) ?? []), d.right]);
  return { identity: m.PrimarySmtpAddress, delegates: [...byUser].map(([user, rights]) => ({ user, rights })) };
});

// ---- type ----

const TYPE_OF = { Regular: 'UserMailbox', Shared: 'SharedMailbox', Room: 'RoomMailbox', Equipment: 'EquipmentMailbox' } as const;

async function convert(ctx: ActionContext, ref: string, type: keyof typeof TYPE_OF) {
  const m = await getMailbox(ctx, ref);
  const changed = m.RecipientTypeDetails !== TYPE_OF[type];
  if (changed) await set(ctx, m, { Type: type });
  return { identity: m.PrimarySmtpAddress, changed, previousType: m.RecipientTypeDetails, type: TYPE_OF[type] };
}

/** Plan of a type change: the mailbox's RecipientTypeDetails before -> after (Get-Mailbox). */
async function planType(ctx: PlanContext, ref: string, type: keyof typeof TYPE_OF): Promise<Change[]> {
  const m = await getMailbox(readCtx(ctx), ref);
  return m.RecipientTypeDetails === TYPE_OF[type] ? [] : [change(mailboxObject(m), 'type', m.RecipientTypeDetails, TYPE_OF[type], { objectId: m.ExternalDirectoryObjectId })];
}

export const mailboxConvertToShared = implement(
  c.mailboxConvertToShared,
  async (input, ctx) => {
    const { identity, changed, previousType } = await convert(ctx, input.mailbox, 'Shared');
    return { identity, changed, previousType };
  },
  (input, ctx) => planType(ctx, input.mailbox, 'Shared'),
);

export const mailboxConvertToRegular = implement(
  c.mailboxConvertToRegular,
  async (input, ctx) => {
    const { identity, changed, previousType } = await convert(ctx, input.mailbox, 'Regular');
    return { identity, changed, previousType };
  },
  (input, ctx) => planType(ctx, input.mailbox, 'Regular'),
);

export const mailboxSetType = implement(c.mailboxSetType, async (input, ctx) => convert(ctx, input.mailbox, input.type), (input, ctx) => planType(ctx, input.mailbox, input.type));

// ---- forwarding and automatic replies ----

interface ExoRecipient {
  Name: string;
  Identity?: string;
  PrimarySmtpAddress?: string;
  ExternalDirectoryObjectId?: string;
}

async function getRecipient(ctx: ActionContext, ref: string): Promise<ExoRecipient> {
  try {
    return (await ctx.exchange.invoke<ExoRecipient>('Get-Recipient', { Identity: ref }, ctx.signal))[0]!;
  } catch (err) {
    if (isExchangeError(err, ...NOT_FOUND))
      throw new ActionError(`recipient ${ref} does not exist in the organisation`, { code: 'RecipientNotFound', hint: 'forward to an address of the address book, or use "toAddress" for any SMTP address', status: 404 });
    throw err;
  }
}

/** Forwarding as a plan shows it: where mail goes and whether the mailbox keeps a copy; null when it does not forward. */
type Forwarding = { toAddress: string; keepCopy: boolean } | { toRecipient: string; keepCopy: boolean } | null;
const forwardingOf = (m: ExoMailbox): Forwarding => {
  const keepCopy = m.DeliverToMailboxAndForward ?? false;
  const smtp = bareSmtp(m.ForwardingSmtpAddress);
  if (smtp) return { toAddress: smtp, keepCopy };
  if (m.ForwardingAddress) return { toRecipient: m.ForwardingAddress, keepCopy };
  return keepCopy ? { toAddress: '', keepCopy } : null;
};

/** What "Forward email" would set on a mailbox (shared by the handler and its plan). */
async function desiredForwarding(ctx: ActionContext, m: ExoMailbox, input: InputOf<typeof c.mailboxSetForwarding>) {
  const desired: Record<string, unknown> = { DeliverToMailboxAndForward: input.keepCopy };
  let forwardingTo: string;
  let same: boolean;
  let after: Forwarding;
  if (input.toAddress) {
    forwardingTo = input.toAddress;
    desired['ForwardingSmtpAddress'] = `smtp:${input.toAddress}`;
    desired['ForwardingAddress'] = null;
    same = bareSmtp(m.ForwardingSmtpAddress)?.toLowerCase() === input.toAddress.toLowerCase() && !m.ForwardingAddress;
    after = { toAddress: input.toAddress, keepCopy: input.keepCopy };
  } else {
    const r = await getRecipient(ctx, input.toRecipient!);
    forwardingTo = r.PrimarySmtpAddress ?? r.Name;
    desired['ForwardingAddress'] = r.PrimarySmtpAddress ?? input.toRecipient;
    desired['ForwardingSmtpAddress'] = null;
    same = !!m.ForwardingAddress && [r.Name, r.Identity, r.PrimarySmtpAddress].some((n) => n?.toLowerCase() === m.ForwardingAddress!.toLowerCase()) && !m.ForwardingSmtpAddress;
    after = { toRecipient: forwardingTo, keepCopy: input.keepCopy };
  }
  const changed = !same || (m.DeliverToMailboxAndForward ?? false) !== input.keepCopy;
  return { desired, forwardingTo, changed, after };
}

export const mailboxSetForwarding = implement(
  c.mailboxSetForwarding,
  async (input, ctx) => {
    const m = await getMailbox(ctx, input.mailbox);
    const { desired, forwardingTo, changed } = await desiredForwarding(ctx, m, input);
    if (changed) await set(ctx, m, desired);
    return { identity: m.PrimarySmtpAddress, changed, forwardingTo, keepCopy: input.keepCopy };
  },
  async (input, ctx) => {
    const m = await getMailbox(readCtx(ctx), input.mailbox);
    const { changed, after } = await desiredForwarding(readCtx(ctx), m, input);
    return changed ? [change(mailboxObject(m), 'forwarding', forwardingOf(m), after, { objectId: m.ExternalDirectoryObjectId })] : [];
  },
);

export const mailboxDisableForwarding = implement(
  c.mailboxDisableForwarding,
  async (input, ctx) => {
    const m = await getMailbox(ctx, input.mailbox);
    const previous = bareSmtp(m.ForwardingSmtpAddress) ?? m.ForwardingAddress ?? null;
    const changed = !!previous || !!m.DeliverToMailboxAndForward;
    if (changed) await set(ctx, m, { ForwardingSmtpAddress: null, ForwardingAddress: null, DeliverToMailboxAndForward: false });
    return { identity: m.PrimarySmtpAddress, changed, previousForwardingTo: previous };
  },
  async (input, ctx) => {
    const m = await getMailbox(readCtx(ctx), input.mailbox);
    const before = forwardingOf(m);
    return before ? [change(mailboxObject(m), 'forwarding', before, null, { objectId: m.ExternalDirectoryObjectId })] : [];
  },
);

interface AutoReplies {
  status: 'disabled' | 'alwaysEnabled' | 'scheduled';
  externalAudience: string;
  internalReplyMessage: string;
  externalReplyMessage: string;
  scheduledStartDateTime?: { dateTime: string; timeZone: string };
  scheduledEndDateTime?: { dateTime: string; timeZone: string };
}

/** Graph's dateTimeTimeZone in UTC ("2030-01-01T09:00:00.0000000") as epoch ms. */
const utcMs = (v: { dateTime: string; timeZone: string } | undefined): number | undefined => {
  if (!v) return undefined;
  const trimmed = v.dateTime.replace(/(\.\d{3})\d*/, '$1');
  return Date.parse(/Z|[+-]\d\d:\d\d$/.test(trimmed) ? trimmed : `${trimmed}Z`);
};
const utcDateTime = (iso: string) => ({ dateTime: new Date(iso).toISOString().replace('Z', ''), timeZone: 'UTC' });

async function autoReplies(ctx: ActionContext, ref: string): Promise<{ user: GraphUser; current: AutoReplies }> {
  const user = await getUser(ctx.graph, ref, USER_SELECT);
  try {
    return { user, current: (await ctx.graph.api(`/users/${user.id}/mailboxSettings/automaticRepliesSetting`).get()) as AutoReplies };
  } catch (err) {
    if (statusOf(err) === 404)
      throw new ActionError(`${user.userPrincipalName} has no mailbox`, { code: 'MailboxNotFound', hint: 'the user needs an Exchange licence (a new mailbox appears a few minutes after it)', status: 404 });
    throw err;
  }
}

/** Automatic replies as a plan shows them (messages included: they are the user's own text, not secrets). */
function autoReplyState(v: AutoReplies) {
  return {
    status: v.status,
    externalAudience: v.externalAudience,
    internalMessage: v.internalReplyMessage ?? '',
    externalMessage: v.externalReplyMessage ?? '',
    ...(v.status === 'scheduled' && v.scheduledStartDateTime && v.scheduledEndDateTime
      ? { start: new Date(utcMs(v.scheduledStartDateTime)!).toISOString(), end: new Date(utcMs(v.scheduledEndDateTime)!).toISOString() }
      : {}),
  };
}

/** What "Set out of office" would set (shared by the handler and its plan). */
function desiredAutoReply(input: InputOf<typeof c.mailboxSetAutoReply>, current: AutoReplies) {
  const status = input.start ? ('scheduled' as const) : ('alwaysEnabled' as const);
  const external = input.externalMessage ?? input.internalMessage;
  const desired: Record<string, unknown> = { status, externalAudience: input.externalAudience, internalReplyMessage: input.internalMessage, externalReplyMessage: external };
  if (input.start && input.end) {
    desired['scheduledStartDateTime'] = utcDateTime(input.start);
    desired['scheduledEndDateTime'] = utcDateTime(input.end);
  }
  const sameSchedule = !input.start || (utcMs(current.scheduledStartDateTime) === Date.parse(input.start) && utcMs(current.scheduledEndDateTime) === Date.parse(input.end!));
  const changed = !(current.status === status && current.externalAudience === input.externalAudience && current.internalReplyMessage === input.internalMessage && current.externalReplyMessage === external && sameSchedule);
  const after = {
    status,
    externalAudience: input.externalAudience,
    internalMessage: input.internalMessage,
    externalMessage: external,
    ...(input.start && input.end ? { start: new Date(input.start).toISOString(), end: new Date(input.end).toISOString() } : {}),
  };
  return { status, desired, changed, after };
}

const autoReplyClear = (current: AutoReplies) => current.status !== 'disabled' || !!current.internalReplyMessage || !!current.externalReplyMessage;

export const mailboxSetAutoReply = implement(
  c.mailboxSetAutoReply,
  async (input, ctx) => {
    const { user, current } = await autoReplies(ctx, input.mailbox);
    const { status, desired, changed } = desiredAutoReply(input, current);
    if (changed) await ctx.graph.api(`/users/${user.id}/mailboxSettings`).patch({ automaticRepliesSetting: desired });
    return { mailbox: user.userPrincipalName, changed, status };
  },
  async (input, ctx) => {
    const { user, current } = await autoReplies(readCtx(ctx), input.mailbox);
    const { changed, after } = desiredAutoReply(input, current);
    return changed ? [change(`mailbox ${user.userPrincipalName}`, 'autoReply', autoReplyState(current), after, { objectId: user.id })] : [];
  },
);

export const mailboxClearAutoReply = implement(
  c.mailboxClearAutoReply,
  async (input, ctx) => {
    const { user, current } = await autoReplies(ctx, input.mailbox);
    const changed = autoReplyClear(current);
    if (changed) await ctx.graph.api(`/users/${user.id}/mailboxSettings`).patch({ automaticRepliesSetting: { status: 'disabled', internalReplyMessage: '', externalReplyMessage: '' } });
    return { mailbox: user.userPrincipalName, changed };
  },
  async (input, ctx) => {
    const { user, current } = await autoReplies(readCtx(ctx), input.mailbox);
    return autoReplyClear(current)
      ? [change(`mailbox ${user.userPrincipalName}`, 'autoReply', autoReplyState(current), { status: 'disabled', externalAudience: current.externalAudience, internalMessage: '', externalMessage: '' }, { objectId: user.id })]
      : [];
  },
);

// ---- delegates and permissions ----

/** Which users' right would change on one mailbox (shared by the handler and its plan). */
async function rightChanges(ctx: ActionContext, mailboxRef: string, userRefs: readonly string[], right: Right, grant: boolean) {
  const m = await getMailbox(ctx, mailboxRef);
  const users = await resolveUsers(ctx.graph, userRefs, USER_SELECT);
  const current = await delegationsOf(ctx, m);
  return { m, users: users.map((u) => ({ u, needed: holds(current, u, right) !== grant })) };
}

/** Grants (or revokes) one right to each user on one mailbox, reading the mailbox's delegations once. */
async function changeRight(ctx: ActionContext, mailboxRef: string, userRefs: readonly string[], right: Right, grant: boolean, autoMapping = true) {
  const { m, users } = await rightChanges(ctx, mailboxRef, userRefs, right, grant);
  const results: { user: string; changed: boolean }[] = [];
  for (const { u, needed } of users) {
    if (needed) await (grant ? grantRight(ctx, m, u.userPrincipalName, right, autoMapping) : revokeRight(ctx, m, u.userPrincipalName, right));
    results.push({ user: u.userPrincipalName, changed: needed });
  }
  return { identity: m.PrimarySmtpAddress, results };
}

/** Plan of a right: "FullAccess anna@contoso.com" false -> true (granted) or true -> false (taken away). */
async function planRight(ctx: PlanContext, mailboxRef: string, userRefs: readonly string[], right: Right, grant: boolean): Promise<Change[]> {
  const { m, users } = await rightChanges(readCtx(ctx), mailboxRef, userRefs, right, grant);
  return users.filter((x) => x.needed).map(({ u }) => change(mailboxObject(m), `${right} ${u.userPrincipalName}`, !grant, grant, { objectId: m.ExternalDirectoryObjectId }));
}

const rightAction = (right: Right, grant: boolean) =>
  implement(
    { FullAccess: grant ? c.mailboxAddFullAccess : c.mailboxRemoveFullAccess, SendAs: grant ? c.mailboxAddSendAs : c.mailboxRemoveSendAs, SendOnBehalf: grant ? c.mailboxAddSendOnBehalf : c.mailboxRemoveSendOnBehalf }[right as 'FullAccess'] as typeof c.mailboxRemoveFullAccess,
    (input, ctx) => changeRight(ctx, input.mailbox, input.users, right, grant, 'autoMapping' in input ? (input.autoMapping as boolean) : true),
    (input, ctx) => planRight(ctx, input.mailbox, input.users, right, grant),
  );

export const mailboxAddFullAccess = rightAction('FullAccess', true);
export const mailboxRemoveFullAccess = rightAction('FullAccess', false);
export const mailboxAddSendAs = rightAction('SendAs', true);
export const mailboxRemoveSendAs = rightAction('SendAs', false);
export const mailboxAddSendOnBehalf = rightAction('SendOnBehalf', true);
export const mailboxRemoveSendOnBehalf = rightAction('SendOnBehalf', false);

type RightResult = { mailbox: string; user: string; right: Right; changed: boolean };

/**
 * One right of one user on one mailbox that an action over several mailboxes looks at: `who` is the
 * trustee as the grant or revoke names it, `user` as results and plans show it, `needed` false when
 * it already is as asked. Shared by the handlers and their plans.
 */
interface RightDelta {
  m: ExoMailbox;
  who: string;
  user: string;
  right: Right;
  grant: boolean;
  needed: boolean;
  autoMapping?: boolean;
}

async function addDelegateDeltas(ctx: ActionContext, input: InputOf<typeof c.mailboxAddDelegate>): Promise<RightDelta[]> {
  const users = await resolveUsers(ctx.graph, input.users, USER_SELECT);
  const out: RightDelta[] = [];
  for (const ref of input.mailboxes) {
    const m = await getMailbox(ctx, ref);
    const current = await delegationsOf(ctx, m);
    for (const u of users)
      for (const right of input.rights) out.push({ m, who: u.userPrincipalName, user: u.userPrincipalName, right, grant: true, needed: !holds(current, u, right), autoMapping: input.autoMapping });
    ctx.heartbeat({ mailboxes: out.length });
  }
  return out;
}

async function removeDelegateDeltas(ctx: ActionContext, input: InputOf<typeof c.mailboxRemoveDelegate>): Promise<RightDelta[]> {
  const users = input.users ? await resolveUsers(ctx.graph, input.users, USER_SELECT) : undefined;
  const out: RightDelta[] = [];
  for (const ref of input.mailboxes) {
    const m = await getMailbox(ctx, ref);
    const current = await delegationsOf(ctx, m);
    if (users) {
      for (const u of users)
        for (const right of input.rights) {
          const held = current.find((d) => d.right === right && sameUser(d.who, u));
          out.push({ m, who: held?.who ?? u.userPrincipalName, user: u.userPrincipalName, right, grant: false, needed: !!held });
        }
    } else {
      for (const d of current.filter((x) => input.rights.includes(x.right))) out.push({ m, who: d.who, user: await asUserRef(ctx, d.who), right: d.right, grant: false, needed: true });
    }
    ctx.heartbeat({ mailboxes: out.length });
  }
  return out;
}

async function removeUserAccessDeltas(ctx: ActionContext, input: InputOf<typeof c.mailboxRemoveUserAccess>): Promise<{ deltas: RightDelta[]; scanned: number }> {
  const u = await getUser(ctx.graph, input.user, USER_SELECT);
  const mailboxes = await mailboxesIn(ctx, input.mailboxes);
  const deltas: RightDelta[] = [];
  for (const [i, m] of mailboxes.entries()) {
    if (m.ExternalDirectoryObjectId === u.id) continue;
    for (const d of (await delegationsOf(ctx, m)).filter((x) => sameUser(x.who, u))) deltas.push({ m, who: d.who, user: u.userPrincipalName, right: d.right, grant: false, needed: true });
    ctx.heartbeat({ scanned: i + 1 });
  }
  return { deltas, scanned: mailboxes.length };
}

async function copyPermissionsDeltas(ctx: ActionContext, input: InputOf<typeof c.mailboxCopyPermissions>): Promise<{ deltas: RightDelta[]; scanned: number }> {
  const source = await getUser(ctx.graph, input.from, USER_SELECT);
  const targets = await resolveUsers(ctx.graph, input.to, USER_SELECT);
  const mailboxes = await mailboxesIn(ctx, input.mailboxes);
  const deltas: RightDelta[] = [];
  for (const [i, m] of mailboxes.entries()) {
    const current = await delegationsOf(ctx, m);
    const wanted = new Set(current.filter((d) => sameUser(d.who, source)).map((d) => d.right));
    for (const t of targets) {
      if (m.ExternalDirectoryObjectId === t.id) continue;
      for (const right of wanted) if (!holds(current, t, right)) deltas.push({ m, who: t.userPrincipalName, user: t.userPrincipalName, right, grant: true, needed: true });
      if (input.mode === 'replace')
        for (const d of current.filter((x: Delegation) => sameUser(x.who, t) && !wanted.has(x.right))) deltas.push({ m, who: d.who, user: t.userPrincipalName, right: d.right, grant: false, needed: true });
    }
    ctx.heartbeat({ scanned: i + 1 });
  }
  return { deltas, scanned: mailboxes.length };
}

/**
 * A trustee as a user reference an undo can pass back: Exchange shows some by name or alias
 * (GrantSendOnBehalfTo, ResourceDelegates); those are looked up (Get-Recipient, then Graph) for their
 * user principal name. Names with an @ are taken as they are; a name that resolves to no user stays.
 */
async function asUserRef(ctx: ActionContext, name: string): Promise<string> {
  if (name.includes('@')) return name;
  const r = await orExoNotFound(ctx.exchange.invoke<ExoRecipient>('Get-Recipient', { Identity: name }, ctx.signal));
  if (!r?.ExternalDirectoryObjectId) return name;
  return (await orNotFound(ctx.graph.api(`/users/${r.ExternalDirectoryObjectId}`).select('userPrincipalName').get() as Promise<GraphUser>))?.userPrincipalName ?? name;
}

/** Makes the needed grants and revokes; one result per delta. */
async function applyDeltas(ctx: ActionContext, deltas: RightDelta[]): Promise<RightResult[]> {
  const results: RightResult[] = [];
  for (const d of deltas) {
    if (d.needed) await (d.grant ? grantRight(ctx, d.m, d.who, d.right, d.autoMapping ?? true) : revokeRight(ctx, d.m, d.who, d.right));
    results.push({ mailbox: d.m.PrimarySmtpAddress, user: d.user, right: d.right, changed: d.needed });
  }
  return results;
}

/** Plan of rights on several mailboxes: "FullAccess anna@contoso.com" false -> true per mailbox, user and right that changes. */
const deltaChanges = (deltas: RightDelta[]): Change[] =>
  deltas.filter((d) => d.needed).map((d) => change(mailboxObject(d.m), `${d.right} ${d.user}`, !d.grant, d.grant, { objectId: d.m.ExternalDirectoryObjectId }));

export const mailboxAddDelegate = implement(
  c.mailboxAddDelegate,
  async (input, ctx) => ({ results: await applyDeltas(ctx, await addDelegateDeltas(ctx, input)) }),
  async (input, ctx) => deltaChanges(await addDelegateDeltas(readCtx(ctx), input)),
);

export const mailboxRemoveDelegate = implement(
  c.mailboxRemoveDelegate,
  async (input, ctx) => ({ results: await applyDeltas(ctx, await removeDelegateDeltas(ctx, input)) }),
  async (input, ctx) => deltaChanges(await removeDelegateDeltas(readCtx(ctx), input)),
);

export const mailboxRemoveUserAccess = implement(
  c.mailboxRemoveUserAccess,
  async (input, ctx) => {
    const { deltas, scanned } = await removeUserAccessDeltas(ctx, input);
    return { results: await applyDeltas(ctx, deltas), scanned };
  },
  async (input, ctx) => deltaChanges((await removeUserAccessDeltas(readCtx(ctx), input)).deltas),
);

/** The mailbox owner's manager (Graph), or the operator-grade refusal. */
async function managerOf(ctx: ActionContext, ref: string): Promise<{ user: GraphUser; manager: GraphUser }> {
  const user = await getUser(ctx.graph, ref, USER_SELECT);
  const manager = await orNotFound(ctx.graph.api(`/users/${user.id}/manager`).select(USER_SELECT).get() as Promise<GraphUser>);
  if (!manager)
    throw new ActionError(`${user.userPrincipalName} has no manager`, { code: 'NoManager', hint: 'set the manager first ("Set manager"), or grant access to a named user with "Grant full access"' });
  return { user, manager };
}

export const mailboxGrantManagerFullAccess = implement(
  c.mailboxGrantManagerFullAccess,
  async (input, ctx) => {
    const { user, manager } = await managerOf(ctx, input.mailbox);
    const { identity, results } = await changeRight(ctx, user.userPrincipalName, [manager.id], 'FullAccess', true, input.autoMapping);
    return { identity, manager: manager.userPrincipalName, changed: results[0]!.changed };
  },
  async (input, ctx) => {
    const { user, manager } = await managerOf(readCtx(ctx), input.mailbox);
    return planRight(ctx, user.userPrincipalName, [manager.id], 'FullAccess', true);
  },
);

export const mailboxCopyPermissions = implement(
  c.mailboxCopyPermissions,
  async (input, ctx) => {
    const { deltas, scanned } = await copyPermissionsDeltas(ctx, input);
    return { results: await applyDeltas(ctx, deltas), scanned };
  },
  async (input, ctx) => deltaChanges((await copyPermissionsDeltas(readCtx(ctx), input)).deltas),
);

// ---- limits, services, holds, archive ----

export const mailboxSetQuota = implement(c.mailboxSetQuota, async (input, ctx) => {
  const m = await getMailbox(ctx, input.mailbox);
  const desired: Record<string, string> = {};
  const changed: string[] = [];
  for (const [field, param] of [['issueWarningQuota', 'IssueWarningQuota'], ['prohibitSendQuota', 'ProhibitSendQuota'], ['prohibitSendReceiveQuota', 'ProhibitSendReceiveQuota']] as const) {
    const v = input[field];
    if (v === undefined || sizeBytes(v) === sizeBytes(m[param])) continue;
    desired[param] = v.replace(/\s+/g, '');
    changed.push(field);
  }
  if (changed.length) await set(ctx, m, desired);
  return { identity: m.PrimarySmtpAddress, changed };
}, planMailboxQuota);

const CAS = [['owa', 'OWAEnabled'], ['activeSync', 'ActiveSyncEnabled'], ['pop', 'PopEnabled'], ['imap', 'ImapEnabled'], ['mapi', 'MAPIEnabled'], ['ews', 'EwsEnabled']] as const;

/** The protocols "Manage mailbox services" would change: field, Set-CASMailbox parameter, before, after. */
async function casDeltas(ctx: ActionContext, input: InputOf<typeof c.mailboxSetCasServices>) {
  const m = await getMailbox(ctx, input.mailbox);
  const cas = await getCas(ctx, m);
  const deltas = CAS.filter(([field, param]) => input[field] !== undefined && input[field] !== cas[param]).map(([field, param]) => ({ field, param, before: cas[param], after: input[field]! }));
  return { m, deltas };
}

export const mailboxSetCasServices = implement(
  c.mailboxSetCasServices,
  async (input, ctx) => {
    const { m, deltas } = await casDeltas(ctx, input);
    if (deltas.length) await ctx.exchange.invoke('Set-CASMailbox', { Identity: m.PrimarySmtpAddress, ...Object.fromEntries(deltas.map((d) => [d.param, d.after])) }, ctx.signal);
    return { identity: m.PrimarySmtpAddress, changed: deltas.map((d) => d.field) };
  },
  async (input, ctx) => {
    const { m, deltas } = await casDeltas(readCtx(ctx), input);
    return deltas.map((d) => change(mailboxObject(m), d.field, d.before, d.after, { objectId: m.ExternalDirectoryObjectId }));
  },
);

export const mailboxSetLitigationHold = implement(c.mailboxSetLitigationHold, async (input, ctx) => {
  const m = await getMailbox(ctx, input.mailbox);
  const duration = input.enabled ? (input.durationDays ? `${input.durationDays}.00:00:00` : 'Unlimited') : (m.LitigationHoldDuration ?? null);
  const sameDuration = !input.enabled || (m.LitigationHoldDuration ?? 'Unlimited').toLowerCase() === duration!.toLowerCase();
  const changed = (m.LitigationHoldEnabled ?? false) !== input.enabled || !sameDuration;
  if (changed) await set(ctx, m, { LitigationHoldEnabled: input.enabled, ...(input.enabled ? { LitigationHoldDuration: input.durationDays ?? 'Unlimited' } : {}) });
  return { identity: m.PrimarySmtpAddress, changed, duration };
}, planLitigationHold);

export const mailboxEnableArchive = implement(
  c.mailboxEnableArchive,
  async (input, ctx) => {
    const m = await getMailbox(ctx, input.mailbox);
    if (archived(m)) {
      const rename = !!input.archiveName && m.ArchiveName?.[0] !== input.archiveName;
      if (rename) await set(ctx, m, { ArchiveName: [input.archiveName] });
      return { identity: m.PrimarySmtpAddress, changed: rename };
    }
    await ctx.exchange.invoke('Enable-Mailbox', { Identity: m.PrimarySmtpAddress, Archive: true, ...(input.archiveName ? { ArchiveName: [input.archiveName] } : {}) }, ctx.signal);
    return { identity: m.PrimarySmtpAddress, changed: true };
  },
  async (input, ctx) => {
    const m = await getMailbox(readCtx(ctx), input.mailbox);
    const id = { objectId: m.ExternalDirectoryObjectId };
    const name = m.ArchiveName?.[0] ?? null;
    if (!archived(m)) return [change(mailboxObject(m), 'archive', false, true, id), ...(input.archiveName ? [change(mailboxObject(m), 'archiveName', null, input.archiveName, id)] : [])];
    return input.archiveName && name !== input.archiveName ? [change(mailboxObject(m), 'archiveName', name, input.archiveName, id)] : [];
  },
);

export const mailboxDisableArchive = implement(
  c.mailboxDisableArchive,
  async (input, ctx) => {
    const m = await getMailbox(ctx, input.mailbox);
    if (!archived(m)) return { identity: m.PrimarySmtpAddress, changed: false };
    await ctx.exchange.invoke('Disable-Mailbox', { Identity: m.PrimarySmtpAddress, Archive: true, Confirm: false }, ctx.signal);
    return { identity: m.PrimarySmtpAddress, changed: true };
  },
  async (input, ctx) => {
    const m = await getMailbox(readCtx(ctx), input.mailbox);
    return archived(m)
      ? [change(mailboxObject(m), 'archive', true, false, { objectId: m.ExternalDirectoryObjectId, note: `Exchange keeps the archive${m.ArchiveName?.[0] ? ` "${m.ArchiveName[0]}"` : ''} for 30 days: enabling it again within them reconnects it` })]
      : [];
  },
);

export const mailboxSetArchiveName = implement(c.mailboxSetArchiveName, async (input, ctx) => {
  const m = await getMailbox(ctx, input.mailbox);
  const previousName = m.ArchiveName?.[0] ?? null;
  const changed = previousName !== input.archiveName;
  if (changed) await set(ctx, m, { ArchiveName: [input.archiveName] });
  return { identity: m.PrimarySmtpAddress, changed, previousName };
}, planArchiveName);

export const mailboxHideFromAddressList = implement(c.mailboxHideFromAddressList, async (input, ctx) => {
  const m = await getMailbox(ctx, input.mailbox);
  const changed = (m.HiddenFromAddressListsEnabled ?? false) !== input.hidden;
  if (changed) await set(ctx, m, { HiddenFromAddressListsEnabled: input.hidden });
  return { identity: m.PrimarySmtpAddress, changed };
}, planHideFromAddressList);

export const mailboxSetClutter = implement(c.mailboxSetClutter, async (input, ctx) => {
  const m = await getMailbox(ctx, input.mailbox);
  const current = (await ctx.exchange.invoke<{ IsEnabled: boolean }>('Get-Clutter', { Identity: m.PrimarySmtpAddress }, ctx.signal))[0];
  const changed = (current?.IsEnabled ?? false) !== input.enabled;
  if (changed) await ctx.exchange.invoke('Set-Clutter', { Identity: m.PrimarySmtpAddress, Enable: input.enabled }, ctx.signal);
  return { identity: m.PrimarySmtpAddress, changed };
}, planClutter);

// ---- addresses and properties ----

const hasAddress = (m: ExoMailbox, a: string) => (m.EmailAddresses ?? []).some((x) => x.replace(/^smtp:/i, '').toLowerCase() === a.toLowerCase());

/** What "Add email addresses" would do (shared by the handler and its plan). */
function addressesToAdd(m: ExoMailbox, input: InputOf<typeof c.mailboxAddEmailAddress>) {
  const primary = input.addresses[0]!;
  return { added: input.addresses.filter((a) => !hasAddress(m, a)), primary, primaryChanged: input.makePrimary && m.PrimarySmtpAddress.toLowerCase() !== primary.toLowerCase() };
}

/** Addresses "Remove email addresses" would remove; the primary one cannot be (shared by the handler and its plan). */
function addressesToRemove(m: ExoMailbox, addresses: readonly string[]): string[] {
  const primary = addresses.find((a) => a.toLowerCase() === m.PrimarySmtpAddress.toLowerCase());
  if (primary)
    throw new ActionError(`${primary} is the primary address of the mailbox and cannot be removed`, {
      code: 'PrimaryAddress',
      hint: 'make another address primary first ("Add email addresses" with "make primary"), then remove this one',
    });
  return addresses.filter((a) => hasAddress(m, a));
}

const addressRows = (m: ExoMailbox, addresses: readonly string[], had: boolean) => addresses.map((a) => change(mailboxObject(m), `address ${a.toLowerCase()}`, had, !had, { objectId: m.ExternalDirectoryObjectId }));

export const mailboxAddEmailAddress = implement(
  c.mailboxAddEmailAddress,
  async (input, ctx) => {
    const m = await getMailbox(ctx, input.mailbox);
    const { added, primary, primaryChanged } = addressesToAdd(m, input);
    if (added.length) await set(ctx, m, { EmailAddresses: { '@odata.type': '#Exchange.GenericHashTable', Add: added.map((a) => `smtp:${a}`) } });
    // In Exchange Online WindowsEmailAddress sets the primary SMTP address of a recipient without an address policy.
    if (primaryChanged) await set(ctx, m, { WindowsEmailAddress: primary });
    return { identity: primaryChanged ? primary : m.PrimarySmtpAddress, added, primaryChanged };
  },
  async (input, ctx) => {
    const m = await getMailbox(readCtx(ctx), input.mailbox);
    const { added, primary, primaryChanged } = addressesToAdd(m, input);
    return [...addressRows(m, added, false), ...(primaryChanged ? [change(mailboxObject(m), 'primarySmtpAddress', m.PrimarySmtpAddress, primary, { objectId: m.ExternalDirectoryObjectId })] : [])];
  },
);

export const mailboxRemoveEmailAddress = implement(
  c.mailboxRemoveEmailAddress,
  async (input, ctx) => {
    const m = await getMailbox(ctx, input.mailbox);
    const removed = addressesToRemove(m, input.addresses);
    if (removed.length) await set(ctx, m, { EmailAddresses: { '@odata.type': '#Exchange.GenericHashTable', Remove: removed.map((a) => `smtp:${a}`) } });
    return { identity: m.PrimarySmtpAddress, removed };
  },
  async (input, ctx) => {
    const m = await getMailbox(readCtx(ctx), input.mailbox);
    return addressRows(m, addressesToRemove(m, input.addresses), true);
  },
);

/** "Edit mailbox" as rows: the properties that differ, before -> after (an empty value is null). Shared by the handler and its plan. */
function mailboxEdits(m: ExoMailbox, input: InputOf<typeof c.mailboxUpdate>): SetMailboxEdit[] {
  const edits: SetMailboxEdit[] = [];
  if (input.displayName !== undefined && input.displayName !== m.DisplayName) edits.push({ field: 'displayName', param: 'DisplayName', before: m.DisplayName, after: input.displayName });
  if (input.mailTip !== undefined && input.mailTip !== (m.MailTip ?? '')) edits.push({ field: 'mailTip', param: 'MailTip', before: m.MailTip || null, after: input.mailTip || null });
  for (const [n, v] of Object.entries(input.customAttributes ?? {})) {
    const param = `CustomAttribute${Number(n)}` as const;
    if (v !== (m[param] ?? '')) edits.push({ field: `customAttribute${Number(n)}`, param, before: m[param] || null, after: v || null });
  }
  if (input.resourceCapacity !== undefined && input.resourceCapacity !== m.ResourceCapacity) {
    requireResource(m);
    edits.push({ field: 'resourceCapacity', param: 'ResourceCapacity', before: m.ResourceCapacity ?? null, after: input.resourceCapacity });
  }
  return edits;
}

/** One Set-Mailbox parameter an action would change: `value` is what is sent (default `after`),
 *  `property` how a plan names it (default `field`, the output's name). */
interface SetMailboxEdit {
  field: string;
  property?: string;
  param: string;
  value?: unknown;
  before: unknown;
  after: unknown;
}

/** An action made of Set-Mailbox edits: the handler sends the parameters that differ (none: no call)
 *  and answers the fields it changed; its plan shows the same edits as rows. */
function setMailboxAction<C extends typeof c.mailboxUpdate | typeof c.mailboxEnableAuditing>(contract: C, editsOf: (m: ExoMailbox, input: InputOf<C>) => SetMailboxEdit[]) {
  return implement(
    contract,
    async (input: InputOf<C>, ctx: ActionContext) => {
      const m = await getMailbox(ctx, input.mailbox);
      const edits = editsOf(m, input);
      if (edits.length) await set(ctx, m, Object.fromEntries(edits.map((e) => [e.param, 'value' in e ? e.value : e.after])));
      // Both contracts answer { identity, changed }.
      return { identity: m.PrimarySmtpAddress, changed: edits.map((e) => e.field) } as Awaited<ReturnType<ActionHandler<C>>>;
    },
    async (input: InputOf<C>, ctx: PlanContext) => {
      const m = await getMailbox(readCtx(ctx), input.mailbox);
      return editsOf(m, input).map((e) => change(mailboxObject(m), e.property ?? e.field, e.before, e.after, { objectId: m.ExternalDirectoryObjectId }));
    },
  );
}

export const mailboxUpdate = setMailboxAction(c.mailboxUpdate, mailboxEdits);

interface Regional {
  Language?: string | null;
  TimeZone?: string | null;
  DateFormat?: string | null;
  TimeFormat?: string | null;
}

/** What "Set regional settings" would set: the Set-MailboxRegionalConfiguration parameters and the rows (shared by the handler and its plan). */
async function regionalEdits(ctx: ActionContext, input: InputOf<typeof c.mailboxSetRegionalSettings>) {
  const m = await getMailbox(ctx, input.mailbox);
  const current = (await ctx.exchange.invoke<Regional>('Get-MailboxRegionalConfiguration', { Identity: m.PrimarySmtpAddress }, ctx.signal))[0]!;
  const desired: Record<string, unknown> = {};
  const rows: Change[] = [];
  const row = (field: string, before: unknown, after: unknown, note?: string) => rows.push(change(mailboxObject(m), field, before, after, { objectId: m.ExternalDirectoryObjectId, ...(note ? { note } : {}) }));
  const languageChanges = !!input.language && input.language.toLowerCase() !== (current.Language ?? '').toLowerCase();
  if (languageChanges) (desired['Language'] = input.language), row('language', current.Language ?? null, input.language);
  if (input.timeZone && input.timeZone !== current.TimeZone) (desired['TimeZone'] = input.timeZone), row('timeZone', current.TimeZone ?? null, input.timeZone);
  for (const [field, param] of [['dateFormat', 'DateFormat'], ['timeFormat', 'TimeFormat']] as const) {
    const v = input[field];
    if (v && v !== current[param]) {
      desired[param] = v;
      row(field, current[param] ?? null, v);
    } else if (!v && languageChanges) {
      // The old formats may not be valid for the new language: $null makes Exchange use the language's defaults.
      desired[param] = null;
      if (current[param]) row(field, current[param], null, `the default of ${input.language}`);
    }
  }
  // `changed` names what the operator asked for; formats reset with a new language are rows only.
  return { m, desired, changed: rows.filter((r) => !r.note).map((r) => r.property), rows };
}

export const mailboxSetRegionalSettings = implement(
  c.mailboxSetRegionalSettings,
  async (input, ctx) => {
    const { m, desired, changed } = await regionalEdits(ctx, input);
    if (Object.keys(desired).length) await ctx.exchange.invoke('Set-MailboxRegionalConfiguration', { Identity: m.PrimarySmtpAddress, ...desired }, ctx.signal);
    return { identity: m.PrimarySmtpAddress, changed };
  },
  async (input, ctx) => (await regionalEdits(readCtx(ctx), input)).rows,
);

// ---- folder sharing and booking ----

interface FolderEntry {
  User: string;
  AccessRights: string[];
  SharingPermissionFlags?: string | null;
}

async function folderEntry(ctx: ActionContext, path: string, user: GraphUser): Promise<FolderEntry | undefined> {
  try {
    return (await ctx.exchange.invoke<FolderEntry>('Get-MailboxFolderPermission', { Identity: path, User: user.userPrincipalName }, ctx.signal))[0];
  } catch (err) {
    if (isExchangeError(err, 'UserNotFoundInPermissionEntryException', ...NOT_FOUND)) return undefined;
    throw err;
  }
}

const flagsOf = (e: FolderEntry | undefined) => new Set((e?.SharingPermissionFlags ?? '').split(',').map((f) => f.trim()).filter((f) => f && f !== 'None'));

/** A folder permission as a plan shows it: the level and its sharing flags; null when the user has none. */
export type FolderGrant = { accessRights: string; flags: string[] } | null;
const grantOf = (e: FolderEntry | undefined): FolderGrant => (e ? { accessRights: e.AccessRights.join(','), flags: [...flagsOf(e)].sort() } : null);

/** Each user's entry on a mailbox folder, and whether it already is what is asked (shared by the handlers and their plans). */
async function folderEntries(ctx: ActionContext, mailboxRef: string, scope: 'Calendar' | 'Contacts', userRefs: readonly string[], rights?: string, flags: string[] = []) {
  const m = await getMailbox(ctx, mailboxRef);
  const path = await folderPath(ctx, m, scope);
  const users = await resolveUsers(ctx.graph, userRefs, USER_SELECT);
  const entries = [];
  for (const u of users) {
    const entry = await folderEntry(ctx, path, u);
    const have = flagsOf(entry);
    const same = rights === undefined ? !entry : !!entry && entry.AccessRights.length === 1 && entry.AccessRights[0] === rights && have.size === flags.length && flags.every((f) => have.has(f));
    entries.push({ u, entry, have, same });
  }
  return { m, path, entries };
}

async function setFolderPermission(ctx: ActionContext, mailboxRef: string, scope: 'Calendar' | 'Contacts', userRefs: readonly string[], rights: string, flags: string[]) {
  const { m, path, entries } = await folderEntries(ctx, mailboxRef, scope, userRefs, rights, flags);
  const results: { user: string; changed: boolean }[] = [];
  for (const { u, entry, have, same } of entries) {
    const params = { Identity: path, User: u.userPrincipalName, AccessRights: [rights], ...(flags.length || have.size ? { SharingPermissionFlags: flags.length ? flags.join(',') : 'None' } : {}) };
    if (!same) await ctx.exchange.invoke(entry ? 'Set-MailboxFolderPermission' : 'Add-MailboxFolderPermission', params, ctx.signal);
    results.push({ user: u.userPrincipalName, changed: !same });
  }
  return { identity: m.PrimarySmtpAddress, results };
}

async function removeFolderPermission(ctx: ActionContext, mailboxRef: string, scope: 'Calendar' | 'Contacts', userRefs: readonly string[]) {
  const m = await getMailbox(ctx, mailboxRef);
  const path = await folderPath(ctx, m, scope);
  const users = await resolveUsers(ctx.graph, userRefs, USER_SELECT);
  const results: { user: string; changed: boolean }[] = [];
  for (const u of users) results.push({ user: u.userPrincipalName, changed: await removeFolderEntry(ctx, path, u.userPrincipalName) });
  return { identity: m.PrimarySmtpAddress, results };
}

/** Removes the user's entry on a mailbox folder; false when there was none (already removed, e.g. by an earlier attempt). */
async function removeFolderEntry(ctx: ActionContext, path: string, user: string): Promise<boolean> {
  try {
    await ctx.exchange.invoke('Remove-MailboxFolderPermission', { Identity: path, User: user, Confirm: false }, ctx.signal);
    return true;
  } catch (err) {
    if (!isExchangeError(err, 'UserNotFoundInPermissionEntryException')) throw err;
    return false;
  }
}

/** Plan of a folder permission: "calendar permission anna@contoso.com" {level, flags} before -> after (Get-MailboxFolderPermission). */
async function planFolder(ctx: PlanContext, mailboxRef: string, scope: 'Calendar' | 'Contacts', userRefs: readonly string[], rights?: string, flags: string[] = []): Promise<Change[]> {
  const { m, entries } = await folderEntries(readCtx(ctx), mailboxRef, scope, userRefs, rights, flags);
  const after: FolderGrant = rights === undefined ? null : { accessRights: rights, flags: [...flags].sort() };
  return entries.filter((x) => !x.same).map(({ u, entry }) => change(mailboxObject(m), `${scope.toLowerCase()} permission ${u.userPrincipalName}`, grantOf(entry), after, { objectId: m.ExternalDirectoryObjectId }));
}

const calendarFlags = (input: { delegate: boolean; canViewPrivateItems: boolean }) => (input.delegate ? ['Delegate', ...(input.canViewPrivateItems ? ['CanViewPrivateItems'] : [])] : []);

export const mailboxSetCalendarPermission = implement(
  c.mailboxSetCalendarPermission,
  (input, ctx) => setFolderPermission(ctx, input.mailbox, 'Calendar', input.users, input.accessRights, calendarFlags(input)),
  (input, ctx) => planFolder(ctx, input.mailbox, 'Calendar', input.users, input.accessRights, calendarFlags(input)),
);
export const mailboxRemoveCalendarPermission = implement(
  c.mailboxRemoveCalendarPermission,
  (input, ctx) => removeFolderPermission(ctx, input.mailbox, 'Calendar', input.users),
  (input, ctx) => planFolder(ctx, input.mailbox, 'Calendar', input.users),
);
export const mailboxAddContactsDelegate = implement(
  c.mailboxAddContactsDelegate,
  (input, ctx) => setFolderPermission(ctx, input.mailbox, 'Contacts', input.users, input.accessRights, []),
  (input, ctx) => planFolder(ctx, input.mailbox, 'Contacts', input.users, input.accessRights, []),
);
export const mailboxRemoveContactsDelegate = implement(
  c.mailboxRemoveContactsDelegate,
  (input, ctx) => removeFolderPermission(ctx, input.mailbox, 'Contacts', input.users),
  (input, ctx) => planFolder(ctx, input.mailbox, 'Contacts', input.users),
);

/** The user's entry on each other mailbox's calendar (shared by the handler and its plan). */
async function calendarAccessOf(ctx: ActionContext, input: InputOf<typeof c.mailboxRemoveCalendarAccess>) {
  const u = await getUser(ctx.graph, input.user, USER_SELECT);
  const mailboxes = await mailboxesIn(ctx, input.mailboxes);
  const held: { m: ExoMailbox; path: string; entry: FolderEntry }[] = [];
  for (const [i, m] of mailboxes.entries()) {
    if (m.ExternalDirectoryObjectId === u.id) continue;
    const path = await folderPath(ctx, m, 'Calendar');
    const entry = await folderEntry(ctx, path, u);
    if (entry) held.push({ m, path, entry });
    ctx.heartbeat({ scanned: i + 1 });
  }
  return { u, held, scanned: mailboxes.length };
}

export const mailboxRemoveCalendarAccess = implement(
  c.mailboxRemoveCalendarAccess,
  async (input, ctx) => {
    // A retry finds no entry where an earlier attempt removed it; one gone in between counts as done.
    const { u, held, scanned } = await calendarAccessOf(ctx, input);
    const results: { mailbox: string; user: string; accessRights: string; changed: boolean }[] = [];
    for (const { m, path, entry } of held)
      results.push({ mailbox: m.PrimarySmtpAddress, user: u.userPrincipalName, accessRights: entry.AccessRights.join(','), changed: await removeFolderEntry(ctx, path, u.userPrincipalName) });
    return { results, scanned };
  },
  async (input, ctx) => {
    const { u, held } = await calendarAccessOf(readCtx(ctx), input);
    return held.map(({ m, entry }) => change(mailboxObject(m), `calendar permission ${u.userPrincipalName}`, grantOf(entry), null, { objectId: m.ExternalDirectoryObjectId }));
  },
);

type Booking = Partial<Record<keyof typeof c.bookingShape, unknown>>;
const BOOKING_PARAMS: Record<keyof typeof c.bookingShape, string> = {
  automateProcessing: 'AutomateProcessing',
  allowConflicts: 'AllowConflicts',
  bookingWindowInDays: 'BookingWindowInDays',
  maximumDurationInMinutes: 'MaximumDurationInMinutes',
  allowRecurringMeetings: 'AllowRecurringMeetings',
  scheduleOnlyDuringWorkHours: 'ScheduleOnlyDuringWorkHours',
  allBookInPolicy: 'AllBookInPolicy',
  bookInPolicy: 'BookInPolicy',
  resourceDelegates: 'ResourceDelegates',
  addOrganizerToSubject: 'AddOrganizerToSubject',
  deleteSubject: 'DeleteSubject',
  deleteComments: 'DeleteComments',
  processExternalMeetingMessages: 'ProcessExternalMeetingMessages',
  additionalResponse: 'AdditionalResponse',
};

/** Booking settings that differ: the Set-CalendarProcessing parameters and one row per field (shared by the handlers and the plans). */
async function bookingEdits(ctx: ActionContext, m: ExoMailbox, booking: Booking) {
  requireResource(m);
  const current = (await ctx.exchange.invoke<Record<string, unknown>>('Get-CalendarProcessing', { Identity: m.PrimarySmtpAddress }, ctx.signal))[0]!;
  const desired: Record<string, unknown> = {};
  const rows: Change[] = [];
  for (const [field, param] of Object.entries(BOOKING_PARAMS) as [keyof typeof c.bookingShape, string][]) {
    const v = booking[field];
    if (v === undefined) continue;
    let before = current[param] ?? null;
    let after = v;
    if (Array.isArray(v)) {
      const users = await resolveUsers(ctx.graph, v as string[], USER_SELECT);
      const have = (current[param] as string[] | undefined) ?? [];
      if (have.length === users.length && users.every((u) => have.some((h) => sameUser(h, u)))) continue;
      desired[param] = after = users.map((u) => u.userPrincipalName);
      before = [];
      for (const h of have) (before as string[]).push(await asUserRef(ctx, h));
    } else if (field === 'additionalResponse') {
      if ((current[param] ?? '') === v && current['AddAdditionalResponse'] === !!v) continue;
      before = current['AddAdditionalResponse'] ? (current[param] ?? '') : '';
      desired[param] = v || null;
      desired['AddAdditionalResponse'] = !!v;
    } else {
      if (current[param] === v) continue;
      desired[param] = v;
    }
    rows.push(change(mailboxObject(m), field, before, after, { objectId: m.ExternalDirectoryObjectId }));
  }
  return { desired, rows };
}

/** Applies booking settings that differ; returns the fields changed. */
export async function applyBooking(ctx: ActionContext, m: ExoMailbox, booking: Booking): Promise<string[]> {
  const { desired, rows } = await bookingEdits(ctx, m, booking);
  if (rows.length) await ctx.exchange.invoke('Set-CalendarProcessing', { Identity: m.PrimarySmtpAddress, ...desired }, ctx.signal);
  return rows.map((r) => r.property);
}

export const mailboxSetCalendarProcessing = implement(
  c.mailboxSetCalendarProcessing,
  async (input, ctx) => {
    const { mailbox, ...booking } = input;
    const m = await getMailbox(ctx, mailbox);
    return { identity: m.PrimarySmtpAddress, changed: await applyBooking(ctx, m, booking) };
  },
  async (input, ctx) => {
    const { mailbox, ...booking } = input;
    const m = await getMailbox(readCtx(ctx), mailbox);
    return (await bookingEdits(readCtx(ctx), m, booking)).rows;
  },
);

// ---- inbox rules ----

interface MessageRule {
  id: string;
  displayName: string;
  isEnabled: boolean;
  actions?: { forwardTo?: { emailAddress: { address: string } }[]; forwardAsAttachmentTo?: { emailAddress: { address: string } }[]; redirectTo?: { emailAddress: { address: string } }[]; delete?: boolean; permanentDelete?: boolean };
}

function ruleSummary(r: MessageRule) {
  const a = r.actions ?? {};
  const forwardsTo = [...(a.forwardTo ?? []), ...(a.forwardAsAttachmentTo ?? []), ...(a.redirectTo ?? [])].map((x) => x.emailAddress.address);
  return { id: r.id, name: r.displayName, enabled: r.isEnabled, forwardsTo, deletes: !!(a.delete || a.permanentDelete) };
}

async function inboxRules(ctx: ActionContext, ref: string): Promise<{ user: GraphUser; rules: MessageRule[] }> {
  const user = await getUser(ctx.graph, ref, USER_SELECT);
  try {
    const { items } = await listAll<MessageRule>(ctx.graph, `/users/${user.id}/mailFolders/inbox/messageRules`, {});
    return { user, rules: items };
  } catch (err) {
    if (statusOf(err) === 404) throw new ActionError(`${user.userPrincipalName} has no mailbox`, { code: 'MailboxNotFound', hint: 'the user needs an Exchange licence', status: 404 });
    throw err;
  }
}

export const mailboxListInboxRules = implement(c.mailboxListInboxRules, async (input, ctx) => {
  const { user, rules } = await inboxRules(ctx, input.mailbox);
  const summaries = rules.map(ruleSummary);
  return { mailbox: user.userPrincipalName, rules: summaries, forwarding: summaries.some((r) => r.forwardsTo.length > 0) };
});

/** The rules "Remove inbox rules" would delete (shared by the handler and its plan). */
async function doomedRules(ctx: ActionContext, input: InputOf<typeof c.mailboxRemoveInboxRules>) {
  const { user, rules } = await inboxRules(ctx, input.mailbox);
  const names = input.names?.map((n) => n.toLowerCase());
  return { user, doomed: rules.map(ruleSummary).filter((r) => (!names || names.includes(r.name.toLowerCase())) && (!input.onlySuspicious || r.forwardsTo.length > 0 || r.deletes)) };
}

export const mailboxRemoveInboxRules = implement(
  c.mailboxRemoveInboxRules,
  async (input, ctx) => {
    const { user, doomed } = await doomedRules(ctx, input);
    const removed: typeof doomed = [];
    for (const r of doomed) {
      try {
        await ctx.graph.api(`/users/${user.id}/mailFolders/inbox/messageRules/${encodeURIComponent(r.id)}`).delete();
        removed.push(r);
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
    return { mailbox: user.userPrincipalName, removed };
  },
  async (input, ctx) => {
    const { user, doomed } = await doomedRules(readCtx(ctx), input);
    return doomed.map(({ id: _id, name, ...rule }) => change(`mailbox ${user.userPrincipalName}`, `inbox rule ${name}`, rule, null, { objectId: user.id, note: GONE_NOTE }));
  },
);

/** The meetings a cancellation would remove: the mailbox's own meetings with attendees that start in the window (Graph calendar). */
async function organisedMeetings(ctx: ActionContext, input: { mailbox: string; days: number; startDate?: string }) {
  const m = await getMailbox(ctx, input.mailbox);
  const from = input.startDate ?? new Date().toISOString().slice(0, 10);
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = start + input.days * 86_400_000;
  const meetings: { subject: string; start: string }[] = [];
  let url: string | undefined = `/users/${encodeURIComponent(m.PrimarySmtpAddress)}/events?$select=subject,start,isOrganizer,attendees&$top=100`;
  while (url) {
    const page = (await ctx.graph.api(url).get()) as { value: { subject?: string; isOrganizer?: boolean; attendees?: unknown[]; start?: { dateTime: string } }[]; '@odata.nextLink'?: string };
    for (const e of page.value) {
      // Graph answers start times in UTC unless asked for another zone.
      const at = e.start ? Date.parse(`${e.start.dateTime.slice(0, 19)}Z`) : NaN;
      if (e.isOrganizer && (e.attendees?.length ?? 0) > 0 && at >= start && at < end) meetings.push({ subject: e.subject ?? '(no subject)', start: e.start!.dateTime.slice(0, 16) });
    }
    url = page['@odata.nextLink'];
  }
  return { m, from, meetings };
}

export const mailboxCancelMeetings = implement(
  c.mailboxCancelMeetings,
  async (input, ctx) => {
    const m = await getMailbox(ctx, input.mailbox);
    const from = input.startDate ?? new Date().toISOString().slice(0, 10);
    // Retry-safe: a cancelled meeting leaves the calendars, so a repeat would cancel nothing more; a retry
    // (an earlier attempt's answer was lost) does not even ask again when none of the meetings is left.
    if (ctx.attempt > 1 && !(await organisedMeetings(ctx, { ...input, startDate: from })).meetings.length) return { identity: m.PrimarySmtpAddress, from, days: input.days };
    await ctx.exchange.invoke('Remove-CalendarEvents', { Identity: m.PrimarySmtpAddress, CancelOrganizedMeetings: true, QueryStartDate: from, QueryWindowInDays: input.days, Confirm: false }, ctx.signal);
    return { identity: m.PrimarySmtpAddress, from, days: input.days };
  },
  async (input, ctx) => {
    const { m, meetings } = await organisedMeetings(readCtx(ctx), input);
    return meetings.map((e) => change(`mailbox ${m.PrimarySmtpAddress}`, `meeting ${e.subject} at ${e.start} UTC`, true, null, { note: 'cancelled: the attendees get the cancellation; it cannot be undone' }));
  },
);

// ---- policies and auditing ----

/** What assigning a policy would change (shared by the handlers and the plans): the policy must exist. */
async function policyEdit(ctx: ActionContext, ref: string, policy: string | null, kind: 'RetentionPolicy' | 'AddressBookPolicy') {
  const m = await getMailbox(ctx, ref);
  const previous = m[kind] ?? null;
  const name = policy === null ? null : await existingPolicy(ctx, policy, kind);
  return { m, previous, name, changed: (previous ?? '').toLowerCase() !== (name ?? '').toLowerCase() };
}

async function existingPolicy(ctx: ActionContext, policy: string, kind: 'RetentionPolicy' | 'AddressBookPolicy'): Promise<string> {
  const found = await orExoLookup(ctx, `Get-${kind}`, policy);
  if (!found)
    throw new ActionError(`${kind === 'RetentionPolicy' ? 'retention' : 'address book'} policy "${policy}" does not exist`, {
      code: 'PolicyNotFound',
      hint: `use the name of an existing policy (Get-${kind}); creating policies is an Exchange Administrator task`,
      status: 404,
    });
  return found.Name;
}

async function setPolicy(ctx: ActionContext, ref: string, policy: string | null, kind: 'RetentionPolicy' | 'AddressBookPolicy') {
  const { m, previous, name, changed } = await policyEdit(ctx, ref, policy, kind);
  if (changed) await set(ctx, m, { [kind]: name });
  return { identity: m.PrimarySmtpAddress, changed, previousPolicy: previous };
}

async function planPolicy(ctx: PlanContext, ref: string, policy: string | null, kind: 'RetentionPolicy' | 'AddressBookPolicy'): Promise<Change[]> {
  const { m, previous, name, changed } = await policyEdit(readCtx(ctx), ref, policy, kind);
  return changed ? [change(mailboxObject(m), kind === 'RetentionPolicy' ? 'retentionPolicy' : 'addressBookPolicy', previous, name, { objectId: m.ExternalDirectoryObjectId })] : [];
}

async function orExoLookup(ctx: ActionContext, cmdlet: string, identity: string): Promise<{ Name: string } | undefined> {
  try {
    return (await ctx.exchange.invoke<{ Name: string }>(cmdlet, { Identity: identity }, ctx.signal))[0];
  } catch (err) {
    if (isExchangeError(err, ...NOT_FOUND)) return undefined;
    throw err;
  }
}

export const mailboxSetRetentionPolicy = implement(
  c.mailboxSetRetentionPolicy,
  (input, ctx) => setPolicy(ctx, input.mailbox, input.policy, 'RetentionPolicy'),
  (input, ctx) => planPolicy(ctx, input.mailbox, input.policy, 'RetentionPolicy'),
);
export const mailboxSetAddressBookPolicy = implement(
  c.mailboxSetAddressBookPolicy,
  (input, ctx) => setPolicy(ctx, input.mailbox, input.policy, 'AddressBookPolicy'),
  (input, ctx) => planPolicy(ctx, input.mailbox, input.policy, 'AddressBookPolicy'),
);

/** Days in an EnhancedTimeSpan ("90.00:00:00"), or null. */
const days = (span: string | undefined | null): number | null => (span ? Number(/^(\d+)\./.exec(span)?.[1] ?? NaN) || null : null);

/** What "Enable mailbox audit" would set (shared by the handler and its plan). */
function auditEdits(m: ExoMailbox, input: InputOf<typeof c.mailboxEnableAuditing>): SetMailboxEdit[] {
  const edits: SetMailboxEdit[] = [];
  if ((m.AuditEnabled ?? false) !== input.enabled) edits.push({ field: 'enabled', property: 'auditEnabled', param: 'AuditEnabled', value: input.enabled, before: m.AuditEnabled ?? false, after: input.enabled });
  const limit = input.ageLimitDays === undefined ? undefined : `${input.ageLimitDays}.00:00:00`;
  if (limit && limit !== m.AuditLogAgeLimit) edits.push({ field: 'ageLimitDays', property: 'auditAgeLimitDays', param: 'AuditLogAgeLimit', value: limit, before: days(m.AuditLogAgeLimit), after: input.ageLimitDays });
  return edits;
}

export const mailboxEnableAuditing = setMailboxAction(c.mailboxEnableAuditing, auditEdits);

// ---- create, remove, provisioning ----

/** A mailbox this step may (re)use: none yet, or one an earlier attempt of this step created. */
async function existingOwnMailbox(ctx: ActionContext, ref: string): Promise<ExoMailbox | undefined> {
  const m = await findMailbox(ctx, ref);
  if (m && !createdByThisStep(ctx, exoDate(m.WhenMailboxCreated ?? m.WhenCreated))) throw mailboxTaken(ref, m);
  return m;
}

const mailboxTaken = (ref: string, m: ExoMailbox) =>
  new ActionError(`a mailbox with the address ${ref} already exists (${m.DisplayName})`, { code: 'ObjectConflict', hint: 'pick another alias or address, or edit the existing mailbox' });

/** Plan of a new shared or resource mailbox: it comes to exist with these properties; a taken address or a missing policy would fail. */
async function planNewMailbox(
  ctx: PlanContext,
  input: { alias: string; primarySmtpAddress?: string; retentionPolicy?: string; addressBookPolicy?: string },
  properties: Record<string, unknown>,
): Promise<Change[]> {
  const ref = input.primarySmtpAddress ?? input.alias;
  const existing = await findMailbox(readCtx(ctx), ref);
  if (existing) throw mailboxTaken(ref, existing);
  if (input.retentionPolicy) await existingPolicy(readCtx(ctx), input.retentionPolicy, 'RetentionPolicy');
  if (input.addressBookPolicy) await existingPolicy(readCtx(ctx), input.addressBookPolicy, 'AddressBookPolicy');
  return creation(`mailbox ${ref}`, { ...properties, retentionPolicy: input.retentionPolicy, addressBookPolicy: input.addressBookPolicy });
}

const upns = async (ctx: PlanContext, refs: readonly string[]) => (await resolveUsers(ctx.graph, refs, USER_SELECT)).map((u) => u.userPrincipalName);

async function newMailbox(ctx: ActionContext, kind: 'Shared' | 'Room' | 'Equipment', input: { name: string; displayName?: string; alias: string; primarySmtpAddress?: string }, extra: Record<string, unknown> = {}) {
  const ref = input.primarySmtpAddress ?? input.alias;
  const existing = await existingOwnMailbox(ctx, ref);
  if (existing) return { m: existing, created: false };
  const m = (
    await ctx.exchange.invoke<ExoMailbox>(
      'New-Mailbox',
      { [kind]: true, Name: input.name, DisplayName: input.displayName ?? input.name, Alias: input.alias, ...(input.primarySmtpAddress ? { PrimarySmtpAddress: input.primarySmtpAddress } : {}), ...extra },
      ctx.signal,
    )
  )[0]!;
  return { m, created: true };
}

async function assignPolicies(ctx: ActionContext, m: ExoMailbox, retentionPolicy?: string, addressBookPolicy?: string) {
  if (retentionPolicy) await setPolicy(ctx, m.PrimarySmtpAddress, retentionPolicy, 'RetentionPolicy');
  if (addressBookPolicy) await setPolicy(ctx, m.PrimarySmtpAddress, addressBookPolicy, 'AddressBookPolicy');
}

export const mailboxCreateShared = implement(c.mailboxCreateShared, async (input, ctx) => {
  const { m, created } = await newMailbox(ctx, 'Shared', input);
  const fresh = await getMailbox(ctx, m.PrimarySmtpAddress);
  const extra = input.emailAddresses.filter((a) => !hasAddress(fresh, a));
  if (extra.length) await set(ctx, fresh, { EmailAddresses: { '@odata.type': '#Exchange.GenericHashTable', Add: extra.map((a) => `smtp:${a}`) } });
  if (input.fullAccess.length) await changeRight(ctx, fresh.PrimarySmtpAddress, input.fullAccess, 'FullAccess', true);
  if (input.sendAs.length) await changeRight(ctx, fresh.PrimarySmtpAddress, input.sendAs, 'SendAs', true);
  await assignPolicies(ctx, fresh, input.retentionPolicy, input.addressBookPolicy);
  return { identity: fresh.PrimarySmtpAddress, id: fresh.ExternalDirectoryObjectId, userPrincipalName: fresh.UserPrincipalName, created };
}, async (input, ctx) =>
  planNewMailbox(ctx, input, {
    type: 'SharedMailbox',
    name: input.name,
    displayName: input.displayName ?? input.name,
    alias: input.alias,
    emailAddresses: input.emailAddresses.map((a) => a.toLowerCase()),
    fullAccess: await upns(ctx, input.fullAccess),
    sendAs: await upns(ctx, input.sendAs),
  }),
);

export const mailboxCreateResource = implement(c.mailboxCreateResource, async (input, ctx) => {
  const { m, created } = await newMailbox(ctx, input.kind, input, input.capacity !== undefined ? { ResourceCapacity: input.capacity } : {});
  const fresh = await getMailbox(ctx, m.PrimarySmtpAddress);
  if (input.hiddenFromAddressLists && !fresh.HiddenFromAddressListsEnabled) await set(ctx, fresh, { HiddenFromAddressListsEnabled: true });
  if (input.booking) await applyBooking(ctx, fresh, input.booking);
  await assignPolicies(ctx, fresh, input.retentionPolicy, input.addressBookPolicy);
  return { identity: fresh.PrimarySmtpAddress, id: fresh.ExternalDirectoryObjectId, userPrincipalName: fresh.UserPrincipalName, created };
}, (input, ctx) =>
  planNewMailbox(ctx, input, {
    type: TYPE_OF[input.kind],
    name: input.name,
    displayName: input.displayName ?? input.name,
    alias: input.alias,
    resourceCapacity: input.capacity,
    hiddenFromAddressLists: input.hiddenFromAddressLists || undefined,
    booking: input.booking,
  }),
);

export const mailboxDelete = implement(
  c.mailboxDelete,
  async (input, ctx) =>
    removeOnce(ctx, await findMailbox(ctx, input.mailbox), () => mailboxNotFound(input.mailbox), (m) => ctx.exchange.invoke('Remove-Mailbox', { Identity: m.PrimarySmtpAddress, Confirm: false }, ctx.signal)),
  async (input, ctx) => {
    const m = await getMailbox(readCtx(ctx), input.mailbox);
    return [change(mailboxObject(m), 'exists', true, false, { objectId: m.ExternalDirectoryObjectId, note: `${RESTORABLE_NOTE} (with its user account ${m.UserPrincipalName})` })];
  },
);

export const mailboxWaitForMailbox = implement(c.mailboxWaitForMailbox, async (input, ctx) => {
  const started = Date.now();
  const deadline = started + input.timeoutMinutes * 60_000;
  // Check soon, then back off to every 15 seconds: provisioning takes minutes, a retry can find it at once.
  for (let wait = 2_000; ; wait = Math.min(wait * 2, 15_000)) {
    const m = await findMailbox(ctx, input.mailbox);
    if (m) return { identity: m.PrimarySmtpAddress, type: m.RecipientTypeDetails, waitedSeconds: Math.round((Date.now() - started) / 1000) };
    if (Date.now() + wait > deadline)
      throw new ActionError(`the mailbox ${input.mailbox} did not appear within ${input.timeoutMinutes} minutes`, {
        code: 'MailboxNotProvisioned',
        hint: 'check that the user has a licence with Exchange Online (and that its Exchange plan is enabled); provisioning usually takes a few minutes',
        retryable: true,
      });
    ctx.heartbeat({ waiting: input.mailbox });
    await pause(wait, ctx.signal);
  }
}, { plan: planWaitForMailbox, acceptsUnknown: ['mailbox'] });

/** It changes nothing, and a plan must not wait: it says what the step will wait for. */
async function planWaitForMailbox(input: InputOf<typeof c.mailboxWaitForMailbox>): Promise<PlanDraft> {
  const who = isKnownAfterRun(input.mailbox) ? 'the mailbox an earlier step names' : `the mailbox of ${String(input.mailbox)}`;
  return { changes: [], notes: [`waits up to ${input.timeoutMinutes} minutes for Exchange Online to provision ${who} (checks Get-Mailbox every 15 seconds)`] };
}

// ---- quarantine ----

interface QuarantineRow {
  Identity: string;
  ReceivedTime: string;
  SenderAddress: string;
  RecipientAddress: string[];
  Subject: string;
  QuarantineTypes?: string;
  Type?: string;
  ReleaseStatus?: string;
  ReleasedUser?: string[];
  Expires: string;
}

export const quarantineList = implement(c.quarantineList, async (input, ctx) => {
  const rows = await ctx.exchange.invoke<QuarantineRow>(
    'Get-QuarantineMessage',
    {
      ...(input.recipient ? { RecipientAddress: [input.recipient] } : {}),
      ...(input.sender ? { SenderAddress: [input.sender] } : {}),
      ...(input.types.length ? { QuarantineTypes: input.types } : {}),
      ...(input.notReleasedOnly ? { ReleaseStatus: ['NOTRELEASED'] } : {}),
      PageSize: input.max,
    },
    ctx.signal,
  );
  return {
    messages: rows.map((r) => ({
      identity: r.Identity,
      receivedTime: exoDate(r.ReceivedTime) ?? r.ReceivedTime,
      sender: r.SenderAddress,
      recipients: r.RecipientAddress,
      subject: r.Subject,
      type: r.QuarantineTypes ?? r.Type ?? 'Spam',
      released: (r.ReleaseStatus ?? '').toUpperCase() === 'RELEASED',
      expires: exoDate(r.Expires) ?? r.Expires,
    })),
  };
});

async function quarantined(ctx: ActionContext, identity: string): Promise<QuarantineRow | undefined> {
  try {
    return (await ctx.exchange.invoke<QuarantineRow>('Get-QuarantineMessage', { Identity: identity }, ctx.signal))[0];
  } catch (err) {
    if (isExchangeError(err, ...NOT_FOUND)) return undefined;
    throw err;
  }
}

const notQuarantined = (identity: string) =>
  new ActionError(`no message ${identity} is in quarantine`, { code: 'QuarantineMessageNotFound', hint: 'list the quarantine again: messages expire after 30 days, and deleted ones are gone', status: 404 });

/** The quarantined message and the recipients a release would reach that it has not reached yet (shared by the handler and its plan). */
async function releaseTargets(ctx: ActionContext, input: InputOf<typeof c.quarantineRelease>) {
  const row = await quarantined(ctx, input.identity);
  if (!row) throw notQuarantined(input.identity);
  const already = new Set((row.ReleasedUser ?? []).map((u) => u.toLowerCase()));
  return { row, fresh: (input.users ?? row.RecipientAddress).filter((u) => !already.has(u.toLowerCase())) };
}

const quarantineObject = (row: QuarantineRow) => `quarantined message "${row.Subject}" (${row.Identity})`;

export const quarantineRelease = implement(
  c.quarantineRelease,
  async (input, ctx) => {
    const { row, fresh } = await releaseTargets(ctx, input);
    if (fresh.length)
      await ctx.exchange.invoke('Release-QuarantineMessage', { Identity: row.Identity, ...(input.users ? { User: fresh } : { ReleaseToAll: true }) }, ctx.signal);
    return { identity: row.Identity, releasedTo: fresh, changed: fresh.length > 0 };
  },
  async (input, ctx) => {
    const { row, fresh } = await releaseTargets(readCtx(ctx), input);
    return fresh.map((u) => change(quarantineObject(row), `released to ${u.toLowerCase()}`, false, true, { objectId: row.Identity, note: 'delivered: cannot be taken back' }));
  },
);

export const quarantineDelete = implement(
  c.quarantineDelete,
  async (input, ctx) =>
    removeOnce(ctx, await quarantined(ctx, input.identity), () => notQuarantined(input.identity), (row) => ctx.exchange.invoke('Delete-QuarantineMessage', { Identity: row.Identity, Confirm: false }, ctx.signal)),
  async (input, ctx) => {
    const row = await quarantined(readCtx(ctx), input.identity);
    if (!row) throw notQuarantined(input.identity);
    return [change(quarantineObject(row), 'exists', true, false, { objectId: row.Identity, note: GONE_NOTE })];
  },
);

// ---- plans of the mailbox property actions (docs/plan.md): Get-Mailbox / Get-Clutter, never Set-* ----

/** Plans read with the same transports an action uses. */
const readCtx = (ctx: PlanContext) => ctx as unknown as ActionContext;
const mailboxObject = (m: { PrimarySmtpAddress: string }) => `mailbox ${m.PrimarySmtpAddress}`;

async function planMailboxQuota(input: InputOf<typeof c.mailboxSetQuota>, ctx: PlanContext): Promise<Change[]> {
  const m = await getMailbox(readCtx(ctx), input.mailbox);
  const out: Change[] = [];
  for (const [field, param] of [['issueWarningQuota', 'IssueWarningQuota'], ['prohibitSendQuota', 'ProhibitSendQuota'], ['prohibitSendReceiveQuota', 'ProhibitSendReceiveQuota']] as const) {
    const v = input[field];
    if (v === undefined || sizeBytes(v) === sizeBytes(m[param])) continue;
    out.push(change(mailboxObject(m), field, m[param] ?? null, v.replace(/\s+/g, '')));
  }
  return out;
}

async function planLitigationHold(input: InputOf<typeof c.mailboxSetLitigationHold>, ctx: PlanContext): Promise<Change[]> {
  const m = await getMailbox(readCtx(ctx), input.mailbox);
  const out: Change[] = [];
  if ((m.LitigationHoldEnabled ?? false) !== input.enabled) out.push(change(mailboxObject(m), 'litigationHold', m.LitigationHoldEnabled ?? false, input.enabled));
  if (input.enabled) {
    const duration = input.durationDays ? `${input.durationDays}.00:00:00` : 'Unlimited';
    if ((m.LitigationHoldDuration ?? 'Unlimited').toLowerCase() !== duration.toLowerCase()) out.push(change(mailboxObject(m), 'litigationHoldDuration', m.LitigationHoldDuration ?? 'Unlimited', duration));
  }
  return out;
}

async function planArchiveName(input: InputOf<typeof c.mailboxSetArchiveName>, ctx: PlanContext): Promise<Change[]> {
  const m = await getMailbox(readCtx(ctx), input.mailbox);
  const previous = m.ArchiveName?.[0] ?? null;
  return previous === input.archiveName ? [] : [change(mailboxObject(m), 'archiveName', previous, input.archiveName)];
}

async function planHideFromAddressList(input: InputOf<typeof c.mailboxHideFromAddressList>, ctx: PlanContext): Promise<Change[]> {
  const m = await getMailbox(readCtx(ctx), input.mailbox);
  const hidden = m.HiddenFromAddressListsEnabled ?? false;
  return hidden === input.hidden ? [] : [change(mailboxObject(m), 'hiddenFromAddressLists', hidden, input.hidden)];
}

async function planClutter(input: InputOf<typeof c.mailboxSetClutter>, ctx: PlanContext): Promise<Change[]> {
  const m = await getMailbox(readCtx(ctx), input.mailbox);
  const current = (await ctx.exchange.invoke<{ IsEnabled: boolean }>('Get-Clutter', { Identity: m.PrimarySmtpAddress }, ctx.signal))[0];
  const enabled = current?.IsEnabled ?? false;
  return enabled === input.enabled ? [] : [change(mailboxObject(m), 'clutter', enabled, input.enabled)];
}
