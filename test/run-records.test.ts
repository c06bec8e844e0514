// Runs you can prove: each run's record in the control plane's database, written as it runs and
// served after Temporal has deleted the run; the changes runs make in the tenant in the hash-chained
// audit log; the evidence pack (JSON and HTML); retention; and the CLI's exit codes, evidence and
// `audit verify`. Real Temporal, real worker, the sandbox tenant; Temporal really deletes the run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { canonicalJson, definitionHash, sha256Hex } from '../runbook/fingerprint.ts';
import type { RunRecord } from '../server/run-records.ts';
import { Runs } from '../server/temporal.ts';
import { eq } from '../server/visibility.ts';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let env: TestEnv;
let server: ApiServer;
let designer: Caller, approver: Caller, viewer: Caller;
let domain: string;
let dir: string;

/** Create a user, try to add them to a group that does not exist (continued past), remove a licence they lack. */
const warned = {
  name: 'Joiner with loose ends',
  inputs: [
    { name: 'upn', type: 'string', required: true },
    { name: 'apiKey', type: 'string' },
  ],
  nodes: [
    { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Records test', usageLocation: 'US' } },
    { id: 'group', kind: 'action', action: 'group.addMember', params: { group: 'No Such Group', user: '{{ steps.create.output.id }}' }, onError: 'continue', retry: { maximumAttempts: 1 } },
    { id: 'unassign', kind: 'action', action: 'licence.unassign', params: { user: '{{ steps.create.output.id }}', licences: ['SPE_E5'] } },
  ],
  edges: [
    { source: 'create', target: 'group' },
    { source: 'group', target: 'unassign' },
  ],
};

const approved = {
  name: 'Approved change',
  inputs: [{ name: 'upn', type: 'string', required: true }],
  nodes: [
    { id: 'ask', kind: 'approval', approvers: { roles: ['approver'] }, message: 'Create {{ inputs.upn }}?' },
    { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Approved', usageLocation: 'US' } },
  ],
  edges: [{ source: 'ask', sourceHandle: 'approved', target: 'create' }],
};

function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'cli', 'main.ts'), ...args], { env: { ...process.env, TENANTFLOW_CONFIG: join(dir, 'cli.json'), TENANTFLOW_URL: server.base, TENANTFLOW_TOKEN: designer.token }, cwd: dir }, (err, out, errOut) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

