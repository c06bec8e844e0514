// Handlers of the user lifecycle actions (catalog/actions/users.ts).
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/users.ts';
import { userProfileShape } from '../../catalog/fields.ts';
import type { Change } from '../../catalog/contract.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext, PlanDraft } from '../implementation.ts';
import { change, creation, groupObject, knownAfterRun, userObject } from './changes.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import {
  addToGroup,
  afterCreate,
  assignLicences,
  createdByThisStep,
  diff,
  deliverSecret,
  directoryObjectRef,
  findSku,
  generatePassword,
  getGroup,
  getUser,
  GUID,
  groupKind,
  listAll,
  odataString,
  orNotFound,
  patchUser,
  profileToGraph,
  removeFromGroup,
  requireSeats,
  REVOKE_SELECT,
  revokeSessionsOnce,
  subscribedSkus,
  unchangeableReason,
  unless404,
  type GraphUser,
  type GroupInfo,
  type SubscribedSku,
} from './shared.ts';

const PROFILE_KEYS = Object.keys(userProfileShape);

function pickProfile(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(PROFILE_KEYS.filter((k) => input[k] !== undefined).map((k) => [k, input[k]]));
}

interface Provision {
  body: Record<string, unknown>;
  licences: { sku: SubscribedSku; disabledPlans: string[] }[];
  groups: GroupInfo[];
  managerId?: string;
  sendPasswordTo?: string;
  mailFrom?: string;
}

/**
 * Creates a user (or finds the one an earlier attempt of this step created), then licences, groups
 * and manager, each idempotent; emails the temporary password when asked.
 */
async function provisionUser(ctx: ActionContext, p: Provision) {
  const { graph } = ctx;
  const upn = p.body['userPrincipalName'] as string;
  const password = generatePassword();
  const select = 'id,userPrincipalName,createdDateTime,assignedLicenses,usageLocation';
  const ours = (u: GraphUser) => {
    if (createdByThisStep(ctx, u['createdDateTime'] as string)) return u;
    throw new ActionError(`user ${upn} already exists`, {
      code: 'ObjectConflict',
      hint: 'pick another user principal name, or use "Edit user properties" to change the existing user',
      status: 400,
    });
  };
  let user = await orNotFound(graph.api(`/users/${encodeURIComponent(upn)}`).select(select).get() as Promise<GraphUser>);
  let created = false;
  if (user) user = ours(user);
  else {
    try {
      const made = (await graph.api('/users').post({ ...p.body, passwordProfile: { forceChangePasswordNextSignIn: true, password } })) as GraphUser;
      user = { ...made, assignedLicenses: [], usageLocation: (p.body['usageLocation'] as string | undefined) ?? null };
      created = true;
    } catch (err) {
      if (statusOf(err) !== 400 || !/already exists|ObjectConflict|userPrincipalName/i.test((err as Error).message)) throw err;
      const again = await orNotFound(graph.api(`/users/${encodeURIComponent(upn)}`).select(select).get() as Promise<GraphUser>);
      if (!again) throw new ActionError(`user ${upn} exists but cannot be read yet`, { code: 'ReplicationLag', retryable: true });
      user = ours(again);
    }
  }
  let passwordSentTo: string | null = null;
  if (p.sendPasswordTo) {
    // A retry cannot know the first password, so it sets a fresh one: the last email sent holds the valid password.
    if (!created) await afterCreate('set password', graph.api(`/users/${user.id}`).patch({ passwordProfile: { forceChangePasswordNextSignIn: true, password } }));
    passwordSentTo = await deliverSecret(ctx, {
      to: p.sendPasswordTo,
      from: p.mailFrom,
      subject: `Temporary password for ${upn}`,
      intro: `A Microsoft 365 account was created for ${upn}. Its temporary password (it must be changed at first sign-in) is:`,
      secret: password,
    });
  }
  const { assigned, already } = await afterCreate('assign licences', assignLicences(graph, user, p.licences));
  const groups: string[] = [];
  for (const g of p.groups) {
    await afterCreate(`add to group ${g.displayName}`, addToGroup(ctx, g, user));
    groups.push(g.id);
  }
  if (p.managerId) await afterCreate('set manager', graph.api(`/users/${user.id}/manager/$ref`).put(directoryObjectRef(ctx, p.managerId)));
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    created,
    licences: [...assigned, ...already],
    groups,
    managerId: p.managerId ?? null,
    passwordSentTo,
  };
}

function mailNicknameOf(upn: string, given?: string): string {
  return given ?? upn.split('@')[0]!.replace(/[^A-Za-z0-9._-]/g, '');
}

