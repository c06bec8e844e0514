// The metrics read back by Prometheus itself: the real prometheus binary (Debian's package; the test
// is skipped, saying so, only when it is not installed) runs deploy/prometheus.yml with only its
// targets rewritten to this test's server, worker metrics and Temporal SDK metrics (the same job
// names, bearer token file and relabelling as in docker-compose.yml). After a real run (Temporal dev
// server, worker, sandbox), Prometheus' HTTP API answers the run counters and the Graph request
// counter with the values the processes serve, and every expression of docs/grafana-dashboard.json
// parses and evaluates there (data, or an empty vector where nothing happened yet).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../scripts/temporal.ts';
import { samples } from '../server/worker-gates.ts';
import { serveMetrics, workerRegistry } from '../worker/metrics.ts';
import { runOneUserRead, startApiServer, type ApiServer } from './api-harness.ts';
import type { TestEnv } from './harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const version = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
const missing = version.error ? 'the prometheus binary is not installed: apt-get install -y prometheus (as root; .ci/run does this)' : undefined;
if (missing) console.warn(`prometheus.test.ts skipped: ${missing}`);

interface ScrapeJob {
  job_name: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: unknown[];
  authorization?: { type: string; credentials_file?: string };
  relabel_configs?: unknown[];
  [k: string]: unknown;
}

/** deploy/prometheus.yml as JSON (python3-yaml; YAML is a superset of JSON, so Prometheus reads the JSON back). */
function productionConfig(): { global?: Record<string, unknown>; scrape_configs: ScrapeJob[] } {
  const out = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(root, 'deploy/prometheus.yml')], { encoding: 'utf8' });
  assert.equal(out.status, 0, `reading deploy/prometheus.yml needs python3-yaml: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

let env: TestEnv;
let api: ApiServer;
let workerMetrics: Server;
let prometheus: ChildProcess | undefined;
let promBase = '';
let promLog = '';
let scratch = '';
const token = randomBytes(24).toString('hex');
const sdkPort = missing ? 0 : await freePort();
// The Temporal SDK's own metrics, as worker/main.ts serves them: the harness installs the SDK's
// runtime with this address when it is imported, so it is imported only now.
process.env.TENANTFLOW_TEST_SDK_METRICS_ADDRESS = `127.0.0.1:${sdkPort}`;
const { startTestEnv } = await import('./harness.ts');

before(async () => {
  if (missing) return;
  // As docker-compose.yml runs them: the server asks for the metrics token, the worker serves its
  // metrics (and the SDK's, above).
  process.env.TENANTFLOW_METRICS_TOKEN = token;
  env = await startTestEnv();
  workerMetrics = await serveMetrics(workerRegistry, 0, '127.0.0.1');
  api = await startApiServer(env);

  // The production file with its targets rewritten to this test's processes, nothing else changed
  // but the scrape interval.
  scratch = mkdtempSync(join(tmpdir(), 'tenantflow-prometheus-'));
  const config = productionConfig();
  const targets: Record<string, string> = {
    'tenantflow-server': new URL(api.base).host,
    'tenantflow-worker': `127.0.0.1:${(workerMetrics.address() as AddressInfo).port}`,
    'tenantflow-worker-sdk': `127.0.0.1:${sdkPort}`,
  };
  assert.deepEqual(config.scrape_configs.map((j) => j.job_name).sort(), Object.keys(targets).sort(), 'the jobs of deploy/prometheus.yml');
  for (const job of config.scrape_configs) {
    delete job.dns_sd_configs;
    job.static_configs = [{ targets: [targets[job.job_name]!] }];
    if (job.authorization?.credentials_file) {
      const file = join(scratch, 'metrics-token');
      writeFileSync(file, token, { mode: 0o600 });
      job.authorization.credentials_file = file;
    }
  }
  config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
  writeFileSync(join(scratch, 'prometheus.json'), JSON.stringify(config, null, 2));
  const port = await freePort();
  promBase = `http://127.0.0.1:${port}`;
  prometheus = spawn('prometheus', [`--config.file=${join(scratch, 'prometheus.json')}`, `--storage.tsdb.path=${join(scratch, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stdout!.on('data', (d) => (promLog += d));
  prometheus.stderr!.on('data', (d) => (promLog += d));
  for (let i = 0; ; i++) {
    assert.equal(prometheus.exitCode, null, `prometheus exited:\n${promLog}`);
    const ready = await fetch(`${promBase}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    assert.ok(i < 600, `prometheus did not become ready:\n${promLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
after(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  workerMetrics?.close();
  await api?.close();
  await env?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query through Prometheus' HTTP API: its status, error and vector. */
async function query(expr: string): Promise<{ status: string; error?: string; resultType?: string; result: VectorSample[] }> {
  const res = await fetch(`${promBase}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: expr }) });
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: VectorSample[] } };
  return { status: body.status, error: body.error, resultType: body.data?.resultType, result: body.data?.result ?? [] };
}

