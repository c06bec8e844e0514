// Exchange Online mailboxes: type (shared, room, equipment), forwarding, automatic replies, delegates
// and permissions, quotas, client access, holds and archive, addresses, calendar and contacts folder
// sharing, booking, inbox rules, policies, auditing, regional settings, and creating / removing shared
// and resource mailboxes. Most go through the Exchange Online admin API (the cmdlets named in each
// description); automatic replies and inbox rules through Microsoft Graph.
import { z } from 'zod';
import { related, step, undoWith } from '../reversal.ts';
import { defineAction, type Change, type Reversal } from '../contract.ts';
import { mailboxRef, sharedMailboxRef } from '../fields.ts';

const EXO = ['Exchange.ManageAsApp'];

const mailboxRefs = z.array(mailboxRef).min(1).describe('The mailboxes: primary SMTP addresses, user principal names, aliases or object ids');

/** Who gets a permission: anyone Exchange can resolve as a user (mailbox or mail user). */
const trusteeRef = z.string().min(1).describe('A user: user principal name or object id').meta({ 'x-picker': 'user' });
const trustees = z.array(trusteeRef).min(1).describe('The users: user principal names or object ids');

/** A mailbox a Graph call names (automatic replies, inbox rules). */
const graphMailbox = z.string().min(1).describe('The mailbox: user principal name or object id').meta({ 'x-picker': 'mailbox' });

const identity = z.string().describe('The mailbox\'s primary SMTP address');
const changed = z.boolean().describe('false when the mailbox already was in that state (a repeat changes nothing)');
const mailboxType = z.enum(['UserMailbox', 'SharedMailbox', 'RoomMailbox', 'EquipmentMailbox']);
const perUser = z.array(z.object({ user: z.string(), changed: z.boolean() })).describe('One entry per user; changed is false when there was nothing to do');

const simple = { identity, changed };

export const mailboxSummary = z.object({
  identity,
  id: z.string().describe('Object id of the mailbox\'s user account'),
  displayName: z.string(),
  userPrincipalName: z.string(),
  type: mailboxType.describe('What kind of mailbox it is'),
});

// ---- reads ----

