// npm run chaos (issue 16, "Suites"): the real parts under crashes and a fault storm, checked from
// the sandbox's own state and mutation log. Each item is an onboarding: create a user, assign a
// licence, add to a group.
//   1. worker kill -9 at a random point of a run, a new worker started, × kills
//   2. Temporal restart (same database file) in the middle of a run, × temporalRestarts
//   3. API server kill -9 (a child process, as in production) mid-request or mid-bulk-start, a new
//      server on the same data, and the same request sent again with the same Idempotency-Key (what
//      a client does after no answer), × serverRestarts: each request's run or batch finishes, and
//      each of its items is written exactly once
//   4. a storm on the sandbox (20% 429, 5% 503, 2% lost answers, 5 s replication lag) over a CSV bulk
//      of items (POST /api/runs/bulk: one batch, the product's own concurrency), and the same bulk
//      without faults: items per minute of each
// Prints runs finished / stuck, items exactly once / duplicated / missing a write / misreported, and
// exits non-zero on any loss, duplicate, misreport or stuck run, or a storm below half the
// fault-free rate.
//   node scripts/chaos.ts            small (a few minutes): 3 kills, 1 + 2 restarts, 40 storm items
//   node scripts/chaos.ts --full     the issue's counts: 100 kills, 10 + 10 restarts, 1,000 items
//   --kills N --temporal N --server N --items N --concurrency N override each.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startDevServer, type DevServer } from './temporal.ts';
import { runStateQuery } from '../workflows/messages.ts';
import { bundleWorkflows } from '../worker/worker.ts';
import type { RunbookDefinitionInput, RunState } from '../runbook/definition.ts';

const { values: args } = parseArgs({
  options: { full: { type: 'boolean', default: false }, kills: { type: 'string' }, temporal: { type: 'string' }, server: { type: 'string' }, items: { type: 'string' }, concurrency: { type: 'string' } },
});
const full = args.full;
const counts = {
  kills: Number(args.kills ?? (full ? 100 : 3)),
  temporal: Number(args.temporal ?? (full ? 10 : 1)),
  server: Number(args.server ?? (full ? 10 : 2)),
  items: Number(args.items ?? (full ? 1000 : 40)),
  // The bulk's own concurrency (POST /api/runs/bulk `concurrency`), the same with and without faults.
  concurrency: Number(args.concurrency ?? 200),
};
const began = Date.now();

const dir = mkdtempSync(join(tmpdir(), 'tenantflow-chaos-'));
// Our own Temporal server on a file, so it can be restarted with its history.
const dbFile = join(dir, 'temporal.db');
let temporal: DevServer = await startDevServer({ headless: true, dbFile });
const port = Number(temporal.address.split(':')[1]);
process.env.TENANTFLOW_TEST_TEMPORAL_ADDRESS = temporal.address;
// Lookups wait out replication lag for the production window (the harness shortens it for tests).
process.env.TENANTFLOW_REPLICATION_WAIT_SECONDS = '30';
// One workflow bundle for every worker started (a worker bundles on its own otherwise).
const bundleFile = join(dir, 'workflow-bundle.js');
writeFileSync(bundleFile, (await bundleWorkflows()).code);
const { childProcessEnv, startTestEnv } = await import('../test/harness.ts');
const env = await startTestEnv({ worker: false });
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, env.sandbox.caPem);
// The server and the workers share a data folder (the secret key, the tenants' sealed mirror).
const dataDir = join(dir, 'data');
mkdirSync(dataDir);
const childEnv = {
  ...childProcessEnv(env, caFile, env.taskQueue),
  TENANTFLOW_DATA: dataDir,
  TENANTFLOW_WORKFLOW_BUNDLE: bundleFile,
};

