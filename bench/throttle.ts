// Bulk work against Microsoft's published write limits: a forEach creates users faster than a
// tenant allows, on the sandbox with its throttling on (time-scaled so the limits bite in
// seconds). The same run is measured with the worker's throttle gate off (the baseline: every
// step discovers the throttling with a 429 of its own) and on, and the ratios are printed.
import { performance } from 'node:perf_hooks';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { RunbookDefinitionInput } from '../runbook/definition.ts';
import { staticTenantDirectory } from '../m365/tenants.ts';
import { createWorker } from '../worker/worker.ts';
import { startTestEnv, stopOwnDevServer, type TestEnv } from '../test/harness.ts';

const USERS = Number(process.env.BENCH_USERS ?? 600);
/** Entra ID writes per app and tenant: 3,000 per 150 s (LIMITS.md). */
const CEILING_PER_S = 20;
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 100);

const definition: RunbookDefinitionInput = {
  name: 'bulk create',
  inputs: [{ name: 'people', type: 'list' }],
  nodes: [
    {
      id: 'each',
      kind: 'forEach',
      items: 'inputs.people',
      concurrency: 40,
      onItemError: 'continue',
      body: {
        nodes: [
          {
            id: 'create',
            kind: 'action',
            action: 'user.create',
            params: { userPrincipalName: '{{ item }}', displayName: '{{ item }}' },
            retry: { maximumAttempts: 50, initialInterval: '200ms', maximumInterval: '5s' },
          },
        ],
      },
    },
  ],
} as RunbookDefinitionInput;

async function measure(env: TestEnv, gate: boolean, tag: string) {
  env.sandbox.admin.reset({ seed: 1, users: 40 });
  env.sandbox.admin.setLimits({ throttling: true, timeScale: TIME_SCALE });
  const connection = await NativeConnection.connect({ address: env.address });
  const taskQueue = `${env.taskQueue}-${tag}`;
  const worker: Worker = await createWorker({
    connection,
    namespace: env.namespace,
    taskQueue,
    tenants: staticTenantDirectory([env.tenant]),
    workflowBundle: process.env.TENANTFLOW_WORKFLOW_BUNDLE ? { codePath: process.env.TENANTFLOW_WORKFLOW_BUNDLE } : undefined,
    graph: { throttleGate: gate },
  });
  const running = worker.run();
  try {
    const people = Array.from({ length: USERS }, (_, i) => `bulk.${tag}.${i}@${env.sandbox.tenant.domain}`);
    const t0 = performance.now();
    const h = await env.client.workflow.start('runbookWorkflow', {
      taskQueue,
      workflowId: `bench-throttle-${tag}-${Date.now()}`,
      args: [{ definition: (await import('../runbook/definition.ts')).RunbookDefinition.parse(definition), inputs: { people }, run: { startedBy: 'bench', tenant: 'sandbox', runbookId: 'bench', version: 1 } }],
    });
    const state = await h.result();
    const ms = performance.now() - t0;
    const out = state.nodes.each!.output as { succeeded: number; failed: number };
    const log = env.sandbox.admin.requestLog({});
    const throttled = log.filter((e) => e.status === 429).length;
    const requests = log.length;
    const created = env.sandbox.admin.mutationCount({ op: 'user.create' });
    return { ms, throttled, requests, succeeded: out.succeeded, failed: out.failed, created };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const env = await startTestEnv({ worker: false, sandbox: { throttling: true, timeScale: TIME_SCALE } });
try {
  const runs: Record<'off' | 'on', Awaited<ReturnType<typeof measure>>[]> = { off: [], on: [] };
  for (let r = 0; r < ROUNDS; r++) {
    runs.off.push(await measure(env, false, `off${r}`));
    runs.on.push(await measure(env, true, `on${r}`));
  }
  console.log(`\nthrottle: ${USERS} user creations at concurrency 40 against Entra's write limits (sandbox, time scale ${TIME_SCALE}; median of ${ROUNDS})`);
  console.log('gate'.padEnd(6), 'time'.padStart(10), '429s'.padStart(8), 'created'.padStart(9), 'failed'.padStart(8));
  const summary = (xs: Awaited<ReturnType<typeof measure>>[]) => ({
    ms: median(xs.map((x) => x.ms)),
    throttled: median(xs.map((x) => x.throttled)),
    created: Math.min(...xs.map((x) => x.created)),
    failed: Math.max(...xs.map((x) => x.failed)),
  });
  const off = summary(runs.off);
  const on = summary(runs.on);
  for (const [name, r] of [['off', off], ['on', on]] as const)
    console.log(name.padEnd(6), `${(r.ms / 1000).toFixed(1)} s`.padStart(10), String(r.throttled).padStart(8), String(r.created).padStart(9), String(r.failed).padStart(8));
  console.log(`ratio on/off: time ${(on.ms / off.ms).toFixed(2)}, 429 answers ${(on.throttled / Math.max(1, off.throttled)).toFixed(2)}`);
  const share = (xs: Awaited<ReturnType<typeof measure>>[]) => ({
    ceiling: median(xs.map((x) => x.created / (x.ms / 1000) / CEILING_PER_S)),
    throttled: median(xs.map((x) => x.throttled / Math.max(1, x.requests))),
  });
  for (const [name, xs] of [['off', runs.off], ['on', runs.on]] as const) {
    const r = share(xs);
    console.log(`gate ${name}: ${(r.ceiling).toFixed(3)} of the ceiling (target >= 0.95), ${(r.throttled * 100).toFixed(2)}% of requests answered 429 (target < 0.5%)`);
  }
  if (on.created !== USERS || off.created !== USERS) console.log('WARNING: not every user was created exactly once');
} finally {
  await env.close();
  await stopOwnDevServer();
}