const recordRow = async (id: string) => (await server.db.one('select status, final, record from run_records where workflow_id = $1', [id])) as { status: string; final: boolean; record: RunRecord } | undefined;

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: last ${JSON.stringify(v)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  env = await startTestEnv();
  server = await startApiServer(env);
  domain = env.sandbox.tenant.domain;
  dir = mkdtempSync(join(tmpdir(), 'tenantflow-records-'));
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  approver = await server.as('approver@contoso.test', [{ tenant: 'sandbox', role: 'approver' }]);
  viewer = await server.as('viewer@contoso.test', [{ tenant: 'sandbox', role: 'viewer' }]);
  for (const [id, definition] of [['warned', warned], ['approved', approved]] as const) {
    assert.equal((await designer.call('POST', '/api/runbooks', { id, definition })).status, 201);
    assert.equal((await designer.call('POST', '/api/runbooks/' + id + '/publish', {})).status, 201);
  }
});
after(async () => {
  await server?.close();
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let approvedId: string;

describe('run records', () => {
  let approvedUpn: string;

  it('writes the record as the run goes, approval decisions included, without anybody reading the run', async () => {
    approvedUpn = `approved.${randomUUID().slice(0, 6)}@${domain}`;
    const started = await designer.call('POST', '/api/runs', { runbookId: 'approved', inputs: { upn: approvedUpn }, reason: 'ticket HR-1234: new starter' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    approvedId = started.body.id;
    // The records loop (not a read of the run) brings the waiting step into the database.
    const waiting = await until('the waiting record', () => recordRow(approvedId), (r) => r?.status === 'waiting-approval');
    assert.equal(waiting!.final, false);
    assert.equal(waiting!.record.nodes.ask!.status, 'waiting-approval');
    assert.equal(waiting!.record.reason, 'ticket HR-1234: new starter');
    const decided = await approver.call('POST', `/api/runs/${approvedId}/approvals/ask`, { decision: 'approve', comment: 'welcome aboard' });
    assert.equal(decided.status, 202);
    const done = await until('the final record', () => recordRow(approvedId), (r) => r?.final === true);
    const rec = done!.record;
    assert.equal(rec.status, 'succeeded');
    assert.equal(rec.startedBy, 'designer@contoso.test');
    const version = await designer.call('GET', '/api/runbooks/approved/versions/1');
    assert.equal(rec.definitionHash, definitionHash(version.body.definition), 'the hash of the version as published');
    assert.deepEqual(rec.decisions.map((d) => [d.node, d.decision, d.by, d.comment]), [['ask', 'approve', 'approver@contoso.test', 'welcome aboard']]);
    assert.equal(rec.nodes.create!.status, 'succeeded');
    assert.equal(rec.nodes.create!.attempts, 1);
    assert.ok(rec.nodes.create!.startedAt && rec.nodes.create!.endedAt);
    assert.equal(rec.temporal.workflowId, approvedId);
    assert.equal(rec.temporal.runId, (await env.client.workflow.getHandle(approvedId).describe()).runId);
  });

  it('audits a run started through the API once, with who started it, even when its server stopped before writing its record', async () => {
    const tick = { name: 'Tick', nodes: [{ id: 'done', kind: 'end', status: 'succeeded' }], edges: [] };
    assert.equal((await designer.call('POST', '/api/runbooks', { id: 'tick', definition: tick })).status, 201);
    assert.equal((await designer.call('POST', '/api/runbooks/tick/publish', {})).status, 201);
    const startedAudit = async (id: string) => (await server.admin.call('GET', `/api/audit?target=${id}&action=run.started`)).body as { actor: string; ip?: string; userAgent?: string; tenant: string; detail: Record<string, unknown> }[];
    // The answer comes once Temporal has the run; the entry follows from the run's first record.
    const headers = { 'idempotency-key': `records-${randomUUID()}`, 'user-agent': 'records-test/1.0' };
    const first = await designer.call('POST', '/api/runs', { runbookId: 'tick', reason: 'ticket OPS-7' }, headers);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const again = await designer.call('POST', '/api/runs', { runbookId: 'tick', reason: 'ticket OPS-7' }, headers);
    assert.equal(again.body.id, first.body.id, 'the repeat gets the first run');
    const [entry] = await until('the run.started entry', () => startedAudit(first.body.id), (e) => e.length > 0);
    assert.equal(entry!.actor, 'designer@contoso.test');
    assert.equal(entry!.userAgent, 'records-test/1.0');
    assert.ok(entry!.ip, 'where the start came from');
    assert.equal(entry!.tenant, 'sandbox');
    assert.deepEqual(entry!.detail, { runbook: 'tick', version: 1, test: false, reason: 'ticket OPS-7' });
    // Reads, passes of the records loop and the repeated request add nothing.
    await pollApi(viewer, `/api/runs/${first.body.id}`, (r) => r.record?.final === true);
    await server.services.records.sync();
    assert.equal((await startedAudit(first.body.id)).length, 1);

    // A server that stopped right after Temporal took the start never wrote the run's record nor its
    // entry: the records loop of whichever server runs next writes both, once.
    const version = (await designer.call('GET', '/api/runbooks/tick/versions/1')).body as { definition: never };
    const run = { startedBy: 'designer@contoso.test', tenant: 'sandbox', runbookId: 'tick', version: 1, test: false };
    const orphan = await server.services.runs.start({ definition: version.definition, inputs: {}, run, audit: { actor: 'designer@contoso.test', ip: '192.0.2.7', userAgent: 'records-test/1.0' } });
    await env.client.workflow.getHandle(orphan).result();
    assert.equal((await startedAudit(orphan)).length, 0, 'nothing wrote it yet');
    await until('the loop writes the record', async () => (await server.services.records.sync(), recordRow(orphan)), (r) => r?.final === true);
    const late = await startedAudit(orphan);
    assert.equal(late.length, 1);
    assert.equal(late[0]!.ip, '192.0.2.7');
    assert.deepEqual(late[0]!.detail, { runbook: 'tick', version: 1, test: false });
    await server.services.records.sync();
    await viewer.call('GET', `/api/runs/${orphan}`);
    assert.equal((await startedAudit(orphan)).length, 1, 'exactly once');
    const verify = await server.admin.call('GET', '/api/audit/verify');
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
  });

  it('lists a run the moment the API started it, even when no worker has picked it up, its secret input masked', async () => {
    // A server whose runs go to a task queue no worker polls (every worker down): nothing can
    // answer a query about its runs, yet each is recorded from what it was started with. Its
    // Temporal connection counts the calls it makes (its records loop waits a minute between passes).
    const calls: string[] = [];
    const counted = ((options: { method_definition: { path: string } }, nextCall: (o: unknown) => unknown) => {
      calls.push(options.method_definition.path.split('/').pop()!);
      return nextCall(options);
    }) as never; // a gRPC interceptor (server/temporal-deadline.ts has the same shape)
    const connection = await Connection.connect({ address: env.address, interceptors: [counted] });
    const idle = await startApiServer({ ...env, runs: new Runs(new Client({ connection, namespace: env.namespace }), `idle-${randomUUID()}`) }, { pollMs: 60_000 });
    try {
      const operator = await idle.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
      const definition = {
        name: 'Reset a password',
        inputs: [
          { name: 'upn', type: 'string', required: true },
          { name: 'temporaryPassword', type: 'string', secret: true, required: true },
        ],
        nodes: [{ id: 'reset', kind: 'action', action: 'user.resetPassword', params: { user: '{{ inputs.upn }}', password: '{{ inputs.temporaryPassword }}' } }],
        edges: [],
      };
      assert.equal((await operator.call('POST', '/api/runbooks', { id: 'reset', definition })).status, 201);
      assert.equal((await operator.call('POST', '/api/runbooks/reset/publish', {})).status, 201);
      const secret = `Pw-${randomUUID()}`;
      calls.length = 0;
      const started = await operator.call('POST', '/api/runs', { runbookId: 'reset', inputs: { upn: `nobody@${domain}`, temporaryPassword: secret }, reason: 'ticket SD-42' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const id = started.body.id as string;
      await idle.services.records.written();
      // The start is all the API asked of Temporal: its first record needs no describe, query or history read.
      assert.deepEqual(calls, ['StartWorkflowExecution']);
      const listed = (await operator.call('GET', '/api/runs?runbook=reset')).body.runs as { id: string; status: string; startedBy: string; version: number }[];
      const item = listed.find((r) => r.id === id)!;
      assert.ok(item, 'listed at once');
      assert.equal(item.status, 'running');
      assert.equal(item.startedBy, 'designer@contoso.test');
      assert.equal(item.version, 1);
      const row = await idle.db.one('select record, reason from run_records where workflow_id = $1', [id]);
      const rec = row!.record as RunRecord;
      assert.equal(row!.reason, 'ticket SD-42');
      assert.equal(rec.temporal.runId, (await env.client.workflow.getHandle(id).describe()).runId);
      assert.deepEqual(Object.keys(rec.nodes), ['reset']);
      assert.equal(rec.nodes.reset!.status, 'pending');
      assert.equal((rec.inputs as Record<string, unknown>).upn, `nobody@${domain}`);
      assert.ok(!JSON.stringify(row).includes(secret), 'the secret input is in no record');
      await env.client.workflow.getHandle(id).terminate('test over');
    } finally {
      await idle.close();
      await connection.close();
    }
  });

  it('serves the run list and the run view from the record once Temporal has deleted the run', async () => {
    const live = await viewer.call('GET', `/api/runs/${approvedId}`);
    assert.equal(live.body.record.source, 'record', 'a finished run is read from its record, not replayed');
    assert.equal(live.body.record.inTemporal, true);
    const handle = env.client.workflow.getHandle(approvedId);
    const { runId } = await handle.describe();
    await env.client.workflowService.deleteWorkflowExecution({ namespace: env.namespace, workflowExecution: { workflowId: approvedId, runId } });
    // Temporal deletes in the background: wait until it no longer knows the run.
    await until(
      'Temporal to forget the run',
      () => handle.describe().then(() => 'still there', (err: unknown) => (err instanceof WorkflowNotFoundError ? 'gone' : `error ${(err as Error).message}`)),
      (s) => s === 'gone',
      90_000,
    );
    assert.equal((await env.runs.list({ extra: eq('WorkflowId', approvedId) }, { size: 10 })).runs.length, 0, 'visibility forgot it too');
    const view = await viewer.call('GET', `/api/runs/${approvedId}`);
    assert.equal(view.status, 200, JSON.stringify(view.body));
    assert.equal(view.body.status, 'succeeded');
    assert.equal(view.body.nodes.create.status, 'succeeded');
    assert.equal(view.body.decisions[0].comment, 'welcome aboard');
    assert.equal(view.body.reason, 'ticket HR-1234: new starter');
    assert.equal(view.body.record.inTemporal, false);
    assert.equal(view.body.temporalUrl, undefined);
    const list = await viewer.call('GET', '/api/runs?q=HR-1234');
    assert.deepEqual(list.body.runs.map((r: { id: string }) => r.id), [approvedId], 'found by its reason');
    assert.equal(list.body.runs[0].status, 'succeeded');
    const evidence = await viewer.call('GET', `/api/runs/${approvedId}/evidence?format=json`);
    assert.equal(evidence.status, 200);
    assert.equal(evidence.body.approvals[0].comment, 'welcome aboard');
    // Someone outside the tenant still sees nothing of it.
    const stranger = await server.as('stranger@contoso.test', []);
    assert.equal((await stranger.call('GET', `/api/runs/${approvedId}`)).status, 404);
  });

  let warnedId: string;
  it('says "succeeded with warnings" and lists every warning; the audit log gets each tenant change once', async () => {
    const upn = `warned.${randomUUID().slice(0, 6)}@${domain}`;
    const started = await designer.call('POST', '/api/runs', { runbookId: 'warned', inputs: { upn, apiKey: 'hunter2-not-shown' } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    warnedId = started.body.id;
    const run = await pollApi(viewer, `/api/runs/${warnedId}`, (r) => r.record?.final === true);
    assert.equal(run.status, 'succeeded-with-warnings');
    assert.equal(run.message, 'completed with 2 warnings');
    assert.match(run.warnings[0], /^step group failed and the run went on: /);
    assert.equal(run.warnings[1], `step unassign: no licence to remove: ${upn} did not have SPE_E5`);
    assert.equal(run.inputs.apiKey, '[redacted]');
    const listed = await viewer.call('GET', '/api/runs?runbook=warned');
    assert.equal(listed.body.runs[0].status, 'succeeded-with-warnings');
    assert.equal(listed.body.runs[0].warnings, 2);
    // Reading the run again writes nothing new to the audit log.
    for (let i = 0; i < 3; i++) await viewer.call('GET', `/api/runs/${warnedId}`);
    await server.services.records.sync();
    const audit = await server.admin.call('GET', `/api/audit?target=${warnedId}&action=m365.change`);
    assert.deepEqual(audit.body.map((e: { detail: { step: string } }) => e.detail.step).sort(), ['create', 'unassign'], 'the failed step changed nothing and is not listed');
    const create = audit.body.find((e: { detail: { step: string } }) => e.detail.step === 'create');
    assert.equal(create.actor, 'designer@contoso.test');
    assert.equal(create.detail.input.userPrincipalName, upn);
    assert.equal(create.detail.action, 'user.create');
    assert.equal(create.tenant, 'sandbox');
    const user = await env.graph.api(`/users/${upn}`).select('id').get();
    assert.equal(create.detail.output.id, user.id, 'the audit entry names the object the tenant now has');
    const verify = await server.admin.call('GET', '/api/audit/verify');
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
  });

  it("records a loop's item runs under the run, with their changes in its evidence", async () => {
    const tag = randomUUID().slice(0, 6);
    const loop = {
      name: 'Create each',
      inputs: [{ name: 'people', type: 'list' }],
      nodes: [
        {
          id: 'each',
          kind: 'forEach',
          items: 'inputs.people',
          concurrency: 2,
          body: { nodes: [{ id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ item }}', displayName: 'Loop {{ item }}' }, retry: { maximumAttempts: 1 } }] },
        },
      ],
    };
    const started = await designer.call('POST', '/api/runs', { definition: loop, inputs: { people: [`loop.a.${tag}@${domain}`, 'not-an-email'] } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id = started.body.id as string;
    const run = await pollApi(viewer, `/api/runs/${id}`, (r) => r.record?.final === true);
    assert.equal(run.status, 'partially-failed');
    assert.equal(run.message, '1 of 2 items of each failed');
    const items = await pollApi(viewer, `/api/runs?parent=${id}`, (r) => r.runs.length === 2 && r.runs.every((x: { status: string }) => x.status !== 'running'));
    assert.deepEqual(items.runs.map((r: { id: string; status: string }) => [r.id, r.status]).sort(), [[`${id}.each.0`, 'succeeded'], [`${id}.each.1`, 'failed']]);
    assert.equal((await viewer.call('GET', '/api/runs?q=' + id)).body.runs.length, 1, 'item runs are not listed among runs');
    const pack = (await viewer.call('GET', `/api/runs/${id}/evidence?format=json`)).body;
    assert.deepEqual(pack.items.map((i: { id: string }) => i.id).sort(), [`${id}.each.0`, `${id}.each.1`]);
    assert.deepEqual(
      pack.changes.filter((c: { run?: string; property: string }) => c.run === `${id}.each.0` && c.property === 'exists').map((c: { object: string; property: string; after: unknown }) => [c.object, c.property, c.after]),
      [[`user loop.a.${tag}@${domain}`, 'exists', true]],
      'the item run recorded the user it created',
    );
    assert.ok(pack.audit.entries.some((e: { action: string; target: string }) => e.action === 'm365.change' && e.target === `${id}.each.0`));
  });

  it('names a bulk batch partially failed when some of its runs failed', async () => {
    const good = `bulk.${randomUUID().slice(0, 6)}@${domain}`;
    const bulk = await designer.call('POST', '/api/runs/bulk', { runbookId: 'warned', csv: `upn\n${good}\nnot-an-email\n` });
    assert.equal(bulk.status, 202, JSON.stringify(bulk.body));
    const batch = await pollApi(viewer, `/api/batches/${bulk.body.batch}`, (b) => b.status !== 'running' && b.runs === 2);
    assert.deepEqual(batch.statuses, { 'succeeded-with-warnings': 1, failed: 1 });
    assert.equal(batch.status, 'partially-failed');
    const runs = await viewer.call('GET', `/api/runs?batch=${bulk.body.batch}`);
    assert.equal(runs.body.runs.length, 2);
    const shown = await cli('runs', 'batch', bulk.body.batch);
    assert.equal(shown.code, 1, shown.out + shown.err);
    assert.match(shown.out, /partially failed {2}2 row\(s\): /);
  });

  it('keeps a step\'s recorded before / after as its changes, in the evidence pack and the audit log', async () => {
    // A write step that reports its changes under the reserved __changes key (the plan / undo work
    // fills it in actions): the record lifts them out of the output.
    const { output, changes } = (await import('../server/run-records.ts')).liftChanges({ id: 'u1', __changes: [{ object: 'user anna@contoso.com', property: 'department', before: 'Sales', after: 'Finance' }] });
    assert.deepEqual(output, { id: 'u1' });
    const base = (await recordRow(warnedId))!.record;
    const copy: RunRecord = { ...base, id: `${warnedId}-changes`, runId: randomUUID(), nodes: { ...base.nodes, create: { ...base.nodes.create!, output, changes } } };
    await server.services.records.write(copy);
    const pack = await viewer.call('GET', `/api/runs/${copy.id}/evidence?format=json`);
    assert.deepEqual(pack.body.changes, [{ step: 'create', action: 'user.create', object: 'user anna@contoso.com', property: 'department', before: 'Sales', after: 'Finance' }]);
    const audit = await server.admin.call('GET', `/api/audit?target=${copy.id}&action=m365.change`);
    assert.deepEqual(audit.body.find((e: { detail: { step: string } }) => e.detail.step === 'create').detail.changes, changes);
  });

  it('exports the evidence pack as JSON whose digest recomputes, and as HTML', async () => {
    const res = await viewer.call('GET', `/api/runs/${approvedId}/evidence?format=json`);
    const pack = res.body;
    assert.equal(pack.kind, 'tenantflow.evidence');
    assert.deepEqual(pack.request, { requestedBy: 'designer@contoso.test', reason: 'ticket HR-1234: new starter' });
    assert.equal(pack.runbook.id, 'approved');
    assert.match(pack.runbook.definitionHash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(pack.inputs.upn, approvedUpn);
    // The plan the approver saw: what approving "ask" lets run (docs/plan.md).
    assert.equal(pack.plan.gate, 'ask');
    assert.equal(pack.plan.steps.find((s: { nodeId: string }) => s.nodeId === 'create').plan.outcome, 'changes');
    assert.deepEqual(pack.approvals.map((a: { step: string; by: string; comment: string }) => [a.step, a.by, a.comment]), [['ask', 'approver@contoso.test', 'welcome aboard']]);
    assert.deepEqual(pack.steps.map((s: { id: string; status: string }) => [s.id, s.status]), [['ask', 'succeeded'], ['create', 'succeeded']]);
    assert.ok(pack.steps.every((s: { durationMs?: number }) => typeof s.durationMs === 'number'));
    assert.deepEqual(pack.changes.filter((c: { property: string }) => c.property === 'exists').map((c: { step: string; object: string; property: string; before: unknown; after: unknown }) => [c.step, c.object, c.property, c.before, c.after]), [['create', `user ${approvedUpn}`, 'exists', false, true]]);
    assert.ok(pack.changes.some((c: { property: string; after: unknown }) => c.property === 'userPrincipalName' && c.after === approvedUpn), 'with the properties it was created with');
    assert.deepEqual(pack.writes, [], 'every write recorded its before / after');
    assert.equal(pack.temporal.workflowId, approvedId);
    assert.match(pack.temporal.runId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(pack.audit.entries.map((e: { action: string }) => e.action).slice(0, 3), ['run.started', 'approval.approve', 'm365.change']);
    assert.ok(pack.audit.entries.every((e: { hash: string; prevHash: string }) => /^[0-9a-f]{64}$/.test(e.hash) && /^[0-9a-f]{64}$/.test(e.prevHash)));
    assert.equal(pack.audit.chain.ok, true);
    const { digest, ...rest } = pack;
    assert.equal(digest, `sha256:${sha256Hex(canonicalJson(rest))}`, 'anyone can recompute the digest');
    const html = await fetch(`${server.base}/api/runs/${approvedId}/evidence`, { headers: { authorization: `Bearer ${viewer.token}` } });
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    const text = await html.text();
    for (const want of ['ticket HR-1234: new starter', 'welcome aboard', approvedId, pack.runbook.definitionHash, '@media print']) assert.ok(text.includes(want), want);
    assert.doesNotMatch(text, /<script/i, 'self-contained, no script');
  });

  it('keeps finished records for the retention the admin sets (default forever)', async () => {
    assert.deepEqual((await server.admin.call('GET', '/api/settings/run-retention')).body, { days: null });
    assert.equal((await designer.call('PUT', '/api/settings/run-retention', { days: 5 })).status, 403);
    const base = (await recordRow(warnedId))!.record;
    const old: RunRecord = { ...base, id: `run-old-${randomUUID().slice(0, 6)}`, runId: randomUUID(), startedAt: '2020-01-01T00:00:00.000Z', endedAt: '2020-01-01T00:05:00.000Z' };
    await server.services.records.write(old);
    assert.equal((await viewer.call('GET', `/api/runs/${old.id}`)).status, 200, 'kept while the retention is forever');
    const set = await server.admin.call('PUT', '/api/settings/run-retention', { days: 30 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.ok(set.body.purged >= 1);
    assert.equal((await viewer.call('GET', `/api/runs/${old.id}`)).status, 404);
    assert.equal((await viewer.call('GET', `/api/runs/${warnedId}`)).status, 200, 'recent runs stay');
    assert.equal((await server.admin.call('PUT', '/api/settings/run-retention', { days: 0 })).status, 400);
    assert.equal((await server.admin.call('PUT', '/api/settings/run-retention', { days: null })).body.days, null);
  });
});

describe('run outcomes and evidence from the CLI', () => {
  it('exits non-zero unless the run plainly succeeded; --accept-warnings accepts warnings', async () => {
    const run = (upn: string, ...flags: string[]) => cli('runs', 'start', 'warned', '--input', `upn=${upn}`, '--wait', ...flags);
    const strict = await run(`cli.a.${randomUUID().slice(0, 6)}@${domain}`);
    assert.equal(strict.code, 3, strict.out + strict.err);
    assert.match(strict.out, /succeeded with warnings/);
    assert.match(strict.out, /warning: step unassign: no licence to remove/);
    const lenient = await run(`cli.b.${randomUUID().slice(0, 6)}@${domain}`, '--accept-warnings');
    assert.equal(lenient.code, 0, lenient.out + lenient.err);
  });

  it('writes the evidence pack and checks the audit chain itself', async () => {
    const out = join(dir, 'pack.html');
    const html = await cli('runs', 'evidence', approvedId, '--out', out);
    assert.equal(html.code, 0, html.err);
    assert.match(readFileSync(out, 'utf8'), /welcome aboard/);
    const json = await cli('runs', 'evidence', approvedId, '--json');
    assert.equal(JSON.parse(json.out).kind, 'tenantflow.evidence');
    const admin = (...args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(process.execPath, [join(root, 'cli', 'main.ts'), ...args], { env: { ...process.env, TENANTFLOW_CONFIG: join(dir, 'admin.json'), TENANTFLOW_URL: server.base, TENANTFLOW_TOKEN: server.admin.token } }, (err, o) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: o })),
      );
    const ok = await admin('audit', 'verify');
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /audit chain intact: \d+ entries, head [0-9a-f]{64}/);
    // A rewritten entry (the embedded database lets its owner drop the trigger) is named.
    const [victim] = await server.db.query(`select id from audit_log where action = 'approval.approve' order by id limit 1`);
    await server.db.exec('alter table audit_log disable trigger audit_log_append_only');
    await server.db.query(`update audit_log set detail = '{"comment":"rubber stamp"}'::jsonb where id = $1`, [victim!.id]);
    await server.db.exec('alter table audit_log enable trigger audit_log_append_only');
    const broken = await admin('audit', 'verify');
    assert.equal(broken.code, 1, broken.out);
    assert.match(broken.out, new RegExp(`audit chain BROKEN at entry ${victim!.id}: entry ${victim!.id} was changed after it was written`));
    assert.equal((await cli('audit', 'verify')).code, 2, 'only admins of every tenant read the chain');
  });
});

