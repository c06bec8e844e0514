// Conformance of the sandbox's identity endpoints and Graph directory surface, driven by the real
// @azure/identity and @microsoft/microsoft-graph-client, asserting what Microsoft documents.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientSecretCredential } from '@azure/identity';
import { PageIterator, type Client, type GraphError } from '@microsoft/microsoft-graph-client';
import { startSandbox, trustSandboxCa, type Sandbox } from '../sandbox/index.ts';
import { sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 7, users: 60 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

async function graphError(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (err) {
    return err as GraphError;
  }
  assert.fail('expected the call to fail');
}

const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const E5 = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';
const password = 'Xw9!correct-horse';

function newUserBody(nick: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accountEnabled: true,
    displayName: `Test ${nick}`,
    mailNickname: nick,
    userPrincipalName: `${nick}@${sb.tenant.domain}`,
    passwordProfile: { password, forceChangePasswordNextSignIn: true },
    ...extra,
  };
}

describe('identity platform', () => {
  test('ClientSecretCredential gets a Graph token carrying the app roles', async () => {
    trustSandboxCa(sb.caPem);
    const cred = new ClientSecretCredential(sb.tenant.tenantId, sb.tenant.clientId, sb.tenant.clientSecret, { authorityHost: sb.url, disableInstanceDiscovery: true });
    const token = await cred.getToken('https://graph.microsoft.com/.default');
    const claims = JSON.parse(Buffer.from(token.token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.aud, 'https://graph.microsoft.com');
    assert.equal(claims.tid, sb.tenant.tenantId);
    assert.equal(claims.appid, sb.tenant.clientId);
    assert.equal(claims.idtyp, 'app');
    assert.ok(claims.roles.includes('User.ReadWrite.All'));
    assert.ok(token.expiresOnTimestamp > Date.now() + 3000_000);
  });

  test('a wrong secret is AADSTS7000215 invalid_client', async () => {
    const cred = new ClientSecretCredential(sb.tenant.tenantId, sb.tenant.clientId, 'not-the-secret', { authorityHost: sb.url, disableInstanceDiscovery: true });
    await assert.rejects(cred.getToken('https://graph.microsoft.com/.default'), /AADSTS7000215/);
  });

  test('an unknown client id is AADSTS700016, an unknown tenant AADSTS90002', async () => {
    const unknownApp = new ClientSecretCredential(sb.tenant.tenantId, '11111111-1111-4111-8111-111111111111', 'x', { authorityHost: sb.url, disableInstanceDiscovery: true });
    await assert.rejects(unknownApp.getToken('https://graph.microsoft.com/.default'), /AADSTS700016/);
    const res = await fetch(`${sb.url}/22222222-2222-4222-8222-222222222222/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sb.tenant.clientId, client_secret: sb.tenant.clientSecret, scope: 'https://graph.microsoft.com/.default' }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; error_codes: number[] };
    assert.equal(body.error, 'invalid_request');
    assert.deepEqual(body.error_codes, [90002]);
  });

  test('the tenant domain works as the tenant id, and a scope without /.default is invalid_scope', async () => {
    const form = (scope: string) => new URLSearchParams({ grant_type: 'client_credentials', client_id: sb.tenant.clientId, client_secret: sb.tenant.clientSecret, scope });
    const ok = await fetch(`${sb.url}/${sb.tenant.domain}/oauth2/v2.0/token`, { method: 'POST', body: form('https://graph.microsoft.com/.default') });
    assert.equal(ok.status, 200);
    const bad = await fetch(`${sb.url}/${sb.tenant.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: form('User.Read.All') });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_scope');
  });

  test('Graph answers 401 InvalidAuthenticationToken without a token or with a forged one', async () => {
    const none = await fetch(`${sb.graphBaseUrl}/users`);
    assert.equal(none.status, 401);
    assert.ok(none.headers.get('www-authenticate')?.startsWith('Bearer'));
    const body = (await none.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'InvalidAuthenticationToken');
    assert.equal(body.error.message, 'Access token is empty.');
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ aud: 'https://graph.microsoft.com', tid: sb.tenant.tenantId, roles: ['Directory.ReadWrite.All'], exp: 9999999999 })).toString('base64url');
    const forged = await fetch(`${sb.graphBaseUrl}/users`, { headers: { authorization: `Bearer ${header}.${claims}.c2lnbmF0dXJl` } });
    assert.equal(forged.status, 401);
  });
});

