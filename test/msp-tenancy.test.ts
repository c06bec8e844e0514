// MSP tenancy through the HTTP API (issue 16, finding 10): operator scope by group membership, by an
// OData filter on users and by Entra administrative unit (besides department and country), checked
// against the sandbox tenant through Graph when a run starts; and the audit list filtered by the
// caller's tenants before the row limit, so a page is full.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let api: ApiServer;
let inside: { id: string; userPrincipalName: string };
let outside: { id: string; userPrincipalName: string };
let group: { id: string; displayName: string };

const RUNBOOK = {
  name: 'Set job title',
  inputs: [
    { name: 'user', type: 'user', required: true, title: 'Colleague', description: 'User principal name' },
    { name: 'jobTitle', type: 'string', required: true, title: 'Job title', description: 'The new title' },
  ],
  nodes: [{ id: 'set', kind: 'action', action: 'user.update', params: { user: '{{ inputs.user }}', jobTitle: '{{ inputs.jobTitle }}' } }],
  edges: [],
};

async function newUser(department: string) {
  const upn = `${department.toLowerCase()}.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
  return (await env.graph.api('/users').post({
    accountEnabled: true, displayName: `${department} ${upn.slice(0, 12)}`, mailNickname: upn.split('@')[0], userPrincipalName: upn, department, companyName: department === 'Finance' ? 'Contoso Retail' : 'Contoso Ltd',
    passwordProfile: { password: `Pw-${randomBytes(6).toString('hex')}!` },
  })) as { id: string; userPrincipalName: string };
}

/** The scope problems the server reports for a start on each user (a dry-run bulk: nothing starts). */
async function scopeCheck(caller: Caller, users: string[]): Promise<string[][]> {
  const csv = ['user,jobTitle', ...users.map((u) => `${u},Analyst`)].join('\n');
  const r = await caller.call('POST', '/api/runs/bulk', { runbookId: 'set-title', csv, dryRun: true, skipBadRows: true });
  assert.ok(r.status === 200 || r.status === 422, JSON.stringify(r.body));
  return (r.body.rows as { problems: { kind?: string; field: string; message: string }[] }[]).map((row) => row.problems.map((p) => `${p.field}: ${p.message}`));
}

before(async () => {
  env = await startTestEnv({ worker: false });
  api = await startApiServer(env);
  const created = await api.admin.call('POST', '/api/runbooks', { id: 'set-title', definition: RUNBOOK, customAction: true });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.ok((await api.admin.call('POST', '/api/runbooks/set-title/publish', {})).status < 300);
  inside = await newUser('Finance');
  outside = await newUser('Sales');
  const name = `Helpdesk scope ${randomUUID().slice(0, 6)}`;
  const g = await env.graph.api('/groups').post({ displayName: name, mailEnabled: false, mailNickname: name.replace(/\W/g, ''), securityEnabled: true });
  // Nested: the user is in an inner group that is a member of the scope's group.
  const inner = await env.graph.api('/groups').post({ displayName: `${name} inner`, mailEnabled: false, mailNickname: `${name.replace(/\W/g, '')}inner`, securityEnabled: true });
  await env.graph.api(`/groups/${inner.id}/members/$ref`).post({ '@odata.id': `${env.sandbox.url}/v1.0/directoryObjects/${inside.id}` });
  await env.graph.api(`/groups/${g.id}/members/$ref`).post({ '@odata.id': `${env.sandbox.url}/v1.0/directoryObjects/${inner.id}` });
  group = { id: g.id, displayName: name };
});

after(async () => {
  await api?.close();
  await env?.close();
});

describe('operator scope beyond department and country', () => {
  it('group membership (object id or name, nested groups count): a member passes, anyone else is refused', async () => {
    for (const ref of [group.id, group.displayName]) {
      const op = await api.as(`group.${randomUUID().slice(0, 6)}@tenantflow.test`, [{ tenant: 'sandbox', role: 'operator', scope: { group: [ref] } }]);
      const [ok, refused] = await scopeCheck(op, [inside.userPrincipalName, outside.userPrincipalName]);
      assert.deepEqual(ok, [], ref);
      assert.equal(refused!.length, 1);
      assert.match(refused![0]!, new RegExp(`^user: ${outside.userPrincipalName.replace(/\./g, '\\.')} is outside your operator scope \\(members of the groups `));
    }
  });

  it('an attribute filter: a user matching the OData filter passes, another is refused; a real start is refused with 403/422 naming the field', async () => {
    const op = await api.as(`filter.${randomUUID().slice(0, 6)}@tenantflow.test`, [{ tenant: 'sandbox', role: 'operator', scope: { filter: ["companyName eq 'Contoso Retail'"] } }]);
    const [ok, refused] = await scopeCheck(op, [inside.userPrincipalName, outside.userPrincipalName]);
    assert.deepEqual(ok, []);
    assert.match(refused![0]!, /outside your operator scope \(users matching companyName eq 'Contoso Retail'\)/);
    const start = await op.call('POST', '/api/runs', { runbookId: 'set-title', inputs: { user: outside.userPrincipalName, jobTitle: 'X' } });
    assert.ok(start.status === 403 || start.status === 422, `${start.status} ${JSON.stringify(start.body)}`);
    assert.match(JSON.stringify(start.body), /outside your operator scope/);
    assert.equal((await env.graph.api(`/users/${outside.id}`).select('jobTitle').get()).jobTitle ?? null, null, 'nothing changed');
  });

  it('administrative unit: a member of the unit passes, anyone else is refused (read through memberOf/microsoft.graph.administrativeUnit)', async () => {
    const unit = await env.graph.api('/directory/administrativeUnits').post({ displayName: `Helpdesk EMEA ${randomUUID().slice(0, 6)}`, description: 'Users the EMEA help desk serves' });
    await env.graph.api(`/directory/administrativeUnits/${unit.id}/members/$ref`).post({ '@odata.id': `${env.sandbox.url}/v1.0/directoryObjects/${inside.id}` });
    await assert.rejects(
      env.graph.api(`/directory/administrativeUnits/${unit.id}/members/$ref`).post({ '@odata.id': `${env.sandbox.url}/v1.0/directoryObjects/${inside.id}` }),
      /already exist/, 'the sandbox refuses a member twice, as Entra does',
    );
    const units = (await env.graph.api(`/users/${inside.id}/memberOf/microsoft.graph.administrativeUnit`).get()).value as { id: string }[];
    assert.deepEqual(units.map((u) => u.id), [unit.id]);
    const op = await api.as(`unit.${randomUUID().slice(0, 6)}@tenantflow.test`, [{ tenant: 'sandbox', role: 'operator', scope: { administrativeUnit: [unit.id] } }]);
    const [ok, refused] = await scopeCheck(op, [inside.userPrincipalName, outside.userPrincipalName]);
    assert.deepEqual(ok, []);
    assert.match(refused![0]!, /outside your operator scope \(members of the administrative units /);
  });

  it('kinds combine: department and group must both match', async () => {
    const op = await api.as(`both.${randomUUID().slice(0, 6)}@tenantflow.test`, [{ tenant: 'sandbox', role: 'operator', scope: { department: ['Sales'], group: [group.id] } }]);
    const [a, b] = await scopeCheck(op, [inside.userPrincipalName, outside.userPrincipalName]);
    assert.equal(a!.length, 1, 'in the group, but Finance');
    assert.match(a![0]!, /department Finance is outside/);
    assert.equal(b!.length, 1, 'Sales, but not in the group');
    assert.match(b![0]!, /members of the groups/);
  });

  it('a grant with a filter that could break out of its parentheses, or an administrative unit that is not an id, is a 400 naming the field', async () => {
    const person = await api.admin.call('POST', '/api/users', { email: `bad.${randomUUID().slice(0, 6)}@tenantflow.test`, name: 'Bad scope' });
    assert.equal(person.status, 201, JSON.stringify(person.body));
    const id = person.body.id ?? person.body.user?.id;
    const bad = await api.admin.call('POST', `/api/users/${id}/grants`, { tenant: 'sandbox', role: 'operator', scope: { filter: ["department eq 'Sales') or (true"] } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /scope\.filter/);
    const unit = await api.admin.call('POST', `/api/users/${id}/grants`, { tenant: 'sandbox', role: 'operator', scope: { administrativeUnit: ['Helpdesk EMEA'] } });
    assert.equal(unit.status, 400);
    assert.match(JSON.stringify(unit.body), /scope\.administrativeUnit/);
  });
});

describe('audit list by tenant', () => {
  it('an admin of one tenant gets full pages: the tenant filter applies before the row limit', async () => {
    const tag = randomUUID().slice(0, 6);
    const origin = { actor: 'seed@tenantflow.test' };
    for (let i = 0; i < 3; i++) await api.services.audit.record(origin, 'test.mine', `mine-${tag}-${i}`, undefined, 'contoso');
    for (let i = 0; i < 60; i++) await api.services.audit.record(origin, 'test.theirs', `theirs-${tag}-${i}`, undefined, 'fabrikam');
    const contosoAdmin = await api.as(`admin.${tag}@contoso.test`, [{ tenant: 'contoso', role: 'admin' }]);
    const page = await contosoAdmin.call('GET', '/api/audit?limit=50');
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.map((e: { target: string }) => e.target), [2, 1, 0].map((i) => `mine-${tag}-${i}`), 'the three entries of its tenant, though 60 newer ones belong to another');
    const two = await contosoAdmin.call('GET', '/api/audit?limit=2');
    assert.equal(two.body.length, 2);
    assert.ok(two.body.every((e: { tenant: string }) => e.tenant === 'contoso'));
    const all = await api.admin.call('GET', `/api/audit?limit=50&q=${tag}`);
    assert.equal(all.body.length, 50, 'an admin of every tenant still sees every tenant');
  });
});
