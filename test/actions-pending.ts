// PENDING: tests of actions whose sandbox endpoints are not served yet (see the list below). This
// file is not picked up by `npm test` (no .test.ts); rename it to actions-pending.test.ts, or move a
// test into actions-exchange-auth.test.ts, once the sandbox serves what it needs:
// - POST /v1.0/users/{id|upn}/sendMail (Mail.Send): user.create / user.clone / user.resetPassword with a
//   generated password, auth.createTemporaryAccessPass, notify.email. Expected: 202, the message kept
//   where a test can read it (e.g. admin.sentMail() or the recipient's /messages), 404 for a sender without a mailbox.
// - Get/Add/Remove-RecipientPermission with a distribution group as -Identity (today: mailboxes only),
//   and Set-DistributionGroup -GrantSendOnBehalfTo {add, remove}: distributionGroup.grantSendPermission / removeSendPermission.
// - GET/POST /v1.0/roleManagement/directory/roleDefinitions, GET/POST/DELETE .../roleAssignments
//   (RoleManagement.ReadWrite.Directory; $filter on displayName, principalId and roleDefinitionId):
//   directory.assignRole / removeRole.
// - GET/POST/PATCH/DELETE /v1.0/identity/conditionalAccess/namedLocations (ipNamedLocation;
//   Policy.ReadWrite.ConditionalAccess + Policy.Read.All, which the sandbox's permission list lacks):
//   directory.createNamedLocation / updateNamedLocation / deleteNamedLocation.
// - PATCH /beta/users/{id}/authentication/signInPreferences (UserAuthenticationMethod.ReadWrite.All): auth.setPreferredMethod.
// - onPremisesExtensionAttributes on users (read, PATCH extensionAttribute1..15; today a 400 "does not
//   exist as a declared property"): user.setAttributes.
// - Get/Add/Remove-UnifiedGroupLinks -LinkType Subscribers: group.manageM365Members subscribers.
// - GET /v1.0/auditLogs/signIns and /auditLogs/directoryAudits ($filter userId / targetResources/any,
//   AuditLog.Read.All), GET /users/{id}/mailFolders/inbox/messageRules (MailboxSettings.Read),
//   GET /users/{id}/oauth2PermissionGrants: the other parts of investigation.compromisedAccount.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sandboxExchange } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let exo: ReturnType<typeof sandboxExchange>;
const upn = (tag: string) => env.upn(tag);
const newUser = (tag: string, extra: Record<string, unknown> = {}) => env.newUser(tag, extra);

before(async () => {
  env = await startActionsEnv();
  exo = sandboxExchange(env.sandbox);
});
after(async () => env?.close());


async function serviceMailbox(): Promise<string> {
  const m = await newUser('service', { licences: ['EXCHANGESTANDARD'] });
  return m.userPrincipalName;
}