const children: ChildProcess[] = [];
const script = (p: string) => fileURLToPath(new URL(p, import.meta.url));
function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [script('../worker/main.ts')], { env: childEnv, stdio: 'ignore' });
  children.push(child);
  return child;
}
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the API server, a child process like the worker (npm run server) ----
const serverPort = await freePort();
const serverUrl = `http://127.0.0.1:${serverPort}`;
let adminPassword: string | undefined;
let token = '';
async function startServer(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script('../server/main.ts')], {
    env: { ...childEnv, PORT: String(serverPort), TENANTFLOW_GRAPH_NOTIFICATIONS: 'off', TENANTFLOW_ADMIN_EMAIL: 'chaos@tenantflow.local' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const pw = /password\s+(\S+)\s+\(one-time/.exec(out);
      if (pw) adminPassword = pw[1];
      if (/server: listening/.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${out}\n${err}`)));
  });
  return child;
}
async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, auth = true): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${serverUrl}${path}`, {
    method,
    headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
/** The first server's one-time admin: a new password and an API token (kept in its database). */
async function signIn(): Promise<void> {
  if (!adminPassword) throw new Error('the server printed no one-time admin password');
  const login = await fetch(`${serverUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'chaos@tenantflow.local', password: adminPassword }) });
  const signed = (await login.json()) as { csrfToken: string };
  if (!login.ok) throw new Error(`sign-in refused: ${login.status} ${JSON.stringify(signed)}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const session = { cookie, 'x-csrf-token': signed.csrfToken };
  const next = `chaos-${randomUUID()}`;
  const pw = await api('POST', '/api/auth/password', { currentPassword: adminPassword, newPassword: next }, session, false);
  if (pw.status >= 300) throw new Error(`password change refused: ${pw.status} ${JSON.stringify(pw.body)}`);
  const t = await api('POST', '/api/auth/tokens', { name: 'chaos' }, session, false);
  if (t.status !== 201) throw new Error(`token refused: ${t.status} ${JSON.stringify(t.body)}`);
  token = t.body.token;
}
/**
 * Sends a creating request with its Idempotency-Key until an answer comes: what a client does after
 * a lost answer (409: the first request with the key is still unanswered; no answer: the server is down).
 */
async function sendUntilAnswered(path: string, body: unknown, key: string, deadlineMs = 180_000): Promise<{ status: number; body: any; headers: Headers }> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await api('POST', path, body, { 'Idempotency-Key': key }).catch(() => undefined);
    if (r && r.status !== 409 && r.status < 500) return r;
    if (Date.now() > until) throw new Error(`no answer to POST ${path} within ${deadlineMs / 1000} s: ${r ? `${r.status} ${JSON.stringify(r.body)}` : 'no connection'}`);
    await sleep(1000);
  }
}

// ---- items ----
const steps = (upn: string): Pick<RunbookDefinitionInput, 'nodes' | 'edges'> => ({
  nodes: [
    { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: upn, displayName: 'Chaos User', usageLocation: 'US' } },
    // A free licence with seats for every item (the sandbox's paid SKUs have a few dozen).
    { id: 'licence', kind: 'action', action: 'licence.assign', params: { user: upn, licences: ['FLOW_FREE'] } },
    { id: 'group', kind: 'action', action: 'group.addMember', params: { user: '{{ steps.create.output.id }}', group: 'All Company' } },
  ],
  edges: [
    { source: 'create', target: 'licence' },
    { source: 'licence', target: 'group' },
  ],
});
const onboarding = (upn: string): RunbookDefinitionInput => ({ name: 'chaos onboarding', ...steps(upn) });
/** The same, as a published runbook with one input: a CSV of UPNs is a bulk of items. */
const bulkRunbook: RunbookDefinitionInput = { name: 'chaos onboarding', inputs: [{ name: 'upn', type: 'string', required: true }], ...steps('{{ inputs.upn }}') } as RunbookDefinitionInput;

type Verdict = 'exactly-once' | 'duplicated' | 'missing' | 'misreported';
type Reported = 'succeeded' | 'failed' | 'stuck';
const tally = () => ({ finished: 0, stuck: 0, 'exactly-once': 0, duplicated: 0, missing: 0, misreported: 0, items: 0 });
type Tally = ReturnType<typeof tally>;

/** The item as the tenant has it (sandbox state and mutation log) against what its run reported. */
async function judge(upn: string, reported: Reported): Promise<Verdict> {
  const u = (await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).select('id,assignedLicenses').get()).value as { id: string; assignedLicenses: unknown[] }[];
  if (u.length > 1) return 'duplicated';
  const id = u[0]?.id;
  const ops = id ? env.sandbox.admin.mutationSummary({ objectId: id }) : {};
  const created = id ? env.sandbox.admin.mutations().filter((m) => m.op === 'user.create' && m.objectIds.includes(id)).length : 0;
  if (created > 1 || (ops['user.assignLicense'] ?? 0) > 1 || (ops['group.addMember'] ?? 0) > 1) return 'duplicated';
  const complete = !!id && (u[0]!.assignedLicenses?.length ?? 0) === 1 && (ops['group.addMember'] ?? 0) === 1;
  if (reported === 'succeeded') return complete ? 'exactly-once' : 'missing';
  // A run that did not succeed must not have left the tenant complete (it would be reported falsely).
  return complete ? 'misreported' : 'missing';
}

/** Why items were not exactly once (the first few, printed at the end). */
const why: string[] = [];
async function outcome(id: string, timeoutMs: number): Promise<Reported> {
  const h = env.client.workflow.getHandle(id);
  const result = h.result().then(
    (s: RunState) => (Object.values(s.nodes).every((n) => n.status === 'succeeded') ? 'succeeded' : 'failed') as 'succeeded' | 'failed',
    async () => {
      const s = (await h.query(runStateQuery).catch(() => undefined)) as RunState | undefined;
      const failed = s && Object.values(s.nodes).find((n) => n.status === 'failed');
      if (why.length < 5) why.push(`${id}: ${failed ? `${failed.id}: ${failed.error?.message}` : 'failed'}`);
      return 'failed' as const;
    },
  );
  return Promise.race([result, sleep(timeoutMs).then(() => 'stuck' as const)]);
}
async function count(t: Tally, upn: string, o: Reported, what: string): Promise<void> {
  const v = await judge(upn, o);
  if (v !== 'exactly-once' && why.length < 5) why.push(`${what} (${upn}): reported ${o}, judged ${v}`);
  t.items++;
  t[v]++;
}
async function item(t: Tally, upn: string, id: string, timeoutMs = 300_000): Promise<void> {
  const o = await outcome(id, timeoutMs);
  if (o === 'stuck') t.stuck++;
  else t.finished++;
  await count(t, upn, o, id);
}
const newUpn = (tag: string) => `chaos.${tag}.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
const start = async (upn: string) => (await env.start(onboarding(upn))).workflowId;

/** A batch's rows once it has ended (or stuck after timeoutMs), each judged against the tenant. */
async function batchDone(t: Tally, batch: string, upns: string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let status = 'running';
  for (;;) {
    const b = await api('GET', `/api/batches/${batch}`).catch(() => undefined);
    if (b?.status === 200 && b.body.status !== 'running') {
      status = b.body.status;
      break;
    }
    if (Date.now() > until) break;
    await sleep(2000);
  }
  if (status === 'running') t.stuck++;
  else t.finished++;
  const rows = new Map<number, { status: string; error?: string }>();
  for (let after: number | undefined; ; ) {
    const r = await api('GET', `/api/batches/${batch}/rows?pageSize=200${after !== undefined ? `&after=${after}` : ''}`);
    if (r.status !== 200) throw new Error(`rows of ${batch}: ${r.status} ${JSON.stringify(r.body)}`);
    for (const row of r.body.rows) rows.set(row.line, row);
    if (r.body.next === undefined) break;
    after = r.body.next;
  }
  for (const [i, upn] of upns.entries()) {
    const row = rows.get(i + 2);
    const o: Reported = status === 'running' ? 'stuck' : row?.status === 'succeeded' ? 'succeeded' : 'failed';
    if (row?.status === 'failed' && why.length < 5) why.push(`${batch} line ${i + 2}: ${row.error}`);
    await count(t, upn, o, `${batch} line ${i + 2}`);
  }
}

const report: string[] = [];
const line = (name: string, n: number, t: Tally, unit = 'runs') => {
  const s = `${name.padEnd(22)} ${unit} ${t.finished}/${n} finished, ${t.stuck} stuck; items ${t['exactly-once']}${t.items !== n ? `/${t.items}` : ''} exactly once, ${t.duplicated} duplicated, ${t.missing} missing a write, ${t.misreported} misreported`;
  report.push(s);
  console.log(s);
  return t;
};
const results: Tally[] = [];
let slow = false;

let worker = startWorker();
let server: ChildProcess | undefined;
try {
  // 1. worker kill -9 at a random point of a run
  {
    const t = tally();
    env.sandbox.admin.setFaults({ latencyMs: 150 });
    for (let i = 0; i < counts.kills; i++) {
      const upn = newUpn('kill');
      const id = await start(upn);
      await sleep(200 + Math.random() * 2500);
      await kill(worker);
      worker = startWorker();
      await item(t, upn, id);
    }
    env.sandbox.admin.setFaults({});
    results.push(line('worker kill -9', counts.kills, t));
  }

  // 2. Temporal restarted (same database) while a run is in flight
  {
    const t = tally();
    env.sandbox.admin.setFaults({ latencyMs: 150 });
    for (let i = 0; i < counts.temporal; i++) {
      const upn = newUpn('temporal');
      const id = await start(upn);
      await sleep(300 + Math.random() * 1500);
      await temporal.stop();
      await sleep(1000);
      temporal = await startDevServer({ headless: true, dbFile, port });
      await item(t, upn, id);
    }
    env.sandbox.admin.setFaults({});
    results.push(line('Temporal restart', counts.temporal, t));
  }

  // 3. the API server killed (-9) mid-request or mid-bulk-start, restarted on the same data, and
  //    the request sent again with the same Idempotency-Key
  server = await startServer();
  await signIn();
  const created = await api('POST', '/api/runbooks', { id: 'chaos-onboarding', definition: bulkRunbook });
  if (created.status !== 201) throw new Error(`runbook refused: ${created.status} ${JSON.stringify(created.body)}`);
  const published = await api('POST', '/api/runbooks/chaos-onboarding/publish', {});
  if (published.status !== 201) throw new Error(`publish refused: ${published.status} ${JSON.stringify(published.body)}`);
  const csvOf = (upns: string[]) => `upn\n${upns.join('\n')}\n`;
  {
    const t = tally();
    for (let i = 0; i < counts.server; i++) {
      const key = randomUUID();
      // Every other restart is a bulk start of 20 rows, killed while it is answered or while its
      // batch starts the rows' runs; the others a single run killed mid-request.
      const bulk = i % 2 === 1;
      const upns = Array.from({ length: bulk ? 20 : 1 }, () => newUpn('server'));
      const [path, body] = bulk
        ? ['/api/runs/bulk', { runbookId: 'chaos-onboarding', test: true, csv: csvOf(upns), concurrency: 20 }]
        : ['/api/runs', { test: true, definition: onboarding(upns[0]!), inputs: {} }];
      const first = api('POST', path, body, { 'Idempotency-Key': key }).catch(() => undefined);
      await sleep(Math.random() * (bulk ? 2500 : 400));
      await kill(server);
      const answered = await first;
      server = await startServer();
      const again = await sendUntilAnswered(path, body, key);
      if (again.status !== (bulk ? 202 : 201)) throw new Error(`the repeat was refused: ${again.status} ${JSON.stringify(again.body)}`);
      const id: string = bulk ? again.body.batch : again.body.id;
      const firstId = answered && answered.status < 300 ? (bulk ? answered.body.batch : answered.body.id) : undefined;
      if (firstId !== undefined && firstId !== id) throw new Error(`the repeat with the same Idempotency-Key answered ${id}, the first ${firstId}`);
      if (bulk) await batchDone(t, id, upns, 600_000);
      else await item(t, upns[0]!, id);
    }
    results.push(line('server kill -9', counts.server, t, 'requests'));
  }

  // 4. the storm, then the same bulk without faults: one CSV batch each, with its own concurrency
  const bulk = async (tag: string) => {
    const t = tally();
    const upns = Array.from({ length: counts.items }, () => newUpn(tag));
    const started = Date.now();
    const r = await sendUntilAnswered('/api/runs/bulk', { runbookId: 'chaos-onboarding', test: true, csv: csvOf(upns), concurrency: counts.concurrency }, randomUUID());
    if (r.status !== 202) throw new Error(`the bulk was refused: ${r.status} ${JSON.stringify(r.body)}`);
    const until = Date.now() + 4 * 3600_000;
    while (Date.now() < until) {
      const b = await api('GET', `/api/batches/${r.body.batch}`).catch(() => undefined);
      if (b?.status === 200 && b.body.status !== 'running') break;
      await sleep(1000);
    }
    const perMinute = (counts.items / (Date.now() - started)) * 60_000;
    // The tenant is read back without faults.
    env.sandbox.admin.setFaults({});
    await batchDone(t, r.body.batch, upns, 0);
    return { t, perMinute };
  };
  env.sandbox.admin.setFaults({ rate429: 0.2, rate503: 0.05, dropRate: 0.02, replicationLagSeconds: 5, retryAfterSeconds: 1, seed: 16 });
  const storm = await bulk('storm');
  env.sandbox.admin.setFaults({});
  results.push(line(`storm of ${counts.items} items`, 1, storm.t, 'batches'));
  const calm = await bulk('calm');
  results.push(line(`fault-free ${counts.items} items`, 1, calm.t, 'batches'));
  const ratio = storm.perMinute / calm.perMinute;
  slow = ratio < 0.5;
  const rate = `items per minute: ${storm.perMinute.toFixed(1)} under the storm, ${calm.perMinute.toFixed(1)} without faults (${ratio.toFixed(2)} of the fault-free rate, bulk concurrency ${counts.concurrency})`;
  report.push(rate);
  console.log(rate);
} finally {
  for (const c of children) await kill(c);
  await env.close().catch(() => {});
  await temporal.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

if (why.length) console.log(`first problems:\n  ${why.join('\n  ')}`);
const bad = results.reduce((n, t) => n + t.stuck + t.duplicated + t.missing + t.misreported, 0);
console.log(`chaos: ${Math.round((Date.now() - began) / 60_000)} min`);
console.log(
  bad || slow
    ? `chaos: FAILED (${bad} items lost, duplicated, misreported or stuck${slow ? '; the storm below half the fault-free rate' : ''})`
    : 'chaos: every run finished, every item exactly once, the storm at half the fault-free rate or better',
);
process.exit(bad || slow ? 1 : 0);
