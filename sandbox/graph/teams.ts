// Microsoft Teams on Graph: teams (a team is a Microsoft 365 group with resourceProvisioningOptions
// ["Team"]; its members and owners are the group's), async creation (POST /teams, 202 + Location of a
// teamsAsyncOperation), PUT /groups/{id}/team, archive / unarchive, channels (standard, private),
// members (aadUserConversationMember), /users/{id}/joinedTeams, and channel messages with the
// application-permission rule Microsoft documents (app-only posts are for migration only).
import { randomBytes, randomUUID } from 'node:crypto';
import { GraphError } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import type { Caller, Reply } from '../types.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import { newGroup } from '../seed.ts';
import type { Group, TenantStore, User } from '../store.ts';
import { bodyObject, collection, entity, odataContext, refId, requireGroup, requireUser } from './common.ts';

interface Channel {
  id: string;
  displayName: string;
  description: string | null;
  membershipType: 'standard' | 'private' | 'shared';
  createdDateTime: string;
  /** Private / shared channels: user id -> roles. */
  members?: Record<string, string[]>;
  messages: Record<string, unknown>[];
}

interface TeamRecord {
  isArchived: boolean;
  /** A team requested through POST /teams exists (GET, writes) only from this time on (Microsoft: seconds to minutes). */
  readyAtMs?: number;
  /** An archive / unarchive order that takes effect at atMs. */
  pendingArchive?: { value: boolean; atMs: number };
  createdDateTime: string;
  creationMode: 'standard' | 'migration';
  settings: Record<string, Record<string, unknown>>;
  channels: Channel[];
}

interface AsyncOperation {
  id: string;
  teamId: string;
  operationType: 'createTeam' | 'archiveTeam' | 'unarchiveTeam';
  createdDateTime: string;
  /** When the operation completes (sandbox clock). */
  doneAtMs?: number;
}

/** How long Microsoft takes, at time scale 1 (divided by the sandbox's time scale). */
export const TEAM_PROVISIONING_MS = 15_000;
export const TEAM_ARCHIVING_MS = 5_000;

interface TeamsState {
  teams: Record<string, TeamRecord>;
  operations: Record<string, AsyncOperation>;
}

const teamsState = (store: TenantStore): TeamsState => store.tenantState('teams', () => ({ teams: {}, operations: {} }));

const channelId = (): string => `19:${randomBytes(16).toString('hex')}@thread.tacv2`;
const generalId = (groupId: string): string => `19:${groupId.replace(/-/g, '')}@thread.tacv2`;

const DEFAULT_SETTINGS = (): TeamRecord['settings'] => ({
  memberSettings: { allowCreateUpdateChannels: true, allowDeleteChannels: true, allowAddRemoveApps: true, allowCreateUpdateRemoveTabs: true, allowCreateUpdateRemoveConnectors: true, allowCreatePrivateChannels: true },
  guestSettings: { allowCreateUpdateChannels: false, allowDeleteChannels: false },
  messagingSettings: { allowUserEditMessages: true, allowUserDeleteMessages: true, allowOwnerDeleteMessages: true, allowTeamMentions: true, allowChannelMentions: true },
  funSettings: { allowGiphy: true, giphyContentRating: 'moderate', allowStickersAndMemes: true, allowCustomMemes: true },
});

const isTeam = (g: Group): boolean => g.resourceProvisioningOptions.includes('Team');

/** The team behind a team-enabled group; seeded teams get their record (a General channel) on first use. */
function teamOf(store: TenantStore, group: Group): TeamRecord {
  const state = teamsState(store);
  return (state.teams[group.id] ??= {
    isArchived: false,
    createdDateTime: group.createdDateTime,
    creationMode: 'standard',
    settings: DEFAULT_SETTINGS(),
    channels: [{ id: generalId(group.id), displayName: 'General', description: null, membershipType: 'standard', createdDateTime: group.createdDateTime, messages: [] }],
  });
}

const teamsNotFound = (id: string): GraphError => new GraphError(404, 'NotFound', `No team found with Group Id ${id}`);

/** A team is visible once provisioned; a pending archive / unarchive takes effect when its time has come. */
function settled(team: TeamRecord, nowMs: number): boolean {
  if (team.pendingArchive && nowMs >= team.pendingArchive.atMs) {
    team.isArchived = team.pendingArchive.value;
    delete team.pendingArchive;
  }
  return team.readyAtMs === undefined || nowMs >= team.readyAtMs;
}

