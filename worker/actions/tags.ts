// Handlers of the tag actions (catalog/actions/tags.ts): the tenant's TagStore (an open extension on
// each user, worker/tags.ts), keyed by the user's object id (so a rename keeps the tags).
import * as c from '../../catalog/actions/tags.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { Change } from '../../catalog/contract.ts';
import type { PlanContext } from '../implementation.ts';
import { applyTagChange, type TagChange } from '../tags.ts';
import { userObject } from './changes.ts';
import { getUser } from './shared.ts';

async function change(ctx: ActionContext, userRef: string, delta: TagChange) {
  const user = await getUser(ctx.graph, userRef);
  return { userId: user.id, tags: await ctx.tags.update(user.id, delta) };
}

export const tagsAdd = implement(c.tagsAdd, (input, ctx) => change(ctx, input.user, { add: input.tags }), (input, ctx) => planTags(ctx, input.user, { add: input.tags }));
export const tagsRemove = implement(c.tagsRemove, (input, ctx) => change(ctx, input.user, { remove: input.tags }), (input, ctx) => planTags(ctx, input.user, { remove: input.tags }));
export const tagsManage = implement(c.tagsManage, (input, ctx) => change(ctx, input.user, { add: input.add, remove: input.remove }), (input, ctx) => planTags(ctx, input.user, { add: input.add, remove: input.remove }));

export const tagsFlush = implement(c.tagsFlush, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const before = await ctx.tags.get(user.id);
  return { userId: user.id, tags: await ctx.tags.update(user.id, { clear: true }), removed: before };
}, (input, ctx) => planTags(ctx, input.user, { clear: true }));

export const tagsFindUsers = implement(c.tagsFindUsers, async (input, ctx) => {
  const userIds = await ctx.tags.usersWithTag(input.tag);
  return { userIds, count: userIds.length };
});

/** One row per tag the user gains or loses. */
async function planTags(ctx: PlanContext, userRef: string, delta: TagChange): Promise<Change[]> {
  const user = await getUser(ctx.graph, userRef);
  const before = await ctx.tags.get(user.id);
  const after = applyTagChange(before, delta);
  const has = (list: string[], t: string) => list.some((x) => x.toLowerCase() === t.toLowerCase());
  return [
    ...after.filter((t) => !has(before, t)).map((t) => ({ object: userObject(user), objectId: user.id, property: `tag ${t}`, before: false, after: true })),
    ...before.filter((t) => !has(after, t)).map((t) => ({ object: userObject(user), objectId: user.id, property: `tag ${t}`, before: true, after: false })),
  ];
}
