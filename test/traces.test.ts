// OpenTelemetry traces read back: a tiny OTLP/HTTP receiver (the exporter posts OTLP JSON), the real
// API server, Temporal dev server, worker and sandbox. A run started through POST /api/runs leaves
// ONE trace: the HTTP request's SERVER span -> the Temporal client's StartWorkflow span -> the
// workflow's RunWorkflow span -> StartActivity -> the activity's RunActivity span -> a CLIENT span
// per Graph request to the sandbox (a throttled one with its 429 and Retry-After, and the retry).
// No span holds the run's secret input. A CSV bulk run leaves one trace too: POST /api/runs/bulk ->
// StartWorkflow:batchWorkflow -> RunWorkflow:batchWorkflow -> its slice and finish activities,
// run by the control plane's activity worker (RunActivity:runBatchSlice) -> each row's run
// (StartWorkflow:runbookWorkflow ... down to its Graph requests).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { secretBox } from '../m365/secret-box.ts';
import { activeTracing, startTracing } from '../m365/tracing.ts';
import { pollApi, startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
}
interface ReceivedSpan extends OtlpSpan {
  service: string;
}

const SECRET = 'Tr4ce-Secret-Passw0rd!';
const box = secretBox(randomBytes(32));
const bodies: string[] = [];
const spans: ReceivedSpan[] = [];
let receiver: Server;
let env: TestEnv;
let api: ApiServer;

/** An OTLP/HTTP traces endpoint: keeps every span it is sent (OTLP JSON). */
function startReceiver(): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      if (req.url === '/v1/traces' && (req.headers['content-type'] ?? '').includes('json')) {
        const msg = JSON.parse(body) as { resourceSpans: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of msg.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const attr = (s: OtlpSpan, key: string): unknown => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if (v.arrayValue) return v.arrayValue.values.map((x) => x.stringValue);
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue);
};

before(async () => {
  receiver = await startReceiver();
  // The standard variable, as an operator sets it: the exporter appends /v1/traces.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const tracing = await startTracing('tenantflow-test');
  assert.ok(tracing, 'tracing starts when an OTLP endpoint is configured');
  env = await startTestEnv({ secrets: box });
  api = await startApiServer(env, { secretBox: box });
});
after(async () => {
  await api?.close();
  await env?.close();
  await activeTracing()?.shutdown();
  receiver?.close();
});

/** Flushes and waits until `find` sees what it looks for in the spans received (or gives up). */
async function awaitTrace<T>(find: () => T | undefined): Promise<T | undefined> {
  let found = find();
  for (let i = 0; !found && i < 100; i++) {
    await activeTracing()!.flush();
    await new Promise((r) => setTimeout(r, 200));
    found = find();
  }
  return found;
}

const dump = () => spans.map((s) => `${s.traceId.slice(0, 8)} ${s.spanId} <- ${s.parentSpanId ?? '-'} ${s.name}`).join('\n');

