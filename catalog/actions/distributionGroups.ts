// Distribution lists and mail-enabled security groups: Graph cannot write them, so these actions go
// through the Exchange Online admin API (InvokeCommand).
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { step, undoWith } from '../reversal.ts';
import { recipientRef, userRef } from '../fields.ts';

const EXO = ['Exchange.ManageAsApp'];
const identity = z.string().describe('Exchange identity of the group (its primary SMTP address)');
const memberRef = userRef.describe('A member: user principal name, mail address or object id');

export const distributionGroupCreate = defineAction({
  id: 'distributionGroup.create',
  title: 'Create distribution group',
  category: 'group',
  description:
    'Creates a distribution list or a mail-enabled security group, with owners and members. A group with that alias counts ' +
    'as done when an earlier attempt of this step created it.',
  input: z.strictObject({
    name: z.string().min(1).max(64).describe('Unique name of the group'),
    displayName: z.string().max(256).optional().describe('Name shown in the address book; defaults to the name'),
    alias: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only')
      .max(64)
      .describe('Mail alias (the part before @)'),
    primarySmtpAddress: z.email().optional().describe('Email address; defaults to alias@default domain'),
    type: z.enum(['Distribution', 'Security']).default('Distribution').describe('Distribution list, or mail-enabled security group'),
    owners: z.array(userRef).default([]).describe('Owners (ManagedBy)'),
    members: z.array(memberRef).default([]).describe('Members'),
    requireSenderAuthentication: z.boolean().default(true).describe('Accept mail from inside the organisation only'),
    memberJoinRestriction: z.enum(['Open', 'Closed', 'ApprovalRequired']).default('Closed').describe('Whether people can join by themselves'),
  }),
  output: z.object({ identity, name: z.string(), primarySmtpAddress: z.string(), created: z.boolean() }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'distributionGroup.delete',
  reverse: ({ output }) => undoWith(step('distributionGroup.delete', { group: output.identity }, `delete ${output.primarySmtpAddress}, created by the run`)),
});

export const distributionGroupUpdate = defineAction({
  id: 'distributionGroup.update',
  title: 'Edit distribution group',
  category: 'group',
  description: 'Changes the settings of a distribution list or mail-enabled security group. Give only what changes.',
  input: z.strictObject({
    group: recipientRef,
    displayName: z.string().min(1).max(256).optional().describe('New display name'),
    primarySmtpAddress: z.email().optional().describe('New primary email address'),
    owners: z.array(userRef).optional().describe('Replace the owners (ManagedBy)'),
    requireSenderAuthentication: z.boolean().optional().describe('Accept mail from inside the organisation only'),
    memberJoinRestriction: z.enum(['Open', 'Closed', 'ApprovalRequired']).optional().describe('Whether people can join by themselves'),
    hiddenFromAddressLists: z.boolean().optional().describe('Hide the group from the address book'),
  }),
  output: z.object({ identity, changed: z.array(z.string()) }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ output, changes }) => {
    const before = Object.fromEntries(changes.map((c) => [c.property, c.before]));
    return undoWith(step('distributionGroup.update', { group: output.identity, ...before }, `${changes.map((c) => c.property).join(', ')} back`));
  },
});

export const distributionGroupDelete = defineAction({
  id: 'distributionGroup.delete',
  title: 'Remove distribution group',
  category: 'group',
  description: 'Deletes a distribution list or mail-enabled security group. This cannot be undone from Tenantflow.',
  input: z.strictObject({ group: recipientRef }),
  output: z.object({ deleted: z.boolean().describe('false when the group did not exist') }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  irreversible: 'distribution groups are deleted for good',
});

const memberResults = z.array(z.object({ member: z.string(), changed: z.boolean() })).describe('One entry per member; changed is false when there was nothing to do');

export const distributionGroupAddMembers = defineAction({
  id: 'distributionGroup.addMembers',
  title: 'Add members to distribution group',
  category: 'group',
  description: 'Adds users to a distribution list or mail-enabled security group. Existing members count as done.',
  input: z.strictObject({ group: recipientRef, members: z.array(memberRef).min(1).describe('Users to add') }),
  output: z.object({ identity, results: memberResults }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'distributionGroup.removeMembers',
  reverse: ({ output }) => {
    const members = output.results.filter((r) => r.changed).map((r) => r.member);
    return undoWith(members.length > 0 && step('distributionGroup.removeMembers', { group: output.identity, members }, 'take the members out again'));
  },
});

export const distributionGroupRemoveMembers = defineAction({
  id: 'distributionGroup.removeMembers',
  title: 'Remove members from distribution group',
  category: 'group',
  description: 'Removes users from a distribution list or mail-enabled security group. Users who are not members count as done.',
  input: z.strictObject({ group: recipientRef, members: z.array(memberRef).min(1).describe('Users to remove') }),
  output: z.object({ identity, results: memberResults }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'distributionGroup.addMembers',
  reverse: ({ output }) => {
    const members = output.results.filter((r) => r.changed).map((r) => r.member);
    return undoWith(members.length > 0 && step('distributionGroup.addMembers', { group: output.identity, members }, 'put the members back'));
  },
});

const sendPermission = z
  .enum(['SendAs', 'SendOnBehalf'])
  .describe('Send As: mail looks as if the group sent it; Send on Behalf: "user on behalf of group"');

export const distributionGroupGrantSendPermission = defineAction({
  id: 'distributionGroup.grantSendPermission',
  title: 'Grant send permission on distribution group',
  category: 'group',
  description: 'Lets users send as, or on behalf of, a distribution list or mail-enabled security group. Existing grants count as done.',
  input: z.strictObject({ group: recipientRef, users: z.array(userRef).min(1).describe('Users who may send'), permission: sendPermission }),
  output: z.object({ identity, results: z.array(z.object({ user: z.string(), changed: z.boolean() })) }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'distributionGroup.removeSendPermission',
  reverse: ({ input, output }) => {
    const users = output.results.filter((r) => r.changed).map((r) => r.user);
    return undoWith(users.length > 0 && step('distributionGroup.removeSendPermission', { group: output.identity, users, permission: input.permission }, `take ${input.permission} back`));
  },
});

export const distributionGroupRemoveSendPermission = defineAction({
  id: 'distributionGroup.removeSendPermission',
  title: 'Remove distribution group delegation',
  category: 'group',
  description: 'Takes away Send As or Send on Behalf from users on a distribution list or mail-enabled security group.',
  input: z.strictObject({ group: recipientRef, users: z.array(userRef).min(1).describe('Users who may no longer send'), permission: sendPermission }),
  output: z.object({ identity, results: z.array(z.object({ user: z.string(), changed: z.boolean() })) }),
  permissions: ['User.Read.All'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'distributionGroup.grantSendPermission',
  reverse: ({ input, output }) => {
    const users = output.results.filter((r) => r.changed).map((r) => r.user);
    return undoWith(users.length > 0 && step('distributionGroup.grantSendPermission', { group: output.identity, users, permission: input.permission }, `give ${input.permission} back`));
  },
});