describe('errors', () => {
  test('Graph error body: code, message, innerError with request-id, date and the client-request-id', async () => {
    const err = await graphError(graph.api('/users/00000000-0000-4000-8000-000000000000').header('client-request-id', 'my-correlation-id').get());
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'Request_ResourceNotFound');
    assert.equal(err.message, "Resource '00000000-0000-4000-8000-000000000000' does not exist or one of its queried reference-property objects are not present.");
    const body = err.body ? JSON.parse(err.body as string) : undefined;
    assert.equal(body.code, 'Request_ResourceNotFound');
    assert.equal(body.innerError['client-request-id'], 'my-correlation-id');
    assert.match(body.innerError['request-id'], /^[0-9a-f-]{36}$/);
    assert.match(body.innerError.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  });

  test('an unknown segment is 400 BadRequest, /me is delegated-only', async () => {
    const unknown = await graphError(graph.api('/nosuchthing').get());
    assert.equal(unknown.statusCode, 400);
    const me = await graphError(graph.api('/me').get());
    assert.equal(me.statusCode, 400);
    assert.match(me.message, /delegated authentication flow/);
  });
});

describe('users', () => {
  test('create answers 201 with the default properties; get by id and by UPN', async () => {
    const created = await graph.api('/users').post(newUserBody('ada.lovelace', { department: 'Engineering', usageLocation: 'GB' }));
    assert.match(created.id, /^[0-9a-f-]{36}$/);
    assert.equal(created.userPrincipalName, `ada.lovelace@${sb.tenant.domain}`);
    assert.equal(created.mail, null, 'no mailbox until a licence with Exchange is assigned');
    assert.equal(created.department, undefined, 'department is not a default property');
    const byId = await graph.api(`/users/${created.id}`).select('id,department,usageLocation,accountEnabled').get();
    assert.deepEqual({ ...byId, '@odata.context': undefined }, { '@odata.context': undefined, id: created.id, department: 'Engineering', usageLocation: 'GB', accountEnabled: true });
    const byUpn = await graph.api(`/users/${encodeURIComponent(created.userPrincipalName.toUpperCase())}`).get();
    assert.equal(byUpn.id, created.id);
    assert.equal(sb.admin.mutationCount({ objectId: created.id, op: 'user.create' }), 1);
  });

  test('a taken userPrincipalName is 400 Request_BadRequest with an ObjectConflict detail', async () => {
    await graph.api('/users').post(newUserBody('dup'));
    const err = await graphError(graph.api('/users').post(newUserBody('dup')));
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, 'Request_BadRequest');
    assert.equal(err.message, 'Another object with the same value for property userPrincipalName already exists.');
    const body = JSON.parse(err.body as string);
    assert.deepEqual(body.details, [{ code: 'ObjectConflict', message: 'Another object with the same value for property userPrincipalName already exists.', target: 'userPrincipalName' }]);
    assert.equal(sb.admin.mutationCount({ op: 'user.create' }), 1);
  });

  test('required properties, verified domains and password complexity are enforced', async () => {
    const missing = await graphError(graph.api('/users').post({ ...newUserBody('x1'), mailNickname: undefined }));
    assert.equal(missing.message, "A value is required for property 'mailNickname' of resource 'User'.");
    const domain = await graphError(graph.api('/users').post({ ...newUserBody('x2'), userPrincipalName: 'x2@gmail.com' }));
    assert.match(domain.message, /domain portion of the userPrincipalName property is invalid/);
    const weak = await graphError(graph.api('/users').post({ ...newUserBody('x3'), passwordProfile: { password: 'password' } }));
    assert.match(weak.message, /password complexity/);
    const unknownProp = await graphError(graph.api('/users').post({ ...newUserBody('x4'), favouriteColour: 'red' }));
    assert.equal(unknownProp.statusCode, 400);
    assert.equal(sb.admin.mutationCount({ op: 'user.create' }), 0);
  });

  test('PATCH answers 204 and the change reads back; DELETE answers 204 then 404', async () => {
    const u = await graph.api('/users').post(newUserBody('patchme'));
    const res = await graph.api(`/users/${u.id}`).responseType('raw' as never).patch({ jobTitle: 'Analyst', accountEnabled: false });
    assert.equal((res as Response).status, 204);
    const back = await graph.api(`/users/${u.id}`).select('jobTitle,accountEnabled').get();
    assert.equal(back.jobTitle, 'Analyst');
    assert.equal(back.accountEnabled, false);
    await graph.api(`/users/${u.id}`).delete();
    const gone = await graphError(graph.api(`/users/${u.id}`).get());
    assert.equal(gone.statusCode, 404);
    assert.deepEqual(sb.admin.mutationSummary({ objectId: u.id }), { 'user.create': 1, 'user.update': 1, 'user.delete': 1 });
  });

  test('list: $filter, $select, $top and @odata.nextLink paging through every user', async () => {
    const sales = await graph.api('/users').filter("department eq 'Sales'").select('id,department,displayName').top(5).get();
    assert.ok(sales.value.length > 0 && sales.value.length <= 5);
    for (const u of sales.value) assert.deepEqual(Object.keys(u).sort(), ['department', 'displayName', 'id']);
    for (const u of sales.value) assert.equal(u.department, 'Sales');

    const seen: string[] = [];
    const first = await graph.api('/users').top(7).select('id').get();
    assert.ok(first['@odata.nextLink'], 'a first page of 7 has a next link');
    await new PageIterator(graph, first, (u: { id: string }) => {
      seen.push(u.id);
      return true;
    }).iterate();
    assert.equal(seen.length, sb.admin.store.users.size);
    assert.equal(new Set(seen).size, seen.length);
  });

  test('$filter with startswith, in, and/or, any() on assignedLicenses', async () => {
    const some = [...sb.admin.store.users.values()].slice(0, 3);
    const byIn = await graph.api('/users').filter(`id in (${some.map((u) => `'${u.id}'`).join(',')})`).get();
    assert.equal(byIn.value.length, 3);
    const prefix = some[0]!.displayName.slice(0, 3);
    const sw = await graph.api('/users').filter(`startswith(displayName,'${prefix}')`).top(999).get();
    assert.ok(sw.value.every((u: { displayName: string }) => u.displayName.toLowerCase().startsWith(prefix.toLowerCase())));
    const e5 = await graph.api('/users').filter(`assignedLicenses/any(x:x/skuId eq ${E5})`).select('id,jobTitle').top(999).get();
    const expected = [...sb.admin.store.users.values()].filter((u) => u.assignedLicenses.some((l) => l.skuId === E5)).length;
    assert.equal(e5.value.length, expected);
    assert.ok(expected > 0);
  });

  test('advanced queries need ConsistencyLevel: eventual and $count=true', async () => {
    const ne = await graphError(graph.api('/users').filter("department ne 'Sales'").get());
    assert.equal(ne.statusCode, 400);
    assert.equal(ne.code, 'Request_UnsupportedQuery');
    const ok = await graph.api('/users').header('ConsistencyLevel', 'eventual').query({ $count: 'true' }).filter("department ne 'Sales'").top(999).get();
    assert.equal(ok['@odata.count'], ok.value.length);
    const search = await graphError(graph.api('/users').search('"displayName:a"').get());
    assert.match(search.message, /ConsistencyLevel: eventual/);
    const someone = [...sb.admin.store.users.values()][5]!;
    const found = await graph.api('/users').header('ConsistencyLevel', 'eventual').search(`"displayName:${someone.surname}"`).get();
    assert.ok(found.value.some((u: { id: string }) => u.id === someone.id));
  });

  test('$top above 999 and an unknown $select property are 400', async () => {
    assert.equal((await graphError(graph.api('/users').top(1000).get())).statusCode, 400);
    const sel = await graphError(graph.api('/users').select('id,shoeSize').get());
    assert.equal(sel.message, "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.");
  });

  test('manager, directReports, revokeSignInSessions', async () => {
    const u = await graph.api('/users').post(newUserBody('report'));
    const boss = [...sb.admin.store.users.values()][0]!;
    await graph.api(`/users/${u.id}/manager/$ref`).put({ '@odata.id': `https://graph.microsoft.com/v1.0/users/${boss.id}` });
    const mgr = await graph.api(`/users/${u.id}/manager`).get();
    assert.equal(mgr.id, boss.id);
    const reports = await graph.api(`/users/${boss.id}/directReports`).top(999).get();
    assert.ok(reports.value.some((r: { id: string }) => r.id === u.id));
    const revoked = await graph.api(`/users/${u.id}/revokeSignInSessions`).post({});
    assert.equal(revoked.value, true);
    assert.equal(sb.admin.mutationCount({ objectId: u.id, op: 'user.revokeSignInSessions' }), 1);
  });
});