/** What user.create needs from the tenant, each checked before the user exists; the body in the catalog's words. */
async function creationOf(input: InputOf<typeof c.userCreate>, graph: Client) {
  if (input.licences.length && !input.usageLocation)
    throw new ActionError('a usage location is needed to assign licences', { code: 'UsageLocationMissing', hint: 'set "usage location" (e.g. US) on the step' });
  const skus = input.licences.length ? await subscribedSkus(graph) : [];
  const licences = input.licences.map((ref) => ({ sku: findSku(skus, ref), disabledPlans: [] }));
  const groups: GroupInfo[] = [];
  for (const ref of input.groups) groups.push(await getGroup(graph, ref));
  const manager = input.manager ? await getUser(graph, input.manager) : undefined;
  const body = {
    ...pickProfile(input),
    accountEnabled: input.accountEnabled,
    userPrincipalName: input.userPrincipalName,
    mailNickname: mailNicknameOf(input.userPrincipalName, input.mailNickname),
  };
  return { body, licences, groups, manager, sendPasswordTo: input.sendPasswordTo };
}

export const userCreate = implement(c.userCreate, async (input, ctx) => {
  // Everything that can be wrong is checked before the user exists.
  const { body, manager, ...rest } = await creationOf(input, ctx.graph);
  return provisionUser(ctx, { ...rest, body: profileToGraph(body), managerId: manager?.id, mailFrom: input.mailFrom });
}, planUserCreate);

const CLONED_PROPERTIES = [
  'jobTitle', 'department', 'companyName', 'officeLocation', 'employeeType', 'streetAddress', 'city', 'state', 'postalCode', 'country',
  'usageLocation', 'preferredLanguage',
];

/** What user.clone copies from its source, checked before the new user exists. */
async function cloneOf(input: InputOf<typeof c.userClone>, graph: Client) {
  const source = await getUser(graph, input.source, ['id', 'userPrincipalName', 'assignedLicenses', ...CLONED_PROPERTIES].join(','));
  const copied = input.copyProperties ? CLONED_PROPERTIES.filter((k) => source[k] !== null && source[k] !== undefined) : [];
  const skus = input.copyLicences && source.assignedLicenses?.length ? await subscribedSkus(graph) : [];
  const licences = input.copyLicences ? (source.assignedLicenses ?? []).map((l) => ({ sku: findSku(skus, l.skuId), disabledPlans: l.disabledPlans })) : [];
  const groups: GroupInfo[] = [];
  const skippedGroups: { group: string; reason: string }[] = [];
  if (input.copyGroups) {
    const { items } = await listAll<GroupInfo & { '@odata.type'?: string }>(graph, `/users/${source.id}/memberOf`);
    for (const g of items.filter((o) => o['@odata.type'] === '#microsoft.graph.group')) {
      const reason = unchangeableReason(g);
      if (reason) skippedGroups.push({ group: g.displayName, reason });
      else groups.push(g);
    }
  }
  const manager = input.copyManager ? await orNotFound(graph.api(`/users/${source.id}/manager`).select('id,userPrincipalName').get() as Promise<GraphUser>) : undefined;
  if (licences.length && !source['usageLocation'])
    throw new ActionError(`the source user ${source.userPrincipalName} has no usage location, so its licences cannot be copied`, { code: 'UsageLocationMissing' });
  const body = {
    ...Object.fromEntries(copied.map((k) => [k, source[k]])),
    ...(licences.length ? { usageLocation: source['usageLocation'] } : {}),
    accountEnabled: input.accountEnabled,
    userPrincipalName: input.userPrincipalName,
    displayName: input.displayName,
    mailNickname: mailNicknameOf(input.userPrincipalName, input.mailNickname),
    ...(input.givenName ? { givenName: input.givenName } : {}),
    ...(input.surname ? { surname: input.surname } : {}),
  };
  return { body, licences, groups, manager, copied, skippedGroups };
}

export const userClone = implement(c.userClone, async (input, ctx) => {
  const { body, licences, groups, manager, copied, skippedGroups } = await cloneOf(input, ctx.graph);
  const out = await provisionUser(ctx, { body, licences, groups, managerId: manager?.id, sendPasswordTo: input.sendPasswordTo, mailFrom: input.mailFrom });
  return { ...out, copiedProperties: copied, skippedGroups };
}, planUserClone);

export const userUpdate = implement(c.userUpdate, async ({ user, clear, ...fields }, { graph }) => {
  const { user: u, changed } = await patchUser(graph, user, profileToGraph(fields, clear));
  return { userId: u.id, changed };
}, planUserUpdate);

export const userUpdateBulk = implement(c.userUpdateBulk, async ({ users, clear, ...fields }, { graph, heartbeat }) => {
  const desired = profileToGraph(fields, clear);
  const results: { user: string; userId: string; changed: string[] }[] = [];
  const failures: string[] = [];
  for (const [i, ref] of users.entries()) {
    try {
      const { user, changed } = await patchUser(graph, ref, desired);
      results.push({ user: ref, userId: user.id, changed });
    } catch (err) {
      // Throttling, 5xx, replication lag, a lost answer or a network error are not this user's fault:
      // the step runs again (users already changed are no-ops). Only a refusal of this user is.
      const status = statusOf(err);
      if (err instanceof ActionError ? err.retryable : status === undefined || status === 429 || status >= 500 || status <= 0) throw err;
      failures.push(`${ref}: ${(err as Error).message}`);
    }
    heartbeat({ done: i + 1, of: users.length });
  }
  if (failures.length)
    throw new ActionError(`${failures.length} of ${users.length} users could not be changed: ${failures.join('; ')}`, {
      code: 'PartialFailure',
      hint: 'fix those users (or remove them from the list) and retry; users already changed are left as they are',
    });
  return { results };
}, planUserUpdateBulk);