describe('traces', () => {
  it('one trace runs from POST /api/runs through the workflow and the activity to each Graph request', async () => {
    const target = (await env.graph.api('/users').filter("userType eq 'Member'").select('userPrincipalName').top(1).get()).value[0].userPrincipalName as string;
    const id = `traced-${randomBytes(3).toString('hex')}`;
    const created = await api.admin.call('POST', '/api/runbooks', {
      id,
      definition: {
        name: 'Traced password reset',
        inputs: [{ name: 'user', type: 'user', required: true }, { name: 'password', type: 'string', required: true, secret: true }],
        nodes: [{ id: 'reset', kind: 'action', action: 'user.resetPassword', params: { user: '{{ inputs.user }}', password: '{{ inputs.password }}' } }],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await api.admin.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);

    // Microsoft throttles the first password write: its span says so, and the retry's span follows
    // (sent again inside the attempt, m365/transient.ts, or by a new attempt).
    env.sandbox.admin.failNext({ status: 429, match: '^PATCH /v1\\.0/users/', retryAfterSeconds: 1 });
    const started = await api.admin.call('POST', '/api/runs', { runbookId: id, inputs: { user: target, password: SECRET } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const runId = started.body.id as string;
    const run = await pollApi(api.admin, `/api/runs/${runId}`, (r) => r.status === 'succeeded' || r.status === 'failed');
    assert.equal(run.status, 'succeeded', JSON.stringify(run));

    // The request's span, then its whole trace (the workflow's spans leave through the worker's sink).
    const find = () => {
      const http = spans.find((s) => s.name === 'POST /api/runs' && s.kind === 2 && spans.some((c) => c.parentSpanId === s.spanId && c.name.startsWith('StartWorkflow:')));
      if (!http) return undefined;
      const trace = spans.filter((s) => s.traceId === http.traceId);
      const child = (parent: OtlpSpan | undefined, pred: (s: OtlpSpan) => boolean) => (parent ? trace.find((s) => s.parentSpanId === parent.spanId && pred(s)) : undefined);
      const start = child(http, (s) => s.name === 'StartWorkflow:runbookWorkflow');
      const workflow = child(start, (s) => s.name === 'RunWorkflow:runbookWorkflow');
      const schedule = child(workflow, (s) => s.name === 'StartActivity:user.resetPassword');
      // One RunActivity span per attempt (each a child of the one StartActivity span).
      const attempts = schedule ? trace.filter((s) => s.parentSpanId === schedule.spanId && s.name === 'RunActivity:user.resetPassword') : [];
      const graph = trace.filter((s) => attempts.some((a) => a.spanId === s.parentSpanId) && s.kind === 3);
      const writes = graph.filter((s) => attr(s, 'http.request.method') === 'PATCH');
      return attempts.length && writes.length >= 2 ? { http, start, workflow: workflow!, activity: attempts[0]!, graph, writes } : undefined;
    };
    const found = await awaitTrace(find);
    assert.ok(found, `no connected trace; spans received:\n${dump()}`);
    const { http, start, workflow, activity, graph, writes } = found;

    assert.equal(attr(http, 'http.route'), '/api/runs');
    assert.equal(attr(http, 'http.response.status_code'), 201);
    assert.equal(attr(start!, 'temporalWorkflowId'), runId);
    assert.equal(attr(workflow, 'temporalWorkflowId'), runId);
    assert.equal(attr(workflow, 'tenantflow.runbook'), 'Traced password reset');
    assert.equal(attr(workflow, 'tenantflow.tenant'), 'sandbox');
    assert.equal(attr(activity, 'tenantflow.action'), 'user.resetPassword');
    assert.equal(attr(activity, 'tenantflow.tenant'), 'sandbox');
    // The reset reads the user, then PATCHes its password profile: each request is a span.
    const throttled = writes.find((s) => attr(s, 'http.response.status_code') === 429);
    assert.ok(throttled, `a throttled PATCH among ${writes.map((s) => attr(s, 'http.response.status_code')).join(', ')}`);
    assert.equal(attr(throttled, 'tenantflow.throttled'), true);
    assert.deepEqual(attr(throttled, 'http.response.header.retry-after'), ['1']);
    const write = writes.find((s) => attr(s, 'http.response.status_code') === 204);
    assert.ok(write, 'the retried PATCH succeeded');
    assert.equal(attr(write, 'tenantflow.service'), 'directory');
    assert.equal(attr(write, 'http.request.method'), 'PATCH');
    assert.match(String(attr(write, 'url.path')), /^\/v1\.0\/users\/[^?]+$/);
    for (const s of graph) assert.ok(!String(attr(s, 'url.path')).includes('?'), 'no query string in a span');

    // The secret input is in no span (nor anywhere the exporter sent); neither is a bearer token.
    const sent = bodies.join('\n');
    assert.ok(!sent.includes(SECRET), 'the secret input is in an exported span');
    assert.ok(!/Bearer\s|eyJ[A-Za-z0-9_-]{10,}\./.test(sent), 'a token is in an exported span');
  });

  it('a bulk run is one trace: the POST, the batch workflow, its activities on the control plane and each row\'s run', async () => {
    const users = (await env.graph.api('/users').filter("userType eq 'Member'").select('userPrincipalName').top(2).get()).value.map((u: { userPrincipalName: string }) => u.userPrincipalName) as string[];
    assert.equal(users.length, 2);
    const id = `traced-bulk-${randomBytes(3).toString('hex')}`;
    const definition = { name: 'Traced bulk read', inputs: [{ name: 'upn', type: 'string', required: true }], nodes: [{ id: 'read', kind: 'action', action: 'user.get', params: { user: '{{ inputs.upn }}' } }] };
    assert.equal((await api.admin.call('POST', '/api/runbooks', { id, definition })).status, 201);
    assert.equal((await api.admin.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
    const started = await api.admin.call('POST', '/api/runs/bulk', { runbookId: id, csv: ['upn', ...users].join('\n') });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const batch = started.body.batch as string;
    const done = await pollApi(api.admin, `/api/batches/${batch}`, (b) => b.status !== 'running');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    const rows = (await api.admin.call('GET', `/api/batches/${batch}/rows?pageSize=10`)).body.rows as { runId: string }[];
    const rowRuns = rows.map((r) => r.runId).sort();
    assert.equal(rowRuns.length, 2);

    const find = () => {
      const http = spans.find((s) => s.name === 'POST /api/runs/bulk' && s.kind === 2 && spans.some((c) => c.parentSpanId === s.spanId && c.name === 'StartWorkflow:batchWorkflow'));
      if (!http) return undefined;
      const trace = spans.filter((s) => s.traceId === http.traceId);
      const children = (parent: OtlpSpan | undefined, pred: (s: OtlpSpan) => boolean) => (parent ? trace.filter((s) => s.parentSpanId === parent.spanId && pred(s)) : []);
      const start = children(http, (s) => s.name === 'StartWorkflow:batchWorkflow')[0];
      const workflow = children(start, (s) => s.name === 'RunWorkflow:batchWorkflow')[0];
      const schedule = children(workflow, (s) => s.name === 'StartActivity:runBatchSlice')[0];
      const slice = children(schedule, (s) => s.name === 'RunActivity:runBatchSlice')[0];
      const finish = children(children(workflow, (s) => s.name === 'StartActivity:finishBatch')[0], (s) => s.name === 'RunActivity:finishBatch')[0];
      const rowStarts = children(slice, (s) => s.name === 'StartWorkflow:runbookWorkflow');
      const rowWorkflows = rowStarts.flatMap((r) => children(r, (s) => s.name === 'RunWorkflow:runbookWorkflow'));
      const rowActivities = rowWorkflows.flatMap((w) => children(children(w, (s) => s.name === 'StartActivity:user.get')[0], (s) => s.name === 'RunActivity:user.get'));
      const rowGraph = rowActivities.flatMap((a) => children(a, (s) => s.kind === 3 && attr(s, 'tenantflow.service') === 'directory'));
      const complete = start && workflow && slice && finish && rowWorkflows.length === 2 && rowActivities.length >= 2 && rowGraph.length >= 2;
      return complete ? { http, workflow: workflow!, slice: slice!, finish: finish!, rowStarts, rowWorkflows, rowGraph } : undefined;
    };
    const found = await awaitTrace(find);
    assert.ok(found, `no connected bulk trace; spans received:\n${dump()}`);
    const { http, workflow, slice, finish, rowStarts, rowWorkflows } = found;
    assert.equal(attr(http, 'http.route'), '/api/runs/bulk');
    assert.equal(attr(http, 'http.response.status_code'), 202);
    assert.equal(attr(workflow, 'temporalWorkflowId'), `${batch}.round-1`);
    assert.equal(attr(workflow, 'tenantflow.batch'), batch);
    assert.equal(attr(slice, 'tenantflow.batch'), batch);
    assert.equal(attr(finish, 'tenantflow.batch'), batch);
    // Each row's run, started by the slice under its fixed id.
    assert.deepEqual(rowStarts.map((s) => attr(s, 'temporalWorkflowId')).sort(), rowRuns);
    assert.deepEqual(rowWorkflows.map((s) => attr(s, 'tenantflow.runbook_id')), [id, id]);
  });
});
