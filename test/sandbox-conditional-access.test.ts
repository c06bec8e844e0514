// Conditional Access policies through the real Graph client: seeded policies, create / PATCH (merging
// the condition sets it names) / DELETE, the checks Entra makes on a policy, both permissions an app
// needs to write, and a named location that a policy uses cannot be deleted.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError as failure, sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let graph: Client;
const BASE = '/identity/conditionalAccess/policies';

before(async () => {
  sb = await startSandbox({ seed: 7, users: 20 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const member = () => [...sb.admin.store.users.values()].find((u) => u.userType === 'Member')!;
const policy = (extra: Record<string, unknown> = {}) => ({
  displayName: 'Require MFA off the network',
  state: 'enabledForReportingButNotEnforced',
  conditions: {
    users: { includeUsers: ['All'], excludeUsers: [member().id] },
    applications: { includeApplications: ['All'] },
    clientAppTypes: ['all'],
    locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
  },
  grantControls: { operator: 'OR', builtInControls: ['mfa'] },
  ...extra,
});

test('seeded policies; create, read back, PATCH one condition set and the state, delete', async () => {
  const seeded = (await graph.api(BASE).get()).value;
  assert.ok(seeded.some((p: { displayName: string }) => p.displayName === 'Block legacy authentication'));
  const made = await graph.api(BASE).post(policy());
  assert.deepEqual([made.state, made.conditions.users.excludeUsers, made.grantControls.builtInControls], ['enabledForReportingButNotEnforced', [member().id], ['mfa']]);
  await graph.api(`${BASE}/${made.id}`).patch({ conditions: { signInRiskLevels: ['high', 'medium'] } });
  await graph.api(`${BASE}/${made.id}`).patch({ state: 'enabled' });
  const read = await graph.api(`${BASE}/${made.id}`).get();
  assert.deepEqual([read.state, read.conditions.signInRiskLevels, read.conditions.users.includeUsers], ['enabled', ['high', 'medium'], ['All']], 'the PATCH kept the other conditions');
  assert.ok(read.modifiedDateTime);
  await graph.api(`${BASE}/${made.id}`).delete();
  assert.equal((await failure(graph.api(`${BASE}/${made.id}`).get())).statusCode, 404);
});

test('refuses what Entra refuses, and creates nothing then', async () => {
  const count = (await graph.api(BASE).get()).value.length;
  const bad: [string, Record<string, unknown>][] = [
    ['no state', { state: undefined }],
    ['unknown state', { state: 'on' }],
    ['unknown property', { colour: 'red' }],
    ['no controls', { grantControls: null }],
    ['block with mfa', { grantControls: { operator: 'OR', builtInControls: ['block', 'mfa'] } }],
    ['unknown control', { grantControls: { operator: 'OR', builtInControls: ['fingerprint'] } }],
    ['no users', { conditions: { users: { includeUsers: [] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] } }],
    ['a user that does not exist', { conditions: { users: { includeUsers: ['11111111-2222-3333-4444-555555555555'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] } }],
    ['no client app types', { conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } } }],
    ['unknown platform', { conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'], platforms: { includePlatforms: ['amiga'] } } }],
    ['unknown named location', { conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'], locations: { includeLocations: ['11111111-2222-3333-4444-555555555555'] } } }],
    ['unknown property in users', { conditions: { users: { includeUsers: ['All'], everyone: true }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] } }],
  ];
  for (const [why, extra] of bad) {
    const body = JSON.parse(JSON.stringify(policy(extra)));
    assert.equal((await failure(graph.api(BASE).post(body))).statusCode, 400, why);
  }
  assert.equal((await graph.api(BASE).get()).value.length, count);
});

test('writing needs Policy.ReadWrite.ConditionalAccess and Policy.Read.All', async () => {
  const writeOnly = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['Policy.ReadWrite.ConditionalAccess'] }) });
  assert.equal((await failure(writeOnly.api(BASE).post(policy()))).statusCode, 403);
  const readOnly = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['Policy.Read.All'] }) });
  assert.ok((await readOnly.api(BASE).get()).value.length > 0);
  assert.equal((await failure(readOnly.api(BASE).post(policy()))).statusCode, 403);
});

test('a named location that a policy uses cannot be deleted', async () => {
  const loc = await graph.api('/identity/conditionalAccess/namedLocations').post({ '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Branch', isTrusted: true, ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '192.0.2.0/24' }] });
  const p = await graph.api(BASE).post(policy({ conditions: { ...policy().conditions, locations: { includeLocations: ['All'], excludeLocations: [loc.id] } } }));
  const refused = await failure(graph.api(`/identity/conditionalAccess/namedLocations/${loc.id}`).delete());
  assert.match(refused.message, /used by the Conditional Access policy/);
  await graph.api(`${BASE}/${p.id}`).delete();
  await graph.api(`/identity/conditionalAccess/namedLocations/${loc.id}`).delete();
});
