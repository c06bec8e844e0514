// What the mailbox, contact and mail user handlers share: Exchange lookups with operator-grade "does not
// exist" errors, the delegations of a mailbox (mailbox permissions, Send As, Send on Behalf) read once
// and granted or revoked one by one, folder paths, sizes and dates as Exchange writes them.
import type { ActionContext } from '../activity.ts';
import { ActionError } from '../../m365/errors.ts';
import { isExchangeError, NOT_FOUND } from '../../m365/exchange.ts';
import type { GraphUser } from './shared.ts';

export interface ExoMailbox {
  Identity?: string;
  Name?: string;
  Alias?: string;
  DisplayName: string;
  UserPrincipalName: string;
  PrimarySmtpAddress: string;
  EmailAddresses?: string[];
  RecipientTypeDetails: 'UserMailbox' | 'SharedMailbox' | 'RoomMailbox' | 'EquipmentMailbox';
  ExternalDirectoryObjectId: string;
  ForwardingSmtpAddress?: string | null;
  ForwardingAddress?: string | null;
  DeliverToMailboxAndForward?: boolean;
  HiddenFromAddressListsEnabled?: boolean;
  GrantSendOnBehalfTo?: string[];
  LitigationHoldEnabled?: boolean;
  LitigationHoldDuration?: string | null;
  ArchiveStatus?: string;
  ArchiveGuid?: string;
  ArchiveName?: string[];
  RetentionPolicy?: string | null;
  AddressBookPolicy?: string | null;
  AuditEnabled?: boolean;
  AuditLogAgeLimit?: string;
  IssueWarningQuota?: string;
  ProhibitSendQuota?: string;
  ProhibitSendReceiveQuota?: string;
  MailTip?: string | null;
  ResourceCapacity?: number | null;
  WhenMailboxCreated?: string;
  WhenCreated?: string;
  [customAttribute: `CustomAttribute${number}`]: string | undefined;
}

