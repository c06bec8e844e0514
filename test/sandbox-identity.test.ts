// Guests, authentication methods (Temporary Access Pass), per-user MFA, mailboxSettings, $expand
// and deleted items, through the real Graph client.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client, GraphError } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 5, users: 60 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

async function failure(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (err) {
    return err as GraphError;
  }
  assert.fail('expected the call to fail');
}

const seededMember = () => [...sb.admin.store.users.values()].find((u) => u.userType === 'Member' && u.assignedLicenses.some((l) => l.skuId === '05e9a617-0261-4cee-bb44-138d3ef5d965'))!;

test('invitations create a pending guest once; inviting the same address returns the same guest', async () => {
  const first = await graph.api('/invitations').post({ invitedUserEmailAddress: 'pat@fabrikam.com', inviteRedirectUrl: 'https://myapps.microsoft.com', invitedUserDisplayName: 'Pat (Fabrikam)' });
  assert.equal(first.status, 'PendingAcceptance');
  assert.match(first.inviteRedeemUrl, /^https:\/\//);
  const guest = await graph.api(`/users/${first.invitedUser.id}`).select('userType,externalUserState,mail,userPrincipalName').get();
  assert.equal(guest.userType, 'Guest');
  assert.equal(guest.externalUserState, 'PendingAcceptance');
  assert.equal(guest.mail, 'pat@fabrikam.com');
  assert.match(guest.userPrincipalName, /^pat_fabrikam\.com#EXT#@/);
  const again = await graph.api('/invitations').post({ invitedUserEmailAddress: 'pat@fabrikam.com', inviteRedirectUrl: 'https://myapps.microsoft.com' });
  assert.equal(again.invitedUser.id, first.invitedUser.id);
  assert.equal(sb.admin.mutationCount({ op: 'user.invite' }), 1);
  const denied = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['User.Read.All'] }) });
  assert.equal((await failure(denied.api('/invitations').post({ invitedUserEmailAddress: 'x@adatum.com', inviteRedirectUrl: 'https://x' }))).statusCode, 403);
});

test('authentication methods: seeded Authenticator, Temporary Access Pass create / read / one per user / delete', async () => {
  const user = seededMember();
  const methods = await graph.api(`/users/${user.id}/authentication/methods`).get();
  const types = methods.value.map((m: { '@odata.type': string }) => m['@odata.type']);
  assert.ok(types.includes('#microsoft.graph.passwordAuthenticationMethod'));

  const tap = await graph.api(`/users/${user.id}/authentication/temporaryAccessPassMethods`).post({ lifetimeInMinutes: 60, isUsableOnce: true });
  assert.equal(typeof tap.temporaryAccessPass, 'string');
  assert.ok(tap.temporaryAccessPass.length >= 8);
  const listed = await graph.api(`/users/${user.id}/authentication/temporaryAccessPassMethods`).get();
  assert.equal(listed.value.length, 1);
  assert.equal(listed.value[0].temporaryAccessPass, null, 'the pass is only shown when created (reads give null)');
  assert.equal(listed.value[0].isUsable, true);
  const second = await failure(graph.api(`/users/${user.id}/authentication/temporaryAccessPassMethods`).post({}));
  assert.equal(second.statusCode, 400);
  const badLifetime = await failure(graph.api(`/users/${sb.admin.store.users.keys().next().value}/authentication/temporaryAccessPassMethods`).post({ lifetimeInMinutes: 5 }));
  assert.equal(badLifetime.statusCode, 400);
  await graph.api(`/users/${user.id}/authentication/temporaryAccessPassMethods/${tap.id}`).delete();
  assert.equal((await graph.api(`/users/${user.id}/authentication/temporaryAccessPassMethods`).get()).value.length, 0);
  assert.equal(sb.admin.mutationCount({ objectId: user.id, op: 'user.addTemporaryAccessPassMethod' }), 1);

  const reader = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['UserAuthenticationMethod.Read.All'] }) });
  assert.equal((await failure(reader.api(`/users/${user.id}/authentication/temporaryAccessPassMethods`).post({}))).statusCode, 403);
});

test('phone methods: add, duplicate type is 409, delete', async () => {
  const user = seededMember();
  const existing = await graph.api(`/users/${user.id}/authentication/phoneMethods`).get();
  for (const m of existing.value) await graph.api(`/users/${user.id}/authentication/phoneMethods/${m.id}`).delete();
  const added = await graph.api(`/users/${user.id}/authentication/phoneMethods`).post({ phoneNumber: '+1 2065550100', phoneType: 'mobile' });
  assert.equal(added.id, '3179e48a-750b-4051-897c-87b9720928f7');
  assert.equal((await failure(graph.api(`/users/${user.id}/authentication/phoneMethods`).post({ phoneNumber: '+1 2065550101', phoneType: 'mobile' }))).statusCode, 409);
});

