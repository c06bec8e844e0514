// Teams through the real Graph client: async creation with a teamsAsyncOperation, team from a group,
// channels, members, archive, joinedTeams, and the app-only message rule.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError as failure, sandboxCredential, sandboxGraphClient } from '../sandbox/testing.ts';
import { TEAM_ARCHIVING_MS, TEAM_PROVISIONING_MS } from '../sandbox/graph/teams.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 9, users: 60 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const people = () => [...sb.admin.store.users.values()].filter((u) => u.userType === 'Member');
const bind = (id: string) => `https://graph.microsoft.com/v1.0/users('${id}')`;

/** POST /teams answers 202 without a body; the SDK's raw response carries Location. */
async function createTeam(body: Record<string, unknown>): Promise<{ teamId: string; location: string }> {
  const token = await sandboxCredentialToken();
  const res = await fetch(`${sb.graphBaseUrl}/teams`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 202, await res.clone().text());
  const location = res.headers.get('location')!;
  const teamId = /teams\('([^']+)'\)/.exec(location)![1]!;
  return { teamId, location };
}

async function sandboxCredentialToken(): Promise<string> {
  return (await sandboxCredential(sb).getToken('https://graph.microsoft.com/.default'))!.token;
}

test('seeded department teams; POST /teams is 202 with a Location to a teamsAsyncOperation that succeeds once Teams has provisioned the team', async () => {
  const teams = await graph.api('/teams').get();
  assert.ok(teams.value.some((t: { displayName: string }) => t.displayName === 'Sales'));
  const owner = people()[0]!;
  const { teamId, location } = await createTeam({
    'template@odata.bind': "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
    displayName: 'Project Falcon',
    description: 'Launch team',
    members: [{ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'], 'user@odata.bind': bind(owner.id) }],
  });
  const pending = await graph.api(location).get();
  assert.equal(pending.status, 'inProgress', 'a team is not ready the instant it is requested');
  assert.equal((await failure(graph.api(`/teams/${teamId}`).get())).statusCode, 404, 'the team is not there yet');
  assert.equal((await graph.api(`/groups/${teamId}`).get()).id, teamId, 'its group already is');
  sb.admin.advanceClock(TEAM_PROVISIONING_MS / 1000);
  const op = await graph.api(location).get();
  assert.equal(op.status, 'succeeded');
  assert.equal(op.targetResourceId, teamId);
  const team = await graph.api(`/teams/${teamId}`).get();
  assert.equal(team.displayName, 'Project Falcon');
  assert.equal(team.isArchived, false);
  const group = await graph.api(`/groups/${teamId}`).select('groupTypes,resourceProvisioningOptions').get();
  assert.deepEqual(group.resourceProvisioningOptions, ['Team']);
  const joined = await graph.api(`/users/${owner.id}/joinedTeams`).get();
  assert.ok(joined.value.some((t: { id: string }) => t.id === teamId));
});

test('app-only creation without an owner is 400; PUT /groups/{id}/team teams up a Microsoft 365 group once', async () => {
  const token = await sandboxCredentialToken();
  const res = await fetch(`${sb.graphBaseUrl}/teams`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'No owner' }) });
  assert.equal(res.status, 400);
  const g = await graph.api('/groups').post({ displayName: 'Ops Squad', mailNickname: 'opssquad', mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'], 'owners@odata.bind': [`https://graph.microsoft.com/v1.0/users/${people()[1]!.id}`] });
  const team = await graph.api(`/groups/${g.id}/team`).put({ memberSettings: { allowCreateUpdateChannels: false } });
  assert.equal(team.id, g.id);
  assert.equal(team.memberSettings.allowCreateUpdateChannels, false);
  assert.equal((await failure(graph.api(`/groups/${g.id}/team`).put({}))).statusCode, 409);
});

test('channels: create standard and private, duplicate name 400, patch, General cannot be deleted', async () => {
  const team = (await graph.api('/teams').get()).value[0];
  const made = await graph.api(`/teams/${team.id}/channels`).post({ displayName: 'Announcements', description: 'News', membershipType: 'standard' });
  assert.match(made.id, /^19:[0-9a-f]+@thread\.tacv2$/);
  const dup = await failure(graph.api(`/teams/${team.id}/channels`).post({ displayName: 'announcements' }));
  assert.equal(dup.statusCode, 400);
  const owner = people()[2]!;
  const priv = await graph.api(`/teams/${team.id}/channels`).post({ displayName: 'Leads', membershipType: 'private', members: [{ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'], 'user@odata.bind': bind(owner.id) }] });
  const privMembers = await graph.api(`/teams/${team.id}/channels/${priv.id}/members`).get();
  assert.deepEqual(privMembers.value.map((m: { userId: string }) => m.userId), [owner.id]);
  await graph.api(`/teams/${team.id}/channels/${made.id}`).patch({ description: 'Company news' });
  assert.equal((await graph.api(`/teams/${team.id}/channels/${made.id}`).get()).description, 'Company news');
  const general = await graph.api(`/teams/${team.id}/primaryChannel`).get();
  assert.equal((await failure(graph.api(`/teams/${team.id}/channels/${general.id}`).delete())).statusCode, 400);
  await graph.api(`/teams/${team.id}/channels/${made.id}`).delete();
  const names = (await graph.api(`/teams/${team.id}/channels`).get()).value.map((c: { displayName: string }) => c.displayName);
  assert.deepEqual(names.sort(), ['General', 'Leads']);
});

test('members: add as owner, the group reflects it, remove; archived teams are read-only until unarchived', async () => {
  const team = (await graph.api('/teams').get()).value[0];
  const newcomer = people().find((u) => !sb.admin.store.isMember(team.id, u.id))!;
  const m = await graph.api(`/teams/${team.id}/members`).post({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'], 'user@odata.bind': bind(newcomer.id) });
  assert.deepEqual(m.roles, ['owner']);
  const owners = await graph.api(`/groups/${team.id}/owners`).get();
  assert.ok(owners.value.some((o: { id: string }) => o.id === newcomer.id));
  const noType = await failure(graph.api(`/teams/${team.id}/members`).post({ roles: [], 'user@odata.bind': bind(newcomer.id) }));
  assert.equal(noType.statusCode, 400);
  await graph.api(`/teams/${team.id}/members/${m.id}`).delete();
  assert.ok(!sb.admin.store.isMember(team.id, newcomer.id));

  await graph.api(`/teams/${team.id}/archive`).post({ shouldSetSpoSiteReadOnlyForMembers: true });
  assert.equal((await graph.api(`/teams/${team.id}`).get()).isArchived, false, 'archiving takes effect when its operation completes');
  sb.admin.advanceClock(TEAM_ARCHIVING_MS / 1000);
  assert.equal((await graph.api(`/teams/${team.id}`).get()).isArchived, true);
  const locked = await failure(graph.api(`/teams/${team.id}/channels`).post({ displayName: 'Nope' }));
  assert.equal(locked.statusCode, 403);
  await graph.api(`/teams/${team.id}/unarchive`).post({});
  sb.admin.advanceClock(TEAM_ARCHIVING_MS / 1000);
  assert.equal((await graph.api(`/teams/${team.id}`).get()).isArchived, false);
});

test('channel messages: app-only posts are refused outside migration (401), without Teamwork.Migrate.All 403', async () => {
  const team = (await graph.api('/teams').get()).value[0];
  const general = await graph.api(`/teams/${team.id}/primaryChannel`).get();
  const refused = await failure(graph.api(`/teams/${team.id}/channels/${general.id}/messages`).post({ body: { content: 'Hello' } }));
  assert.equal(refused.statusCode, 401);
  assert.match(refused.message, /import purposes/);
  const plain = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['Group.ReadWrite.All'] }) });
  const denied = await failure(plain.api(`/teams/${team.id}/channels/${general.id}/messages`).post({ body: { content: 'Hello' } }));
  assert.equal(denied.statusCode, 403);
  assert.match(denied.message, /Teamwork.Migrate.All/);
  const { teamId } = await createTeam({ '@microsoft.graph.teamCreationMode': 'migration', displayName: 'Imported', members: [{ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'], 'user@odata.bind': bind(people()[0]!.id) }] });
  sb.admin.advanceClock(TEAM_PROVISIONING_MS / 1000);
  const channel = await graph.api(`/teams/${teamId}/primaryChannel`).get();
  const posted = await graph.api(`/teams/${teamId}/channels/${channel.id}/messages`).post({ createdDateTime: '2020-01-01T10:00:00Z', body: { content: 'Old message' } });
  assert.equal(posted.createdDateTime, '2020-01-01T10:00:00Z');
});
