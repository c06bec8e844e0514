// SharePoint and OneDrive: Graph sites and drives through the real Graph client, and the SharePoint
// REST API (site creation, tenant site properties, admins, deleted sites, recycle bin, OneDrive
// provisioning) with app-only tokens from @azure/identity for the tenant's SharePoint hosts.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError, sandboxGraphClient, sandboxSharePoint, withCertificate } from '../sandbox/testing.ts';
import { ONEDRIVE_PROVISIONING_MS, SITE_PROVISIONING_MS } from '../sandbox/sharepoint/rest.ts';

let sb: Sandbox;
let graph: Client;
let sp: ReturnType<typeof sandboxSharePoint>;
let root: string;
let admin: string;

before(async () => {
  sb = await startSandbox({ seed: 11, users: 60 });
  graph = sandboxGraphClient(sb);
  sp = sandboxSharePoint(sb);
  const name = sb.admin.store.info.initialDomain.split('.')[0]!.toLowerCase();
  [root, admin] = [`https://${name}.sharepoint.com`, `https://${name}-admin.sharepoint.com`];
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const seededLicensed = (n = 0) => [...sb.admin.store.users.values()].filter((u) => u.userType === 'Member' && u.assignedLicenses.some((l) => l.skuId === E3))[n]!;
const unifiedGroup = () => [...sb.admin.store.groups.values()].find((g) => g.groupTypes.includes('Unified'))!;

async function newUser(licensed: boolean): Promise<{ id: string; userPrincipalName: string }> {
  const nick = `sp${Math.random().toString(36).slice(2, 8)}`;
  const u = await graph.api('/users').post({ accountEnabled: true, displayName: nick, mailNickname: nick, userPrincipalName: `${nick}@${sb.tenant.domain}`, usageLocation: 'US', passwordProfile: { password: 'Str0ng!Passw0rd' } });
  if (licensed) await graph.api(`/users/${u.id}/assignLicense`).post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
  return u;
}

test('Graph sites: root, by host and path, by id, search, group site; drives and children', async () => {
  const rootSite = await graph.api('/sites/root').get();
  assert.deepEqual([rootSite.webUrl, rootSite.siteCollection.hostname], [root, new URL(root).host]);
  assert.match(rootSite.id, new RegExp(`^${new URL(root).host},[0-9a-f-]{36},[0-9a-f-]{36}$`));
  const group = unifiedGroup();
  const byGroup = await graph.api(`/groups/${group.id}/sites/root`).get();
  const byPath = await graph.api(`/sites/${new URL(root).host}:/sites/${new URL(byGroup.webUrl).pathname.split('/').pop()}`).get();
  const byId = await graph.api(`/sites/${byPath.id}`).select('id,displayName').get();
  assert.deepEqual([byPath.id, byId.id, byId.displayName], [byGroup.id, byGroup.id, group.displayName]);
  assert.equal(byId.webUrl, undefined, '$select applies');
  const found = (await graph.api('/sites').query({ search: group.displayName }).get()).value;
  assert.ok(found.some((s: { id: string }) => s.id === byGroup.id));
  const drive = await graph.api(`/sites/${byGroup.id}/drive`).get();
  assert.deepEqual([drive.driveType, drive.name, drive.owner.group.id], ['documentLibrary', 'Documents', group.id]);
  assert.equal((await graph.api(`/groups/${group.id}/drive`).get()).id, drive.id);
  const children = (await graph.api(`/drives/${drive.id}/root/children`).get()).value;
  assert.deepEqual(children.map((c: { name: string }) => c.name), ['General']);
  assert.equal(children[0].parentReference.path, '/drive/root:');
  const missing = await expectGraphError(graph.api(`/sites/${new URL(root).host}:/sites/nope`).get());
  assert.deepEqual([missing.statusCode, missing.code], [404, 'itemNotFound']);
});

test('drive items: folders with conflict behaviour, upload, rename, delete to the recycle bin and restore over REST', async () => {
  const drive = await graph.api('/sites/root/drive').get();
  const folder = await graph.api(`/drives/${drive.id}/root/children`).post({ name: 'Contracts', folder: {}, '@microsoft.graph.conflictBehavior': 'fail' });
  assert.equal(folder.folder.childCount, 0);
  const dup = await expectGraphError(graph.api(`/drives/${drive.id}/root/children`).post({ name: 'contracts', folder: {} }));
  assert.deepEqual([dup.statusCode, dup.code], [409, 'nameAlreadyExists']);
  const renamed = await graph.api(`/drives/${drive.id}/root/children`).post({ name: 'Contracts', folder: {}, '@microsoft.graph.conflictBehavior': 'rename' });
  assert.equal(renamed.name, 'Contracts 1');
  const file = await graph.api(`/drives/${drive.id}/items/${folder.id}:/nda.txt:/content`).put('hello world');
  assert.deepEqual([file.name, file.size, file.file.mimeType, file.parentReference.path], ['nda.txt', 11, 'text/plain', '/drive/root:/Contracts']);
  await graph.api(`/drives/${drive.id}/items/${file.id}`).patch({ name: 'NDA signed.txt' });
  assert.equal((await graph.api(`/drives/${drive.id}/items/${folder.id}/children`).get()).value[0].name, 'NDA signed.txt');

  await graph.api(`/drives/${drive.id}/items/${folder.id}`).delete();
  await expectGraphError(graph.api(`/drives/${drive.id}/items/${file.id}`).get());
  const bin = (await sp('GET', `${root}/_api/site/RecycleBin`)).body.value;
  assert.deepEqual(bin.map((r: { Title: string; ItemType: number; DirName: string }) => [r.Title, r.ItemType, r.DirName]), [['Contracts', 5, 'Shared Documents']]);
  assert.equal((await sp('POST', `${root}/_api/site/RecycleBin('${bin[0].Id}')/Restore`)).status, 200);
  assert.equal((await graph.api(`/drives/${drive.id}/items/${file.id}`).get()).name, 'NDA signed.txt', 'the folder comes back with its files');
  assert.deepEqual((await sp('GET', `${root}/_api/site/RecycleBin`)).body.value, []);
  const rootDelete = await expectGraphError(graph.api(`/drives/${drive.id}/root`).get().then(() => graph.api(`/drives/${drive.id}/items/root`).delete()));
  assert.equal(rootDelete.statusCode, 403);
});

test('OneDrive: seeded licensed users have one; a new user has none until provisioned, and only with a SharePoint licence', async () => {
  const seeded = seededLicensed();
  const od = await graph.api(`/users/${seeded.userPrincipalName}/drive`).get();
  assert.deepEqual([od.driveType, od.owner.user.id], ['business', seeded.id]);
  assert.match(od.webUrl, /-my\.sharepoint\.com\/personal\/.+\/Documents$/);
  assert.ok(od.quota.total > 0);
  const [licensed, unlicensed] = [await newUser(true), await newUser(false)];
  for (const u of [licensed, unlicensed]) {
    const err = await expectGraphError(graph.api(`/users/${u.id}/drive`).get());
    assert.deepEqual([err.statusCode, err.code], [404, 'ResourceNotFound']);
  }
  const enqueue = await sp('POST', `${admin}/_api/SP.UserProfiles.ProfileLoader.GetProfileLoader/CreatePersonalSiteEnqueueBulk`, { emailIDs: [licensed.userPrincipalName, unlicensed.userPrincipalName] });
  assert.deepEqual([enqueue.status, enqueue.body], [200, { 'odata.null': true }]);
  assert.equal((await expectGraphError(graph.api(`/users/${licensed.id}/drive`).get())).statusCode, 404, 'queued, not provisioned yet');
  sb.admin.advanceClock(ONEDRIVE_PROVISIONING_MS / 1000);
  assert.equal((await graph.api(`/users/${licensed.id}/drive`).get()).owner.user.id, licensed.id);
  assert.equal((await expectGraphError(graph.api(`/users/${unlicensed.id}/drive`).get())).statusCode, 404, 'no licence, no OneDrive');
  assert.equal(sb.admin.mutationCount({ op: 'onedrive.provision' }), 1);
  await sp('POST', `${admin}/_api/SP.UserProfiles.ProfileLoader.GetProfileLoader/CreatePersonalSiteEnqueueBulk`, { emailIDs: [licensed.userPrincipalName] });
  assert.equal(sb.admin.mutationCount({ op: 'onedrive.provision' }), 1, 'provisioning twice is one OneDrive');
  const tooMany = await sp('POST', `${admin}/_api/SP.UserProfiles.ProfileLoader.GetProfileLoader/CreatePersonalSiteEnqueueBulk`, { emailIDs: Array.from({ length: 201 }, (_, i) => `u${i}@x.example`) });
  assert.equal(tooMany.status, 400);
});

test('sharing: invite tenant users and outside addresses, inherited permissions, the site sharing setting, remove', async () => {
  const seeded = seededLicensed();
  const [colleague, other] = [seededLicensed(1), seededLicensed(2)];
  const drive = await graph.api(`/users/${seeded.id}/drive`).get();
  const folder = await graph.api(`/drives/${drive.id}/root/children`).post({ name: 'Handover', folder: {} });
  const file = await graph.api(`/drives/${drive.id}/items/${folder.id}:/notes.docx:/content`).put('x'.repeat(2048));
  const invited = await graph.api(`/drives/${drive.id}/items/${folder.id}/invite`).post({ recipients: [{ email: colleague.userPrincipalName }], roles: ['read'], requireSignIn: true, sendInvitation: false });
  assert.deepEqual([invited.value[0].roles, invited.value[0].grantedToV2.user.id], [['read'], colleague.id]);
  const again = await graph.api(`/drives/${drive.id}/items/${folder.id}/invite`).post({ recipients: [{ email: colleague.userPrincipalName }], roles: ['write'], requireSignIn: true });
  assert.deepEqual([again.value[0].id, again.value[0].roles], [invited.value[0].id, ['write']], 'inviting again upgrades the same permission');
  const outside = await graph.api(`/drives/${drive.id}/items/${folder.id}/invite`).post({ recipients: [{ email: 'auditor@fabrikam.example' }], roles: ['read'], requireSignIn: true });
  assert.equal(outside.value[0].invitation.email, 'auditor@fabrikam.example');
  const onFile = (await graph.api(`/drives/${drive.id}/items/${file.id}/permissions`).get()).value;
  assert.ok(onFile.some((p: { id: string; inheritedFrom?: { id: string } }) => p.id === invited.value[0].id && p.inheritedFrom?.id === folder.id));
  const bad = await expectGraphError(graph.api(`/drives/${drive.id}/items/${file.id}/invite`).post({ recipients: [{ email: other.userPrincipalName }], roles: ['owner'], requireSignIn: true }));
  assert.deepEqual([bad.statusCode, bad.code], [400, 'invalidRequest']);

  const props = (await sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url: drive.webUrl.replace(/\/Documents$/, ''), includeDetail: true })).body;
  assert.equal(props.SharingCapability, 2);
  assert.equal((await sp('PATCH', `${admin}/_api/SPO.Tenant/sites('${props.SiteId}')`, { SharingCapability: 0 })).status, 204);
  const refused = await expectGraphError(graph.api(`/drives/${drive.id}/items/${file.id}/invite`).post({ recipients: [{ email: 'x@contractor.example' }], roles: ['read'], requireSignIn: true }));
  assert.deepEqual([refused.statusCode, refused.code], [403, 'accessDenied']);
  await graph.api(`/drives/${drive.id}/items/${folder.id}/permissions/${invited.value[0].id}`).delete();
  assert.ok(!(await graph.api(`/drives/${drive.id}/items/${folder.id}/permissions`).get()).value.some((p: { id: string }) => p.id === invited.value[0].id));
  const owner = (await graph.api(`/drives/${drive.id}/root/permissions`).get()).value.find((p: { roles: string[] }) => p.roles.includes('owner'));
  assert.equal(owner.grantedToV2.user.id, seeded.id);
  assert.equal((await expectGraphError(graph.api(`/drives/${drive.id}/root/permissions/${owner.id}`).delete())).statusCode, 403);
});