export const mailboxList = defineAction({
  id: 'mailbox.list',
  readOnly: true,
  title: 'List mailboxes',
  category: 'mailbox',
  description: 'Lists mailboxes, optionally only shared, room, equipment or user mailboxes (Get-Mailbox). Feeds pickers and for-each loops.',
  input: z.strictObject({
    types: z.array(mailboxType).default([]).describe('Only these kinds of mailbox; empty = all'),
    max: z.number().int().min(1).max(10_000).default(1000).describe('At most this many'),
  }),
  output: z.object({ mailboxes: z.array(mailboxSummary), truncated: z.boolean().describe('true when there were more than "max"') }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
});

export const mailboxGet = defineAction({
  id: 'mailbox.get',
  readOnly: true,
  title: 'Get mailbox settings',
  category: 'mailbox',
  description:
    'Reads a mailbox\'s settings that runbooks branch on: type, forwarding, hidden from address lists, litigation hold, archive, ' +
    'quotas, retention and address book policies, auditing, client access protocols (Get-Mailbox, Get-CASMailbox). Changes nothing.',
  input: z.strictObject({ mailbox: mailboxRef }),
  output: mailboxSummary.extend({
    primarySmtpAddress: z.string(),
    emailAddresses: z.array(z.string()).describe('All proxy addresses; SMTP: marks the primary'),
    forwardingSmtpAddress: z.string().nullable(),
    forwardingAddress: z.string().nullable(),
    deliverToMailboxAndForward: z.boolean(),
    hiddenFromAddressLists: z.boolean(),
    litigationHoldEnabled: z.boolean(),
    litigationHoldDuration: z.string().nullable(),
    archiveEnabled: z.boolean(),
    archiveName: z.string().nullable(),
    retentionPolicy: z.string().nullable(),
    addressBookPolicy: z.string().nullable(),
    auditEnabled: z.boolean(),
    issueWarningQuota: z.string(),
    prohibitSendQuota: z.string(),
    prohibitSendReceiveQuota: z.string(),
    services: z.object({ owa: z.boolean(), activeSync: z.boolean(), pop: z.boolean(), imap: z.boolean(), mapi: z.boolean(), ews: z.boolean() }).describe('Client access protocols'),
  }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
});

export const mailboxListDelegates = defineAction({
  id: 'mailbox.listDelegates',
  readOnly: true,
  title: 'List mailbox delegates',
  category: 'mailbox',
  description: 'Lists who has access to a mailbox: mailbox permissions (Full Access, ...), Send As and Send on Behalf (Get-MailboxPermission, Get-RecipientPermission, Get-Mailbox). Changes nothing.',
  input: z.strictObject({ mailbox: mailboxRef }),
  output: z.object({
    identity,
    delegates: z.array(z.object({ user: z.string().describe('User principal name'), rights: z.array(z.string()).describe('FullAccess, SendAs, SendOnBehalf, ReadPermission, ...') })),
  }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
});

// ---- type ----

// ---- reverses from recorded changes (docs/plan.md) ----

const BACK_TO_TYPE: Record<string, 'Regular' | 'Shared' | 'Room' | 'Equipment'> = { UserMailbox: 'Regular', SharedMailbox: 'Shared', RoomMailbox: 'Room', EquipmentMailbox: 'Equipment' };

/** A type change goes back to the recorded type with "Edit mailbox type". */
const reverseType = ({ input, changes }: { input: { mailbox: string }; changes: readonly Change[] }): Reversal => {
  const c = changes.find((x) => x.property === 'type');
  if (!c) return undoWith();
  const back = BACK_TO_TYPE[String(c.before)];
  return back ? undoWith(step('mailbox.setMailboxType', { mailbox: input.mailbox, type: back }, `${input.mailbox} back to ${String(c.before)}`)) : { irreversible: `the mailbox was a ${String(c.before)}, which "Edit mailbox type" cannot set` };
};

/** Forwarding goes back to the recorded target (an address or a recipient, with or without a copy), or off. */
const reverseForwarding = ({ input, changes }: { input: { mailbox: string }; changes: readonly Change[] }): Reversal => {
  const c = changes.find((x) => x.property === 'forwarding');
  if (!c) return undoWith();
  const b = c.before as { toAddress?: string; toRecipient?: string; keepCopy?: boolean } | null;
  if (!b || (!b.toAddress && !b.toRecipient)) return undoWith(step('mailbox.disableForwarding', { mailbox: input.mailbox }, `stop forwarding ${input.mailbox}`));
  const to = b.toAddress ? { toAddress: b.toAddress } : { toRecipient: b.toRecipient };
  return undoWith(step('mailbox.setForwarding', { mailbox: input.mailbox, ...to, keepCopy: b.keepCopy ?? false }, `forward ${input.mailbox} to ${b.toAddress ?? b.toRecipient} again`));
};

/** Automatic replies go back to the recorded messages and schedule, or off. */
const reverseAutoReply = ({ input, changes }: { input: { mailbox: string }; changes: readonly Change[] }): Reversal => {
  const c = changes.find((x) => x.property === 'autoReply');
  if (!c) return undoWith();
  const b = c.before as { status: string; externalAudience?: string; internalMessage?: string; externalMessage?: string; start?: string; end?: string } | null;
  if (!b || b.status === 'disabled') {
    const after = c.after as { externalAudience?: string } | null;
    const notes = [
      b && (b.internalMessage || b.externalMessage) ? 'the messages it kept while turned off are not put back ("Disable out of office" clears them)' : '',
      b?.externalAudience && after?.externalAudience && b.externalAudience !== after.externalAudience ? `the external audience stays ${after.externalAudience} (it was ${b.externalAudience}; it matters only while replies are on)` : '',
    ].filter(Boolean);
    return { ...undoWith(step('mailbox.clearAutoReply', { mailbox: input.mailbox }, `out of office of ${input.mailbox} off again`)), ...(notes.length ? { note: notes.join('; ') } : {}) };
  }
  if (!b.internalMessage) return { irreversible: 'the automatic replies had no internal message, which "Set out of office" needs' };
  return undoWith(
    step(
      'mailbox.setAutoReply',
      { mailbox: input.mailbox, internalMessage: b.internalMessage, externalMessage: b.externalMessage ?? '', externalAudience: b.externalAudience ?? 'all', ...(b.start && b.end ? { start: b.start, end: b.end } : {}) },
      `out of office of ${input.mailbox} as it was`,
    ),
  );
};

const CONTACTS_LEVELS = ['Owner', 'PublishingEditor', 'Editor', 'PublishingAuthor', 'Author', 'NonEditingAuthor', 'Reviewer', 'Contributor'];
const CALENDAR_LEVELS = [...CONTACTS_LEVELS, 'AvailabilityOnly', 'LimitedDetails', 'None'];

/**
 * A folder permission goes back per user to its recorded level and flags (one step per level), or is
 * removed where the user had none. A level the action cannot set (several rights) is named in the note.
 */
const reverseFolder =
  (scope: 'calendar' | 'contacts') =>
  ({ input, changes }: { input: { mailbox: string }; changes: readonly Change[] }): Reversal => {
    const prefix = `${scope} permission `;
    const removeIds = scope === 'calendar' ? 'mailbox.removeCalendarPermission' : 'mailbox.removeContactsDelegate';
    const setId = scope === 'calendar' ? 'mailbox.setCalendarPermission' : 'mailbox.addContactsDelegate';
    const levels = scope === 'calendar' ? CALENDAR_LEVELS : CONTACTS_LEVELS;
    const remove: string[] = [];
    const back = new Map<string, { params: Record<string, unknown>; users: string[] }>();
    const skipped: string[] = [];
    for (const c of changes.filter((x) => x.property.startsWith(prefix))) {
      const user = c.property.slice(prefix.length);
      const b = c.before as { accessRights: string; flags: string[] } | null;
      if (!b) {
        remove.push(user);
        continue;
      }
      if (!levels.includes(b.accessRights)) {
        skipped.push(`${user} (${b.accessRights})`);
        continue;
      }
      const params = scope === 'calendar' ? { accessRights: b.accessRights, delegate: b.flags.includes('Delegate'), canViewPrivateItems: b.flags.includes('CanViewPrivateItems') } : { accessRights: b.accessRights };
      const key = JSON.stringify(params);
      back.set(key, { params, users: [...(back.get(key)?.users ?? []), user] });
    }
    const r = undoWith(
      ...[...back.values()].map((g) => step(setId, { mailbox: input.mailbox, users: g.users, ...g.params }, `${scope} of ${input.mailbox}: ${String(g.params['accessRights'])} again for ${g.users.join(', ')}`)),
      remove.length > 0 && step(removeIds, { mailbox: input.mailbox, users: remove }, `${scope} of ${input.mailbox}: remove ${remove.join(', ')}`),
    );
    return skipped.length ? { ...r, note: `not put back, the action cannot set these levels: ${skipped.join(', ')}` } : r;
  };

/** A right given (or taken) per user goes back with the opposite action, for the users it changed. */
const reverseRight =
  (opposite: string, grantedBefore: boolean) =>
  ({ input, changes }: { input: { mailbox: string }; changes: readonly Change[] }): Reversal => {
    const users = changes.filter((c) => c.before === grantedBefore && / /.test(c.property)).map((c) => c.property.slice(c.property.indexOf(' ') + 1));
    return undoWith(users.length > 0 && step(opposite, { mailbox: input.mailbox, users }, `${opposite.replace('mailbox.', '')} on ${input.mailbox} for ${users.join(', ')}`));
  };

/** The mailbox a recorded change is about: its object id, else the address in "mailbox x@y". */
const mailboxOf = (c: Change): string => (typeof c.objectId === 'string' ? c.objectId : c.object.replace(/^mailbox /, ''));

/**
 * Rights on several mailboxes ("FullAccess anna@contoso.com" per mailbox) go back per mailbox and
 * right: those granted are removed, those taken away are given again (Full Access with automapping).
 */
const reverseDelegations = ({ changes }: { changes: readonly Change[] }): Reversal => {
  const groups = new Map<string, { action: string; mailbox: string; label: string; right: string; users: string[] }>();
  for (const c of changes) {
    const space = c.property.indexOf(' ');
    const right = c.property.slice(0, space);
    if (space < 0 || !(MAILBOX_RIGHTS as readonly string[]).includes(right)) continue;
    const action = c.before === true ? 'mailbox.addDelegate' : 'mailbox.removeDelegate';
    const key = `${action}|${mailboxOf(c)}|${right}`;
    const g = groups.get(key) ?? { action, mailbox: mailboxOf(c), label: c.object, right, users: [] };
    g.users.push(c.property.slice(space + 1));
    groups.set(key, g);
  }
  return undoWith(
    ...[...groups.values()].map((g) =>
      step(g.action, { mailboxes: [g.mailbox], users: g.users, rights: [g.right] }, `${g.action === 'mailbox.addDelegate' ? 'give back' : 'take away'} ${g.right} on ${g.label} ${g.action === 'mailbox.addDelegate' ? 'to' : 'from'} ${g.users.join(', ')}`),
    ),
  );
};

/** Changed properties set back with the same action: `params` maps each recorded change to the parameters that restore it. */
const setBack =
  (action: string, params: (c: Change) => Record<string, unknown> | undefined, what: string) =>
  ({ input, changes }: { input: { mailbox: string }; changes: readonly Change[] }): Reversal => {
    const back: Record<string, unknown> = {};
    const cannot: string[] = [];
    for (const c of changes) {
      const p = params(c);
      if (p) Object.assign(back, ...Object.entries(p).map(([k, v]) => (k === 'customAttributes' ? { customAttributes: { ...(back['customAttributes'] as object), ...(v as object) } } : { [k]: v })));
      else cannot.push(c.property);
    }
    const r = undoWith(Object.keys(back).length > 0 && step(action, { mailbox: changes[0] ? mailboxOf(changes[0]) : input.mailbox, ...back }, `${what} of ${input.mailbox} back`));
    return cannot.length ? { ...r, note: `not put back (it had no value, which the action cannot set): ${cannot.join(', ')}` } : r;
  };

export const mailboxConvertToShared = defineAction({
  id: 'mailbox.convertToShared',
  title: 'Convert to shared mailbox',
  category: 'mailbox',
  description:
    'Converts a user mailbox to a shared mailbox (Set-Mailbox -Type Shared), keeping its mail. A shared mailbox up to 50 GB, without ' +
    'archive or litigation hold, needs no licence, so the licence can be removed afterwards.',
  input: z.strictObject({ mailbox: mailboxRef }),
  output: z.object({ ...simple, previousType: mailboxType }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.convertToRegular',
  reverse: reverseType,
});

export const mailboxConvertToRegular = defineAction({
  id: 'mailbox.convertToRegular',
  title: 'Convert to user mailbox',
  category: 'mailbox',
  description: 'Converts a shared mailbox back to a user mailbox (Set-Mailbox -Type Regular). It needs an Exchange licence within 30 days.',
  input: z.strictObject({ mailbox: sharedMailboxRef }),
  output: z.object({ ...simple, previousType: mailboxType }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.convertToShared',
  reverse: reverseType,
});

export const mailboxSetType = defineAction({
  id: 'mailbox.setMailboxType',
  title: 'Edit mailbox type',
  category: 'mailbox',
  description: 'Changes a mailbox to a user, shared, room or equipment mailbox (Set-Mailbox -Type). Room and equipment mailboxes start accepting bookings automatically.',
  input: z.strictObject({ mailbox: mailboxRef, type: z.enum(['Regular', 'Shared', 'Room', 'Equipment']).describe('The new type') }),
  output: z.object({ ...simple, previousType: mailboxType, type: mailboxType }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: reverseType,
});

// ---- forwarding and automatic replies ----

export const mailboxSetForwarding = defineAction({
  id: 'mailbox.setForwarding',
  title: 'Forward email',
  category: 'mailbox',
  description:
    'Forwards a mailbox\'s incoming mail, either to any SMTP address (ForwardingSmtpAddress) or to a recipient of the organisation from ' +
    'the address book (ForwardingAddress), optionally keeping a copy in the mailbox (DeliverToMailboxAndForward). Mail to outside ' +
    'addresses is only delivered when the tenant\'s outbound spam policy allows automatic forwarding.',
  input: z
    .strictObject({
      mailbox: mailboxRef,
      toAddress: z.email().optional().describe('Forward to this SMTP address (inside or outside the organisation)'),
      toRecipient: z.string().min(1).optional().describe('Forward to this recipient of the organisation (address book): address, alias or object id').meta({ 'x-picker': 'user' }),
      keepCopy: z.boolean().default(true).describe('Keep a copy in the mailbox ("save local copy")'),
    })
    .refine((v) => !!v.toAddress !== !!v.toRecipient, { message: 'give exactly one of "toAddress" or "toRecipient"', path: ['toAddress'] }),
  output: z.object({ ...simple, forwardingTo: z.string(), keepCopy: z.boolean() }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.disableForwarding',
  reverse: reverseForwarding,
});

export const mailboxDisableForwarding = defineAction({
  id: 'mailbox.disableForwarding',
  title: 'Disable email forwarding',
  category: 'mailbox',
  description: 'Stops forwarding: clears ForwardingAddress and ForwardingSmtpAddress and turns off DeliverToMailboxAndForward. Inbox rules that forward are separate (see "Remove inbox rules").',
  input: z.strictObject({ mailbox: mailboxRef }),
  output: z.object({ ...simple, previousForwardingTo: z.string().nullable() }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: reverseForwarding,
});

export const mailboxSetAutoReply = defineAction({
  id: 'mailbox.setAutoReply',
  title: 'Set out of office',
  category: 'mailbox',
  description:
    'Turns on automatic replies now, or scheduled between two times, with a message for people inside the organisation and one for ' +
    'people outside (the internal message when no external one is given), through Microsoft Graph mailboxSettings.',
  input: z
    .strictObject({
      mailbox: graphMailbox,
      internalMessage: z.string().min(1).max(64_000).describe('Reply to senders inside the organisation (text or HTML)'),
      externalMessage: z.string().max(64_000).optional().describe('Reply to senders outside; defaults to the internal message'),
      externalAudience: z.enum(['none', 'contactsOnly', 'all']).default('all').describe('Which outside senders get a reply'),
      start: z.iso.datetime({ offset: true }).optional().describe('Schedule: start (ISO 8601); without start and end the replies start now and never end'),
      end: z.iso.datetime({ offset: true }).optional().describe('Schedule: end (ISO 8601)'),
    })
    .refine((v) => !!v.start === !!v.end, { message: 'give both "start" and "end", or neither', path: ['end'] })
    .refine((v) => !v.start || !v.end || Date.parse(v.end) > Date.parse(v.start), { message: '"end" must be after "start"', path: ['end'] }),
  output: z.object({ mailbox: z.string(), changed, status: z.enum(['alwaysEnabled', 'scheduled']) }),
  permissions: ['MailboxSettings.ReadWrite'],
  bulk: true,
  undo: 'mailbox.clearAutoReply',
  reverse: reverseAutoReply,
});

export const mailboxClearAutoReply = defineAction({
  id: 'mailbox.clearAutoReply',
  title: 'Disable out of office',
  category: 'mailbox',
  description: 'Turns automatic replies off and clears their messages (Microsoft Graph mailboxSettings).',
  input: z.strictObject({ mailbox: graphMailbox }),
  output: z.object({ mailbox: z.string(), changed }),
  permissions: ['MailboxSettings.ReadWrite'],
  bulk: true,
  reverse: reverseAutoReply,
});

// ---- delegates and permissions ----

export const MAILBOX_RIGHTS = ['FullAccess', 'SendAs', 'SendOnBehalf', 'ExternalAccount', 'DeleteItem', 'ReadPermission', 'ChangePermission', 'ChangeOwner'] as const;
const right = z.enum(MAILBOX_RIGHTS);
const rightResults = z
  .array(z.object({ mailbox: z.string(), user: z.string(), right, changed: z.boolean() }))
  .describe('One entry per mailbox, user and right; changed is false when there was nothing to do');

/** An action that changes one thing for some users on one mailbox (grant or take away a right). */
const forUsers = (o: { id: string; title: string; description: string; undo: string; reverse?: (done: { input: { mailbox: string }; changes: readonly Change[] }) => Reversal }) =>
  defineAction({
    ...o,
    category: 'mailbox',
    input: z.strictObject({ mailbox: mailboxRef, users: trustees }),
    output: z.object({ identity, results: perUser }),
    permissions: ['User.Read.All'],
    otherPermissions: EXO,
    bulk: true,
  });

export const mailboxAddFullAccess = defineAction({
  id: 'mailbox.addFullAccess',
  title: 'Grant full access',
  category: 'mailbox',
  description:
    'Gives users Full Access to a mailbox (Add-MailboxPermission). With automapping, Outlook opens the mailbox for them by itself. ' +
    'Users who already have it count as done.',
  input: z.strictObject({ mailbox: mailboxRef, users: trustees, autoMapping: z.boolean().default(true).describe('Outlook adds the mailbox to the users\' profiles by itself') }),
  output: z.object({ identity, results: perUser }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.removeFullAccess',
  reverse: reverseRight('mailbox.removeFullAccess', false),
});

export const mailboxRemoveFullAccess = forUsers({
  id: 'mailbox.removeFullAccess',
  title: 'Remove full access',
  description: 'Takes Full Access to a mailbox away from users (Remove-MailboxPermission). Users without it count as done.',
  undo: 'mailbox.addFullAccess',
  reverse: reverseRight('mailbox.addFullAccess', true),
});

export const mailboxAddSendAs = forUsers({
  id: 'mailbox.addSendAs',
  title: 'Grant send as',
  description: 'Lets users send mail that looks as if the mailbox sent it (Add-RecipientPermission -AccessRights SendAs).',
  undo: 'mailbox.removeSendAs',
  reverse: reverseRight('mailbox.removeSendAs', false),
});

export const mailboxRemoveSendAs = forUsers({
  id: 'mailbox.removeSendAs',
  title: 'Remove send as',
  description: 'Takes Send As on a mailbox away from users (Remove-RecipientPermission).',
  undo: 'mailbox.addSendAs',
  reverse: reverseRight('mailbox.addSendAs', true),
});

export const mailboxAddSendOnBehalf = forUsers({
  id: 'mailbox.addSendOnBehalf',
  title: 'Grant send on behalf',
  description: 'Lets users send "on behalf of" the mailbox (Set-Mailbox -GrantSendOnBehalfTo @{Add=...}).',
  undo: 'mailbox.removeSendOnBehalf',
  reverse: reverseRight('mailbox.removeSendOnBehalf', false),
});

export const mailboxRemoveSendOnBehalf = forUsers({
  id: 'mailbox.removeSendOnBehalf',
  title: 'Remove send on behalf',
  description: 'Takes Send on Behalf of a mailbox away from users (Set-Mailbox -GrantSendOnBehalfTo @{Remove=...}).',
  undo: 'mailbox.addSendOnBehalf',
  reverse: reverseRight('mailbox.addSendOnBehalf', true),
});

export const mailboxAddDelegate = defineAction({
  id: 'mailbox.addDelegate',
  title: 'Add delegates to mailboxes',
  category: 'mailbox',
  description:
    'Gives users access to one or more mailboxes, with any of: Full Access (with or without automapping), Send As, Send on Behalf, ' +
    'External Account, Delete Item, Read Permissions, Change Permissions, Change Owner. Rights already held count as done.',
  input: z.strictObject({
    mailboxes: mailboxRefs,
    users: trustees,
    rights: z.array(right).min(1).default(['FullAccess']).describe('What the users may do'),
    autoMapping: z.boolean().default(true).describe('With Full Access: Outlook adds the mailboxes to the users\' profiles by itself'),
  }),
  output: z.object({ results: rightResults }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.removeDelegate',
  reverse: reverseDelegations,
});

export const mailboxRemoveDelegate = defineAction({
  id: 'mailbox.removeDelegate',
  title: 'Remove delegates from mailbox',
  category: 'mailbox',
  description: 'Removes access rights that users have to mailboxes: the rights named, or all of them (mailbox permissions, Send As, Send on Behalf).',
  input: z.strictObject({
    mailboxes: mailboxRefs,
    users: trustees.optional().describe('The users whose access is removed; leave out to remove every delegate'),
    rights: z.array(right).min(1).default([...MAILBOX_RIGHTS]).describe('Which rights to remove; default all'),
  }),
  output: z.object({ results: rightResults }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  reverse: reverseDelegations,
});

const scope = z.array(mailboxRef).optional().describe('Only these mailboxes; leave out to look through every mailbox of the tenant (slow in large tenants)');

export const mailboxRemoveUserAccess = defineAction({
  id: 'mailbox.removeUserAccess',
  title: 'Remove user access to mailboxes',
  category: 'mailbox',
  description: 'Removes every right a user has on other mailboxes: mailbox permissions, Send As and Send on Behalf. Useful when someone leaves or changes role.',
  input: z.strictObject({ user: trusteeRef, mailboxes: scope }),
  output: z.object({ results: rightResults, scanned: z.number().int().describe('How many mailboxes were looked at') }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  reverse: reverseDelegations,
});

export const mailboxGrantManagerFullAccess = defineAction({
  id: 'mailbox.grantManagerFullAccess',
  title: 'Grant full access to manager',
  category: 'mailbox',
  description: 'Gives the mailbox owner\'s manager (from Microsoft Entra ID) Full Access to the mailbox, for offboarding. Fails clearly when the user has no manager.',
  input: z.strictObject({ mailbox: graphMailbox, autoMapping: z.boolean().default(true).describe('Outlook adds the mailbox to the manager\'s profile by itself') }),
  output: z.object({ identity, manager: z.string().describe('The manager\'s user principal name'), changed }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  reverse: reverseDelegations,
});

export const mailboxCopyPermissions = defineAction({
  id: 'mailbox.copyPermissions',
  title: 'Copy mailbox permissions',
  category: 'mailbox',
  description:
    'Gives users the same access to other mailboxes that a source user has (Full Access and the other mailbox rights, Send As, ' +
    'Send on Behalf). "add" keeps what the targets already have; "replace" also removes their access that the source does not have. ' +
    'Folder permissions are not copied.',
  input: z.strictObject({
    from: trusteeRef.describe('The user whose access is copied'),
    to: trustees.describe('The users who get the same access'),
    mode: z.enum(['add', 'replace']).default('add').describe('add: keep the targets\' own access; replace: make it exactly the source\'s'),
    mailboxes: scope,
  }),
  output: z.object({ results: rightResults, scanned: z.number().int() }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  reverse: reverseDelegations,
});

// ---- limits, services, holds, archive ----

/** A quota as Get-Mailbox shows it ("49 GB (52,613,349,376 bytes)") as Set-Mailbox takes it, exactly: "52613349376B". */
function quotaValue(shown: unknown): string {
  if (typeof shown !== 'string' || !shown) return 'Unlimited';
  const bytes = /\(([\d,]+) bytes\)/.exec(shown);
  return bytes ? `${bytes[1]!.replace(/,/g, '')}B` : shown;
}

const quota = z
  .string()
  .regex(/^(unlimited|\d+(\.\d+)?\s*(B|KB|MB|GB|TB))$/i, 'a size such as 49GB or 500 MB, or Unlimited')
  .describe('A size such as 49GB, 500MB or Unlimited');

export const mailboxSetQuota = defineAction({
  id: 'mailbox.setQuota',
  title: 'Manage quota',
  category: 'mailbox',
  description:
    'Sets a mailbox\'s warning, prohibit-send and prohibit-send-and-receive quotas (Set-Mailbox). The warning and send quotas must not ' +
    'exceed the send-and-receive quota, nor any quota the mailbox\'s licence allows.',
  input: z
    .strictObject({ mailbox: mailboxRef, issueWarningQuota: quota.optional(), prohibitSendQuota: quota.optional(), prohibitSendReceiveQuota: quota.optional() })
    .refine((v) => v.issueWarningQuota || v.prohibitSendQuota || v.prohibitSendReceiveQuota, { message: 'give at least one quota', path: ['prohibitSendReceiveQuota'] }),
  output: z.object({ identity, changed: z.array(z.string()).describe('Quotas that changed') }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ input, changes }) =>
    undoWith(changes.length > 0 && step('mailbox.setQuota', { mailbox: input.mailbox, ...Object.fromEntries(changes.map((c) => [c.property, quotaValue(c.before)])) }, `quotas of ${input.mailbox} back`)),
});

export const mailboxSetCasServices = defineAction({
  id: 'mailbox.setCasServices',
  title: 'Manage mailbox services',
  category: 'mailbox',
  description: 'Turns client access protocols of a mailbox on or off: Outlook on the web, Exchange ActiveSync, POP, IMAP, MAPI and EWS (Set-CASMailbox). Give only what changes.',
  input: z
    .strictObject({
      mailbox: mailboxRef,
      owa: z.boolean().optional().describe('Outlook on the web'),
      activeSync: z.boolean().optional().describe('Exchange ActiveSync (phone mail apps)'),
      pop: z.boolean().optional().describe('POP3'),
      imap: z.boolean().optional().describe('IMAP4'),
      mapi: z.boolean().optional().describe('MAPI (Outlook for Windows)'),
      ews: z.boolean().optional().describe('Exchange Web Services'),
    })
    .refine((v) => ['owa', 'activeSync', 'pop', 'imap', 'mapi', 'ews'].some((k) => v[k as 'owa'] !== undefined), { message: 'give at least one service', path: ['owa'] }),
  output: z.object({ identity, changed: z.array(z.string()).describe('Services that changed') }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: setBack('mailbox.setCasServices', (c) => ({ [c.property]: c.before }), 'services'),
});

export const mailboxSetLitigationHold = defineAction({
  id: 'mailbox.setLitigationHold',
  title: 'Manage litigation hold',
  category: 'mailbox',
  description:
    'Places a mailbox on litigation hold (everything is kept, including deleted and changed items), for a number of days or without ' +
    'end, or lifts it. Needs Exchange Online Plan 2 (or an archiving add-on) and the Legal Hold role (in Exchange Administrator).',
  input: z.strictObject({
    mailbox: mailboxRef,
    enabled: z.boolean().default(true).describe('true places the hold, false lifts it'),
    durationDays: z.number().int().min(1).max(36_500).optional().describe('Keep items this many days after they were received; leave out for no end'),
  }),
  output: z.object({ ...simple, duration: z.string().nullable().describe('Unlimited or days, as Exchange shows it') }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ input, changes }) => {
    const hold = changes.find((c) => c.property === 'litigationHold');
    const duration = changes.find((c) => c.property === 'litigationHoldDuration');
    if (hold && hold.before === false) return undoWith(step('mailbox.setLitigationHold', { mailbox: input.mailbox, enabled: false }, `lift the hold on ${input.mailbox}`));
    if (hold || duration) {
      const days = /^(\d+)\./.exec(String(duration?.before ?? ''))?.[1];
      return undoWith(step('mailbox.setLitigationHold', { mailbox: input.mailbox, enabled: true, ...(days ? { durationDays: Number(days) } : {}) }, `hold on ${input.mailbox} as it was`));
    }
    return undoWith();
  },
});

export const mailboxEnableArchive = defineAction({
  id: 'mailbox.enableArchive',
  title: 'Enable online archive',
  category: 'mailbox',
  description: 'Creates the online archive of a mailbox (Enable-Mailbox -Archive), optionally with its name. A mailbox that has one counts as done.',
  input: z.strictObject({ mailbox: mailboxRef, archiveName: z.string().min(1).max(64).optional().describe('Name of the archive shown in Outlook') }),
  output: z.object(simple),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.disableArchive',
  reverse: ({ input, changes }) => {
    if (changes.some((c) => c.property === 'archive')) {
      const named = changes.find((c) => c.property === 'archiveName');
      const r = undoWith(step('mailbox.disableArchive', { mailbox: input.mailbox }, `disconnect the archive of ${input.mailbox} again`));
      return named ? { ...r, note: `the archive name stays ${String(named.after)} (Set-Mailbox cannot clear it)` } : r;
    }
    const name = changes.find((c) => c.property === 'archiveName');
    if (!name) return undoWith();
    return typeof name.before === 'string' ? undoWith(step('mailbox.setArchiveName', { mailbox: input.mailbox, archiveName: name.before }, `archive name back to ${name.before}`)) : { irreversible: 'the archive had no name before, and Set-Mailbox cannot clear it' };
  },
});

export const mailboxDisableArchive = defineAction({
  id: 'mailbox.disableArchive',
  title: 'Disable online archive',
  category: 'mailbox',
  description: 'Disconnects the online archive of a mailbox (Disable-Mailbox -Archive). Exchange keeps the archive\'s content for 30 days, during which enabling it again reconnects it.',
  input: z.strictObject({ mailbox: mailboxRef }),
  output: z.object(simple),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.enableArchive',
  reverse: ({ input, changes }) =>
    changes.some((c) => c.property === 'archive')
      ? { ...undoWith(step('mailbox.enableArchive', { mailbox: input.mailbox }, `reconnect the archive of ${input.mailbox}`)), note: 'Exchange reconnects the old archive with its content only within 30 days of disabling it' }
      : undoWith(),
});

export const mailboxSetArchiveName = defineAction({
  id: 'mailbox.setArchiveName',
  title: 'Set archive name',
  category: 'mailbox',
  description: 'Renames the online archive of a mailbox as Outlook shows it (Set-Mailbox -ArchiveName).',
  input: z.strictObject({ mailbox: mailboxRef, archiveName: z.string().min(1).max(64).describe('New name of the archive') }),
  output: z.object({ ...simple, previousName: z.string().nullable() }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ input, changes }) => {
    const c = changes.find((x) => x.property === 'archiveName');
    if (!c) return undoWith();
    return typeof c.before === 'string' ? undoWith(step('mailbox.setArchiveName', { mailbox: input.mailbox, archiveName: c.before }, `archive name back to ${c.before}`)) : { irreversible: 'the archive had no name before, and Set-Mailbox cannot clear it' };
  },
});

export const mailboxHideFromAddressList = defineAction({
  id: 'mailbox.hideFromAddressList',
  title: 'Hide from address lists',
  category: 'mailbox',
  description: 'Hides a mailbox from the global address list and other address lists, or shows it again (Set-Mailbox -HiddenFromAddressListsEnabled).',
  input: z.strictObject({ mailbox: mailboxRef, hidden: z.boolean().default(true).describe('true hides the mailbox, false shows it again') }),
  output: z.object(simple),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ input, changes }) => undoWith(...changes.map((c) => step('mailbox.hideFromAddressList', { mailbox: input.mailbox, hidden: c.before === true }, c.before ? `hide ${input.mailbox} again` : `show ${input.mailbox} again`))),
});

export const mailboxSetClutter = defineAction({
  id: 'mailbox.setClutter',
  title: 'Manage Clutter',
  category: 'mailbox',
  description: 'Turns Clutter (Outlook\'s older sorting of low-priority mail into a Clutter folder) on or off for a mailbox (Set-Clutter).',
  input: z.strictObject({ mailbox: mailboxRef, enabled: z.boolean().describe('true turns Clutter on, false off') }),
  output: z.object(simple),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ input, changes }) => undoWith(...changes.map((c) => step('mailbox.setClutter', { mailbox: input.mailbox, enabled: c.before === true }, `Clutter back ${c.before ? 'on' : 'off'}`))),
});

// ---- addresses and properties ----

export const mailboxAddEmailAddress = defineAction({
  id: 'mailbox.addEmailAddress',
  title: 'Add email addresses',
  category: 'mailbox',
  description:
    'Adds addresses (aliases) to a mailbox, in accepted domains of the tenant; "makePrimary" makes the first one the address mail is ' +
    'sent from. Addresses the mailbox already has count as done.',
  input: z.strictObject({
    mailbox: mailboxRef,
    addresses: z.array(z.email()).min(1).describe('Addresses to add'),
    makePrimary: z.boolean().default(false).describe('Make the first address the primary (reply) address'),
  }),
  output: z.object({ identity: z.string().describe('The primary SMTP address after the change'), added: z.array(z.string()), primaryChanged: z.boolean() }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.removeEmailAddress',
  reverse: ({ changes }) => {
    if (!changes.length) return undoWith();
    const mailbox = mailboxOf(changes[0]!);
    const primary = changes.find((c) => c.property === 'primarySmtpAddress');
    const added = related(changes, 'address ').filter((x) => x.change.before === false).map((x) => x.name);
    return undoWith(
      typeof primary?.before === 'string' && step('mailbox.addEmailAddress', { mailbox, addresses: [primary.before], makePrimary: true }, `${primary.before} primary again`),
      added.length > 0 && step('mailbox.removeEmailAddress', { mailbox, addresses: added }, `remove ${added.join(', ')}`),
    );
  },
});

export const mailboxRemoveEmailAddress = defineAction({
  id: 'mailbox.removeEmailAddress',
  title: 'Remove email addresses',
  category: 'mailbox',
  description: 'Removes secondary addresses from a mailbox. The primary address cannot be removed (make another one primary first). Addresses it does not have count as done.',
  input: z.strictObject({ mailbox: mailboxRef, addresses: z.array(z.email()).min(1).describe('Addresses to remove') }),
  output: z.object({ identity, removed: z.array(z.string()) }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.addEmailAddress',
  reverse: ({ changes }) => {
    const removed = related(changes, 'address ').filter((x) => x.change.before === true).map((x) => x.name);
    return undoWith(removed.length > 0 && step('mailbox.addEmailAddress', { mailbox: mailboxOf(changes[0]!), addresses: removed }, `add ${removed.join(', ')} again`));
  },
});

export const mailboxUpdate = defineAction({
  id: 'mailbox.update',
  title: 'Edit mailbox',
  category: 'mailbox',
  description:
    'Changes Exchange properties of a user, shared, room or equipment mailbox: display name, MailTip, custom attributes 1-15 and, for ' +
    'rooms and equipment, the capacity. Give only what changes; an empty string clears a value. Job and contact details are the ' +
    'user\'s (see "Edit user properties").',
  input: z.strictObject({
    mailbox: mailboxRef,
    displayName: z.string().min(1).max(256).optional().describe('Name shown in the address book'),
    mailTip: z.string().max(175).optional().describe('MailTip shown to senders in Outlook; empty clears it'),
    customAttributes: z
      .record(z.string().regex(/^([1-9]|1[0-5])$/, 'a number from 1 to 15'), z.string().max(1024))
      .optional()
      .describe('Custom attributes by number (1-15), e.g. {"1": "Pilot"}; an empty value clears one'),
    resourceCapacity: z.number().int().min(0).max(100_000).optional().describe('Rooms and equipment: how many people it holds'),
  }),
  output: z.object({ identity, changed: z.array(z.string()) }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: setBack(
    'mailbox.update',
    (c) => {
      if (c.property === 'mailTip') return { mailTip: c.before ?? '' };
      const n = /^customAttribute(\d+)$/.exec(c.property)?.[1];
      if (n) return { customAttributes: { [n]: c.before ?? '' } };
      return c.before === null ? undefined : { [c.property]: c.before };
    },
    'properties',
  ),
});

export const mailboxSetRegionalSettings = defineAction({
  id: 'mailbox.setRegionalSettings',
  title: 'Set regional settings',
  category: 'mailbox',
  description:
    'Sets a mailbox\'s language, time zone and date and time formats (Set-MailboxRegionalConfiguration). Changing the language without ' +
    'formats resets them to the language\'s defaults.',
  input: z
    .strictObject({
      mailbox: mailboxRef,
      language: z.string().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'a language tag such as de-DE').optional().describe('Language, e.g. de-DE'),
      timeZone: z.string().min(1).optional().describe('Windows time zone id, e.g. W. Europe Standard Time'),
      dateFormat: z.string().min(1).optional().describe('Short date format valid for the language, e.g. dd.MM.yyyy'),
      timeFormat: z.string().min(1).optional().describe('Time format valid for the language, e.g. HH:mm'),
    })
    .refine((v) => v.language || v.timeZone || v.dateFormat || v.timeFormat, { message: 'give at least one setting', path: ['language'] }),
  output: z.object({ identity, changed: z.array(z.string()) }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: setBack('mailbox.setRegionalSettings', (c) => (typeof c.before === 'string' ? { [c.property]: c.before } : undefined), 'regional settings'),
});

// ---- folder sharing and booking ----

const calendarRole = z
  .enum(['Owner', 'PublishingEditor', 'Editor', 'PublishingAuthor', 'Author', 'NonEditingAuthor', 'Reviewer', 'Contributor', 'AvailabilityOnly', 'LimitedDetails', 'None'])
  .describe('Permission level: Reviewer reads, Editor changes, AvailabilityOnly / LimitedDetails show free-busy');

export const mailboxSetCalendarPermission = defineAction({
  id: 'mailbox.setCalendarPermission',
  title: 'Manage calendar permissions',
  category: 'mailbox',
  description:
    'Gives users a permission level on a mailbox\'s calendar (Add- or Set-MailboxFolderPermission), optionally as calendar delegate ' +
    '(Editor only: receives meeting requests, optionally sees private items). Users who already have that level count as done.',
  input: z
    .strictObject({
      mailbox: mailboxRef,
      users: trustees,
      accessRights: calendarRole,
      delegate: z.boolean().default(false).describe('Editor only: make the users calendar delegates'),
      canViewPrivateItems: z.boolean().default(false).describe('Delegates only: they also see private items'),
    })
    .refine((v) => !v.delegate || v.accessRights === 'Editor', { message: 'calendar delegates need the Editor level', path: ['delegate'] })
    .refine((v) => !v.canViewPrivateItems || v.delegate, { message: '"canViewPrivateItems" needs "delegate"', path: ['canViewPrivateItems'] }),
  output: z.object({ identity, results: perUser }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.removeCalendarPermission',
  reverse: reverseFolder('calendar'),
});

export const mailboxRemoveCalendarPermission = forUsers({
  id: 'mailbox.removeCalendarPermission',
  title: 'Remove calendar permissions',
  description: 'Removes users\' permissions on a mailbox\'s calendar (Remove-MailboxFolderPermission). Users without one count as done.',
  undo: 'mailbox.setCalendarPermission',
  reverse: reverseFolder('calendar'),
});

/** Per mailbox, the calendar permissions recorded as they were before (Remove user calendar access). */
const reverseCalendarAccess = ({ changes }: { changes: readonly Change[] }): Reversal => {
  const byMailbox = new Map<string, Change[]>();
  for (const c of changes) byMailbox.set(mailboxOf(c), [...(byMailbox.get(mailboxOf(c)) ?? []), c]);
  const parts = [...byMailbox].map(([mailbox, cs]) => reverseFolder('calendar')({ input: { mailbox }, changes: cs }));
  const notes = parts.map((p) => ('note' in p ? p.note : undefined)).filter((n): n is string => !!n);
  return { steps: parts.flatMap((p) => ('steps' in p ? p.steps : [])), ...(notes.length ? { note: notes.join('; ') } : {}) };
};

export const mailboxRemoveCalendarAccess = defineAction({
  id: 'mailbox.removeCalendarAccess',
  title: 'Remove user access to calendars',
  category: 'mailbox',
  description:
    'Removes every permission a user has on other mailboxes\' calendars (Get-MailboxFolderPermission, then Remove-MailboxFolderPermission ' +
    'per calendar), delegate access included. The mailbox rights themselves are "Remove user access to mailboxes". Calendars where the ' +
    'user has no entry count as done; the undo gives each calendar its recorded level back.',
  input: z.strictObject({ user: trusteeRef, mailboxes: scope }),
  output: z.object({
    results: z
      .array(z.object({ mailbox: z.string(), user: z.string(), accessRights: z.string().describe('The level the user had on that calendar'), changed: z.boolean() }))
      .describe('One entry per calendar where the user had a permission'),
    scanned: z.number().int().describe('How many mailboxes were looked at'),
  }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  reverse: reverseCalendarAccess,
});

export const mailboxAddContactsDelegate = defineAction({
  id: 'mailbox.addContactsDelegate',
  title: 'Assign contacts folder delegate',
  category: 'mailbox',
  description: 'Gives users access to a mailbox\'s Contacts folder (Editor by default) through Add- or Set-MailboxFolderPermission.',
  input: z.strictObject({
    mailbox: mailboxRef,
    users: trustees,
    accessRights: z.enum(['Owner', 'PublishingEditor', 'Editor', 'PublishingAuthor', 'Author', 'NonEditingAuthor', 'Reviewer', 'Contributor']).default('Editor').describe('Permission level on the Contacts folder'),
  }),
  output: z.object({ identity, results: perUser }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailbox.removeContactsDelegate',
  reverse: reverseFolder('contacts'),
});

export const mailboxRemoveContactsDelegate = forUsers({
  id: 'mailbox.removeContactsDelegate',
  title: 'Remove contacts folder delegate',
  description: 'Removes users\' access to a mailbox\'s Contacts folder (Remove-MailboxFolderPermission).',
  undo: 'mailbox.addContactsDelegate',
  reverse: reverseFolder('contacts'),
});

export const bookingShape = {
  automateProcessing: z.enum(['AutoAccept', 'AutoUpdate', 'None']).optional().describe('AutoAccept books by itself; AutoUpdate leaves requests to delegates; None turns processing off'),
  allowConflicts: z.boolean().optional().describe('Accept meetings that overlap existing bookings'),
  bookingWindowInDays: z.number().int().min(0).max(1080).optional().describe('How many days ahead it can be booked'),
  maximumDurationInMinutes: z.number().int().min(0).optional().describe('Longest meeting accepted'),
  allowRecurringMeetings: z.boolean().optional().describe('Accept recurring meetings'),
  scheduleOnlyDuringWorkHours: z.boolean().optional().describe('Only during the working hours of the mailbox'),
  allBookInPolicy: z.boolean().optional().describe('Everyone may book within policy without approval'),
  bookInPolicy: z.array(trusteeRef).optional().describe('Only these users may book without approval (set allBookInPolicy false)'),
  resourceDelegates: z.array(trusteeRef).optional().describe('Users who approve requests'),
  addOrganizerToSubject: z.boolean().optional().describe('Show the organiser as the meeting subject'),
  deleteSubject: z.boolean().optional().describe('Remove the subject of accepted meetings'),
  deleteComments: z.boolean().optional().describe('Remove the text of accepted meeting requests'),
  processExternalMeetingMessages: z.boolean().optional().describe('Process requests from outside the organisation'),
  additionalResponse: z.string().max(4000).optional().describe('Text added to the booking answers; empty turns it off'),
};

export const mailboxSetCalendarProcessing = defineAction({
  id: 'mailbox.setCalendarProcessing',
  title: 'Edit room or equipment booking',
  category: 'mailbox',
  description: 'Sets how a room or equipment mailbox answers meeting requests: automatic booking, conflicts, booking window, duration, who may book, delegates (Set-CalendarProcessing). Give only what changes.',
  input: z.strictObject({ mailbox: mailboxRef, ...bookingShape }),
  output: z.object({ identity, changed: z.array(z.string()) }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  reverse: setBack('mailbox.setCalendarProcessing', (c) => ({ [c.property]: c.before ?? (c.property === 'additionalResponse' ? '' : null) }), 'booking settings'),
});

// ---- inbox rules ----

const ruleSummary = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  forwardsTo: z.array(z.string()).describe('Addresses the rule forwards or redirects to'),
  deletes: z.boolean(),
});

export const mailboxListInboxRules = defineAction({
  id: 'mailbox.listInboxRules',
  readOnly: true,
  title: 'List inbox rules',
  category: 'mailbox',
  description: 'Lists the inbox rules of a mailbox, marking those that forward, redirect or delete mail (Microsoft Graph messageRules). Changes nothing.',
  input: z.strictObject({ mailbox: graphMailbox }),
  output: z.object({ mailbox: z.string(), rules: z.array(ruleSummary), forwarding: z.boolean().describe('true when a rule forwards or redirects mail') }),
  permissions: ['MailboxSettings.Read'],
  bulk: true,
});

export const mailboxRemoveInboxRules = defineAction({
  id: 'mailbox.removeInboxRules',
  title: 'Remove inbox rules',
  category: 'mailbox',
  description: 'Deletes inbox rules of a mailbox: all of them, those with the given names, or only those that forward, redirect or delete mail (Microsoft Graph messageRules).',
  input: z.strictObject({
    mailbox: graphMailbox,
    names: z.array(z.string().min(1)).optional().describe('Only rules with these names'),
    onlySuspicious: z.boolean().default(false).describe('Only rules that forward, redirect or delete mail'),
  }),
  output: z.object({ mailbox: z.string(), removed: z.array(ruleSummary) }),
  permissions: ['MailboxSettings.ReadWrite'],
  bulk: true,
  irreversible: 'deleted inbox rules are gone; the plan and the record list what each one did, to recreate it in Outlook',
});

export const mailboxCancelMeetings = defineAction({
  id: 'mailbox.cancelMeetings',
  title: 'Cancel meetings the user organises',
  category: 'mailbox',
  description:
    'Cancels the meetings a mailbox organises that start within the next `days` days (from `startDate`, today by default): the ' +
    'attendees get the cancellation and the meetings leave their calendars (Remove-CalendarEvents -CancelOrganizedMeetings). ' +
    'Appointments without attendees stay. The mailbox must still be able to send mail, so run it before the account loses its licence. ' +
    'A repeat finds nothing left to cancel; a retry after a lost answer reads the calendar (Graph) and does not ask Exchange again ' +
    'when none of the meetings is left.',
  input: z.strictObject({
    mailbox: mailboxRef,
    days: z.number().int().min(1).max(1825).default(365).describe('How many days ahead to cancel meetings (1 to 1825)'),
    startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date: YYYY-MM-DD').optional().describe('First day (YYYY-MM-DD); today when empty'),
  }),
  output: z.object({ identity, from: z.string().describe('First day searched'), days: z.number() }),
  // Its plan lists the meetings from the mailbox's calendar (Graph).
  permissions: ['Calendars.Read'],
  otherPermissions: EXO,
  bulk: true,
  irreversible: 'a cancelled meeting is gone from every calendar and its attendees were told; the plan and the record list each one',
});

// ---- policies and auditing ----

export const mailboxSetRetentionPolicy = defineAction({
  id: 'mailbox.setRetentionPolicy',
  title: 'Set retention policy',
  category: 'mailbox',
  description: 'Assigns a retention (MRM) policy to a mailbox, or removes it (Set-Mailbox -RetentionPolicy). The policy must exist (Get-RetentionPolicy).',
  input: z.strictObject({ mailbox: mailboxRef, policy: z.string().min(1).nullable().describe('Name of the retention policy; null removes the assignment') }),
  output: z.object({ ...simple, previousPolicy: z.string().nullable() }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: setBack('mailbox.setRetentionPolicy', (c) => ({ policy: c.before ?? null }), 'retention policy'),
});

export const mailboxSetAddressBookPolicy = defineAction({
  id: 'mailbox.setAddressBookPolicy',
  title: 'Set address book policy',
  category: 'mailbox',
  description: 'Assigns an address book policy (which address lists the mailbox sees) to a mailbox, or removes it (Set-Mailbox -AddressBookPolicy).',
  input: z.strictObject({ mailbox: mailboxRef, policy: z.string().min(1).nullable().describe('Name of the address book policy; null removes the assignment') }),
  output: z.object({ ...simple, previousPolicy: z.string().nullable() }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: setBack('mailbox.setAddressBookPolicy', (c) => ({ policy: c.before ?? null }), 'address book policy'),
});

export const mailboxEnableAuditing = defineAction({
  id: 'mailbox.enableAuditing',
  title: 'Enable mailbox audit',
  category: 'mailbox',
  description:
    'Turns mailbox audit logging on or off for a mailbox, and sets how long its entries are kept (Set-Mailbox -AuditEnabled, ' +
    '-AuditLogAgeLimit). Needs the Audit Logs role (in Exchange Administrator).',
  input: z.strictObject({
    mailbox: mailboxRef,
    enabled: z.boolean().default(true).describe('true turns auditing on, false off'),
    ageLimitDays: z.number().int().min(1).max(24_855).optional().describe('Keep audit entries this many days (Exchange\'s default is 90)'),
  }),
  output: z.object({ identity, changed: z.array(z.string()) }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ input, changes }) => {
    const enabled = changes.find((c) => c.property === 'auditEnabled');
    const age = changes.find((c) => c.property === 'auditAgeLimitDays');
    if (!enabled && !age) return undoWith();
    const params = { mailbox: input.mailbox, enabled: enabled ? enabled.before === true : input.enabled, ...(typeof age?.before === 'number' ? { ageLimitDays: age.before } : {}) };
    return undoWith(step('mailbox.enableAuditing', params, `audit settings of ${input.mailbox} back`));
  },
});

// ---- create, remove, provisioning ----

const alias = z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only').max(64).describe('Mail alias (the part before @)');

const created = z.boolean().describe('false when an earlier attempt of this step had already created it');

export const mailboxCreateShared = defineAction({
  id: 'mailbox.createShared',
  title: 'Create shared mailbox',
  category: 'mailbox',
  description:
    'Creates a shared mailbox (New-Mailbox -Shared) with its delegates (Full Access and Send As), extra addresses and retention and ' +
    'address book policies. It needs no licence up to 50 GB. A mailbox with that address counts as done when an earlier attempt of ' +
    'this step created it.',
  input: z.strictObject({
    name: z.string().min(1).max(64).describe('Unique name of the mailbox'),
    displayName: z.string().max(256).optional().describe('Name shown in the address book; defaults to the name'),
    alias,
    primarySmtpAddress: z.email().optional().describe('Email address; defaults to alias@default domain'),
    fullAccess: z.array(trusteeRef).default([]).describe('Users who get Full Access (with automapping)'),
    sendAs: z.array(trusteeRef).default([]).describe('Users who may send as the mailbox'),
    emailAddresses: z.array(z.email()).default([]).describe('More addresses'),
    retentionPolicy: z.string().min(1).optional().describe('Retention policy to assign'),
    addressBookPolicy: z.string().min(1).optional().describe('Address book policy to assign'),
  }),
  output: z.object({ identity, id: z.string(), userPrincipalName: z.string(), created }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: false,
  undo: 'mailbox.delete',
  reverse: ({ output }) => undoWith(step('mailbox.delete', { mailbox: output.id }, `remove ${output.identity}, created by the run`)),
});

export const mailboxCreateResource = defineAction({
  id: 'mailbox.createResource',
  title: 'Create resource mailbox',
  category: 'mailbox',
  description:
    'Creates a room or equipment mailbox (New-Mailbox -Room / -Equipment) with its capacity, booking settings, policies and address ' +
    'list visibility. A mailbox with that address counts as done when an earlier attempt of this step created it.',
  input: z.strictObject({
    kind: z.enum(['Room', 'Equipment']).describe('Room or equipment'),
    name: z.string().min(1).max(64).describe('Unique name of the mailbox'),
    displayName: z.string().max(256).optional().describe('Name shown in the address book; defaults to the name'),
    alias,
    primarySmtpAddress: z.email().optional().describe('Email address; defaults to alias@default domain'),
    capacity: z.number().int().min(0).max(100_000).optional().describe('How many people it holds'),
    hiddenFromAddressLists: z.boolean().default(false).describe('Hide it from the address book'),
    retentionPolicy: z.string().min(1).optional().describe('Retention policy to assign'),
    addressBookPolicy: z.string().min(1).optional().describe('Address book policy to assign'),
    booking: z.strictObject(bookingShape).optional().describe('Booking settings (see "Edit room or equipment booking")'),
  }),
  output: z.object({ identity, id: z.string(), userPrincipalName: z.string(), created }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: false,
  undo: 'mailbox.delete',
  reverse: ({ output }) => undoWith(step('mailbox.delete', { mailbox: output.id }, `remove ${output.identity}, created by the run`)),
});

export const mailboxDelete = defineAction({
  id: 'mailbox.delete',
  title: 'Remove mailbox',
  category: 'mailbox',
  description:
    'Removes a mailbox (Remove-Mailbox). For a user mailbox this deletes the user account too; it stays restorable with "Restore user" ' +
    'for 30 days. A mailbox already gone counts as done on a retry.',
  input: z.strictObject({ mailbox: mailboxRef }),
  output: z.object({ deleted: z.boolean().describe('false when the mailbox did not exist (any more)') }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'user.restore',
  reverse: ({ changes }) => {
    const gone = changes.find((c) => c.property === 'exists' && typeof c.objectId === 'string');
    return gone ? undoWith(step('user.restore', { user: gone.objectId }, `restore ${gone.object} with its user account`)) : undoWith();
  },
});

export const mailboxWaitForMailbox = defineAction({
  id: 'mailbox.waitForMailbox',
  readOnly: true,
  title: 'Wait for mailbox',
  category: 'mailbox',
  description:
    'Waits until Exchange Online has provisioned a user\'s mailbox (it appears some minutes after an Exchange licence is assigned), ' +
    'checking Get-Mailbox every 15 seconds. The step fails, and retries as its policy says, when the mailbox is not there in time.',
  input: z.strictObject({
    mailbox: mailboxRef,
    timeoutMinutes: z.number().min(0.1).max(120).default(30).describe('Give up after this many minutes (fractions allowed, e.g. 0.5)'),
  }),
  output: z.object({ identity, type: mailboxType, waitedSeconds: z.number().int() }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
});

// ---- quarantine ----

const quarantined = z.object({
  identity: z.string().describe('Quarantine identity (GUID\\GUID)'),
  receivedTime: z.string(),
  sender: z.string(),
  recipients: z.array(z.string()),
  subject: z.string(),
  type: z.string().describe('Spam, Bulk, Phish, HighConfPhish, Malware or TransportRule'),
  released: z.boolean().describe('true once released to every recipient'),
  expires: z.string(),
});

const quarantineIdentity = z.string().regex(/^[0-9a-fA-F-]{36}\\[0-9a-fA-F-]{36}$/, 'a quarantine identity such as c14401cf-aa9a-465b-cfd5-08d0f0ca37c5\\4c2ca98e-94ea-db3a-7eb8-3b63657d4db7').describe('Quarantine identity of the message (from "List quarantined messages")');

export const quarantineList = defineAction({
  id: 'quarantine.list',
  readOnly: true,
  title: 'List quarantined messages',
  category: 'mailbox',
  description: 'Lists messages Exchange Online Protection holds in quarantine, newest first, filtered by recipient, sender, type or release status (Get-QuarantineMessage). Changes nothing.',
  input: z.strictObject({
    recipient: z.email().optional().describe('Only messages to this address'),
    sender: z.email().optional().describe('Only messages from this address'),
    types: z.array(z.enum(['Spam', 'Bulk', 'Phish', 'HighConfPhish', 'Malware', 'TransportRule'])).default([]).describe('Only these reasons; empty = all'),
    notReleasedOnly: z.boolean().default(true).describe('Leave out messages already released'),
    max: z.number().int().min(1).max(1000).default(100).describe('At most this many'),
  }),
  output: z.object({ messages: z.array(quarantined) }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
});

export const quarantineRelease = defineAction({
  id: 'quarantine.release',
  title: 'Release quarantined message',
  category: 'mailbox',
  description:
    'Releases a quarantined message into its recipients\' inboxes, or into the named users\' (Release-QuarantineMessage). Recipients ' +
    'it already reached count as done. Needs the Security Administrator role (or Exchange Administrator).',
  input: z.strictObject({
    identity: quarantineIdentity,
    users: z.array(z.email()).optional().describe('Release only to these mailboxes of the organisation; leave out for all original recipients'),
  }),
  output: z.object({ identity: z.string(), releasedTo: z.array(z.string()).describe('Recipients this step released it to'), changed }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  irreversible: 'a released message is delivered to the inboxes; it cannot be taken back into quarantine',
});

export const quarantineDelete = defineAction({
  id: 'quarantine.delete',
  title: 'Delete quarantined message',
  category: 'mailbox',
  description: 'Deletes a message from quarantine for good (Delete-QuarantineMessage). A message already gone counts as done on a retry.',
  input: z.strictObject({
    identity: quarantineIdentity,
  }),
  output: z.object({ deleted: z.boolean().describe('false when it was not in quarantine (any more)') }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  irreversible: 'a message deleted from quarantine is gone for good',
});
