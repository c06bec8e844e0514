// Helpers the action handlers share: lookups with operator-grade "does not exist" errors, paging,
// membership changes that pick Graph or Exchange by group kind, licences, secret delivery, and
// "did an earlier attempt of this step create it?".
import { randomInt } from 'node:crypto';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { ActionContext } from '../activity.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { isExchangeError } from '../../m365/exchange.ts';
import { findGroup as readGroup, getUser as readUser, GUID, odataString, type GraphGroup, type GraphUser } from '../../m365/graph.ts';
import { sendMail as sendMailAs, type Mail } from '../../m365/notify.ts';
import { waitOutReplication } from '../replication.ts';

export { GUID, odataString, type GraphGroup, type GraphUser };

/** A user by id or UPN, waiting out replication lag (see waitOutReplication). */
export const getUser = (graph: Client, ref: string, select?: string): Promise<GraphUser> => waitOutReplication(() => readUser(graph, ref, select));
/** A group by id, name or mail, waiting out replication lag (see waitOutReplication). */
export const findGroup = (graph: Client, ref: string): Promise<GraphGroup> => waitOutReplication(() => readGroup(graph, ref));

/** Resolves to undefined instead of throwing when Graph answers 404. */
export async function orNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/** true when the call succeeded, false when Graph answered 404 (already gone). */
export async function unless404(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

/** Every page of a Graph collection (follows @odata.nextLink), up to `max` items. */
export async function listAll<T>(graph: Client, path: string, opts: { filter?: string; select?: string; top?: number; max?: number; eventual?: boolean } = {}): Promise<{ items: T[]; truncated: boolean }> {
  let req = graph.api(path);
  if (opts.filter) req = req.filter(opts.filter);
  if (opts.select) req = req.select(opts.select);
  if (opts.eventual) req = req.header('ConsistencyLevel', 'eventual').count(true);
  req = req.top(Math.min(opts.top ?? 999, opts.max ?? 999));
  const items: T[] = [];
  let page = (await req.get()) as { value: T[]; '@odata.nextLink'?: string };
  const max = opts.max ?? Infinity;
  for (;;) {
    items.push(...page.value);
    if (items.length >= max) return { items: items.slice(0, max), truncated: items.length > max || !!page['@odata.nextLink'] };
    const next = page['@odata.nextLink'];
    if (!next) return { items, truncated: false };
    page = (await graph.api(next).get()) as typeof page;
  }
}

export function graphRoot(ctx: Pick<ActionContext, 'tenant'>): string {
  return (ctx.tenant.graphUrl ?? 'https://graph.microsoft.com').replace(/\/$/, '');
}

export function directoryObjectRef(ctx: Pick<ActionContext, 'tenant'>, id: string): { '@odata.id': string } {
  return { '@odata.id': `${graphRoot(ctx)}/v1.0/directoryObjects/${id}` };
}

/** Was this object created by an earlier attempt of this very step? (retry after a lost answer) */
export function createdByThisStep(ctx: Pick<ActionContext, 'attempt' | 'stepScheduledAt'>, createdDateTime: string | null | undefined): boolean {
  if (ctx.attempt <= 1 || !createdDateTime) return false;
  // Entra's createdDateTime has whole seconds; allow for that and for small clock skew.
  return Date.parse(createdDateTime) >= ctx.stepScheduledAt - 5_000;
}

/** The user properties revokeSessionsOnce needs. */
export const REVOKE_SELECT = 'id,userPrincipalName,createdDateTime,signInSessionsValidFromDateTime';

/**
 * Revokes a user's sign-in sessions unless this step already did (its answer was lost): a retry
 * then finds sessions valid only from after this step began (Entra sets
 * signInSessionsValidFromDateTime to the time of the revocation); a user created moments ago has
 * it at its creation time, which is not a revocation. Returns whether it posted the revocation.
 */
export async function revokeSessionsOnce(ctx: Pick<ActionContext, 'attempt' | 'stepScheduledAt' | 'graph'>, user: Record<string, unknown> & { id: string }): Promise<boolean> {
  const validFrom = user['signInSessionsValidFromDateTime'] as string | undefined;
  if (createdByThisStep(ctx, validFrom) && Date.parse(validFrom!) > Date.parse(String(user['createdDateTime'] ?? 0))) return false;
  await ctx.graph.api(`/users/${user.id}/revokeSignInSessions`).post({});
  return true;
}

/** A 404 right after this step created the object is Entra's replication lag: worth a retry. */
export async function afterCreate<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404)
      throw new ActionError(`${what}: the new object is not visible yet (directory replication); retrying`, { code: 'ReplicationLag', retryable: true, status: 404 });
    throw err;
  }
}

