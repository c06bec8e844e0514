// App registrations and enterprise apps through the real Graph client: strict create and update,
// soft delete and restore, owners, certificates as keyCredentials (one added through Graph really
// signs in), and app role assignments of users and groups.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientCertificateCredential } from '@azure/identity';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError as failure, sandboxGraphClient } from '../sandbox/testing.ts';
import { derBase64, makeCert } from './certs.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 5, users: 30 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const member = () => [...sb.admin.store.users.values()].find((u) => u.userType === 'Member')!;

test('create refuses unknown and read-only properties and bad values, and creates nothing then', async () => {
  const before = (await graph.api('/applications').get()).value.length;
  for (const body of [
    { displayName: 'X', colour: 'blue' },
    { displayName: 'X', appId: '11111111-1111-1111-1111-111111111111' },
    { displayName: 'X', passwordCredentials: [] },
    { displayName: 'X', signInAudience: 'Everyone' },
    { displayName: 'X', web: { redirectUris: ['http://example.com/cb'] } },
    { displayName: 'X', appRoles: [{ id: 'not-a-guid', allowedMemberTypes: ['User'], displayName: 'R' }] },
    { description: 'no name' },
  ]) {
    const e = await failure(graph.api('/applications').post(body));
    assert.equal(e.statusCode, 400, JSON.stringify(body));
  }
  assert.equal((await graph.api('/applications').get()).value.length, before);
});

test('create and update keep what Graph keeps; an enabled app role must be disabled before it is removed', async () => {
  const role = { id: '5b4f6c2e-1d3a-4e8b-9c7f-0a1b2c3d4e5f', allowedMemberTypes: ['User'], displayName: 'Reader', value: 'Reader', description: 'Reads', isEnabled: true };
  const app = await graph.api('/applications').post({ displayName: 'Payroll', signInAudience: 'AzureADMyOrg', notes: 'HR', web: { redirectUris: ['https://payroll.contoso.com/auth'] }, appRoles: [role] });
  assert.equal(app.notes, 'HR');
  assert.deepEqual(app.web.redirectUris, ['https://payroll.contoso.com/auth']);
  await graph.api(`/applications/${app.id}`).patch({ displayName: 'Payroll 2', tags: ['hr'] });
  const read = await graph.api(`/applications/${app.id}`).get();
  assert.deepEqual([read.displayName, read.tags, read.appRoles.length], ['Payroll 2', ['hr'], 1]);
  const refused = await failure(graph.api(`/applications/${app.id}`).patch({ appRoles: [] }));
  assert.match(refused.message, /must be disabled before it is deleted/);
  await graph.api(`/applications/${app.id}`).patch({ appRoles: [{ ...role, isEnabled: false }] });
  await graph.api(`/applications/${app.id}`).patch({ appRoles: [] });
  assert.deepEqual((await graph.api(`/applications/${app.id}`).get()).appRoles, []);
});

test('DELETE soft-deletes: the app is in deleted items, restorable, and can be purged', async () => {
  const app = await graph.api('/applications').post({ displayName: 'Short-lived' });
  await graph.api(`/applications/${app.id}`).delete();
  assert.equal((await failure(graph.api(`/applications/${app.id}`).get())).statusCode, 404);
  const deleted = (await graph.api('/directory/deletedItems/microsoft.graph.application').get()).value;
  assert.ok(deleted.some((a: { id: string; deletedDateTime: string }) => a.id === app.id && a.deletedDateTime));
  await graph.api(`/directory/deletedItems/${app.id}/restore`).post({});
  assert.equal((await graph.api(`/applications/${app.id}`).get()).displayName, 'Short-lived');
  await graph.api(`/applications/${app.id}`).delete();
  await graph.api(`/directory/deletedItems/${app.id}`).delete();
  assert.equal((await failure(graph.api(`/directory/deletedItems/${app.id}`).get())).statusCode, 404);
});

