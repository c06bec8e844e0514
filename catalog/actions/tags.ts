// Tenantflow tags on users: kept in the tenant, in an open extension on each user (com.tenantflow.tags).
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { step, undoWith } from '../reversal.ts';
import { userRef } from '../fields.ts';

const tag = z.string().trim().min(1).max(64).describe('A tag, e.g. pilot');
const tags = z.array(tag).min(1).describe('Tags (compared without regard to case)');
const output = z.object({ userId: z.string(), tags: z.array(z.string()).describe('The user\'s tags after the step') });
const note =
  'Tags are kept on the user in the tenant, in the open extension com.tenantflow.tags (no Entra property changes), so every worker sees the same tags.';

export const tagsAdd = defineAction({
  id: 'tags.add',
  title: 'Add tags',
  category: 'tags',
  description: `Adds tags to a user, e.g. to mark who is in a pilot. ${note}`,
  input: z.strictObject({ user: userRef, tags }),
  output,
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  undo: 'tags.remove',
  reverse: ({ output, changes }) => {
    const added = changes.filter((c) => c.after === true).map((c) => c.property.replace(/^tag /, ''));
    return undoWith(added.length > 0 && step('tags.remove', { user: output.userId, tags: added }, `remove ${added.join(', ')} again`));
  },
});

export const tagsRemove = defineAction({
  id: 'tags.remove',
  title: 'Remove tags',
  category: 'tags',
  description: `Removes tags from a user; tags the user does not have are ignored. ${note}`,
  input: z.strictObject({ user: userRef, tags }),
  output,
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  undo: 'tags.add',
  reverse: ({ output, changes }) => {
    const removed = changes.filter((c) => c.before === true).map((c) => c.property.replace(/^tag /, ''));
    return undoWith(removed.length > 0 && step('tags.add', { user: output.userId, tags: removed }, `add ${removed.join(', ')} back`));
  },
});

export const tagsFlush = defineAction({
  id: 'tags.flush',
  title: 'Flush tags',
  category: 'tags',
  description: `Removes every tag from a user. ${note}`,
  input: z.strictObject({ user: userRef }),
  output: output.extend({ removed: z.array(z.string()).describe('The tags removed') }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ output }) => undoWith(output.removed.length > 0 && step('tags.add', { user: output.userId, tags: output.removed }, `add ${output.removed.join(', ')} back`)),
});

export const tagsManage = defineAction({
  id: 'tags.manage',
  title: 'Manage tags',
  category: 'tags',
  description: `Adds and removes tags of a user in one step. ${note}`,
  input: z.strictObject({
    user: userRef,
    add: z.array(tag).default([]).describe('Tags to add'),
    remove: z.array(tag).default([]).describe('Tags to remove'),
  }),
  output,
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ output, changes }) => {
    const tag = (c: { property: string }) => c.property.replace(/^tag /, '');
    return undoWith(step('tags.manage', { user: output.userId, add: changes.filter((c) => c.before === true).map(tag), remove: changes.filter((c) => c.after === true).map(tag) }, 'tags back'));
  },
});

export const tagsFindUsers = defineAction({
  id: 'tags.findUsers',
  title: 'Find users by tag',
  category: 'tags',
  description: `Lists the users carrying a tag, for a loop over them (reads every user's extensions: Graph cannot filter on them). ${note}`,
  input: z.strictObject({ tag }),
  output: z.object({ userIds: z.array(z.string()).describe('Object ids of the users'), count: z.number() }),
  permissions: ['User.Read.All'],
  bulk: false,
  readOnly: true,
});