export async function resolveUsers(graph: Client, refs: readonly string[], select?: string): Promise<GraphUser[]> {
  const out: GraphUser[] = [];
  for (const ref of refs) out.push(await getUser(graph, ref, select));
  return out;
}

// ---- groups ----

export type GroupKind = 'security' | 'microsoft365' | 'distribution' | 'mailEnabledSecurity';

export interface GroupInfo extends GraphGroup {
  membershipRule?: string | null;
  onPremisesSyncEnabled?: boolean | null;
  createdDateTime?: string;
}

export const GROUP_SELECT = 'id,displayName,mail,groupTypes,mailEnabled,securityEnabled,membershipRule,onPremisesSyncEnabled,createdDateTime,visibility,description';

export function groupKind(g: Pick<GraphGroup, 'groupTypes' | 'mailEnabled' | 'securityEnabled'>): GroupKind {
  if (g.groupTypes?.some((t) => t.toLowerCase() === 'unified')) return 'microsoft365';
  if (g.mailEnabled) return g.securityEnabled ? 'mailEnabledSecurity' : 'distribution';
  return 'security';
}

export function groupSummaryOf(g: GraphGroup): { id: string; displayName: string; mail: string | null; kind: GroupKind } {
  return { id: g.id, displayName: g.displayName, mail: g.mail ?? null, kind: groupKind(g) };
}

/** Exchange writes distribution lists and mail-enabled security groups; Graph cannot. */
export function managedByExchange(g: GraphGroup): boolean {
  const k = groupKind(g);
  return k === 'distribution' || k === 'mailEnabledSecurity';
}

/** Why a membership of this group cannot be changed here, if it cannot. */
export function unchangeableReason(g: GroupInfo): string | undefined {
  if (g.membershipRule) return 'dynamic membership: the rule decides who is a member';
  if (g.onPremisesSyncEnabled) return 'synchronised from on-premises Active Directory: change it there';
  return undefined;
}

export async function getGroup(graph: Client, ref: string): Promise<GroupInfo> {
  const g = await findGroup(graph, ref);
  return (await graph.api(`/groups/${g.id}`).select(GROUP_SELECT).get()) as GroupInfo;
}

const alreadyThere = (err: unknown): boolean => statusOf(err) === 400 && /already exist/i.test((err as Error).message);
const notThere = (err: unknown): boolean => statusOf(err) === 404;

export function refuseUnchangeable(g: GroupInfo): void {
  const reason = unchangeableReason(g);
  if (reason)
    throw new ActionError(`the members of group "${g.displayName}" cannot be changed: ${reason}`, {
      code: 'GroupNotWritable',
      hint: 'pick an assigned (non-dynamic) cloud group',
    });
}

/** Adds a user to any kind of group; false when already a member. */
export async function addToGroup(ctx: ActionContext, g: GroupInfo, user: GraphUser, rel: 'members' | 'owners' = 'members'): Promise<boolean> {
  refuseUnchangeable(g);
  if (rel === 'members' && managedByExchange(g)) {
    try {
      await ctx.exchange.invoke('Add-DistributionGroupMember', { Identity: g.mail ?? g.id, Member: user.userPrincipalName, BypassSecurityGroupManagerCheck: true }, ctx.signal);
      return true;
    } catch (err) {
      if (isExchangeError(err, 'MemberAlreadyExistsException')) return false;
      throw err;
    }
  }
  try {
    await ctx.graph.api(`/groups/${g.id}/${rel}/$ref`).post(directoryObjectRef(ctx, user.id));
    return true;
  } catch (err) {
    if (alreadyThere(err)) return false;
    throw err;
  }
}