test('SPSiteManager create and status; SPO.Tenant site properties, quota, lock, admins; delete, restore and purge', async () => {
  const owner = seededLicensed();
  const url = `${root}/sites/projects-apollo`;
  const created = await sp('POST', `${root}/_api/SPSiteManager/create`, { request: { Title: 'Apollo', Url: url, Lcid: 1033, WebTemplate: 'SITEPAGEPUBLISHING#0', Owner: owner.userPrincipalName, Description: 'Launch' } });
  assert.equal(created.body.SiteStatus, 1, 'provisioning: a site is not ready the instant it is requested');
  assert.match(created.body.SiteId, /^[0-9a-f-]{36}$/);
  assert.deepEqual((await sp('GET', `${root}/_api/SPSiteManager/status?url='${encodeURIComponent(url)}'`)).body, { SiteId: created.body.SiteId, SiteStatus: 1, SiteUrl: url });
  assert.equal((await expectGraphError(graph.api(`/sites/${new URL(root).host}:/sites/projects-apollo`).get())).statusCode, 404);
  const unknownProperty = await sp('POST', `${root}/_api/SPSiteManager/create`, { request: { Title: 'Y', Url: `${root}/sites/y`, Owner: owner.userPrincipalName, Colour: 'blue' } });
  assert.match(unknownProperty.body['odata.error'].message.value, /The property 'Colour' does not exist/);
  sb.admin.advanceClock(SITE_PROVISIONING_MS / 1000);
  assert.equal((await sp('POST', `${root}/_api/SPSiteManager/create`, { request: { Title: 'Apollo', Url: url, WebTemplate: 'STS#3', Owner: owner.userPrincipalName } })).body.SiteStatus, 3, 'address in use');
  assert.deepEqual((await sp('GET', `${root}/_api/SPSiteManager/status?url='${encodeURIComponent(url)}'`)).body, { SiteId: created.body.SiteId, SiteStatus: 2, SiteUrl: url });
  assert.equal((await sp('POST', `${root}/_api/SPSiteManager/create`, { request: { Title: 'X', Url: `${root}/sites/x`, WebTemplate: 'GROUP#0', Owner: owner.userPrincipalName } })).status, 400);
  assert.equal((await graph.api(`/sites/${new URL(root).host}:/sites/projects-apollo`).get()).displayName, 'Apollo', 'Graph sees the new site');

  const props = async () => (await sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url, includeDetail: true })).body;
  const p = await props();
  assert.deepEqual([p.Title, p.Template, p.Owner, p.SharingCapability, p.LockState, p.StorageUsage], ['Apollo', 'SITEPAGEPUBLISHING#0', owner.userPrincipalName, 1, 'Unlock', 0]);
  assert.equal((await sp('PATCH', `${admin}/_api/SPO.Tenant/sites('${p.SiteId}')`, { StorageMaximumLevel: 10240, StorageWarningLevel: 9216 })).status, 204);
  assert.deepEqual([(await props()).StorageMaximumLevel, (await props()).StorageWarningLevel], [10240, 9216]);
  assert.equal((await sp('PATCH', `${admin}/_api/SPO.Tenant/sites('${p.SiteId}')`, { StorageMaximumLevel: 100, StorageWarningLevel: 200 })).status, 400);
  assert.equal((await sp('GET', `${admin}/_api/SPO.Tenant/sites('${p.SiteId}')`)).body.Url, url);

  const second = seededLicensed(1);
  assert.equal((await sp('POST', `${admin}/_api/SPO.Tenant/SetSiteAdmin`, { siteUrl: url, loginName: `i:0#.f|membership|${second.userPrincipalName}`, isSiteAdmin: true })).status, 200);
  const admins = async () => (await sp('GET', `${url}/_api/web/siteusers?$filter=IsSiteAdmin eq true`)).body.value.map((u: { UserPrincipalName: string }) => u.UserPrincipalName).sort();
  assert.deepEqual(await admins(), [owner.userPrincipalName, second.userPrincipalName].sort());
  await sp('POST', `${admin}/_api/SPO.Tenant/SetSiteAdmin`, { siteUrl: url, loginName: second.userPrincipalName, isSiteAdmin: false });
  assert.deepEqual(await admins(), [owner.userPrincipalName]);
  assert.equal((await sp('POST', `${admin}/_api/SPO.Tenant/SetSiteAdmin`, { siteUrl: url, loginName: owner.userPrincipalName, isSiteAdmin: false })).status, 400, 'the primary admin stays');

  await sp('PATCH', `${admin}/_api/SPO.Tenant/sites('${p.SiteId}')`, { LockState: 'ReadOnly' });
  const drive = await graph.api(`/sites/${new URL(root).host}:/sites/projects-apollo:/drive`).get();
  assert.equal((await expectGraphError(graph.api(`/drives/${drive.id}/root/children`).post({ name: 'A', folder: {} }))).statusCode, 423);

  assert.equal((await sp('POST', `${admin}/_api/SPO.Tenant/RemoveSite`, { siteUrl: url })).status, 200);
  assert.equal((await sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url })).status, 404);
  assert.ok((await sp('POST', `${admin}/_api/SPO.Tenant/GetDeletedSitePropertiesFromSharePoint`, { startIndex: '0' })).body.value.some((s: { Url: string }) => s.Url === url));
  assert.equal((await sp('POST', `${admin}/_api/SPO.Tenant/GetDeletedSitePropertiesByUrl`, { siteUrl: url })).body.Url, url);
  assert.equal((await sp('POST', `${admin}/_api/SPO.Tenant/GetDeletedSitePropertiesFromSharePoint`, { startIndex: '0', top: 5 })).status, 400, 'a parameter the method does not have');
  assert.equal((await sp('GET', `${admin}/_api/SPO.Tenant/GetDeletedSitePropertiesFromSharePoint`)).status, 404, 'a method, not a property: POST only');
  await sp('POST', `${admin}/_api/SPO.Tenant/RestoreDeletedSite`, { siteUrl: url });
  assert.equal((await props()).Title, 'Apollo');
  await sp('POST', `${admin}/_api/SPO.Tenant/RemoveSite`, { siteUrl: url });
  await sp('POST', `${admin}/_api/SPO.Tenant/RemoveDeletedSite`, { siteUrl: url });
  assert.equal((await sp('POST', `${admin}/_api/SPO.Tenant/RestoreDeletedSite`, { siteUrl: url })).status, 404, 'purged');

  const groupSite = (await graph.api(`/groups/${unifiedGroup().id}/sites/root`).get()).webUrl;
  assert.match((await sp('POST', `${admin}/_api/SPO.Tenant/RemoveSite`, { siteUrl: groupSite })).body['odata.error'].message.value, /belongs to a Microsoft 365 group/);
});

