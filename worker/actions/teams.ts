// Handlers of the Teams actions (catalog/actions/teams.ts): Graph's teams, channels and members, and
// the teamsAdministration APIs for policies and phone numbers.
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/teams.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { PlanContext } from '../implementation.ts';
import type { Change } from '../../catalog/contract.ts';
import { change } from './changes.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { createdByThisStep, findGroup, getUser, graphRoot, GUID, listAll, odataString, orNotFound, type GraphUser } from './shared.ts';
import { pollUntil, postForLocation, waitForGraphOperation } from './operations.ts';

interface Team {
  id: string;
  displayName: string;
  description: string | null;
  visibility: string | null;
  isArchived: boolean;
  webUrl: string | null;
  memberSettings?: Record<string, unknown>;
  guestSettings?: Record<string, unknown>;
  messagingSettings?: Record<string, unknown>;
  funSettings?: Record<string, unknown>;
}

interface Member {
  id: string;
  userId: string;
  roles: string[];
  displayName?: string | null;
  email?: string | null;
}

interface Channel {
  id: string;
  displayName: string;
  description?: string | null;
  membershipType: string;
  createdDateTime?: string;
}

const notATeam = (ref: string) =>
  new ActionError(`team ${ref} does not exist`, {
    code: 'NotFound',
    hint: 'use the team\'s group object id or its exact name; a team created moments ago can take a minute to appear',
    status: 404,
  });

async function getTeam(graph: Client, id: string): Promise<Team | undefined> {
  return orNotFound(graph.api(`/teams/${id}`).get() as Promise<Team>);
}

/** A team by group object id or exact display name (refuses an ambiguous name). */
export async function resolveTeam(graph: Client, ref: string): Promise<Team> {
  if (GUID.test(ref)) {
    const t = await getTeam(graph, ref);
    if (!t) throw notATeam(ref);
    return t;
  }
  const { items } = await listAll<{ id: string; resourceProvisioningOptions?: string[] }>(graph, '/groups', {
    filter: `displayName eq ${odataString(ref)}`,
    select: 'id,displayName,resourceProvisioningOptions',
    top: 10,
    max: 10,
  });
  const teams = items.filter((g) => g.resourceProvisioningOptions?.includes('Team'));
  if (teams.length > 1)
    throw new ActionError(`more than one team is called "${ref}" (${teams.map((t) => t.id).join(', ')})`, { code: 'AmbiguousTeam', hint: 'use the team\'s object id instead of its name' });
  const t = teams[0] && (await getTeam(graph, teams[0].id));
  if (!t) throw notATeam(`"${ref}"`);
  return t;
}

async function members(graph: Client, teamId: string): Promise<Member[]> {
  return (await listAll<Member>(graph, `/teams/${teamId}/members`, { top: 999 })).items;
}

const graphV1 = (ctx: Pick<ActionContext, 'tenant'>) => `${graphRoot(ctx)}/v1.0`;

const conversationMember = (ctx: Pick<ActionContext, 'tenant'>, userId: string, owner: boolean) => ({
  '@odata.type': '#microsoft.graph.aadUserConversationMember',
  roles: owner ? ['owner'] : [],
  'user@odata.bind': `${graphV1(ctx)}/users('${userId}')`,
});

/** Waits until the team answers (Teams provisions it after the operation starts). */
async function waitForTeam(ctx: ActionContext, id: string, location: string | null, what: string): Promise<Team> {
  if (location) await waitForGraphOperation(ctx, location, what);
  return pollUntil(ctx, what, () => getTeam(ctx.graph, id));
}

