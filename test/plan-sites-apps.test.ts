// Plans, recorded changes and undo of the SharePoint site and app registration actions (docs/plan.md):
// the plan shows before -> after and writes nothing, the step records the same, a second plan says
// "no change", and the inverse steps built from the record put the site or app back, read back
// through SharePoint REST (SPO.Tenant site properties, site users, the Owners group, deleted sites)
// and Graph (applications, owners, credentials, deleted applications, app role assignments). A new
// client secret's value is never in a plan or a record.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { catalog } from '../catalog/index.ts';
import { changesIn, isKnownAfterRun } from '../catalog/contract.ts';
import { secretBox } from '../m365/secret-box.ts';
import { sandboxSharePoint } from '../sandbox/testing.ts';
import { derBase64, makeCert } from './certs.ts';
import { ok, startActionsEnv, type ActionsEnv, type StepResult } from './actions-kit.ts';
import { planOf, roundTrip, rows } from './plan-kit.ts';

let env: ActionsEnv;
let sp: ReturnType<typeof sandboxSharePoint>;
let root: string;
let admin: string;
let owner: { id: string; userPrincipalName: string };

before(async () => {
  // Microsoft's delays at 1/20 (site provisioning); throttling has its own tests.
  env = await startActionsEnv({ secrets: secretBox(randomBytes(32)), sandbox: { timeScale: 20, throttling: false } });
  sp = sandboxSharePoint(env.sandbox);
  const name = env.sandbox.admin.store.info.initialDomain.split('.')[0]!.toLowerCase();
  [root, admin] = [`https://${name}.sharepoint.com`, `https://${name}-admin.sharepoint.com`];
  owner = await env.newUser('siteowner');
});
after(async () => env?.close());

const tag = () => randomUUID().slice(0, 8);
/** The inverse steps the undo runbook would hold for this finished step. */
function inverse(action: string, params: Record<string, unknown>, r: StepResult) {
  const contract = catalog.get(action)!;
  const reversal = contract.reverse!({ input: contract.input.parse(params), output: r.output, changes: changesIn(r.output)! });
  assert.ok('steps' in reversal, JSON.stringify(reversal));
  return reversal.steps;
}
const changesOf = (p: Awaited<ReturnType<typeof planOf>>) => {
  assert.ok(p && (p.outcome === 'changes' || p.outcome === 'would-fail'), JSON.stringify(p));
  return p.outcome === 'changes' || p.outcome === 'would-fail' ? (p.changes ?? []) : [];
};

