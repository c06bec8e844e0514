// What the plans of the actions share: how objects are named in a change, before -> after rows,
// and references that are known only after the run (an earlier step creates the object).
import type { Client } from '@microsoft/microsoft-graph-client';
import { isKnownAfterRun, knownAfterRun, type Change, type KnownAfterRun } from '../../catalog/contract.ts';
import { getGroup, getUser, listAll, type GraphUser, type GroupInfo } from './shared.ts';

export { knownAfterRun, isKnownAfterRun };

export const userObject = (u: Pick<GraphUser, 'userPrincipalName'>): string => `user ${u.userPrincipalName}`;
export const groupObject = (g: { displayName: string }): string => `group ${g.displayName}`;

export function change(object: string, property: string, before: unknown, after: unknown, extra: { objectId?: string | KnownAfterRun; note?: string } = {}): Change {
  return { object, ...(extra.objectId !== undefined ? { objectId: extra.objectId } : {}), property, before: before ?? null, after: after ?? null, ...(extra.note ? { note: extra.note } : {}) };
}

/** One row per property whose value differs (compared as JSON, absent = null). */
export function propertyChanges(object: string, objectId: string | undefined, current: Record<string, unknown>, desired: Record<string, unknown>): Change[] {
  const out: Change[] = [];
  for (const [k, after] of Object.entries(desired)) {
    const before = current[k] ?? null;
    if (JSON.stringify(before) !== JSON.stringify(after ?? null)) out.push(change(object, k, before, after, { objectId }));
  }
  return out;
}

/** Rows for a new object: it comes to exist, with these properties. */
export function creation(object: string, properties: Record<string, unknown>, objectId: string | KnownAfterRun = knownAfterRun('output.id')): Change[] {
  const id = objectId;
  return [
    change(object, 'exists', false, true, { objectId: id }),
    ...Object.entries(properties)
      .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => change(object, k, null, v, { objectId: id })),
  ];
}

/** A user that an earlier step may create: the user, or the reference known only after the run. */
export type MaybeUser = GraphUser | KnownAfterRun;

export async function userOrLater(graph: Client, ref: unknown, select?: string): Promise<MaybeUser> {
  return isKnownAfterRun(ref) ? ref : getUser(graph, ref as string, select);
}

export function userLabel(u: MaybeUser): string {
  return isKnownAfterRun(u) ? `user (${u.$knownAfterRun}, known after the run)` : userObject(u);
}

export const idOf = (u: MaybeUser): string | undefined => (isKnownAfterRun(u) ? undefined : u.id);
export const nameOf = (u: MaybeUser): string => (isKnownAfterRun(u) ? `(${u.$knownAfterRun}, known after the run)` : u.userPrincipalName);

export async function groupOrLater(graph: Client, ref: unknown): Promise<GroupInfo | KnownAfterRun> {
  return isKnownAfterRun(ref) ? ref : getGroup(graph, ref as string);
}

/** "member anna@contoso.com" */
export const memberProperty = (rel: 'member' | 'owner' | 'subscriber', u: MaybeUser): string => `${rel} ${nameOf(u)}`;

/** Ids of the groups a user is a direct member of (Graph lists distribution lists there too). */
export async function directGroupIds(graph: Client, userId: string): Promise<Set<string>> {
  const { items } = await listAll<{ id: string }>(graph, `/users/${userId}/memberOf`, { select: 'id' });
  return new Set(items.map((g) => g.id.toLowerCase()));
}

/** Ids of a group's owners. */
export async function ownerIds(graph: Client, groupId: string): Promise<Set<string>> {
  const { items } = await listAll<{ id: string }>(graph, `/groups/${groupId}/owners`, { select: 'id' });
  return new Set(items.map((o) => o.id.toLowerCase()));
}

/** Whether a user is in a group as member or owner, asked once per user (or group) in a plan. */
export function relations(graph: Client) {
  const memberOf = new Map<string, Promise<Set<string>>>();
  const owners = new Map<string, Promise<Set<string>>>();
  return {
    async has(rel: 'members' | 'owners', groupId: string, userId: string): Promise<boolean> {
      if (rel === 'members') {
        if (!memberOf.has(userId)) memberOf.set(userId, directGroupIds(graph, userId));
        return (await memberOf.get(userId)!).has(groupId.toLowerCase());
      }
      if (!owners.has(groupId)) owners.set(groupId, ownerIds(graph, groupId));
      return (await owners.get(groupId)!).has(userId.toLowerCase());
    },
  };
}
