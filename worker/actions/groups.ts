// Handlers of the security and Microsoft 365 group actions (catalog/actions/groups.ts).
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/groups.ts';
import type { Change } from '../../catalog/contract.ts';
import { GONE_NOTE, RESTORABLE_NOTE } from '../../catalog/reversal.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import { change, creation, groupObject, isKnownAfterRun, knownAfterRun, memberProperty, ownerIds, propertyChanges, relations, userOrLater } from './changes.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import {
  addToGroup,
  afterCreate,
  createdByThisStep,
  diff,
  directoryObjectRef,
  findGroup,
  getGroup,
  getUser,
  GROUP_SELECT,
  groupKind,
  GUID,
  listAll,
  managedByExchange,
  odataString,
  orNotFound,
  refuseUnchangeable,
  removeFromGroup,
  resolveUsers,
  unchangeableReason,
  type GraphUser,
  type GroupInfo,
} from './shared.ts';

/** The group an earlier attempt of this step created, or a conflict with someone else's. */
async function existingGroup(ctx: ActionContext, filter: string, what: string): Promise<GroupInfo | undefined> {
  const found = ((await ctx.graph.api('/groups').filter(filter).select(GROUP_SELECT).top(2).get()) as { value: GroupInfo[] }).value[0];
  if (!found) return undefined;
  if (createdByThisStep(ctx, found.createdDateTime)) return found;
  throw new ActionError(`a group with ${what} already exists (${found.id})`, {
    code: 'ObjectConflict',
    hint: 'pick another name, or use "Edit group" to change the existing one',
    status: 400,
  });
}

async function fillGroup(ctx: ActionContext, g: GroupInfo, owners: GraphUser[], members: GraphUser[]): Promise<void> {
  for (const u of owners) await afterCreate(`add owner ${u.userPrincipalName}`, addToGroup(ctx, g, u, 'owners'));
  for (const u of members) await afterCreate(`add member ${u.userPrincipalName}`, addToGroup(ctx, g, u));
}

const nickname = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64) || 'group';

export const groupCreateSecurity = implement(c.groupCreateSecurity, async (input, ctx) => {
  const owners = await resolveUsers(ctx.graph, input.owners);
  const members = await resolveUsers(ctx.graph, input.members);
  let group = await existingGroup(ctx, `displayName eq ${odataString(input.displayName)}`, `the name "${input.displayName}"`);
  const created = !group;
  group ??= (await ctx.graph.api('/groups').post({
    displayName: input.displayName,
    description: input.description,
    mailNickname: input.mailNickname ?? nickname(input.displayName),
    mailEnabled: false,
    securityEnabled: true,
    ...(input.isAssignableToRole ? { isAssignableToRole: true } : {}),
  })) as GroupInfo;
  await fillGroup(ctx, group, owners, members);
  return { id: group.id, displayName: group.displayName, created };
}, planGroupCreateSecurity);

export const groupCreateM365 = implement(c.groupCreateM365, async (input, ctx) => {
  const owners = await resolveUsers(ctx.graph, input.owners);
  const members = await resolveUsers(ctx.graph, input.members);
  let group = await existingGroup(ctx, `mailNickname eq ${odataString(input.mailNickname)}`, `the alias "${input.mailNickname}"`);
  const created = !group;
  // Owners are bound at creation: a Microsoft 365 group created by an app otherwise has none.
  group ??= (await ctx.graph.api('/groups').post({
    displayName: input.displayName,
    description: input.description,
    mailNickname: input.mailNickname,
    groupTypes: ['Unified'],
    mailEnabled: true,
    securityEnabled: false,
    visibility: input.visibility,
    ...(owners.length ? { 'owners@odata.bind': owners.slice(0, 20).map((o) => directoryObjectRef(ctx, o.id)['@odata.id']) } : {}),
  })) as GroupInfo;
  await fillGroup(ctx, group, created ? owners.slice(20) : owners, members);
  return { id: group.id, displayName: group.displayName, mail: group.mail ?? null, created };
}, planGroupCreateM365);

export const groupUpdate = implement(c.groupUpdate, async ({ group, ...fields }, { graph }) => {
  const g = await getGroup(graph, group);
  const desired = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (desired['visibility'] && groupKind(g) !== 'microsoft365') throw new ActionError(`"${g.displayName}" is not a Microsoft 365 group, so it has no visibility`, { code: 'InvalidInput' });
  const changes = diff(g as unknown as Record<string, unknown>, desired);
  if (Object.keys(changes).length) await graph.api(`/groups/${g.id}`).patch(changes);
  return { id: g.id, changed: Object.keys(changes) };
}, planGroupUpdate);

