// Engine benchmark: how the interpreter's cost grows with the size of a runbook, on the real
// Temporal dev server and a real worker. Each large case is compared with a small baseline
// measured in the same run, and the ratio is printed next to the ratio of the sizes: a cost that
// grows linearly shows a time ratio close to the size ratio (or below, where work overlaps).
import { performance } from 'node:perf_hooks';
import type { RunbookDefinitionInput } from '../runbook/definition.ts';
import { startTestEnv, stopOwnDevServer, type TestEnv } from '../test/harness.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function chain(n: number): RunbookDefinitionInput {
  const nodes = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, kind: 'condition' as const, expression: `${i} >= 0` }));
  const edges = nodes.slice(1).map((node, i) => ({ source: `c${i}`, sourceHandle: 'true', target: node.id }));
  return { name: `chain of ${n}`, nodes, edges } as RunbookDefinitionInput;
}

function fanOut(n: number): RunbookDefinitionInput {
  const branches = Array.from({ length: n }, (_, i) => ({ id: `b${i}`, kind: 'delay' as const, duration: '0s' }));
  return {
    name: `fan-out of ${n}`,
    nodes: [{ id: 'start', kind: 'delay', duration: '0s' }, ...branches, { id: 'join', kind: 'delay', duration: '0s' }],
    edges: [...branches.map((b) => ({ source: 'start', target: b.id })), ...branches.map((b) => ({ source: b.id, target: 'join' }))],
  } as RunbookDefinitionInput;
}

function loop(n: number): [RunbookDefinitionInput, Record<string, unknown>] {
  return [
    {
      name: `forEach over ${n}`,
      inputs: [{ name: 'items', type: 'list' }],
      nodes: [{ id: 'each', kind: 'forEach', items: 'inputs.items', concurrency: 10, body: { nodes: [{ id: 'check', kind: 'condition', expression: 'item >= 0' }] } }],
    } as RunbookDefinitionInput,
    { items: Array.from({ length: n }, (_, i) => i) },
  ];
}

function createUsers(env: TestEnv, n: number, tag: string): [RunbookDefinitionInput, Record<string, unknown>] {
  return [
    {
      name: `create ${n} users`,
      inputs: [{ name: 'people', type: 'list' }],
      nodes: [
        {
          id: 'each',
          kind: 'forEach',
          items: 'inputs.people',
          concurrency: 10,
          body: { nodes: [{ id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ item }}', displayName: '{{ item }}' } }] },
        },
      ],
    } as RunbookDefinitionInput,
    { people: Array.from({ length: n }, (_, i) => `bench.${tag}.${n}.${i}@${env.sandbox.tenant.domain}`) },
  ];
}

async function timeRun(env: TestEnv, def: RunbookDefinitionInput, inputs: Record<string, unknown> = {}): Promise<number> {
  const t0 = performance.now();
  const h = await env.start(def, inputs);
  const s = await h.result();
  if (s.status !== 'succeeded') throw new Error(`${def.name}: ${s.status}`);
  return performance.now() - t0;
}

async function median(fn: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) xs.push(await fn());
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

const env = await startTestEnv({ sandbox: { throttling: false } });
try {
  await timeRun(env, chain(3)); // warm up the worker and the workflow cache
  const rows: { name: string; small: number; large: number; sizeRatio: number; ms: [number, number] }[] = [];
  const compare = async (name: string, small: number, large: number, make: (n: number, round: number) => [RunbookDefinitionInput, Record<string, unknown>]) => {
    let round = 0;
    const a = await median(() => timeRun(env, ...make(small, round++)));
    const b = await median(() => timeRun(env, ...make(large, round++)));
    rows.push({ name, small, large, sizeRatio: large / small, ms: [a, b] });
  };
  await compare('linear chain (nodes)', 10, 100, (n) => [chain(n), {}]);
  await compare('parallel fan-out (branches)', 5, 50, (n) => [fanOut(n), {}]);
  await compare('forEach, no I/O (items)', 10, 100, (n) => loop(n));
  await compare('forEach user.create on the sandbox (items)', 10, 100, (n, r) => createUsers(env, n, `r${r}`));

  console.log('\nengine: run time of a large runbook against a small one, same run (median of %d)', ROUNDS);
  console.log('case'.padEnd(44), 'small'.padStart(10), 'large'.padStart(10), 'size x'.padStart(8), 'time x'.padStart(8));
  for (const r of rows)
    console.log(
      r.name.padEnd(44),
      `${r.ms[0].toFixed(0)} ms`.padStart(10),
      `${r.ms[1].toFixed(0)} ms`.padStart(10),
      r.sizeRatio.toFixed(1).padStart(8),
      (r.ms[1] / r.ms[0]).toFixed(2).padStart(8),
    );
} finally {
  await env.close();
  await stopOwnDevServer();
}
