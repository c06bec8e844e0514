// Handlers of the tag actions (catalog/actions/tags.ts): the tenant's TagStore (an open extension on
// each user, worker/tags.ts), keyed by the user's object id (so a rename keeps the tags).
import * as c from '../../catalog/actions/tags.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { TagChange } from '../tags.ts';
import { getUser } from './shared.ts';

async function change(ctx: ActionContext, userRef: string, delta: TagChange) {
  const user = await getUser(ctx.graph, userRef);
  return { userId: user.id, tags: await ctx.tags.update(user.id, delta) };
}

export const tagsAdd = implement(c.tagsAdd, (input, ctx) => change(ctx, input.user, { add: input.tags }));
export const tagsRemove = implement(c.tagsRemove, (input, ctx) => change(ctx, input.user, { remove: input.tags }));
export const tagsManage = implement(c.tagsManage, (input, ctx) => change(ctx, input.user, { add: input.add, remove: input.remove }));

export const tagsFlush = implement(c.tagsFlush, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const before = await ctx.tags.get(user.id);
  return { userId: user.id, tags: await ctx.tags.update(user.id, { clear: true }), removed: before };
});

export const tagsFindUsers = implement(c.tagsFindUsers, async (input, ctx) => {
  const userIds = await ctx.tags.usersWithTag(input.tag);
  return { userIds, count: userIds.length };
});
