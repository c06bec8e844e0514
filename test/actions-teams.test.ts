// The Teams actions against the sandbox tenant: each runs as a runbook step on real Temporal, through the
// real activity wrapper, and the test reads the tenant back through Graph (teams, channels, members, the
// Teams admin APIs). The sandbox provisions teams, archives and number orders with Microsoft's delays
// (time-scaled), so a step that reported done before Microsoft was would fail these reads.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SKU_BY_PART } from '../sandbox/index.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let people: { id: string; userPrincipalName: string }[];
let phoneUsers: { id: string; userPrincipalName: string }[];

before(async () => {
  // Microsoft's delays at 1/20 (a team in under a second); throttling, which time scaling makes bursty, has its own tests.
  env = await startActionsEnv({ sandbox: { timeScale: 20, throttling: false } });
  const members = [...env.sandbox.admin.store.users.values()].filter((u) => u.userType === 'Member' && u.accountEnabled);
  people = members.slice(0, 12).map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName }));
  const e5 = SKU_BY_PART.get('SPE_E5')!.skuId;
  phoneUsers = members.filter((u) => u.assignedLicenses.some((l) => l.skuId === e5)).slice(0, 3).map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName }));
});
after(async () => env?.close());

const tag = () => randomUUID().slice(0, 6);
const graph = () => env.graph;
const teamMembers = async (teamId: string): Promise<{ id: string; userId: string; roles: string[] }[]> => (await graph().api(`/teams/${teamId}/members`).get()).value;
const roleOf = async (teamId: string, userId: string) => (await teamMembers(teamId)).find((m) => m.userId === userId)?.roles;

/** A new team made through teams.create, owned by people[0]. */
async function newTeam(name = `Team ${tag()}`, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await env.run('teams.create', { displayName: name, owner: people[0]!.userPrincipalName, ...extra });
  ok(r);
  return r.output.id;
}

