// Open extensions on users, as Graph documents them for directory objects, through the real Graph
// client: create (201), read one or all, $expand=extensions on users, PATCH replacing the whole
// extension (204), delete, and the documented limits and permissions.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError as failure, sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 5, users: 30 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

const someone = () => [...sb.admin.store.users.values()].find((u) => u.userType === 'Member' && u.accountEnabled)!;
const ext = (name: string, data: Record<string, unknown>) => ({ '@odata.type': '#microsoft.graph.openTypeExtension', extensionName: name, ...data });

describe('open extensions on users', () => {
  test('create, read by name, list, and $expand=extensions on one user and on the users list', async () => {
    const u = someone();
    const made = await graph.api(`/users/${u.id}/extensions`).post(ext('com.contoso.roamingSettings', { theme: 'dark', picks: ['a', 'b'] }));
    assert.equal(made['@odata.type'], '#microsoft.graph.openTypeExtension');
    assert.deepEqual([made.id, made.extensionName, made.theme, made.picks], ['com.contoso.roamingSettings', 'com.contoso.roamingSettings', 'dark', ['a', 'b']]);
    const got = await graph.api(`/users/${u.userPrincipalName}/extensions/com.contoso.roamingSettings`).get();
    assert.deepEqual([got.id, got.theme], ['com.contoso.roamingSettings', 'dark']);
    assert.equal((await graph.api(`/users/${u.id}/extensions`).get()).value.length, 1);
    const one = await graph.api(`/users/${u.id}`).select('id,displayName').expand('extensions').get();
    assert.deepEqual(one.extensions.map((e: { id: string }) => e.id), ['com.contoso.roamingSettings']);
    const all: { id: string; extensions: { id: string }[] }[] = [];
    for (let page = await graph.api('/users').select('id').expand('extensions').get(); ; page = await graph.api(page['@odata.nextLink']).get()) {
      all.push(...page.value);
      if (!page['@odata.nextLink']) break;
    }
    assert.deepEqual(all.filter((x) => x.extensions.length).map((x) => x.id), [u.id]);
    assert.ok(all.every((x) => Array.isArray(x.extensions)));
  });

  test('a second create of the same name is refused; PATCH replaces the whole extension (204); delete, then 404', async () => {
    const u = someone();
    const path = `/users/${u.id}/extensions/com.contoso.roamingSettings`;
    await graph.api(`/users/${u.id}/extensions`).post(ext('com.contoso.roamingSettings', { theme: 'dark', color: 'purple' }));
    const dup = await failure(graph.api(`/users/${u.id}/extensions`).post(ext('com.contoso.roamingSettings', { theme: 'light' })));
    assert.deepEqual([dup.statusCode, dup.code, dup.message], [400, 'Request_BadRequest', 'An extension already exists with given id.']);
    await graph.api(path).patch(ext('com.contoso.roamingSettings', { theme: 'light', lang: null }));
    const after = await graph.api(path).get();
    assert.equal(after.theme, 'light');
    assert.equal(after.lang, null, 'a property set to null keeps the property without data');
    assert.equal('color' in after, false, 'a property left out of the PATCH is removed');
    await graph.api(path).delete();
    const gone = await failure(graph.api(path).get());
    assert.deepEqual([gone.statusCode, gone.code], [404, 'Request_ResourceNotFound']);
    assert.equal((await failure(graph.api(path).patch(ext('com.contoso.roamingSettings', {})))).statusCode, 404);
    assert.equal((await failure(graph.api(path).delete())).statusCode, 404);
  });

  test('refuses nested objects, a missing name, a third extension and more than 2 KB; writing needs User.ReadWrite.All', async () => {
    const u = someone();
    const post = (body: unknown, client = graph) => client.api(`/users/${u.id}/extensions`).post(body);
    assert.equal((await failure(post(ext('com.contoso.nested', { settings: { theme: 'dark' } })))).statusCode, 400);
    assert.equal((await failure(post({ '@odata.type': '#microsoft.graph.openTypeExtension', theme: 'dark' }))).statusCode, 400);
    assert.equal((await failure(post({ extensionName: 'com.contoso.untyped' }))).statusCode, 400);
    assert.equal((await failure(post(ext('com.contoso.big', { blob: 'x'.repeat(2100) })))).statusCode, 400);
    await post(ext('com.contoso.one', {}));
    await post(ext('com.contoso.two', {}));
    assert.equal((await failure(post(ext('com.contoso.three', {})))).statusCode, 400);
    const reader = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['User.Read.All'] }) });
    assert.equal((await reader.api(`/users/${u.id}/extensions/com.contoso.one`).get()).id, 'com.contoso.one');
    const denied = await failure(reader.api(`/users/${u.id}/extensions/com.contoso.one`).delete());
    assert.deepEqual([denied.statusCode, denied.code], [403, 'Authorization_RequestDenied']);
  });
});
