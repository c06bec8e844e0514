// Directory roles, Conditional Access named locations, mail (sendMail, messages, inbox rules),
// sign-in and audit logs, consents, and the webhook sink, through the real Graph client.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError as failure, sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 11, users: 120 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const clientWith = (permissions: string[]): Client => sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions }) });
const members = () => [...sb.admin.store.users.values()].filter((u) => u.userType === 'Member' && u.accountEnabled);
const licensed = () => members().filter((u) => u.assignedLicenses.length > 0);

describe('directory roles', () => {
  const HELPDESK = '729827e3-9c14-49f7-bb1b-9608f156bbb8';

  test('role definitions carry the built-in template ids; a $filter on displayName finds one', async () => {
    const all = await graph.api('/roleManagement/directory/roleDefinitions').get();
    const ga = all.value.find((r: { displayName: string }) => r.displayName === 'Global Administrator');
    assert.equal(ga.id, '62e90394-69f5-4237-9190-012177145e10');
    assert.equal(ga.templateId, ga.id);
    const one = await graph.api('/roleManagement/directory/roleDefinitions').filter("displayName eq 'Helpdesk Administrator'").get();
    assert.deepEqual(one.value.map((r: { id: string }) => r.id), [HELPDESK]);
    const templates = await graph.api('/directoryRoleTemplates').get();
    assert.ok(templates.value.some((t: { id: string }) => t.id === 'fe930be7-5e62-47db-91af-98c3a49a38b1'));
  });

  test('assign, list by principal and role, activate the directoryRole, and remove', async () => {
    const user = licensed().find((u) => u.department === 'Sales')!;
    const made = await graph.api('/roleManagement/directory/roleAssignments').post({ '@odata.type': '#microsoft.graph.unifiedRoleAssignment', principalId: user.id, roleDefinitionId: HELPDESK, directoryScopeId: '/' });
    assert.equal(made.principalId, user.id);
    assert.equal(made.directoryScopeId, '/');
    const dup = await failure(graph.api('/roleManagement/directory/roleAssignments').post({ principalId: user.id, roleDefinitionId: HELPDESK, directoryScopeId: '/' }));
    assert.equal(dup.statusCode, 409);
    const found = await graph.api('/roleManagement/directory/roleAssignments').filter(`principalId eq '${user.id}' and roleDefinitionId eq '${HELPDESK}'`).get();
    assert.deepEqual(found.value.map((a: { id: string }) => a.id), [made.id]);
    const roles = await graph.api('/directoryRoles').get();
    const helpdesk = roles.value.find((r: { roleTemplateId: string }) => r.roleTemplateId === HELPDESK);
    assert.notEqual(helpdesk.id, HELPDESK);
    const roleMembers = await graph.api(`/directoryRoles/${helpdesk.id}/members`).get();
    assert.ok(roleMembers.value.some((m: { id: string }) => m.id === user.id));
    await graph.api(`/roleManagement/directory/roleAssignments/${made.id}`).delete();
    assert.equal((await failure(graph.api(`/roleManagement/directory/roleAssignments/${made.id}`).delete())).statusCode, 404);
    assert.equal(sb.admin.mutationCount({ objectId: user.id, op: 'role.assign' }), 1);
  });

  test('seeded assignments exist; assigning needs RoleManagement.ReadWrite.Directory', async () => {
    const ga = await graph.api('/roleManagement/directory/roleAssignments').filter("roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'").get();
    assert.equal(ga.value.length, 1);
    const reader = clientWith(['RoleManagement.Read.Directory']);
    assert.ok((await reader.api('/roleManagement/directory/roleAssignments').get()).value.length >= 3);
    const denied = await failure(reader.api('/roleManagement/directory/roleAssignments').post({ principalId: members()[3]!.id, roleDefinitionId: HELPDESK, directoryScopeId: '/' }));
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'Authorization_RequestDenied');
  });
});