interface DeletedGroup {
  id: string;
  displayName: string;
  mail?: string | null;
}

async function findDeletedGroup(graph: Client, ref: string): Promise<DeletedGroup | undefined> {
  if (GUID.test(ref)) return orNotFound(graph.api(`/directory/deletedItems/${ref}`).get() as Promise<DeletedGroup>);
  const want = ref.toLowerCase();
  const { items } = await listAll<DeletedGroup>(graph, '/directory/deletedItems/microsoft.graph.group', { select: 'id,displayName,mail' });
  const matches = items.filter((g) => g.displayName.toLowerCase() === want || g.mail?.toLowerCase() === want);
  if (matches.length > 1)
    throw new ActionError(`${matches.length} deleted groups are called "${ref}" (${matches.map((m) => m.id).join(', ')})`, { code: 'AmbiguousGroup', hint: 'use the deleted group\'s object id' });
  return matches[0];
}

export const groupDelete = implement(c.groupDelete, async (input, { graph, attempt }) => {
  const g = await orNotFound(findGroup(graph, input.group));
  if (!g) {
    const deleted = await findDeletedGroup(graph, input.group);
    if (deleted || attempt > 1) return { id: deleted?.id ?? input.group, deleted: false };
    await findGroup(graph, input.group); // the operator-grade "does not exist"
  }
  await graph.api(`/groups/${g!.id}`).delete();
  return { id: g!.id, deleted: true };
}, planGroupDelete);

export const groupRestore = implement(c.groupRestore, async (input, { graph }) => {
  const deleted = await findDeletedGroup(graph, input.group);
  if (!deleted) {
    const active = await orNotFound(findGroup(graph, input.group));
    if (active) return { id: active.id, displayName: active.displayName, restored: false };
    throw new ActionError(`there is no deleted group "${input.group}" in deleted items`, {
      code: 'Request_ResourceNotFound',
      hint: 'only Microsoft 365 groups can be restored, for 30 days after deletion',
      status: 404,
    });
  }
  try {
    await graph.api(`/directory/deletedItems/${deleted.id}/restore`).post({});
  } catch (err) {
    if (statusOf(err) === 400 && /conflict|already/i.test((err as Error).message))
      throw new ActionError(`the deleted group "${deleted.displayName}" cannot be restored: another object now uses its address`, { code: 'ObjectConflict', status: 400 });
    throw err;
  }
  return { id: deleted.id, displayName: deleted.displayName, restored: true };
}, planGroupRestore);

const one = (rel: 'members' | 'owners', add: boolean) => async (input: { group: string; user: string }, ctx: ActionContext) => {
  const [g, user] = [await getGroup(ctx.graph, input.group), await getUser(ctx.graph, input.user)];
  const changed = add ? await addToGroup(ctx, g, user, rel) : await removeFromGroup(ctx, g, user, rel);
  return { groupId: g.id, userId: user.id, changed };
};

export const groupAddMember = implement(c.groupAddMember, async (input, ctx) => {
  const { changed, ...ids } = await one('members', true)(input, ctx);
  return { ...ids, added: changed };
}, { plan: planOne('members', true), acceptsUnknown: ['user'] });
export const groupRemoveMember = implement(c.groupRemoveMember, async (input, ctx) => {
  const { changed, ...ids } = await one('members', false)(input, ctx);
  return { ...ids, removed: changed };
}, { plan: planOne('members', false), acceptsUnknown: ['user'] });
export const groupAddOwner = implement(c.groupAddOwner, async (input, ctx) => {
  const { changed, ...ids } = await one('owners', true)(input, ctx);
  return { ...ids, added: changed };
}, { plan: planOne('owners', true), acceptsUnknown: ['user'] });
export const groupRemoveOwner = implement(c.groupRemoveOwner, async (input, ctx) => {
  const { changed, ...ids } = await one('owners', false)(input, ctx);
  return { ...ids, removed: changed };
}, { plan: planOne('owners', false), acceptsUnknown: ['user'] });

/** Graph returns at most 20 related objects of an expanded collection: a group with 20 has its owners read in full. */
const EXPAND_LIMIT = 20;

/**
 * The groups a user owns. GET /users/{id}/ownedObjects takes delegated permissions only, so an app reads
 * every group with its owners expanded (GET /groups?$expand=owners($select=id)), and a group showing 20
 * owners (the expand limit) has them listed in full.
 */
