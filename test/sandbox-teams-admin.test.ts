// Conformance of the sandbox's Teams administration (Graph teamsAdministration) and the Teams additions
// the Teams actions use: policy ids and assignments, user configurations, telephone number orders that
// take time, updateNumber, strict request bodies and Teams' 403; team PATCH of name / visibility; private
// channel member writes. Through the real Graph client, as a tool would call them.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, SKU_BY_PART, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError as failure, sandboxCredential, sandboxGraphClient } from '../sandbox/testing.ts';
import { NUMBER_ORDER_MS } from '../sandbox/graph/teams-admin.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 4, users: 60 });
  graph = sandboxGraphClient(sb, { retry: false });
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const members = () => [...sb.admin.store.users.values()].filter((u) => u.userType === 'Member');
const withPlan = (part: string) => members().find((u) => u.assignedLicenses.some((l) => l.skuId === SKU_BY_PART.get(part)!.skuId))!;
const NUMBERS = '/admin/teams/telephoneNumberManagement/numberAssignments';

/** POST that answers 202 + Location (the SDK hides headers). */
async function post202(path: string, body: unknown): Promise<{ status: number; location: string | null; body: unknown }> {
  const token = (await sandboxCredential(sb).getToken('https://graph.microsoft.com/.default'))!.token;
  const res = await fetch(`${sb.graphBaseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, location: res.headers.get('location'), body: text ? JSON.parse(text) : undefined };
}

test('policies: getPolicyId, assign and unassign, read back in userConfigurations; bad input changes nothing', async () => {
  const user = members()[0]!;
  const found = await graph.api("/admin/teams/policy/getPolicyId(type='TeamsMeetingPolicy',name='AllOn')").get();
  assert.deepEqual(found.value.map((p: { name: string }) => p.name), ['Tag:AllOn']);
  const policyId = found.value[0].policyId;
  assert.equal((await failure(graph.api("/admin/teams/policy/getPolicyId(type='TeamsMeetingPolicy',name='Nope')").get())).statusCode, 404);
  assert.equal((await failure(graph.api("/admin/teams/policy/getPolicyId(type='NoSuchPolicy',name='Global')").get())).statusCode, 400);

  const entry = { '@odata.type': '#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment', userId: user.id, policyType: 'TeamsMeetingPolicy', policyId };
  // One bad entry refuses the whole request.
  const bad = await failure(graph.api('/admin/teams/policy/userAssignments/assign').post({ value: [entry, { ...entry, policyType: 'TeamsCallingPolicy' }] }));
  assert.equal(bad.statusCode, 400);
  assert.deepEqual((await graph.api(`/admin/teams/userConfigurations/${user.id}`).get()).effectivePolicyAssignments, []);
  assert.equal((await failure(graph.api('/admin/teams/policy/userAssignments/assign').post({ value: [{ ...entry, colour: 'blue' }] }))).statusCode, 400);

  await graph.api('/admin/teams/policy/userAssignments/assign').post({ value: [entry] });
  const conf = await graph.api(`/admin/teams/userConfigurations/${user.userPrincipalName}`).get();
  assert.deepEqual(conf.effectivePolicyAssignments, [{ policyType: 'TeamsMeetingPolicy', policyAssignment: { displayName: 'AllOn', assignmentType: 'direct', policyId, groupId: null } }]);
  assert.equal(conf.id, user.id);
  await graph.api('/admin/teams/policy/userAssignments/unassign').post({ value: [{ userId: user.id, policyType: 'TeamsMeetingPolicy' }] });
  assert.deepEqual((await graph.api(`/admin/teams/userConfigurations/${user.id}`).get()).effectivePolicyAssignments, []);
});

test('phone numbers: an assignment order runs for a while, then the number is activated; unassign, updateNumber', async () => {
  const user = withPlan('SPE_E5');
  const free = (await graph.api(NUMBERS).filter("assignmentStatus eq 'unassigned' and numberType eq 'callingPlan' and capabilities/any(c:c eq 'userAssignment')").get()).value;
  assert.equal(free.length, 12);
  const number = free[0].telephoneNumber;
  const order = await post202(`${NUMBERS}/assignNumber`, { telephoneNumber: number.slice(1), assignmentTargetId: user.id, numberType: 'callingPlan' });
  assert.equal(order.status, 202);
  assert.match(order.location!, /\/admin\/teams\/telephoneNumberManagement\/operations\('[^']+'\)$/);
  const running = await graph.api(order.location!).get();
  assert.deepEqual([running.status, running.numbers[0].status], ['running', 'running']);
  const pending = (await graph.api(NUMBERS).filter(`telephoneNumber eq '%2B${number.slice(1)}'`).get()).value[0];
  assert.deepEqual([pending.assignmentStatus, pending.activationState, pending.assignmentTargetId, pending.assignmentCategory], ['userAssigned', 'assignmentPending', user.id, 'primary']);
  sb.admin.advanceClock(NUMBER_ORDER_MS / 1000);
  assert.equal((await graph.api(order.location!).get()).status, 'succeeded');
  assert.equal((await graph.api(NUMBERS).filter(`assignmentTargetId eq '${user.id}'`).get()).value[0].activationState, 'activated');
  assert.deepEqual((await graph.api(`/admin/teams/userConfigurations/${user.id}`).get()).telephoneNumbers, [{ telephoneNumber: number, assignmentCategory: 'primary' }]);

  // Someone else's number, an unlicensed user, a wrong type, an unknown parameter: 400.
  const other = members().find((u) => u.id !== user.id && u.assignedLicenses.some((l) => l.skuId === SKU_BY_PART.get('SPE_E5')!.skuId))!;
  assert.equal((await post202(`${NUMBERS}/assignNumber`, { telephoneNumber: number, assignmentTargetId: other.id, numberType: 'callingPlan' })).status, 400);
  assert.equal((await post202(`${NUMBERS}/assignNumber`, { telephoneNumber: free[1].telephoneNumber, assignmentTargetId: withPlan('SPE_E3').id, numberType: 'callingPlan' })).status, 400);
  assert.equal((await post202(`${NUMBERS}/assignNumber`, { telephoneNumber: free[1].telephoneNumber, assignmentTargetId: other.id, numberType: 'directRouting' })).status, 400);
  assert.equal((await post202(`${NUMBERS}/assignNumber`, { telephoneNumber: free[1].telephoneNumber, assignmentTargetId: other.id, numberType: 'callingPlan', extension: '12' })).status, 400);
  assert.equal((await failure(graph.api(NUMBERS).top(1001).get())).statusCode, 400);
  assert.equal((await graph.api(NUMBERS).query({ $top: '5', $skip: '18' }).get()).value.length, 2, '$skip pages');

  const updated = await post202(`${NUMBERS}/updateNumber`, { telephoneNumber: number, locationId: '93cb8a70-b4af-41df-9928-d07607e21776', reverseNumberLookupOptions: ['skipInternalVoip'] });
  assert.equal(updated.status, 200);
  await post202(`${NUMBERS}/updateNumber`, { telephoneNumber: number, locationId: null });
  const n = (await graph.api(NUMBERS).filter(`telephoneNumber eq '%2B${number.slice(1)}'`).get()).value[0];
  assert.deepEqual([n.locationId, n.reverseNumberLookupOptions], ['93cb8a70-b4af-41df-9928-d07607e21776', ['skipInternalVoip']], 'null keeps the value');

  const un = await post202(`${NUMBERS}/unassignNumber`, { telephoneNumber: number, numberType: 'callingPlan' });
  assert.equal(un.status, 202);
  assert.equal((await graph.api(NUMBERS).filter(`telephoneNumber eq '%2B${number.slice(1)}'`).get()).value[0].assignmentStatus, 'unassigned');
  assert.equal((await post202(`${NUMBERS}/unassignNumber`, { telephoneNumber: number, numberType: 'callingPlan' })).status, 400, 'not assigned');
});

test('Teams administration answers a missing role with Teams\' 403', async () => {
  const plain = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['User.Read.All'] }), retry: false });
  const denied = await failure(plain.api(NUMBERS).get());
  assert.deepEqual([denied.statusCode, denied.code], [403, 'Forbidden']);
  assert.match(denied.message, /TeamsTelephoneNumber\.Read\.All/);
  assert.equal((await failure(plain.api('/admin/teams/policy/userAssignments/assign').post({ value: [] }))).statusCode, 403);
});

test('team PATCH sets name, description and visibility on the group; private channel members: add, promote, remove', async () => {
  const team = (await graph.api('/teams').get()).value[0];
  await graph.api(`/teams/${team.id}`).patch({ displayName: 'Renamed', visibility: 'public', description: 'Here' });
  const g = await graph.api(`/groups/${team.id}`).select('displayName,visibility,description').get();
  assert.deepEqual([g.displayName, g.visibility, g.description], ['Renamed', 'Public', 'Here']);
  assert.equal((await failure(graph.api(`/teams/${team.id}`).patch({ visibility: 'secret' }))).statusCode, 400);
  assert.equal((await failure(graph.api(`/teams/${team.id}`).patch({ memberSettings: { allowEverything: true } }))).statusCode, 400);

  const inTeam = (await graph.api(`/teams/${team.id}/members`).get()).value.map((m: { userId: string }) => m.userId);
  const [owner, member] = inTeam;
  const bind = (id: string) => `https://graph.microsoft.com/v1.0/users('${id}')`;
  const ch = await graph.api(`/teams/${team.id}/channels`).post({ displayName: 'Board', membershipType: 'private', members: [{ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'], 'user@odata.bind': bind(owner) }] });
  const base = `/teams/${team.id}/channels/${ch.id}/members`;
  const added = await graph.api(base).post({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: [], 'user@odata.bind': bind(member) });
  assert.deepEqual([added.userId, added.roles], [member, []]);
  const outsider = members().find((u) => !inTeam.includes(u.id))!;
  assert.equal((await failure(graph.api(base).post({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: [], 'user@odata.bind': bind(outsider.id) }))).statusCode, 400);
  assert.deepEqual((await graph.api(`${base}/${added.id}`).patch({ roles: ['owner'] })).roles, ['owner']);
  await graph.api(`${base}/${added.id}`).delete();
  assert.deepEqual((await graph.api(base).get()).value.map((m: { userId: string }) => m.userId), [owner]);
  const only = (await graph.api(base).get()).value[0];
  assert.equal((await failure(graph.api(`${base}/${only.id}`).delete())).statusCode, 400, 'the last channel owner stays');
  const general = await graph.api(`/teams/${team.id}/primaryChannel`).get();
  assert.equal((await failure(graph.api(`/teams/${team.id}/channels/${general.id}/members`).post({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: [], 'user@odata.bind': bind(member) }))).statusCode, 400);
});