describe('licences', () => {
  test('subscribedSkus lists real SKU ids with service plans and consumed units', async () => {
    const skus = await graph.api('/subscribedSkus').get();
    const e3 = skus.value.find((s: { skuPartNumber: string }) => s.skuPartNumber === 'SPE_E3');
    assert.equal(e3.skuId, E3);
    assert.ok(e3.servicePlans.some((p: { servicePlanName: string; servicePlanId: string }) => p.servicePlanName === 'EXCHANGE_S_ENTERPRISE' && p.servicePlanId === 'efb87545-963c-4e0d-99df-69c6916d9eb0'));
    assert.ok(e3.consumedUnits > 0 && e3.prepaidUnits.enabled >= e3.consumedUnits);
  });

  test('assignLicense needs a usage location; then licenseDetails and the mailbox address appear', async () => {
    const u = await graph.api('/users').post(newUserBody('licensee'));
    const noLocation = await graphError(graph.api(`/users/${u.id}/assignLicense`).post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] }));
    assert.equal(noLocation.statusCode, 400);
    assert.equal(noLocation.message, 'License assignment cannot be done for user with invalid usage location.');
    await graph.api(`/users/${u.id}`).patch({ usageLocation: 'US' });
    const before = (await graph.api(`/subscribedSkus`).get()).value.find((s: { skuId: string }) => s.skuId === E3).consumedUnits;
    const res = await graph.api(`/users/${u.id}/assignLicense`).post({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    assert.equal(res.id, u.id);
    assert.equal(res.mail, u.userPrincipalName);
    const details = await graph.api(`/users/${u.id}/licenseDetails`).get();
    assert.equal(details.value.length, 1);
    assert.equal(details.value[0].skuPartNumber, 'SPE_E3');
    assert.ok(details.value[0].servicePlans.every((p: { provisioningStatus: string }) => p.provisioningStatus === 'Success'));
    const afterUnits = (await graph.api(`/subscribedSkus`).get()).value.find((s: { skuId: string }) => s.skuId === E3).consumedUnits;
    assert.equal(afterUnits, before + 1);
    assert.equal(sb.admin.mutationCount({ objectId: u.id, op: 'user.assignLicense' }), 1);

    const filtered = await graph.api('/users').filter(`assignedLicenses/any(x:x/skuId eq ${E3})`).select('id').top(999).get();
    assert.ok(filtered.value.some((x: { id: string }) => x.id === u.id));

    await graph.api(`/users/${u.id}/assignLicense`).post({ addLicenses: [], removeLicenses: [E3] });
    assert.equal((await graph.api(`/users/${u.id}/licenseDetails`).get()).value.length, 0);
    const notAssigned = await graphError(graph.api(`/users/${u.id}/assignLicense`).post({ addLicenses: [], removeLicenses: [E3] }));
    assert.equal(notAssigned.statusCode, 400);
  });

  test('an unknown SKU and an exhausted subscription are 400', async () => {
    const u = await graph.api('/users').post(newUserBody('nolicence', { usageLocation: 'US' }));
    const unknown = await graphError(graph.api(`/users/${u.id}/assignLicense`).post({ addLicenses: [{ skuId: '11111111-2222-4333-8444-555555555555' }], removeLicenses: [] }));
    assert.match(unknown.message, /does not correspond to a valid company License/);
    const sku = sb.admin.store.skus.get(E5)!;
    sku.prepaidEnabled = sb.admin.store.consumedUnits(E5);
    const exhausted = await graphError(graph.api(`/users/${u.id}/assignLicense`).post({ addLicenses: [{ skuId: E5 }], removeLicenses: [] }));
    assert.equal(exhausted.message, `Subscription with SKU ${E5} does not have any available licenses.`);
  });
});

