// Security and Microsoft 365 group actions (Graph): create, edit, remove, restore, members, owners.
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { GONE_NOTE, restoreProperties, step, undoWith } from '../reversal.ts';
import { groupRef, groupRefs, userRef, userRefs } from '../fields.ts';

const groupId = z.string().describe('Object id of the group');
const alias = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only')
  .max(64)
  .describe('Mail alias (the part before @); defaults to the display name without spaces');
const pairResults = z
  .array(z.object({ group: z.string().describe('Group object id'), user: z.string().describe('User object id'), changed: z.boolean() }))
  .describe('One entry per user and group; changed is false when there was nothing to do');

export const groupCreateSecurity = defineAction({
  id: 'group.createSecurity',
  title: 'Create security group',
  category: 'group',
  description:
    'Creates a security group with owners and members. A group of that name created by an earlier attempt of this step is ' +
    'reused; another group of the same name is a conflict.',
  input: z.strictObject({
    displayName: z.string().min(1).max(256).describe('Group name'),
    description: z.string().max(1024).optional().describe('What the group is for'),
    mailNickname: alias.optional(),
    owners: z.array(userRef).default([]).describe('Owners: user principal names or object ids'),
    members: z.array(userRef).default([]).describe('Members: user principal names or object ids'),
    isAssignableToRole: z.boolean().default(false).describe('Allow directory roles to be assigned to the group (cannot be changed later)'),
  }),
  output: z.object({ id: groupId, displayName: z.string(), created: z.boolean() }),
  permissions: ['Group.Create', 'GroupMember.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  undo: 'group.delete',
  reverse: ({ output }) => undoWith(step('group.delete', { group: output.id }, `delete ${output.displayName}, created by the run`)),
});

export const groupCreateM365 = defineAction({
  id: 'group.createM365',
  title: 'Create Microsoft 365 group',
  category: 'group',
  description:
    'Creates a Microsoft 365 group (shared mailbox, calendar, files) with owners and members. The mail alias must be free; ' +
    'a group with that alias created by an earlier attempt of this step is reused.',
  input: z.strictObject({
    displayName: z.string().min(1).max(256).describe('Group name'),
    mailNickname: alias,
    description: z.string().max(1024).optional().describe('What the group is for'),
    visibility: z.enum(['Private', 'Public']).default('Private').describe('Private: owners approve who joins; Public: anyone in the organisation can join'),
    owners: z.array(userRef).default([]).describe('Owners: user principal names or object ids (recommended: at least one)'),
    members: z.array(userRef).default([]).describe('Members: user principal names or object ids'),
  }),
  output: z.object({ id: groupId, displayName: z.string(), mail: z.string().nullable(), created: z.boolean() }),
  permissions: ['Group.Create', 'GroupMember.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  undo: 'group.delete',
  reverse: ({ output }) => undoWith(step('group.delete', { group: output.id }, `delete ${output.displayName}, created by the run`)),
});

export const groupUpdate = defineAction({
  id: 'group.update',
  title: 'Edit group',
  category: 'group',
  description: 'Changes the name, description or visibility of a security or Microsoft 365 group. Give only what changes.',
  input: z.strictObject({
    group: groupRef,
    displayName: z.string().min(1).max(256).optional().describe('New name'),
    description: z.string().max(1024).optional().describe('New description'),
    visibility: z.enum(['Private', 'Public']).optional().describe('New visibility (Microsoft 365 groups)'),
  }),
  output: z.object({ id: groupId, changed: z.array(z.string()) }),
  permissions: ['Group.ReadWrite.All'],
  bulk: true,
  reverse: ({ output, changes }) => {
    const { set } = restoreProperties(changes);
    const emptied = changes.filter((c) => c.before === null || c.before === undefined).map((c) => c.property);
    return emptied.some((p) => p !== 'description')
      ? { irreversible: `${emptied.join(', ')} had no value before, and a group's name or visibility cannot be emptied` }
      : undoWith(step('group.update', { group: output.id, ...set, ...(emptied.includes('description') ? { description: '' } : {}) }, `${changes.map((c) => c.property).join(', ')} back`));
  },
});

export const groupDelete = defineAction({
  id: 'group.delete',
  title: 'Remove group',
  category: 'group',
  description: 'Deletes a security or Microsoft 365 group. Microsoft 365 groups stay restorable for 30 days.',
  input: z.strictObject({ group: groupRef }),
  output: z.object({ id: groupId, deleted: z.boolean().describe('false when the group was already deleted') }),
  permissions: ['Group.ReadWrite.All'],
  bulk: true,
  undo: 'group.restore',
  reverse: ({ output, changes }) =>
    changes.some((c) => c.note === GONE_NOTE)
      ? { irreversible: 'security groups are deleted for good (only Microsoft 365 groups can be restored)' }
      : undoWith(step('group.restore', { group: output.id }, 'restore the group from deleted items')),
});

export const groupRestore = defineAction({
  id: 'group.restore',
  title: 'Restore deleted group',
  category: 'group',
  description: 'Restores a deleted Microsoft 365 group (with its members, owners, mailbox and files) from deleted items.',
  input: z.strictObject({ group: z.string().min(1).describe('The deleted group: object id, display name or mail address') }),
  output: z.object({ id: groupId, displayName: z.string(), restored: z.boolean().describe('false when the group was already active') }),
  permissions: ['Group.ReadWrite.All'],
  bulk: true,
  undo: 'group.delete',
  reverse: ({ output }) => undoWith(step('group.delete', { group: output.id }, `delete ${output.displayName} again`)),
});

export const groupAddMember = defineAction({
  id: 'group.addMember',
  title: 'Add user to group',
  category: 'group',
  description:
    'Adds a user to a security, Microsoft 365 or distribution group. A user who is already a member counts as done.',
  input: z.strictObject({ group: groupRef, user: userRef }),
  output: z.object({
    groupId: z.string(),
    userId: z.string(),
    added: z.boolean().describe('false when the user was already a member'),
  }),
  permissions: ['GroupMember.ReadWrite.All', 'User.Read.All'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: true,
  undo: 'group.removeMember',
  reverse: ({ output }) => undoWith(step('group.removeMember', { group: output.groupId, user: output.userId }, 'take the user out of the group again')),
});

export const groupRemoveMember = defineAction({
  id: 'group.removeMember',
  title: 'Remove user from group',
  category: 'group',
  description: 'Removes a user from a security, Microsoft 365 or distribution group. A user who is not a member counts as done.',
  input: z.strictObject({ group: groupRef, user: userRef }),
  output: z.object({ groupId: z.string(), userId: z.string(), removed: z.boolean().describe('false when the user was not a member') }),
  permissions: ['GroupMember.ReadWrite.All', 'User.Read.All'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: true,
  undo: 'group.addMember',
  reverse: ({ output }) => undoWith(step('group.addMember', { group: output.groupId, user: output.userId }, 'put the user back into the group')),
});

export const groupAddMembers = defineAction({
  id: 'group.addMembers',
  title: 'Add users to groups',
  category: 'group',
  description: 'Adds every listed user to every listed group (security, Microsoft 365 or distribution). Existing memberships count as done.',
  input: z.strictObject({ users: userRefs, groups: groupRefs }),
  output: z.object({ results: pairResults }),
  permissions: ['GroupMember.ReadWrite.All', 'User.Read.All'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: true,
  undo: 'group.removeMembers',
  reverse: ({ output }) => undoWith(...output.results.filter((r) => r.changed).map((r) => step('group.removeMember', { group: r.group, user: r.user }))),
});

export const groupRemoveMembers = defineAction({
  id: 'group.removeMembers',
  title: 'Remove users from groups',
  category: 'group',
  description: 'Removes every listed user from every listed group. Users who are not members count as done.',
  input: z.strictObject({ users: userRefs, groups: groupRefs }),
  output: z.object({ results: pairResults }),
  permissions: ['GroupMember.ReadWrite.All', 'User.Read.All'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: true,
  undo: 'group.addMembers',
  reverse: ({ output }) => undoWith(...output.results.filter((r) => r.changed).map((r) => step('group.addMember', { group: r.group, user: r.user }))),
});

export const groupAddOwner = defineAction({
  id: 'group.addOwner',
  title: 'Add group owner',
  category: 'group',
  description: 'Makes a user an owner of a security or Microsoft 365 group. An existing owner counts as done.',
  input: z.strictObject({ group: groupRef, user: userRef }),
  output: z.object({ groupId: z.string(), userId: z.string(), added: z.boolean() }),
  permissions: ['Group.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  undo: 'group.removeOwner',
  reverse: ({ output }) => undoWith(step('group.removeOwner', { group: output.groupId, user: output.userId }, 'remove the owner again')),
});

export const groupRemoveOwner = defineAction({
  id: 'group.removeOwner',
  title: 'Remove group owner',
  category: 'group',
  description: 'Removes an owner from a group. A user who is not an owner counts as done; the last owner of a Microsoft 365 group with members cannot be removed.',
  input: z.strictObject({ group: groupRef, user: userRef }),
  output: z.object({ groupId: z.string(), userId: z.string(), removed: z.boolean() }),
  permissions: ['Group.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  undo: 'group.addOwner',
  reverse: ({ output }) => undoWith(step('group.addOwner', { group: output.groupId, user: output.userId }, 'make the user an owner again')),
});

export const groupTransferOwnership = defineAction({
  id: 'group.transferOwnership',
  title: 'Hand over group ownership',
  category: 'group',
  description:
    'Makes `to` an owner of every security and Microsoft 365 group `from` owns (every group of the tenant is read with its owners: ' +
    'slow in large tenants, as GET /users/{id}/ownedObjects takes delegated permissions only), ' +
    'then removes `from` as owner: the new owner always comes first, so a group whose last owner is `from` is never left without one. ' +
    'Groups Graph cannot change (distribution lists and mail-enabled security groups, which Exchange keeps; groups synchronised from ' +
    'on-premises) are listed under "skipped" with the reason. Groups already handed over count as done. For teams, run "Hand over team ' +
    'ownership" first: it keeps the Teams roles right.',
  input: z.strictObject({
    from: userRef.describe('The current owner (e.g. the leaver)'),
    to: userRef.describe('The new owner (e.g. the manager)'),
    previousOwner: z.enum(['remove', 'keepOwner']).default('remove').describe('What becomes of `from`: removed as owner, or left an owner beside `to`'),
  }),
  output: z.object({
    groups: z.array(z.object({ groupId, displayName: z.string(), newOwnerAdded: z.boolean(), previousOwnerRemoved: z.boolean() })).describe('One entry per group handed over'),
    skipped: z.array(z.object({ groupId, displayName: z.string(), reason: z.string() })).describe('Groups `from` owns that this action cannot change, and why'),
  }),
  permissions: ['Group.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  // Per group, the previous owner back first (so the group never lacks an owner), then the new owner removed.
  reverse: ({ changes }) => {
    const back = changes.filter((c) => c.property.startsWith('owner ') && typeof c.objectId === 'string');
    const stepOf = (c: (typeof back)[number]) => {
      const user = c.property.slice('owner '.length);
      return c.before === true
        ? step('group.addOwner', { group: c.objectId, user }, `make ${user} an owner of ${c.object} again`)
        : step('group.removeOwner', { group: c.objectId, user }, `remove ${user} as owner of ${c.object}`);
    };
    return undoWith(...back.filter((c) => c.before === true).map(stepOf), ...back.filter((c) => c.before !== true).map(stepOf));
  },
});

export const groupManageM365Members = defineAction({
  id: 'group.manageM365Members',
  title: 'Manage Microsoft 365 group members',
  category: 'group',
  description:
    'Adds and removes members, owners and subscribers of a Microsoft 365 group in one step. Subscribers (who get the group\'s ' +
    'conversations in their inbox) are kept by Exchange, so they change through the Exchange admin API.',
  input: z.strictObject({
    group: groupRef,
    addMembers: z.array(userRef).default([]).describe('Users to add as members'),
    removeMembers: z.array(userRef).default([]).describe('Users to remove as members'),
    addOwners: z.array(userRef).default([]).describe('Users to add as owners'),
    removeOwners: z.array(userRef).default([]).describe('Users to remove as owners'),
    addSubscribers: z.array(userRef).default([]).describe('Members who should receive group conversations by email'),
    removeSubscribers: z.array(userRef).default([]).describe('Members who should stop receiving group conversations by email'),
  }),
  output: z.object({
    groupId: z.string(),
    changes: z.array(z.object({ change: z.string().describe('e.g. addMembers'), user: z.string(), changed: z.boolean() })),
  }),
  permissions: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'User.Read.All'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: false,
  reverse: ({ output }) => {
    const inverse: Record<string, string> = { addMembers: 'removeMembers', removeMembers: 'addMembers', addOwners: 'removeOwners', removeOwners: 'addOwners', addSubscribers: 'removeSubscribers', removeSubscribers: 'addSubscribers' };
    const params: Record<string, string[]> = {};
    for (const c of output.changes.filter((x) => x.changed)) (params[inverse[c.change]!] ??= []).push(c.user);
    return undoWith(Object.keys(params).length > 0 && step('group.manageM365Members', { group: output.groupId, ...params }, 'members, owners and subscribers back'));
  },
});