/** Exchange dates come as ISO strings or as "/Date(1700000000000)/". */
export function exoDate(v: string | undefined | null): string | undefined {
  const m = v ? /\/Date\((\d+)/.exec(v) : null;
  return m ? new Date(Number(m[1])).toISOString() : (v ?? undefined);
}

/** Runs a lookup cmdlet; undefined when Exchange says the object does not exist. */
export async function orExoNotFound<T>(p: Promise<T[]>): Promise<T | undefined> {
  try {
    return (await p)[0];
  } catch (err) {
    if (isExchangeError(err, ...NOT_FOUND)) return undefined;
    throw err;
  }
}

export async function findMailbox(ctx: ActionContext, ref: string): Promise<ExoMailbox | undefined> {
  return orExoNotFound(ctx.exchange.invoke<ExoMailbox>('Get-Mailbox', { Identity: ref }, ctx.signal));
}

export const mailboxNotFound = (ref: string): ActionError =>
  new ActionError(`mailbox ${ref} does not exist`, {
    code: 'MailboxNotFound',
    hint: 'use the mailbox\'s email address or user principal name; a new user\'s mailbox appears a few minutes after an Exchange licence is assigned',
    status: 404,
  });

export async function getMailbox(ctx: ActionContext, ref: string): Promise<ExoMailbox> {
  const m = await findMailbox(ctx, ref);
  if (!m) throw mailboxNotFound(ref);
  return m;
}

/** A room or equipment mailbox, or an operator-grade refusal. */
export function requireResource(m: ExoMailbox): void {
  if (m.RecipientTypeDetails !== 'RoomMailbox' && m.RecipientTypeDetails !== 'EquipmentMailbox')
    throw new ActionError(`${m.PrimarySmtpAddress} is a ${m.RecipientTypeDetails}: booking settings belong to room and equipment mailboxes`, {
      code: 'NotAResourceMailbox',
      hint: 'pick a room or equipment mailbox, or change the mailbox type first ("Edit mailbox type")',
    });
}

/** Names Exchange may use for a user (GrantSendOnBehalfTo and ResourceDelegates show names, permissions UPNs). */
export function namesOf(u: Pick<GraphUser, 'id' | 'userPrincipalName' | 'mail' | 'displayName'>): string[] {
  return [u.id, u.userPrincipalName, u.mail ?? '', u.displayName ?? '', u.userPrincipalName.split('@')[0]!].filter(Boolean).map((s) => s.toLowerCase());
}

export const sameUser = (exchangeName: string, u: Pick<GraphUser, 'id' | 'userPrincipalName' | 'mail' | 'displayName'>): boolean => namesOf(u).includes(exchangeName.toLowerCase());

/** "49 GB (52,613,349,376 bytes)", "Unlimited", or what the operator typed ("49GB", "500 MB"): bytes. */
export function sizeBytes(v: string | null | undefined): number {
  if (!v || /^unlimited$/i.test(v.trim())) return Infinity;
  const exact = /\(([\d,]+) bytes\)/.exec(v);
  if (exact) return Number(exact[1]!.replace(/,/g, ''));
  const m = /^\s*([\d.]+)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(v);
  if (!m) return NaN;
  const mult = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[(m[2] ?? 'B').toUpperCase() as 'B']!;
  return Math.round(Number(m[1]) * mult);
}

/**
 * The path of a mailbox's default calendar or contacts folder ("anna@contoso.com:\Calendar"). The name is
 * the mailbox's own (a German mailbox has \Kalender), so it is asked for rather than assumed.
 */
export async function folderPath(ctx: ActionContext, mbx: ExoMailbox, scope: 'Calendar' | 'Contacts'): Promise<string> {
  const folders = await ctx.exchange.invoke<{ Name: string; FolderType?: string; FolderPath?: string }>('Get-MailboxFolderStatistics', { Identity: mbx.PrimarySmtpAddress, FolderScope: scope }, ctx.signal);
  const folder = folders.find((f) => f.FolderType === scope) ?? folders[0];
  if (!folder) throw new ActionError(`${mbx.PrimarySmtpAddress} has no ${scope} folder`, { code: 'FolderNotFound' });
  return `${mbx.PrimarySmtpAddress}:\\${folder.Name}`;
}

// ---- delegations ----

export type Right = 'FullAccess' | 'SendAs' | 'SendOnBehalf' | 'ExternalAccount' | 'DeleteItem' | 'ReadPermission' | 'ChangePermission' | 'ChangeOwner';

/** One right one trustee has on a mailbox, named as Exchange names the trustee. */
export interface Delegation {
  who: string;
  right: Right;
}

const SELF = /^(NT AUTHORITY\\SELF|S-1-5-10)$/i;

/** Every delegation of a mailbox: explicit mailbox permissions, Send As, Send on Behalf. */
export async function delegationsOf(ctx: ActionContext, mbx: ExoMailbox): Promise<Delegation[]> {
  const identity = mbx.PrimarySmtpAddress;
  const out: Delegation[] = [];
  const perms = await ctx.exchange.invoke<{ User: string; AccessRights?: string[]; IsInherited?: boolean; Deny?: boolean }>('Get-MailboxPermission', { Identity: identity }, ctx.signal);
  for (const p of perms) {
    if (SELF.test(p.User) || p.IsInherited || p.Deny) continue;
    for (const r of p.AccessRights ?? []) out.push({ who: p.User, right: r as Right });
  }
  const sendAs = await ctx.exchange.invoke<{ Trustee: string; AccessRights?: string[]; AccessControlType?: string }>('Get-RecipientPermission', { Identity: identity }, ctx.signal);
  for (const p of sendAs) if (!SELF.test(p.Trustee) && p.AccessControlType !== 'Deny' && (p.AccessRights ?? []).includes('SendAs')) out.push({ who: p.Trustee, right: 'SendAs' });
  for (const who of mbx.GrantSendOnBehalfTo ?? []) out.push({ who, right: 'SendOnBehalf' });
  return out;
}

export const holds = (delegations: Delegation[], u: Pick<GraphUser, 'id' | 'userPrincipalName' | 'mail' | 'displayName'>, right: Right): boolean =>
  delegations.some((d) => d.right === right && sameUser(d.who, u));

/** Grants one right on a mailbox to a trustee (Exchange identity: UPN or the name Exchange reported). */
export async function grantRight(ctx: ActionContext, mbx: ExoMailbox, trustee: string, right: Right, autoMapping = true): Promise<void> {
  const identity = mbx.PrimarySmtpAddress;
  if (right === 'SendAs') await ctx.exchange.invoke('Add-RecipientPermission', { Identity: identity, Trustee: trustee, AccessRights: ['SendAs'], Confirm: false }, ctx.signal);
  else if (right === 'SendOnBehalf') await ctx.exchange.invoke('Set-Mailbox', { Identity: identity, GrantSendOnBehalfTo: { '@odata.type': '#Exchange.GenericHashTable', Add: [trustee] } }, ctx.signal);
  else await ctx.exchange.invoke('Add-MailboxPermission', { Identity: identity, User: trustee, AccessRights: [right], ...(right === 'FullAccess' ? { AutoMapping: autoMapping } : {}) }, ctx.signal);
}

export async function revokeRight(ctx: ActionContext, mbx: ExoMailbox, trustee: string, right: Right): Promise<void> {
  const identity = mbx.PrimarySmtpAddress;
  if (right === 'SendAs') await ctx.exchange.invoke('Remove-RecipientPermission', { Identity: identity, Trustee: trustee, AccessRights: ['SendAs'], Confirm: false }, ctx.signal);
  else if (right === 'SendOnBehalf') await ctx.exchange.invoke('Set-Mailbox', { Identity: identity, GrantSendOnBehalfTo: { '@odata.type': '#Exchange.GenericHashTable', Remove: [trustee] } }, ctx.signal);
  else await ctx.exchange.invoke('Remove-MailboxPermission', { Identity: identity, User: trustee, AccessRights: [right], Confirm: false }, ctx.signal);
}

/** Every mailbox of the tenant, or the named ones. */
export async function mailboxesIn(ctx: ActionContext, refs: readonly string[] | undefined): Promise<ExoMailbox[]> {
  if (refs) {
    const out: ExoMailbox[] = [];
    for (const r of refs) out.push(await getMailbox(ctx, r));
    return out;
  }
  return ctx.exchange.invoke<ExoMailbox>('Get-Mailbox', { ResultSize: 'Unlimited' }, ctx.signal);
}

/**
 * Deletes something once: `found` is the object looked up before (undefined when it is not there). Gone
 * on a retry means an earlier attempt deleted it; gone on the first attempt is the operator's mistake,
 * told by `missing`. A not-found answer from the delete itself is the same race, lost by a hair.
 */
export async function removeOnce<T>(ctx: Pick<ActionContext, 'attempt'>, found: T | undefined, missing: () => Error, remove: (t: T) => Promise<unknown>): Promise<{ deleted: boolean }> {
  if (found === undefined) {
    if (ctx.attempt > 1) return { deleted: false };
    throw missing();
  }
  try {
    await remove(found);
  } catch (err) {
    if (isExchangeError(err, ...NOT_FOUND)) return { deleted: false };
    throw err;
  }
  return { deleted: true };
}

/** Waits, unless the run is cancelled. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
