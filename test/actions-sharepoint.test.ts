// The SharePoint and OneDrive actions against the sandbox tenant: each runs as a runbook step on real
// Temporal through a certificate tenant connection (SharePoint REST refuses secret-based app tokens),
// and the test reads the tenant back through SharePoint REST (SPO.Tenant site properties, site users,
// the Owners group, deleted sites) and Graph (drives, permissions, children). Site creation and OneDrive
// provisioning take (time-scaled) time in the sandbox, as they do at Microsoft.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SKU_BY_PART } from '../sandbox/index.ts';
import { sandboxSharePoint } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let sp: ReturnType<typeof sandboxSharePoint>;
let root: string;
let admin: string;
let people: { id: string; userPrincipalName: string }[];
const E3 = SKU_BY_PART.get('SPE_E3')!.skuId;

before(async () => {
  // Microsoft's delays at 1/20; throttling, which time scaling makes bursty, has its own tests.
  env = await startActionsEnv({ sandbox: { timeScale: 20, throttling: false } });
  sp = sandboxSharePoint(env.sandbox);
  const name = env.sandbox.admin.store.info.initialDomain.split('.')[0]!.toLowerCase();
  [root, admin] = [`https://${name}.sharepoint.com`, `https://${name}-admin.sharepoint.com`];
  // Seeded licensed members: each has a OneDrive.
  people = [...env.sandbox.admin.store.users.values()]
    .filter((u) => u.userType === 'Member' && u.accountEnabled && u.assignedLicenses.some((l) => l.skuId === E3))
    .slice(0, 10)
    .map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName }));
});
after(async () => env?.close());

const cert = { tenant: 'sandbox-cert' };
const run = (action: string, params: Record<string, unknown>) => env.run(action, params, cert);
const props = async (url: string) => sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url, includeDetail: true });
const siteAdmins = async (url: string): Promise<string[]> => (await sp('GET', `${url}/_api/web/siteusers?$filter=IsSiteAdmin eq true`)).body.value.map((u: { UserPrincipalName: string }) => u.UserPrincipalName.toLowerCase()).sort();
const deleted = async (): Promise<string[]> => (await sp('POST', `${admin}/_api/SPO.Tenant/GetDeletedSitePropertiesFromSharePoint`, { startIndex: '0' })).body.value.map((s: { Url: string }) => s.Url);

/** A new communication site made through site.create, owned by people[0]. */
async function newSite(): Promise<string> {
  const r = await run('site.create', { title: `Site ${randomUUID().slice(0, 4)}`, alias: `s-${randomUUID().slice(0, 8)}`, owner: people[0]!.userPrincipalName });
  ok(r);
  return r.output.url;
}