async function groupsOwnedBy(ctx: Pick<ActionContext, 'graph' | 'heartbeat'>, userId: string): Promise<GroupInfo[]> {
  const out: GroupInfo[] = [];
  const me = userId.toLowerCase();
  let page = (await ctx.graph.api('/groups').select(GROUP_SELECT).expand('owners($select=id)').top(100).get()) as { value: (GroupInfo & { owners?: { id: string }[] })[]; '@odata.nextLink'?: string };
  for (;;) {
    for (const { owners = [], ...g } of page.value) {
      const ids = owners.length >= EXPAND_LIMIT ? await ownerIds(ctx.graph, g.id) : new Set(owners.map((o) => o.id.toLowerCase()));
      if (ids.has(me)) out.push(g);
    }
    ctx.heartbeat({ owned: out.length });
    const next = page['@odata.nextLink'];
    if (!next) return out;
    page = (await ctx.graph.api(next).get()) as typeof page;
  }
}

/**
 * The groups of a group hand-over: every group `from` owns, split into those Graph can change and the
 * skipped ones with the reason. After a retry, a group already handed over is no longer among those `from`
 * owns (or, kept owner, already has `to`), so nothing is done twice.
 */
async function groupHandOver(ctx: Pick<ActionContext, 'graph' | 'heartbeat'>, input: InputOf<typeof c.groupTransferOwnership>) {
  const from = await getUser(ctx.graph, input.from);
  const to = await getUser(ctx.graph, input.to);
  const groups: GroupInfo[] = [];
  const skipped: { groupId: string; displayName: string; reason: string }[] = [];
  for (const g of await groupsOwnedBy(ctx, from.id)) {
    const reason = managedByExchange(g) ? 'a distribution list or mail-enabled security group: its owners (ManagedBy) are kept by Exchange' : unchangeableReason(g);
    if (reason) skipped.push({ groupId: g.id, displayName: g.displayName, reason });
    else groups.push(g);
  }
  return { from, to, groups, skipped, removeFrom: input.previousOwner === 'remove' && from.id !== to.id };
}

export const groupTransferOwnership = implement(
  c.groupTransferOwnership,
  async (input, ctx) => {
    const { from, to, groups, skipped, removeFrom } = await groupHandOver(ctx, input);
    const out: { groupId: string; displayName: string; newOwnerAdded: boolean; previousOwnerRemoved: boolean }[] = [];
    for (const g of groups) {
      ctx.heartbeat({ group: g.id, done: out.length, of: groups.length });
      // The new owner first: a group whose only owner is `from` is never left without one.
      const newOwnerAdded = await addToGroup(ctx, g, to, 'owners');
      const previousOwnerRemoved = removeFrom ? await removeFromGroup(ctx, g, from, 'owners') : false;
      out.push({ groupId: g.id, displayName: g.displayName, newOwnerAdded, previousOwnerRemoved });
    }
    return { groups: out, skipped };
  },
  async (input, ctx) => {
    const { graph } = ctx;
    const { from, to, groups, removeFrom } = await groupHandOver(ctx, input);
    const out: Change[] = [];
    for (const g of groups) {
      const owners = await ownerIds(graph, g.id);
      if (!owners.has(to.id.toLowerCase())) out.push(change(groupObject(g), memberProperty('owner', to), false, true, { objectId: g.id }));
      if (removeFrom) out.push(change(groupObject(g), memberProperty('owner', from), true, false, { objectId: g.id }));
    }
    return out;
  },
);

const many = (add: boolean) => async (input: { users: string[]; groups: string[] }, ctx: ActionContext) => {
  const users = await resolveUsers(ctx.graph, input.users);
  const groups: GroupInfo[] = [];
  for (const ref of input.groups) groups.push(await getGroup(ctx.graph, ref));
  const results: { group: string; user: string; changed: boolean }[] = [];
  for (const g of groups) {
    for (const u of users) {
      results.push({ group: g.id, user: u.id, changed: add ? await addToGroup(ctx, g, u) : await removeFromGroup(ctx, g, u) });
      ctx.heartbeat({ done: results.length, of: users.length * groups.length });
    }
  }
  return { results };
};
export const groupAddMembers = implement(c.groupAddMembers, many(true), planMany(true));
export const groupRemoveMembers = implement(c.groupRemoveMembers, many(false), planMany(false));

/** The order manageM365Members changes things in: owners first in, last out. */
const M365_STEPS = [
  ['addOwners', 'owners', true],
  ['addMembers', 'members', true],
  ['removeMembers', 'members', false],
  ['removeOwners', 'owners', false],
] as const;

