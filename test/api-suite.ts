// The control plane's API suite. It runs on the embedded database (api-pglite.test.ts) and on
// PostgreSQL (api-postgres.test.ts): the same requests, the same answers.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { secretBox } from '../m365/secret-box.ts';
import { migrate } from '../server/db.ts';
import { tenantDirectory } from '../m365/tenant-directory.ts';
import { Tenants } from '../server/tenants.ts';
import { pollApi, startApiServer, type ApiServer, type Caller, type DbKind } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

/** A runbook that needs no catalog action: an approval about a user, then an end. */
export const reviewRunbook = (name = 'Access review') => ({
  name,
  inputs: [
    { name: 'user', type: 'user', required: true, title: 'User' },
    { name: 'reason', type: 'string' },
    { name: 'days', type: 'number' },
  ],
  nodes: [
    { id: 'approve', kind: 'approval', approvers: { roles: ['approver'] }, message: 'Review access of {{ inputs.user }}' },
    { id: 'done', kind: 'end', status: 'succeeded', message: 'reviewed' },
    { id: 'refused', kind: 'end', status: 'succeeded', message: 'refused' },
  ],
  edges: [
    { source: 'approve', sourceHandle: 'approved', target: 'done' },
    { source: 'approve', sourceHandle: 'rejected', target: 'refused' },
  ],
});