export const teamsCreate = implement(c.teamsCreate, async (input, ctx) => {
  const owner = await getUser(ctx.graph, input.owner);
  const extra: GraphUser[] = [];
  for (const m of input.members) if (m !== input.owner) extra.push(await getUser(ctx.graph, m));
  const same = (await listAll<{ id: string; createdDateTime?: string; groupTypes?: string[] }>(ctx.graph, '/groups', {
    filter: `displayName eq ${odataString(input.displayName)}`,
    select: 'id,displayName,createdDateTime,groupTypes',
    top: 10,
    max: 10,
  })).items.filter((g) => g.groupTypes?.includes('Unified'));
  const mine = same.find((g) => createdByThisStep(ctx, g.createdDateTime));
  if (mine) {
    const team = await waitForTeam(ctx, mine.id, null, `team "${input.displayName}" to be provisioned`);
    return { id: team.id, displayName: team.displayName, created: true };
  }
  if (same.length)
    throw new ActionError(`a Microsoft 365 group or team called "${input.displayName}" already exists (${same.map((g) => g.id).join(', ')})`, {
      code: 'ObjectConflict',
      hint: 'pick another name, or use "Edit team" / "Create team from Microsoft 365 group" on the existing one',
      status: 409,
    });
  const { location } = await postForLocation(ctx.graph, '/teams', {
    'template@odata.bind': `${graphV1(ctx)}/teamsTemplates('standard')`,
    displayName: input.displayName,
    ...(input.description ? { description: input.description } : {}),
    visibility: input.visibility,
    members: [conversationMember(ctx, owner.id, true), ...extra.filter((u) => u.id !== owner.id).map((u) => conversationMember(ctx, u.id, false))],
  });
  const id = /teams\('([^']+)'\)/i.exec(location ?? '')?.[1];
  if (!id) throw new ActionError('Teams accepted the request but named no team in its answer', { code: 'NoOperation', retryable: true });
  const team = await waitForTeam(ctx, id, location, `team "${input.displayName}" to be provisioned`);
  return { id: team.id, displayName: team.displayName, created: true };
});

export const teamsCreateFromGroup = implement(c.teamsCreateFromGroup, async (input, ctx) => {
  const group = await findGroup(ctx.graph, input.group);
  if (!group.groupTypes?.includes('Unified'))
    throw new ActionError(`"${group.displayName}" is not a Microsoft 365 group: only those can have a team`, { code: 'InvalidInput', hint: 'create a Microsoft 365 group, or use "Create team"' });
  if (await getTeam(ctx.graph, group.id)) return { id: group.id, created: false };
  let location: string | null = null;
  try {
    ({ location } = await postForLocation(ctx.graph, '/teams', {
      'template@odata.bind': `${graphV1(ctx)}/teamsTemplates('standard')`,
      'group@odata.bind': `${graphV1(ctx)}/groups('${group.id}')`,
    }));
  } catch (err) {
    // 409: an earlier attempt already started it; wait for it below.
    if (statusOf(err) !== 409) throw err;
  }
  await waitForTeam(ctx, group.id, location, `team of "${group.displayName}" to be provisioned`);
  return { id: group.id, created: true };
});

export const teamsGet = implement(c.teamsGet, async (input, { graph }) => {
  const team = await resolveTeam(graph, input.team);
  const channels = (await listAll<Channel>(graph, `/teams/${team.id}/channels`)).items;
  const all = await members(graph, team.id);
  return {
    id: team.id,
    displayName: team.displayName,
    description: team.description ?? null,
    visibility: team.visibility ?? null,
    isArchived: team.isArchived,
    webUrl: team.webUrl ?? null,
    channels: channels.map((ch) => ({ id: ch.id, displayName: ch.displayName, membershipType: ch.membershipType })),
    owners: all.filter((m) => m.roles.includes('owner')).map((m) => ({ id: m.userId, displayName: m.displayName ?? null, email: m.email ?? null })),
    memberCount: all.length,
  };
});

export const teamsUpdate = implement(c.teamsUpdate, async ({ team: ref, ...fields }, { graph }) => {
  const team = await resolveTeam(graph, ref);
  const changes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && (team as unknown as Record<string, unknown>)[k] !== v) changes[k] = v;
  if (Object.keys(changes).length) await graph.api(`/teams/${team.id}`).patch(changes);
  return { id: team.id, changed: Object.keys(changes) };
});

