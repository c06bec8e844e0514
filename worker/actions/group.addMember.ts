import { groupAddMember } from '../../catalog/actions/group.addMember.ts';
import { implement } from '../activity.ts';
import { statusOf } from '../errors.ts';
import { findGroup, getUser } from '../graph.ts';

export default implement(groupAddMember, async (input, { graph, tenant }) => {
  const [group, user] = await Promise.all([findGroup(graph, input.group), getUser(graph, input.user)]);
  const graphRoot = (tenant.graphUrl ?? 'https://graph.microsoft.com').replace(/\/$/, '');
  try {
    await graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `${graphRoot}/v1.0/directoryObjects/${user.id}` });
    return { groupId: group.id, userId: user.id, added: true };
  } catch (err) {
    // Graph answers 400 "One or more added object references already exist" for a member.
    if (statusOf(err) === 400 && /already exist/i.test((err as Error).message)) return { groupId: group.id, userId: user.id, added: false };
    throw err;
  }
});