describe('named locations', () => {
  const base = '/identity/conditionalAccess/namedLocations';

  test('create an IP location, read it, PATCH its ranges, delete it', async () => {
    const made = await graph.api(base).post({
      '@odata.type': '#microsoft.graph.ipNamedLocation',
      displayName: 'Branch VPN',
      isTrusted: true,
      ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '192.0.2.0/24' }],
    });
    assert.equal(made['@odata.type'], '#microsoft.graph.ipNamedLocation');
    assert.equal(made.isTrusted, true);
    const byName = await graph.api(base).filter("displayName eq 'Branch VPN'").get();
    assert.equal(byName.value[0].id, made.id);
    await graph.api(`${base}/${made.id}`).patch({ '@odata.type': '#microsoft.graph.ipNamedLocation', ipRanges: [{ '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8::/48' }] });
    const read = await graph.api(`${base}/${made.id}`).get();
    assert.deepEqual(read.ipRanges, [{ '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8::/48' }]);
    const noType = await failure(graph.api(`${base}/${made.id}`).patch({ displayName: 'x' }));
    assert.equal(noType.statusCode, 400);
    await graph.api(`${base}/${made.id}`).delete();
    assert.equal((await failure(graph.api(`${base}/${made.id}`).get())).statusCode, 404);
  });

  test('bad CIDR is 400; country locations; Policy.Read.All reads but cannot write', async () => {
    const bad = await failure(graph.api(base).post({ '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Bad', ipRanges: [{ cidrAddress: '10.0.0.300/8' }] }));
    assert.equal(bad.statusCode, 400);
    const country = await graph.api(base).post({ '@odata.type': '#microsoft.graph.countryNamedLocation', displayName: 'Nordics', countriesAndRegions: ['se', 'NO'] });
    assert.deepEqual(country.countriesAndRegions, ['SE', 'NO']);
    const reader = clientWith(['Policy.Read.All']);
    assert.ok((await reader.api(base).get()).value.length >= 3);
    const denied = await failure(reader.api(`${base}/${country.id}`).delete());
    assert.equal(denied.statusCode, 403);
  });
});

describe('mail', () => {
  test('sendMail answers 202, lands in the recipient inbox and the sender Sent Items, and in the admin log', async () => {
    const [from, to] = licensed();
    await graph.api(`/users/${from!.userPrincipalName}/sendMail`).post({
      message: { subject: 'Welcome', body: { contentType: 'Text', content: 'Hello there' }, toRecipients: [{ emailAddress: { address: to!.mail } }, { emailAddress: { address: 'pat@fabrikam.example' } }] },
    });
    const inbox = await graph.api(`/users/${to!.id}/mailFolders/inbox/messages`).get();
    assert.equal(inbox.value[0].subject, 'Welcome');
    assert.equal(inbox.value[0].from.emailAddress.address, from!.mail);
    assert.equal(inbox.value[0].body.content, 'Hello there');
    const sent = await graph.api(`/users/${from!.id}/mailFolders/sentitems/messages`).get();
    assert.equal(sent.value.length, 1);
    const log = sb.admin.sentMail({ to: 'pat@fabrikam.example' });
    assert.equal(log.length, 1);
    assert.deepEqual(log[0]!.deliveredTo, [to!.id]);
    assert.deepEqual(log[0]!.external, ['pat@fabrikam.example']);
  });

  test('a sender without a mailbox is 404; no recipients is 400; without Mail.Send 403 ErrorAccessDenied', async () => {
    const unlicensed = members().find((u) => u.assignedLicenses.length === 0)!;
    const noMailbox = await failure(graph.api(`/users/${unlicensed.id}/sendMail`).post({ message: { subject: 'x', toRecipients: [{ emailAddress: { address: 'a@b.example' } }] } }));
    assert.equal(noMailbox.statusCode, 404);
    assert.equal(noMailbox.code, 'MailboxNotEnabledForRESTAPI');
    const from = licensed()[0]!;
    const empty = await failure(graph.api(`/users/${from.id}/sendMail`).post({ message: { subject: 'x' } }));
    assert.equal(empty.code, 'ErrorInvalidRecipients');
    const denied = await failure(clientWith(['User.Read.All']).api(`/users/${from.id}/sendMail`).post({ message: { subject: 'x', toRecipients: [{ emailAddress: { address: 'a@b.example' } }] } }));
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'ErrorAccessDenied');
  });

  test('inbox rules: list seeded, create, read back, delete; MailboxSettings.Read cannot create', async () => {
    const user = licensed()[1]!;
    const path = `/users/${user.id}/mailFolders/inbox/messageRules`;
    const before = (await graph.api(path).get()).value.length;
    const rule = await graph.api(path).post({ displayName: 'Forward invoices', sequence: 2, isEnabled: true, conditions: { subjectContains: ['invoice'] }, actions: { forwardTo: [{ emailAddress: { address: 'ap@contoso.com' } }], stopProcessingRules: true } });
    assert.equal(rule.displayName, 'Forward invoices');
    const list = await graph.api(path).get();
    assert.equal(list.value.length, before + 1);
    assert.equal((await failure(clientWith(['MailboxSettings.Read']).api(path).post({ displayName: 'x', sequence: 1, actions: { delete: true } }))).statusCode, 403);
    await graph.api(`${path}/${rule.id}`).delete();
    assert.equal((await graph.api(path).get()).value.length, before);
  });
});