export const userSetContactInfo = implement(c.userSetContactInfo, async ({ user, ...fields }, { graph }) => {
  const { user: u, changed } = await patchUser(graph, user, profileToGraph(fields));
  return { userId: u.id, changed };
}, planUserSetContactInfo);

/** The user by its old name, or (a retry after a rename that worked) by its new one. */
async function userBeforeOrAfterRename(graph: Client, ref: string, newUpn: string | undefined, select: string): Promise<GraphUser> {
  try {
    return await getUser(graph, ref, select);
  } catch (err) {
    if (!newUpn || statusOf(err) !== 404) throw err;
    const renamed = await orNotFound(getUser(graph, newUpn, select));
    if (!renamed) throw err;
    return renamed;
  }
}

async function rename(graph: Client, ref: string, desired: Record<string, unknown>) {
  const newUpn = desired['userPrincipalName'] as string | undefined;
  const select = ['id', 'userPrincipalName', ...Object.keys(desired)].join(',');
  const user = await userBeforeOrAfterRename(graph, ref, newUpn, select);
  const previous = GUID.test(ref) ? user.userPrincipalName : ref;
  const changes = Object.fromEntries(Object.entries(desired).filter(([k, v]) => user[k] !== v));
  if (Object.keys(changes).length) {
    try {
      await graph.api(`/users/${user.id}`).patch(changes);
    } catch (err) {
      const msg = (err as Error).message;
      if (statusOf(err) === 400 && /verified domain/i.test(msg))
        throw new ActionError(`${newUpn} is not in a verified domain of this tenant`, { code: 'InvalidDomain', hint: 'use one of the tenant\'s verified domains', status: 400 });
      if (statusOf(err) === 400 && /already exists|ObjectConflict/i.test(msg))
        throw new ActionError(`another user already has the sign-in name ${newUpn}`, { code: 'ObjectConflict', status: 400 });
      throw err;
    }
  }
  return { userId: user.id, previousUserPrincipalName: previous, userPrincipalName: newUpn ?? user.userPrincipalName, changed: Object.keys(changes) };
}

export const userRename = implement(c.userRename, async ({ user, ...fields }, { graph }) => {
  const desired = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (Object.keys(desired).length === 0) throw new ActionError('nothing to rename: give a new sign-in name or name', { code: 'InvalidInput' });
  return rename(graph, user, desired);
}, planUserRename);

export const userChangeUpnDomain = implement(c.userChangeUpnDomain, async (input, { graph }) => {
  // The new name needs the current one; a retry after success finds the user under the new name.
  const localPart = (await orNotFound(getUser(graph, input.user)))?.userPrincipalName.split('@')[0] ?? input.user.split('@')[0]!;
  return rename(graph, input.user, { userPrincipalName: `${localPart}@${input.domain.toLowerCase()}` });
}, planUserChangeUpnDomain);

async function currentManager(graph: Client, userId: string): Promise<string | null> {
  const m = await orNotFound(graph.api(`/users/${userId}/manager`).select('id').get() as Promise<{ id: string }>);
  return m?.id ?? null;
}

export const userSetManager = implement(c.userSetManager, async (input, ctx) => {
  const [user, manager] = [await getUser(ctx.graph, input.user), await getUser(ctx.graph, input.manager)];
  if (user.id === manager.id) throw new ActionError(`${user.userPrincipalName} cannot be their own manager`, { code: 'InvalidInput' });
  const previous = await currentManager(ctx.graph, user.id);
  if (previous !== manager.id) await ctx.graph.api(`/users/${user.id}/manager/$ref`).put(directoryObjectRef(ctx, manager.id));
  return { userId: user.id, managerId: manager.id, previousManagerId: previous };
}, planUserSetManager);

export const userRemoveManager = implement(c.userRemoveManager, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const removed = await unless404(graph.api(`/users/${user.id}/manager/$ref`).delete());
  return { userId: user.id, removed };
}, planUserRemoveManager);

export const userSetAttributes = implement(c.userSetAttributes, async (input, { graph }) => {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,onPremisesExtensionAttributes,onPremisesSyncEnabled');
  if (user['onPremisesSyncEnabled'])
    throw new ActionError(`${user.userPrincipalName} is synchronised from on-premises: change its attributes in Active Directory`, { code: 'SyncedObject' });
  const current = (user['onPremisesExtensionAttributes'] ?? {}) as Record<string, string | null>;
  const changes = Object.fromEntries(Object.entries(input.attributes).filter(([k, v]) => (current[k] ?? null) !== v));
  if (Object.keys(changes).length) await graph.api(`/users/${user.id}`).patch({ onPremisesExtensionAttributes: changes });
  return { userId: user.id, changed: Object.keys(changes) };
}, planUserSetAttributes);