test('per-user MFA state is beta-only: /authentication/requirements', async () => {
  const user = seededMember();
  assert.equal((await failure(graph.api(`/users/${user.id}/authentication/requirements`).get())).statusCode, 400);
  const beta = await graph.api(`/users/${user.id}/authentication/requirements`).version('beta').get();
  assert.equal(beta.perUserMfaState, 'disabled');
  await graph.api(`/users/${user.id}/authentication/requirements`).version('beta').patch({ perUserMfaState: 'enforced' });
  assert.equal((await graph.api(`/users/${user.id}/authentication/requirements`).version('beta').get()).perUserMfaState, 'enforced');
});

test('mailboxSettings: automatic replies, language and time zone; no mailbox without an Exchange licence', async () => {
  const user = seededMember();
  const before = await graph.api(`/users/${user.id}/mailboxSettings`).get();
  assert.equal(before.automaticRepliesSetting.status, 'disabled');
  const patched = await graph.api(`/users/${user.id}/mailboxSettings`).patch({
    automaticRepliesSetting: { status: 'alwaysEnabled', internalReplyMessage: 'Out until Monday', externalReplyMessage: 'Out', externalAudience: 'contactsOnly' },
    timeZone: 'W. Europe Standard Time',
    language: { locale: 'de-DE' },
  });
  assert.equal(patched.automaticRepliesSetting.status, 'alwaysEnabled');
  const after = await graph.api(`/users/${user.id}/mailboxSettings`).get();
  assert.equal(after.automaticRepliesSetting.internalReplyMessage, 'Out until Monday');
  assert.equal(after.automaticRepliesSetting.externalAudience, 'contactsOnly');
  assert.equal(after.timeZone, 'W. Europe Standard Time');
  assert.equal(after.language.locale, 'de-DE');

  const unlicensed = await graph.api('/users').post({ accountEnabled: true, displayName: 'No Mail', mailNickname: 'nomail', userPrincipalName: `nomail@${sb.tenant.domain}`, passwordProfile: { password: 'Xw9!correct-horse' } });
  const err = await failure(graph.api(`/users/${unlicensed.id}/mailboxSettings`).get());
  assert.equal(err.statusCode, 404);
  assert.equal(err.code, 'MailboxNotEnabledForRESTAPI');
  const noPerm = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['User.Read.All'] }) });
  const denied = await failure(noPerm.api(`/users/${user.id}/mailboxSettings`).get());
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.code, 'ErrorAccessDenied');
});

test('$expand=manager on a user and $expand=members on a group', async () => {
  const withManager = [...sb.admin.store.users.values()].find((u) => u._managerId)!;
  const got = await graph.api(`/users/${withManager.id}`).expand('manager($select=id,displayName)').get();
  assert.equal(got.manager.id, withManager._managerId);
  assert.deepEqual(Object.keys(got.manager).sort(), ['@odata.type', 'displayName', 'id']);
  const group = [...sb.admin.store.groups.values()].find((g) => g.displayName === 'Leadership')!;
  const expanded = await graph.api(`/groups/${group.id}`).expand('members').get();
  assert.equal(expanded.members.length, sb.admin.store.membersOf(group.id).size);
  const unknown = await failure(graph.api(`/users/${withManager.id}`).expand('favouriteThings').get());
  assert.equal(unknown.statusCode, 400);
});

test('deleted users: listed in deletedItems, restored with their group memberships, or deleted for good', async () => {
  const user = seededMember();
  const groupsBefore = sb.admin.store.memberOf(user.id).sort();
  await graph.api(`/users/${user.id}`).delete();
  const deleted = await graph.api('/directory/deletedItems/microsoft.graph.user').get();
  assert.ok(deleted.value.some((u: { id: string; deletedDateTime: string }) => u.id === user.id && u.deletedDateTime));
  const restored = await graph.api(`/directory/deletedItems/${user.id}/restore`).post({});
  assert.equal(restored.id, user.id);
  assert.deepEqual(sb.admin.store.memberOf(user.id).sort(), groupsBefore);
  await graph.api(`/users/${user.id}`).delete();
  await graph.api(`/directory/deletedItems/${user.id}`).delete();
  assert.equal((await failure(graph.api(`/directory/deletedItems/${user.id}/restore`).post({}))).statusCode, 404);
  assert.deepEqual(sb.admin.mutationSummary({ objectId: user.id }), { 'user.delete': 2, 'user.restore': 1, 'user.permanentDelete': 1 });
});