async function m365Group(graph: Client, ref: string): Promise<GroupInfo> {
  const g = await getGroup(graph, ref);
  if (groupKind(g) !== 'microsoft365') throw new ActionError(`"${g.displayName}" is not a Microsoft 365 group`, { code: 'InvalidInput', hint: 'use "Add users to groups" for other groups' });
  return g;
}

export const groupManageM365Members = implement(c.groupManageM365Members, async (input, ctx) => {
  const g = await m365Group(ctx.graph, input.group);
  const changes: { change: string; user: string; changed: boolean }[] = [];
  for (const [key, rel, add] of M365_STEPS) {
    for (const u of await resolveUsers(ctx.graph, input[key])) {
      changes.push({ change: key, user: u.id, changed: add ? await addToGroup(ctx, g, u, rel) : await removeFromGroup(ctx, g, u, rel) });
    }
  }
  if (input.addSubscribers.length || input.removeSubscribers.length) {
    const identity = g.mail ?? g.id;
    const subscribers = new Set(
      (await ctx.exchange.invoke<{ ExternalDirectoryObjectId?: string }>('Get-UnifiedGroupLinks', { Identity: identity, LinkType: 'Subscribers' }, ctx.signal)).map((s) =>
        (s.ExternalDirectoryObjectId ?? '').toLowerCase(),
      ),
    );
    for (const [key, cmdlet, add] of [['addSubscribers', 'Add-UnifiedGroupLinks', true], ['removeSubscribers', 'Remove-UnifiedGroupLinks', false]] as const) {
      for (const u of await resolveUsers(ctx.graph, input[key])) {
        const needed = subscribers.has(u.id.toLowerCase()) !== add;
        if (needed) await ctx.exchange.invoke(cmdlet, { Identity: identity, LinkType: 'Subscribers', Links: [u.userPrincipalName], ...(add ? {} : { Confirm: false }) }, ctx.signal);
        changes.push({ change: key, user: u.id, changed: needed });
      }
    }
  }
  return { groupId: g.id, changes };
}, planGroupManageM365Members);

// ---- plans ----

/** A group that may not exist yet: a conflict when one of that name does. */
async function planNewGroup(graph: Client, filter: string, what: string, object: string, properties: Record<string, unknown>, ownerRefs: string[], memberRefs: string[]): Promise<Change[]> {
  const found = ((await graph.api('/groups').filter(filter).select('id').top(1).get()) as { value: { id: string }[] }).value[0];
  if (found) throw new ActionError(`a group with ${what} already exists (${found.id})`, { code: 'ObjectConflict', hint: 'pick another name, or use "Edit group" to change the existing one', status: 400 });
  const owners = await resolveUsers(graph, ownerRefs);
  const members = await resolveUsers(graph, memberRefs);
  const id = knownAfterRun('output.id');
  return [
    ...creation(object, properties),
    ...owners.map((u) => change(object, memberProperty('owner', u), false, true, { objectId: id })),
    ...members.map((u) => change(object, memberProperty('member', u), false, true, { objectId: id })),
  ];
}

async function planGroupCreateSecurity(input: InputOf<typeof c.groupCreateSecurity>, { graph }: PlanContext): Promise<Change[]> {
  const properties = { displayName: input.displayName, description: input.description, mailNickname: input.mailNickname ?? nickname(input.displayName), securityEnabled: true, isAssignableToRole: input.isAssignableToRole || undefined };
  return planNewGroup(graph, `displayName eq ${odataString(input.displayName)}`, `the name "${input.displayName}"`, groupObject(input), properties, input.owners, input.members);
}

async function planGroupCreateM365(input: InputOf<typeof c.groupCreateM365>, { graph }: PlanContext): Promise<Change[]> {
  const properties = { displayName: input.displayName, description: input.description, mailNickname: input.mailNickname, groupTypes: ['Unified'], visibility: input.visibility };
  return planNewGroup(graph, `mailNickname eq ${odataString(input.mailNickname)}`, `the alias "${input.mailNickname}"`, groupObject(input), properties, input.owners, input.members);
}

async function planGroupUpdate({ group, ...fields }: InputOf<typeof c.groupUpdate>, { graph }: PlanContext): Promise<Change[]> {
  const g = await getGroup(graph, group);
  const desired = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (desired['visibility'] && groupKind(g) !== 'microsoft365') throw new ActionError(`"${g.displayName}" is not a Microsoft 365 group, so it has no visibility`, { code: 'InvalidInput' });
  return propertyChanges(groupObject(g), g.id, g as unknown as Record<string, unknown>, diff(g as unknown as Record<string, unknown>, desired));
}