export const teamsSetSettings = implement(c.teamsSetSettings, async ({ team: ref, ...groups }, { graph }) => {
  const team = await resolveTeam(graph, ref);
  const patch: Record<string, Record<string, unknown>> = {};
  const changed: string[] = [];
  for (const [group, settings] of Object.entries(groups)) {
    if (!settings) continue;
    const current = ((team as unknown as Record<string, Record<string, unknown> | undefined>)[group]) ?? {};
    for (const [k, v] of Object.entries(settings)) {
      if (v === undefined || current[k] === v) continue;
      (patch[group] ??= {})[k] = v;
      changed.push(`${group}.${k}`);
    }
  }
  if (changed.length) await graph.api(`/teams/${team.id}`).patch(patch);
  return { id: team.id, changed };
});

/** Archive or unarchive: 202 with an operation; the team's isArchived is what counts. */
async function setArchived(ctx: ActionContext, ref: string, archived: boolean, body: Record<string, unknown>): Promise<{ id: string; changed: boolean }> {
  const team = await resolveTeam(ctx.graph, ref);
  if (team.isArchived === archived) return { id: team.id, changed: false };
  const { location } = await postForLocation(ctx.graph, `/teams/${team.id}/${archived ? 'archive' : 'unarchive'}`, body);
  const what = `team "${team.displayName}" to be ${archived ? 'archived' : 'unarchived'}`;
  if (location) await waitForGraphOperation(ctx, location, what);
  await pollUntil(ctx, what, async () => ((await getTeam(ctx.graph, team.id))?.isArchived === archived ? true : undefined));
  return { id: team.id, changed: true };
}

/** Plan of archiving or unarchiving: "archived" before -> after (GET /teams/{id}). */
async function planArchived(ctx: PlanContext, ref: string, archived: boolean): Promise<Change[]> {
  const team = await resolveTeam(ctx.graph, ref);
  return team.isArchived === archived ? [] : [change(teamObject(team), 'archived', team.isArchived, archived, { objectId: team.id })];
}

export const teamsArchive = implement(
  c.teamsArchive,
  async (input, ctx) => {
    const r = await setArchived(ctx, input.team, true, input.siteReadOnlyForMembers ? { shouldSetSpoSiteReadOnlyForMembers: true } : {});
    return { id: r.id, archived: r.changed };
  },
  (input, ctx) => planArchived(ctx, input.team, true),
);

export const teamsUnarchive = implement(
  c.teamsUnarchive,
  async (input, ctx) => {
    const r = await setArchived(ctx, input.team, false, {});
    return { id: r.id, unarchived: r.changed };
  },
  (input, ctx) => planArchived(ctx, input.team, false),
);

export const teamsDelete = implement(c.teamsDelete, async (input, { graph, attempt }) => {
  let team: Team;
  try {
    team = await resolveTeam(graph, input.team);
  } catch (err) {
    // Gone already: deleted by an earlier attempt of this step, or before it (a GUID that is in deleted items).
    if (statusOf(err) !== 404) throw err;
    if (GUID.test(input.team) && (attempt > 1 || (await orNotFound(graph.api(`/directory/deletedItems/${input.team}`).get())))) return { id: input.team, deleted: false };
    throw err;
  }
  await graph.api(`/groups/${team.id}`).delete();
  return { id: team.id, deleted: true };
});

/** A channel by id or display name (case-insensitive, as Teams compares names). */
async function findChannel(graph: Client, teamId: string, ref: string): Promise<Channel | undefined> {
  const channels = (await listAll<Channel>(graph, `/teams/${teamId}/channels`)).items;
  return channels.find((ch) => ch.id === ref) ?? channels.find((ch) => ch.displayName.toLowerCase() === ref.toLowerCase());
}

