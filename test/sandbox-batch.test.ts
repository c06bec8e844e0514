// JSON batching as Graph documents it: at most 20 requests, unique ids, dependsOn, per-item
// status in a 200 envelope, 424 for dependents of a failed item, through the real Graph client.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchRequestContent, BatchResponseContent, type Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 11, users: 40 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const json = { 'content-type': 'application/json' };
const userBody = (nick: string) => ({
  accountEnabled: true,
  displayName: nick,
  mailNickname: nick,
  userPrincipalName: `${nick}@${sb.tenant.domain}`,
  passwordProfile: { password: 'Xw9!correct-horse' },
  usageLocation: 'US',
});

async function batch(requests: unknown[]): Promise<{ responses: { id: string; status: number; body?: { error?: { code: string; message: string } } & Record<string, unknown> }[] }> {
  return graph.api('/$batch').post({ requests });
}

test('items answer independently inside a 200 envelope', async () => {
  const someone = [...sb.admin.store.users.values()][2]!;
  const out = await batch([
    { id: '1', method: 'GET', url: `/users/${someone.id}?$select=id,department` },
    { id: '2', method: 'GET', url: '/users/00000000-0000-4000-8000-000000000000' },
    { id: '3', method: 'POST', url: '/users', headers: json, body: userBody('batched') },
  ]);
  const byId = Object.fromEntries(out.responses.map((r) => [r.id, r]));
  assert.equal(byId['1']!.status, 200);
  assert.equal(byId['1']!.body!['department'], someone.department);
  assert.equal(byId['2']!.status, 404);
  assert.equal(byId['2']!.body!.error!.code, 'Request_ResourceNotFound');
  assert.equal(byId['3']!.status, 201);
  assert.equal(sb.admin.mutationCount({ op: 'user.create' }), 1);
  assert.equal(sb.admin.requestLog({ surface: 'batch-item' }).length, 3);
});

test('dependsOn runs in order; dependents of a failed item get 424 and never run', async () => {
  const group = [...sb.admin.store.groups.values()].find((g) => g.displayName === 'VPN Users')!;
  const out = await batch([
    { id: 'a', method: 'POST', url: '/users', headers: json, body: userBody('dep.one') },
    { id: 'b', method: 'POST', url: `/users/dep.one@${sb.tenant.domain}/assignLicense`, dependsOn: ['a'], headers: json, body: { addLicenses: [{ skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965' }], removeLicenses: [] } },
    { id: 'c', method: 'POST', url: '/users', headers: json, body: userBody('dep.one') },
    { id: 'd', method: 'POST', url: `/groups/${group.id}/members/$ref`, dependsOn: ['c'], headers: json, body: { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-4000-8000-000000000000' } },
  ]);
  const status = Object.fromEntries(out.responses.map((r) => [r.id, r.status]));
  assert.deepEqual(status, { a: 201, b: 200, c: 400, d: 424 });
  assert.equal(sb.admin.mutationCount({ op: 'group.addMember' }), 0);
});

test('more than 20 requests, duplicate ids and an unknown dependsOn are 400 for the whole batch', async () => {
  const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/organization' }));
  await assert.rejects(batch(many), (e: { statusCode: number }) => e.statusCode === 400);
  await assert.rejects(batch([{ id: '1', method: 'GET', url: '/users' }, { id: '1', method: 'GET', url: '/groups' }]), (e: { statusCode: number }) => e.statusCode === 400);
  await assert.rejects(batch([{ id: '1', method: 'GET', url: '/users', dependsOn: ['9'] }]), (e: { statusCode: number }) => e.statusCode === 400);
});

test("the Graph client's BatchRequestContent / BatchResponseContent work unchanged", async () => {
  const content = new BatchRequestContent([
    { id: '1', request: new Request(`${sb.graphBaseUrl}/organization`, { method: 'GET' }) },
    { id: '2', request: new Request(`${sb.graphBaseUrl}/users`, { method: 'POST', headers: json, body: JSON.stringify(userBody('via.sdk')) }), dependsOn: ['1'] },
  ]);
  const raw = await graph.api('/$batch').post(await content.getContent());
  const res = new BatchResponseContent(raw);
  assert.equal(res.getResponseById('1').status, 200);
  assert.equal(res.getResponseById('2').status, 201);
  assert.ok(sb.admin.findUser(`via.sdk@${sb.tenant.domain}`));
});

test('a write in a batch without Content-Type fails on its own', async () => {
  const out = await batch([{ id: '1', method: 'POST', url: '/users', body: userBody('nocontenttype') }, { id: '2', method: 'GET', url: '/organization' }]);
  assert.deepEqual(out.responses.map((r) => r.status), [400, 200]);
});

test('a permission failure inside a batch is the item status, not the envelope', async () => {
  const reader = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['User.Read.All'] }) });
  const out = await reader.api('/$batch').post({ requests: [{ id: '1', method: 'POST', url: '/users', headers: json, body: userBody('nope') }, { id: '2', method: 'GET', url: '/users?$top=1' }] });
  assert.deepEqual(out.responses.map((r: { status: number }) => r.status), [403, 200]);
});
