// Handlers of the Teams actions (catalog/actions/teams.ts): Graph's teams, channels and members, and
// the teamsAdministration APIs for policies and phone numbers.
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/teams.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import { knownAfterRun, type Change } from '../../catalog/contract.ts';
import { RESTORABLE_NOTE } from '../../catalog/reversal.ts';
import { change, creation, propertyChanges, userObject } from './changes.ts';
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

/** The owner and the other members of a new team (the owner listed once). */
async function newTeamPeople(graph: Client, input: InputOf<typeof c.teamsCreate>): Promise<{ owner: GraphUser; extra: GraphUser[] }> {
  const owner = await getUser(graph, input.owner);
  const extra: GraphUser[] = [];
  for (const m of input.members) {
    if (m === input.owner) continue;
    const u = await getUser(graph, m);
    if (u.id !== owner.id && !extra.some((x) => x.id === u.id)) extra.push(u);
  }
  return { owner, extra };
}

/** Microsoft 365 groups (teams or not) of that name. */
async function unifiedNamed(graph: Client, name: string): Promise<{ id: string; createdDateTime?: string }[]> {
  return (await listAll<{ id: string; createdDateTime?: string; groupTypes?: string[] }>(graph, '/groups', {
    filter: `displayName eq ${odataString(name)}`,
    select: 'id,displayName,createdDateTime,groupTypes',
    top: 10,
    max: 10,
  })).items.filter((g) => g.groupTypes?.includes('Unified'));
}

const teamNameTaken = (name: string, same: { id: string }[]) =>
  new ActionError(`a Microsoft 365 group or team called "${name}" already exists (${same.map((g) => g.id).join(', ')})`, {
    code: 'ObjectConflict',
    hint: 'pick another name, or use "Edit team" / "Create team from Microsoft 365 group" on the existing one',
    status: 409,
  });

/** Plan of a new team: it comes to exist with its name, description and visibility, its owner and members. */
async function planTeamsCreate(input: InputOf<typeof c.teamsCreate>, { graph }: PlanContext): Promise<Change[]> {
  const { owner, extra } = await newTeamPeople(graph, input);
  const same = await unifiedNamed(graph, input.displayName);
  if (same.length) throw teamNameTaken(input.displayName, same);
  const object = `team ${input.displayName}`;
  const id = knownAfterRun('output.id');
  return [
    ...creation(object, { displayName: input.displayName, description: input.description, visibility: input.visibility }, id),
    change(object, `role ${owner.userPrincipalName}`, null, 'owner', { objectId: id }),
    ...extra.map((u) => change(object, `role ${u.userPrincipalName}`, null, 'member', { objectId: id })),
  ];
}

export const teamsCreate = implement(c.teamsCreate, async (input, ctx) => {
  const { owner, extra } = await newTeamPeople(ctx.graph, input);
  const same = await unifiedNamed(ctx.graph, input.displayName);
  const mine = same.find((g) => createdByThisStep(ctx, g.createdDateTime));
  if (mine) {
    const team = await waitForTeam(ctx, mine.id, null, `team "${input.displayName}" to be provisioned`);
    return { id: team.id, displayName: team.displayName, created: true };
  }
  if (same.length) throw teamNameTaken(input.displayName, same);
  const { location } = await postForLocation(ctx.graph, '/teams', {
    'template@odata.bind': `${graphV1(ctx)}/teamsTemplates('standard')`,
    displayName: input.displayName,
    ...(input.description ? { description: input.description } : {}),
    visibility: input.visibility,
    members: [conversationMember(ctx, owner.id, true), ...extra.map((u) => conversationMember(ctx, u.id, false))],
  });
  const id = /teams\('([^']+)'\)/i.exec(location ?? '')?.[1];
  if (!id) throw new ActionError('Teams accepted the request but named no team in its answer', { code: 'NoOperation', retryable: true });
  const team = await waitForTeam(ctx, id, location, `team "${input.displayName}" to be provisioned`);
  return { id: team.id, displayName: team.displayName, created: true };
}, planTeamsCreate);

/** A Microsoft 365 group that can have a team. */
async function teamableGroup(graph: Client, ref: string) {
  const group = await findGroup(graph, ref);
  if (!group.groupTypes?.includes('Unified'))
    throw new ActionError(`"${group.displayName}" is not a Microsoft 365 group: only those can have a team`, { code: 'InvalidInput', hint: 'create a Microsoft 365 group, or use "Create team"' });
  return group;
}

