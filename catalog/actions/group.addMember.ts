import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { groupRef, userRef } from '../fields.ts';

export const groupAddMember = defineAction({
  id: 'group.addMember',
  title: 'Add user to group',
  category: 'group',
  description:
    'Adds a user to a security or Microsoft 365 group. A user who is already a member counts as done.',
  input: z.strictObject({
    group: groupRef,
    user: userRef,
  }),
  output: z.object({
    groupId: z.string(),
    userId: z.string(),
    added: z.boolean().describe('false when the user was already a member'),
  }),
  permissions: ['GroupMember.ReadWrite.All'],
  bulk: true,
  undo: 'group.removeMember',
});
