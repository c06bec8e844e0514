// MSP tenancy through the HTTP API (issue 16, finding 10): operator scope by group membership, by an
// OData filter on users and by Entra administrative unit (besides department and country), checked
// against the sandbox tenant through Graph when a run starts; and the audit list filtered by the
// caller's tenants before the row limit, so a page is full; and runbooks that belong to a tenant
// (seen, edited, published and run only there, unless an admin of both tenants shares them).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { migrate } from '../server/db.ts';
import { databaseBefore, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
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
  env = await startTestEnv({ worker: false, aliases: ['acme', 'globex'] });
  api = await startApiServer(env);
  for (const name of ['acme', 'globex']) {
    const t = env.tenant;
    const r = await api.admin.call('POST', '/api/tenants', { name, tenantId: t.tenantId, clientId: t.clientId, clientSecret: t.clientSecret, authorityHost: t.authorityHost, graphUrl: t.graphUrl, caPem: t.caPem });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
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

describe('runbooks belong to a tenant (finding 10)', () => {
  const tag = () => randomUUID().slice(0, 6);
  it("a designer of another tenant cannot see, edit, publish or run it until an admin of both shares it; sharing never lets them edit", async () => {
    const t = tag();
    const designerA = await api.as(`da.${t}@tenantflow.test`, [{ tenant: 'acme', role: 'designer' }]);
    const designerB = await api.as(`db.${t}@tenantflow.test`, [{ tenant: 'globex', role: 'designer' }]);
    const designerAB = await api.as(`dab.${t}@tenantflow.test`, [{ tenant: 'acme', role: 'designer' }, { tenant: 'globex', role: 'designer' }]);
    const operatorB = await api.as(`ob.${t}@tenantflow.test`, [{ tenant: 'globex', role: 'operator' }]);
    const adminA = await api.as(`aa.${t}@tenantflow.test`, [{ tenant: 'acme', role: 'admin' }]);
    const adminAB = await api.as(`aab.${t}@tenantflow.test`, [{ tenant: 'acme', role: 'admin' }, { tenant: 'globex', role: 'admin' }]);
    const id = `acme-title-${t}`;

    const made = await designerA.call('POST', '/api/runbooks', { id, definition: RUNBOOK, customAction: true });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.tenant, 'acme', 'owned by the one tenant the designer designs for');
    assert.deepEqual(made.body.sharedWith, []);
    assert.equal((await designerA.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
    const several = await designerAB.call('POST', '/api/runbooks', { definition: RUNBOOK });
    assert.equal(several.status, 400, 'a designer of two tenants names the owner');
    assert.match(JSON.stringify(several.body), /"field":"tenant"/);
    assert.equal((await designerB.call('POST', '/api/runbooks', { definition: RUNBOOK, tenant: 'acme' })).status, 403, 'not a designer of acme');

    // Not shared: globex's designer gets 404 everywhere (its existence is not told), and its people never see it listed.
    const inputs = { user: inside.userPrincipalName, jobTitle: 'Analyst' };
    const hidden = {
      read: await designerB.call('GET', `/api/runbooks/${id}`),
      export: await designerB.call('GET', `/api/runbooks/${id}/export`),
      versions: await designerB.call('GET', `/api/runbooks/${id}/versions`),
      draft: await designerB.call('PUT', `/api/runbooks/${id}/draft`, { definition: { ...RUNBOOK, name: 'Hijacked' } }),
      publish: await designerB.call('POST', `/api/runbooks/${id}/publish`, {}),
      archive: await designerB.call('PATCH', `/api/runbooks/${id}`, { archived: true }),
      clone: await designerB.call('POST', `/api/runbooks/${id}/clone`, {}),
      run: await designerB.call('POST', '/api/runs', { runbookId: id, tenant: 'globex', inputs }),
      testRun: await designerB.call('POST', '/api/runs', { runbookId: id, test: true, inputs }),
      schedule: await designerB.call('POST', '/api/schedules', { runbookId: id, tenant: 'globex', inputs, every: ['1d'], paused: true }),
    };
    for (const [what, r] of Object.entries(hidden)) assert.equal(r.status, 404, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.ok(!(await designerB.call('GET', '/api/runbooks')).body.some((r: { id: string }) => r.id === id));
    assert.ok(!(await operatorB.call('GET', '/api/custom-actions')).body.some((r: { id: string }) => r.id === id));
    assert.equal((await designerA.call('GET', `/api/runbooks/${id}`)).body.draft.name, RUNBOOK.name, 'the draft is untouched');
    // A designer of both tenants sees it, but it runs only on its own tenant until shared.
    const crossRun = await designerAB.call('POST', '/api/runs/bulk', { runbookId: id, tenant: 'globex', csv: `user,jobTitle\n${inside.userPrincipalName},Analyst\n`, dryRun: true });
    assert.equal(crossRun.status, 403, JSON.stringify(crossRun.body));
    assert.match(crossRun.body.error, /not shared with tenant globex/);

    // Sharing needs an admin of every tenant it touches.
    assert.equal((await designerA.call('PATCH', `/api/runbooks/${id}`, { sharedWith: ['globex'] })).status, 403, 'a designer cannot share');
    const half = await adminA.call('PATCH', `/api/runbooks/${id}`, { sharedWith: ['globex'] });
    assert.equal(half.status, 403, 'an admin of acme alone cannot share into globex');
    assert.match(half.body.error, /not an admin of globex/);
    assert.equal((await adminAB.call('PATCH', `/api/runbooks/${id}`, { sharedWith: ['*'] })).status, 403, 'every tenant: a global admin only');
    const shared = await adminAB.call('PATCH', `/api/runbooks/${id}`, { sharedWith: ['globex'] });
    assert.equal(shared.status, 200, JSON.stringify(shared.body));
    assert.deepEqual(shared.body.sharedWith, ['globex']);

    // Shared: globex's people see and run it; its designers still cannot change it.
    assert.equal((await designerB.call('GET', `/api/runbooks/${id}`)).status, 200);
    assert.ok((await operatorB.call('GET', '/api/custom-actions')).body.some((r: { id: string }) => r.id === id));
    assert.equal((await designerB.call('PUT', `/api/runbooks/${id}/draft`, { definition: { ...RUNBOOK, name: 'Hijacked' } })).status, 403);
    assert.equal((await designerB.call('POST', `/api/runbooks/${id}/publish`, {})).status, 403);
    assert.equal((await designerB.call('PATCH', `/api/runbooks/${id}`, { customAction: false })).status, 403);
    const ran = await designerB.call('POST', '/api/runs', { runbookId: id, tenant: 'globex', inputs });
    assert.equal(ran.status, 201, JSON.stringify(ran.body));
    assert.equal((await designerAB.call('POST', '/api/runs/bulk', { runbookId: id, tenant: 'globex', csv: `user,jobTitle\n${inside.userPrincipalName},Analyst\n`, dryRun: true })).status, 200);
    // Unshared again: runs on globex are refused again.
    assert.equal((await adminAB.call('PATCH', `/api/runbooks/${id}`, { sharedWith: [] })).status, 200);
    assert.equal((await designerB.call('POST', '/api/runs', { runbookId: id, tenant: 'globex', inputs })).status, 404);
  });

  it("a sub-runbook of another tenant is as good as missing when publishing", async () => {
    const t = tag();
    const designerA = await api.as(`sa.${t}@tenantflow.test`, [{ tenant: 'acme', role: 'designer' }]);
    const child = await api.admin.call('POST', '/api/runbooks', { id: `globex-child-${t}`, definition: RUNBOOK, tenant: 'globex' });
    assert.equal(child.status, 201, JSON.stringify(child.body));
    assert.equal((await api.admin.call('POST', `/api/runbooks/globex-child-${t}/publish`, {})).status, 201);
    const parent = {
      name: 'Calls globex',
      inputs: RUNBOOK.inputs,
      nodes: [{ id: 'child', kind: 'subRunbook', runbook: `globex-child-${t}`, version: 'latest', inputs: { user: '{{ inputs.user }}', jobTitle: '{{ inputs.jobTitle }}' } }],
      edges: [],
    };
    assert.equal((await designerA.call('POST', '/api/runbooks', { id: `acme-parent-${t}`, definition: parent })).status, 201);
    const refused = await designerA.call('POST', `/api/runbooks/acme-parent-${t}/publish`, {});
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.match(JSON.stringify(refused.body), new RegExp(`globex-child-${t}`));
  });

  it('a global runbook (no owner, shared with every tenant) is seen and run by everyone, changed only by designers of every tenant', async () => {
    const designerA = await api.as(`ga.${tag()}@tenantflow.test`, [{ tenant: 'acme', role: 'designer' }]);
    const rb = await designerA.call('GET', '/api/runbooks/set-title');
    assert.equal(rb.status, 200);
    assert.equal(rb.body.tenant, undefined);
    assert.deepEqual(rb.body.sharedWith, ['*']);
    const edit = await designerA.call('PUT', '/api/runbooks/set-title/draft', { definition: RUNBOOK });
    assert.equal(edit.status, 403);
    assert.match(edit.body.error, /global runbook/);
  });

  it('migration 7: runbooks made before owners existed become global runbooks shared with every tenant', async () => {
    const { pg, db } = await databaseBefore(7);
    await pg.query("insert into runbooks (id, name, created_by) values ('old-one', 'Old one', 'someone@contoso.test')");
    // 7 and whatever came after it (8: stored lists) are applied; 7 is the one under test.
    assert.deepEqual((await migrate(db))[0], 7);
    assert.deepEqual((await pg.query('select owner_tenant, shared_with from runbooks')).rows, [{ owner_tenant: null, shared_with: ['*'] }]);
    await pg.close();
  });
});