const setSignIn = (enabled: boolean) => async (input: { user: string }, { graph }: ActionContext) => {
  const { user, changed } = await patchUser(graph, input.user, { accountEnabled: enabled });
  return { userId: user.id, changed: changed.length > 0 };
};
export const userDisableSignIn = implement(c.userDisableSignIn, setSignIn(false), planSignIn(false));
export const userEnableSignIn = implement(c.userEnableSignIn, setSignIn(true), planSignIn(true));

export const userRevokeSessions = implement(c.userRevokeSessions, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user, REVOKE_SELECT);
  return { userId: user.id, revoked: await revokeSessionsOnce(ctx, user) };
}, planUserRevokeSessions);

export const userResetPassword = implement(c.userResetPassword, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const password = input.password ?? generatePassword();
  try {
    await ctx.graph.api(`/users/${user.id}`).patch({ passwordProfile: { password, forceChangePasswordNextSignIn: input.forceChangeAtNextSignIn } });
  } catch (err) {
    if (statusOf(err) === 400 && /complexity|password/i.test((err as Error).message))
      throw new ActionError(`the password for ${user.userPrincipalName} does not meet the tenant's password rules`, {
        code: 'PasswordComplexity',
        hint: 'use 8 to 256 characters with three of: lower case, upper case, digits, symbols; or let Tenantflow generate one',
        status: 400,
      });
    throw err;
  }
  const passwordSentTo = input.sendPasswordTo
    ? await deliverSecret(ctx, {
        to: input.sendPasswordTo,
        from: input.mailFrom,
        subject: `New password for ${user.userPrincipalName}`,
        intro: `The password of ${user.userPrincipalName} was reset${input.forceChangeAtNextSignIn ? ' (it must be changed at next sign-in)' : ''}. The new password is:`,
        secret: password,
      })
    : null;
  return { userId: user.id, generated: input.password === undefined, passwordSentTo, forceChangeAtNextSignIn: input.forceChangeAtNextSignIn };
}, planUserResetPassword);

export const userSetPasswordNeverExpires = implement(c.userSetPasswordNeverExpires, async (input, { graph }) => {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,passwordPolicies');
  const policies = new Set(String(user['passwordPolicies'] ?? '').split(',').map((p) => p.trim()).filter((p) => p && p !== 'None'));
  const had = policies.has('DisablePasswordExpiration');
  if (input.neverExpires) policies.add('DisablePasswordExpiration');
  else policies.delete('DisablePasswordExpiration');
  const passwordPolicies = [...policies].join(', ') || 'None';
  if (had !== input.neverExpires) await graph.api(`/users/${user.id}`).patch({ passwordPolicies });
  return { userId: user.id, passwordPolicies, changed: had !== input.neverExpires };
}, planUserSetPasswordNeverExpires);

// ---- deleted items ----

interface DeletedUser {
  id: string;
  userPrincipalName: string;
  mail?: string | null;
  deletedDateTime?: string;
}

/** A deleted user by id, or by the UPN it had (Entra prefixes a deleted user's UPN with its id). */
async function findDeletedUser(graph: Client, ref: string): Promise<DeletedUser | undefined> {
  if (GUID.test(ref)) return orNotFound(graph.api(`/directory/deletedItems/${ref}`).get() as Promise<DeletedUser>);
  const want = ref.toLowerCase();
  const { items } = await listAll<DeletedUser>(graph, '/directory/deletedItems/microsoft.graph.user', { select: 'id,userPrincipalName,mail,deletedDateTime' });
  const matches = items.filter((u) => {
    const upn = u.userPrincipalName.toLowerCase();
    return upn === want || upn === `${u.id.replace(/-/g, '')}${want}` || u.mail?.toLowerCase() === want;
  });
  if (matches.length > 1)
    throw new ActionError(`${matches.length} deleted users were called ${ref} (${matches.map((m) => m.id).join(', ')})`, { code: 'AmbiguousUser', hint: 'use the deleted user\'s object id' });
  return matches[0];
}

const deletedUserMissing = (ref: string) =>
  new ActionError(`there is no deleted user ${ref} in deleted items`, {
    code: 'Request_ResourceNotFound',
    hint: 'deleted users stay restorable for 30 days; check the name or use the object id',
    status: 404,
  });

async function deleteUser(ctx: ActionContext, ref: string, guestOnly: boolean) {
  const user = await orNotFound(getUser(ctx.graph, ref, 'id,userPrincipalName,userType'));
  if (!user) {
    const deleted = await findDeletedUser(ctx.graph, ref);
    // Deleted since this step began: an earlier attempt's delete, whose answer was lost.
    if (deleted || ctx.attempt > 1) return { userId: deleted?.id ?? ref, userPrincipalName: deleted?.userPrincipalName ?? ref, deleted: createdByThisStep(ctx, deleted?.deletedDateTime) };
    await getUser(ctx.graph, ref); // throws the operator-grade "does not exist"
  }
  if (guestOnly && user!['userType'] !== 'Guest')
    throw new ActionError(`${user!.userPrincipalName} is a member, not a guest: nothing was deleted`, { code: 'NotAGuest', hint: 'use "Remove user" for members' });
  await ctx.graph.api(`/users/${user!.id}`).delete();
  return { userId: user!.id, userPrincipalName: user!.userPrincipalName, deleted: true };
}

