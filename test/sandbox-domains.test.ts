// Domains through the real Graph client: add (unverified), verification records, verify against the
// sandbox's public DNS, default domain and services, delete refused while in use, and the
// asynchronous forceDelete that renames users to the initial domain.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { expectGraphError as failure, sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let graph: Client;

before(async () => {
  sb = await startSandbox({ seed: 6, users: 20 });
  graph = sandboxGraphClient(sb);
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());

async function addAndVerify(name: string): Promise<void> {
  await graph.api('/domains').post({ id: name });
  const txt = (await graph.api(`/domains/${name}/verificationDnsRecords`).get()).value.find((r: { recordType: string }) => r.recordType === 'Txt');
  sb.admin.publishDnsRecord(name, { type: 'TXT', value: txt.text });
  await graph.api(`/domains/${name}/verify`).post({});
}

test('a new domain is unverified with TXT and MX verification records; verify fails until the TXT record is in DNS', async () => {
  const added = await graph.api('/domains').post({ id: 'Fabrikam.example' });
  assert.deepEqual([added.id, added.isVerified, added.isDefault], ['fabrikam.example', false, false]);
  const records = (await graph.api('/domains/fabrikam.example/verificationDnsRecords').get()).value;
  const txt = records.find((r: { recordType: string }) => r.recordType === 'Txt');
  const mx = records.find((r: { recordType: string }) => r.recordType === 'Mx');
  assert.match(txt.text, /^MS=ms\d{8}$/);
  assert.equal(mx.mailExchange, `${txt.text.slice(3)}.msv1.invalid`);
  const early = await failure(graph.api('/domains/fabrikam.example/verify').post({}));
  assert.equal(early.statusCode, 400);
  assert.match(early.message, /not found/);
  const user = await failure(graph.api('/users').post({ accountEnabled: true, displayName: 'X', mailNickname: 'x', userPrincipalName: 'x@fabrikam.example', passwordProfile: { password: 'Pa55word!Pa55word' } }));
  assert.equal(user.statusCode, 400, 'no users in an unverified domain');
  sb.admin.publishDnsRecord('fabrikam.example', { type: 'TXT', value: txt.text });
  const verified = await graph.api('/domains/fabrikam.example/verify').post({});
  assert.equal(verified.isVerified, true);
  assert.equal((await graph.api('/domains/fabrikam.example').get()).isVerified, true);
  await graph.api('/users').post({ accountEnabled: true, displayName: 'X', mailNickname: 'x', userPrincipalName: 'x@fabrikam.example', passwordProfile: { password: 'Pa55word!Pa55word' } });
});

test('add refuses what Graph refuses: a taken domain, an onmicrosoft.com domain, a bad name, unknown properties', async () => {
  assert.equal((await failure(graph.api('/domains').post({ id: sb.tenant.domain }))).statusCode, 400);
  assert.equal((await failure(graph.api('/domains').post({ id: 'other.onmicrosoft.com' }))).statusCode, 400);
  assert.equal((await failure(graph.api('/domains').post({ id: 'not a domain' }))).statusCode, 400);
  assert.equal((await failure(graph.api('/domains').post({ id: 'ok.example', isDefault: true }))).statusCode, 400);
  assert.equal((await failure(graph.api('/domains').post({ id: 'ok.example', colour: 'red' }))).statusCode, 400);
  assert.equal((await failure(graph.api('/domains/ok.example').get())).statusCode, 404);
});

test('PATCH: only a verified domain becomes the default; services are checked; read-only properties refused', async () => {
  await graph.api('/domains').post({ id: 'pending.example' });
  assert.equal((await failure(graph.api('/domains/pending.example').patch({ isDefault: true }))).statusCode, 400);
  await addAndVerify('contoso-new.example');
  await graph.api('/domains/contoso-new.example').patch({ isDefault: true, supportedServices: ['Email', 'Intune'] });
  const d = await graph.api('/domains/contoso-new.example').get();
  assert.deepEqual([d.isDefault, d.supportedServices], [true, ['Email', 'Intune']]);
  assert.equal((await graph.api(`/domains/${sb.tenant.domain}`).get()).isDefault, false);
  assert.equal((await failure(graph.api('/domains/contoso-new.example').patch({ supportedServices: ['Fax'] }))).statusCode, 400);
  assert.equal((await failure(graph.api('/domains/contoso-new.example').patch({ isVerified: false }))).statusCode, 400);
});

test('DELETE refuses the default and initial domains and a domain still in use; forceDelete renames its users, then the domain is gone', async () => {
  assert.equal((await failure(graph.api(`/domains/${sb.tenant.domain}`).delete())).statusCode, 400);
  await addAndVerify('leaving.example');
  const u = await graph.api('/users').post({ accountEnabled: true, displayName: 'Leaver', mailNickname: 'leaver', userPrincipalName: 'leaver@leaving.example', passwordProfile: { password: 'Pa55word!Pa55word' } });
  const inUse = await failure(graph.api('/domains/leaving.example').delete());
  assert.match(inUse.message, /still use it/);
  await graph.api('/domains/leaving.example/forceDelete').post({ disableUserAccounts: true });
  const during = await graph.api('/domains/leaving.example').get();
  assert.deepEqual([during.state.operation, during.state.status], ['ForceDelete', 'InProgress']);
  sb.admin.advanceClock(10);
  assert.equal((await failure(graph.api('/domains/leaving.example').get())).statusCode, 404);
  const renamed = await graph.api(`/users/${u.id}`).select('userPrincipalName,accountEnabled').get();
  assert.deepEqual([renamed.userPrincipalName.endsWith('.onmicrosoft.com'), renamed.accountEnabled], [true, false]);
  await graph.api('/domains').post({ id: 'unused.example' });
  await graph.api('/domains/unused.example').delete();
  assert.equal((await failure(graph.api('/domains/unused.example').get())).statusCode, 404);
});
