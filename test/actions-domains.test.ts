// The domain actions against the sandbox tenant, as runbook steps on real Temporal, read back
// through Graph /domains. Verification needs the record in the sandbox's public DNS (what the
// domain's owner would publish at their DNS host); a forced removal is Microsoft's asynchronous
// forceDelete, which the step waits for.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;

before(async () => {
  env = await startActionsEnv();
});
after(async () => env?.close());

const domain = (tag: string) => `${tag}-${randomUUID().slice(0, 6)}.example`;
const readDomain = (name: string) => env.graph.api(`/domains/${name}`).get();
const publish = (name: string, text: string) => env.sandbox.admin.publishDnsRecord(name, { type: 'TXT', value: text });

/** Adds and verifies a domain through Graph directly (test setup). */
async function verifiedDomain(tag: string): Promise<string> {
  const name = domain(tag);
  await env.graph.api('/domains').post({ id: name });
  const txt = (await env.graph.api(`/domains/${name}/verificationDnsRecords`).get()).value.find((r: { recordType: string }) => r.recordType === 'Txt');
  publish(name, txt.text);
  await env.graph.api(`/domains/${name}/verify`).post({});
  return name;
}

describe('domains', { concurrency: true }, () => {
  it('domain.add adds the domain unverified and returns its verification records; a second run is done', async () => {
    const name = domain('add');
    const r = await env.run('domain.add', { domain: name });
    ok(r);
    assert.deepEqual([r.output.id, r.output.created, r.output.isVerified], [name, true, false]);
    const txt = r.output.verificationRecords.find((x: { type: string }) => x.type === 'TXT');
    assert.match(txt.value, /^MS=ms\d{8}$/);
    assert.equal((await readDomain(name)).isVerified, false);
    const again = await env.run('domain.add', { domain: name });
    assert.equal(again.output.created, false);
  });

  it('domain.verificationRecords reads the TXT and MX records', async () => {
    const name = domain('records');
    await env.graph.api('/domains').post({ id: name });
    const r = await env.run('domain.verificationRecords', { domain: name });
    ok(r);
    assert.deepEqual(r.output.verificationRecords.map((x: { type: string }) => x.type).sort(), ['MX', 'TXT']);
  });

  it('domain.verify fails naming the record while DNS lacks it, and verifies once it is published', async () => {
    const name = domain('verify');
    const added = await env.run('domain.add', { domain: name });
    const txt = added.output.verificationRecords.find((x: { type: string }) => x.type === 'TXT').value;
    const early = await env.run('domain.verify', { domain: name });
    assert.equal(early.status, 'failed');
    assert.equal(early.error?.code, 'DomainVerificationFailed');
    assert.ok(early.error!.hint!.includes(txt), 'the hint names the TXT record to add');
    assert.equal(early.attempts, 1);
    publish(name, txt);
    const r = await env.run('domain.verify', { domain: name });
    ok(r);
    assert.equal(r.output.verified, true);
    assert.equal((await readDomain(name)).isVerified, true);
    assert.equal((await env.run('domain.verify', { domain: name })).output.verified, false);
  });

  it('domain.update makes a verified domain the default and sets its services', async () => {
    const name = await verifiedDomain('update');
    const unverified = domain('unverified');
    await env.graph.api('/domains').post({ id: unverified });
    const refused = await env.run('domain.update', { domain: unverified, makeDefault: true });
    assert.equal(refused.error?.code, 'DomainNotVerified');
    const services = await env.run('domain.update', { domain: name, supportedServices: ['Email', 'Intune'] });
    ok(services);
    assert.deepEqual((await readDomain(name)).supportedServices, ['Email', 'Intune']);
    const original = env.sandbox.tenant.domain;
    const r = await env.run('domain.update', { domain: name, makeDefault: true });
    ok(r);
    assert.deepEqual([r.output.isDefault, r.output.previousDefault], [true, original]);
    assert.equal((await readDomain(name)).isDefault, true);
    ok(await env.run('domain.update', { domain: original, makeDefault: true }));
    assert.equal((await readDomain(original)).isDefault, true);
  });

  it('domain.remove removes an unused domain; refuses one in use (without force) and the initial domain', async () => {
    const unused = domain('unused');
    await env.graph.api('/domains').post({ id: unused });
    const r = await env.run('domain.remove', { domain: unused });
    ok(r);
    assert.equal(r.output.removed, true);
    await assert.rejects(readDomain(unused), (e: { statusCode?: number }) => e.statusCode === 404);
    const used = await verifiedDomain('used');
    const u = await env.newUser('domainuser');
    ok(await env.run('user.changeUpnDomain', { user: u.id, domain: used }));
    const refused = await env.run('domain.remove', { domain: used });
    assert.equal(refused.error?.code, 'DomainInUse');
    assert.match(refused.error!.hint!, /force/);
    const initial = await env.run('domain.remove', { domain: env.sandbox.admin.store.info.initialDomain });
    assert.equal(initial.error?.code, 'DomainProtected');
  });

  it('domain.remove with force waits for Microsoft to rename the users and remove the domain', async () => {
    const name = await verifiedDomain('force');
    const u = await env.newUser('forced');
    ok(await env.run('user.changeUpnDomain', { user: u.id, domain: name }));
    const r = await env.run('domain.remove', { domain: name, force: true, disableRenamedUsers: false });
    ok(r);
    assert.deepEqual([r.output.removed, r.output.pending], [true, false]);
    await assert.rejects(readDomain(name), (e: { statusCode?: number }) => e.statusCode === 404);
    const back = await env.graph.api(`/users/${u.id}`).select('userPrincipalName,accountEnabled').get();
    assert.deepEqual([back.userPrincipalName.endsWith('.onmicrosoft.com'), back.accountEnabled], [true, true]);
  });

  it('domain.list lists the tenant\'s domains', async () => {
    const r = await env.run('domain.list', { verifiedOnly: true });
    ok(r);
    assert.ok(r.output.domains.some((d: { id: string; isDefault: boolean }) => d.id === env.sandbox.tenant.domain));
    assert.ok(r.output.domains.every((d: { isVerified: boolean }) => d.isVerified));
  });
});