function requireTeam(ctx: Ctx): { group: Group; team: TeamRecord } {
  const id = ctx.params['id']!;
  const group = ctx.store.groupById(id);
  if (!group || !isTeam(group)) throw teamsNotFound(id);
  const team = teamOf(ctx.store, group);
  if (!settled(team, ctx.nowMs)) throw teamsNotFound(id);
  return { group, team };
}

const scaled = (ctx: Ctx, ms: number): number => ms / ctx.rt.opts.timeScale;

const archived = (): GraphError => new GraphError(403, 'Forbidden', 'The team is archived; it is read-only until it is unarchived.');

function writableTeam(ctx: Ctx): { group: Group; team: TeamRecord } {
  const t = requireTeam(ctx);
  if (t.team.isArchived) throw archived();
  return t;
}

function teamView(ctx: Ctx, group: Group, team: TeamRecord): Record<string, unknown> {
  const tenant = ctx.store.info.id;
  return {
    id: group.id,
    createdDateTime: team.createdDateTime,
    displayName: group.displayName,
    description: group.description,
    internalId: generalId(group.id),
    classification: group.classification,
    specialization: 'none',
    visibility: (group.visibility ?? 'Private').toLowerCase(),
    webUrl: `https://teams.microsoft.com/l/team/${encodeURIComponent(generalId(group.id))}/conversations?groupId=${group.id}&tenantId=${tenant}`,
    isArchived: team.isArchived,
    isMembershipLimitedToOwners: false,
    ...team.settings,
    discoverySettings: { showInTeamsSearchAndSuggestions: group.visibility === 'Public' },
    tenantId: tenant,
  };
}

const TEAM_TYPE: TypeInfo = {
  name: 'microsoft.graph.team',
  properties: new Set(['id', 'createdDateTime', 'displayName', 'description', 'internalId', 'classification', 'specialization', 'visibility', 'webUrl', 'isArchived', 'isMembershipLimitedToOwners', 'memberSettings', 'guestSettings', 'messagingSettings', 'funSettings', 'discoverySettings', 'tenantId']),
};
const CHANNEL_TYPE: TypeInfo = {
  name: 'microsoft.graph.channel',
  properties: new Set(['id', 'createdDateTime', 'displayName', 'description', 'isFavoriteByDefault', 'email', 'tenantId', 'webUrl', 'membershipType']),
};
const MEMBER_TYPE: TypeInfo = {
  name: 'microsoft.graph.conversationMember',
  properties: new Set(['@odata.type', 'id', 'roles', 'displayName', 'visibleHistoryStartDateTime', 'userId', 'email', 'tenantId']),
};

function channelView(ctx: Ctx, group: Group, c: Channel): Record<string, unknown> {
  return {
    id: c.id,
    createdDateTime: c.createdDateTime,
    displayName: c.displayName,
    description: c.description,
    isFavoriteByDefault: null,
    email: c.membershipType === 'standard' ? `${group.mailNickname}.${c.displayName.replace(/\W/g, '')}@${ctx.store.info.initialDomain}` : '',
    tenantId: ctx.store.info.id,
    webUrl: `https://teams.microsoft.com/l/channel/${encodeURIComponent(c.id)}/${encodeURIComponent(c.displayName)}?groupId=${group.id}&tenantId=${ctx.store.info.id}`,
    membershipType: c.membershipType,
  };
}

const membershipId = (scopeId: string, userId: string): string => Buffer.from(`1#${scopeId}#${userId}`).toString('base64url');

function memberView(ctx: Ctx, scopeId: string, user: User, roles: string[]): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.aadUserConversationMember',
    id: membershipId(scopeId, user.id),
    roles,
    displayName: user.displayName,
    visibleHistoryStartDateTime: '0001-01-01T00:00:00Z',
    userId: user.id,
    email: user.mail,
    tenantId: ctx.store.info.id,
  };
}

function teamMembers(ctx: Ctx, group: Group): { user: User; roles: string[] }[] {
  const owners = ctx.store.ownersOf(group.id);
  const ids = new Set([...owners, ...ctx.store.membersOf(group.id)]);
  const out: { user: User; roles: string[] }[] = [];
  for (const id of ids) {
    const user = ctx.store.userById(id);
    if (user) out.push({ user, roles: owners.has(id) ? ['owner'] : user.userType === 'Guest' ? ['guest'] : [] });
  }
  return out;
}