async function requireChannel(graph: Client, teamId: string, ref: string): Promise<Channel> {
  const ch = await findChannel(graph, teamId, ref);
  if (!ch) throw new ActionError(`the team has no channel "${ref}"`, { code: 'NotFound', hint: 'use the channel\'s id or its exact name', status: 404 });
  return ch;
}

export const teamsAddChannel = implement(c.teamsAddChannel, async (input, ctx) => {
  const team = await resolveTeam(ctx.graph, input.team);
  if (input.membershipType !== 'standard' && !input.owner)
    throw new ActionError(`a ${input.membershipType} channel needs an owner`, { code: 'InvalidInput', hint: 'give the "owner" parameter (a member of the team)' });
  const owner = input.owner ? await getUser(ctx.graph, input.owner) : undefined;
  const existing = await findChannel(ctx.graph, team.id, input.displayName);
  if (existing) {
    if (createdByThisStep(ctx, existing.createdDateTime)) return { teamId: team.id, channelId: existing.id, displayName: existing.displayName, created: true };
    throw new ActionError(`the team already has a channel called "${existing.displayName}"`, { code: 'NameAlreadyExists', hint: 'pick another name, or edit the existing channel', status: 400 });
  }
  const made = (await ctx.graph.api(`/teams/${team.id}/channels`).post({
    displayName: input.displayName,
    ...(input.description ? { description: input.description } : {}),
    membershipType: input.membershipType,
    ...(owner && input.membershipType !== 'standard' ? { members: [conversationMember(ctx, owner.id, true)] } : {}),
  })) as Channel;
  return { teamId: team.id, channelId: made.id, displayName: made.displayName, created: true };
});

export const teamsUpdateChannel = implement(c.teamsUpdateChannel, async (input, { graph }) => {
  const team = await resolveTeam(graph, input.team);
  const ch = await requireChannel(graph, team.id, input.channel);
  const changes: Record<string, string> = {};
  if (input.displayName !== undefined && input.displayName !== ch.displayName) changes['displayName'] = input.displayName;
  if (input.description !== undefined && input.description !== (ch.description ?? '')) changes['description'] = input.description;
  if (Object.keys(changes).length) await graph.api(`/teams/${team.id}/channels/${encodeURIComponent(ch.id)}`).patch(changes);
  return { teamId: team.id, channelId: ch.id, changed: Object.keys(changes) };
});

export const teamsRemoveChannel = implement(c.teamsRemoveChannel, async (input, { graph }) => {
  const team = await resolveTeam(graph, input.team);
  const ch = await findChannel(graph, team.id, input.channel);
  if (!ch) return { teamId: team.id, channelId: null, removed: false };
  try {
    await graph.api(`/teams/${team.id}/channels/${encodeURIComponent(ch.id)}`).delete();
  } catch (err) {
    if (statusOf(err) === 404) return { teamId: team.id, channelId: ch.id, removed: false };
    throw err;
  }
  return { teamId: team.id, channelId: ch.id, removed: true };
});

