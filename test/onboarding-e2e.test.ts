// End to end through the HTTP API: start the example onboarding runbook, approve it as another
// person, then read the sandbox tenant back through Graph: one user, one licence, one membership.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let base: string;
let server: ApiServer;

before(async () => {
  env = await startTestEnv();
  // Real accounts with API tokens (see test/api-harness.ts): who calls is never taken from a header.
  server = await startApiServer(env, {
    roles: {
      'helpdesk@contoso.com': [{ tenant: 'sandbox', role: 'operator' }],
      'manager@contoso.com': [{ tenant: 'sandbox', role: 'approver' }],
      'm@contoso.com': [{ tenant: 'sandbox', role: 'approver' }],
      'viewer@contoso.com': [{ tenant: 'sandbox', role: 'viewer' }],
      'a@b.c': [{ tenant: 'sandbox', role: 'operator' }],
    },
  });
  base = server.base;
});
after(async () => {
  await server?.close();
  await env?.close();
});

async function api(method: string, path: string, user: string, body?: unknown) {
  const r = await (await server.as(user)).call(method, path, body);
  return { status: r.status, body: r.body as Record<string, any> };
}

async function poll(id: string, until: (run: Record<string, any>) => boolean) {
  for (let i = 0; i < 300; i++) {
    const { body } = await api('GET', `/api/runs/${id}`, 'viewer@contoso.com');
    if (until(body)) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} did not get there`);
}

describe('example onboarding runbook through the API', () => {
  it('starts, waits for approval, refuses the requester, and onboards once approved', async () => {
    const upn = `new.hire.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    const started = await api('POST', '/api/runs', 'helpdesk@contoso.com', {
      runbookId: 'onboarding',
      inputs: { userPrincipalName: upn, givenName: 'New', surname: 'Hire', jobTitle: 'Analyst', department: 'Finance' },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id = started.body.id as string;

    const waiting = await poll(id, (r) => r.nodes?.approve_request?.status === 'waiting-approval');
    assert.equal(waiting.status, 'waiting-approval');
    assert.equal(waiting.nodes.approve_request.approval.message, 'Create an account for New Hire (Analyst, Finance)?');
    assert.equal(waiting.nodes.create_user.status, 'pending');

    const self = await api('POST', `/api/runs/${id}/approvals/approve_request`, 'helpdesk@contoso.com', { decision: 'approve' });
    assert.equal(self.status, 403);
    assert.match(self.body.error, /you started this run/);

    const ok = await api('POST', `/api/runs/${id}/approvals/approve_request`, 'manager@contoso.com', {
      decision: 'approve',
      comment: 'Welcome aboard',
    });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));

    const final = await poll(id, (r) => r.status === 'succeeded' || r.status === 'failed');
    assert.equal(final.status, 'succeeded', JSON.stringify(final, null, 2));
    for (const node of ['approve_request', 'create_user', 'assign_licence', 'add_to_group', 'done'])
      assert.equal(final.nodes[node].status, 'succeeded', node);
    assert.equal(final.nodes.rejected.status, 'skipped');
    assert.equal(final.nodes.approve_request.approval.decisions.at(-1).by, 'manager@contoso.com');

    // The tenant, read back through Graph.
    const users = await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).select('id,displayName,jobTitle,usageLocation,assignedLicenses').get();
    assert.equal(users.value.length, 1);
    const user = users.value[0];
    assert.equal(user.displayName, 'New Hire');
    assert.equal(user.jobTitle, 'Analyst');
    const skus = (await env.graph.api('/subscribedSkus').get()).value as { skuId: string; skuPartNumber: string }[];
    const e3 = skus.find((s) => s.skuPartNumber === 'SPE_E3')!;
    assert.deepEqual(user.assignedLicenses.map((l: { skuId: string }) => l.skuId), [e3.skuId]);
    const group = (await env.graph.api('/groups').filter("displayName eq 'All Company'").get()).value[0];
    const members = (await env.graph.api(`/groups/${group.id}/members`).select('id').top(999).get()).value as { id: string }[];
    assert.equal(members.filter((m) => m.id === user.id).length, 1);

    // And the sandbox's own ledger: each write happened exactly once.
    assert.deepEqual(env.sandbox.admin.mutationSummary({ objectId: user.id }), {
      'user.create': 1,
      'user.assignLicense': 1,
      'group.addMember': 1,
    });
  });

  it('refuses bad input with the field named, and never a 500', async () => {
    const missing = await api('POST', '/api/runs', 'helpdesk@contoso.com', { runbookId: 'onboarding', inputs: { givenName: 'A' } });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.problems.map((p: { field: string }) => p.field).sort(), ['inputs.surname', 'inputs.userPrincipalName']);
    const unknown = await api('POST', '/api/runs', 'helpdesk@contoso.com', { runbookId: 'onboarding', inputz: {} });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.body.problems), /unknown field inputz/);
    const badJson = await fetch(`${base}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${(await server.as('a@b.c')).token}` }, body: '{"runbookId":' });
    assert.equal(badJson.status, 400);
    const badDef = await api('POST', '/api/runs', 'helpdesk@contoso.com', {
      definition: { name: 'x', nodes: [{ id: 'a', kind: 'action', action: 'user.nope', params: {} }] },
    });
    assert.equal(badDef.status, 400);
    assert.deepEqual(badDef.body.problems, [{ nodeId: 'a', field: 'action', message: 'unknown action "user.nope": pick one from the catalog (GET /api/actions)' }]);
    const notWaiting = await api('POST', '/api/runs/run-nope/approvals/x', 'm@contoso.com', { decision: 'approve' });
    assert.equal(notWaiting.status, 404);
  });
});
