// npm run chaos (issue 16, "Suites"): the real parts under crashes and a fault storm, checked from
// the sandbox's own state and mutation log. Each item is an onboarding run: create a user, assign a
// licence, add to a group.
//   1. worker kill -9 at a random point of a run, a new worker started, × kills
//   2. Temporal restart (same database file) in the middle of a run, × temporalRestarts
//   3. server restart (same data directory) after starting a run through the API, × serverRestarts
//   4. a storm on the sandbox (20% 429, 5% 503, 2% lost answers, 5 s replication lag) over a bulk of
//      items, and the same bulk without faults: items per minute of each
// Prints runs finished / stuck, items exactly once / duplicated / missing a write / misreported, and
// exits non-zero on any loss, duplicate, misreport or stuck run.
//   node scripts/chaos.ts            small (a few minutes): 3 kills, 1 + 1 restarts, 12 storm items
//   node scripts/chaos.ts --full     the issue's counts: 100 kills, 10 + 10 restarts, 1,000 items
//   --kills N --temporal N --server N --items N override each count.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDevServer, type DevServer } from './temporal.ts';
import { runStateQuery } from '../workflows/messages.ts';
import type { RunbookDefinitionInput, RunState } from '../runbook/definition.ts';

const { values: args } = parseArgs({
  options: { full: { type: 'boolean', default: false }, kills: { type: 'string' }, temporal: { type: 'string' }, server: { type: 'string' }, items: { type: 'string' }, concurrency: { type: 'string' } },
});
const full = args.full;
const counts = {
  kills: Number(args.kills ?? (full ? 100 : 3)),
  temporal: Number(args.temporal ?? (full ? 10 : 1)),
  server: Number(args.server ?? (full ? 10 : 1)),
  items: Number(args.items ?? (full ? 1000 : 12)),
  concurrency: Number(args.concurrency ?? 12),
};

const dir = mkdtempSync(join(tmpdir(), 'tenantflow-chaos-'));
// Our own Temporal server on a file, so it can be restarted with its history.
const dbFile = join(dir, 'temporal.db');
let temporal: DevServer = await startDevServer({ headless: true, dbFile });
const port = Number(temporal.address.split(':')[1]);
process.env.TENANTFLOW_TEST_TEMPORAL_ADDRESS = temporal.address;
// Lookups wait out replication lag for the production window (the harness shortens it for tests).
process.env.TENANTFLOW_REPLICATION_WAIT_SECONDS = '30';
const { startTestEnv } = await import('../test/harness.ts');
const { startApiServer } = await import('../test/api-harness.ts');
const env = await startTestEnv({ worker: false });
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, env.sandbox.caPem);

