// Handlers of the user lifecycle actions (catalog/actions/users.ts).
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/users.ts';
import { userProfileShape } from '../../catalog/fields.ts';
import { implement, type ActionContext } from '../activity.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import {
  addToGroup,
  afterCreate,
  assignLicences,
  createdByThisStep,
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

export const userCreate = implement(c.userCreate, async (input, ctx) => {
  const { graph } = ctx;
  if (input.licences.length && !input.usageLocation)
    throw new ActionError('a usage location is needed to assign licences', { code: 'UsageLocationMissing', hint: 'set "usage location" (e.g. US) on the step' });
  // Everything that can be wrong is checked before the user exists.
  const skus = input.licences.length ? await subscribedSkus(graph) : [];
  const licences = input.licences.map((ref) => ({ sku: findSku(skus, ref), disabledPlans: [] }));
  const groups: GroupInfo[] = [];
  for (const ref of input.groups) groups.push(await getGroup(graph, ref));
  const manager = input.manager ? await getUser(graph, input.manager) : undefined;
  const body = {
    ...profileToGraph(pickProfile(input)),
    accountEnabled: input.accountEnabled,
    userPrincipalName: input.userPrincipalName,
    mailNickname: mailNicknameOf(input.userPrincipalName, input.mailNickname),
  };
  return provisionUser(ctx, { body, licences, groups, managerId: manager?.id, sendPasswordTo: input.sendPasswordTo, mailFrom: input.mailFrom });
});

const CLONED_PROPERTIES = [
  'jobTitle', 'department', 'companyName', 'officeLocation', 'employeeType', 'streetAddress', 'city', 'state', 'postalCode', 'country',
  'usageLocation', 'preferredLanguage',
];

export const userClone = implement(c.userClone, async (input, ctx) => {
  const { graph } = ctx;
  const source = await getUser(graph, input.source, ['id', 'userPrincipalName', 'assignedLicenses', ...CLONED_PROPERTIES].join(','));
  const copied = input.copyProperties ? CLONED_PROPERTIES.filter((k) => source[k] !== null && source[k] !== undefined) : [];
  const skus = input.copyLicences && source.assignedLicenses?.length ? await subscribedSkus(graph) : [];
  const licences = input.copyLicences
    ? (source.assignedLicenses ?? []).map((l) => ({ sku: findSku(skus, l.skuId), disabledPlans: l.disabledPlans }))
    : [];
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
  const manager = input.copyManager ? await orNotFound(graph.api(`/users/${source.id}/manager`).select('id').get() as Promise<{ id: string }>) : undefined;
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
  const out = await provisionUser(ctx, { body, licences, groups, managerId: manager?.id, sendPasswordTo: input.sendPasswordTo, mailFrom: input.mailFrom });
  return { ...out, copiedProperties: copied, skippedGroups };
});

export const userUpdate = implement(c.userUpdate, async ({ user, clear, ...fields }, { graph }) => {
  const { user: u, changed } = await patchUser(graph, user, profileToGraph(fields, clear));
  return { userId: u.id, changed };
});

export const userUpdateBulk = implement(c.userUpdateBulk, async ({ users, clear, ...fields }, { graph, heartbeat }) => {
  const desired = profileToGraph(fields, clear);
  const results: { user: string; userId: string; changed: string[] }[] = [];
  const failures: string[] = [];
  for (const [i, ref] of users.entries()) {
    try {
      const { user, changed } = await patchUser(graph, ref, desired);
      results.push({ user: ref, userId: user.id, changed });
    } catch (err) {
      if (statusOf(err) === 429 || (statusOf(err) ?? 0) >= 500) throw err; // the retry redoes the rest; done users are no-ops
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
});

export const userSetContactInfo = implement(c.userSetContactInfo, async ({ user, ...fields }, { graph }) => {
  const { user: u, changed } = await patchUser(graph, user, profileToGraph(fields));
  return { userId: u.id, changed };
});

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
});

export const userChangeUpnDomain = implement(c.userChangeUpnDomain, async (input, { graph }) => {
  // The new name needs the current one; a retry after success finds the user under the new name.
  const localPart = (await orNotFound(getUser(graph, input.user)))?.userPrincipalName.split('@')[0] ?? input.user.split('@')[0]!;
  return rename(graph, input.user, { userPrincipalName: `${localPart}@${input.domain.toLowerCase()}` });
});

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
});

export const userRemoveManager = implement(c.userRemoveManager, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const removed = await unless404(graph.api(`/users/${user.id}/manager/$ref`).delete());
  return { userId: user.id, removed };
});