export const userDelete = implement(c.userDelete, async (input, ctx) => deleteUser(ctx, input.user, false), planUserDelete);

export const userRemoveGuest = implement(c.userRemoveGuest, async (input, ctx) => {
  const { userId, deleted } = await deleteUser(ctx, input.user, true);
  return { userId, deleted };
}, planUserRemoveGuest);

export const userRestore = implement(c.userRestore, async (input, { graph }) => {
  const deleted = await findDeletedUser(graph, input.user);
  if (!deleted) {
    const active = await orNotFound(getUser(graph, input.user));
    if (active) return { userId: active.id, userPrincipalName: active.userPrincipalName, restored: false };
    throw deletedUserMissing(input.user);
  }
  try {
    const restored = (await graph.api(`/directory/deletedItems/${deleted.id}/restore`).post({})) as DeletedUser;
    return { userId: deleted.id, userPrincipalName: restored.userPrincipalName ?? deleted.userPrincipalName, restored: true };
  } catch (err) {
    if (statusOf(err) === 400 && /conflict|already/i.test((err as Error).message))
      throw new ActionError(`the deleted user ${input.user} cannot be restored: another user now has its sign-in name or address`, {
        code: 'ObjectConflict',
        hint: 'rename or remove the other user first',
        status: 400,
      });
    throw err;
  }
}, planUserRestore);

export const userPermanentDelete = implement(c.userPermanentDelete, async (input, { graph, attempt }) => {
  const deleted = await findDeletedUser(graph, input.user);
  if (!deleted) {
    const active = await orNotFound(getUser(graph, input.user));
    if (active)
      throw new ActionError(`${active.userPrincipalName} is not deleted: remove the user first, then delete it permanently`, { code: 'NotDeleted', hint: 'put "Remove user" before this step' });
    if (attempt > 1) return { userId: input.user, purged: false };
    throw deletedUserMissing(input.user);
  }
  return { userId: deleted.id, purged: await unless404(graph.api(`/directory/deletedItems/${deleted.id}`).delete()) };
}, planUserPermanentDelete);

export const userRemoveFromAllGroups = implement(c.userRemoveFromAllGroups, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const { items } = await listAll<GroupInfo & { '@odata.type'?: string }>(ctx.graph, `/users/${user.id}/memberOf`);
  const removed: { id: string; displayName: string }[] = [];
  const skipped: { group: string; reason: string }[] = [];
  for (const g of items.filter((o) => o['@odata.type'] === '#microsoft.graph.group')) {
    const reason = unchangeableReason(g) ?? (!input.includeMailEnabled && ['distribution', 'mailEnabledSecurity'].includes(groupKind(g)) ? 'mail-enabled group (left alone as asked)' : undefined);
    if (reason) {
      skipped.push({ group: g.displayName, reason });
      continue;
    }
    if (await removeFromGroup(ctx, g, user)) removed.push({ id: g.id, displayName: g.displayName });
    ctx.heartbeat({ removed: removed.length });
  }
  return { userId: user.id, removed, skipped };
}, planUserRemoveFromAllGroups);

export const userInviteGuest = implement(c.userInviteGuest, async (input, ctx) => {
  const { graph } = ctx;
  const existing = (await graph
    .api('/users')
    .filter(`mail eq ${odataString(input.email)}`)
    .select('id,userPrincipalName,userType,externalUserState,createdDateTime')
    .get()) as { value: (GraphUser & { userType?: string; externalUserState?: string | null })[] };
  const found = existing.value[0];
  if (found) {
    if (found.userType !== 'Guest')
      throw new ActionError(`${input.email} already belongs to a member of this tenant (${found.userPrincipalName})`, { code: 'ObjectConflict', hint: 'members need no invitation' });
    // A guest created since this step began is this step's own invitation (its answer was lost): not invited again.
    return { userId: found.id, userPrincipalName: found.userPrincipalName, invited: createdByThisStep(ctx, found['createdDateTime'] as string | undefined), status: found.externalUserState ?? null };
  }
  const inv = (await graph.api('/invitations').post({
    invitedUserEmailAddress: input.email,
    invitedUserDisplayName: input.displayName,
    inviteRedirectUrl: input.redirectUrl,
    sendInvitationMessage: input.sendInvitation,
    ...(input.message ? { invitedUserMessageInfo: { customizedMessageBody: input.message } } : {}),
  })) as { status?: string; invitedUser: { id: string; userPrincipalName?: string } };
  const guest = inv.invitedUser.userPrincipalName ? undefined : await orNotFound(getUser(graph, inv.invitedUser.id));
  return {
    userId: inv.invitedUser.id,
    userPrincipalName: inv.invitedUser.userPrincipalName ?? guest?.userPrincipalName ?? input.email,
    invited: true,
    status: inv.status ?? null,
  };
}, planUserInviteGuest);