const workers: ChildProcess[] = [];
function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../worker/main.ts', import.meta.url))], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: env.taskQueue,
      SANDBOX_URL: env.sandbox.url,
      SANDBOX_TENANT_ID: env.sandbox.tenant.tenantId,
      SANDBOX_CLIENT_ID: env.sandbox.tenant.clientId,
      SANDBOX_CLIENT_SECRET: env.sandbox.tenant.clientSecret,
      SANDBOX_CA_FILE: caFile,
    },
    stdio: 'ignore',
  });
  workers.push(child);
  return child;
}
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const onboarding = (upn: string): RunbookDefinitionInput => ({
  name: 'chaos onboarding',
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

type Verdict = 'exactly-once' | 'duplicated' | 'missing' | 'misreported';
const tally = () => ({ finished: 0, stuck: 0, 'exactly-once': 0, duplicated: 0, missing: 0, misreported: 0 });

/** The item as the tenant has it (sandbox state and mutation log) against what its run reported. */
async function judge(upn: string, reported: 'succeeded' | 'failed' | 'stuck'): Promise<Verdict> {
  const users = env.sandbox.admin.mutations().filter((m) => m.op === 'user.create' && m.path.includes('/users'));
  const u = (await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).select('id,assignedLicenses').get()).value as { id: string; assignedLicenses: unknown[] }[];
  if (u.length > 1) return 'duplicated';
  const id = u[0]?.id;
  const ops = id ? env.sandbox.admin.mutationSummary({ objectId: id }) : {};
  const created = users.filter((m) => id && m.objectIds.includes(id)).length;
  if (created > 1 || (ops['user.assignLicense'] ?? 0) > 1 || (ops['group.addMember'] ?? 0) > 1) return 'duplicated';
  const complete = !!id && (u[0]!.assignedLicenses?.length ?? 0) === 1 && (ops['group.addMember'] ?? 0) === 1;
  if (reported === 'succeeded') return complete ? 'exactly-once' : 'missing';
  // A run that did not succeed must not have left the tenant complete (it would be reported falsely).
  return complete ? 'misreported' : 'missing';
}

/** Why items were not exactly once (the first few, printed at the end). */
const why: string[] = [];
async function outcome(id: string, timeoutMs: number): Promise<'succeeded' | 'failed' | 'stuck'> {
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

async function item(t: ReturnType<typeof tally>, upn: string, id: string, timeoutMs = 300_000): Promise<void> {
  const o = await outcome(id, timeoutMs);
  if (o === 'stuck') t.stuck++;
  else t.finished++;
  const v = await judge(upn, o);
  if (v !== 'exactly-once' && o === 'succeeded' && why.length < 5) why.push(`${id}: reported succeeded, judged ${v}`);
  t[v]++;
}
const newUpn = (tag: string) => `chaos.${tag}.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
const start = async (upn: string) => (await env.start(onboarding(upn))).workflowId;

const report: string[] = [];
const line = (name: string, n: number, t: ReturnType<typeof tally>) => {
  const s = `${name.padEnd(22)} runs ${t.finished}/${n} finished, ${t.stuck} stuck; items ${t['exactly-once']} exactly once, ${t.duplicated} duplicated, ${t.missing} missing a write, ${t.misreported} misreported`;
  report.push(s);
  console.log(s);
  return t;
};
const results: ReturnType<typeof tally>[] = [];

let worker = startWorker();
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

  // 3. server restarted (same data directory) after a run was started through the API
  {
    const t = tally();
    const dataDir = join(dir, 'server-data');
    for (let i = 0; i < counts.server; i++) {
      const roles = { 'chaos@contoso.test': [{ tenant: 'sandbox', role: 'designer' as const }] };
      const first = await startApiServer(env, { dataDir, roles });
      const me = await first.as('chaos@contoso.test');
      const upn = newUpn('server');
      const r = await me.call('POST', '/api/runs', { test: true, definition: onboarding(upn), inputs: {} });
      if (r.status !== 201) throw new Error(`the server refused the run: ${r.status} ${JSON.stringify(r.body)}`);
      await first.close();
      const second = await startApiServer(env, { dataDir, roles });
      await item(t, upn, r.body.id);
      await second.close();
    }
    results.push(line('server restart', counts.server, t));
  }

  // 4. the storm, then the same bulk without faults
  const bulk = async (tag: string) => {
    const t = tally();
    const started = Date.now();
    let next = 0;
    const lane = async () => {
      while (next < counts.items) {
        next++;
        const upn = newUpn(tag);
        await item(t, upn, await start(upn), 900_000);
      }
    };
    await Promise.all(Array.from({ length: Math.min(counts.concurrency, counts.items) }, lane));
    return { t, perMinute: (counts.items / (Date.now() - started)) * 60_000 };
  };
  env.sandbox.admin.setFaults({ rate429: 0.2, rate503: 0.05, dropRate: 0.02, replicationLagSeconds: 5, retryAfterSeconds: 1, seed: 16 });
  const storm = await bulk('storm');
  env.sandbox.admin.setFaults({});
  results.push(line(`storm of ${counts.items} items`, counts.items, storm.t));
  const calm = await bulk('calm');
  results.push(line(`fault-free ${counts.items} items`, counts.items, calm.t));
  const ratio = storm.perMinute / calm.perMinute;
  const rate = `items per minute: ${storm.perMinute.toFixed(1)} under the storm, ${calm.perMinute.toFixed(1)} without faults (${ratio.toFixed(2)} of the fault-free rate)`;
  report.push(rate);
  console.log(rate);
} finally {
  for (const w of workers) await kill(w);
  await env.close().catch(() => {});
  await temporal.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

if (why.length) console.log(`first problems:\n  ${why.join('\n  ')}`);
const bad = results.reduce((n, t) => n + t.stuck + t.duplicated + t.missing + t.misreported, 0);
console.log(bad ? `chaos: FAILED (${bad} items lost, duplicated, misreported or stuck)` : 'chaos: every run finished, every item exactly once');
process.exit(bad ? 1 : 0);
