// Handlers of the security and Microsoft 365 group actions (catalog/actions/groups.ts).
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/groups.ts';
import { implement, type ActionContext } from '../activity.ts';
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
  odataString,
  orNotFound,
  removeFromGroup,
  resolveUsers,
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
});

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
});

export const groupUpdate = implement(c.groupUpdate, async ({ group, ...fields }, { graph }) => {
  const g = await getGroup(graph, group);
  const desired = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (desired['visibility'] && groupKind(g) !== 'microsoft365') throw new ActionError(`"${g.displayName}" is not a Microsoft 365 group, so it has no visibility`, { code: 'InvalidInput' });
  const changes = diff(g as unknown as Record<string, unknown>, desired);
  if (Object.keys(changes).length) await graph.api(`/groups/${g.id}`).patch(changes);
  return { id: g.id, changed: Object.keys(changes) };
});

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
});

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
});

const one = (rel: 'members' | 'owners', add: boolean) => async (input: { group: string; user: string }, ctx: ActionContext) => {
  const [g, user] = [await getGroup(ctx.graph, input.group), await getUser(ctx.graph, input.user)];
  const changed = add ? await addToGroup(ctx, g, user, rel) : await removeFromGroup(ctx, g, user, rel);
  return { groupId: g.id, userId: user.id, changed };
};

export const groupAddMember = implement(c.groupAddMember, async (input, ctx) => {
  const { changed, ...ids } = await one('members', true)(input, ctx);
  return { ...ids, added: changed };
});
export const groupRemoveMember = implement(c.groupRemoveMember, async (input, ctx) => {
  const { changed, ...ids } = await one('members', false)(input, ctx);
  return { ...ids, removed: changed };
});
export const groupAddOwner = implement(c.groupAddOwner, async (input, ctx) => {
  const { changed, ...ids } = await one('owners', true)(input, ctx);
  return { ...ids, added: changed };
});
export const groupRemoveOwner = implement(c.groupRemoveOwner, async (input, ctx) => {
  const { changed, ...ids } = await one('owners', false)(input, ctx);
  return { ...ids, removed: changed };
});

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
export const groupAddMembers = implement(c.groupAddMembers, many(true));
export const groupRemoveMembers = implement(c.groupRemoveMembers, many(false));

export const groupManageM365Members = implement(c.groupManageM365Members, async (input, ctx) => {
  const g = await getGroup(ctx.graph, input.group);
  if (groupKind(g) !== 'microsoft365') throw new ActionError(`"${g.displayName}" is not a Microsoft 365 group`, { code: 'InvalidInput', hint: 'use "Add users to groups" for other groups' });
  const changes: { change: string; user: string; changed: boolean }[] = [];
  const steps = [
    ['addOwners', 'owners', true],
    ['addMembers', 'members', true],
    ['removeMembers', 'members', false],
    ['removeOwners', 'owners', false],
  ] as const;
  for (const [key, rel, add] of steps) {
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
});