/** A conversationMember body: the user it binds and its roles (owner or none). */
function memberBody(ctx: Ctx, raw: unknown): { user: User; owner: boolean } {
  const b = (raw ?? {}) as Record<string, unknown>;
  if (b['@odata.type'] !== '#microsoft.graph.aadUserConversationMember') throw new GraphError(400, 'BadRequest', "The member must be of type '#microsoft.graph.aadUserConversationMember'.");
  const roles = b['roles'] ?? [];
  if (!Array.isArray(roles) || roles.some((r) => r !== 'owner' && r !== 'member' && r !== 'guest')) throw new GraphError(400, 'BadRequest', "Invalid value for 'roles': use [] or ['owner'].");
  const bind = b['user@odata.bind'] ?? b['userId'];
  const user = ctx.store.findUser(typeof bind === 'string' && bind.includes('/') ? refId(bind) : String(bind ?? ''));
  if (!user) throw new GraphError(404, 'NotFound', `User '${String(bind)}' was not found in the tenant.`);
  return { user, owner: roles.includes('owner') };
}

function asyncOperation(ctx: Ctx, teamId: string, operationType: AsyncOperation['operationType'], doneAtMs?: number): Reply {
  const op: AsyncOperation = { id: randomUUID(), teamId, operationType, createdDateTime: ctx.nowIso, doneAtMs };
  teamsState(ctx.store).operations[op.id] = op;
  return { status: 202, headers: { location: `/teams('${teamId}')/operations('${op.id}')`, 'content-location': `/teams('${teamId}')` } };
}

