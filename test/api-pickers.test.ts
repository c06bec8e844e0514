// The form pickers' lookup routes (GET /api/tenants/:name/{mailboxes, shared-mailboxes, devices,
// teams, teams/:team/channels, sites, onedrives, applications, domains}) against the sandbox: what
// they answer is what Graph and Exchange hold, a search term narrows it, the page is bounded, and a
// person with a role only on another tenant is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createExchangeClient, type ExchangeClient } from '../m365/exchange.ts';
import { startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const OWN = 'acme';
const OTHER = 'globex';
let env: TestEnv;
let api: ApiServer;
let exo: ExchangeClient;
let viewer: Caller;
let stranger: Caller;

type Option = { id: string; value: string; label: string; detail?: string };
const pick = async (path: string, who: Caller = viewer): Promise<Option[]> => {
  const r = await who.call('GET', `/api/tenants/${OWN}/${path}`);
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
  return r.body as Option[];
};
const sorted = (xs: string[]) => [...xs].sort();
const graphAll = async (path: string, select: string, extra: (r: any) => any = (r) => r) => {
  const out: Record<string, any>[] = [];
  let res = await extra(env.graph.api(path).select(select).top(999)).get();
  out.push(...res.value);
  while (res['@odata.nextLink']) {
    res = await env.graph.api(res['@odata.nextLink']).get();
    out.push(...res.value);
  }
  return out;
};

before(async () => {
  env = await startTestEnv({ worker: false });
  api = await startApiServer(env);
  exo = createExchangeClient(env.tenant);
  for (const name of [OWN, OTHER]) {
    const t = env.tenant;
    const r = await api.admin.call('POST', '/api/tenants', { name, tenantId: t.tenantId, clientId: t.clientId, clientSecret: t.clientSecret, authorityHost: t.authorityHost, graphUrl: t.graphUrl, caPem: t.caPem });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  viewer = await api.as('pick.viewer@tenantflow.test', [{ tenant: OWN, role: 'viewer' }]);
  stranger = await api.as('pick.stranger@tenantflow.test', [{ tenant: OTHER, role: 'operator' }]);
});
after(async () => {
  await api?.close();
  await env?.close();
});

describe('form pickers', () => {
  it('mailboxes: every mailbox Get-Mailbox lists, narrowed by ambiguous name resolution; shared mailboxes only the shared ones', async () => {
    for (const name of ['Pick Shared Helpdesk', 'Pick Shared Billing']) await exo.invoke('New-Mailbox', { Name: name, Shared: true });
    const all = await exo.invoke<Record<string, string>>('Get-Mailbox', { ResultSize: 'Unlimited' });
    const page = await pick('mailboxes?top=100');
    assert.equal(page.length, Math.min(100, all.length));
    const byUpn = new Map(all.map((m) => [m.UserPrincipalName!, m]));
    for (const o of page) {
      const m = byUpn.get(o.value);
      assert.ok(m, `${o.value} is a mailbox`);
      assert.equal(o.label, m.DisplayName);
      assert.match(o.detail!, new RegExp(m.RecipientTypeDetails!));
    }
    assert.equal((await pick('mailboxes?top=3')).length, 3, 'the page is bounded');

    const someone = all.find((m) => m.RecipientTypeDetails === 'UserMailbox')!;
    const found = await pick(`mailboxes?search=${encodeURIComponent(someone.DisplayName!)}`);
    assert.ok(found.some((o) => o.value === someone.UserPrincipalName), 'the display name finds the mailbox');
    assert.ok(found.length < all.length, 'the search narrows');
    for (const o of found) assert.ok(o.label.toLowerCase().startsWith(someone.DisplayName!.toLowerCase()) || o.value.toLowerCase().startsWith(someone.DisplayName!.toLowerCase()), `${o.label} matches`);

    const shared = await pick('shared-mailboxes?top=100');
    const exoShared = all.filter((m) => m.RecipientTypeDetails === 'SharedMailbox').map((m) => m.UserPrincipalName!);
    assert.ok(exoShared.length >= 2);
    assert.deepEqual(sorted(shared.map((o) => o.value)), sorted(exoShared));
    const billing = await pick('shared-mailboxes?search=Pick%20Shared%20B');
    assert.deepEqual(billing.map((o) => o.label), ['Pick Shared Billing']);
  });

  it('devices: Intune managed devices, narrowed by the start of the device name; the value is the Intune device id', async () => {
    const devices = await graphAll('/deviceManagement/managedDevices', 'id,deviceName');
    assert.ok(devices.length > 3);
    const page = await pick('devices?top=100');
    assert.deepEqual(page.map((o) => o.value), devices.slice(0, 100).map((d) => d.id));
    const names = new Map(devices.map((d) => [d.id, d.deviceName]));
    for (const o of page) assert.equal(o.label, names.get(o.value));
    const one = devices[0]!;
    const found = await pick(`devices?search=${encodeURIComponent(one.deviceName)}`);
    assert.deepEqual(found.map((o) => o.value), devices.filter((d) => d.deviceName.toLowerCase().startsWith(one.deviceName.toLowerCase())).map((d) => d.id));
    assert.equal((await pick('devices?top=2')).length, 2);
  });

  it("teams and a team's channels: only groups provisioned as a team; channels by team id or exact name", async () => {
    const teams = await graphAll('/groups', 'id,displayName', (r) => r.filter("resourceProvisioningOptions/Any(x:x eq 'Team')"));
    assert.ok(teams.length > 0);
    const page = await pick('teams?top=100');
    assert.deepEqual(sorted(page.map((o) => o.value)), sorted(teams.map((t) => t.id)));
    const team = teams[0]!;
    await env.graph.api(`/teams/${team.id}/channels`).post({ displayName: 'Pick Planning', membershipType: 'standard' });
    const channels = (await env.graph.api(`/teams/${team.id}/channels`).get()).value as { id: string; displayName: string }[];
    const listed = await pick(`teams/${team.id}/channels`);
    assert.deepEqual(sorted(listed.map((o) => o.value)), sorted(channels.map((c) => c.id)));
    assert.deepEqual((await pick(`teams/${encodeURIComponent(team.displayName)}/channels?search=plan`)).map((o) => o.label), ['Pick Planning']);
    assert.deepEqual(await pick('teams/No%20such%20team/channels'), []);
    const searched = await pick(`teams?search=${encodeURIComponent(team.displayName.split(' ')[0]!)}`);
    assert.ok(searched.some((o) => o.value === team.id));
    // $search matches the start of a word of the display name.
    const word = team.displayName.split(' ')[0]!.toLowerCase();
    for (const o of searched) assert.ok(o.label.toLowerCase().split(/\s+/).some((w) => w.startsWith(word)), `${o.label} matches ${word}`);
    const groups = (await env.graph.api('/groups').select('id').top(999).get()).value as { id: string }[];
    assert.ok(groups.length > teams.length, 'groups that are not teams are left out');
  });

  it("sites: Graph's site search; the value is the site's address", async () => {
    const all = (await env.graph.api('/sites').query({ search: '*' }).top(999).select('id,webUrl,displayName').get()).value as { webUrl: string; displayName: string }[];
    const page = await pick('sites?top=100');
    assert.deepEqual(page.map((o) => o.value), all.slice(0, 100).map((s) => s.webUrl));
    const one = all.find((s) => s.displayName)!;
    const term = one.displayName.split(' ')[0]!;
    const graphHits = (await env.graph.api('/sites').query({ search: term }).top(999).select('webUrl').get()).value as { webUrl: string }[];
    const found = await pick(`sites?search=${encodeURIComponent(term)}`);
    assert.deepEqual(sorted(found.map((o) => o.value)), sorted(graphHits.map((s) => s.webUrl)));
    assert.ok(found.some((o) => o.value === one.webUrl));
  });

  it('OneDrives: users who have one, with its address; the value is the user principal name', async () => {
    const page = await pick('onedrives?top=10');
    assert.ok(page.length > 0);
    for (const o of page) {
      const drive = await env.graph.api(`/users/${encodeURIComponent(o.value)}/drive`).select('id,webUrl').get();
      assert.equal(o.detail, drive.webUrl);
      assert.equal(o.id, drive.id);
    }
    const u = (await env.graph.api(`/users/${encodeURIComponent(page[0]!.value)}`).select('displayName').get()) as { displayName: string };
    const found = await pick(`onedrives?search=${encodeURIComponent(u.displayName)}`);
    assert.ok(found.some((o) => o.value === page[0]!.value));
    assert.ok(found.length < page.length || found.length === 1);
    // A new user without a licence has no OneDrive: a user, but not a OneDrive to pick.
    const domain = page[0]!.value.split('@')[1]!;
    await env.graph.api('/users').post({ accountEnabled: true, displayName: 'Pick Nodrive', mailNickname: 'pick.nodrive', userPrincipalName: `pick.nodrive@${domain}`, passwordProfile: { password: 'Xy!23456789abc' } });
    await assert.rejects(env.graph.api(`/users/pick.nodrive@${domain}/drive`).get(), (e: { statusCode?: number }) => e.statusCode === 404);
    assert.deepEqual((await pick('users?search=Pick%20Nodrive')).map((o) => o.value), [`pick.nodrive@${domain}`]);
    assert.deepEqual(await pick('onedrives?search=Pick%20Nodrive'), []);
  });

  it('app registrations and domains: as Graph lists them, narrowed by the term', async () => {
    const created = await env.graph.api('/applications').post({ displayName: 'Pick Payroll Connector' });
    const apps = await graphAll('/applications', 'id,appId,displayName');
    const page = await pick('applications?top=100');
    assert.deepEqual(sorted(page.map((o) => o.value)), sorted(apps.map((a) => a.appId)));
    assert.deepEqual((await pick('applications?search=Payroll')).map((o) => o.value), [created.appId]);

    const domains = (await env.graph.api('/domains').get()).value as { id: string }[];
    assert.deepEqual(sorted((await pick('domains')).map((o) => o.value)), sorted(domains.map((d) => d.id)));
    const onms = domains.find((d) => d.id.endsWith('.onmicrosoft.com'))!;
    assert.deepEqual((await pick('domains?search=onmicrosoft')).map((o) => o.value), domains.filter((d) => d.id.includes('onmicrosoft')).map((d) => d.id));
    assert.ok(onms);
  });

  it('an app without the permission hears 502 (the tenant refused) with what to grant', async () => {
    const app = env.sandbox.admin.createApp({ permissions: ['User.Read.All'], displayName: 'Pickers without Exchange' });
    const t = env.tenant;
    assert.equal((await api.admin.call('POST', '/api/tenants', { name: 'bare', tenantId: app.tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: t.authorityHost, graphUrl: t.graphUrl, caPem: t.caPem })).status, 201);
    const mail = await api.admin.call('GET', '/api/tenants/bare/mailboxes');
    assert.equal(mail.status, 502);
    assert.match(mail.body.error, /Exchange\.ManageAsApp/);
    const devices = await api.admin.call('GET', '/api/tenants/bare/devices');
    assert.equal(devices.status, 502);
    assert.match(devices.body.error, /did not answer/);
    assert.equal((await api.admin.call('GET', '/api/tenants/bare/users?top=1')).status, 200);
  });

  it("another tenant's people are refused every picker", async () => {
    const team = (await pick('teams?top=1'))[0]!;
    for (const path of ['mailboxes', 'shared-mailboxes', 'devices', 'teams', `teams/${team.value}/channels`, 'sites', 'onedrives', 'applications', 'domains']) {
      const r = await stranger.call('GET', `/api/tenants/${OWN}/${path}`);
      assert.equal(r.status, 404, `${path}: ${r.status}`);
      assert.match(r.body.error, /does not exist/);
      assert.equal((await stranger.call('GET', `/api/tenants/${OTHER}/${path.replace(OWN, OTHER)}`)).status, 200, `${path} on the caller's own tenant`);
    }
  });
});