test('tokens and permissions: certificate credentials only, any of the tenant SharePoint hosts as resource, not Graph; roles checked; admin calls only on the admin host', async () => {
  const byRootToken = await sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url: root }, { resource: root });
  assert.equal(byRootToken.status, 200);
  const graphToken = await sp('GET', `${root}/_api/web`, undefined, { resource: 'https://graph.microsoft.com' });
  assert.equal(graphToken.status, 401);
  assert.match(graphToken.body.error_description, /Invalid audience/);
  const verbose = await sp('GET', `${root}/_api/web`, undefined, { accept: 'application/json;odata=verbose' });
  assert.equal(verbose.body.d.Url, root);
  assert.equal((await sp('POST', `${root}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url: root })).status, 404, 'tenant administration lives on the admin host');

  const readerApp = sb.admin.createApp({ permissions: ['SharePoint/Sites.Read.All'] });
  // SharePoint refuses an app-only token obtained with a client secret, whatever its roles.
  const bySecret = await sandboxSharePoint(sb, readerApp)('GET', `${root}/_api/web`);
  assert.deepEqual([bySecret.status, bySecret.body.error_description], [401, 'Unsupported app only token.']);
  const reader = sandboxSharePoint(sb, withCertificate(sb, readerApp));
  assert.equal((await reader('GET', `${root}/_api/web`)).status, 200);
  const refused = await reader('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url: root });
  assert.deepEqual([refused.status, refused.body['odata.error'].code], [403, '-2147024891, System.UnauthorizedAccessException']);
  const noFiles = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['User.Read.All'] }) });
  const denied = await expectGraphError(noFiles.api('/sites/root').get());
  assert.deepEqual([denied.statusCode, denied.code], [403, 'accessDenied']);
});

test('site Owners group, sharing defaults, and OneDrive shortcuts to a library folder', async () => {
  const [owner, other] = [seededLicensed(), seededLicensed(1)];
  const url = `${root}/sites/owners-${Math.random().toString(36).slice(2, 8)}`;
  await sp('POST', `${root}/_api/SPSiteManager/create`, { request: { Title: 'Owners', Url: url, Owner: owner.userPrincipalName } });
  sb.admin.advanceClock(SITE_PROVISIONING_MS / 1000);
  const owners = async () => (await sp('GET', `${url}/_api/web/AssociatedOwnerGroup/Users`)).body.value.map((u: { UserPrincipalName: string }) => u.UserPrincipalName);
  assert.deepEqual(await owners(), [owner.userPrincipalName], 'the creator is in the Owners group');
  const added = await sp('POST', `${url}/_api/web/AssociatedOwnerGroup/Users`, { LoginName: `i:0#.f|membership|${other.userPrincipalName}` });
  assert.equal(added.body.UserPrincipalName, other.userPrincipalName);
  assert.deepEqual((await owners()).sort(), [owner.userPrincipalName, other.userPrincipalName].sort());
  const login = encodeURIComponent(`i:0#.f|membership|${other.userPrincipalName}`);
  assert.equal((await sp('POST', `${url}/_api/web/AssociatedOwnerGroup/Users/removeByLoginName(@v)?@v='${login}'`)).status, 200);
  assert.deepEqual(await owners(), [owner.userPrincipalName]);
  assert.equal((await sp('POST', `${url}/_api/web/AssociatedOwnerGroup/Users/removeByLoginName(@v)?@v='${login}'`)).status, 404, 'not an owner');
  const groupSite = (await graph.api(`/groups/${unifiedGroup().id}/sites/root`).get()).webUrl;
  assert.equal((await sp('POST', `${groupSite}/_api/web/AssociatedOwnerGroup/Users`, { LoginName: other.userPrincipalName })).status, 400, 'a group site\'s owners are the group\'s');

  const id = (await sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url })).body.SiteId;
  assert.equal((await sp('PATCH', `${admin}/_api/SPO.Tenant/sites('${id}')`, { DefaultSharingLinkType: 2, DefaultLinkPermission: 1, ExternalUserExpirationInDays: 60, OverrideTenantExternalUserExpirationPolicy: true })).status, 204);
  const p = (await sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url })).body;
  assert.deepEqual([p.DefaultSharingLinkType, p.DefaultLinkPermission, p.ExternalUserExpirationInDays, p.OverrideTenantExternalUserExpirationPolicy], [2, 1, 60, true]);
  assert.equal((await sp('PATCH', `${admin}/_api/SPO.Tenant/sites('${id}')`, { DefaultSharingLinkType: 3 })).status, 400, 'anyone links need SharingCapability 2');
  assert.equal((await sp('PATCH', `${admin}/_api/SPO.Tenant/sites('${id}')`, { ExternalUserExpirationInDays: 1000 })).status, 400);
  assert.equal((await sp('PATCH', `${admin}/_api/SPO.Tenant/sites('${id}')`, { Colour: 'blue' })).status, 400);

  const library = await graph.api(`/groups/${unifiedGroup().id}/drive`).get();
  const general = (await graph.api(`/drives/${library.id}/root/children`).get()).value[0];
  const drive = await graph.api(`/users/${owner.id}/drive`).get();
  const shortcut = await graph.api(`/drives/${drive.id}/root/children`).post({ name: 'Team files', remoteItem: { id: general.id, parentReference: { driveId: library.id } }, '@microsoft.graph.conflictBehavior': 'fail' });
  assert.deepEqual([shortcut.name, shortcut.remoteItem.id, shortcut.remoteItem.parentReference.driveId, shortcut.remoteItem.name, shortcut.remoteItem.folder.childCount], ['Team files', general.id, library.id, 'General', 0]);
  assert.equal(shortcut.folder, undefined, 'a shortcut has a remoteItem facet, not a folder of its own');
  const listed = (await graph.api(`/drives/${drive.id}/root/children`).get()).value.find((c: { id: string }) => c.id === shortcut.id);
  assert.equal(listed.remoteItem.id, general.id);
  const dup = await expectGraphError(graph.api(`/drives/${drive.id}/root/children`).post({ name: 'Again', remoteItem: { id: general.id, parentReference: { driveId: library.id } }, '@microsoft.graph.conflictBehavior': 'fail' }));
  assert.deepEqual([dup.statusCode, dup.code], [409, 'nameAlreadyExists']);
  const missing = await expectGraphError(graph.api(`/drives/${drive.id}/root/children`).post({ name: 'X', remoteItem: { id: 'nope', parentReference: { driveId: library.id } } }));
  assert.equal(missing.statusCode, 404);
});