const CHANNEL_NAME = /^[^~#%&*{}+/\\:<>?|'".]{1,50}$/;

function checkChannelName(team: TeamRecord, name: unknown, except?: Channel): string {
  if (typeof name !== 'string' || !CHANNEL_NAME.test(name) || name.startsWith('_')) throw new GraphError(400, 'BadRequest', "Channel name is invalid. It can't contain ~ # % & * { } + / \\ : < > ? | ' \" or '.', can't start with an underscore and must be 50 characters or fewer.");
  if (team.channels.some((c) => c !== except && c.displayName.toLowerCase() === name.toLowerCase())) throw new GraphError(400, 'NameAlreadyExists', 'Channel name already existed, please use other name.');
  return name;
}

function requireChannel(ctx: Ctx, team: TeamRecord): Channel {
  const c = team.channels.find((x) => x.id === ctx.params['channelId']);
  if (!c) throw new GraphError(404, 'NotFound', `Channel '${ctx.params['channelId']}' was not found in the team.`);
  return c;
}

/** Teams answers a missing role with 403 Forbidden naming what it wanted and what the token had. */
const teamsDenied = (route: RouteDef, caller: Caller): GraphError =>
  new GraphError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${route.permissions.join(', ')}'. Roles on the request '${[...caller.roles].join(', ')}'.`);

const teamsRoute = (def: Omit<RouteDef, 'workload' | 'denied'>): RouteDef => ({ ...def, workload: 'teams', denied: teamsDenied });

const TEAM_READ = ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const TEAM_SETTINGS = ['TeamSettings.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const TEAM_CREATE = ['Team.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const CHANNEL_READ = ['Channel.ReadBasic.All', 'ChannelSettings.Read.All', 'ChannelSettings.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const CHANNEL_CREATE = ['Channel.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const CHANNEL_WRITE = ['ChannelSettings.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const CHANNEL_DELETE = ['Channel.Delete.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const MEMBER_READ = ['TeamMember.Read.All', 'TeamMember.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const MEMBER_WRITE = ['TeamMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];

function createTeam(ctx: Ctx): Reply {
  const body = bodyObject(ctx);
  const groupBind = body['group@odata.bind'];
  let group: Group;
  if (typeof groupBind === 'string') {
    group = requireGroup(ctx, refId(groupBind.replace(/groups\('([^']+)'\)/i, 'groups/$1')));
    if (!group.groupTypes.includes('Unified')) throw new GraphError(400, 'BadRequest', 'A team can only be created from a Microsoft 365 (Unified) group.');
    if (isTeam(group)) throw new GraphError(409, 'Conflict', 'The group already has a team.');
  } else {
    const displayName = body['displayName'];
    if (typeof displayName !== 'string' || !displayName) throw new GraphError(400, 'BadRequest', "A value is required for property 'displayName' of resource 'team'.");
    const members = Array.isArray(body['members']) ? body['members'].map((m) => memberBody(ctx, m)) : [];
    // Application context: Teams needs an owner to create a team for (documented).
    if (!members.some((m) => m.owner)) throw new GraphError(400, 'BadRequest', 'A team created with application permissions must specify at least one member with the owner role.');
    const nick = `${displayName.replace(/[^A-Za-z0-9]/g, '').slice(0, 40) || 'team'}${randomBytes(2).toString('hex')}`;
    const mail = `${nick}@${ctx.store.info.defaultDomain}`;
    group = newGroup(
      { id: randomUUID(), displayName, mailNickname: nick, description: typeof body['description'] === 'string' ? body['description'] : null, mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'], visibility: body['visibility'] === 'public' ? 'Public' : 'Private', mail, proxyAddresses: [`SMTP:${mail}`] },
      ctx.nowMs,
    );
    ctx.store.addGroup(group);
    ctx.mutated('group.create', group.id);
    for (const m of members) {
      ctx.store.addMember(group.id, m.user.id);
      if (m.owner) ctx.store.addOwner(group.id, m.user.id);
    }
  }
  group.resourceProvisioningOptions = [...new Set([...group.resourceProvisioningOptions, 'Team'])];
  const team = teamOf(ctx.store, group);
  team.createdDateTime = ctx.nowIso;
  team.creationMode = body['@microsoft.graph.teamCreationMode'] === 'migration' ? 'migration' : 'standard';
  for (const key of Object.keys(DEFAULT_SETTINGS())) if (body[key] && typeof body[key] === 'object') Object.assign(team.settings[key]!, body[key]);
  // The group exists at once; the team behind it only once Teams has provisioned it.
  team.readyAtMs = ctx.nowMs + scaled(ctx, TEAM_PROVISIONING_MS);
  ctx.mutated('team.create', group.id);
  return asyncOperation(ctx, group.id, 'createTeam', team.readyAtMs);
}

function teamRoutes(): RouteDef[] {
  return [
    teamsRoute({
      method: 'GET',
      path: '/teams',
      permissions: TEAM_READ,
      handler: (ctx) => {
        const groups = [...ctx.store.groups.values()].filter((g) => isTeam(g) && settled(teamOf(ctx.store, g), ctx.nowMs));
        return collection(ctx, groups, TEAM_TYPE, (g) => teamView(ctx, g, teamOf(ctx.store, g)), 'teams');
      },
    }),
    teamsRoute({ method: 'POST', path: '/teams', permissions: TEAM_CREATE, handler: createTeam }),
    teamsRoute({
      method: 'GET',
      path: '/teams/:id',
      permissions: TEAM_READ,
      handler: (ctx) => {
        const { group, team } = requireTeam(ctx);
        return entity(ctx, teamView(ctx, group, team), TEAM_TYPE, 'teams/$entity');
      },
    }),
    teamsRoute({
      method: 'PATCH',
      path: '/teams/:id',
      permissions: TEAM_SETTINGS,
      handler: (ctx) => {
        const { group, team } = writableTeam(ctx);
        const body = bodyObject(ctx);
        // Check everything first: a refused PATCH changes nothing.
        for (const [k, v] of Object.entries(body)) {
          if (k === 'displayName' || k === 'description') {
            if (typeof v !== 'string' || (k === 'displayName' && !v.trim()) || v.length > (k === 'displayName' ? 256 : 1024)) throw new GraphError(400, 'BadRequest', `Invalid value for property '${k}'.`);
          } else if (k === 'visibility') {
            if (v !== 'public' && v !== 'private') throw new GraphError(400, 'BadRequest', "Invalid value for property 'visibility': use 'public' or 'private'.");
          } else if (!(k in team.settings) || !v || typeof v !== 'object') throw new GraphError(400, 'BadRequest', `Property '${k}' cannot be updated on a team.`);
          else for (const sk of Object.keys(v)) if (!(sk in team.settings[k]!)) throw new GraphError(400, 'BadRequest', `Property '${sk}' does not exist on ${k}.`);
        }
        for (const [k, v] of Object.entries(body)) {
          if (k === 'displayName') group.displayName = v as string;
          else if (k === 'description') group.description = v as string;
          else if (k === 'visibility') group.visibility = v === 'public' ? 'Public' : 'Private';
          else Object.assign(team.settings[k]!, v);
        }
        ctx.mutated('team.update', group.id);
        return { status: 204 };
      },
    }),
    teamsRoute({
      method: 'PUT',
      path: '/groups/:id/team',
      permissions: TEAM_SETTINGS,
      handler: (ctx) => {
        const group = requireGroup(ctx, ctx.params['id']!);
        if (!group.groupTypes.includes('Unified')) throw new GraphError(400, 'BadRequest', 'A team can only be created from a Microsoft 365 (Unified) group.');
        if (isTeam(group)) throw new GraphError(409, 'Conflict', 'The group already has a team.');
        group.resourceProvisioningOptions = [...group.resourceProvisioningOptions, 'Team'];
        const team = teamOf(ctx.store, group);
        team.createdDateTime = ctx.nowIso;
        const body = ctx.body && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : {};
        for (const key of Object.keys(team.settings)) if (body[key] && typeof body[key] === 'object') Object.assign(team.settings[key]!, body[key]);
        ctx.mutated('team.create', group.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'teams/$entity'), ...teamView(ctx, group, team) } };
      },
    }),
    teamsRoute({
      method: 'GET',
      path: '/teams/:id/operations/:operationId',
      permissions: TEAM_READ,
      handler: (ctx) => {
        const op = teamsState(ctx.store).operations[ctx.params['operationId']!];
        if (!op || op.teamId !== ctx.params['id']!.toLowerCase()) throw new GraphError(404, 'NotFound', 'Operation not found.');
        const done = op.doneAtMs === undefined || ctx.nowMs >= op.doneAtMs;
        return {
          status: 200,
          body: {
            '@odata.context': odataContext(ctx, `teams('${op.teamId}')/operations/$entity`),
            id: op.id,
            operationType: op.operationType,
            createdDateTime: op.createdDateTime,
            status: done ? 'succeeded' : 'inProgress',
            lastActionDateTime: done && op.doneAtMs ? new Date(op.doneAtMs).toISOString() : op.createdDateTime,
            attemptsCount: 1,
            targetResourceId: op.teamId,
            targetResourceLocation: `/teams('${op.teamId}')`,
            error: null,
          },
        };
      },
    }),
    ...(['archive', 'unarchive'] as const).map((action) =>
      teamsRoute({
        method: 'POST',
        path: `/teams/:id/${action}`,
        permissions: ['TeamSettings.ReadWrite.All', 'Directory.ReadWrite.All'],
        handler: (ctx) => {
          const { group, team } = requireTeam(ctx);
          // The change takes effect when the operation completes.
          const atMs = ctx.nowMs + scaled(ctx, TEAM_ARCHIVING_MS);
          team.pendingArchive = { value: action === 'archive', atMs };
          ctx.mutated(`team.${action}`, group.id);
          return asyncOperation(ctx, group.id, action === 'archive' ? 'archiveTeam' : 'unarchiveTeam', atMs);
        },
      }),
    ),
    teamsRoute({
      method: 'GET',
      path: '/users/:id/joinedTeams',
      permissions: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const ids = new Set([...ctx.store.memberOf(user.id), ...ctx.store.ownedGroups(user.id)]);
        const groups = [...ids].map((id) => ctx.store.groupById(id)).filter((g): g is Group => !!g && isTeam(g) && settled(teamOf(ctx.store, g), ctx.nowMs));
        return collection(ctx, groups, TEAM_TYPE, (g) => teamView(ctx, g, teamOf(ctx.store, g)), 'teams');
      },
    }),
  ];
}

function channelRoutes(): RouteDef[] {
  const base = '/teams/:id/channels';
  return [
    teamsRoute({
      method: 'GET',
      path: base,
      permissions: CHANNEL_READ,
      handler: (ctx) => {
        const { group, team } = requireTeam(ctx);
        return collection(ctx, team.channels, CHANNEL_TYPE, (c) => channelView(ctx, group, c), `teams('${group.id}')/channels`);
      },
    }),
    teamsRoute({
      method: 'GET',
      path: '/teams/:id/primaryChannel',
      permissions: CHANNEL_READ,
      handler: (ctx) => {
        const { group, team } = requireTeam(ctx);
        return entity(ctx, channelView(ctx, group, team.channels[0]!), CHANNEL_TYPE, `teams('${group.id}')/primaryChannel/$entity`);
      },
    }),
    teamsRoute({
      method: 'GET',
      path: `${base}/:channelId`,
      permissions: CHANNEL_READ,
      handler: (ctx) => {
        const { group, team } = requireTeam(ctx);
        return entity(ctx, channelView(ctx, group, requireChannel(ctx, team)), CHANNEL_TYPE, `teams('${group.id}')/channels/$entity`);
      },
    }),
    teamsRoute({
      method: 'POST',
      path: base,
      permissions: CHANNEL_CREATE,
      handler: (ctx) => {
        const { group, team } = writableTeam(ctx);
        const body = bodyObject(ctx);
        const displayName = checkChannelName(team, body['displayName']);
        const membershipType = body['membershipType'] ?? 'standard';
        if (membershipType !== 'standard' && membershipType !== 'private' && membershipType !== 'shared') throw new GraphError(400, 'BadRequest', `Invalid membershipType '${String(membershipType)}'.`);
        const channel: Channel = { id: channelId(), displayName, description: typeof body['description'] === 'string' ? body['description'] : null, membershipType, createdDateTime: ctx.nowIso, messages: [] };
        if (membershipType !== 'standard') {
          const members = Array.isArray(body['members']) ? body['members'].map((m) => memberBody(ctx, m)) : [];
          if (!members.some((m) => m.owner)) throw new GraphError(400, 'BadRequest', 'A private or shared channel created with application permissions must have a member with the owner role.');
          channel.members = Object.fromEntries(members.map((m) => [m.user.id, m.owner ? ['owner'] : []]));
        }
        team.channels.push(channel);
        ctx.mutated('team.createChannel', group.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, `teams('${group.id}')/channels/$entity`), ...channelView(ctx, group, channel) } };
      },
    }),
    teamsRoute({
      method: 'PATCH',
      path: `${base}/:channelId`,
      permissions: CHANNEL_WRITE,
      handler: (ctx) => {
        const { group, team } = writableTeam(ctx);
        const channel = requireChannel(ctx, team);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'displayName' && k !== 'description') throw new GraphError(400, 'BadRequest', `Property '${k}' cannot be updated on a channel.`);
        if ('displayName' in body) {
          if (channel.displayName === 'General') throw new GraphError(400, 'BadRequest', 'The General channel cannot be renamed.');
          channel.displayName = checkChannelName(team, body['displayName'], channel);
        }
        if ('description' in body) channel.description = body['description'] === null ? null : String(body['description']);
        ctx.mutated('team.updateChannel', group.id);
        return { status: 204 };
      },
    }),
    teamsRoute({
      method: 'DELETE',
      path: `${base}/:channelId`,
      permissions: CHANNEL_DELETE,
      handler: (ctx) => {
        const { group, team } = writableTeam(ctx);
        const channel = requireChannel(ctx, team);
        if (channel === team.channels[0]) throw new GraphError(400, 'BadRequest', 'The General channel cannot be deleted.');
        team.channels = team.channels.filter((c) => c !== channel);
        ctx.mutated('team.deleteChannel', group.id);
        return { status: 204 };
      },
    }),
    teamsRoute({
      method: 'GET',
      path: `${base}/:channelId/members`,
      permissions: ['ChannelMember.Read.All', 'ChannelMember.ReadWrite.All', ...MEMBER_READ],
      handler: (ctx) => {
        const { group, team } = requireTeam(ctx);
        const channel = requireChannel(ctx, team);
        const list = channel.members
          ? Object.entries(channel.members).flatMap(([id, roles]) => {
              const user = ctx.store.userById(id);
              return user ? [{ user, roles }] : [];
            })
          : teamMembers(ctx, group);
        return collection(ctx, list, MEMBER_TYPE, (m) => memberView(ctx, channel.id, m.user, m.roles), `teams('${group.id}')/channels('${channel.id}')/members`);
      },
    }),
    ...channelMemberWrites(base),
    teamsRoute({
      method: 'GET',
      path: `${base}/:channelId/messages`,
      permissions: ['ChannelMessage.Read.All', 'Group.Read.All', 'Group.ReadWrite.All'],
      handler: (ctx) => {
        const { group, team } = requireTeam(ctx);
        const channel = requireChannel(ctx, team);
        return collection(ctx, [...channel.messages].reverse(), { name: 'microsoft.graph.chatMessage', properties: new Set(['id', 'createdDateTime', 'body', 'from', 'subject', 'messageType', 'importance']) }, (m) => m, `teams('${group.id}')/channels('${channel.id}')/messages`);
      },
    }),
    teamsRoute({
      method: 'POST',
      path: `${base}/:channelId/messages`,
      permissions: ['Teamwork.Migrate.All'],
      handler: (ctx) => {
        const { group, team } = writableTeam(ctx);
        const channel = requireChannel(ctx, team);
        // Microsoft: "Application permissions are only supported for migration." An app-only post to a
        // team that is not in migration mode is refused; notifications belong in an incoming webhook.
        if (team.creationMode !== 'migration') {
          throw new GraphError(401, 'Unauthorized', 'Message POST is allowed in application-only context only for import purposes. Refer to https://docs.microsoft.com/microsoftteams/platform/graph-api/import-messages/import-external-messages-to-teams for more details.');
        }
        const body = bodyObject(ctx);
        const content = (body['body'] as { content?: unknown } | undefined)?.content;
        if (typeof content !== 'string' || !content) throw new GraphError(400, 'BadRequest', "A value is required for property 'body' of resource 'chatMessage'.");
        const message = { id: String(ctx.nowMs), createdDateTime: typeof body['createdDateTime'] === 'string' ? body['createdDateTime'] : ctx.nowIso, messageType: 'message', importance: 'normal', subject: body['subject'] ?? null, body: body['body'], from: body['from'] ?? null };
        channel.messages.push(message);
        ctx.mutated('team.importMessage', group.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, `teams('${group.id}')/channels('${channel.id}')/messages/$entity`), ...message } };
      },
    }),
  ];
}