export const userClearImmutableId = implement(c.userClearImmutableId, async (input, { graph }) => {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,onPremisesImmutableId,onPremisesSyncEnabled');
  if (user['onPremisesSyncEnabled'])
    throw new ActionError(`${user.userPrincipalName} is still synchronised from on-premises; its immutable id cannot be cleared in the cloud`, {
      code: 'SyncedObject',
      hint: 'stop synchronising the account (move it out of the sync scope) and wait for it to become cloud-managed first',
    });
  const previous = (user['onPremisesImmutableId'] as string | null | undefined) ?? null;
  if (previous !== null) await graph.api(`/users/${user.id}`).patch({ onPremisesImmutableId: null });
  return { userId: user.id, previousImmutableId: previous, cleared: previous !== null };
}, planUserClearImmutableId);

// ---- plans (docs/plan.md): what each action would change, read from the tenant ----

const PASSWORD_NOTE = 'the temporary password is emailed, never shown';

/** What creating a user as `body` with these licences, groups and manager would change. */
async function planProvision(graph: Client, p: Omit<Provision, 'mailFrom'> & { managerUpn?: string }): Promise<Change[]> {
  const upn = p.body['userPrincipalName'] as string;
  const existing = await orNotFound(getUser(graph, upn));
  if (existing)
    throw new ActionError(`user ${upn} already exists`, { code: 'ObjectConflict', hint: 'pick another user principal name, or use "Edit user properties" to change the existing user', status: 400 });
  requireSeats(upn, p.body['usageLocation'] as string | undefined, p.licences.map((l) => l.sku));
  for (const g of p.groups) {
    const reason = unchangeableReason(g);
    if (reason) throw new ActionError(`the members of group "${g.displayName}" cannot be changed: ${reason}`, { code: 'GroupNotWritable', hint: 'pick an assigned (non-dynamic) cloud group' });
  }
  const object = userObject({ userPrincipalName: upn });
  const id = knownAfterRun('output.id');
  return [
    ...creation(object, p.body),
    ...p.licences.map((l) => change(object, `licence ${l.sku.skuPartNumber}`, false, true, { objectId: id, note: `${l.sku.prepaidUnits.enabled - l.sku.consumedUnits} of ${l.sku.prepaidUnits.enabled} free` })),
    ...p.groups.map((g) => change(groupObject(g), `member ${upn}`, false, true, { objectId: g.id })),
    ...(p.managerUpn ? [change(object, 'manager', null, p.managerUpn, { objectId: id })] : []),
    ...(p.sendPasswordTo ? [change(object, 'temporary password', null, `sent to ${p.sendPasswordTo}`, { objectId: id, note: PASSWORD_NOTE })] : []),
  ];
}

async function planUserCreate(input: InputOf<typeof c.userCreate>, { graph }: PlanContext): Promise<Change[]> {
  const { manager, ...rest } = await creationOf(input, graph);
  return planProvision(graph, { ...rest, managerUpn: manager?.userPrincipalName });
}

async function planUserClone(input: InputOf<typeof c.userClone>, { graph }: PlanContext): Promise<PlanDraft> {
  const { body, licences, groups, manager, skippedGroups } = await cloneOf(input, graph);
  const changes = await planProvision(graph, { body, licences, groups, managerUpn: manager?.userPrincipalName, sendPasswordTo: input.sendPasswordTo });
  return { changes, notes: skippedGroups.map((g) => `group "${g.group}" is not copied: ${g.reason}`) };
}

/** Profile changes in the catalog's words (businessPhone is a one-item list in Graph). */
function profileChanges(u: GraphUser, desired: Record<string, unknown>): Change[] {
  const object = userObject(u);
  const first = (v: unknown) => (Array.isArray(v) ? (v[0] ?? null) : null);
  return Object.entries(diff(u, desired)).map(([k, v]) =>
    k === 'businessPhones' ? change(object, 'businessPhone', first(u['businessPhones']), first(v), { objectId: u.id }) : change(object, k, u[k], v, { objectId: u.id }),
  );
}

async function planProfile(graph: Client, ref: string, desired: Record<string, unknown>): Promise<Change[]> {
  const u = await getUser(graph, ref, ['id', 'userPrincipalName', 'onPremisesSyncEnabled', ...Object.keys(desired)].join(','));
  return profileChanges(u, desired);
}

async function planUserUpdate({ user, clear, ...fields }: InputOf<typeof c.userUpdate>, { graph }: PlanContext): Promise<Change[]> {
  return planProfile(graph, user, profileToGraph(fields, clear));
}

async function planUserUpdateBulk({ users, clear, ...fields }: InputOf<typeof c.userUpdateBulk>, { graph, heartbeat }: PlanContext): Promise<PlanDraft> {
  const desired = profileToGraph(fields, clear);
  const changes: Change[] = [];
  const failures: string[] = [];
  for (const [i, ref] of users.entries()) {
    try {
      changes.push(...(await planProfile(graph, ref, desired)));
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      failures.push(`${ref}: ${err.message}`);
    }
    heartbeat({ planned: i + 1, of: users.length });
  }
  return { changes, ...(failures.length ? { fails: { reason: `${failures.length} of ${users.length} users could not be changed: ${failures.join('; ')}`, code: 'PartialFailure' } } : {}) };
}