describe('SharePoint sites', { concurrency: true }, () => {
  it('site.create waits until SharePoint has provisioned the site', async () => {
    const alias = `launch-${randomUUID().slice(0, 8)}`;
    const r = await run('site.create', { title: 'Launch', alias, owner: people[0]!.userPrincipalName, description: 'Launch plans' });
    ok(r);
    assert.equal(r.output.url, `${root}/sites/${alias}`);
    // Read at once: the step returned only once the site was ready.
    const p = await props(r.output.url);
    assert.equal(p.status, 200);
    assert.deepEqual([p.body.Title, p.body.Template, p.body.Owner, p.body.SiteId], ['Launch', 'SITEPAGEPUBLISHING#0', people[0]!.userPrincipalName, r.output.siteId]);
    const status = await sp('GET', `${root}/_api/SPSiteManager/status?url='${encodeURIComponent(r.output.url)}'`);
    assert.equal(status.body.SiteStatus, 2);
    const team = await run('site.create', { title: 'Team', alias: `t-${alias}`, template: 'team', owner: people[1]!.id });
    ok(team);
    assert.equal((await props(team.output.url)).body.Template, 'STS#3');
    const taken = await run('site.create', { title: 'Again', alias, owner: people[0]!.id });
    assert.equal(taken.error?.code, 'SiteAlreadyExists');
  });

  it('SharePoint actions through a client-secret connection fail with the certificate hint', async () => {
    const r = await env.run('site.create', { title: 'Nope', alias: `nope-${randomUUID().slice(0, 6)}`, owner: people[0]!.id });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'UnsupportedAppOnlyToken');
    assert.match(r.error!.hint!, /certificate/);
    assert.equal(r.attempts, 1, 'not retried');
  });

  it('site.get reads the site properties', async () => {
    const url = await newSite();
    const r = await run('site.get', { site: url });
    ok(r);
    assert.deepEqual([r.output.found, r.output.site.url, r.output.site.owner, r.output.site.lockState, r.output.site.groupId], [true, url, people[0]!.userPrincipalName, 'Unlock', null]);
    assert.equal((await run('site.get', { site: `${root}/sites/none-${randomUUID().slice(0, 6)}` })).output.found, false);
  });

  it('site.addAdmin and site.removeAdmin', async () => {
    const url = await newSite();
    const who = people[2]!;
    const add = await run('site.addAdmin', { site: url, user: who.userPrincipalName });
    ok(add);
    assert.equal(add.output.changed, true);
    assert.ok((await siteAdmins(url)).includes(who.userPrincipalName.toLowerCase()));
    assert.equal((await run('site.addAdmin', { site: url, user: who.id })).output.changed, false);
    ok(await run('site.removeAdmin', { site: url, user: who.id }));
    assert.ok(!(await siteAdmins(url)).includes(who.userPrincipalName.toLowerCase()));
    const primary = await run('site.removeAdmin', { site: url, user: people[0]!.id });
    assert.equal(primary.error?.code, 'PrimaryAdmin');
  });

  it('site.addOwner and site.removeOwner: the Owners group of a site, the group owners of a group site', async () => {
    const url = await newSite();
    const who = people[3]!;
    const owners = async () => (await sp('GET', `${url}/_api/web/AssociatedOwnerGroup/Users`)).body.value.map((u: { UserPrincipalName: string }) => u.UserPrincipalName);
    ok(await run('site.addOwner', { site: url, user: who.userPrincipalName }));
    assert.ok((await owners()).includes(who.userPrincipalName));
    ok(await run('site.removeOwner', { site: url, user: who.userPrincipalName }));
    assert.ok(!(await owners()).includes(who.userPrincipalName));

    const group = [...env.sandbox.admin.store.groups.values()].find((g) => g.groupTypes.includes('Unified'))!;
    const groupSite = (await env.graph.api(`/groups/${group.id}/sites/root`).get()).webUrl;
    const r = await run('site.addOwner', { site: groupSite, user: who.id });
    ok(r);
    assert.ok((await env.graph.api(`/groups/${group.id}/owners`).get()).value.some((o: { id: string }) => o.id === who.id));
    ok(await run('site.removeOwner', { site: groupSite, user: who.id }));
    assert.ok(!(await env.graph.api(`/groups/${group.id}/owners`).get()).value.some((o: { id: string }) => o.id === who.id));
  });

  it('site.setQuota, site.setSharing, site.lock / site.unlock and site.setOwner', async () => {
    const url = await newSite();
    const q = await run('site.setQuota', { site: url, storageMaximumMB: 10240 });
    ok(q);
    assert.deepEqual([q.output.storageMaximumMB, q.output.storageWarningMB], [10240, 9216]);
    assert.deepEqual([(await props(url)).body.StorageMaximumLevel, (await props(url)).body.StorageWarningLevel], [10240, 9216]);

    const s = await run('site.setSharing', { site: url, sharing: 'ExternalUserAndGuestSharing', defaultLinkType: 'organization', defaultLinkPermission: 'view', guestAccessExpiresAfterDays: 30 });
    ok(s);
    const p = (await props(url)).body;
    assert.deepEqual([p.SharingCapability, p.DefaultSharingLinkType, p.DefaultLinkPermission, p.ExternalUserExpirationInDays, p.OverrideTenantExternalUserExpirationPolicy], [2, 2, 1, 30, true]);
    assert.deepEqual((await run('site.setSharing', { site: url, sharing: 'ExternalUserAndGuestSharing' })).output.changed, []);

    ok(await run('site.lock', { site: url }));
    assert.equal((await props(url)).body.LockState, 'ReadOnly');
    ok(await run('site.unlock', { site: url }));
    assert.equal((await props(url)).body.LockState, 'Unlock');

    const o = await run('site.setOwner', { site: url, user: people[4]!.userPrincipalName });
    ok(o);
    assert.equal((await props(url)).body.Owner, people[4]!.userPrincipalName);
    assert.ok((await siteAdmins(url)).includes(people[0]!.userPrincipalName.toLowerCase()), 'the previous owner stays an administrator');
  });

  it('site.delete, site.restore and site.purge', async () => {
    const url = await newSite();
    const d = await run('site.delete', { site: url });
    ok(d);
    assert.equal((await props(url)).status, 404);
    assert.ok((await deleted()).includes(url));
    assert.equal((await run('site.delete', { site: url })).output.deleted, false, 'already deleted');
    const r = await run('site.restore', { site: url });
    ok(r);
    assert.equal((await props(url)).status, 200);
    assert.equal((await run('site.restore', { site: url })).output.restored, false);
    const live = await run('site.purge', { site: url });
    assert.equal(live.error?.code, 'SiteNotDeleted');
    ok(await run('site.delete', { site: url }));
    const p = await run('site.purge', { site: url });
    ok(p);
    assert.equal(p.output.purged, true);
    assert.ok(!(await deleted()).includes(url));
    assert.equal((await props(url)).status, 404);

    const group = [...env.sandbox.admin.store.groups.values()].find((g) => g.groupTypes.includes('Unified'))!;
    const groupSite = (await env.graph.api(`/groups/${group.id}/sites/root`).get()).webUrl;
    assert.equal((await run('site.delete', { site: groupSite })).error?.code, 'GroupConnectedSite');
  });
});