describe('groups', () => {
  test('create a security group and a Microsoft 365 group', async () => {
    const sec = await graph.api('/groups').post({ displayName: 'Project X', mailEnabled: false, mailNickname: 'projectx', securityEnabled: true });
    assert.equal(sec.securityEnabled, true);
    assert.deepEqual(sec.groupTypes, []);
    assert.equal(sec.mail, null);
    const m365 = await graph.api('/groups').post({ displayName: 'Project Y', mailEnabled: true, mailNickname: 'projecty', securityEnabled: false, groupTypes: ['Unified'] });
    assert.equal(m365.mail, `projecty@${sb.tenant.domain}`);
    assert.equal(m365.visibility, 'Public');
    const mailSec = await graphError(graph.api('/groups').post({ displayName: 'Mail sec', mailEnabled: true, mailNickname: 'mailsec', securityEnabled: true }));
    assert.equal(mailSec.statusCode, 400);
  });

  test('members: add by $ref, duplicate add is 400, list, memberOf, remove, remove again is 404', async () => {
    const g = await graph.api('/groups').post({ displayName: 'Members test', mailEnabled: false, mailNickname: 'memberstest', securityEnabled: true });
    const u = await graph.api('/users').post(newUserBody('member'));
    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id}` };
    await graph.api(`/groups/${g.id}/members/$ref`).post(ref);
    const dup = await graphError(graph.api(`/groups/${g.id}/members/$ref`).post(ref));
    assert.equal(dup.statusCode, 400);
    assert.equal(dup.code, 'Request_BadRequest');
    assert.equal(dup.message, "One or more added object references already exist for the following modified properties: 'members'.");
    const members = await graph.api(`/groups/${g.id}/members`).get();
    assert.deepEqual(members.value.map((m: { id: string }) => m.id), [u.id]);
    assert.equal(members.value[0]['@odata.type'], '#microsoft.graph.user');
    const memberOf = await graph.api(`/users/${u.id}/memberOf`).get();
    assert.ok(memberOf.value.some((x: { id: string }) => x.id === g.id));
    await graph.api(`/groups/${g.id}/members/${u.id}/$ref`).delete();
    const again = await graphError(graph.api(`/groups/${g.id}/members/${u.id}/$ref`).delete());
    assert.equal(again.statusCode, 404);
    assert.equal(sb.admin.mutationCount({ objectId: u.id, op: 'group.addMember' }), 1);
    assert.equal(sb.admin.mutationCount({ objectId: g.id, op: 'group.removeMember' }), 1);
  });

  test('adding a missing object is 404; nested groups show in transitiveMemberOf', async () => {
    const g = await graph.api('/groups').post({ displayName: 'Outer', mailEnabled: false, mailNickname: 'outer', securityEnabled: true });
    const missing = await graphError(graph.api(`/groups/${g.id}/members/$ref`).post({ '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-4000-8000-000000000001' }));
    assert.equal(missing.statusCode, 404);
    const inner = await graph.api('/groups').post({ displayName: 'Inner', mailEnabled: false, mailNickname: 'inner', securityEnabled: true, 'members@odata.bind': [] });
    const u = await graph.api('/users').post(newUserBody('nested'));
    await graph.api(`/groups/${inner.id}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id}` });
    await graph.api(`/groups/${g.id}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/groups/${inner.id}` });
    const direct = await graph.api(`/users/${u.id}/memberOf`).get();
    const transitive = await graph.api(`/users/${u.id}/transitiveMemberOf`).get();
    assert.deepEqual(direct.value.map((x: { id: string }) => x.id), [inner.id]);
    assert.deepEqual(transitive.value.map((x: { id: string }) => x.id).sort(), [inner.id, g.id].sort());
  });

  test('seeded groups: department Microsoft 365 groups with owners, security groups', async () => {
    const all = await graph.api('/groups').top(999).get();
    const names = all.value.map((g: { displayName: string }) => g.displayName);
    for (const n of ['All Company', 'Sales', 'Engineering', 'VPN Users', 'Leadership']) assert.ok(names.includes(n), n);
    const sales = all.value.find((g: { displayName: string }) => g.displayName === 'Sales');
    assert.deepEqual(sales.groupTypes, ['Unified']);
    const owners = await graph.api(`/groups/${sales.id}/owners`).get();
    assert.equal(owners.value.length, 1);
    const unified = await graph.api('/groups').filter("groupTypes/any(c:c eq 'Unified')").top(999).get();
    assert.ok(unified.value.every((g: { groupTypes: string[] }) => g.groupTypes.includes('Unified')));
  });
});

describe('permissions', () => {
  test('an app without User.ReadWrite.All gets 403 Authorization_RequestDenied on create, but can read', async () => {
    const app = sb.admin.createApp({ permissions: ['User.Read.All'] });
    const reader = sandboxGraphClient(sb, { creds: app });
    const list = await reader.api('/users').top(1).get();
    assert.equal(list.value.length, 1);
    const err = await graphError(reader.api('/users').post(newUserBody('denied')));
    assert.equal(err.statusCode, 403);
    assert.equal(err.code, 'Authorization_RequestDenied');
    assert.equal(err.message, 'Insufficient privileges to complete the operation.');
    const groups = await graphError(reader.api('/groups').get());
    assert.equal(groups.statusCode, 403);
    assert.equal(sb.admin.mutationCount({ op: 'user.create' }), 0);
  });

  test('User.EnableDisableAccount.All may set accountEnabled and nothing else', async () => {
    const app = sb.admin.createApp({ permissions: ['User.Read.All', 'User.EnableDisableAccount.All'] });
    const client = sandboxGraphClient(sb, { creds: app });
    const someone = [...sb.admin.store.users.values()][3]!;
    await client.api(`/users/${someone.id}`).patch({ accountEnabled: false });
    assert.equal(sb.admin.findUser(someone.id)!.accountEnabled, false);
    const err = await graphError(client.api(`/users/${someone.id}`).patch({ jobTitle: 'Boss' }));
    assert.equal(err.statusCode, 403);
  });
});

describe('seeding and admin API', () => {
  test('same seed, same tenant; another seed, another tenant', async () => {
    const a = await startSandbox({ seed: 42, users: 30 });
    const b = await startSandbox({ seed: 42, users: 30 });
    const c = await startSandbox({ seed: 43, users: 30 });
    try {
      assert.equal(a.tenant.tenantId, b.tenant.tenantId);
      assert.equal(a.tenant.clientSecret, b.tenant.clientSecret);
      assert.deepEqual([...a.admin.store.users.keys()], [...b.admin.store.users.keys()]);
      assert.notEqual(a.tenant.tenantId, c.tenant.tenantId);
      const users = [...a.admin.store.users.values()];
      assert.ok(users.filter((u) => u.userType === 'Member').every((u) => u.department && u.jobTitle));
      assert.ok(users.filter((u) => u._managerId).length >= users.length - 5, 'everyone but the CEO and guests has a manager');
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test('HTTP admin API: create an app, count mutations per object, read the request log', async () => {
    const created = await fetch(`${sb.url}/_admin/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: ['User.ReadWrite.All'] }) });
    assert.equal(created.status, 201);
    const app = (await created.json()) as { clientId: string; clientSecret: string; tenantId: string };
    const client = sandboxGraphClient(sb, { creds: app });
    const u = await client.api('/users').post(newUserBody('viahttp'));
    const m = (await (await fetch(`${sb.url}/_admin/mutations?objectId=${u.id}`)).json()) as { count: number; byOp: Record<string, number> };
    assert.equal(m.count, 1);
    assert.deepEqual(m.byOp, { 'user.create': 1 });
    const log = (await (await fetch(`${sb.url}/_admin/requests?path=/v1.0/users`)).json()) as { value: { method: string; status: number; appId: string }[] };
    assert.ok(log.value.some((e) => e.method === 'POST' && e.status === 201 && e.appId === app.clientId));
  });
});