describe('sign-in and audit logs, consents', () => {
  test('sign-ins of one user by userPrincipalName or userId, newest first, with location and status', async () => {
    const user = licensed()[2]!;
    const byUpn = await graph.api('/auditLogs/signIns').filter(`userPrincipalName eq '${user.userPrincipalName}'`).get();
    assert.ok(byUpn.value.length >= 2);
    assert.ok(byUpn.value.every((s: { userId: string }) => s.userId === user.id));
    const times = byUpn.value.map((s: { createdDateTime: string }) => s.createdDateTime);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.equal(byUpn.value[0].location.countryOrRegion, user.usageLocation);
    const byId = await graph.api('/auditLogs/signIns').filter(`userId eq '${user.id}'`).get();
    assert.deepEqual(byId.value.map((s: { id: string }) => s.id), byUpn.value.map((s: { id: string }) => s.id));
    assert.equal((await failure(clientWith(['User.Read.All']).api('/auditLogs/signIns').get())).statusCode, 403);
  });

  test('directory audits record what the sandbox did: a phone method added to a user', async () => {
    const user = licensed()[3]!;
    await graph.api(`/users/${user.id}/authentication/phoneMethods`).post({ phoneNumber: '+1 2065550100', phoneType: 'alternateMobile' });
    const audits = await graph.api('/auditLogs/directoryAudits').filter(`targetResources/any(t:t/id eq '${user.id}')`).get();
    assert.equal(audits.value[0].activityDisplayName, 'Admin registered security info');
    assert.equal(audits.value[0].initiatedBy.app.appId, sb.tenant.clientId);
    assert.equal(audits.value[0].targetResources[0].userPrincipalName, user.userPrincipalName);
  });

  test('consents per user, revocable; service principals include Microsoft Graph', async () => {
    const all = await graph.api('/oauth2PermissionGrants').top(999).get();
    const userGrant = all.value.find((g: { consentType: string }) => g.consentType === 'Principal');
    assert.ok(userGrant);
    const mine = await graph.api(`/users/${userGrant.principalId}/oauth2PermissionGrants`).get();
    assert.ok(mine.value.some((g: { id: string }) => g.id === userGrant.id));
    await graph.api(`/oauth2PermissionGrants/${userGrant.id}`).delete();
    const after = await graph.api(`/users/${userGrant.principalId}/oauth2PermissionGrants`).get();
    assert.ok(!after.value.some((g: { id: string }) => g.id === userGrant.id));
    const sps = await graph.api('/servicePrincipals').filter("appId eq '00000003-0000-0000-c000-000000000000'").get();
    assert.equal(sps.value[0].displayName, 'Microsoft Graph');
  });
});

describe('applications', () => {
  test('create an app, add a password that signs in once it has a service principal, remove it', async () => {
    const app = await graph.api('/applications').post({ displayName: 'Payroll sync' });
    assert.equal(app.displayName, 'Payroll sync');
    assert.deepEqual(app.passwordCredentials, []);
    const pw = await graph.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'ci' } });
    assert.ok(pw.secretText.length >= 30);
    const listed = await graph.api(`/applications/${app.id}`).get();
    assert.equal(listed.passwordCredentials[0].secretText, null);
    const creds = { tenantId: sb.tenant.tenantId, clientId: app.appId, clientSecret: pw.secretText };
    // No service principal yet: the app is not in the tenant (AADSTS700016).
    await assert.rejects(sandboxGraphClient(sb, { creds }).api('/organization').get(), /700016/);
    const sp = await graph.api('/servicePrincipals').post({ appId: app.appId });
    assert.equal(sp.appId, app.appId);
    // Signed in, but with no permissions granted.
    assert.equal((await failure(sandboxGraphClient(sb, { creds }).api('/users').get())).statusCode, 403);
    await graph.api(`/servicePrincipals/${sp.id}`).patch({ accountEnabled: false });
    await assert.rejects(sandboxGraphClient(sb, { creds }).api('/users').get(), /7000112/);
    await graph.api(`/applications/${app.id}/removePassword`).post({ keyId: pw.keyId });
    assert.deepEqual((await graph.api(`/applications/${app.id}`).get()).passwordCredentials, []);
    assert.equal((await failure(clientWith(['Application.Read.All']).api('/applications').post({ displayName: 'x' }))).statusCode, 403);
    await graph.api(`/applications/${app.id}`).delete();
    assert.equal((await failure(graph.api(`/applications/${app.id}`).get())).statusCode, 404);
  });
});

describe('webhook sink', () => {
  test('keeps what was posted, answers 200 "1" like a Teams webhook, and replays scripted failures', async () => {
    const url = sb.admin.webhookUrl('it-alerts');
    sb.admin.scriptWebhook('it-alerts', { status: 429, headers: { 'retry-after': '1' } });
    const first = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) });
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '1');
    const second = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) });
    assert.equal(second.status, 200);
    assert.equal(await second.text(), '1');
    const got = sb.admin.webhooks('it-alerts');
    assert.deepEqual(got.map((d) => d.status), [429, 200]);
    assert.deepEqual(got[1]!.body, { text: 'hi' });
    const overHttp = await (await fetch(`${sb.url}/_admin/webhooks?name=it-alerts`)).json();
    assert.equal(overHttp.value.length, 2);
  });
});