/** Members of private and shared channels: add (team members only), change roles, remove. */
function channelMemberWrites(base: string): RouteDef[] {
  const privateChannel = (ctx: Ctx): { group: Group; channel: Channel; members: Record<string, string[]> } => {
    const { group, team } = writableTeam(ctx);
    const channel = requireChannel(ctx, team);
    if (!channel.members) throw new GraphError(400, 'BadRequest', 'Members can only be managed on private and shared channels; a standard channel has the team\'s members.');
    return { group, channel, members: channel.members };
  };
  const reply = (ctx: Ctx, group: Group, channel: Channel, user: User, roles: string[], status: number): Reply => ({
    status,
    body: { '@odata.context': odataContext(ctx, `teams('${group.id}')/channels('${channel.id}')/members/$entity`), ...memberView(ctx, channel.id, user, roles) },
  });
  const findIn = (ctx: Ctx, channel: Channel, members: Record<string, string[]>): User => {
    const id = Object.keys(members).find((u) => membershipId(channel.id, u) === ctx.params['memberId']);
    const user = id ? ctx.store.userById(id) : undefined;
    if (!user) throw new GraphError(404, 'NotFound', `Member '${ctx.params['memberId']}' was not found in the channel.`);
    return user;
  };
  const owners = (members: Record<string, string[]>) => Object.values(members).filter((r) => r.includes('owner')).length;
  return [
    teamsRoute({
      method: 'POST',
      path: `${base}/:channelId/members`,
      permissions: ['ChannelMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
      handler: (ctx) => {
        const { group, channel, members } = privateChannel(ctx);
        const { user, owner } = memberBody(ctx, ctx.body);
        if (!ctx.store.isMember(group.id, user.id) && !ctx.store.ownersOf(group.id).has(user.id))
          throw new GraphError(400, 'BadRequest', `User '${user.id}' must be a member of the team before being added to a private channel.`);
        members[user.id] = owner ? ['owner'] : (members[user.id] ?? []);
        ctx.mutated('team.addChannelMember', group.id, user.id);
        return reply(ctx, group, channel, user, members[user.id]!, 201);
      },
    }),
    teamsRoute({
      method: 'PATCH',
      path: `${base}/:channelId/members/:memberId`,
      permissions: ['ChannelMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
      handler: (ctx) => {
        const { group, channel, members } = privateChannel(ctx);
        const user = findIn(ctx, channel, members);
        const roles = bodyObject(ctx)['roles'];
        if (!Array.isArray(roles)) throw new GraphError(400, 'BadRequest', "A value is required for property 'roles'.");
        if (!roles.includes('owner') && members[user.id]!.includes('owner') && owners(members) === 1) throw new GraphError(400, 'BadRequest', 'The last owner of a channel cannot be demoted.');
        members[user.id] = roles.includes('owner') ? ['owner'] : [];
        ctx.mutated('team.updateChannelMember', group.id, user.id);
        return reply(ctx, group, channel, user, members[user.id]!, 200);
      },
    }),
    teamsRoute({
      method: 'DELETE',
      path: `${base}/:channelId/members/:memberId`,
      permissions: ['ChannelMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
      handler: (ctx) => {
        const { group, channel, members } = privateChannel(ctx);
        const user = findIn(ctx, channel, members);
        if (members[user.id]!.includes('owner') && owners(members) === 1) throw new GraphError(400, 'BadRequest', 'The last owner of a channel cannot be removed.');
        delete members[user.id];
        ctx.mutated('team.removeChannelMember', group.id, user.id);
        return { status: 204 };
      },
    }),
  ];
}

function memberRoutes(): RouteDef[] {
  const base = '/teams/:id/members';
  const findMember = (ctx: Ctx, group: Group): { user: User; roles: string[] } => {
    const m = teamMembers(ctx, group).find((x) => membershipId(group.id, x.user.id) === ctx.params['memberId']);
    if (!m) throw new GraphError(404, 'NotFound', `Member '${ctx.params['memberId']}' was not found in the team.`);
    return m;
  };
  const memberReply = (ctx: Ctx, group: Group, user: User, status: number): Reply => ({
    status,
    body: { '@odata.context': odataContext(ctx, `teams('${group.id}')/members/$entity`), ...memberView(ctx, group.id, user, ctx.store.ownersOf(group.id).has(user.id) ? ['owner'] : user.userType === 'Guest' ? ['guest'] : []) },
  });
  return [
    teamsRoute({
      method: 'GET',
      path: base,
      permissions: MEMBER_READ,
      handler: (ctx) => {
        const { group } = requireTeam(ctx);
        return collection(ctx, teamMembers(ctx, group), MEMBER_TYPE, (m) => memberView(ctx, group.id, m.user, m.roles), `teams('${group.id}')/members`);
      },
    }),
    teamsRoute({
      method: 'GET',
      path: `${base}/:memberId`,
      permissions: MEMBER_READ,
      handler: (ctx) => {
        const { group } = requireTeam(ctx);
        return memberReply(ctx, group, findMember(ctx, group).user, 200);
      },
    }),
    teamsRoute({
      method: 'POST',
      path: base,
      permissions: MEMBER_WRITE,
      handler: (ctx) => {
        const { group } = writableTeam(ctx);
        const { user, owner } = memberBody(ctx, ctx.body);
        // Adding someone who is already a member answers the membership again (no duplicate).
        if (!ctx.store.isMember(group.id, user.id)) ctx.store.addMember(group.id, user.id);
        if (owner && !ctx.store.ownersOf(group.id).has(user.id)) ctx.store.addOwner(group.id, user.id);
        ctx.mutated('team.addMember', group.id, user.id);
        return memberReply(ctx, group, user, 201);
      },
    }),
    teamsRoute({
      method: 'PATCH',
      path: `${base}/:memberId`,
      permissions: MEMBER_WRITE,
      handler: (ctx) => {
        const { group } = writableTeam(ctx);
        const { user } = findMember(ctx, group);
        const roles = bodyObject(ctx)['roles'];
        if (!Array.isArray(roles)) throw new GraphError(400, 'BadRequest', "A value is required for property 'roles'.");
        const owners = ctx.store.ownersOf(group.id);
        if (roles.includes('owner')) ctx.store.addOwner(group.id, user.id);
        else if (owners.has(user.id)) {
          if (owners.size === 1) throw new GraphError(400, 'BadRequest', 'The last owner of a team cannot be demoted.');
          ctx.store.removeOwner(group.id, user.id);
        }
        ctx.mutated('team.updateMember', group.id, user.id);
        return memberReply(ctx, group, user, 200);
      },
    }),
    teamsRoute({
      method: 'DELETE',
      path: `${base}/:memberId`,
      permissions: MEMBER_WRITE,
      handler: (ctx) => {
        const { group } = writableTeam(ctx);
        const { user } = findMember(ctx, group);
        const owners = ctx.store.ownersOf(group.id);
        if (owners.has(user.id) && owners.size === 1) throw new GraphError(400, 'BadRequest', 'The last owner of a team cannot be removed.');
        ctx.store.removeMember(group.id, user.id);
        if (owners.has(user.id)) ctx.store.removeOwner(group.id, user.id);
        ctx.mutated('team.removeMember', group.id, user.id);
        return { status: 204 };
      },
    }),
  ];
}

export function registerTeamsRoutes(router: Router): void {
  router.add(...teamRoutes(), ...channelRoutes(), ...memberRoutes());
}