describe('faults', () => {
  test('a scripted 503 reaches a client without retries, with Retry-After; the next call succeeds', async () => {
    const raw = sandboxGraphClient(sb, { retry: false });
    sb.admin.failNext({ status: 503, match: '^GET /v1.0/users', retryAfterSeconds: 2 });
    const err = await graphError(raw.api('/users').top(1).get());
    assert.equal(err.statusCode, 503);
    assert.equal(err.headers?.get('retry-after'), '2');
    const ok = await raw.api('/users').top(1).get();
    assert.equal(ok.value.length, 1);
  });

  test('a 504 after the write took effect: the retry sees ObjectConflict, the user exists once', async () => {
    const raw = sandboxGraphClient(sb, { retry: false });
    sb.admin.failNext({ status: 504, match: '^POST /v1.0/users$', afterEffect: true });
    const first = await graphError(raw.api('/users').post(newUserBody('ghost')));
    assert.equal(first.statusCode, 504);
    const retry = await graphError(raw.api('/users').post(newUserBody('ghost')));
    assert.equal(retry.statusCode, 400);
    const user = sb.admin.findUser(`ghost@${sb.tenant.domain}`)!;
    assert.equal(sb.admin.mutationCount({ objectId: user.id, op: 'user.create' }), 1);
  });

  test('the Graph client default RetryHandler rides over a 429', async () => {
    sb.admin.failNext({ status: 429, match: '^GET /v1.0/groups', retryAfterSeconds: 0 });
    const groups = await graph.api('/groups').top(1).get();
    assert.equal(groups.value.length, 1);
    const entries = sb.admin.requestLog({ path: '/v1.0/groups' });
    assert.deepEqual(entries.map((e) => e.status), [429, 200]);
    assert.equal(entries[0]!.injected, 'scripted:429');
  });

  test('replication lag: a new user answers 404 until the lag has passed', async () => {
    sb.admin.setFaults({ replicationLagSeconds: 0.3 });
    try {
      const u = await graph.api('/users').post(newUserBody('lagging'));
      const raw = sandboxGraphClient(sb, { retry: false });
      assert.equal((await graphError(raw.api(`/users/${u.id}`).get())).statusCode, 404);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await raw.api(`/users/${u.id}`).get()).id, u.id);
    } finally {
      sb.admin.setFaults({});
    }
  });

  test('dropped connections surface as network errors', async () => {
    const raw = sandboxGraphClient(sb, { retry: false });
    sb.admin.failNext({ status: 'drop', match: '^GET /v1.0/organization' });
    await assert.rejects(raw.api('/organization').get());
    const org = await raw.api('/organization').get();
    assert.equal(org.value[0].id, sb.tenant.tenantId);
  });
});
