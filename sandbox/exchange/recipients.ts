// Exchange recipients over the directory: mailboxes (users with a mailbox), mail users, groups
// (distribution, mail-enabled security, Microsoft 365) and mail contacts, found by any identity
// Exchange accepts: object id, Exchange GUID, UPN, SMTP address, alias or display name.
import { mailboxOf, type Mailbox } from '../mailboxes.ts';
import type { Group, User } from '../store.ts';
import { ExoError, notFoundExo, type ExoCtx } from './invoke.ts';

export interface MailContact {
  id: string;
  name: string;
  displayName: string;
  alias: string;
  externalEmailAddress: string;
  firstName: string | null;
  lastName: string | null;
  hiddenFromAddressLists: boolean;
  createdDateTime: string;
  /** Proxy addresses (SMTP: primary = the external address); absent in state saved before they existed. */
  emailAddresses?: string[];
  /** Set-Contact's properties: Company, Title, Department, Phone, ... (absent = none set). */
  details?: Record<string, string>;
}

/** A contact's proxy addresses: SMTP:external first, then any more. */
export const contactAddresses = (c: MailContact): string[] => c.emailAddresses ?? [`SMTP:${c.externalEmailAddress}`];

export interface DistributionGroupState {
  managedBy: string[];
  /** Open, Closed or ApprovalRequired (absent in state saved before it existed: Closed). */
  memberJoinRestriction?: string;
  hiddenFromAddressLists: boolean;
  requireSenderAuthenticationEnabled: boolean;
  /** User ids with Send As on the group (absent in state saved before it existed). */
  sendAs?: string[];
  grantSendOnBehalfTo?: string[];
}

export interface MailUserState {
  externalEmailAddress: string;
  hiddenFromAddressLists?: boolean;
}

export type Recipient =
  | { kind: 'mailbox'; user: User; mbx: Mailbox }
  | { kind: 'mailUser'; user: User; mu: MailUserState }
  | { kind: 'user'; user: User }
  | { kind: 'group'; group: Group }
  | { kind: 'contact'; contact: MailContact };

export const contactsOf = (ctx: ExoCtx): Record<string, MailContact> => ctx.store.tenantState('exchange.mailContacts', () => ({}));
export const dgStateOf = (ctx: ExoCtx, group: Group): DistributionGroupState =>
  ctx.store.tenantState<Record<string, DistributionGroupState>>('exchange.distributionGroups', () => ({}))[group.id] ??= { managedBy: [], hiddenFromAddressLists: false, requireSenderAuthenticationEnabled: true };

export function mailUserOf(ctx: ExoCtx, user: User): MailUserState | undefined {
  return ctx.store.perUser.get(user.id)?.['mailUser'] as MailUserState | undefined;
}

export function recipientOfUser(ctx: ExoCtx, user: User): Recipient {
  const mbx = mailboxOf(ctx.store, user);
  if (mbx) return { kind: 'mailbox', user, mbx };
  const mu = mailUserOf(ctx, user);
  if (mu) return { kind: 'mailUser', user, mu };
  return { kind: 'user', user };
}

const isMailGroup = (g: Group): boolean => g.mailEnabled;

/** All identities Exchange accepts; throws ManagementObjectNotFoundException / ambiguous-match errors. */
export function resolveRecipient(ctx: ExoCtx, identity: unknown): Recipient {
  if (typeof identity !== 'string' || !identity) throw notFoundExo(identity, ctx);
  const id = identity.trim();
  const store = ctx.store;
  const user = store.findUser(id);
  if (user) return recipientOfUser(ctx, user);
  const group = store.groupById(id);
  if (group && isMailGroup(group)) return { kind: 'group', group };
  const contacts = contactsOf(ctx);
  if (contacts[id.toLowerCase()]) return { kind: 'contact', contact: contacts[id.toLowerCase()]! };
  const owner = store.addressOwner(id.replace(/^smtp:/i, ''));
  if (owner) {
    const u = store.userById(owner);
    if (u) return recipientOfUser(ctx, u);
    const g = store.groupById(owner);
    if (g) return { kind: 'group', group: g };
  }
  const lower = id.toLowerCase();
  const matches: Recipient[] = [];
  for (const c of Object.values(contacts)) {
    if (c.externalEmailAddress.toLowerCase() === lower || contactAddresses(c).some((a) => a.replace(/^smtp:/i, '').toLowerCase() === lower) || c.alias.toLowerCase() === lower || c.name.toLowerCase() === lower || c.displayName.toLowerCase() === lower) matches.push({ kind: 'contact', contact: c });
  }
  for (const g of store.groups.values()) if (isMailGroup(g) && (g.mailNickname.toLowerCase() === lower || g.displayName.toLowerCase() === lower)) matches.push({ kind: 'group', group: g });
  if (!matches.length) {
    for (const u of store.users.values()) {
      if (u.mailNickname.toLowerCase() === lower || u.displayName.toLowerCase() === lower) matches.push(recipientOfUser(ctx, u));
      else if (mailboxOf(store, u)?.exchangeGuid === lower) matches.push(recipientOfUser(ctx, u));
      if (matches.length > 1) break;
    }
  }
  if (matches.length > 1) throw new ExoError(400, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException', `The operation couldn't be performed because '${id}' matches multiple entries.`);
  if (!matches.length) throw notFoundExo(id, ctx);
  return matches[0]!;
}

export function resolveMailbox(ctx: ExoCtx, identity: unknown): { user: User; mbx: Mailbox } {
  const r = resolveRecipient(ctx, identity);
  if (r.kind !== 'mailbox') throw notFoundExo(identity, ctx);
  return { user: r.user, mbx: r.mbx };
}

/**
 * Where Send As is kept for a -Identity of the RecipientPermission cmdlets: a mailbox, or a distribution /
 * mail-enabled security group. Anything else is not found, as in EXO.
 */
export function resolveSendAsTarget(ctx: ExoCtx, identity: unknown): { name: string; id: string; sendAs: string[]; set(ids: string[]): void } {
  const r = resolveRecipient(ctx, identity);
  if (r.kind === 'mailbox') return { name: r.user.mailNickname, id: r.user.id, sendAs: r.mbx.sendAs, set: (ids) => (r.mbx.sendAs = ids) };
  if (r.kind === 'group' && !r.group.groupTypes.includes('Unified')) {
    const state = dgStateOf(ctx, r.group);
    return { name: r.group.mailNickname, id: r.group.id, sendAs: state.sendAs ?? [], set: (ids) => (state.sendAs = ids) };
  }
  throw notFoundExo(identity, ctx);
}

/** A user-like trustee (for permissions): any user, by any identity. */
export function resolveTrustee(ctx: ExoCtx, identity: unknown): User {
  const r = resolveRecipient(ctx, identity);
  if (r.kind === 'mailbox' || r.kind === 'mailUser' || r.kind === 'user') return r.user;
  throw new ExoError(400, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The user '${String(identity)}' is not a valid security principal.`);
}