describe('plans and undo of SharePoint sites (one at a time: the mutation log is the whole sandbox)', () => {
  const cert = { tenant: 'sandbox-cert' };
  const run = (action: string, params: Record<string, unknown>) => env.run(action, params, cert);
  const props = async (url: string) => (await sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url, includeDetail: true })).body;
  const exists = async (url: string) => (await sp('POST', `${admin}/_api/SPO.Tenant/GetSitePropertiesByUrl`, { url, includeDetail: true })).status === 200;
  const admins = (url: string) => async () => (await sp('GET', `${url}/_api/web/siteusers?$filter=IsSiteAdmin eq true`)).body.value.map((u: { UserPrincipalName: string }) => u.UserPrincipalName.toLowerCase()).sort();
  const owners = (url: string) => async () => (await sp('GET', `${url}/_api/web/AssociatedOwnerGroup/Users`)).body.value.map((u: { LoginName: string }) => u.LoginName.toLowerCase()).sort();
  const deleted = async (url: string) => (await sp('POST', `${admin}/_api/SPO.Tenant/GetDeletedSitePropertiesFromSharePoint`, { startIndex: '0' })).body.value.some((s: { Url: string }) => s.Url === url);
  const trip = (action: string, params: Record<string, unknown>, expected: string[], state: () => Promise<unknown>) => roundTrip(env, action, params, expected, state, cert);

  async function newSite(kind = 'communication'): Promise<string> {
    const r = await run('site.create', { title: `Plan ${tag()}`, alias: `plan-${tag()}`, template: kind, owner: owner.userPrincipalName });
    ok(r);
    return r.output.url;
  }

  it('site.create: the new site with its id known after the run; planned again, the address is taken; undone by deleting it', async () => {
    const alias = `plan-new-${tag()}`;
    const url = `${root}/sites/${alias}`;
    const params = { title: 'Launch', alias, owner: owner.userPrincipalName, description: 'Launch plans' };
    const planned = await planOf(env, 'site.create', params, cert);
    assert.equal(planned?.outcome, 'changes', JSON.stringify(planned));
    const expected = [
      `site ${url} | exists | false -> true`,
      `site ${url} | title | null -> "Launch"`,
      `site ${url} | template | null -> "SITEPAGEPUBLISHING#0"`,
      `site ${url} | owner | null -> "${owner.userPrincipalName}"`,
      `site ${url} | description | null -> "Launch plans"`,
      `site ${url} | language | null -> 1033`,
    ];
    assert.deepEqual(rows(changesOf(planned)), expected);
    assert.ok(changesOf(planned).every((c) => isKnownAfterRun(c.objectId) && c.objectId.$knownAfterRun === 'output.siteId'));
    assert.equal(await exists(url), false, 'the plan created nothing');
    const r = await run('site.create', params);
    ok(r);
    const recorded = changesIn(r.output)!;
    assert.deepEqual(rows(recorded), expected, 'the record is what the plan said');
    assert.ok(recorded.every((c) => c.objectId === r.output.siteId), 'the record carries the new site id');
    const p = await props(url);
    assert.deepEqual([p.Title, p.Template, p.Owner], ['Launch', 'SITEPAGEPUBLISHING#0', owner.userPrincipalName]);
    const again = await planOf(env, 'site.create', params, cert);
    assert.equal(again?.outcome === 'would-fail' && again.code, 'SiteAlreadyExists', JSON.stringify(again));
    const steps = inverse('site.create', params, r);
    assert.deepEqual(steps.map((s) => [s.action, s.params]), [['site.delete', { site: url }]]);
    for (const s of steps) ok(await run(s.action, s.params));
    assert.equal(await exists(url), false, 'the undo took the site away again');
  });

  it('site.addAdmin / removeAdmin: admin false -> true and back; the primary admin cannot be removed', async () => {
    const url = await newSite();
    const u = await env.newUser('siteadmin');
    const upn = u.userPrincipalName;
    await trip('site.addAdmin', { site: url, user: upn }, [`site ${url} | admin ${upn} | false -> true`], admins(url));
    ok(await run('site.addAdmin', { site: url, user: upn }));
    await trip('site.removeAdmin', { site: url, user: u.id }, [`site ${url} | admin ${upn} | true -> false`], admins(url));
    const primary = await planOf(env, 'site.removeAdmin', { site: url, user: owner.id }, cert);
    assert.equal(primary?.outcome === 'would-fail' && primary.code, 'PrimaryAdmin', JSON.stringify(primary));
  });

  it('site.addOwner / removeOwner: the Owners group, and back', async () => {
    const url = await newSite('team');
    const u = await env.newUser('siteowner2');
    await trip('site.addOwner', { site: url, user: u.userPrincipalName }, [`site ${url} | owner ${u.userPrincipalName} | false -> true`], owners(url));
    ok(await run('site.addOwner', { site: url, user: u.id }));
    await trip('site.removeOwner', { site: url, user: u.id }, [`site ${url} | owner ${u.userPrincipalName} | true -> false`], owners(url));
 
    // A group-connected site: its owners are the group's, and a new owner joins as a member too.
    const nick = `plansite${tag()}`;
    const g = await env.run('group.createM365', { displayName: `Plan group ${nick}`, mailNickname: nick, owners: [owner.userPrincipalName] });
    ok(g);
    const groupUrl = `${root}/sites/${nick}`;
    const roles = async () => {
      const ids = async (rel: string) => (await env.graph.api(`/groups/${g.output.id}/${rel}`).get()).value.map((x: { id: string }) => x.id).sort();
      return [await ids('owners'), await ids('members')];
    };
    const grp = `group Plan group ${nick}`;
    await trip('site.addOwner', { site: groupUrl, user: u.id }, [`${grp} | owner ${u.userPrincipalName} | false -> true`, `${grp} | member ${u.userPrincipalName} | false -> true`], roles);
  });

  it('site.setQuota, setSharing, lock, unlock, setOwner: properties before -> after, undone to the recorded values', async () => {
    const url = await newSite();
    const before = await props(url);
    const quota = async () => [(await props(url)).StorageMaximumLevel, (await props(url)).StorageWarningLevel];
    await trip('site.setQuota', { site: url, storageMaximumMB: 2048 }, [`site ${url} | storageMaximumMB | ${before.StorageMaximumLevel} -> 2048`, `site ${url} | storageWarningMB | ${before.StorageWarningLevel} -> 1843`], quota);
    const bad = await planOf(env, 'site.setQuota', { site: url, storageMaximumMB: 100, storageWarningMB: 200 }, cert);
    assert.equal(bad?.outcome, 'would-fail');

    const sharing = async () => {
      const p = await props(url);
      return [p.SharingCapability, p.DefaultSharingLinkType, p.DefaultLinkPermission, p.OverrideTenantExternalUserExpirationPolicy ? p.ExternalUserExpirationInDays : 0];
    };
    const planned = await planOf(env, 'site.setSharing', { site: url, sharing: 'Disabled', defaultLinkPermission: 'edit', guestAccessExpiresAfterDays: 60 }, cert);
    const expectedSharing = rows(changesOf(planned));
    assert.ok(expectedSharing.includes(`site ${url} | guestAccessExpiresAfterDays | 0 -> 60`), expectedSharing.join('\n'));
    assert.ok(expectedSharing.some((r) => r.startsWith(`site ${url} | sharing | `) && r.endsWith('-> "Disabled"')));
    await trip('site.setSharing', { site: url, sharing: 'Disabled', defaultLinkPermission: 'edit', guestAccessExpiresAfterDays: 60 }, expectedSharing, sharing);

    const lockState = async () => (await props(url)).LockState;
    await trip('site.lock', { site: url, lockState: 'ReadOnly' }, [`site ${url} | lockState | "Unlock" -> "ReadOnly"`], lockState);
    ok(await run('site.lock', { site: url, lockState: 'NoAccess' }));
    await trip('site.unlock', { site: url }, [`site ${url} | lockState | "NoAccess" -> "Unlock"`], lockState);
    ok(await run('site.unlock', { site: url }));

    const next = await env.newUser('newprimary');
    const primary = async () => [(await props(url)).Owner.toLowerCase(), await admins(url)()];
    await trip('site.setOwner', { site: url, user: next.id }, [`site ${url} | owner | "${owner.userPrincipalName}" -> "${next.userPrincipalName}"`, `site ${url} | admin ${next.userPrincipalName} | false -> true`], primary);
  });

  it('site.delete / restore: exists true -> false (restorable) and back; site.purge is irreversible', async () => {
    const url = await newSite();
    const state = async () => [await exists(url), await deleted(url)];
    await trip('site.delete', { site: url }, [`site ${url} | exists | true -> false`], state);
    ok(await run('site.delete', { site: url }));
    await trip('site.restore', { site: url }, [`site ${url} | exists | false -> true`], state);

    ok(await run('site.delete', { site: url }));
    const live = await planOf(env, 'site.purge', { site: `${root}/sites/none-${tag()}` }, cert);
    assert.equal(live?.outcome, 'no-change', 'a site that is gone counts as done');
    const planned = await planOf(env, 'site.purge', { site: url }, cert);
    assert.deepEqual(rows(changesOf(planned)), [`site ${url} | inDeletedSites | true -> false`]);
    assert.match(changesOf(planned)[0]!.note ?? '', /cannot be undone/);
    const r = await run('site.purge', { site: url });
    ok(r);
    assert.deepEqual(rows(changesIn(r.output)!), rows(changesOf(planned)));
    assert.equal(await deleted(url), false);
    assert.equal((await planOf(env, 'site.purge', { site: url }, cert))?.outcome, 'no-change');
    assert.match(catalog.get('site.purge')!.irreversible ?? '', /gone for good/);
  });
});

