// CSV bulk runs as one batch, at scale, on real Temporal, the real server and worker and the
// sandbox: 5,000 rows stored and answered with 202 at once; every good row's user created exactly
// once (the sandbox's mutation log) although the server is restarted mid-batch; every history far
// below Temporal's limit; per-row status paged, filtered and exported; "retry failed rows" runs
// only those; an Idempotency-Key repeat gets the first answer, another body a 422 naming it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { batchWorkflowId } from '../server/batches.ts';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

/** 1,000 in the suite (about 3 minutes here); BATCH_TEST_ROWS=5000 npm test -- bulk-batches for the scale check. */
const ROWS = Number(process.env.BATCH_TEST_ROWS ?? 1000);
const BAD = 10;
let env: TestEnv;
let server: ApiServer;
let dataDir: string;
let designer: Caller;
let domain: string;

const create = {
  name: 'Create one user',
  inputs: [{ name: 'upn', type: 'string', required: true }],
  nodes: [{ id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Bulk', usageLocation: 'US' } }],
  edges: [],
};

before(async () => {
  // Throttling is the bench's subject (npm run bench); here, correctness at scale.
  env = await startTestEnv({ sandbox: { throttling: false } });
  dataDir = mkdtempSync(join(tmpdir(), 'tenantflow-batch-'));
  server = await startApiServer(env, { dataDir, pollMs: 500 });
  domain = env.sandbox.tenant.domain;
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  assert.equal((await designer.call('POST', '/api/runbooks', { id: 'bulk-create', definition: create })).status, 201);
  assert.equal((await designer.call('POST', '/api/runbooks/bulk-create/publish', {})).status, 201);
});
after(async () => {
  await server?.close();
  await env?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Events in every run of a workflow id (continue-as-new included): the largest single history. */
async function largestHistory(workflowId: string): Promise<number> {
  let max = 0;
  for await (const w of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const h = await env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    max = Math.max(max, h.events?.length ?? 0);
  }
  return max;
}

describe('bulk batches', () => {
  it(`runs ${ROWS} rows as one batch: every good row exactly once across a server restart, failed rows retried alone`, { timeout: 3_600_000 }, async () => {
    const tag = randomUUID().slice(0, 6);
    const lines = ['upn'];
    for (let i = 0; i < ROWS; i++) lines.push(i % (ROWS / BAD) === 7 ? `not-an-email-${i}-${tag}` : `b${i}.${tag}@${domain}`);
    const bad = new Set(lines.slice(1).map((u, i) => (u.startsWith('not-an-email') ? i + 2 : 0)).filter(Boolean));
    assert.equal(bad.size, BAD);
    const key = randomUUID();
    const body = { runbookId: 'bulk-create', csv: lines.join('\n'), concurrency: 40 };
    const started = await designer.call('POST', '/api/runs/bulk', body, { 'Idempotency-Key': key });
    assert.equal(started.status, 202, JSON.stringify(started.body).slice(0, 500));
    assert.equal(started.body.started, ROWS);
    const id = started.body.batch as string;

    // A repeat (what a client does after no answer) is the first answer, not a second batch.
    const again = await designer.call('POST', '/api/runs/bulk', body, { 'Idempotency-Key': key });
    assert.equal(again.status, 202);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.batch, id);
    const other = await designer.call('POST', '/api/runs/bulk', { ...body, concurrency: 41 }, { 'Idempotency-Key': key });
    assert.equal(other.status, 422);
    assert.equal(other.body.problems[0].field, 'Idempotency-Key');
    assert.equal((await server.db.one('select count(*)::int as n from batches'))!.n, 1);

    // The server stops mid-batch and a new one takes over from the same database.
    await pollApi(designer, `/api/batches/${id}`, (b) => b.counts.succeeded >= ROWS / 10, 1_800_000);
    await server.close();
    server = await startApiServer(env, { dataDir, pollMs: 500 });
    designer = await server.as('designer@contoso.test');

    const done = await pollApi(designer, `/api/batches/${id}`, (b) => b.status !== 'running', 3_000_000);
    assert.equal(done.status, 'partially-failed');
    const failedRows = (await designer.call('GET', `/api/batches/${id}/rows?status=failed&pageSize=1000`)).body.rows as { line: number; error: string }[];
    assert.deepEqual(done.counts, { pending: 0, running: 0, succeeded: ROWS - BAD, 'succeeded-with-warnings': 0, failed: BAD, skipped: 0 }, JSON.stringify(failedRows.filter((r) => !bad.has(r.line))));

    // Every good row's user exists, and was created exactly once (one POST /users each).
    const creates = env.sandbox.admin.mutations({ op: 'user.create' }).filter((m) => m.path.includes('/users'));
    const users = new Map<string, number>();
    for (const m of creates) for (const o of m.objectIds) users.set(o, (users.get(o) ?? 0) + 1);
    assert.equal([...users.values()].filter((n) => n > 1).length, 0, 'no user created twice');
    let listed = 0;
    for (let page = await env.graph.api('/users').select('userPrincipalName').top(999).get(); ; ) {
      listed += (page.value as { userPrincipalName: string }[]).filter((u) => u.userPrincipalName.includes(`.${tag}@`)).length;
      if (!page['@odata.nextLink']) break;
      page = await env.graph.api(page['@odata.nextLink']).get();
    }
    assert.equal(listed, ROWS - BAD);
    assert.equal(creates.length, ROWS - BAD);

    // The per-row report: filtered, paged, exported.
    const failed = await designer.call('GET', `/api/batches/${id}/rows?status=failed&pageSize=1000`);
    assert.deepEqual(failed.body.rows.map((r: { line: number }) => r.line), [...bad].sort((a, b) => a - b));
    assert.match(failed.body.rows[0].error, /userPrincipalName/);
    const firstRuns = new Map<number, string>(failed.body.rows.map((r: { line: number; runId: string }) => [r.line, r.runId]));
    const page = await designer.call('GET', `/api/batches/${id}/rows?pageSize=100&after=100`);
    assert.equal(page.body.rows[0].line, 101);
    assert.equal(page.body.next, 200);
    const csv = await designer.call('GET', `/api/batches/${id}/rows?format=csv`);
    assert.equal(csv.status, 200);
    const csvLines = (csv.body as string).trim().split('\r\n');
    assert.equal(csvLines[0], 'line,status,error,runId,attempt,upn');
    assert.equal(csvLines.length, ROWS + 1);

    // The batch's history and the largest row history stay far below 10,240 events.
    assert.ok((await largestHistory(batchWorkflowId(id, 1))) < 10_240);

    // Retry failed rows: only those run again (new runs, attempt 2); nothing else is written.
    const succeededBefore = (await designer.call('GET', `/api/batches/${id}/rows?status=succeeded&pageSize=5`)).body.rows;
    const retry = await designer.call('POST', `/api/batches/${id}/retry`);
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    assert.deepEqual({ round: retry.body.round, retried: retry.body.retried }, { round: 2, retried: BAD });
    const after2 = await pollApi(designer, `/api/batches/${id}`, (b) => b.status !== 'running' && b.round === 2, 300_000);
    assert.equal(after2.counts.failed, BAD);
    const retried = (await designer.call('GET', `/api/batches/${id}/rows?status=failed&pageSize=1000`)).body.rows as { line: number; runId: string; attempt: number }[];
    for (const r of retried) {
      assert.equal(r.attempt, 2);
      assert.notEqual(r.runId, firstRuns.get(r.line));
    }
    const succeededAfter = (await designer.call('GET', `/api/batches/${id}/rows?status=succeeded&pageSize=5`)).body.rows;
    assert.deepEqual(succeededAfter, succeededBefore);
    assert.equal(env.sandbox.admin.mutations({ op: 'user.create' }).length, creates.length);
    // The batch's status is written by its last activity; the workflow ends just after it.
    await env.client.workflow.getHandle(batchWorkflowId(id, 2)).result();
    const round2 = await env.client.workflow.getHandle(batchWorkflowId(id, 2)).describe();
    assert.equal(round2.status.name, 'COMPLETED');
  });

  it('an Idempotency-Key on POST /api/runs and /api/runbooks answers a repeat with the first answer', async () => {
    const key = randomUUID();
    const body = { runbookId: 'bulk-create', inputs: { upn: `idem.${randomUUID().slice(0, 6)}@${domain}` } };
    const a = await designer.call('POST', '/api/runs', body, { 'Idempotency-Key': key });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const b = await designer.call('POST', '/api/runs', body, { 'Idempotency-Key': key });
    assert.equal(b.status, 201);
    assert.equal(b.body.id, a.body.id);
    const c = await designer.call('POST', '/api/runs', { ...body, inputs: { upn: `other@${domain}` } }, { 'Idempotency-Key': key });
    assert.equal(c.status, 422);
    assert.equal(c.body.problems[0].field, 'Idempotency-Key');
    const bad = await designer.call('POST', '/api/runs', body, { 'Idempotency-Key': 'has space' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.problems[0].field, 'Idempotency-Key');
    const rbKey = randomUUID();
    const rb = { id: `idem-${randomUUID().slice(0, 6)}`, definition: create };
    assert.equal((await designer.call('POST', '/api/runbooks', rb, { 'Idempotency-Key': rbKey })).status, 201);
    assert.equal((await designer.call('POST', '/api/runbooks', rb, { 'Idempotency-Key': rbKey })).status, 201);
    assert.equal((await designer.call('POST', '/api/runbooks', rb)).status, 409);
  });
});