describe('pending: mail delivery of secrets', () => {
  it('user.create emails a generated password to the named recipient and nowhere else', async () => {
    const from = await serviceMailbox();
    const r = await env.run('user.create', { userPrincipalName: upn('pw'), displayName: 'PW', sendPasswordTo: 'manager@fabrikam.example', mailFrom: from });
    ok(r);
    assert.equal(r.output.passwordSentTo, 'manager@fabrikam.example');
    assert.doesNotMatch(JSON.stringify(r), /password"\s*:\s*"[^"]/);
  });

  it('user.resetPassword with a generated password, auth.createTemporaryAccessPass and notify.email', async () => {
    const from = await serviceMailbox();
    const u = await newUser('tap');
    const reset = await env.run('user.resetPassword', { user: u.id, sendPasswordTo: 'helpdesk@fabrikam.example', mailFrom: from });
    ok(reset);
    assert.equal(reset.output.generated, true);
    const tap = await env.run('auth.createTemporaryAccessPass', { user: u.id, sendTo: 'helpdesk@fabrikam.example', mailFrom: from, lifetimeMinutes: 60 });
    ok(tap);
    assert.equal(tap.output.sentTo, 'helpdesk@fabrikam.example');
    assert.ok(!JSON.stringify(tap).includes('temporaryAccessPass"'));
    const mail = await env.run('notify.email', { to: ['ops@fabrikam.example'], subject: 'Hello', body: 'World', from });
    ok(mail);
  });
});

describe('pending: distribution group delegations', () => {
  it('distributionGroup.grantSendPermission and removeSendPermission (Send As)', async () => {
    const u = await newUser('sendas');
    const alias = `sa${randomUUID().slice(0, 8)}`;
    ok(await env.run('distributionGroup.create', { name: `SA ${alias}`, alias }));
    const grant = await env.run('distributionGroup.grantSendPermission', { group: alias, users: [u.id], permission: 'SendAs' });
    ok(grant);
    assert.equal(grant.output.results[0].changed, true);
    const perms = (await exo('Get-RecipientPermission', { Identity: alias })).value;
    assert.ok(perms.some((p) => JSON.stringify(p['AccessRights']).includes('SendAs')));
    assert.equal((await env.run('distributionGroup.grantSendPermission', { group: alias, users: [u.id], permission: 'SendAs' })).output.results[0].changed, false);
    const remove = await env.run('distributionGroup.removeSendPermission', { group: alias, users: [u.id], permission: 'SendAs' });
    assert.equal(remove.output.results[0].changed, true);
  });

});

describe('pending: directory roles, named locations, sign-in preferences, attributes', () => {
  it('directory.assignRole and directory.removeRole', async () => {
    const u = await newUser('admin');
    const r = await env.run('directory.assignRole', { user: u.id, role: 'Helpdesk Administrator' });
    ok(r);
    assert.equal((await env.run('directory.assignRole', { user: u.id, role: 'Helpdesk Administrator' })).output.assigned, false);
    assert.equal((await env.run('directory.removeRole', { user: u.id, role: 'Helpdesk Administrator' })).output.removed, true);
    const bad = await env.run('directory.assignRole', { user: u.id, role: 'No Such Role' });
    assert.match(bad.error!.message, /directory role "No Such Role" does not exist/);
  });

  it('directory.createNamedLocation, updateNamedLocation and deleteNamedLocation', async () => {
    const name = `Office ${randomUUID().slice(0, 6)}`;
    const r = await env.run('directory.createNamedLocation', { displayName: name, ipRanges: ['203.0.113.0/24'] });
    ok(r);
    assert.equal((await env.run('directory.createNamedLocation', { displayName: name, ipRanges: ['203.0.113.0/24'] })).output.created, false);
    const upd = await env.run('directory.updateNamedLocation', { location: name, ipRanges: ['198.51.100.0/24'], rangesMode: 'add' });
    assert.deepEqual(upd.output.ipRanges.sort(), ['198.51.100.0/24', '203.0.113.0/24']);
    assert.equal((await env.run('directory.deleteNamedLocation', { location: name })).output.deleted, true);
  });

  it('auth.setPreferredMethod and user.setAttributes', async () => {
    const u = await newUser('prefs');
    ok(await env.run('user.setAuthenticationContact', { user: u.id, mobilePhone: '+1 2065550101' }));
    ok(await env.run('auth.setPreferredMethod', { user: u.id, method: 'sms' }));
    const attrs = await env.run('user.setAttributes', { user: u.id, attributes: { extensionAttribute1: 'Pilot' } });
    ok(attrs);
    assert.equal((await env.graph.api(`/users/${u.id}`).select('onPremisesExtensionAttributes').get()).onPremisesExtensionAttributes.extensionAttribute1, 'Pilot');
  });

  it('group.manageM365Members subscribers', async () => {
    const u = await newUser('subscriber');
    const nick = `sub${randomUUID().slice(0, 6)}`;
    const g = await env.run('group.createM365', { displayName: nick, mailNickname: nick, members: [u.id] });
    const r = await env.run('group.manageM365Members', { group: g.output.id, addSubscribers: [u.id] });
    ok(r);
    assert.equal((await exo('Get-UnifiedGroupLinks', { Identity: nick, LinkType: 'Subscribers' })).value.length, 1);
  });
});