/** Adds (or promotes) a user; returns whether anything changed. */
async function ensureMember(ctx: ActionContext, teamId: string, user: GraphUser, owner: boolean): Promise<boolean> {
  const m = (await members(ctx.graph, teamId)).find((x) => x.userId === user.id);
  if (m && (!owner || m.roles.includes('owner'))) return false;
  if (m) await ctx.graph.api(`/teams/${teamId}/members/${encodeURIComponent(m.id)}`).patch({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'] });
  else await ctx.graph.api(`/teams/${teamId}/members`).post(conversationMember(ctx, user.id, owner));
  return true;
}

const lastOwner = (team: Team) =>
  new ActionError(`${team.displayName} would have no owner left`, { code: 'LastOwner', hint: 'add another owner first ("Add owner to team" or "Hand over team ownership")' });

/** Demotes an owner to member, or removes the user from the team. */
async function dropUser(ctx: ActionContext, team: Team, user: GraphUser, mode: 'member' | 'remove'): Promise<boolean> {
  const all = await members(ctx.graph, team.id);
  const m = all.find((x) => x.userId === user.id);
  if (!m) return false;
  const isOwner = m.roles.includes('owner');
  if (mode === 'member' && !isOwner) return false;
  if (isOwner && all.filter((x) => x.roles.includes('owner')).length === 1) throw lastOwner(team);
  try {
    if (mode === 'member') await ctx.graph.api(`/teams/${team.id}/members/${encodeURIComponent(m.id)}`).patch({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: [] });
    else await ctx.graph.api(`/teams/${team.id}/members/${encodeURIComponent(m.id)}`).delete();
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
  return true;
}

/** A user's role in a team as a plan shows it: "owner", "member", or null (not in the team). */
type TeamRole = 'owner' | 'member' | null;
const roleOf = (m: Member | undefined): TeamRole => (m ? (m.roles.includes('owner') ? 'owner' : 'member') : null);
const teamObject = (t: Team) => `team ${t.displayName}`;

/**
 * Plan of a membership change: "role anna@contoso.com" before -> after, read from the team's members
 * (GET /teams/{id}/members); removing the last owner would fail as the handler does.
 */
async function planRole(ctx: PlanContext, teamRef: string, userRef: string, next: (current: TeamRole) => TeamRole): Promise<Change[]> {
  const team = await resolveTeam(ctx.graph, teamRef);
  const user = await getUser(ctx.graph, userRef);
  const all = await members(ctx.graph, team.id);
  const current = roleOf(all.find((x) => x.userId === user.id));
  const after = next(current);
  if (after === current) return [];
  if (current === 'owner' && all.filter((x) => x.roles.includes('owner')).length === 1) throw lastOwner(team);
  return [change(teamObject(team), `role ${user.userPrincipalName}`, current, after, { objectId: team.id })];
}

export const teamsAddMember = implement(
  c.teamsAddMember,
  async (input, ctx) => {
    const team = await resolveTeam(ctx.graph, input.team);
    const user = await getUser(ctx.graph, input.user);
    return { teamId: team.id, userId: user.id, changed: await ensureMember(ctx, team.id, user, false) };
  },
  (input, ctx) => planRole(ctx, input.team, input.user, (r) => r ?? 'member'),
);

export const teamsRemoveMember = implement(
  c.teamsRemoveMember,
  async (input, ctx) => {
    const team = await resolveTeam(ctx.graph, input.team);
    const user = await getUser(ctx.graph, input.user);
    return { teamId: team.id, userId: user.id, changed: await dropUser(ctx, team, user, 'remove') };
  },
  (input, ctx) => planRole(ctx, input.team, input.user, () => null),
);

export const teamsAddOwner = implement(
  c.teamsAddOwner,
  async (input, ctx) => {
    const team = await resolveTeam(ctx.graph, input.team);
    const user = await getUser(ctx.graph, input.user);
    return { teamId: team.id, userId: user.id, changed: await ensureMember(ctx, team.id, user, true) };
  },
  (input, ctx) => planRole(ctx, input.team, input.user, () => 'owner'),
);

export const teamsRemoveOwner = implement(
  c.teamsRemoveOwner,
  async (input, ctx) => {
    const team = await resolveTeam(ctx.graph, input.team);
    const user = await getUser(ctx.graph, input.user);
    return { teamId: team.id, userId: user.id, changed: await dropUser(ctx, team, user, input.keepAsMember ? 'member' : 'remove') };
  },
  (input, ctx) => planRole(ctx, input.team, input.user, (r) => (input.keepAsMember ? (r === 'owner' ? 'member' : r) : null)),
);

export const teamsTransferOwnership = implement(c.teamsTransferOwnership, async (input, ctx) => {
  const from = await getUser(ctx.graph, input.from);
  const to = await getUser(ctx.graph, input.to);
  let teams: Team[];
  if (input.team) teams = [await resolveTeam(ctx.graph, input.team)];
  else {
    // Every team `from` owns: joined teams where they hold the owner role (and, after a retry, those `to` owns already).
    const joined = (await listAll<Team>(ctx.graph, `/users/${from.id}/joinedTeams`)).items;
    teams = [];
    for (const t of joined) {
      const ms = await members(ctx.graph, t.id);
      if (ms.some((m) => m.userId === from.id && m.roles.includes('owner'))) teams.push(t);
    }
  }
  const out: { teamId: string; displayName: string; newOwnerAdded: boolean; previousOwnerChanged: boolean }[] = [];
  for (const team of teams) {
    ctx.heartbeat({ team: team.id });
    const newOwnerAdded = await ensureMember(ctx, team.id, to, true);
    const previousOwnerChanged = input.previousOwner === 'keepOwner' || from.id === to.id ? false : await dropUser(ctx, team, from, input.previousOwner);
    out.push({ teamId: team.id, displayName: team.displayName, newOwnerAdded, previousOwnerChanged });
  }
  return { teams: out };
});

async function privateChannel(graph: Client, teamRef: string, channelRef: string): Promise<{ team: Team; channel: Channel }> {
  const team = await resolveTeam(graph, teamRef);
  const channel = await requireChannel(graph, team.id, channelRef);
  if (channel.membershipType === 'standard')
    throw new ActionError(`"${channel.displayName}" is a standard channel: every team member is in it`, { code: 'InvalidInput', hint: 'add the user to the team instead ("Add member to team")' });
  return { team, channel };
}

export const teamsAddChannelMember = implement(c.teamsAddChannelMember, async (input, ctx) => {
  const { team, channel } = await privateChannel(ctx.graph, input.team, input.channel);
  const user = await getUser(ctx.graph, input.user);
  const base = `/teams/${team.id}/channels/${encodeURIComponent(channel.id)}/members`;
  const m = (await listAll<Member>(ctx.graph, base)).items.find((x) => x.userId === user.id);
  if (m && (!input.owner || m.roles.includes('owner'))) return { teamId: team.id, channelId: channel.id, userId: user.id, changed: false };
  if (m) await ctx.graph.api(`${base}/${encodeURIComponent(m.id)}`).patch({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'] });
  else await ctx.graph.api(base).post(conversationMember(ctx, user.id, input.owner));
  return { teamId: team.id, channelId: channel.id, userId: user.id, changed: true };
});

export const teamsRemoveChannelMember = implement(c.teamsRemoveChannelMember, async (input, ctx) => {
  const { team, channel } = await privateChannel(ctx.graph, input.team, input.channel);
  const user = await getUser(ctx.graph, input.user);
  const base = `/teams/${team.id}/channels/${encodeURIComponent(channel.id)}/members`;
  const m = (await listAll<Member>(ctx.graph, base)).items.find((x) => x.userId === user.id);
  if (!m) return { teamId: team.id, channelId: channel.id, userId: user.id, changed: false };
  try {
    await ctx.graph.api(`${base}/${encodeURIComponent(m.id)}`).delete();
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    return { teamId: team.id, channelId: channel.id, userId: user.id, changed: false };
  }
  return { teamId: team.id, channelId: channel.id, userId: user.id, changed: true };
});

// ---- Teams administration ----

interface UserConfiguration {
  effectivePolicyAssignments?: { policyType: string; policyAssignment: { policyId: string; assignmentType: string } }[];
  telephoneNumbers?: { telephoneNumber: string; assignmentCategory: string }[];
}

async function configurationOf(graph: Client, userId: string): Promise<UserConfiguration> {
  const raw = (await graph.api(`/admin/teams/userConfigurations/${userId}`).get()) as UserConfiguration & { value?: UserConfiguration };
  return raw.value && !Array.isArray(raw.value) ? raw.value : raw;
}

const directPolicy = (conf: UserConfiguration, type: string) =>
  conf.effectivePolicyAssignments?.find((a) => a.policyType.toLowerCase() === type.toLowerCase() && a.policyAssignment.assignmentType === 'direct')?.policyAssignment.policyId;

export const teamsAssignPolicy = implement(c.teamsAssignPolicy, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  let found: { value: { policyId: string }[] };
  try {
    found = (await graph.api(`/admin/teams/policy/getPolicyId(type='${encodeURIComponent(input.policyType)}',name='${encodeURIComponent(input.policyName.replace(/'/g, "''"))}')`).get()) as typeof found;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    throw new ActionError(`there is no ${input.policyType} called "${input.policyName}"`, { code: 'NotFound', hint: 'use the policy\'s name as the Teams admin center lists it under that policy type', status: 404 });
  }
  const policyId = found.value[0]?.policyId;
  if (!policyId) throw new ActionError(`there is no ${input.policyType} called "${input.policyName}"`, { code: 'NotFound', status: 404 });
  const current = directPolicy(await configurationOf(graph, user.id), input.policyType);
  const global = /^(tag:)?global$/i.test(input.policyName);
  if (current === policyId || (global && !current)) return { userId: user.id, policyType: input.policyType, policyId, changed: false };
  await graph.api('/admin/teams/policy/userAssignments/assign').post({
    value: [{ '@odata.type': '#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment', userId: user.id, policyType: input.policyType, policyId }],
  });
  return { userId: user.id, policyType: input.policyType, policyId, changed: true };
});

export const teamsUnassignPolicy = implement(c.teamsUnassignPolicy, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  if (!directPolicy(await configurationOf(graph, user.id), input.policyType)) return { userId: user.id, policyType: input.policyType, changed: false };
  await graph.api('/admin/teams/policy/userAssignments/unassign').post({
    value: [{ '@odata.type': '#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment', userId: user.id, policyType: input.policyType }],
  });
  return { userId: user.id, policyType: input.policyType, changed: true };
});

interface NumberAssignment {
  telephoneNumber: string;
  locationId?: string | null;
  networkSiteId?: string | null;
  reverseNumberLookupOptions?: string[];
  numberType: string;
  assignmentTargetId: string | null;
  assignmentCategory: string | null;
  assignmentStatus: string;
  activationState: string;
}

const NUMBERS = '/admin/teams/telephoneNumberManagement/numberAssignments';
const plus = (n: string) => (n.startsWith('+') ? n : `+${n}`);

async function numbersWhere(graph: Client, filter: string): Promise<NumberAssignment[]> {
  // The SDK sends $filter unencoded, and a bare + in a query string reads as a space: encode it.
  return ((await graph.api(NUMBERS).filter(filter.replace(/\+/g, '%2B')).top(1000).get()) as { value: NumberAssignment[] }).value;
}

/** Waits until an assigned number is active (its order has gone through). */
async function waitActivated(ctx: ActionContext, number: string): Promise<void> {
  await pollUntil(ctx, `phone number ${number} to be activated`, async () => {
    const n = (await numbersWhere(ctx.graph, `telephoneNumber eq ${odataString(number)}`))[0];
    if (!n) throw new ActionError(`the phone number ${number} is not in the tenant's number inventory`, { code: 'NumberNotFound', hint: 'check the number in the Teams admin center (Voice > Phone numbers)' });
    if (n.activationState === 'assignmentFailed' || n?.activationState === 'updateFailed')
      throw new ActionError(`Microsoft could not process the order for ${number} (${n.activationState})`, { code: 'NumberOrderFailed', hint: 'check the number and the user\'s licence and emergency location in the Teams admin center' });
    return n.activationState === 'activated' ? true : undefined;
  });
}

export const teamsAssignPhoneNumber = implement(c.teamsAssignPhoneNumber, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const mine = await numbersWhere(ctx.graph, `assignmentTargetId eq ${odataString(user.id)}`);
  let number: string;
  if (input.phoneNumber) {
    number = plus(input.phoneNumber);
    const held = mine.find((n) => n.telephoneNumber === number);
    if (held) {
      await waitActivated(ctx, number);
      return { userId: user.id, phoneNumber: number, assigned: false };
    }
  } else {
    const same = mine.find((n) => n.assignmentCategory === input.category && n.numberType === input.numberType);
    if (same) {
      await waitActivated(ctx, same.telephoneNumber);
      return { userId: user.id, phoneNumber: same.telephoneNumber, assigned: false };
    }
    const free = await numbersWhere(ctx.graph, `assignmentStatus eq 'unassigned' and numberType eq ${odataString(input.numberType)} and capabilities/any(c:c eq 'userAssignment')`);
    if (!free.length) throw new ActionError(`the tenant has no free ${input.numberType} number that can be assigned to a user`, { code: 'NoFreeNumber', hint: 'acquire or port numbers in the Teams admin center, or give a phoneNumber' });
    number = free[0]!.telephoneNumber;
  }
  const { location } = await postForLocation(ctx.graph, `${NUMBERS}/assignNumber`, {
    telephoneNumber: number,
    assignmentTargetId: user.id,
    numberType: input.numberType,
    assignmentCategory: input.category,
    ...(input.locationId ? { locationId: input.locationId } : {}),
  });
  if (location) await waitForGraphOperation(ctx, location, `phone number ${number} to be assigned`);
  await waitActivated(ctx, number);
  return { userId: user.id, phoneNumber: number, assigned: true };
});

export const teamsUnassignPhoneNumber = implement(c.teamsUnassignPhoneNumber, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const mine = await numbersWhere(ctx.graph, `assignmentTargetId eq ${odataString(user.id)}`);
  const targets = input.phoneNumber ? mine.filter((n) => n.telephoneNumber === plus(input.phoneNumber!)) : mine;
  const done: string[] = [];
  for (const n of targets) {
    const { location } = await postForLocation(ctx.graph, `${NUMBERS}/unassignNumber`, { telephoneNumber: n.telephoneNumber, numberType: n.numberType });
    if (location) await waitForGraphOperation(ctx, location, `phone number ${n.telephoneNumber} to be unassigned`);
    done.push(n.telephoneNumber);
  }
  return { userId: user.id, unassigned: done };
});

export const teamsUpdatePhoneNumber = implement(c.teamsUpdatePhoneNumber, async (input, ctx) => {
  const number = plus(input.phoneNumber);
  const n = (await numbersWhere(ctx.graph, `telephoneNumber eq ${odataString(number)}`))[0];
  if (!n) throw new ActionError(`the phone number ${number} is not in the tenant's number inventory`, { code: 'NumberNotFound', hint: 'check the number in the Teams admin center (Voice > Phone numbers)', status: 404 });
  const body: Record<string, unknown> = {};
  const same = (current: string | null | undefined, wanted: string) => (current ?? '') === wanted;
  if (input.emergencyLocationId !== undefined && !same(n.locationId, input.emergencyLocationId)) body['locationId'] = input.emergencyLocationId;
  if (input.networkSiteId !== undefined && !same(n.networkSiteId, input.networkSiteId)) body['networkSiteId'] = input.networkSiteId;
  if (input.skipInternalVoip !== undefined && (n.reverseNumberLookupOptions ?? []).includes('skipInternalVoip') !== input.skipInternalVoip)
    body['reverseNumberLookupOptions'] = input.skipInternalVoip ? ['skipInternalVoip'] : [];
  const changed = Object.keys(body);
  if (changed.length) await ctx.graph.api(`${NUMBERS}/updateNumber`).post({ telephoneNumber: number, ...body });
  return { phoneNumber: number, changed: changed.map((k) => (k === 'locationId' ? 'emergencyLocationId' : k === 'reverseNumberLookupOptions' ? 'skipInternalVoip' : k)) };
});