/** Removes a user from any kind of group; false when not a member. */
export async function removeFromGroup(ctx: ActionContext, g: GroupInfo, user: GraphUser, rel: 'members' | 'owners' = 'members'): Promise<boolean> {
  refuseUnchangeable(g);
  if (rel === 'members' && managedByExchange(g)) {
    try {
      await ctx.exchange.invoke('Remove-DistributionGroupMember', { Identity: g.mail ?? g.id, Member: user.userPrincipalName, BypassSecurityGroupManagerCheck: true, Confirm: false }, ctx.signal);
      return true;
    } catch (err) {
      if (isExchangeError(err, 'MemberNotFoundException')) return false;
      throw err;
    }
  }
  try {
    await ctx.graph.api(`/groups/${g.id}/${rel}/${user.id}/$ref`).delete();
    return true;
  } catch (err) {
    if (notThere(err)) return false;
    throw err;
  }
}

// ---- licences ----

export interface SubscribedSku {
  skuId: string;
  skuPartNumber: string;
  prepaidUnits: { enabled: number; suspended?: number; warning?: number };
  consumedUnits: number;
  servicePlans: { servicePlanId: string; servicePlanName: string }[];
}

export async function subscribedSkus(graph: Client): Promise<SubscribedSku[]> {
  return ((await graph.api('/subscribedSkus').get()) as { value: SubscribedSku[] }).value;
}

export function findSku(skus: SubscribedSku[], ref: string): SubscribedSku {
  const sku = skus.find((s) => (GUID.test(ref) ? s.skuId === ref.toLowerCase() : s.skuPartNumber.toLowerCase() === ref.toLowerCase()));
  if (!sku)
    throw new ActionError(`licence ${ref} is not subscribed in this tenant`, {
      code: 'LicenceNotFound',
      hint: `subscribed licences: ${skus.map((s) => s.skuPartNumber).join(', ')}`,
    });
  return sku;
}

export function planIds(sku: SubscribedSku, refs: readonly string[]): string[] {
  if (refs.includes('*')) return sku.servicePlans.map((p) => p.servicePlanId);
  return refs.map((ref) => {
    const plan = sku.servicePlans.find((p) => p.servicePlanId === ref.toLowerCase() || p.servicePlanName.toLowerCase() === ref.toLowerCase());
    if (!plan)
      throw new ActionError(`service plan ${ref} is not part of licence ${sku.skuPartNumber}`, {
        code: 'ServicePlanNotFound',
        hint: `plans of ${sku.skuPartNumber}: ${sku.servicePlans.map((p) => p.servicePlanName).join(', ')}`,
      });
    return plan.servicePlanId;
  });
}

export function planNames(sku: SubscribedSku | undefined, ids: readonly string[]): string[] {
  return ids.map((id) => sku?.servicePlans.find((p) => p.servicePlanId === id)?.servicePlanName ?? id);
}

/** Throws what assigning these licences would fail with: no usage location, or no free seat. */
export function requireSeats(who: string, usageLocation: string | null | undefined, skus: SubscribedSku[]): void {
  if (skus.length === 0) return;
  if (!usageLocation)
    throw new ActionError(`user ${who} has no usage location, so no licence can be assigned`, {
      code: 'UsageLocationMissing',
      hint: 'set the user\'s usage location (a two-letter country code) first',
    });
  requireFreeSeats(skus);
}

/** Throws when a licence has no free seat. */
export function requireFreeSeats(skus: SubscribedSku[]): void {
  for (const sku of skus) {
    if (sku.prepaidUnits.enabled - sku.consumedUnits <= 0)
      throw new ActionError(`no ${sku.skuPartNumber} licence is free (${sku.consumedUnits} of ${sku.prepaidUnits.enabled} in use)`, {
        code: 'LicenceUnavailable',
        hint: 'buy more seats or free one up, then retry the step',
      });
  }
}