/** Asks again (Prometheus scrapes every second here) until `ok` holds; the last answer either way. */
async function until(expr: string, ok: (r: VectorSample[]) => boolean): Promise<VectorSample[]> {
  let last: VectorSample[] = [];
  for (let i = 0; i < 300; i++) {
    const r = await query(expr);
    assert.equal(r.status, 'success', `${expr}: ${r.error}`);
    last = r.result;
    if (ok(last)) return last;
    await new Promise((res) => setTimeout(res, 200));
  }
  return last;
}

const value = (r: VectorSample[]) => (r.length === 1 ? Number(r[0]!.value[1]) : undefined);

describe('Prometheus reads the metrics back', { skip: missing }, () => {
  it('scrapes the server (with the token), the worker and the SDK; a run and its Graph requests are counted with the values the processes serve', async () => {
    // Without the token the server's /metrics refuses; Prometheus scrapes it with the token file.
    assert.equal((await fetch(`${api.base}/metrics`)).status, 401);
    for (const job of ['tenantflow-server', 'tenantflow-worker', 'tenantflow-worker-sdk']) {
      const up = await until(`up{job="${job}"}`, (r) => value(r) === 1);
      assert.equal(value(up), 1, `${job} is not up:\n${JSON.stringify((await (await fetch(`${promBase}/api/v1/targets`)).json()), null, 1)}\n${promLog}`);
    }
    // The relabelling of the production file applies.
    assert.equal((await query('up{job="tenantflow-server"}')).result[0]!.metric.component, 'server');
    assert.equal((await query('up{job="tenantflow-worker"}')).result[0]!.metric.component, 'worker');
    // The Temporal SDK's own metrics arrive through their job.
    const sdk = await until('count({job="tenantflow-worker-sdk", __name__=~"temporal_.+"})', (r) => (value(r) ?? 0) > 0);
    assert.ok((value(sdk) ?? 0) > 0, 'no temporal_* metric from the SDK');

    const id = `prom-${randomUUID().slice(0, 6)}`;
    await runOneUserRead(api, env, id);

    const runsStarted = await until(`tenantflow_runs_started_total{job="tenantflow-server", runbook="${id}"}`, (r) => value(r) === 1);
    assert.equal(value(runsStarted), 1, 'the run started, counted by the server and scraped');
    const finished = await until(`tenantflow_runs_finished_total{job="tenantflow-server", runbook="${id}", status="succeeded"}`, (r) => value(r) === 1);
    assert.equal(value(finished), 1, 'the run finished');

    // The Graph requests the worker counted: Prometheus holds what the worker's /metrics serves
    // (the run is over, so the count no longer moves).
    const tenant = env.tenant.tenantId.toLowerCase();
    const served = samples(await (await fetch(`http://127.0.0.1:${(workerMetrics.address() as AddressInfo).port}/metrics`)).text(), 'tenantflow_service_requests_total').find(
      (s) => s.labels.tenant === tenant && s.labels.service === 'directory' && s.labels.status === '200',
    )?.value;
    assert.ok(served && served >= 1, 'the worker counted the directory reads');
    const graph = await until(`tenantflow_service_requests_total{job="tenantflow-worker", tenant="${tenant}", service="directory", status="200"}`, (r) => value(r) === served);
    assert.equal(value(graph), served, 'Prometheus holds the worker\'s count of Graph requests');
    const steps = await until(`tenantflow_step_duration_seconds_count{job="tenantflow-worker", action="user.get", outcome="succeeded"}`, (r) => (value(r) ?? 0) >= 1);
    assert.ok((value(steps) ?? 0) >= 1, 'the step\'s duration');
  });

  it('evaluates every expression of docs/grafana-dashboard.json without error, with data for what the run produced', async () => {
    const dashboard = JSON.parse(readFileSync(join(root, 'docs/grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets?: { expr?: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.expr).map((t) => ({ panel: p.title, expr: t.expr! })));
    assert.ok(exprs.length >= 8, `the dashboard has ${exprs.length} expressions`);
    // Grafana's own variables, as Grafana would substitute them.
    const grafana = (e: string) => e.replace(/\$__rate_interval|\$__interval|\$__range/g, '1m');
    // Panels over what a succeeded run leaves behind must show data; approvals, failures and
    // throttling did not happen here and may be empty.
    const mayBeEmpty = /approval_wait|status="429"|outcome="failed"|runs_in_progress/;
    for (const { panel, expr } of exprs) {
      const first = await query(grafana(expr));
      assert.equal(first.status, 'success', `panel "${panel}": ${expr}: ${first.error}`);
      assert.match(first.resultType ?? '', /^(vector|scalar)$/, `panel "${panel}"`);
      if (mayBeEmpty.test(expr)) continue;
      const r = await until(grafana(expr), (x) => x.length > 0);
      assert.ok(r.length > 0, `panel "${panel}" shows no data: ${expr}`);
    }
  });
});
