// Guests, authentication methods and MFA (Graph), distribution groups and delegations (Exchange
// admin API), and the compromised-account report, against the sandbox through the real wrapper.
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


describe('guests, authentication and MFA', { concurrency: true }, () => {
  it('user.inviteGuest invites once; user.removeGuest deletes guests only', async () => {
    const email = `guest.${randomUUID().slice(0, 6)}@fabrikam.example`;
    const r = await env.run('user.inviteGuest', { email, displayName: 'Guest', sendInvitation: false });
    ok(r);
    assert.equal(r.output.invited, true);
    const guest = await env.graph.api(`/users/${r.output.userId}`).select('userType,mail').get();
    assert.deepEqual([guest.userType, guest.mail], ['Guest', email]);
    assert.equal((await env.run('user.inviteGuest', { email })).output.invited, false, 'inviting again is done');
    const member = await newUser('notguest');
    const refused = await env.run('user.removeGuest', { user: member.id });
    assert.equal(refused.error?.code, 'NotAGuest');
    ok(await env.run('user.removeGuest', { user: r.output.userId }));
    await assert.rejects(env.graph.api(`/users/${r.output.userId}`).get(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  it('user.setAuthenticationContact, auth.listMethods and auth.removeMethods (reset MFA)', async () => {
    const u = await newUser('mfa');
    const set = await env.run('user.setAuthenticationContact', { user: u.id, mobilePhone: '+1 2065550100', email: 'alt@fabrikam.example' });
    ok(set);
    assert.deepEqual(set.output.changed.sort(), ['email', 'mobilePhone']);
    assert.deepEqual((await env.run('user.setAuthenticationContact', { user: u.id, mobilePhone: '+1 2065550100' })).output.changed, []);
    const listed = await env.run('auth.listMethods', { user: u.userPrincipalName });
    assert.deepEqual(listed.output.methods.map((m: { type: string }) => m.type).sort(), ['email', 'password', 'phone']);
    assert.equal(listed.output.mfaRegistered, true);
    const reset = await env.run('auth.removeMethods', { user: u.id });
    ok(reset);
    assert.equal(reset.output.removed.length, 2);
    const after = (await env.graph.api(`/users/${u.id}/authentication/methods`).get()).value;
    assert.deepEqual(after.map((m: { '@odata.type': string }) => m['@odata.type']), ['#microsoft.graph.passwordAuthenticationMethod']);
    assert.deepEqual((await env.run('auth.removeMethods', { user: u.id })).output.removed, [], 'nothing left to remove');
  });

  it('auth.setMfaState sets per-user MFA through Graph beta', async () => {
    const u = await newUser('permfa');
    const r = await env.run('auth.setMfaState', { user: u.id, state: 'enforced' });
    ok(r);
    assert.equal(r.output.changed, true);
    assert.equal((await env.graph.api(`/users/${u.id}/authentication/requirements`).version('beta').get()).perUserMfaState, 'enforced');
    assert.equal((await env.run('auth.setMfaState', { user: u.id, state: 'enforced' })).output.changed, false);
  });
});

describe('sign-in preferences and extension attributes', { concurrency: true }, () => {
  it('auth.setPreferredMethod sets the default second factor through beta signInPreferences', async () => {
    const u = await newUser('prefs');
    const prefs = async () => env.graph.api(`/users/${u.id}/authentication/signInPreferences`).version('beta').get();
    const unregistered = await env.run('auth.setPreferredMethod', { user: u.id, method: 'sms' });
    assert.equal(unregistered.error?.code, 'MethodNotRegistered');
    assert.match(unregistered.error!.hint!, /registered that method first/);
    ok(await env.run('user.setAuthenticationContact', { user: u.id, mobilePhone: '+1 2065550101' }));
    const r = await env.run('auth.setPreferredMethod', { user: u.userPrincipalName, method: 'sms', systemPreferred: false });
    ok(r);
    assert.deepEqual([r.output.method, r.output.systemPreferred], ['sms', false]);
    const read = await prefs();
    assert.deepEqual([read.userPreferredMethodForSecondaryAuthentication, read.isSystemPreferredAuthenticationMethodEnabled], ['sms', false]);
    ok(await env.run('auth.setPreferredMethod', { user: u.id, systemPreferred: true }));
    assert.deepEqual([(await prefs()).userPreferredMethodForSecondaryAuthentication, (await prefs()).isSystemPreferredAuthenticationMethodEnabled], ['sms', true]);
    const denied = await env.run('auth.setPreferredMethod', { user: u.id, method: 'sms' }, { tenant: 'limited' });
    assert.match(denied.error!.hint!, /UserAuthenticationMethod\.ReadWrite\.All/);
  });

  it('user.setAttributes sets and clears extension attributes, changing only what differs', async () => {
    const u = await newUser('attrs');
    const read = async () => (await env.graph.api(`/users/${u.id}`).select('onPremisesExtensionAttributes').get()).onPremisesExtensionAttributes;
    const r = await env.run('user.setAttributes', { user: u.id, attributes: { extensionAttribute1: 'Pilot', extensionAttribute7: 'Berlin' } });
    ok(r);
    assert.deepEqual(r.output.changed.sort(), ['extensionAttribute1', 'extensionAttribute7']);
    assert.deepEqual([(await read()).extensionAttribute1, (await read()).extensionAttribute7], ['Pilot', 'Berlin']);
    const again = await env.run('user.setAttributes', { user: u.userPrincipalName, attributes: { extensionAttribute1: 'Pilot', extensionAttribute7: null } });
    assert.deepEqual(again.output.changed, ['extensionAttribute7']);
    assert.deepEqual([(await read()).extensionAttribute1, (await read()).extensionAttribute7], ['Pilot', null]);
    env.sandbox.admin.findUser(u.id)!.onPremisesSyncEnabled = true;
    const synced = await env.run('user.setAttributes', { user: u.id, attributes: { extensionAttribute2: 'x' } });
    assert.equal(synced.error?.code, 'SyncedObject');
  });
});

describe('distribution groups through Exchange', { concurrency: true }, () => {
  it('distributionGroup.create, addMembers, removeMembers, update and delete', async () => {
    const [a, b] = [await newUser('dla'), await newUser('dlb')];
    const alias = `dl${randomUUID().slice(0, 8)}`;
    const r = await env.run('distributionGroup.create', { name: `DL ${alias}`, alias, owners: [a.userPrincipalName], members: [a.id] });
    ok(r);
    assert.equal(r.output.created, true);
    const dup = await env.run('distributionGroup.create', { name: `DL ${alias} 2`, alias });
    assert.equal(dup.error?.code, 'ObjectConflict');
    const add = await env.run('distributionGroup.addMembers', { group: alias, members: [a.id, b.userPrincipalName] });
    assert.deepEqual(add.output.results.map((x: { changed: boolean }) => x.changed), [false, true]);
    const members = (await exo('Get-DistributionGroupMember', { Identity: alias })).value.map((m) => String(m['ExternalDirectoryObjectId']));
    assert.deepEqual(members.sort(), [a.id, b.id].sort());
    const rm = await env.run('distributionGroup.removeMembers', { group: r.output.identity, members: [b.id] });
    assert.deepEqual(rm.output.results.map((x: { changed: boolean }) => x.changed), [true]);
    const upd = await env.run('distributionGroup.update', { group: alias, displayName: 'Renamed DL', requireSenderAuthentication: false });
    assert.deepEqual(upd.output.changed.sort(), ['displayName', 'requireSenderAuthentication']);
    const read = (await exo('Get-DistributionGroup', { Identity: alias })).value[0]!;
    assert.deepEqual([read['DisplayName'], read['RequireSenderAuthenticationEnabled']], ['Renamed DL', false]);
    ok(await env.run('distributionGroup.delete', { group: alias }));
    const gone = await env.run('distributionGroup.addMembers', { group: alias, members: [a.id] });
    assert.match(gone.error!.message, new RegExp(`distribution group ${alias} does not exist`));
  });

  it('group.addMember and user.removeFromAllGroups use Exchange for distribution lists', async () => {
    const u = await newUser('dlleaver');
    const alias = `lv${randomUUID().slice(0, 8)}`;
    const dl = await env.run('distributionGroup.create', { name: `Leavers ${alias}`, alias });
    ok(dl);
    const add = await env.run('group.addMember', { user: u.id, group: dl.output.primarySmtpAddress });
    ok(add);
    assert.equal(add.output.added, true);
    const r = await env.run('user.removeFromAllGroups', { user: u.id });
    ok(r);
    assert.deepEqual(r.output.removed.map((g: { displayName: string }) => g.displayName), [`Leavers ${alias}`]);
    assert.equal((await exo('Get-DistributionGroupMember', { Identity: alias })).value.length, 0);
  });

  it('distributionGroup.grantSendPermission and removeSendPermission: Send As and send on behalf', async () => {
    const [u, v] = [await newUser('sendas'), await newUser('onbehalf')];
    const alias = `sa${randomUUID().slice(0, 8)}`;
    ok(await env.run('distributionGroup.create', { name: `SA ${alias}`, alias }));
    const trustees = async () => (await exo('Get-RecipientPermission', { Identity: alias })).value.map((p) => p['Trustee']);
    const grant = await env.run('distributionGroup.grantSendPermission', { group: alias, users: [u.id], permission: 'SendAs' });
    ok(grant);
    assert.equal(grant.output.results[0].changed, true);
    assert.ok((await trustees()).includes(u.userPrincipalName));
    assert.equal((await env.run('distributionGroup.grantSendPermission', { group: alias, users: [u.id], permission: 'SendAs' })).output.results[0].changed, false);
    const remove = await env.run('distributionGroup.removeSendPermission', { group: alias, users: [u.userPrincipalName], permission: 'SendAs' });
    assert.equal(remove.output.results[0].changed, true);
    assert.ok(!(await trustees()).includes(u.userPrincipalName));

    const onBehalf = await env.run('distributionGroup.grantSendPermission', { group: alias, users: [u.id, v.id], permission: 'SendOnBehalf' });
    assert.deepEqual(onBehalf.output.results.map((x: { changed: boolean }) => x.changed), [true, true]);
    const delegates = async () => (await exo('Get-DistributionGroup', { Identity: alias })).value[0]!['GrantSendOnBehalfTo'] as string[];
    assert.equal((await delegates()).length, 2);
    assert.equal((await env.run('distributionGroup.grantSendPermission', { group: alias, users: [v.id], permission: 'SendOnBehalf' })).output.results[0].changed, false);
    const dropped = await env.run('distributionGroup.removeSendPermission', { group: alias, users: [u.id], permission: 'SendOnBehalf' });
    assert.deepEqual(dropped.output.results.map((x: { changed: boolean }) => x.changed), [true]);
    assert.equal((await delegates()).length, 1);
    const gone = await env.run('distributionGroup.grantSendPermission', { group: `no${alias}`, users: [u.id], permission: 'SendAs' });
    assert.match(gone.error!.message, /does not exist/);
  });

  it('group.manageM365Members adds and removes subscribers through Exchange', async () => {
    const [u, outsider] = [await newUser('subscriber'), await newUser('outsider')];
    const nick = `sub${randomUUID().slice(0, 6)}`;
    const g = await env.run('group.createM365', { displayName: nick, mailNickname: nick, members: [u.id] });
    ok(g);
    const subscribers = async () => (await exo('Get-UnifiedGroupLinks', { Identity: nick, LinkType: 'Subscribers' })).value.map((s) => s['ExternalDirectoryObjectId']);
    const r = await env.run('group.manageM365Members', { group: g.output.id, addSubscribers: [u.id] });
    ok(r);
    assert.deepEqual(r.output.changes, [{ change: 'addSubscribers', user: u.id, changed: true }]);
    assert.deepEqual(await subscribers(), [u.id]);
    assert.equal((await env.run('group.manageM365Members', { group: g.output.id, addSubscribers: [u.id] })).output.changes[0].changed, false);
    const notMember = await env.run('group.manageM365Members', { group: g.output.id, addSubscribers: [outsider.id] });
    assert.match(notMember.error!.message, /Only members can be subscribers/);
    ok(await env.run('group.manageM365Members', { group: g.output.id, removeSubscribers: [u.userPrincipalName] }));
    assert.deepEqual(await subscribers(), []);
  });

  it('an app without Exchange.ManageAsApp is told to grant it', async () => {
    const r = await env.run('distributionGroup.delete', { group: 'anything' }, { tenant: 'limited' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error!.code, 'Authorization_RequestDenied');
    assert.match(r.error!.hint!, /Exchange\.ManageAsApp/);
  });
});

describe('investigation', () => {
  it('investigation.compromisedAccount flags forwarding and marks the parts it cannot read', async () => {
    const u = await newUser('victim', { licences: ['EXCHANGESTANDARD'] });
    await exo('Set-Mailbox', { Identity: u.userPrincipalName, ForwardingSmtpAddress: 'smtp:thief@evil.example', DeliverToMailboxAndForward: true });
    const r = await env.run('investigation.compromisedAccount', { user: u.userPrincipalName });
    ok(r);
    assert.equal(r.output.suspicious, true);
    assert.ok(r.output.indicators.some((i: string) => /forwards to .*thief@evil\.example/.test(i)), JSON.stringify(r.output.indicators));
    assert.equal(r.output.forwarding.available, true);
    for (const part of ['signIns', 'inboxRules', 'methodChanges', 'appConsents'])
      assert.equal(typeof r.output[part].available, 'boolean', `${part} says whether it was read`);
  });
});