export function apiSuite(kind: DbKind): void {
  let env: TestEnv;
  let server: ApiServer;
  let admin: Caller, designer: Caller, operator: Caller, approver: Caller, viewer: Caller, nobody: Caller, scoped: Caller;
  let finance: { userPrincipalName: string }, sales: { userPrincipalName: string };

  before(async () => {
    env = await startTestEnv();
    server = await startApiServer(env, { db: kind });
    admin = server.admin;
    designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
    operator = await server.as('operator@contoso.test', [{ tenant: 'sandbox', role: 'operator' }]);
    approver = await server.as('approver@contoso.test', [{ tenant: 'sandbox', role: 'approver' }]);
    viewer = await server.as('viewer@contoso.test', [{ tenant: 'sandbox', role: 'viewer' }]);
    nobody = await server.as('nobody@contoso.test', []);
    scoped = await server.as('finance.helpdesk@contoso.test', [{ tenant: 'sandbox', role: 'operator', scope: { department: ['Finance'] } }]);
    const users = (await env.graph.api('/users').select('userPrincipalName,department').top(999).get()).value as { userPrincipalName: string; department?: string }[];
    finance = users.find((u) => u.department === 'Finance')!;
    sales = users.find((u) => u.department && u.department !== 'Finance')!;
    assert.ok(finance && sales, 'the sandbox has users in Finance and another department');
    const created = await designer.call('POST', '/api/runbooks', { id: 'access-review', definition: reviewRunbook(), customAction: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await designer.call('POST', '/api/runbooks/access-review/publish', {})).status, 201);
  });
  after(async () => {
    await server?.close();
    await env?.close();
  });

  const startReview = (who: Caller, inputs: Record<string, unknown> = { user: finance.userPrincipalName }) => who.call('POST', '/api/runs', { runbookId: 'access-review', inputs });

  describe(`storage (${kind})`, () => {
    it('applies each migration once', async () => {
      const rows = await server.db.query('select version from schema_migrations order by version');
      assert.ok(rows.length >= 1);
      assert.deepEqual(await migrate(server.db), []);
    });
  });

  describe(`sign-in (${kind})`, () => {
    it('refuses anonymous and unknown tokens', async () => {
      assert.equal((await fetch(`${server.base}/api/runbooks`)).status, 401);
      const bad = await fetch(`${server.base}/api/runbooks`, { headers: { authorization: 'Bearer tf_nope' } });
      assert.equal(bad.status, 401);
      assert.equal((await fetch(`${server.base}/api/health`)).status, 200);
    });

    it('one-time password, sessions as HttpOnly cookies, CSRF on cookie writes', async () => {
      const created = await admin.call('POST', '/api/users', { email: 'new.person@contoso.test', grants: [{ tenant: 'sandbox', role: 'viewer' }] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const otp = created.body.oneTimePassword as string;
      assert.match(otp, /^\w{5}-\w{5}-\w{5}-\w{5}$/);
      const stored = await server.db.one('select password_hash from users where email = $1', ['new.person@contoso.test']);
      assert.match(stored!.password_hash, /^scrypt\$/);
      assert.ok(!stored!.password_hash.includes(otp));

      const wrong = await fetch(`${server.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'new.person@contoso.test', password: 'nope' }) });
      assert.equal(wrong.status, 401);
      const login = await fetch(`${server.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'new.person@contoso.test', password: otp }) });
      assert.equal(login.status, 200);
      const setCookie = login.headers.getSetCookie();
      const session = setCookie.find((c) => c.startsWith('tf_session='))!;
      assert.match(session, /HttpOnly/i);
      assert.match(session, /SameSite=Lax/i);
      const cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
      const { csrfToken, mustChangePassword } = (await login.json()) as { csrfToken: string; mustChangePassword: boolean };
      assert.equal(mustChangePassword, true);

      const blocked = await fetch(`${server.base}/api/runbooks`, { headers: { cookie } });
      assert.equal(blocked.status, 403);
      assert.equal(((await blocked.json()) as { code: string }).code, 'password_change_required');

      const change = (headers: Record<string, string>) =>
        fetch(`${server.base}/api/auth/password`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ currentPassword: otp, newPassword: 'a much longer passphrase' }) });
      const noCsrf = await change({});
      assert.equal(noCsrf.status, 403);
      assert.equal(((await noCsrf.json()) as { code: string }).code, 'csrf');
      assert.equal((await change({ 'x-csrf-token': csrfToken })).status, 200);
      assert.equal((await fetch(`${server.base}/api/runbooks`, { headers: { cookie } })).status, 200);

      const me = (await (await fetch(`${server.base}/api/auth/me`, { headers: { cookie } })).json()) as { user: { email: string }; grants: { role: string }[] };
      assert.equal(me.user.email, 'new.person@contoso.test');
      assert.deepEqual(me.grants.map((g) => g.role), ['viewer']);
      await fetch(`${server.base}/api/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
      assert.equal((await fetch(`${server.base}/api/runbooks`, { headers: { cookie } })).status, 401);
    });

    it('API tokens are shown once, stored hashed, and can be revoked', async () => {
      const t = await viewer.call('POST', '/api/auth/tokens', { name: 'nightly export' });
      assert.equal(t.status, 201);
      assert.match(t.body.token, /^tf_/);
      const rows = await server.db.query('select token_hash from api_tokens where id = $1', [t.body.id]);
      assert.notEqual(rows[0]!.token_hash, t.body.token);
      const use = () => fetch(`${server.base}/api/runbooks`, { headers: { authorization: `Bearer ${t.body.token}` } });
      assert.equal((await use()).status, 200);
      const list = await viewer.call('GET', '/api/auth/tokens');
      assert.ok(list.body.some((x: { id: string; token?: string }) => x.id === t.body.id && x.token === undefined));
      assert.equal((await viewer.call('DELETE', `/api/auth/tokens/${t.body.id}`)).status, 200);
      assert.equal((await use()).status, 401);
    });

    it('reports OpenID Connect as not configured here', async () => {
      const r = await nobody.call('GET', '/api/auth/oidc');
      assert.deepEqual(r.body, { enabled: false });
      assert.equal((await fetch(`${server.base}/api/auth/oidc/login`, { redirect: 'manual' })).status, 404);
    });
  });

  describe(`role matrix (${kind})`, () => {
    it('each role against each endpoint', async () => {
      const who = { admin, designer, operator, approver, viewer, nobody };
      type Who = keyof typeof who;
      const expect = async (name: string, call: (c: Caller) => Promise<{ status: number; body: unknown }>, allowed: Partial<Record<Who, number>>) => {
        for (const [role, status] of Object.entries(allowed) as [Who, number][]) {
          const r = await call(who[role]);
          assert.equal(r.status, status, `${name} as ${role}: ${JSON.stringify(r.body)}`);
        }
      };
      await expect('list runbooks', (c) => c.call('GET', '/api/runbooks'), { admin: 200, designer: 200, operator: 200, approver: 200, viewer: 200, nobody: 403 });
      let n = 0;
      await expect('create runbook', (c) => c.call('POST', '/api/runbooks', { id: `matrix-${n++}-${randomUUID().slice(0, 4)}`, definition: reviewRunbook('Matrix') }), {
        admin: 201,
        designer: 201,
        operator: 403,
        approver: 403,
        viewer: 403,
        nobody: 403,
      });
      await expect('publish', (c) => c.call('POST', '/api/runbooks/access-review/publish', {}), { admin: 201, designer: 201, operator: 403, approver: 403, viewer: 403, nobody: 403 });
      // Someone with no role on any tenant cannot see the runbook at all: its existence is not told (404).
      await expect('start a custom action', (c) => startReview(c), { admin: 201, designer: 201, operator: 201, approver: 403, viewer: 403, nobody: 404 });
      await expect('run an inline definition', (c) => c.call('POST', '/api/runs', { definition: reviewRunbook(), inputs: { user: finance.userPrincipalName } }), {
        admin: 201,
        designer: 201,
        operator: 403,
        approver: 403,
        viewer: 403,
        nobody: 403,
      });
      await expect('list runs', (c) => c.call('GET', '/api/runs'), { admin: 200, designer: 200, operator: 200, approver: 200, viewer: 200, nobody: 200 });
      await expect('audit log', (c) => c.call('GET', '/api/audit'), { admin: 200, designer: 403, operator: 403, approver: 403, viewer: 403, nobody: 403 });
      await expect('add a tenant', (c) => c.call('POST', '/api/tenants', { name: `t-${randomUUID().slice(0, 6)}`, tenantId: 'contoso.onmicrosoft.com', clientId: 'abc', clientSecret: 'shh' }), {
        admin: 201,
        designer: 403,
        operator: 403,
        approver: 403,
        viewer: 403,
        nobody: 403,
      });
      await expect('test a tenant', (c) => c.call('POST', '/api/tenants/sandbox/test'), { admin: 200, designer: 403, operator: 403, approver: 403, viewer: 403, nobody: 403 });
      await expect('create an account', (c) => c.call('POST', '/api/users', { email: `p${randomUUID().slice(0, 6)}@contoso.test` }), { admin: 201, designer: 403, operator: 403, approver: 403, viewer: 403, nobody: 403 });
      await expect('list accounts', (c) => c.call('GET', '/api/users'), { admin: 200, designer: 403, operator: 403, approver: 403, viewer: 403, nobody: 403 });
      const run = await startReview(operator);
      await pollApi(viewer, `/api/runs/${run.body.id}`, (r) => r.status === 'waiting-approval');
      await expect('see a run', (c) => c.call('GET', `/api/runs/${run.body.id}`), { admin: 200, designer: 200, operator: 200, approver: 200, viewer: 200, nobody: 404 });
      await expect('cancel a run', (c) => c.call('POST', `/api/runs/${run.body.id}/cancel`), { nobody: 404, viewer: 403, approver: 403, operator: 202 });
      await pollApi(viewer, `/api/runs/${run.body.id}`, (r) => r.status === 'cancelled');
      await expect('cancel a finished run', (c) => c.call('POST', `/api/runs/${run.body.id}/cancel`), { admin: 409 });
      // The sandbox is where designers try runbooks: they may operate its runs too.
      const test = await startReview(operator);
      await expect('cancel a sandbox run', (c) => c.call('POST', `/api/runs/${test.body.id}/cancel`), { viewer: 403, designer: 202 });
    });
  });

  describe(`runbooks (${kind})`, () => {
    it('drafts, publish with problems named by node and field, versions, diff, export / import, clone, archive', async () => {
      const draft = { name: 'Offboard', nodes: [{ id: 'wait', kind: 'delay' }, { id: 'end', kind: 'end' }], edges: [{ source: 'wait', target: 'gone' }] };
      const c = await designer.call('POST', '/api/runbooks', { definition: draft });
      assert.equal(c.status, 201);
      assert.equal(c.body.id, 'offboard');
      assert.equal(c.body.hasUnpublishedChanges, true);
      const bad = await designer.call('POST', '/api/runbooks/offboard/publish', {});
      assert.equal(bad.status, 422);
      assert.ok(bad.body.problems.some((p: { nodeId?: string; field?: string }) => p.field?.includes('target') || p.nodeId), JSON.stringify(bad.body));

      const v1def = { ...reviewRunbook('Offboard'), description: 'first' };
      const saved = await designer.call('PUT', '/api/runbooks/offboard/draft', { definition: v1def });
      assert.equal(saved.status, 200);
      assert.deepEqual(saved.body.problems, []);
      const v1 = await designer.call('POST', '/api/runbooks/offboard/publish', { comment: 'first cut' });
      assert.equal(v1.status, 201);
      assert.equal(v1.body.version, 1);
      const v2def = { ...v1def, nodes: v1def.nodes.map((n) => (n.id === 'approve' ? { ...n, message: 'Offboard {{ inputs.user }}?' } : n)) };
      await designer.call('PUT', '/api/runbooks/offboard/draft', { definition: v2def });
      assert.equal((await designer.call('POST', '/api/runbooks/offboard/publish', {})).body.version, 2);
      const versions = await viewer.call('GET', '/api/runbooks/offboard/versions');
      assert.deepEqual(versions.body.map((v: { version: number }) => v.version), [2, 1]);
      assert.equal(versions.body[1].comment, 'first cut');
      const diff = await viewer.call('GET', '/api/runbooks/offboard/diff?from=1&to=2');
      assert.equal(diff.status, 200);
      assert.deepEqual(diff.body.nodes.changed, [{ id: 'approve', fields: ['message'] }]);
      assert.deepEqual(diff.body.nodes.added, []);
      const v1read = await viewer.call('GET', '/api/runbooks/offboard/versions/1');
      assert.equal(v1read.body.definition.nodes[0].message, 'Review access of {{ inputs.user }}');

      const file = await viewer.call('GET', '/api/runbooks/offboard/export');
      assert.equal(file.body.version, 2);
      assert.match(file.headers.get('content-disposition') ?? '', /offboard\.v2\.json/);
      const imported = await designer.call('POST', '/api/runbooks/import', { file: file.body, id: 'offboard-imported' });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      assert.equal(imported.body.publishedVersion, 1);
      const clone = await designer.call('POST', '/api/runbooks/offboard/clone', { name: 'Offboard contractors' });
      assert.equal(clone.status, 201);
      assert.equal(clone.body.name, 'Offboard contractors');
      assert.equal(clone.body.latestVersion, undefined);

      assert.equal((await designer.call('PATCH', '/api/runbooks/offboard', { archived: true })).body.archived, true);
      assert.ok(!(await viewer.call('GET', '/api/runbooks')).body.some((r: { id: string }) => r.id === 'offboard'));
      const archivedRun = await designer.call('POST', '/api/runs', { runbookId: 'offboard', inputs: { user: finance.userPrincipalName } });
      assert.equal(archivedRun.status, 409);
      assert.equal((await designer.call('PUT', '/api/runbooks/offboard/draft', { definition: v1def })).status, 409);
      const seeded = await viewer.call('GET', '/api/runbooks/onboarding');
      assert.equal(seeded.body.version, 1);
      assert.equal(seeded.body.customAction, true);
    });

    it('Microsoft 365 rule warnings: on save, validate and publish, without blocking publishing', async () => {
      const def = {
        name: 'Strip licences',
        inputs: [{ name: 'user', type: 'user', required: true }],
        nodes: [{ id: 'strip', kind: 'action', action: 'licence.removeAll', params: { user: '{{ inputs.user }}' } }],
      };
      assert.equal((await designer.call('POST', '/api/runbooks', { id: 'strip-licences', definition: def })).status, 201);
      const checked = await viewer.call('POST', '/api/runbooks/strip-licences/validate');
      assert.equal(checked.body.ok, true);
      const w = checked.body.warnings.find((x: { rule: string }) => x.rule === 'licence-before-shared-mailbox');
      assert.equal(w?.nodeId, 'strip', JSON.stringify(checked.body));
      assert.match(w.link, /^https:\/\/learn\.microsoft\.com\//);
      assert.equal(w.fix.action, 'mailbox.convertToShared');
      const published = await designer.call('POST', '/api/runbooks/strip-licences/publish', {});
      assert.equal(published.status, 201, JSON.stringify(published.body));
      assert.ok(published.body.warnings.some((x: { rule: string }) => x.rule === 'licence-before-shared-mailbox'));
      const inline = await viewer.call('POST', '/api/runbooks/validate', def);
      assert.equal(inline.status, 200);
      assert.ok(inline.body.warnings.length > 0);
    });
  });

  describe(`bad requests (${kind})`, () => {
    it('bad JSON, unknown fields, wrong types and bad inputs are 400 naming the field, never 500', async () => {
      const badJson = await operator.call('POST', '/api/runs', '{"runbookId":', { 'content-type': 'application/json' });
      assert.equal(badJson.status, 400);
      const unknown = await operator.call('POST', '/api/runs', { runbookId: 'access-review', inputs: {}, colour: 'blue' });
      assert.equal(unknown.status, 400);
      assert.deepEqual(unknown.body.problems, [{ field: 'colour', message: 'unknown field colour' }]);
      const wrongType = await operator.call('POST', '/api/runs', { runbookId: 'access-review', inputs: [] });
      assert.equal(wrongType.status, 400);
      assert.equal(wrongType.body.problems[0].field, 'inputs');
      const inputs = await startReview(operator, { user: 'not a user', days: 'many', extra: 1 });
      assert.equal(inputs.status, 400);
      assert.deepEqual(inputs.body.problems.map((p: { field: string }) => p.field).sort(), ['inputs.days', 'inputs.extra', 'inputs.user']);
      const query = await viewer.call('GET', '/api/runs?pageSize=lots&status=sleeping');
      assert.equal(query.status, 400);
      assert.deepEqual(query.body.problems.map((p: { field: string }) => p.field).sort(), ['pageSize', 'status']);
      for (const [method, path, body] of [
        ['POST', '/api/runbooks', { definition: 'x' }],
        ['PUT', '/api/runbooks/access-review/draft', { definition: null }],
        ['POST', '/api/schedules', { runbookId: 'access-review', cron: ['* * * * *'], every: ['1h'] }],
        ['POST', '/api/tenants', { name: 'Bad Name!' }],
        ['POST', '/api/users', { email: 'not-an-email' }],
        ['POST', '/api/runs/bulk', { runbookId: 'access-review' }],
        ['POST', '/api/runs/x/approvals/y', { decision: 'maybe' }],
      ] as const) {
        const r = await admin.call(method, path, body);
        assert.equal(r.status, 400, `${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.ok(Array.isArray(r.body.problems) && r.body.problems.length > 0, `${method} ${path} names the field`);
      }
      assert.equal((await viewer.call('GET', '/api/nothing-here')).status, 404);
    });
  });

  describe(`approvals (${kind})`, () => {
    it('an inbox by role; GET never decides; self-approval refused; decisions recorded and shown on the run', async () => {
      const started = await startReview(operator, { user: finance.userPrincipalName, reason: 'quarterly' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const id = started.body.id as string;
      await pollApi(viewer, `/api/runs/${id}`, (r) => r.status === 'waiting-approval');

      const inbox = await pollApi(approver, '/api/approvals', (items) => items.some((i: { runId: string }) => i.runId === id));
      const item = inbox.find((i: { runId: string }) => i.runId === id);
      assert.equal(item.message, `Review access of ${finance.userPrincipalName}`);
      assert.equal(item.startedBy, 'operator@contoso.test');
      assert.equal(item.inputs.reason, 'quarterly');
      assert.deepEqual(item.onApproval.map((n: { id: string }) => n.id), ['done']);
      assert.ok(!(await viewer.call('GET', '/api/approvals')).body.some((i: { runId: string }) => i.runId === id), 'a viewer is not an approver');

      // A mail scanner or chat preview opening the link: nothing is decided.
      const viaGet = await fetch(`${server.base}/api/runs/${id}/approvals/approve?decision=approve`, { headers: { authorization: `Bearer ${approver.token}` } });
      assert.equal(viaGet.status, 405);
      const anonymous = await fetch(`${server.base}/api/runs/${id}/approvals/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"decision":"approve"}' });
      assert.equal(anonymous.status, 401);
      // An outsider: the workflow's Update validator refuses, and the API says why.
      const outsider = await viewer.call('POST', `/api/runs/${id}/approvals/approve`, { decision: 'approve' });
      assert.equal(outsider.status, 403);
      assert.equal(outsider.body.reason, 'not-approver');
      assert.match(outsider.body.error, /viewer@contoso\.test is not an approver of step "approve" \(approvers: role:approver\)/);

      // The operator who started it holds admin-like rights nowhere: refused as the requester.
      const opAlsoApprover = await server.services.people.byEmail('operator@contoso.test');
      await server.services.people.grant(opAlsoApprover!.id, 'sandbox', 'approver');
      const self = await operator.call('POST', `/api/runs/${id}/approvals/approve`, { decision: 'approve' });
      assert.equal(self.status, 403);
      assert.match(self.body.error, /you started this run/);
      assert.equal((await viewer.call('GET', `/api/runs/${id}`)).body.status, 'waiting-approval');

      const ok = await approver.call('POST', `/api/runs/${id}/approvals/approve`, { decision: 'approve', comment: 'looks right' });
      assert.equal(ok.status, 202);
      assert.equal(ok.body.recorded.by, 'approver@contoso.test');
      assert.equal(ok.body.recorded.refused, undefined);
      const done = await pollApi(viewer, `/api/runs/${id}`, (r) => r.status === 'succeeded');
      assert.equal(done.nodes.done.status, 'succeeded');
      assert.deepEqual(
        done.decisions.map((d: { by: string; decision: string; comment?: string }) => [d.by, d.decision, d.comment]),
        [['approver@contoso.test', 'approve', 'looks right']],
      );
      const again = await approver.call('POST', `/api/runs/${id}/approvals/approve`, { decision: 'approve' });
      assert.equal(again.status, 409);
      const audit = await admin.call('GET', `/api/audit?target=${id}`);
      assert.deepEqual(audit.body.map((e: { action: string }) => e.action).sort(), ['approval.approve', 'approval.refused', 'run.started']);
      assert.equal(audit.body.find((e: { action: string }) => e.action === 'approval.approve').detail.comment, 'looks right');
    });
  });

  describe(`operator scope (${kind})`, () => {
    it('a run outside the caller\'s scope is refused, inside it starts', async () => {
      const inside = await startReview(scoped, { user: finance.userPrincipalName });
      assert.equal(inside.status, 201, JSON.stringify(inside.body));
      const outside = await startReview(scoped, { user: sales.userPrincipalName });
      assert.equal(outside.status, 403);
      assert.equal(outside.body.problems[0].field, 'inputs.department');
      assert.match(outside.body.problems[0].message, /outside your operator scope/);
      const unscoped = await startReview(operator, { user: sales.userPrincipalName });
      assert.equal(unscoped.status, 201);
      await operator.call('POST', `/api/runs/${unscoped.body.id}/cancel`);
      await scoped.call('POST', `/api/runs/${inside.body.id}/cancel`);
    });
  });

  describe(`bulk runs from CSV (${kind})`, () => {
    it('reports each kind of bad row and starts nothing, unless bad rows are skipped', async () => {
      const csv = [
        'user,reason,days',
        `${finance.userPrincipalName},good row,3`,
        ',missing user,1',
        'not-an-email,bad type,2',
        `${finance.userPrincipalName},good row,3`,
        `ghost.${randomUUID().slice(0, 6)}@${env.sandbox.tenant.domain},unknown user,1`,
        `${finance.userPrincipalName},bad number,many`,
        `"${sales.userPrincipalName}","quoted, with comma",4`,
      ].join('\r\n');
      // A real start checks the file at once and refuses it; the dry run also asks the tenant (unknown users).
      const refused = await operator.call('POST', '/api/runs/bulk', { runbookId: 'access-review', csv });
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.equal(refused.body.started, 0);
      const r = await operator.call('POST', '/api/runs/bulk', { runbookId: 'access-review', csv, dryRun: true });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.started, 0);
      const byLine = Object.fromEntries(r.body.rows.map((row: { line: number; problems: { kind: string; field: string }[] }) => [row.line, row.problems.map((p) => `${p.kind}:${p.field}`)]));
      assert.deepEqual(byLine, {
        2: [],
        3: ['type:user'],
        4: ['type:user'],
        5: ['duplicate:(row)'],
        6: ['unknown-user:user'],
        7: ['type:days'],
        8: [],
      });
      const missingColumn = await operator.call('POST', '/api/runs/bulk', { runbookId: 'access-review', csv: 'reason,colour\nx,blue\n' });
      assert.equal(missingColumn.status, 422);
      assert.deepEqual(missingColumn.body.columns.missing, ['user']);
      assert.deepEqual(missingColumn.body.columns.unknown, ['colour']);
      assert.equal(missingColumn.body.rows[0].problems[0].kind, 'missing-column');

      const scopedRun = await scoped.call('POST', '/api/runs/bulk', { runbookId: 'access-review', csv: `user\n${finance.userPrincipalName}\n${sales.userPrincipalName}\n`, dryRun: true });
      assert.deepEqual(scopedRun.body.rows.map((x: { problems: { kind: string }[] }) => x.problems.map((p) => p.kind)), [[], ['scope']]);

      const skip = await operator.call('POST', '/api/runs/bulk', { runbookId: 'access-review', csv, skipBadRows: true });
      assert.equal(skip.status, 202, JSON.stringify(skip.body));
      assert.equal(skip.body.started, 3);
      assert.deepEqual(skip.body.rows.map((x: { line: number }) => x.line), [3, 4, 5, 7]);
      // The unknown user is the tenant's to say: that row is skipped as the batch runs.
      const running = await pollApi(viewer, `/api/batches/${skip.body.batch}/rows?status=running,skipped`, (b) => b.rows.length === 7 && b.rows.filter((x: { status: string }) => x.status === 'running').length === 2);
      const byStatus = Object.fromEntries(running.rows.map((x: { line: number; status: string; problems?: { kind: string }[] }) => [x.line, `${x.status}${x.problems ? `:${x.problems.map((p) => p.kind).join(',')}` : ''}`]));
      assert.deepEqual(byStatus, { 2: 'running', 3: 'skipped:type', 4: 'skipped:type', 5: 'skipped:duplicate', 6: 'skipped:unknown-user', 7: 'skipped:type', 8: 'running' });
      const line8 = running.rows.find((x: { line: number }) => x.line === 8);
      const run = await pollApi(viewer, `/api/runs/${line8.runId}`, (x) => x.status === 'waiting-approval');
      assert.equal(run.inputs.reason, 'quoted, with comma');
      assert.equal(run.origin.bulk, skip.body.batch);
      for (const row of running.rows.filter((x: { runId?: string }) => x.runId)) await operator.call('POST', `/api/runs/${row.runId}/cancel`);
      // Cancelled runs are failed rows; nothing succeeded, so the batch failed.
      const ended = await pollApi(viewer, `/api/batches/${skip.body.batch}`, (b) => b.status !== 'running');
      assert.equal(ended.status, 'failed');
      assert.deepEqual(ended.counts, { pending: 0, running: 0, succeeded: 0, 'succeeded-with-warnings': 0, failed: 2, skipped: 5 });
    });
  });

  describe(`runs (${kind})`, () => {
    it('lists from visibility with filters and paging; a live stream; cancel', async () => {
      const a = await startReview(designer, { user: finance.userPrincipalName });
      const b = await startReview(designer, { user: sales.userPrincipalName });
      const mine = await pollApi(viewer, `/api/runs?requester=designer@contoso.test&runbook=access-review&status=waiting-approval`, (r) =>
        [a.body.id, b.body.id].every((id) => r.runs.some((x: { id: string }) => x.id === id)),
      );
      assert.ok(mine.runs.every((x: { startedBy: string; runbook: string }) => x.startedBy === 'designer@contoso.test' && x.runbook === 'access-review'));
      const page1 = await viewer.call('GET', '/api/runs?pageSize=1&runbook=access-review');
      assert.equal(page1.body.runs.length, 1);
      assert.ok(page1.body.nextPageToken);
      const page2 = await viewer.call('GET', `/api/runs?pageSize=1&runbook=access-review&pageToken=${page1.body.nextPageToken}`);
      assert.notEqual(page2.body.runs[0].id, page1.body.runs[0].id);
      assert.equal((await viewer.call('GET', '/api/runs?tenant=elsewhere')).body.runs.length, 0);

      const ctl = new AbortController();
      const res = await fetch(`${server.base}/api/runs/${a.body.id}/events`, { headers: { authorization: `Bearer ${viewer.token}` }, signal: ctl.signal });
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      const readUntil = async (re: RegExp) => {
        while (!re.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString();
        }
      };
      await readUntil(/event: node\ndata: \{"id":"approve"[^\n]*"waiting-approval"/);
      assert.equal((await designer.call('POST', `/api/runs/${a.body.id}/cancel`)).status, 202);
      await readUntil(/event: end/);
      assert.match(text, /event: end\ndata: \{"id":"[^"]+","status":"cancelled"\}/);
      ctl.abort();
      assert.equal((await designer.call('POST', `/api/runs/${a.body.id}/cancel`)).status, 409);
      await designer.call('POST', `/api/runs/${b.body.id}/cancel`);

      const rerun = await designer.call('POST', `/api/runs/${a.body.id}/rerun`, { version: 'latest' });
      assert.equal(rerun.status, 201);
      const again = await pollApi(viewer, `/api/runs/${rerun.body.id}`, (r) => r.status === 'waiting-approval');
      assert.equal(again.inputs.user, finance.userPrincipalName);
      assert.equal(again.origin.rerunOf, a.body.id);
      await designer.call('POST', `/api/runs/${rerun.body.id}/cancel`);
      assert.equal((await designer.call('POST', `/api/runs/${a.body.id}/retry`, {})).status, 409);
    });
  });

  describe(`secrets in runs (${kind})`, () => {
    it('a secret input travels sealed through Temporal and shows as [secret]', async () => {
      const def = { ...reviewRunbook('Secret'), inputs: [...reviewRunbook().inputs, { name: 'pin', type: 'string', secret: true }] };
      const pin = `pin-${randomUUID()}`;
      const r = await designer.call('POST', '/api/runs', { definition: def, inputs: { user: finance.userPrincipalName, pin } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const run = await pollApi(viewer, `/api/runs/${r.body.id}`, (x) => x.status === 'waiting-approval');
      assert.equal(run.inputs.pin, '[secret]');
      const started = await server.services.runs.input(r.body.id);
      assert.ok(!JSON.stringify(started).includes(pin), 'the secret is not in the run\'s Temporal history');
      assert.match((started!.inputs.pin as { $sealed: string }).$sealed, /^v1:/);
      await designer.call('POST', `/api/runs/${r.body.id}/cancel`);
    });
  });

  describe(`audit of tenant changes (${kind})`, () => {
    it('a step that changed the tenant is in the audit log once, as the application role may write it', async () => {
      // On PostgreSQL the server runs as its own role, which may only append to the audit log and
      // its claims (server/db.ts grantApplication), as in production.
      const upn = `audited.${randomUUID().slice(0, 6)}@${env.sandbox.tenant.domain}`;
      const definition = { name: 'Create one user', nodes: [{ id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: upn, displayName: 'Audited', usageLocation: 'US' } }], edges: [] };
      const r = await admin.call('POST', '/api/runs', { definition, inputs: {} });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await pollApi(viewer, `/api/runs/${r.body.id}`, (x) => x.record?.final === true);
      await server.services.records.sync();
      const entries = (await admin.call('GET', `/api/audit?target=${r.body.id}&action=m365.change`)).body as { actor: string; detail: { step: string; action: string } }[];
      assert.deepEqual(entries.map((e) => [e.actor, e.detail.step, e.detail.action]), [[server.admin.email, 'create', 'user.create']]);
    });
  });

  describe(`tenants (${kind})`, () => {
    it('secrets sealed at rest and never returned; test connection lists missing permissions; workers resolve connections', async () => {
      const secret = `s3cret-${randomUUID()}`;
      const c = await admin.call('POST', '/api/tenants', { name: 'contoso', tenantId: env.sandbox.tenant.tenantId, clientId: 'not-registered', clientSecret: secret, authorityHost: env.sandbox.url, graphUrl: env.sandbox.url, caPem: env.sandbox.caPem });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      assert.equal(c.body.credential, 'secret');
      for (const r of [c, await admin.call('GET', '/api/tenants'), await admin.call('GET', '/api/tenants/contoso')]) assert.ok(!JSON.stringify(r.body).includes(secret));
      const row = await server.db.one('select secret_enc from tenants where name = $1', ['contoso']);
      assert.ok(row!.secret_enc.startsWith('v1:') && !row!.secret_enc.includes(secret));
      const failed = await admin.call('POST', '/api/tenants/contoso/test');
      assert.equal(failed.body.tokenAcquired, false);
      assert.ok(failed.body.error);
      const sandbox = await admin.call('POST', '/api/tenants/sandbox/test');
      assert.equal(sandbox.body.tokenAcquired, true, JSON.stringify(sandbox.body));
      assert.ok(sandbox.body.granted.length > 0);
      assert.ok(Array.isArray(sandbox.body.missing));
      assert.equal((await viewer.call('GET', '/api/tenants/contoso')).status, 404);
      assert.equal((await admin.call('DELETE', '/api/tenants/sandbox')).status, 409);
      const users = await viewer.call('GET', '/api/tenants/sandbox/users?top=5');
      assert.equal(users.status, 200, JSON.stringify(users.body));
      assert.equal(users.body.length, 5);
      const licences = await viewer.call('GET', '/api/tenants/sandbox/licences');
      assert.ok(licences.body.some((l: { value: string }) => l.value === 'SPE_E3'));

      // The worker side: the sealed mirror file (embedded) or the database (PostgreSQL), same key.
      const key = randomBytes(32);
      const dir = mkdtempSync(join(tmpdir(), 'tf-mirror-'));
      try {
        const mirror = join(dir, 'tenants.sealed.json');
        const t = new Tenants(server.db, secretBox(key), [], mirror);
        await t.upsert({ name: 'fabrikam', tenantId: 'fabrikam.onmicrosoft.com', clientId: 'app', clientSecret: 'fabrikam-secret' });
        const directory = tenantDirectory({ box: secretBox(key), mirrorFile: mirror, builtins: [env.tenant] });
        assert.equal((await directory.get('fabrikam')).clientSecret, 'fabrikam-secret');
        assert.equal(await directory.get('fabrikam'), await directory.get('fabrikam'), 'the same object while unchanged (Graph client cache)');
        assert.deepEqual((await directory.list()).filter((n) => ['contoso', 'fabrikam', 'sandbox'].includes(n)).sort(), ['contoso', 'fabrikam', 'sandbox']);
        await assert.rejects(directory.get('nowhere'), /does not exist/);
        await t.remove('fabrikam');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe(`audit log (${kind})`, () => {
    it('records who, what, when and from where; searchable; CSV export; append-only', async () => {
      const all = await admin.call('GET', '/api/audit?action=runbook&limit=500');
      assert.ok(all.body.some((e: { action: string; actor: string; ip?: string }) => e.action === 'runbook.published' && e.actor === 'designer@contoso.test' && e.ip));
      const text = await admin.call('GET', '/api/audit?q=offboard&format=csv');
      assert.match(text.headers.get('content-type') ?? '', /text\/csv/);
      assert.match(text.body as string, /^id,at,actor,action,target,tenant,ip,userAgent,detail,prevHash,hash\r\n/);
      assert.match(text.body as string, /runbook\.archived/);
      // PGlite: the trigger refuses; PostgreSQL: the application's role has no such privilege.
      await assert.rejects(server.db.query('delete from audit_log'), /append-only|permission denied/);
      await assert.rejects(server.db.query(`update audit_log set actor = 'someone else'`), /append-only|permission denied/);
      await assert.rejects(server.db.query('truncate audit_log'), /append-only|permission denied/);
    });
  });
}