export function primarySmtp(proxyAddresses: string[], fallback: string | null): string | null {
  return proxyAddresses.find((p) => p.startsWith('SMTP:'))?.slice(5) ?? fallback;
}

export function recipientName(r: Recipient): string {
  if (r.kind === 'group') return r.group.displayName;
  if (r.kind === 'contact') return r.contact.name;
  return r.user.mailNickname;
}

export function recipientId(r: Recipient): string {
  if (r.kind === 'group') return r.group.id;
  if (r.kind === 'contact') return r.contact.id;
  return r.user.id;
}

export function recipientTypeDetails(r: Recipient): string {
  switch (r.kind) {
    case 'mailbox':
      return r.mbx.type;
    case 'mailUser':
      return r.user.userType === 'Guest' ? 'GuestMailUser' : 'MailUser';
    case 'user':
      return r.user.userType === 'Guest' ? 'GuestMailUser' : 'User';
    case 'contact':
      return 'MailContact';
    case 'group':
      return r.group.groupTypes.includes('Unified') ? 'GroupMailbox' : r.group.securityEnabled ? 'MailUniversalSecurityGroup' : 'MailUniversalDistributionGroup';
  }
}

/** Get-Recipient's view of any recipient. */
export function recipientView(ctx: ExoCtx, r: Recipient): Record<string, unknown> {
  const addresses = r.kind === 'group' ? r.group.proxyAddresses : r.kind === 'contact' ? contactAddresses(r.contact) : r.user.proxyAddresses;
  const primary = r.kind === 'contact' ? r.contact.externalEmailAddress : primarySmtp(addresses, r.kind === 'group' ? r.group.mail : r.user.mail);
  return {
    Identity: recipientName(r),
    Name: recipientName(r),
    Alias: r.kind === 'group' ? r.group.mailNickname : r.kind === 'contact' ? r.contact.alias : r.user.mailNickname,
    DisplayName: r.kind === 'group' ? r.group.displayName : r.kind === 'contact' ? r.contact.displayName : r.user.displayName,
    PrimarySmtpAddress: primary,
    EmailAddresses: addresses,
    RecipientType: r.kind === 'mailbox' ? 'UserMailbox' : r.kind === 'group' ? (r.group.securityEnabled ? 'MailUniversalSecurityGroup' : 'MailUniversalDistributionGroup') : r.kind === 'contact' ? 'MailContact' : 'MailUser',
    RecipientTypeDetails: recipientTypeDetails(r),
    ExternalDirectoryObjectId: recipientId(r),
    Guid: recipientId(r),
    Id: recipientName(r),
    WhenCreated: r.kind === 'group' ? r.group.createdDateTime : r.kind === 'contact' ? r.contact.createdDateTime : r.user.createdDateTime,
    HiddenFromAddressListsEnabled: r.kind === 'mailbox' ? r.mbx.hiddenFromAddressLists : r.kind === 'contact' ? r.contact.hiddenFromAddressLists : r.kind === 'group' ? dgStateOf(ctx, r.group).hiddenFromAddressLists : r.kind === 'mailUser' ? (r.mu.hiddenFromAddressLists ?? false) : false,
  };
}

/** Display names for a list of user ids, as Exchange shows GrantSendOnBehalfTo or ManagedBy. */
export function names(ctx: ExoCtx, userIds: string[]): string[] {
  return userIds.map((id) => ctx.store.userById(id)?.mailNickname ?? id);
}