test('a deleted user cannot be restored over a new user with the same UPN', async () => {
  const user = seededMember();
  await graph.api(`/users/${user.id}`).delete();
  await graph.api('/users').post({ accountEnabled: true, displayName: 'Taker', mailNickname: 'taker', userPrincipalName: user.userPrincipalName, passwordProfile: { password: 'Xw9!correct-horse' } });
  const err = await failure(graph.api(`/directory/deletedItems/${user.id}/restore`).post({}));
  assert.equal(err.statusCode, 400);
  assert.match(err.message, /userPrincipalName/);
});

test('beta signInPreferences: defaults from the registered methods, PATCH needs a registered method, v1.0 does not serve it', async () => {
  const user = seededMember();
  const path = `/users/${user.id}/authentication/signInPreferences`;
  const prefs = await graph.api(path).version('beta').get();
  assert.equal(prefs.isSystemPreferredAuthenticationMethodEnabled, true);
  const hasAuthenticator = (await graph.api(`/users/${user.id}/authentication/microsoftAuthenticatorMethods`).get()).value.length > 0;
  if (hasAuthenticator) assert.equal(prefs.userPreferredMethodForSecondaryAuthentication, 'push');
  await graph.api(`/users/${user.id}/authentication/phoneMethods`).post({ phoneNumber: '+1 2065550111', phoneType: 'office' }).catch(() => undefined);
  await graph.api(path).version('beta').patch({ userPreferredMethodForSecondaryAuthentication: 'voiceOffice', isSystemPreferredAuthenticationMethodEnabled: false });
  const after = await graph.api(path).version('beta').get();
  assert.deepEqual([after.userPreferredMethodForSecondaryAuthentication, after.isSystemPreferredAuthenticationMethodEnabled, after.systemPreferredAuthenticationMethod], ['voiceOffice', false, null]);
  const unregistered = await failure(graph.api(path).version('beta').patch({ userPreferredMethodForSecondaryAuthentication: 'voiceAlternateMobile' }));
  assert.deepEqual([unregistered.statusCode, unregistered.code], [400, 'Request_BadRequest']);
  assert.equal((await failure(graph.api(path).version('beta').patch({ userPreferredMethodForSecondaryAuthentication: 'pigeon' }))).statusCode, 400);
  assert.equal((await failure(graph.api(path).get())).statusCode, 400, 'beta only');
  const reader = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['UserAuthenticationMethod.Read.All'] }) });
  assert.equal((await reader.api(path).version('beta').get()).userPreferredMethodForSecondaryAuthentication, 'voiceOffice');
  assert.equal((await failure(reader.api(path).version('beta').patch({ isSystemPreferredAuthenticationMethodEnabled: true }))).statusCode, 403);
});

test('onPremisesExtensionAttributes: all fifteen on $select, PATCH merges and clears, unknown attribute and synced users refused', async () => {
  const user = seededMember();
  const read = async () => (await graph.api(`/users/${user.id}`).select('onPremisesExtensionAttributes').get()).onPremisesExtensionAttributes;
  const initial = await read();
  assert.equal(Object.keys(initial).length, 15);
  assert.ok(Object.values(initial).every((v) => v === null));
  assert.equal((await graph.api(`/users/${user.id}`).get()).onPremisesExtensionAttributes, undefined, 'not in the default property set');
  await graph.api(`/users/${user.id}`).patch({ onPremisesExtensionAttributes: { extensionAttribute1: 'Pilot', extensionAttribute15: 'Cost centre 42' } });
  await graph.api(`/users/${user.id}`).patch({ onPremisesExtensionAttributes: { extensionAttribute1: null, extensionAttribute2: 'B' } });
  const after = await read();
  assert.deepEqual([after.extensionAttribute1, after.extensionAttribute2, after.extensionAttribute15], [null, 'B', 'Cost centre 42']);
  const unknown = await failure(graph.api(`/users/${user.id}`).patch({ onPremisesExtensionAttributes: { extensionAttribute16: 'x' } }));
  assert.deepEqual([unknown.statusCode, unknown.code], [400, 'Request_BadRequest']);
  user.onPremisesSyncEnabled = true;
  const synced = await failure(graph.api(`/users/${user.id}`).patch({ onPremisesExtensionAttributes: { extensionAttribute3: 'x' } }));
  assert.match(synced.message, /on-premises mastered Directory Sync objects/);
});
