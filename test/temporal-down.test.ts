// Issue 16 finding 7: with Temporal down, calls that need it answer 503 with Retry-After (short
// deadlines on every control-plane call, retries included) instead of hanging ~20 s and a 500; the
// health check says 503; and the API recovers by itself when Temporal comes back on its port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { Runs } from '../server/temporal.ts';
import { controlPlaneInterceptors } from '../server/temporal-deadline.ts';
import { startDevServer, freePort, type DevServer } from '../scripts/temporal.ts';
import { pollApi, startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let dev: DevServer | undefined;
let api: ApiServer;
let connection: Connection;
let port: number;

before(async () => {
  env = await startTestEnv();
  port = await freePort();
  dev = await startDevServer({ headless: true, port });
  connection = await Connection.connect({ address: dev.address, interceptors: controlPlaneInterceptors() });
  const runs = new Runs(new Client({ connection, namespace: dev.namespace }), 'tenantflow-down-test');
  api = await startApiServer({ ...env, runs } as TestEnv);
});
after(async () => {
  await api?.close();
  await connection?.close();
  await dev?.stop();
  await env?.close();
});

describe('finding 7: Temporal down', () => {
  it('answers 503 with Retry-After while Temporal is down, and recovers when it returns', async () => {
    assert.equal((await api.admin.call('GET', '/api/runs')).status, 200);
    await dev!.stop();
    dev = undefined;
    // The run list is served from the control plane's run records, so it keeps answering.
    assert.equal((await api.admin.call('GET', '/api/runs')).status, 200);
    for (const path of ['/api/runs/run-x']) {
      const r = await api.admin.call('GET', path);
      assert.equal(r.status, 503, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'temporal_unavailable');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
    }
    const started = await api.admin.call('POST', '/api/runs', { test: true, definition: { name: 'Tick', inputs: [], nodes: [{ id: 'done', kind: 'end', status: 'succeeded' }], edges: [] } });
    assert.equal(started.status, 503, JSON.stringify(started.body));
    // A start Temporal refused is audited as that, and only as that: "run.started" is written for
    // runs Temporal has (by the writer of the run's first record).
    const audit = (await api.admin.call('GET', '/api/audit?action=run&limit=5')).body as { action: string; target: string; detail: { error?: string } }[];
    assert.equal(audit[0]!.action, 'run.start-failed');
    assert.ok(audit[0]!.detail.error, 'the failed start names its reason');
    assert.ok(!audit.some((e) => e.action === 'run.started' && e.target === audit[0]!.target), 'a refused start is not audited as started');
    const health = await fetch(`${api.base}/api/health`);
    assert.equal(health.status, 503);
    assert.match(((await health.json()) as { temporal: string }).temporal, /unreachable/);
    assert.equal((await api.admin.call('GET', '/api/runbooks')).status, 200, 'what does not need Temporal goes on');

    dev = await startDevServer({ headless: true, port });
    await pollApi(api.admin, '/api/runs', () => true, 60_000);
    assert.equal((await fetch(`${api.base}/api/health`)).status, 200);
  });
});