async function planUserSetContactInfo({ user, ...fields }: InputOf<typeof c.userSetContactInfo>, { graph }: PlanContext): Promise<Change[]> {
  return planProfile(graph, user, profileToGraph(fields));
}

async function planRename(graph: Client, ref: string, desired: Record<string, unknown>): Promise<Change[]> {
  const user = await getUser(graph, ref, ['id', 'userPrincipalName', ...Object.keys(desired)].join(','));
  const newUpn = desired['userPrincipalName'] as string | undefined;
  if (newUpn && newUpn.toLowerCase() !== user.userPrincipalName.toLowerCase()) {
    const taken = await orNotFound(getUser(graph, newUpn));
    if (taken) throw new ActionError(`another user already has the sign-in name ${newUpn}`, { code: 'ObjectConflict', status: 400 });
  }
  const object = userObject(user);
  return Object.entries(desired).filter(([k, v]) => user[k] !== v).map(([k, v]) => change(object, k, user[k], v, { objectId: user.id }));
}

async function planUserRename({ user, ...fields }: InputOf<typeof c.userRename>, { graph }: PlanContext): Promise<Change[]> {
  const desired = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (Object.keys(desired).length === 0) throw new ActionError('nothing to rename: give a new sign-in name or name', { code: 'InvalidInput' });
  return planRename(graph, user, desired);
}

async function planUserChangeUpnDomain(input: InputOf<typeof c.userChangeUpnDomain>, { graph }: PlanContext): Promise<Change[]> {
  const u = await getUser(graph, input.user);
  return planRename(graph, u.id, { userPrincipalName: `${u.userPrincipalName.split('@')[0]}@${input.domain.toLowerCase()}` });
}

async function managerOf(graph: Client, userId: string): Promise<GraphUser | undefined> {
  return orNotFound(graph.api(`/users/${userId}/manager`).select('id,userPrincipalName').get() as Promise<GraphUser>);
}

async function planUserSetManager(input: InputOf<typeof c.userSetManager>, { graph }: PlanContext): Promise<Change[]> {
  const [user, manager] = [await getUser(graph, input.user), await getUser(graph, input.manager)];
  if (user.id === manager.id) throw new ActionError(`${user.userPrincipalName} cannot be their own manager`, { code: 'InvalidInput' });
  const previous = await managerOf(graph, user.id);
  return previous?.id === manager.id ? [] : [change(userObject(user), 'manager', previous?.userPrincipalName ?? null, manager.userPrincipalName, { objectId: user.id })];
}

async function planUserRemoveManager(input: InputOf<typeof c.userRemoveManager>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user);
  const previous = await managerOf(graph, user.id);
  return previous ? [change(userObject(user), 'manager', previous.userPrincipalName, null, { objectId: user.id })] : [];
}

async function planUserSetAttributes(input: InputOf<typeof c.userSetAttributes>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,onPremisesExtensionAttributes,onPremisesSyncEnabled');
  if (user['onPremisesSyncEnabled'])
    throw new ActionError(`${user.userPrincipalName} is synchronised from on-premises: its extension attributes are owned by Active Directory`, { code: 'SyncedObject', hint: 'change them in Active Directory' });
  const current = (user['onPremisesExtensionAttributes'] ?? {}) as Record<string, string | null>;
  return Object.entries(input.attributes)
    .filter(([k, v]) => (current[k] ?? null) !== v)
    .map(([k, v]) => change(userObject(user), k, current[k], v, { objectId: user.id }));
}

function planSignIn(enabled: boolean) {
  return async (input: { user: string }, { graph }: PlanContext): Promise<Change[]> => {
    const u = await getUser(graph, input.user, 'id,userPrincipalName,accountEnabled');
    return u['accountEnabled'] === enabled ? [] : [change(userObject(u), 'accountEnabled', u['accountEnabled'], enabled, { objectId: u.id })];
  };
}

async function planUserRevokeSessions(input: InputOf<typeof c.userRevokeSessions>, { graph }: PlanContext): Promise<Change[]> {
  const u = await getUser(graph, input.user);
  return [change(userObject(u), 'sign-in sessions', 'valid', 'revoked', { objectId: u.id, note: 'every app and device must sign in again; cannot be undone' })];
}

async function planUserResetPassword(input: InputOf<typeof c.userResetPassword>, { graph }: PlanContext): Promise<Change[]> {
  const u = await getUser(graph, input.user);
  const object = userObject(u);
  return [
    change(object, 'password', '(hidden)', input.password === undefined ? `(generated, sent to ${input.sendPasswordTo})` : '(given, hidden)', {
      objectId: u.id,
      note: `the old password cannot be restored${input.forceChangeAtNextSignIn ? '; the user must change it at next sign-in' : ''}`,
    }),
  ];
}

async function planUserSetPasswordNeverExpires(input: InputOf<typeof c.userSetPasswordNeverExpires>, { graph }: PlanContext): Promise<Change[]> {
  const u = await getUser(graph, input.user, 'id,userPrincipalName,passwordPolicies');
  const had = String(u['passwordPolicies'] ?? '').split(',').map((p) => p.trim()).includes('DisablePasswordExpiration');
  return had === input.neverExpires ? [] : [change(userObject(u), 'passwordNeverExpires', had, input.neverExpires, { objectId: u.id })];
}