test('owners: add by reference, a second add is 400, remove, removing a non-owner is 404', async () => {
  const app = await graph.api('/applications').post({ displayName: 'Owned' });
  const u = member();
  const ref = { '@odata.id': `${sb.graphBaseUrl}/directoryObjects/${u.id}` };
  await graph.api(`/applications/${app.id}/owners/$ref`).post(ref);
  assert.deepEqual((await graph.api(`/applications/${app.id}/owners`).get()).value.map((o: { id: string }) => o.id), [u.id]);
  assert.match((await failure(graph.api(`/applications/${app.id}/owners/$ref`).post(ref))).message, /already exist/);
  await graph.api(`/applications/${app.id}/owners/${u.id}/$ref`).delete();
  assert.equal((await graph.api(`/applications/${app.id}/owners`).get()).value.length, 0);
  assert.equal((await failure(graph.api(`/applications/${app.id}/owners/${u.id}/$ref`).delete())).statusCode, 404);
});

test('keyCredentials: PATCH adds a certificate that then signs in; key only with $select on one app; bad ones refused', async () => {
  const app = await graph.api('/applications').post({ displayName: 'Cert app' });
  await graph.api('/servicePrincipals').post({ appId: app.appId });
  sb.admin.setAppPermissions(app.appId, ['User.Read.All']);
  const cert = makeCert('cert-app');
  await graph.api(`/applications/${app.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: derBase64(cert.certPem), displayName: 'CN=cert-app' }] });
  const listed = (await graph.api(`/applications/${app.id}`).get()).keyCredentials;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].key, null);
  assert.equal((await graph.api(`/applications/${app.id}`).select('keyCredentials').get()).keyCredentials[0].key, derBase64(cert.certPem));
  const credential = new ClientCertificateCredential(sb.tenant.tenantId, app.appId, { certificate: cert.pem }, { authorityHost: sb.url, disableInstanceDiscovery: true });
  assert.ok((await credential.getToken('https://graph.microsoft.com/.default')).token);
  assert.equal((await failure(graph.api(`/applications/${app.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: 'bm90IGEgY2VydA==' }] }))).statusCode, 400);
  assert.equal((await failure(graph.api(`/applications/${app.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify' }] }))).statusCode, 400);
  await graph.api(`/applications/${app.id}`).patch({ keyCredentials: [] });
  assert.equal((await graph.api(`/applications/${app.id}`).get()).keyCredentials.length, 0);
});

test('app role assignments: assign a user and a group, a duplicate is 400, read from both sides, delete', async () => {
  const roleId = '6c5a7d3f-2e4b-4f9c-8d0a-1b2c3d4e5f60';
  const app = await graph.api('/applications').post({ displayName: 'Assigned', appRoles: [{ id: roleId, allowedMemberTypes: ['User'], displayName: 'User', value: 'User', isEnabled: true }] });
  const sp = await graph.api('/servicePrincipals').post({ appId: app.appId });
  assert.deepEqual(sp.appRoles.map((r: { id: string }) => r.id), [roleId]);
  const u = member();
  const g = [...sb.admin.store.groups.values()][0]!;
  const a = await graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).post({ principalId: u.id, resourceId: sp.id, appRoleId: roleId });
  assert.deepEqual([a.principalType, a.principalDisplayName, a.resourceDisplayName], ['User', u.displayName, 'Assigned']);
  await graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).post({ principalId: g.id, resourceId: sp.id, appRoleId: '00000000-0000-0000-0000-000000000000' });
  assert.match((await failure(graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).post({ principalId: u.id, resourceId: sp.id, appRoleId: roleId }))).message, /already exists/);
  assert.match((await failure(graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).post({ principalId: u.id, resourceId: sp.id, appRoleId: '11111111-2222-3333-4444-555555555555' }))).message, /not found on application/);
  assert.equal((await graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).get()).value.length, 2);
  assert.deepEqual((await graph.api(`/users/${u.id}/appRoleAssignments`).get()).value.map((x: { id: string }) => x.id), [a.id]);
  assert.equal((await graph.api(`/groups/${g.id}/appRoleAssignments`).get()).value.length, 1);
  await graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo/${a.id}`).delete();
  assert.equal((await graph.api(`/users/${u.id}/appRoleAssignments`).get()).value.length, 0);
  assert.equal((await failure(graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo/${a.id}`).delete())).statusCode, 404);
});