describe('teams', { concurrency: true }, () => {
  it('teams.create waits until the team is provisioned, with its owner and members', async () => {
    const name = `Launch ${tag()}`;
    const r = await env.run('teams.create', { displayName: name, description: 'Launch team', visibility: 'public', owner: people[0]!.userPrincipalName, members: [people[1]!.id] });
    ok(r);
    assert.equal(r.output.created, true);
    // Read at once: the step returned only once Teams had provisioned the team.
    const team = await graph().api(`/teams/${r.output.id}`).get();
    assert.deepEqual([team.displayName, team.description, team.visibility], [name, 'Launch team', 'public']);
    assert.deepEqual(await roleOf(r.output.id, people[0]!.id), ['owner']);
    assert.deepEqual(await roleOf(r.output.id, people[1]!.id), []);
  });

  it('teams.createFromGroup teams up a Microsoft 365 group; a group that has a team counts as done', async () => {
    const nick = `squad${tag()}`;
    const g = await graph().api('/groups').post({ displayName: `Squad ${nick}`, mailNickname: nick, mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'], 'owners@odata.bind': [`https://graph.microsoft.com/v1.0/users/${people[2]!.id}`] });
    const r = await env.run('teams.createFromGroup', { group: g.id });
    ok(r);
    assert.equal(r.output.created, true);
    assert.equal((await graph().api(`/teams/${g.id}`).get()).id, g.id);
    const again = await env.run('teams.createFromGroup', { group: `Squad ${nick}` });
    assert.equal(again.output.created, false);
  });

  it('teams.get reads channels and owners', async () => {
    const id = await newTeam();
    const r = await env.run('teams.get', { team: id });
    ok(r);
    assert.deepEqual(r.output.channels.map((c: { displayName: string }) => c.displayName), ['General']);
    assert.deepEqual(r.output.owners.map((o: { id: string }) => o.id), [people[0]!.id]);
  });

  it('teams.update renames and changes visibility; a second run changes nothing', async () => {
    const id = await newTeam();
    const name = `Renamed ${tag()}`;
    const r = await env.run('teams.update', { team: id, displayName: name, visibility: 'public', description: 'New purpose' });
    ok(r);
    assert.deepEqual(r.output.changed.sort(), ['description', 'displayName', 'visibility']);
    const team = await graph().api(`/teams/${id}`).get();
    assert.deepEqual([team.displayName, team.visibility, team.description], [name, 'public', 'New purpose']);
    assert.equal((await graph().api(`/groups/${id}`).select('displayName').get()).displayName, name);
    const again = await env.run('teams.update', { team: name, displayName: name });
    assert.deepEqual(again.output.changed, []);
  });

  it('teams.setSettings changes member, messaging and fun settings', async () => {
    const id = await newTeam();
    const r = await env.run('teams.setSettings', { team: id, memberSettings: { allowCreateUpdateChannels: false }, funSettings: { giphyContentRating: 'strict' } });
    ok(r);
    assert.deepEqual(r.output.changed.sort(), ['funSettings.giphyContentRating', 'memberSettings.allowCreateUpdateChannels']);
    const team = await graph().api(`/teams/${id}`).get();
    assert.equal(team.memberSettings.allowCreateUpdateChannels, false);
    assert.equal(team.funSettings.giphyContentRating, 'strict');
    const bad = await env.run('teams.setSettings', { team: id, memberSettings: { allowEverything: true } });
    assert.equal(bad.status, 'failed');
    assert.equal(bad.error?.code, 'InvalidInput');
  });

  it('teams.archive and teams.unarchive wait for Microsoft to finish', async () => {
    const id = await newTeam();
    const a = await env.run('teams.archive', { team: id });
    ok(a);
    assert.equal(a.output.archived, true);
    assert.equal((await graph().api(`/teams/${id}`).get()).isArchived, true);
    assert.equal((await env.run('teams.archive', { team: id })).output.archived, false, 'already archived');
    const u = await env.run('teams.unarchive', { team: id });
    ok(u);
    assert.equal((await graph().api(`/teams/${id}`).get()).isArchived, false);
  });

  it('teams.delete removes the team with its group (restorable); a second run counts as done', async () => {
    const id = await newTeam();
    const r = await env.run('teams.delete', { team: id });
    ok(r);
    assert.equal((await graph().api('/groups').filter(`id eq '${id}'`).get()).value.length, 0);
    assert.equal((await graph().api(`/directory/deletedItems/${id}`).get()).id, id);
    const again = await env.run('teams.delete', { team: id });
    ok(again);
    assert.equal(again.output.deleted, false);
  });

  it('teams.addChannel, teams.updateChannel and teams.removeChannel', async () => {
    const id = await newTeam();
    const std = await env.run('teams.addChannel', { team: id, displayName: 'Announcements', description: 'News' });
    ok(std);
    const priv = await env.run('teams.addChannel', { team: id, displayName: 'Leads', membershipType: 'private', owner: people[0]!.userPrincipalName });
    ok(priv);
    const channels = (await graph().api(`/teams/${id}/channels`).get()).value;
    assert.deepEqual(channels.map((c: { displayName: string }) => c.displayName).sort(), ['Announcements', 'General', 'Leads']);
    assert.equal(channels.find((c: { displayName: string }) => c.displayName === 'Leads').membershipType, 'private');
    const taken = await env.run('teams.addChannel', { team: id, displayName: 'announcements' });
    assert.equal(taken.error?.code, 'NameAlreadyExists');
    const noOwner = await env.run('teams.addChannel', { team: id, displayName: 'Secret', membershipType: 'private' });
    assert.match(noOwner.error!.message, /needs an owner/);

    ok(await env.run('teams.updateChannel', { team: id, channel: 'Announcements', description: 'Company news' }));
    assert.equal((await graph().api(`/teams/${id}/channels/${std.output.channelId}`).get()).description, 'Company news');

    const rm = await env.run('teams.removeChannel', { team: id, channel: std.output.channelId });
    ok(rm);
    assert.equal(rm.output.removed, true);
    assert.ok(!(await graph().api(`/teams/${id}/channels`).get()).value.some((c: { id: string }) => c.id === std.output.channelId));
    assert.equal((await env.run('teams.removeChannel', { team: id, channel: 'Announcements' })).output.removed, false);
  });

  it('teams.addMember and teams.removeMember', async () => {
    const id = await newTeam();
    const add = await env.run('teams.addMember', { team: id, user: people[3]!.userPrincipalName });
    ok(add);
    assert.equal(add.output.changed, true);
    assert.deepEqual(await roleOf(id, people[3]!.id), []);
    assert.equal((await env.run('teams.addMember', { team: id, user: people[3]!.id })).output.changed, false);
    const rm = await env.run('teams.removeMember', { team: id, user: people[3]!.id });
    ok(rm);
    assert.equal(await roleOf(id, people[3]!.id), undefined);
    const last = await env.run('teams.removeMember', { team: id, user: people[0]!.id });
    assert.equal(last.error?.code, 'LastOwner');
  });

  it('teams.addOwner and teams.removeOwner (kept as member)', async () => {
    const id = await newTeam();
    ok(await env.run('teams.addOwner', { team: id, user: people[4]!.id }));
    assert.deepEqual(await roleOf(id, people[4]!.id), ['owner']);
    const demote = await env.run('teams.removeOwner', { team: id, user: people[4]!.id });
    ok(demote);
    assert.equal(demote.output.changed, true);
    assert.deepEqual(await roleOf(id, people[4]!.id), [], 'still a member');
    const sole = await env.run('teams.removeOwner', { team: id, user: people[0]!.id });
    assert.equal(sole.error?.code, 'LastOwner');
  });

  it('teams.transferOwnership hands every team the leaver owns to the manager and demotes the leaver', async () => {
    const leaver = people[5]!;
    const manager = people[6]!;
    const ids = [];
    for (let i = 0; i < 2; i++) {
      const r = await env.run('teams.create', { displayName: `Leaver team ${tag()}`, owner: leaver.id });
      ok(r);
      ids.push(r.output.id);
    }
    const r = await env.run('teams.transferOwnership', { from: leaver.userPrincipalName, to: manager.userPrincipalName });
    ok(r);
    for (const id of ids) {
      assert.ok(r.output.teams.some((t: { teamId: string }) => t.teamId === id));
      assert.deepEqual(await roleOf(id, manager.id), ['owner']);
      assert.deepEqual(await roleOf(id, leaver.id), []);
    }
    const again = await env.run('teams.transferOwnership', { from: leaver.id, to: manager.id, team: ids[0] });
    assert.deepEqual([again.output.teams[0].newOwnerAdded, again.output.teams[0].previousOwnerChanged], [false, false]);
  });

  it('teams.addChannelMember and teams.removeChannelMember on a private channel', async () => {
    const id = await newTeam(undefined, { members: [people[7]!.id] });
    const ch = await env.run('teams.addChannel', { team: id, displayName: 'Board', membershipType: 'private', owner: people[0]!.id });
    ok(ch);
    const channelMembers = async () => (await graph().api(`/teams/${id}/channels/${ch.output.channelId}/members`).get()).value.map((m: { userId: string }) => m.userId);
    const add = await env.run('teams.addChannelMember', { team: id, channel: 'Board', user: people[7]!.userPrincipalName });
    ok(add);
    assert.ok((await channelMembers()).includes(people[7]!.id));
    const outsider = await env.run('teams.addChannelMember', { team: id, channel: 'Board', user: people[8]!.id });
    assert.equal(outsider.status, 'failed', 'only team members can join a private channel');
    ok(await env.run('teams.removeChannelMember', { team: id, channel: ch.output.channelId, user: people[7]!.id }));
    assert.ok(!(await channelMembers()).includes(people[7]!.id));
    const general = await env.run('teams.addChannelMember', { team: id, channel: 'General', user: people[7]!.id });
    assert.equal(general.error?.code, 'InvalidInput');
  });
});

describe('Teams administration (Graph teamsAdministration)', { concurrency: true }, () => {
  const config = async (userId: string) => graph().api(`/admin/teams/userConfigurations/${userId}`).get();

  it('teams.assignPolicy assigns a named policy directly; teams.unassignPolicy removes it', async () => {
    const user = people[9]!;
    const r = await env.run('teams.assignPolicy', { user: user.userPrincipalName, policyType: 'TeamsMeetingPolicy', policyName: 'AllOn' });
    ok(r);
    assert.equal(r.output.changed, true);
    const assigned = (await config(user.id)).effectivePolicyAssignments.find((a: { policyType: string }) => a.policyType === 'TeamsMeetingPolicy');
    assert.deepEqual([assigned.policyAssignment.displayName, assigned.policyAssignment.assignmentType, assigned.policyAssignment.policyId], ['AllOn', 'direct', r.output.policyId]);
    assert.equal((await env.run('teams.assignPolicy', { user: user.id, policyType: 'TeamsMeetingPolicy', policyName: 'Tag:AllOn' })).output.changed, false);
    const unknown = await env.run('teams.assignPolicy', { user: user.id, policyType: 'TeamsMeetingPolicy', policyName: 'Nope' });
    assert.equal(unknown.error?.code, 'NotFound');
    const un = await env.run('teams.unassignPolicy', { user: user.id, policyType: 'TeamsMeetingPolicy' });
    ok(un);
    assert.equal(un.output.changed, true);
    assert.ok(!(await config(user.id)).effectivePolicyAssignments.some((a: { policyType: string }) => a.policyType === 'TeamsMeetingPolicy'));
  });

  it('teams.assignPhoneNumber waits for the order to be activated; teams.unassignPhoneNumber takes it back', async () => {
    const user = phoneUsers[0]!;
    const r = await env.run('teams.assignPhoneNumber', { user: user.userPrincipalName, numberType: 'callingPlan' });
    ok(r);
    assert.equal(r.output.assigned, true);
    const mine = async () => (await graph().api('/admin/teams/telephoneNumberManagement/numberAssignments').filter(`assignmentTargetId eq '${user.id}'`).get()).value;
    const [n] = await mine();
    assert.deepEqual([n.telephoneNumber, n.assignmentStatus, n.activationState, n.assignmentCategory], [r.output.phoneNumber, 'userAssigned', 'activated', 'primary']);
    assert.deepEqual((await config(user.id)).telephoneNumbers, [{ telephoneNumber: r.output.phoneNumber, assignmentCategory: 'primary' }]);
    const again = await env.run('teams.assignPhoneNumber', { user: user.id, numberType: 'callingPlan' });
    assert.deepEqual([again.output.assigned, again.output.phoneNumber], [false, r.output.phoneNumber]);

    const un = await env.run('teams.unassignPhoneNumber', { user: user.id });
    ok(un);
    assert.deepEqual(un.output.unassigned, [r.output.phoneNumber]);
    assert.deepEqual(await mine(), []);
    assert.deepEqual((await env.run('teams.unassignPhoneNumber', { user: user.id })).output.unassigned, []);
  });

  it('teams.updatePhoneNumber sets and clears the emergency location and reverse number lookup', async () => {
    const number = '+14255550115';
    const location = '93cb8a70-b4af-41df-9928-d07607e21776';
    const read = async () => (await graph().api('/admin/teams/telephoneNumberManagement/numberAssignments').filter(`telephoneNumber eq '%2B${number.slice(1)}'`).get()).value[0];
    const r = await env.run('teams.updatePhoneNumber', { phoneNumber: number, emergencyLocationId: location, skipInternalVoip: true });
    ok(r);
    assert.deepEqual(r.output.changed.sort(), ['emergencyLocationId', 'skipInternalVoip']);
    assert.deepEqual([(await read()).locationId, (await read()).reverseNumberLookupOptions], [location, ['skipInternalVoip']]);
    assert.deepEqual((await env.run('teams.updatePhoneNumber', { phoneNumber: number, emergencyLocationId: location })).output.changed, []);
    ok(await env.run('teams.updatePhoneNumber', { phoneNumber: number, emergencyLocationId: '', skipInternalVoip: false }));
    assert.deepEqual([(await read()).locationId, (await read()).reverseNumberLookupOptions], [null, []]);
  });

  it('teams.assignPhoneNumber with a given direct routing number; a user without Teams Phone is refused', async () => {
    const user = phoneUsers[1]!;
    ok(await env.run('teams.assignPhoneNumber', { user: user.id, numberType: 'directRouting', phoneNumber: '+14255550119' }));
    const n = (await graph().api('/admin/teams/telephoneNumberManagement/numberAssignments').filter("telephoneNumber eq '%2B14255550119'").get()).value[0];
    assert.equal(n.assignmentTargetId, user.id);
    const noPhone = [...env.sandbox.admin.store.users.values()].find((u) => u.userType === 'Member' && u.assignedLicenses.length && !u.assignedLicenses.some((l) => l.skuId === SKU_BY_PART.get('SPE_E5')!.skuId || l.skuId === SKU_BY_PART.get('ENTERPRISEPREMIUM')!.skuId || l.skuId === SKU_BY_PART.get('MCOEV')!.skuId))!;
    const refused = await env.run('teams.assignPhoneNumber', { user: noPhone.id, numberType: 'callingPlan', phoneNumber: '+14255550105' });
    assert.equal(refused.status, 'failed');
    assert.match(refused.error!.message, /not licensed for Teams Phone/);
  });
});

// Scripted faults match any request of the sandbox: these tests run alone.
describe('retries after a lost answer', () => {
  it('teams.create after an attempt whose answer was lost reuses that team; a name taken by another team is a conflict', async () => {
    const name = `Retry ${tag()}`;
    env.sandbox.admin.failNext({ status: 503, match: '^POST /v1\\.0/teams$', afterEffect: true });
    const r = await env.run('teams.create', { displayName: name, owner: people[0]!.id });
    ok(r);
    assert.equal(r.attempts, 2);
    assert.equal((await graph().api('/groups').filter(`displayName eq '${name}'`).get()).value.length, 1, 'one team, not two');
    const again = await env.run('teams.create', { displayName: name, owner: people[0]!.id });
    assert.equal(again.status, 'failed');
    assert.equal(again.error?.code, 'ObjectConflict');
  });
});