/** Assigns licences a user does not have yet, checking usage location and free seats first. */
export async function assignLicences(
  graph: Client,
  user: GraphUser & { usageLocation?: string | null },
  wanted: { sku: SubscribedSku; disabledPlans: string[] }[],
): Promise<{ assigned: string[]; already: string[] }> {
  const has = new Set((user.assignedLicenses ?? []).map((l) => l.skuId));
  const toAssign = wanted.filter((w) => !has.has(w.sku.skuId));
  const already = wanted.filter((w) => has.has(w.sku.skuId)).map((w) => w.sku.skuPartNumber);
  if (toAssign.length === 0) return { assigned: [], already };
  requireSeats(user.userPrincipalName, user.usageLocation, toAssign.map((w) => w.sku));
  await graph.api(`/users/${user.id}/assignLicense`).post({
    addLicenses: toAssign.map((w) => ({ skuId: w.sku.skuId, disabledPlans: w.disabledPlans })),
    removeLicenses: [],
  });
  return { assigned: toAssign.map((w) => w.sku.skuPartNumber), already };
}

// ---- secrets ----

/** A temporary password that meets Entra's complexity rules; it never leaves the worker except by email. */
export function generatePassword(length = 16): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!#$%&*+-=?@'];
  const all = sets.join('');
  const chars = sets.map((s) => s[randomInt(s.length)]!);
  while (chars.length < length) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** The service mailbox that sends Tenantflow's mail: the step's choice, else the tenant connection's. */
export function senderOf(ctx: Pick<ActionContext, 'tenant'>, from: string | undefined): string {
  const sender = from ?? (ctx.tenant as { mailFrom?: string }).mailFrom;
  if (!sender)
    throw new ActionError('no service mailbox is configured to send Tenantflow\'s email', {
      code: 'MailFromMissing',
      hint: 'set "mail from" on the tenant connection (a licensed or shared mailbox), or give the step a "mail from"',
    });
  return sender;
}

/** Sends mail from the step's service mailbox (or the tenant connection's). */
export async function sendMail(ctx: Pick<ActionContext, 'graph' | 'tenant'>, from: string | undefined, mail: Mail): Promise<string> {
  const sender = senderOf(ctx, from);
  await sendMailAs(ctx.graph, sender, mail);
  return sender;
}

/** Emails a generated secret to one named recipient. Only the recipient goes into the step's output. */
export async function deliverSecret(
  ctx: Pick<ActionContext, 'graph' | 'tenant'>,
  opts: { to: string; from?: string; subject: string; intro: string; secret: string; outro?: string },
): Promise<string> {
  await sendMail(ctx, opts.from, {
    to: [opts.to],
    subject: opts.subject,
    body: `${opts.intro}\n\n    ${opts.secret}\n\n${opts.outro ?? 'This message was sent by Tenantflow. Delete it once the secret has been handed over.'}`,
    importance: 'high',
    saveToSentItems: false,
  });
  return opts.to;
}

// ---- user properties ----

/** Maps the catalog's profile fields to Graph's user properties (businessPhone is a one-item list in Graph). */
export function profileToGraph(fields: Record<string, unknown>, clear: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (k === 'businessPhone') out['businessPhones'] = v === null ? [] : [v];
    else out[k] = v;
  }
  for (const k of clear) {
    if (k === 'businessPhone') out['businessPhones'] = [];
    else out[k] = null;
  }
  return out;
}

/** The part of `desired` that differs from `current` (arrays and values compared as JSON). */
export function diff(current: Record<string, unknown>, desired: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(desired)) {
    const cur = current[k] ?? null;
    const same = typeof v === 'string' && typeof cur === 'string' && k !== 'userPrincipalName' ? v === cur : JSON.stringify(cur) === JSON.stringify(v ?? null);
    if (!same) out[k] = v;
  }
  return out;
}

/** Reads the user, patches only what differs, and says which properties changed. */
export async function patchUser(graph: Client, ref: string, desired: Record<string, unknown>): Promise<{ user: GraphUser; changed: string[] }> {
  const keys = Object.keys(desired);
  const user = await getUser(graph, ref, ['id', 'userPrincipalName', ...keys.filter((k) => k !== 'passwordProfile')].join(','));
  const changes = diff(user, desired);
  if (Object.keys(changes).length) await graph.api(`/users/${user.id}`).patch(changes);
  return { user, changed: Object.keys(changes) };
}