async function planGroupDelete(input: InputOf<typeof c.groupDelete>, { graph }: PlanContext): Promise<Change[]> {
  const found = await orNotFound(findGroup(graph, input.group));
  if (!found) {
    if (await findDeletedGroup(graph, input.group)) return [];
    await findGroup(graph, input.group); // the operator-grade "does not exist"
  }
  const g = await getGroup(graph, found!.id);
  return [change(groupObject(g), 'exists', true, false, { objectId: g.id, note: groupKind(g) === 'microsoft365' ? RESTORABLE_NOTE : GONE_NOTE })];
}

async function planGroupRestore(input: InputOf<typeof c.groupRestore>, { graph }: PlanContext): Promise<Change[]> {
  const deleted = await findDeletedGroup(graph, input.group);
  if (deleted) return [change(groupObject(deleted), 'exists', false, true, { objectId: deleted.id, note: 'restored from deleted items with its members, owners, mailbox and files' })];
  if (await orNotFound(findGroup(graph, input.group))) return [];
  throw new ActionError(`there is no deleted group "${input.group}" in deleted items`, { code: 'Request_ResourceNotFound', hint: 'only Microsoft 365 groups can be restored, for 30 days after deletion', status: 404 });
}

function planOne(rel: 'members' | 'owners', add: boolean) {
  return async (input: { group: string; user: string }, { graph }: PlanContext): Promise<Change[]> => {
    const g = await getGroup(graph, input.group);
    refuseUnchangeable(g);
    const user = await userOrLater(graph, input.user);
    const property = memberProperty(rel === 'members' ? 'member' : 'owner', user);
    if (isKnownAfterRun(user)) return [change(groupObject(g), property, user, add, { objectId: g.id })];
    const has = await relations(graph).has(rel, g.id, user.id);
    if (has === add) return [];
    if (rel === 'owners' && !add && groupKind(g) === 'microsoft365' && (await ownerIds(graph, g.id)).size === 1) {
      const members = (await graph.api(`/groups/${g.id}/members`).select('id').top(1).get()) as { value: unknown[] };
      if (members.value.length) throw new ActionError(`${user.userPrincipalName} is the last owner of "${g.displayName}", which has members`, { code: 'LastOwner', hint: 'add another owner first' });
    }
    return [change(groupObject(g), property, has, add, { objectId: g.id })];
  };
}

function planMany(add: boolean) {
  return async (input: { users: string[]; groups: string[] }, { graph }: PlanContext): Promise<Change[]> => {
    const users = await resolveUsers(graph, input.users);
    const rel = relations(graph);
    const changes: Change[] = [];
    for (const ref of input.groups) {
      const g = await getGroup(graph, ref);
      refuseUnchangeable(g);
      for (const u of users) if ((await rel.has('members', g.id, u.id)) !== add) changes.push(change(groupObject(g), memberProperty('member', u), !add, add, { objectId: g.id }));
    }
    return changes;
  };
}

async function planGroupManageM365Members(input: InputOf<typeof c.groupManageM365Members>, ctx: PlanContext): Promise<Change[]> {
  const { graph } = ctx;
  const g = await m365Group(graph, input.group);
  const rel = relations(graph);
  const changes: Change[] = [];
  for (const [key, r, add] of M365_STEPS)
    for (const u of await resolveUsers(graph, input[key]))
      if ((await rel.has(r, g.id, u.id)) !== add) changes.push(change(groupObject(g), memberProperty(r === 'members' ? 'member' : 'owner', u), !add, add, { objectId: g.id }));
  if (input.addSubscribers.length || input.removeSubscribers.length) {
    const subscribers = new Set(
      (await ctx.exchange.invoke<{ ExternalDirectoryObjectId?: string }>('Get-UnifiedGroupLinks', { Identity: g.mail ?? g.id, LinkType: 'Subscribers' }, ctx.signal)).map((s) => (s.ExternalDirectoryObjectId ?? '').toLowerCase()),
    );
    for (const [key, add] of [['addSubscribers', true], ['removeSubscribers', false]] as const)
      for (const u of await resolveUsers(graph, input[key]))
        if (subscribers.has(u.id.toLowerCase()) !== add) changes.push(change(groupObject(g), memberProperty('subscriber', u), !add, add, { objectId: g.id }));
  }
  return changes;
}