export const userSetAttributes = implement(c.userSetAttributes, async (input, { graph }) => {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,onPremisesExtensionAttributes,onPremisesSyncEnabled');
  if (user['onPremisesSyncEnabled'])
    throw new ActionError(`${user.userPrincipalName} is synchronised from on-premises: change its attributes in Active Directory`, { code: 'SyncedObject' });
  const current = (user['onPremisesExtensionAttributes'] ?? {}) as Record<string, string | null>;
  const changes = Object.fromEntries(Object.entries(input.attributes).filter(([k, v]) => (current[k] ?? null) !== v));
  if (Object.keys(changes).length) await graph.api(`/users/${user.id}`).patch({ onPremisesExtensionAttributes: changes });
  return { userId: user.id, changed: Object.keys(changes) };
});

const setSignIn = (enabled: boolean) => async (input: { user: string }, { graph }: ActionContext) => {
  const { user, changed } = await patchUser(graph, input.user, { accountEnabled: enabled });
  return { userId: user.id, changed: changed.length > 0 };
};
export const userDisableSignIn = implement(c.userDisableSignIn, setSignIn(false));
export const userEnableSignIn = implement(c.userEnableSignIn, setSignIn(true));

export const userRevokeSessions = implement(c.userRevokeSessions, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user, 'id,userPrincipalName,createdDateTime,signInSessionsValidFromDateTime');
  // A retry after a revocation whose answer was lost finds sessions valid only from after this
  // step began (Entra sets signInSessionsValidFromDateTime to the time of the revocation); a user
  // created moments ago has it at its creation time, which is not a revocation.
  const validFrom = user['signInSessionsValidFromDateTime'] as string | undefined;
  if (createdByThisStep(ctx, validFrom) && Date.parse(validFrom!) > Date.parse(String(user['createdDateTime'] ?? 0))) return { userId: user.id, revoked: false };
  await ctx.graph.api(`/users/${user.id}/revokeSignInSessions`).post({});
  return { userId: user.id, revoked: true };
});

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
});

export const userSetPasswordNeverExpires = implement(c.userSetPasswordNeverExpires, async (input, { graph }) => {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,passwordPolicies');
  const policies = new Set(String(user['passwordPolicies'] ?? '').split(',').map((p) => p.trim()).filter((p) => p && p !== 'None'));
  const had = policies.has('DisablePasswordExpiration');
  if (input.neverExpires) policies.add('DisablePasswordExpiration');
  else policies.delete('DisablePasswordExpiration');
  const passwordPolicies = [...policies].join(', ') || 'None';
  if (had !== input.neverExpires) await graph.api(`/users/${user.id}`).patch({ passwordPolicies });
  return { userId: user.id, passwordPolicies, changed: had !== input.neverExpires };
});

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
    if (deleted || ctx.attempt > 1) return { userId: deleted?.id ?? ref, userPrincipalName: deleted?.userPrincipalName ?? ref, deleted: false };
    await getUser(ctx.graph, ref); // throws the operator-grade "does not exist"
  }
  if (guestOnly && user!['userType'] !== 'Guest')
    throw new ActionError(`${user!.userPrincipalName} is a member, not a guest: nothing was deleted`, { code: 'NotAGuest', hint: 'use "Remove user" for members' });
  await ctx.graph.api(`/users/${user!.id}`).delete();
  return { userId: user!.id, userPrincipalName: user!.userPrincipalName, deleted: true };
}

export const userDelete = implement(c.userDelete, async (input, ctx) => deleteUser(ctx, input.user, false));

export const userRemoveGuest = implement(c.userRemoveGuest, async (input, ctx) => {
  const { userId, deleted } = await deleteUser(ctx, input.user, true);
  return { userId, deleted };
});

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
});

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
});

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
});

export const userInviteGuest = implement(c.userInviteGuest, async (input, { graph }) => {
  const existing = (await graph
    .api('/users')
    .filter(`mail eq ${odataString(input.email)}`)
    .select('id,userPrincipalName,userType,externalUserState')
    .get()) as { value: (GraphUser & { userType?: string; externalUserState?: string | null })[] };
  const found = existing.value[0];
  if (found) {
    if (found.userType !== 'Guest')
      throw new ActionError(`${input.email} already belongs to a member of this tenant (${found.userPrincipalName})`, { code: 'ObjectConflict', hint: 'members need no invitation' });
    return { userId: found.id, userPrincipalName: found.userPrincipalName, invited: false, status: found.externalUserState ?? null };
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
});

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
});
