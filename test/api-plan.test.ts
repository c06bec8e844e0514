// Plans through the API and the CLI (docs/plan.md): POST /api/runs/plan for one set of inputs and
// for a page of CSV rows, who may ask, bad input, secrets kept out of the answer, the approvals
// inbox carrying the plan of what an approval gates, and `tenantflow runs plan` / `runs undo`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { secretBox } from '../m365/secret-box.ts';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let env: TestEnv;
let server: ApiServer;
let operator: Caller;
let approver: Caller;
let designer: Caller;
let viewer: Caller;
let dir: string;

before(async () => {
  // The worker opens what the server seals with the same key, as in production.
  const box = secretBox(randomBytes(32));
  env = await startTestEnv({ secrets: box });
  server = await startApiServer(env, { secretBox: box });
  operator = await server.as('helpdesk@contoso.test', [{ tenant: 'sandbox', role: 'operator' }]);
  approver = await server.as('manager@contoso.test', [{ tenant: 'sandbox', role: 'approver' }]);
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  viewer = await server.as('viewer@contoso.test', [{ tenant: 'sandbox', role: 'viewer' }]);
  dir = mkdtempSync(join(tmpdir(), 'tenantflow-plan-'));
});
after(async () => {
  await server?.close();
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const upn = (tag: string) => `${tag}.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
const hire = (u: string) => ({ userPrincipalName: u, givenName: 'Plan', surname: 'Api', jobTitle: 'Analyst', department: 'Finance' });
const stepOf = (plan: any, id: string) => plan.steps.find((s: { nodeId: string }) => s.nodeId === id);

function cli(caller: Caller, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const config = join(dir, `${caller.email}.json`);
  writeFileSync(config, JSON.stringify({ url: server.base, token: caller.token }));
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'cli', 'main.ts'), ...args], { env: { ...process.env, TENANTFLOW_CONFIG: config, TENANTFLOW_URL: '', TENANTFLOW_TOKEN: '' }, cwd: dir }, (err, out, errOut) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

describe('POST /api/runs/plan', () => {
  it('answers what the onboarding runbook would change, and changes nothing', async () => {
    const u = upn('api.plan');
    const r = await operator.call('POST', '/api/runs/plan', { runbookId: 'onboarding', inputs: hire(u) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.planVersion, 1);
    assert.deepEqual(r.body.runbook, { id: 'onboarding', version: 1, name: 'Onboard a new employee' });
    assert.equal(r.body.tenant, 'sandbox');
    const create = stepOf(r.body, 'create_user');
    assert.equal(create.runs, 'if');
    assert.deepEqual(create.plan.changes[0], { object: `user ${u}`, objectId: { $knownAfterRun: 'output.id' }, property: 'exists', before: false, after: true });
    assert.equal(r.body.summary.changes, 3);
    assert.equal((await env.graph.api('/users').filter(`userPrincipalName eq '${u}'`).get()).value.length, 0);
    const audit = await server.admin.call('GET', '/api/audit?action=run.planned');
    assert.ok(audit.body.some((e: { actor: string; target: string }) => e.actor === 'helpdesk@contoso.test' && e.target === 'onboarding'));
  });

  it('refuses bad input with the field named, people who may not start the run, and unknown runbooks', async () => {
    const missing = await operator.call('POST', '/api/runs/plan', { runbookId: 'onboarding', inputs: { givenName: 'A' } });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.problems.map((p: { field: string }) => p.field).sort(), ['inputs.surname', 'inputs.userPrincipalName']);
    const both = await operator.call('POST', '/api/runs/plan', { runbookId: 'onboarding', inputs: {}, csv: 'a\n1' });
    assert.equal(both.status, 400);
    assert.match(JSON.stringify(both.body.problems), /either inputs or csv/);
    assert.equal((await viewer.call('POST', '/api/runs/plan', { runbookId: 'onboarding', inputs: hire(upn('v')) })).status, 403);
    assert.equal((await operator.call('POST', '/api/runs/plan', { definition: { name: 'x', nodes: [{ id: 'a', kind: 'end' }] } })).status, 403);
    assert.equal((await operator.call('POST', '/api/runs/plan', { runbookId: 'nope', inputs: {} })).status, 404);
    const unknownTenant = await operator.call('POST', '/api/runs/plan', { runbookId: 'onboarding', tenant: 'nope', inputs: hire(upn('t')) });
    assert.equal(unknownTenant.status, 400);
  });

  it('keeps secrets out of the answer', async () => {
    const target = (await env.graph.api('/users').filter("userType eq 'Member'").select('userPrincipalName').top(1).get()).value[0].userPrincipalName as string;
    const r = await designer.call('POST', '/api/runs/plan', {
      test: true,
      definition: {
        name: 'reset',
        inputs: [{ name: 'user', type: 'user', required: true }, { name: 'password', type: 'string', required: true, secret: true }],
        nodes: [{ id: 'reset', kind: 'action', action: 'user.resetPassword', params: { user: '{{ inputs.user }}', password: '{{ inputs.password }}' } }],
      },
      inputs: { user: target, password: 'Sup3r-Secret-Plan!' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(!JSON.stringify(r.body).includes('Sup3r-Secret-Plan!'));
    const reset = stepOf(r.body, 'reset');
    assert.equal(reset.params.password, '[secret]');
    assert.equal(reset.irreversible, 'the old password cannot be restored');
    assert.deepEqual(reset.plan.changes.map((c: { property: string }) => c.property), ['password']);
  });

  it('plans a CSV a page of rows at a time, with each bad row\'s problems', async () => {
    const csv = ['userPrincipalName,givenName,surname', `${upn('csv1')},One,Row`, 'not-an-upn,Two,Row', `${upn('csv3')},Three,Row`].join('\n');
    const first = await operator.call('POST', '/api/runs/plan', { runbookId: 'onboarding', csv, page: { offset: 0, limit: 2 } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.total, 3);
    assert.equal(first.body.more, 1);
    assert.deepEqual(first.body.rows.map((r: { line: number; plan?: unknown }) => [r.line, !!r.plan]), [[2, true], [3, false]]);
    assert.equal(first.body.rows[1].problems[0].field, 'userPrincipalName');
    assert.equal(stepOf(first.body.rows[0].plan, 'create_user').plan.outcome, 'changes');
    const next = await operator.call('POST', '/api/runs/plan', { runbookId: 'onboarding', csv, page: { offset: 2, limit: 2 } });
    assert.deepEqual(next.body.rows.map((r: { line: number }) => r.line), [4]);
    assert.equal(next.body.more, 0);
  });
});

describe('an approval request', () => {
  it('carries the plan of the steps it gates, in the inbox', async () => {
    const u = upn('inbox.plan');
    const started = await operator.call('POST', '/api/runs', { runbookId: 'onboarding', inputs: hire(u) });
    assert.equal(started.status, 201);
    await pollApi(operator, `/api/runs/${started.body.id}`, (r) => r.nodes?.approve_request?.status === 'waiting-approval');
    const inbox = await approver.call('GET', '/api/approvals');
    const task = inbox.body.find((t: { runId: string }) => t.runId === started.body.id);
    assert.ok(task, 'the approval is in the inbox');
    assert.equal(task.plan.gate, 'approve_request');
    assert.deepEqual(task.plan.steps.map((s: { nodeId: string }) => s.nodeId), ['create_user', 'assign_licence', 'add_to_group', 'done']);
    assert.equal(stepOf(task.plan, 'create_user').runs, 'yes');
    assert.ok(stepOf(task.plan, 'create_user').plan.changes.some((c: { property: string; after: unknown }) => c.property === 'jobTitle' && c.after === 'Analyst'));
    await operator.call('POST', `/api/runs/${started.body.id}/cancel`);
  });
});

describe('tenantflow runs plan / runs undo', () => {
  it('prints the plan, and exits 1 when a step would fail', async () => {
    const u = upn('cli.plan');
    const ok = await cli(operator, 'runs', 'plan', 'onboarding', '--input', `userPrincipalName=${u}`, '--input', 'givenName=Cli', '--input', 'surname=Plan', '--input', 'jobTitle=Analyst');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /Plan for Onboard a new employee \(v1\) on tenant sandbox/);
    assert.match(ok.out, /\? create_user \(user\.create\)  runs if approve_request is approved/);
    assert.ok(ok.out.includes(`user ${u}  jobTitle: — -> "Analyst"`), ok.out);
    const taken = (await env.graph.api('/users').filter("userType eq 'Member'").select('userPrincipalName').top(1).get()).value[0].userPrincipalName as string;
    const fails = await cli(operator, 'runs', 'plan', 'onboarding', '--input', `userPrincipalName=${taken}`, '--input', 'givenName=A', '--input', 'surname=B');
    assert.equal(fails.code, 1);
    assert.match(fails.out, new RegExp(`WOULD FAIL: user ${taken.replace(/\./g, '\\.')} already exists`));
    const json = await cli(operator, 'runs', 'plan', 'onboarding', '--input', `userPrincipalName=${u}`, '--input', 'givenName=Cli', '--input', 'surname=Plan', '--json');
    assert.equal(JSON.parse(json.out).summary.changes, 3);
    const csvFile = join(dir, 'hires.csv');
    writeFileSync(csvFile, `userPrincipalName,givenName,surname\n${upn('cli.csv')},C,S\n`);
    const rows = await cli(operator, 'runs', 'plan', 'onboarding', csvFile);
    assert.equal(rows.code, 0, rows.err);
    assert.match(rows.out, /^line 2:\nPlan for Onboard a new employee/);
  });

  it('creates the undo runbook of a finished run', async () => {
    const u = (await env.graph.api('/users').filter("userType eq 'Member'").select('id').top(4).get()).value[3].id as string;
    const started = await designer.call('POST', '/api/runs', { test: true, definition: { name: 'cli undo', nodes: [{ id: 'title', kind: 'action', action: 'user.update', params: { user: u, jobTitle: `Cli ${randomUUID().slice(0, 4)}` } }] } });
    await pollApi(designer, `/api/runs/${started.body.id}`, (r) => r.status === 'succeeded');
    const r = await cli(designer, 'runs', 'undo', started.body.id);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^created the draft runbook undo-inline-\w+ \(1 step\(s\)\); review it, then: tenantflow runbooks publish undo-inline-/);
  });
});