describe('plans and undo of app registrations and enterprise apps (one at a time)', () => {
  const name = (t: string) => `Plan ${t} ${tag()}`;
  const readApp = (id: string) => env.graph.api(`/applications/${id}`).get();
  async function newApp(t: string, body: Record<string, unknown> = {}) {
    const app = await env.graph.api('/applications').post({ displayName: name(t), ...body });
    const sp = await env.graph.api('/servicePrincipals').post({ appId: app.appId });
    return { id: app.id as string, appId: app.appId as string, displayName: app.displayName as string, spId: sp.id as string };
  }
  const isLive = async (id: string) => (await env.graph.api('/applications').filter(`id eq '${id}'`).get()).value.length === 1;
  const isDeleted = async (id: string) => (await env.graph.api('/directory/deletedItems/microsoft.graph.application').get()).value.some((a: { id: string }) => a.id === id);
  const secrets = (id: string) => async () => ((await readApp(id)).passwordCredentials as { keyId: string }[]).map((p) => p.keyId).sort();
  const certs = (id: string) => async () => ((await env.graph.api(`/applications/${id}`).select('id,keyCredentials').get()).keyCredentials as { keyId: string }[]).map((k) => k.keyId).sort();

  it('app.create: the app, its owner and enterprise app known after the run; planned again the name is taken; undone by deleting it', async () => {
    const u = await env.newUser('appowner');
    const displayName = name('Create');
    const params = { displayName, notes: 'HR system', redirectUris: ['https://hr.contoso.com/auth'], owners: [u.userPrincipalName] };
    const planned = await planOf(env, 'app.create', params);
    const o = `app registration ${displayName}`;
    const expected = [
      `${o} | exists | false -> true`,
      `${o} | displayName | null -> "${displayName}"`,
      `${o} | signInAudience | null -> "AzureADMyOrg"`,
      `${o} | redirectUris | null -> ["https://hr.contoso.com/auth"]`,
      `${o} | notes | null -> "HR system"`,
      `${o} | owner ${u.userPrincipalName} | false -> true`,
      `enterprise app ${displayName} | exists | false -> true`,
    ];
    assert.deepEqual(rows(changesOf(planned)), expected);
    assert.ok(changesOf(planned).every((c) => isKnownAfterRun(c.objectId)));
    const r = await env.run('app.create', params);
    ok(r);
    const recorded = changesIn(r.output)!;
    assert.deepEqual(rows(recorded), expected);
    assert.equal(recorded[0]!.objectId, r.output.id);
    assert.equal(recorded.at(-1)!.objectId, r.output.servicePrincipalId);
    const again = await planOf(env, 'app.create', params);
    assert.equal(again?.outcome === 'would-fail' && again.code, 'ObjectConflict', JSON.stringify(again));
    for (const s of inverse('app.create', params, r)) ok(await env.run(s.action, s.params));
    assert.deepEqual([await isLive(r.output.id), await isDeleted(r.output.id)], [false, true]);
  });

  it('app.update: properties before -> after, undone to the recorded values', async () => {
    const a = await newApp('Update', { notes: 'old notes', web: { redirectUris: ['https://old.contoso.com/cb'] } });
    const renamed = name('Renamed');
    const state = async () => {
      const app = await readApp(a.id);
      return [app.displayName, app.notes, app.web.redirectUris];
    };
    await roundTrip(
      env,
      'app.update',
      { app: a.id, displayName: renamed, notes: 'new notes', redirectUris: ['https://new.contoso.com/cb'] },
      [`app registration ${a.displayName} | displayName | "${a.displayName}" -> "${renamed}"`, `app registration ${a.displayName} | notes | "old notes" -> "new notes"`, `app registration ${a.displayName} | redirectUris | ["https://old.contoso.com/cb"] -> ["https://new.contoso.com/cb"]`],
      state,
    );
  });

  it('app.delete / restore: exists true -> false (restorable) and back', async () => {
    const a = await newApp('Delete');
    const state = async () => [await isLive(a.id), await isDeleted(a.id)];
    await roundTrip(env, 'app.delete', { app: a.id }, [`app registration ${a.displayName} | exists | true -> false`], state);
    ok(await env.run('app.delete', { app: a.id }));
    await roundTrip(env, 'app.restore', { app: a.id }, [`app registration ${a.displayName} | exists | false -> true`], state);
  });

  it('app.addSecret: key id, description and expiry known after the run, never the value; undone by removing that secret', async () => {
    const a = await newApp('Secret');
    const before = await secrets(a.id)();
    const params = { app: a.id, displayName: 'payroll sync', expiresInDays: 30 };
    const planned = changesOf(await planOf(env, 'app.addSecret', params));
    assert.deepEqual(
      planned.map((c) => [c.object, c.property, c.before, Object.entries(c.after as object).map(([k, v]) => `${k}: ${isKnownAfterRun(v) ? v.$knownAfterRun : v}`)]),
      [[`app registration ${a.displayName}`, 'client secret payroll sync', null, ['keyId: output.keyId', 'displayName: output.displayName', 'endDateTime: output.endDateTime']]],
    );
    const r = await env.run('app.addSecret', params);
    ok(r);
    const recorded = changesIn(r.output)!;
    assert.deepEqual(recorded[0]!.after, { keyId: r.output.keyId, displayName: r.output.displayName, endDateTime: r.output.endDateTime });
    assert.ok(!JSON.stringify(recorded).includes(r.output.hint), 'not even the hint of the secret is recorded');
    // Every run adds one more secret: planned again, it still adds one.
    assert.equal((await planOf(env, 'app.addSecret', params))?.outcome, 'changes');
    for (const s of inverse('app.addSecret', params, r)) ok(await env.run(s.action, s.params));
    assert.deepEqual(await secrets(a.id)(), before, 'the undo removed the secret again');
  });

  it('app.removeSecret and removeExpiredCredentials: what goes, irreversible; then no change', async () => {
    const a = await newApp('Remove');
    const day = 86_400_000;
    const keep = await env.graph.api(`/applications/${a.id}/addPassword`).post({ passwordCredential: { displayName: 'keep', endDateTime: new Date(Date.now() + 300 * day).toISOString() } });
    const drop = await env.graph.api(`/applications/${a.id}/addPassword`).post({ passwordCredential: { displayName: 'drop', endDateTime: new Date(Date.now() + 300 * day).toISOString() } });
    const o = `app registration ${a.displayName}`;
    const planned = changesOf(await planOf(env, 'app.removeSecret', { app: a.id, displayName: 'drop' }));
    assert.deepEqual(rows(planned), [`${o} | client secret drop | ${JSON.stringify({ keyId: drop.keyId, displayName: 'drop', endDateTime: drop.endDateTime })} -> null`]);
    assert.ok(!JSON.stringify(planned).includes(drop.secretText), 'a secret value is never in a plan');
    const r = await env.run('app.removeSecret', { app: a.id, displayName: 'drop' });
    ok(r);
    assert.deepEqual(rows(changesIn(r.output)!), rows(planned));
    assert.deepEqual(await secrets(a.id)(), [keep.keyId]);
    assert.equal((await planOf(env, 'app.removeSecret', { app: a.id, displayName: 'drop' }))?.outcome, 'no-change');
    assert.match(catalog.get('app.removeSecret')!.irreversible ?? '', /cannot come back/);

    const expired = await env.graph.api(`/applications/${a.id}/addPassword`).post({ passwordCredential: { displayName: 'old', startDateTime: new Date(Date.now() - 30 * day).toISOString(), endDateTime: new Date(Date.now() - day).toISOString() } });
    const oldCert = makeCert('expired-cert', { notBefore: new Date(Date.now() - 60 * day), notAfter: new Date(Date.now() - 2 * day) });
    await env.graph.api(`/applications/${a.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: derBase64(oldCert.certPem), displayName: 'CN=expired-cert' }] });
    const stale = changesOf(await planOf(env, 'app.removeExpiredCredentials', { app: a.id }));
    assert.deepEqual(stale.map((c) => [c.property.startsWith('client secret') ? 'client secret' : c.property.startsWith('certificate ') ? 'certificate' : c.property, (c.before as { keyId: string }).keyId === expired.keyId]), [['client secret', true], ['certificate', false]]);
    const rx = await env.run('app.removeExpiredCredentials', { app: a.id });
    ok(rx);
    assert.deepEqual(rows(changesIn(rx.output)!), rows(stale));
    assert.deepEqual([await secrets(a.id)(), await certs(a.id)()], [[keep.keyId], []]);
    assert.equal((await planOf(env, 'app.removeExpiredCredentials', { app: a.id }))?.outcome, 'no-change');
  });

  it('app.addCertificate: the certificate by thumbprint, undone by removing it; removeCertificate is irreversible', async () => {
    const a = await newApp('Cert');
    const c = makeCert('plan-cert');
    const params = { app: a.id, certificate: c.certPem, displayName: 'CN=plan-cert' };
    const planned = changesOf(await planOf(env, 'app.addCertificate', params));
    assert.equal(planned.length, 1);
    assert.match(planned[0]!.property, /^certificate [0-9A-F]{40}$/);
    assert.ok(isKnownAfterRun((planned[0]!.after as { keyId: unknown }).keyId));
    const before = await certs(a.id)();
    const r = await env.run('app.addCertificate', params);
    ok(r);
    const recorded = changesIn(r.output)!;
    assert.deepEqual(recorded, [{ ...planned[0]!, objectId: a.id, after: { ...(planned[0]!.after as object), keyId: r.output.keyId } }], 'the record is the plan, with the new key id');
    assert.equal((await planOf(env, 'app.addCertificate', params))?.outcome, 'no-change');
    for (const s of inverse('app.addCertificate', params, r)) ok(await env.run(s.action, s.params));
    assert.deepEqual(await certs(a.id)(), before, 'the undo removed the certificate');
    ok(await env.run('app.addCertificate', params));
    const removal = changesOf(await planOf(env, 'app.removeCertificate', { app: a.id, certificate: r.output.thumbprint }));
    assert.deepEqual(rows(removal).map((x) => x.replace(/\{.*\}/, '{...}')), [`app registration ${a.displayName} | certificate ${r.output.thumbprint} | {...} -> null`]);
    const rr = await env.run('app.removeCertificate', { app: a.id, certificate: r.output.thumbprint });
    ok(rr);
    assert.deepEqual(rows(changesIn(rr.output)!), rows(removal));
    assert.deepEqual(await certs(a.id)(), []);
    assert.equal((await planOf(env, 'app.removeCertificate', { app: a.id, certificate: r.output.thumbprint }))?.outcome, 'no-change');
    assert.ok(catalog.get('app.removeCertificate')!.irreversible);
  });

  it('app.addOwner / removeOwner: owner false -> true and back', async () => {
    const a = await newApp('Owner');
    const u = await env.newUser('appowner2');
    const ownersOf = async () => (await env.graph.api(`/applications/${a.id}/owners`).get()).value.map((o: { id: string }) => o.id).sort();
    await roundTrip(env, 'app.addOwner', { app: a.displayName, user: u.userPrincipalName }, [`app registration ${a.displayName} | owner ${u.userPrincipalName} | false -> true`], ownersOf);
    ok(await env.run('app.addOwner', { app: a.id, user: u.id }));
    await roundTrip(env, 'app.removeOwner', { app: a.appId, user: u.id }, [`app registration ${a.displayName} | owner ${u.userPrincipalName} | true -> false`], ownersOf);
  });

  it('app.assignUser / unassignUser / assignGroup / unassignGroup: assignments with their role, and back', async () => {
    const roleId = randomUUID();
    const a = await newApp('Assign', { appRoles: [{ id: roleId, allowedMemberTypes: ['User'], displayName: 'Approver', value: 'Approver', isEnabled: true }] });
    const u = await env.newUser('assignee');
    const e = `enterprise app ${a.displayName}`;
    const ofUser = async () => (await env.graph.api(`/users/${u.id}/appRoleAssignments`).get()).value.filter((x: { resourceId: string }) => x.resourceId === a.spId).map((x: { appRoleId: string }) => x.appRoleId);
    await roundTrip(env, 'app.assignUser', { app: a.displayName, user: u.userPrincipalName, appRole: 'approver' }, [`${e} | assignment ${u.userPrincipalName} as Approver | false -> true`], ofUser);
    ok(await env.run('app.assignUser', { app: a.appId, user: u.id, appRole: roleId }));
    await roundTrip(env, 'app.unassignUser', { app: a.spId, user: u.id }, [`${e} | assignment ${u.userPrincipalName} as Approver | true -> false`], ofUser);
    const missing = await planOf(env, 'app.assignUser', { app: a.spId, user: u.id, appRole: 'Admin' });
    assert.equal(missing?.outcome === 'would-fail' && missing.code, 'AppRoleNotFound', JSON.stringify(missing));

    const plain = await newApp('Default');
    const g = await env.graph.api('/groups').post({ displayName: name('Assigned'), mailNickname: `assigned${tag()}`, mailEnabled: false, securityEnabled: true });
    const ofGroup = async () => (await env.graph.api(`/groups/${g.id}/appRoleAssignments`).get()).value.filter((x: { resourceId: string }) => x.resourceId === plain.spId).map((x: { appRoleId: string }) => x.appRoleId);
    const pe = `enterprise app ${plain.displayName}`;
    await roundTrip(env, 'app.assignGroup', { app: plain.appId, group: g.id }, [`${pe} | assignment ${g.displayName} as Default Access | false -> true`], ofGroup);
    ok(await env.run('app.assignGroup', { app: plain.appId, group: g.id }));
    await roundTrip(env, 'app.unassignGroup', { app: plain.spId, group: g.displayName }, [`${pe} | assignment ${g.displayName} as Default Access | true -> false`], ofGroup);
  });
});