describe('OneDrive', { concurrency: true }, () => {
  const personalUrl = async (userId: string) => (await env.graph.api(`/users/${userId}/drive`).get()).webUrl.replace(/\/Documents$/, '');

  it('onedrive.provision waits until the OneDrive exists; an unlicensed user is skipped', async () => {
    const licensed = await env.newUser('od-licensed', { licences: ['SPE_E3'] });
    const unlicensed = await env.newUser('od-none');
    const r = await run('onedrive.provision', { users: [licensed.userPrincipalName, unlicensed.id, people[0]!.id] });
    ok(r);
    assert.deepEqual(r.output.skipped.map((s: { user: string }) => s.user), [unlicensed.userPrincipalName]);
    assert.deepEqual(r.output.alreadyProvisioned, [people[0]!.userPrincipalName]);
    // Read at once: the step returned only once SharePoint had created it.
    const drive = await env.graph.api(`/users/${licensed.id}/drive`).get();
    assert.equal(drive.owner.user.id, licensed.id);
    assert.ok(r.output.provisioned.some((p: { user: string; url: string }) => p.user === licensed.userPrincipalName && drive.webUrl.startsWith(p.url)));
    const again = await run('onedrive.provision', { users: [licensed.id] });
    assert.deepEqual(again.output.alreadyProvisioned, [licensed.userPrincipalName]);
  });

  it('onedrive.get', async () => {
    const r = await env.run('onedrive.get', { user: people[1]!.userPrincipalName });
    ok(r);
    assert.deepEqual([r.output.found, r.output.url], [true, await personalUrl(people[1]!.id)]);
    const none = await env.newUser('od-get');
    assert.equal((await env.run('onedrive.get', { user: none.id })).output.found, false);
  });

  it('onedrive.addOwner and onedrive.removeOwner give and take a manager\'s access', async () => {
    const [leaver, manager] = [people[5]!, people[6]!];
    const url = await personalUrl(leaver.id);
    const add = await run('onedrive.addOwner', { user: leaver.userPrincipalName, owner: manager.userPrincipalName });
    ok(add);
    assert.equal(add.output.url, url);
    assert.ok((await siteAdmins(url)).includes(manager.userPrincipalName.toLowerCase()));
    assert.equal((await run('onedrive.addOwner', { user: leaver.id, owner: manager.id })).output.changed, false);
    ok(await run('onedrive.removeOwner', { user: leaver.id, owner: manager.id }));
    assert.deepEqual(await siteAdmins(url), [leaver.userPrincipalName.toLowerCase()]);
    const noDrive = await env.newUser('od-owner');
    const refused = await run('onedrive.addOwner', { user: noDrive.id, owner: manager.id });
    assert.equal(refused.error?.code, 'OneDriveNotFound');
  });

  it('onedrive.setQuota', async () => {
    const user = people[7]!;
    const r = await run('onedrive.setQuota', { user: user.id, storageMaximumMB: 5_242_880, storageWarningMB: 5_000_000 });
    ok(r);
    const p = (await props(await personalUrl(user.id))).body;
    assert.deepEqual([p.StorageMaximumLevel, p.StorageWarningLevel], [5_242_880, 5_000_000]);
    assert.equal((await env.graph.api(`/users/${user.id}/drive`).get()).quota.total, 5_242_880 * 1_048_576);
  });

  it('onedrive.shareWith gives the manager access to the whole OneDrive or a folder', async () => {
    const [owner, manager] = [people[8]!, people[9]!];
    const drive = await env.graph.api(`/users/${owner.id}/drive`).get();
    await env.graph.api(`/drives/${drive.id}/root/children`).post({ name: 'Handover', folder: {} });
    const r = await env.run('onedrive.shareWith', { user: owner.userPrincipalName, with: manager.userPrincipalName, role: 'write', folder: 'Handover' });
    ok(r);
    const perms = (await env.graph.api(`/drives/${drive.id}/items/${r.output.itemId}/permissions`).get()).value;
    const p = perms.find((x: { id: string }) => x.id === r.output.permissionId);
    assert.deepEqual([p.grantedToV2.user.id, p.roles], [manager.id, ['write']]);
    const whole = await env.run('onedrive.shareWith', { user: owner.id, with: manager.id });
    ok(whole);
    const rootPerms = (await env.graph.api(`/drives/${drive.id}/root/permissions`).get()).value;
    assert.ok(rootPerms.some((x: { grantedToV2?: { user?: { id: string } }; roles: string[] }) => x.grantedToV2?.user?.id === manager.id && x.roles.includes('read')));
    const missing = await env.run('onedrive.shareWith', { user: owner.id, with: manager.id, folder: 'Nope' });
    assert.equal(missing.error?.code, 'ItemNotFound');
  });

  it('onedrive.addShortcut adds a shortcut to a site folder at the OneDrive root; a second run counts as done', async () => {
    const user = people[2]!;
    const group = [...env.sandbox.admin.store.groups.values()].find((g) => g.groupTypes.includes('Unified'))!;
    const site = await env.graph.api(`/groups/${group.id}/sites/root`).get();
    const library = await env.graph.api(`/sites/${site.id}/drive`).get();
    const general = (await env.graph.api(`/drives/${library.id}/root/children`).get()).value.find((c: { name: string }) => c.name === 'General');
    const r = await env.run('onedrive.addShortcut', { user: user.userPrincipalName, site: site.webUrl, folder: 'General', name: `${group.displayName} - General` });
    ok(r);
    assert.equal(r.output.added, true);
    const drive = await env.graph.api(`/users/${user.id}/drive`).get();
    const shortcut = (await env.graph.api(`/drives/${drive.id}/root/children`).get()).value.find((c: { id: string }) => c.id === r.output.shortcutId);
    assert.deepEqual([shortcut.name, shortcut.remoteItem.id, shortcut.remoteItem.parentReference.driveId], [`${group.displayName} - General`, general.id, library.id]);
    const again = await env.run('onedrive.addShortcut', { user: user.id, site: site.webUrl, folder: 'General' });
    assert.deepEqual([again.output.added, again.output.shortcutId], [false, r.output.shortcutId]);
  });
});