const DELETED_NOTE = 'kept in deleted items for 30 days, restorable';

async function planDelete(graph: Client, ref: string, guestOnly: boolean): Promise<Change[]> {
  const user = await orNotFound(getUser(graph, ref, 'id,userPrincipalName,userType'));
  if (!user) {
    if (await findDeletedUser(graph, ref)) return [];
    await getUser(graph, ref); // the operator-grade "does not exist"
  }
  if (guestOnly && user!['userType'] !== 'Guest')
    throw new ActionError(`${user!.userPrincipalName} is a member, not a guest: nothing would be deleted`, { code: 'NotAGuest', hint: 'use "Remove user" for members' });
  return [change(userObject(user!), 'exists', true, false, { objectId: user!.id, note: DELETED_NOTE })];
}

async function planUserDelete(input: InputOf<typeof c.userDelete>, { graph }: PlanContext): Promise<Change[]> {
  return planDelete(graph, input.user, false);
}

async function planUserRemoveGuest(input: InputOf<typeof c.userRemoveGuest>, { graph }: PlanContext): Promise<Change[]> {
  return planDelete(graph, input.user, true);
}

async function planUserRestore(input: InputOf<typeof c.userRestore>, { graph }: PlanContext): Promise<Change[]> {
  const deleted = await findDeletedUser(graph, input.user);
  if (!deleted) {
    if (await orNotFound(getUser(graph, input.user))) return [];
    throw deletedUserMissing(input.user);
  }
  return [change(`user ${deleted.mail ?? input.user}`, 'exists', false, true, { objectId: deleted.id, note: 'restored from deleted items with its licences and groups' })];
}

async function planUserPermanentDelete(input: InputOf<typeof c.userPermanentDelete>, { graph }: PlanContext): Promise<Change[]> {
  const deleted = await findDeletedUser(graph, input.user);
  if (!deleted) {
    const active = await orNotFound(getUser(graph, input.user));
    if (active) throw new ActionError(`${active.userPrincipalName} is not deleted: remove the user first, then delete it permanently`, { code: 'NotDeleted', hint: 'put "Remove user" before this step' });
    throw deletedUserMissing(input.user);
  }
  return [change(`deleted user ${deleted.mail ?? input.user}`, 'in deleted items', true, false, { objectId: deleted.id, note: 'permanent: cannot be undone' })];
}

async function planUserRemoveFromAllGroups(input: InputOf<typeof c.userRemoveFromAllGroups>, { graph }: PlanContext): Promise<PlanDraft> {
  const user = await getUser(graph, input.user);
  const { items } = await listAll<GroupInfo & { '@odata.type'?: string }>(graph, `/users/${user.id}/memberOf`);
  const changes: Change[] = [];
  const notes: string[] = [];
  for (const g of items.filter((o) => o['@odata.type'] === '#microsoft.graph.group')) {
    const reason = unchangeableReason(g) ?? (!input.includeMailEnabled && ['distribution', 'mailEnabledSecurity'].includes(groupKind(g)) ? 'mail-enabled group (left alone as asked)' : undefined);
    if (reason) notes.push(`group "${g.displayName}" is left alone: ${reason}`);
    else changes.push(change(groupObject(g), `member ${user.userPrincipalName}`, true, false, { objectId: g.id }));
  }
  return { changes, notes };
}

async function planUserInviteGuest(input: InputOf<typeof c.userInviteGuest>, { graph }: PlanContext): Promise<Change[]> {
  const existing = (await graph.api('/users').filter(`mail eq ${odataString(input.email)}`).select('id,userPrincipalName,userType').get()) as { value: (GraphUser & { userType?: string })[] };
  const found = existing.value[0];
  if (found) {
    if (found.userType !== 'Guest') throw new ActionError(`${input.email} already belongs to a member of this tenant (${found.userPrincipalName})`, { code: 'ObjectConflict', hint: 'members need no invitation' });
    return [];
  }
  return [
    ...creation(`guest ${input.email}`, { userType: 'Guest', displayName: input.displayName, mail: input.email }, knownAfterRun('output.userId')),
    ...(input.sendInvitation ? [change(`guest ${input.email}`, 'invitation email', null, 'sent', { note: 'a sent invitation cannot be recalled' })] : []),
  ];
}

async function planUserClearImmutableId(input: InputOf<typeof c.userClearImmutableId>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,onPremisesImmutableId,onPremisesSyncEnabled');
  if (user['onPremisesSyncEnabled'])
    throw new ActionError(`${user.userPrincipalName} is still synchronised from on-premises; its immutable id is owned there`, {
      code: 'SyncedObject',
      hint: 'stop synchronising the account (move it out of the sync scope) and wait for it to become cloud-managed first',
    });
  const previous = (user['onPremisesImmutableId'] as string | null | undefined) ?? null;
  return previous === null ? [] : [change(userObject(user), 'onPremisesImmutableId', previous, null, { objectId: user.id })];
}
