// The engine and the API against hand-written baselines measured in the same run (issue 15's first
// four rows), each the median of interleaved rounds (the case and its baseline back to back, so
// both see the same machine load):
// - 50 sequential action steps of the interpreter vs a hand-written workflow calling the same
//   activity 50 times (engine time per step);
// - an approval through the API (POST, the Update, the next step's activity, the run's end) vs a raw
//   signal to a hand-written workflow that waits and then runs the same activity;
// - a raw signal to the interpreter waiting on an approval step vs the same hand-written workflow;
// - POST /api/runs (a published runbook) vs a bare client.workflow.start of the same definition.
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { RunbookDefinition, type RunbookDefinitionInput } from '../runbook/definition.ts';
import { approvalSignal } from '../workflows/messages.ts';
import { benchDatabase, startApiServer } from '../test/api-harness.ts';
import { startTestEnv, stopOwnDevServer } from '../test/harness.ts';

const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 5));
const STEPS = 50;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const run = { startedBy: 'operator@tenantflow.test', tenant: 'sandbox', runbookId: 'bench', version: 1 };

const env = await startTestEnv({ sandbox: { throttling: false } });
const DB = benchDatabase();
const server = await startApiServer(env, { pollMs: 1000, db: DB, checkResponses: false });
const native = await NativeConnection.connect({ address: env.address });
const handQueue = `${env.taskQueue}-hand`;
const hand = await Worker.create({ connection: native, namespace: env.namespace, taskQueue: handQueue, workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)) });
const handRunning = hand.run();
try {
  const someone = ((await env.graph.api('/users').select('userPrincipalName').top(1).get()) as { value: { userPrincipalName: string }[] }).value[0]!.userPrincipalName;
  const read = { tenant: 'sandbox', params: { user: someone, failIfMissing: true } };
  const step = (id: string) => ({ id, kind: 'action', action: 'user.get', params: { user: someone } });

  const chain = RunbookDefinition.parse({
    name: `${STEPS} steps`,
    nodes: Array.from({ length: STEPS }, (_, i) => step(`s${i}`)),
    edges: Array.from({ length: STEPS - 1 }, (_, i) => ({ source: `s${i}`, target: `s${i + 1}` })),
  } as RunbookDefinitionInput);
  const gated = RunbookDefinition.parse({
    name: 'approve then read',
    nodes: [{ id: 'ask', kind: 'approval', approvers: { users: ['approver@contoso.test'] } }, step('next')],
    edges: [{ source: 'ask', sourceHandle: 'approved', target: 'next' }],
  } as RunbookDefinitionInput);

  const approver = await server.as('approver@contoso.test', [{ tenant: 'sandbox', role: 'approver' }]);
  const designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  await designer.call('POST', '/api/runbooks', { id: 'bench-start', definition: { name: 'start', nodes: [{ id: 'check', kind: 'condition', expression: 'true' }] } });
  await designer.call('POST', '/api/runbooks/bench-start/publish', {});
  const startDef = RunbookDefinition.parse({ name: 'start', nodes: [{ id: 'check', kind: 'condition', expression: 'true' }] });

  const timed = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  /** A workflow past its first task (waiting for its signal or on its step). */
  const waiting = async (h: { workflowId: string }) => {
    for (;;) {
      const events = (await env.client.workflow.getHandle(h.workflowId).fetchHistory()).events ?? [];
      if (events.some((e) => e.workflowTaskCompletedEventAttributes)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const engine = async () => timed(async () => (await env.start(chain, {}, run)).result());
  const handEngine = async () =>
    timed(async () => (await env.client.workflow.start('handSequence', { taskQueue: handQueue, workflowId: `hand-${randomUUID()}`, args: [STEPS, env.taskQueue, 'user.get', read] })).result());

  const handWaiting = async () => {
    const h = await env.client.workflow.start('handApproval', { taskQueue: handQueue, workflowId: `hand-${randomUUID()}`, args: [env.taskQueue, 'user.get', read] });
    await waiting(h);
    return timed(async () => {
      await h.signal('approval', {});
      await h.result();
    });
  };
  const interpreterWaiting = async () => {
    const h = await env.start(gated, {}, run);
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    return h;
  };
  const viaApi = async () => {
    const h = await interpreterWaiting();
    return timed(async () => {
      const res = await approver.call('POST', `/api/runs/${h.workflowId}/approvals/ask`, { decision: 'approve' });
      if (res.status !== 202) throw new Error(`approval answered ${res.status}: ${JSON.stringify(res.body)}`);
      await h.result();
    });
  };
  const rawSignal = async () => {
    const h = await interpreterWaiting();
    return timed(async () => {
      await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'approver@contoso.test' });
      await h.result();
    });
  };
  const post = async () =>
    timed(async () => {
      const res = await designer.call('POST', '/api/runs', { runbookId: 'bench-start', test: true });
      if (res.status !== 201) throw new Error(`POST /api/runs answered ${res.status}: ${JSON.stringify(res.body)}`);
    });
  // Detail: what any authenticated API call costs here (HTTP to this process and the caller's
  // token read), the floor under POST /api/runs before it does anything of its own.
  const authedGet = async () =>
    timed(async () => {
      const res = await designer.call('GET', '/api/auth/me');
      if (res.status !== 200) throw new Error(`GET /api/auth/me answered ${res.status}`);
    });
  const floor: number[] = [];
  const bareStart = async () =>
    timed(() => env.client.workflow.start('runbookWorkflow', { taskQueue: env.taskQueue, workflowId: `run-${randomUUID()}`, args: [{ definition: startDef, inputs: {}, run: { ...run, test: true } }] }));

  // Warm up every path once (worker caches, bundle, first connections).
  await engine();
  await handEngine();
  await viaApi();
  await rawSignal();
  await handWaiting();
  await post();
  await bareStart();
  await authedGet();

  const rows: [string, string, number[], number[], string][] = [
    ['engine, 50 sequential steps', 'hand-written workflow, same activity', [], [], '<= 1.05'],
    ['approval through the API -> next step done', 'raw signal to a hand-written workflow', [], [], '<= 1.2'],
    ['raw signal to the interpreter -> next step done', 'raw signal to a hand-written workflow', [], [], '<= 1.1'],
    ['POST /api/runs', 'client.workflow.start', [], [], '<= 1.3'],
  ];
  for (let r = 0; r < ROUNDS; r++) {
    rows[0]![2].push(await engine());
    rows[0]![3].push(await handEngine());
    rows[1]![2].push(await viaApi());
    rows[1]![3].push(await handWaiting());
    rows[2]![2].push(await rawSignal());
    rows[2]![3].push(await handWaiting());
    for (let i = 0; i < 3; i++) {
      rows[3]![2].push(await post());
      rows[3]![3].push(await bareStart());
      floor.push(await authedGet());
    }
  }
  console.log(`\napi: each case against its baseline in the same run (median of ${ROUNDS} interleaved rounds; POST ${ROUNDS * 3})`);
  console.log('case'.padEnd(50), 'case'.padStart(10), 'baseline'.padStart(10), 'ratio'.padStart(7), ' target', ' baseline is');
  for (const [name, base, a, b, target] of rows)
    console.log(name.padEnd(50), `${median(a).toFixed(1)} ms`.padStart(10), `${median(b).toFixed(1)} ms`.padStart(10), (median(a) / median(b)).toFixed(2).padStart(7), ` ${target}`, ` ${base}`);
  // Every sample, in round order, so an outlier round shows.
  for (const [name, , a, b] of rows) console.log(`  ${name}: case ${a.map((x) => x.toFixed(0)).join(' ')} | baseline ${b.map((x) => x.toFixed(0)).join(' ')}`);
  // Noise check: the hand-written baseline is measured twice a round (rows 2 and 3); their ratio
  // shows how far the machine's load alone moves a figure between interleaved slots.
  console.log(`noise check: raw signal to a hand-written workflow in two slots of each round ${median(rows[1]![3]).toFixed(1)} ms vs ${median(rows[2]![3]).toFixed(1)} ms = ${(median(rows[1]![3]) / median(rows[2]![3])).toFixed(2)}`);
  console.log(`control plane database: ${DB === 'postgres' ? 'PostgreSQL (its own process)' : 'embedded PGlite (this process)'}`);
  console.log(`POST /api/runs detail: an authenticated GET /api/auth/me (HTTP and sign-in only) ${median(floor).toFixed(1)} ms = ${(median(floor) / median(rows[3]![3])).toFixed(2)} of client.workflow.start`);
  console.log(`per step: engine ${(median(rows[0]![2]) / STEPS).toFixed(1)} ms, hand-written ${(median(rows[0]![3]) / STEPS).toFixed(1)} ms`);
} finally {
  hand.shutdown();
  await handRunning;
  await native.close();
  await server.close();
  await env.close();
  await stopOwnDevServer();
}