export const teamsCreateFromGroup = implement(c.teamsCreateFromGroup, async (input, ctx) => {
  const group = await teamableGroup(ctx.graph, input.group);
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
}, async (input, { graph }) => {
  const group = await teamableGroup(graph, input.group);
  return (await getTeam(graph, group.id)) ? [] : [change(`group ${group.displayName}`, 'team', false, true, { objectId: group.id })];
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

/** The given properties of a team that differ from what it has. */
function teamPropertyDiff(team: Team, fields: Record<string, unknown>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && (team as unknown as Record<string, unknown>)[k] !== v) changes[k] = v;
  return changes;
}

export const teamsUpdate = implement(
  c.teamsUpdate,
  async ({ team: ref, ...fields }, { graph }) => {
    const team = await resolveTeam(graph, ref);
    const changes = teamPropertyDiff(team, fields);
    if (Object.keys(changes).length) await graph.api(`/teams/${team.id}`).patch(changes);
    return { id: team.id, changed: Object.keys(changes) };
  },
  async ({ team: ref, ...fields }, { graph }) => {
    const team = await resolveTeam(graph, ref);
    return propertyChanges(teamObject(team), team.id, team as unknown as Record<string, unknown>, teamPropertyDiff(team, fields));
  },
);

/** The settings (group.setting) that differ from the team's, with their values now and as asked. */
function settingsDiff(team: Team, groups: Omit<InputOf<typeof c.teamsSetSettings>, 'team'>): { group: string; key: string; before: unknown; after: unknown }[] {
  const out: { group: string; key: string; before: unknown; after: unknown }[] = [];
  for (const [group, settings] of Object.entries(groups)) {
    if (!settings) continue;
    const current = ((team as unknown as Record<string, Record<string, unknown> | undefined>)[group]) ?? {};
    for (const [key, after] of Object.entries(settings as Record<string, unknown>)) if (after !== undefined && current[key] !== after) out.push({ group, key, before: current[key], after });
  }
  return out;
}

export const teamsSetSettings = implement(
  c.teamsSetSettings,
  async ({ team: ref, ...groups }, { graph }) => {
    const team = await resolveTeam(graph, ref);
    const diff = settingsDiff(team, groups);
    const patch: Record<string, Record<string, unknown>> = {};
    for (const d of diff) (patch[d.group] ??= {})[d.key] = d.after;
    if (diff.length) await graph.api(`/teams/${team.id}`).patch(patch);
    return { id: team.id, changed: diff.map((d) => `${d.group}.${d.key}`) };
  },
  async ({ team: ref, ...groups }, { graph }) => {
    const team = await resolveTeam(graph, ref);
    return settingsDiff(team, groups).map((d) => change(teamObject(team), `${d.group}.${d.key}`, d.before, d.after, { objectId: team.id }));
  },
);

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

/** The team to delete, or undefined when it is gone already (a GUID that is in deleted items, or after an earlier attempt). */
async function teamToDelete(graph: Client, ref: string, attempt: number): Promise<Team | undefined> {
  try {
    return await resolveTeam(graph, ref);
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    if (GUID.test(ref) && (attempt > 1 || (await orNotFound(graph.api(`/directory/deletedItems/${ref}`).get())))) return undefined;
    throw err;
  }
}

export const teamsDelete = implement(
  c.teamsDelete,
  async (input, { graph, attempt }) => {
    const team = await teamToDelete(graph, input.team, attempt);
    if (!team) return { id: input.team, deleted: false };
    await graph.api(`/groups/${team.id}`).delete();
    return { id: team.id, deleted: true };
  },
  async (input, { graph }) => {
    const team = await teamToDelete(graph, input.team, 1);
    return team ? [change(teamObject(team), 'exists', true, false, { objectId: team.id, note: `${RESTORABLE_NOTE} with its group` })] : [];
  },
);

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

const channelObject = (team: Team, name: string) => `channel ${name} of team ${team.displayName}`;

/** What a new channel needs: its team, its owner (private and shared channels), and a name no channel has; `existing` when one has it. */
async function newChannel(graph: Client, input: InputOf<typeof c.teamsAddChannel>): Promise<{ team: Team; owner?: GraphUser; existing?: Channel }> {
  const team = await resolveTeam(graph, input.team);
  if (input.membershipType !== 'standard' && !input.owner)
    throw new ActionError(`a ${input.membershipType} channel needs an owner`, { code: 'InvalidInput', hint: 'give the "owner" parameter (a member of the team)' });
  const owner = input.owner ? await getUser(graph, input.owner) : undefined;
  return { team, owner, existing: await findChannel(graph, team.id, input.displayName) };
}

const channelNameTaken = (ch: Channel) =>
  new ActionError(`the team already has a channel called "${ch.displayName}"`, { code: 'NameAlreadyExists', hint: 'pick another name, or edit the existing channel', status: 400 });

async function planAddChannel(input: InputOf<typeof c.teamsAddChannel>, { graph }: PlanContext): Promise<Change[]> {
  const { team, owner, existing } = await newChannel(graph, input);
  if (existing) throw channelNameTaken(existing);
  const object = channelObject(team, input.displayName);
  const id = knownAfterRun('output.channelId');
  return [
    ...creation(object, { displayName: input.displayName, description: input.description, membershipType: input.membershipType }, id),
    ...(owner && input.membershipType !== 'standard' ? [change(object, `role ${owner.userPrincipalName}`, null, 'owner', { objectId: id })] : []),
  ];
}

export const teamsAddChannel = implement(c.teamsAddChannel, async (input, ctx) => {
  const { team, owner, existing } = await newChannel(ctx.graph, input);
  if (existing) {
    if (createdByThisStep(ctx, existing.createdDateTime)) return { teamId: team.id, channelId: existing.id, displayName: existing.displayName, created: true };
    throw channelNameTaken(existing);
  }
  const made = (await ctx.graph.api(`/teams/${team.id}/channels`).post({
    displayName: input.displayName,
    ...(input.description ? { description: input.description } : {}),
    membershipType: input.membershipType,
    ...(owner && input.membershipType !== 'standard' ? { members: [conversationMember(ctx, owner.id, true)] } : {}),
  })) as Channel;
  return { teamId: team.id, channelId: made.id, displayName: made.displayName, created: true };
}, planAddChannel);

/** The channel's name and description as asked, where they differ (an absent description counts as empty). */
async function channelEdit(graph: Client, input: InputOf<typeof c.teamsUpdateChannel>): Promise<{ team: Team; ch: Channel; changes: { property: 'displayName' | 'description'; before: string; after: string }[] }> {
  const team = await resolveTeam(graph, input.team);
  const ch = await requireChannel(graph, team.id, input.channel);
  const changes: { property: 'displayName' | 'description'; before: string; after: string }[] = [];
  if (input.displayName !== undefined && input.displayName !== ch.displayName) changes.push({ property: 'displayName', before: ch.displayName, after: input.displayName });
  if (input.description !== undefined && input.description !== (ch.description ?? '')) changes.push({ property: 'description', before: ch.description ?? '', after: input.description });
  return { team, ch, changes };
}

export const teamsUpdateChannel = implement(
  c.teamsUpdateChannel,
  async (input, { graph }) => {
    const { team, ch, changes } = await channelEdit(graph, input);
    if (changes.length) await graph.api(`/teams/${team.id}/channels/${encodeURIComponent(ch.id)}`).patch(Object.fromEntries(changes.map((x) => [x.property, x.after])));
    return { teamId: team.id, channelId: ch.id, changed: changes.map((x) => x.property) };
  },
  async (input, { graph }) => {
    const { team, ch, changes } = await channelEdit(graph, input);
    return changes.map((x) => change(channelObject(team, ch.displayName), x.property, x.before, x.after, { objectId: ch.id }));
  },
);

export const teamsRemoveChannel = implement(
  c.teamsRemoveChannel,
  async (input, { graph }) => {
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
  },
  async (input, { graph }) => {
    const team = await resolveTeam(graph, input.team);
    const ch = await findChannel(graph, team.id, input.channel);
    return ch ? [change(channelObject(team, ch.displayName), 'exists', true, false, { objectId: ch.id, note: `a ${ch.membershipType} channel: Microsoft Graph cannot restore it (a team owner can, in Teams, for 30 days)` })] : [];
  },
);

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

/** The users and teams of a hand-over: the given team, or every team `from` owns (joined teams where they hold the owner role). */
async function handOver(graph: Client, input: InputOf<typeof c.teamsTransferOwnership>): Promise<{ from: GraphUser; to: GraphUser; teams: Team[] }> {
  const from = await getUser(graph, input.from);
  const to = await getUser(graph, input.to);
  if (input.team) return { from, to, teams: [await resolveTeam(graph, input.team)] };
  const joined = (await listAll<Team>(graph, `/users/${from.id}/joinedTeams`)).items;
  const teams: Team[] = [];
  for (const t of joined) {
    const ms = await members(graph, t.id);
    if (ms.some((m) => m.userId === from.id && m.roles.includes('owner'))) teams.push(t);
  }
  return { from, to, teams };
}

/** Plan of a hand-over: per team, `to` becomes owner, then `from` is demoted or removed (read from GET /teams/{id}/members). */
async function planTransferOwnership(input: InputOf<typeof c.teamsTransferOwnership>, { graph }: PlanContext): Promise<Change[]> {
  const { from, to, teams } = await handOver(graph, input);
  const out: Change[] = [];
  for (const team of teams) {
    const all = await members(graph, team.id);
    const toRole = roleOf(all.find((m) => m.userId === to.id));
    if (toRole !== 'owner') out.push(change(teamObject(team), `role ${to.userPrincipalName}`, toRole, 'owner', { objectId: team.id }));
    if (input.previousOwner === 'keepOwner' || from.id === to.id) continue;
    const fromRole = roleOf(all.find((m) => m.userId === from.id));
    const after: TeamRole = input.previousOwner === 'remove' ? null : fromRole === 'owner' ? 'member' : fromRole;
    if (after !== fromRole) out.push(change(teamObject(team), `role ${from.userPrincipalName}`, fromRole, after, { objectId: team.id }));
  }
  return out;
}

export const teamsTransferOwnership = implement(c.teamsTransferOwnership, async (input, ctx) => {
  // After a retry, a team handed over already is no longer among those `from` owns, or (kept owner) changes nothing again.
  const { from, to, teams } = await handOver(ctx.graph, input);
  const out: { teamId: string; displayName: string; newOwnerAdded: boolean; previousOwnerChanged: boolean }[] = [];
  for (const team of teams) {
    ctx.heartbeat({ team: team.id });
    const newOwnerAdded = await ensureMember(ctx, team.id, to, true);
    const previousOwnerChanged = input.previousOwner === 'keepOwner' || from.id === to.id ? false : await dropUser(ctx, team, from, input.previousOwner);
    out.push({ teamId: team.id, displayName: team.displayName, newOwnerAdded, previousOwnerChanged });
  }
  return { teams: out };
}, planTransferOwnership);

async function privateChannel(graph: Client, teamRef: string, channelRef: string): Promise<{ team: Team; channel: Channel }> {
  const team = await resolveTeam(graph, teamRef);
  const channel = await requireChannel(graph, team.id, channelRef);
  if (channel.membershipType === 'standard')
    throw new ActionError(`"${channel.displayName}" is a standard channel: every team member is in it`, { code: 'InvalidInput', hint: 'add the user to the team instead ("Add member to team")' });
  return { team, channel };
}

/** A user in a private or shared channel: the channel's members path and the user's membership. */
async function channelMembership(graph: Client, input: { team: string; channel: string; user: string }) {
  const { team, channel } = await privateChannel(graph, input.team, input.channel);
  const user = await getUser(graph, input.user);
  const base = `/teams/${team.id}/channels/${encodeURIComponent(channel.id)}/members`;
  const m = (await listAll<Member>(graph, base)).items.find((x) => x.userId === user.id);
  return { team, channel, user, base, m };
}

/** Plan of a channel membership change: "role anna@contoso.com" of the channel, before -> after. */
async function planChannelRole(graph: Client, input: { team: string; channel: string; user: string }, next: (current: TeamRole) => TeamRole): Promise<Change[]> {
  const { team, channel, user, m } = await channelMembership(graph, input);
  const current = roleOf(m);
  const after = next(current);
  return after === current ? [] : [change(channelObject(team, channel.displayName), `role ${user.userPrincipalName}`, current, after, { objectId: channel.id })];
}

export const teamsAddChannelMember = implement(c.teamsAddChannelMember, async (input, ctx) => {
  const { team, channel, user, base, m } = await channelMembership(ctx.graph, input);
  if (m && (!input.owner || m.roles.includes('owner'))) return { teamId: team.id, channelId: channel.id, userId: user.id, changed: false };
  if (m) await ctx.graph.api(`${base}/${encodeURIComponent(m.id)}`).patch({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'] });
  else await ctx.graph.api(base).post(conversationMember(ctx, user.id, input.owner));
  return { teamId: team.id, channelId: channel.id, userId: user.id, changed: true };
}, (input, { graph }) => planChannelRole(graph, input, (r) => (input.owner ? 'owner' : (r ?? 'member'))));

export const teamsRemoveChannelMember = implement(c.teamsRemoveChannelMember, async (input, ctx) => {
  const { team, channel, user, base, m } = await channelMembership(ctx.graph, input);
  if (!m) return { teamId: team.id, channelId: channel.id, userId: user.id, changed: false };
  try {
    await ctx.graph.api(`${base}/${encodeURIComponent(m.id)}`).delete();
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    return { teamId: team.id, channelId: channel.id, userId: user.id, changed: false };
  }
  return { teamId: team.id, channelId: channel.id, userId: user.id, changed: true };
}, (input, { graph }) => planChannelRole(graph, input, () => null));

// ---- Teams administration ----

interface UserConfiguration {
  effectivePolicyAssignments?: { policyType: string; policyAssignment: { policyId: string; assignmentType: string; displayName?: string | null } }[];
  telephoneNumbers?: { telephoneNumber: string; assignmentCategory: string }[];
}

async function configurationOf(graph: Client, userId: string): Promise<UserConfiguration> {
  const raw = (await graph.api(`/admin/teams/userConfigurations/${userId}`).get()) as UserConfiguration & { value?: UserConfiguration };
  return raw.value && !Array.isArray(raw.value) ? raw.value : raw;
}

/** The user's direct assignment of a policy type (id and name), if any. */
const directPolicy = (conf: UserConfiguration, type: string) =>
  conf.effectivePolicyAssignments?.find((a) => a.policyType.toLowerCase() === type.toLowerCase() && a.policyAssignment.assignmentType === 'direct')?.policyAssignment;

/** "Teams policy TeamsMeetingPolicy": the name of the user's direct assignment, or null (none: the organisation-wide default or a group's applies). */
const policyProperty = (type: string) => `Teams policy ${type}`;
const policyName = (p: { displayName?: string | null; policyId: string } | undefined) => (p ? (p.displayName ?? p.policyId).replace(/^Tag:/i, '') : null);

/** A policy assignment as asked: the user, the policy's id and name, the current direct assignment; `changed` false when it already is so. */
async function policyAssignment(graph: Client, input: InputOf<typeof c.teamsAssignPolicy>) {
  const user = await getUser(graph, input.user);
  let found: { value: { policyId: string; name?: string }[] };
  try {
    found = (await graph.api(`/admin/teams/policy/getPolicyId(type='${encodeURIComponent(input.policyType)}',name='${encodeURIComponent(input.policyName.replace(/'/g, "''"))}')`).get()) as typeof found;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    throw new ActionError(`there is no ${input.policyType} called "${input.policyName}"`, { code: 'NotFound', hint: 'use the policy\'s name as the Teams admin center lists it under that policy type', status: 404 });
  }
  const policy = found.value[0];
  if (!policy?.policyId) throw new ActionError(`there is no ${input.policyType} called "${input.policyName}"`, { code: 'NotFound', status: 404 });
  const current = directPolicy(await configurationOf(graph, user.id), input.policyType);
  const global = /^(tag:)?global$/i.test(input.policyName);
  return { user, policyId: policy.policyId, name: (policy.name ?? input.policyName).replace(/^Tag:/i, ''), current, global, changed: !(current?.policyId === policy.policyId || (global && !current)) };
}

export const teamsAssignPolicy = implement(c.teamsAssignPolicy, async (input, { graph }) => {
  const { user, policyId, changed } = await policyAssignment(graph, input);
  if (!changed) return { userId: user.id, policyType: input.policyType, policyId, changed: false };
  await graph.api('/admin/teams/policy/userAssignments/assign').post({
    value: [{ '@odata.type': '#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment', userId: user.id, policyType: input.policyType, policyId }],
  });
  return { userId: user.id, policyType: input.policyType, policyId, changed: true };
}, async (input, { graph }) => {
  const p = await policyAssignment(graph, input);
  // Assigning Global leaves the user without a direct assignment.
  return p.changed ? [change(userObject(p.user), policyProperty(input.policyType), policyName(p.current), p.global ? null : p.name, { objectId: p.user.id })] : [];
});

export const teamsUnassignPolicy = implement(c.teamsUnassignPolicy, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  if (!directPolicy(await configurationOf(graph, user.id), input.policyType)) return { userId: user.id, policyType: input.policyType, changed: false };
  await graph.api('/admin/teams/policy/userAssignments/unassign').post({
    value: [{ '@odata.type': '#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment', userId: user.id, policyType: input.policyType }],
  });
  return { userId: user.id, policyType: input.policyType, changed: true };
}, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const current = directPolicy(await configurationOf(graph, user.id), input.policyType);
  return current ? [change(userObject(user), policyProperty(input.policyType), policyName(current), null, { objectId: user.id })] : [];
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

/** The number a user gets: the one given, or the first free number of the type; `held` when the user has it already. */
async function numberFor(graph: Client, input: InputOf<typeof c.teamsAssignPhoneNumber>, user: GraphUser): Promise<{ number: string; held: boolean; mine: NumberAssignment[] }> {
  const mine = await numbersWhere(graph, `assignmentTargetId eq ${odataString(user.id)}`);
  if (input.phoneNumber) {
    const number = plus(input.phoneNumber);
    return { number, held: mine.some((n) => n.telephoneNumber === number), mine };
  }
  const same = mine.find((n) => n.assignmentCategory === input.category && n.numberType === input.numberType);
  if (same) return { number: same.telephoneNumber, held: true, mine };
  const free = await numbersWhere(graph, `assignmentStatus eq 'unassigned' and numberType eq ${odataString(input.numberType)} and capabilities/any(c:c eq 'userAssignment')`);
  if (!free.length) throw new ActionError(`the tenant has no free ${input.numberType} number that can be assigned to a user`, { code: 'NoFreeNumber', hint: 'acquire or port numbers in the Teams admin center, or give a phoneNumber' });
  return { number: free[0]!.telephoneNumber, held: false, mine };
}

/** "phone number +14255550100" of a user: {numberType, category} while assigned (with its emergency location), null when not. */
const numberProperty = (n: string) => `phone number ${n}`;
const heldNumber = (n: NumberAssignment) => ({ numberType: n.numberType, category: n.assignmentCategory, ...(n.locationId ? { locationId: n.locationId } : {}) });

/** Teams Phone (Phone System, MCOEV): the service plan a user needs for a phone number. */
const PHONE_SYSTEM_PLAN = '4828c8ec-dc2e-4779-b502-87ac9ce28ab7';

/**
 * Plan of assigning a number: the user gets it in the category asked, and the number the user had in
 * that category goes (a user has one number per category); a number of another user, a number not in
 * the inventory (other than a Direct Routing one, which its first assignment brings in) and a user
 * without Teams Phone would fail.
 */
async function planAssignPhoneNumber(input: InputOf<typeof c.teamsAssignPhoneNumber>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,assignedPlans');
  const { number, held, mine } = await numberFor(graph, input, user);
  if (held) return [];
  const plans = (user['assignedPlans'] as { servicePlanId: string; capabilityStatus: string }[] | undefined) ?? [];
  if (!plans.some((p) => p.servicePlanId === PHONE_SYSTEM_PLAN && p.capabilityStatus === 'Enabled'))
    throw new ActionError(`${user.userPrincipalName} has no Teams Phone licence, so no number can be assigned`, { code: 'NotLicensed', hint: 'assign a licence with Teams Phone (Phone System, e.g. E5 or Teams Phone Standard) first' });
  const n = (await numbersWhere(graph, `telephoneNumber eq ${odataString(number)}`))[0];
  if (!n && input.numberType !== 'directRouting')
    throw new ActionError(`the phone number ${number} is not in the tenant's number inventory`, { code: 'NumberNotFound', hint: 'check the number in the Teams admin center (Voice > Phone numbers)', status: 404 });
  if (n?.assignmentTargetId && n.assignmentTargetId !== user.id)
    throw new ActionError(`the phone number ${number} is assigned to someone else`, { code: 'NumberAlreadyAssigned', hint: 'unassign it from its user first, or pick another number' });
  const object = userObject(user);
  const replaced = mine.filter((m) => m.assignmentCategory === input.category);
  return [
    ...replaced.map((m) => change(object, numberProperty(m.telephoneNumber), heldNumber(m), null, { objectId: user.id, note: `a user has one ${input.category} number: ${number} replaces it` })),
    change(object, numberProperty(number), null, { numberType: input.numberType, category: input.category, ...(input.locationId ? { locationId: input.locationId } : {}) }, { objectId: user.id }),
  ];
}

export const teamsAssignPhoneNumber = implement(c.teamsAssignPhoneNumber, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const { number, held } = await numberFor(ctx.graph, input, user);
  if (held) {
    await waitActivated(ctx, number);
    return { userId: user.id, phoneNumber: number, assigned: false };
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
}, planAssignPhoneNumber);

/** The numbers to take from a user: the one given (if the user has it), or all. */
async function numbersToTake(graph: Client, input: InputOf<typeof c.teamsUnassignPhoneNumber>): Promise<{ user: GraphUser; targets: NumberAssignment[] }> {
  const user = await getUser(graph, input.user);
  const mine = await numbersWhere(graph, `assignmentTargetId eq ${odataString(user.id)}`);
  return { user, targets: input.phoneNumber ? mine.filter((n) => n.telephoneNumber === plus(input.phoneNumber!)) : mine };
}

export const teamsUnassignPhoneNumber = implement(c.teamsUnassignPhoneNumber, async (input, ctx) => {
  const { user, targets } = await numbersToTake(ctx.graph, input);
  const done: string[] = [];
  for (const n of targets) {
    const { location } = await postForLocation(ctx.graph, `${NUMBERS}/unassignNumber`, { telephoneNumber: n.telephoneNumber, numberType: n.numberType });
    if (location) await waitForGraphOperation(ctx, location, `phone number ${n.telephoneNumber} to be unassigned`);
    done.push(n.telephoneNumber);
  }
  return { userId: user.id, unassigned: done };
}, async (input, { graph }) => {
  const { user, targets } = await numbersToTake(graph, input);
  return targets.map((n) => change(userObject(user), numberProperty(n.telephoneNumber), heldNumber(n), null, { objectId: user.id }));
});

/** An edit of a number: each property (in the action's words) that differs, its value now (absent as '') and as asked, and what updateNumber takes. */
async function numberEdit(graph: Client, input: InputOf<typeof c.teamsUpdatePhoneNumber>) {
  const number = plus(input.phoneNumber);
  const n = (await numbersWhere(graph, `telephoneNumber eq ${odataString(number)}`))[0];
  if (!n) throw new ActionError(`the phone number ${number} is not in the tenant's number inventory`, { code: 'NumberNotFound', hint: 'check the number in the Teams admin center (Voice > Phone numbers)', status: 404 });
  const edits: { property: string; before: unknown; after: unknown; body: [string, unknown] }[] = [];
  const skip = (n.reverseNumberLookupOptions ?? []).includes('skipInternalVoip');
  if (input.emergencyLocationId !== undefined && (n.locationId ?? '') !== input.emergencyLocationId)
    edits.push({ property: 'emergencyLocationId', before: n.locationId ?? '', after: input.emergencyLocationId, body: ['locationId', input.emergencyLocationId] });
  if (input.networkSiteId !== undefined && (n.networkSiteId ?? '') !== input.networkSiteId)
    edits.push({ property: 'networkSiteId', before: n.networkSiteId ?? '', after: input.networkSiteId, body: ['networkSiteId', input.networkSiteId] });
  if (input.skipInternalVoip !== undefined && skip !== input.skipInternalVoip)
    edits.push({ property: 'skipInternalVoip', before: skip, after: input.skipInternalVoip, body: ['reverseNumberLookupOptions', input.skipInternalVoip ? ['skipInternalVoip'] : []] });
  return { number, n, edits };
}

export const teamsUpdatePhoneNumber = implement(
  c.teamsUpdatePhoneNumber,
  async (input, ctx) => {
    const { number, edits } = await numberEdit(ctx.graph, input);
    if (edits.length) await ctx.graph.api(`${NUMBERS}/updateNumber`).post({ telephoneNumber: number, ...Object.fromEntries(edits.map((e) => e.body)) });
    return { phoneNumber: number, changed: edits.map((e) => e.property) };
  },
  async (input, { graph }) => {
    const { number, edits } = await numberEdit(graph, input);
    return edits.map((e) => change(numberProperty(number), e.property, e.before, e.after));
  },
);
