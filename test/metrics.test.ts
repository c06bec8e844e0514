// Prometheus metrics read back after a real run (server, worker, Temporal dev server and sandbox):
// the server's /metrics counts the run started and finished for its runbook; the worker's /metrics
// counts the step's duration, the Graph requests it sent by service and status, the throttle
// gate's rate for the tenant and the worker's activity slots.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { samples } from '../server/worker-gates.ts';
import { serveMetrics, workerRegistry } from '../worker/metrics.ts';
import { pollApi, runOneUserRead, startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let api: ApiServer;
let workerMetrics: Server;

before(async () => {
  env = await startTestEnv();
  workerMetrics = await serveMetrics(workerRegistry, 0, '127.0.0.1');
  // A second worker URL that answers nothing: the dashboard names it instead of hiding it.
  api = await startApiServer(env, { workerMetrics: [`http://127.0.0.1:${(workerMetrics.address() as AddressInfo).port}/metrics`, 'http://127.0.0.1:9/metrics'] });
});
after(async () => {
  workerMetrics?.close();
  await api?.close();
  await env?.close();
});

/** The value of one sample of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text, name).find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
}

describe('metrics', () => {
  it('counts a run, its step, its Graph requests and the throttle gate, read back from /metrics', async () => {
    const id = `metrics-${randomUUID().slice(0, 6)}`;
    await runOneUserRead(api, env, id);

    const server = await fetch(`${api.base}/metrics`);
    assert.equal(server.status, 200);
    assert.match(server.headers.get('content-type') ?? '', /^text\/plain/);
    const s = await server.text();
    assert.equal(sample(s, 'tenantflow_runs_started_total', { runbook: id }), 1, s.split('\n').filter((l) => l.includes('runs_')).join('\n'));
    assert.equal(sample(s, 'tenantflow_runs_finished_total', { runbook: id, status: 'succeeded' }), 1);

    const w = await (await fetch(`http://127.0.0.1:${(workerMetrics.address() as AddressInfo).port}/metrics`)).text();
    assert.ok((sample(w, 'tenantflow_step_duration_seconds_count', { action: 'user.get', outcome: 'succeeded' }) ?? 0) >= 1, 'the step\'s duration');
    const tenant = env.tenant.tenantId.toLowerCase();
    assert.ok((sample(w, 'tenantflow_service_requests_total', { tenant, service: 'directory', status: '200' }) ?? 0) >= 1, 'the Graph read, by service and status');
    assert.ok((sample(w, 'tenantflow_throttle_rate', { tenant, service: 'directory' }) ?? 0) > 0, 'the gate\'s current rate for the tenant');
    assert.equal(sample(w, 'tenantflow_worker_activity_slots', { task_queue: env.taskQueue, state: 'available' }), 200);

    // The dashboard shows the same gate under the tenant's name, read from the worker's /metrics.
    const dash = await api.admin.call('GET', '/api/dashboard');
    assert.equal(dash.status, 200, JSON.stringify(dash.body));
    const live = dash.body.live as { configured: boolean; gates: { tenant: string; budget: string; rate: number }[]; answers: { tenant: string; service: string; total: number }[]; unreachable: { worker: string }[] };
    assert.equal(live.configured, true);
    const rate = sample(w, 'tenantflow_throttle_rate', { tenant, service: 'directory' });
    assert.ok(live.gates.some((g) => g.tenant === 'sandbox' && g.budget.startsWith('directory') && g.rate > 0 && rate !== undefined), JSON.stringify(live.gates));
    assert.ok(live.answers.some((a) => a.tenant === 'sandbox' && a.service === 'directory' && a.total >= 1), JSON.stringify(live.answers));
    assert.deepEqual(live.unreachable.map((u) => u.worker), ['127.0.0.1:9']);

    // The Grafana dashboard only asks for metrics that exist.
    const dashboard = readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const used = new Set([...dashboard.matchAll(/tenantflow_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    assert.ok(used.size >= 5);
    for (const name of used) assert.ok(s.includes(`# TYPE ${name} `) || w.includes(`# TYPE ${name} `), `the dashboard's ${name} is served`);
  });

  it('observes how long an approval waited for its decision', async () => {
    const id = `wait-${randomUUID().slice(0, 6)}`;
    const approverEmail = `approver.${id}@tenantflow.test`;
    const definition = { name: 'Ask first', nodes: [{ id: 'ask', kind: 'approval', approvers: { users: [approverEmail] } }, { id: 'done', kind: 'end' }], edges: [{ source: 'ask', sourceHandle: 'approved', target: 'done' }] };
    assert.equal((await api.admin.call('POST', '/api/runbooks', { id, definition })).status, 201);
    assert.equal((await api.admin.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
    const started = await api.admin.call('POST', '/api/runs', { runbookId: id, inputs: {} });
    await pollApi(api.admin, `/api/runs/${started.body.id}`, (r) => r.status === 'waiting-approval');
    const approver = await api.as(approverEmail, [{ tenant: '*', role: 'viewer' }]);
    assert.equal((await approver.call('POST', `/api/runs/${started.body.id}/approvals/ask`, { decision: 'approve' })).status, 202);
    const s = await (await fetch(`${api.base}/metrics`)).text();
    assert.equal(sample(s, 'tenantflow_approval_wait_seconds_count', { runbook: id, decision: 'approve' }), 1);
  });
});
