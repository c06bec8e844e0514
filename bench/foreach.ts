// A forEach over a long list through the API (issue 15's "forEach list" and "largest single
// history" rows): the list input is stored by the control plane and paged by the loop, so no
// workflow input carries it. Prints the largest workflow input against the list's own size, the
// largest single history against Temporal's 10,240-event limit, exactly-once counts, and this
// process's RSS (worker, server and sandbox together) at the start, its peak and at the end.
// 1,200 items by default (BENCH_FOREACH_ITEMS); 100,000 with --large.
import { performance } from 'node:perf_hooks';
import { startApiServer } from '../test/api-harness.ts';
import { startTestEnv, stopOwnDevServer } from '../test/harness.ts';

const LARGE = process.argv.includes('--large');
const ITEMS = LARGE ? 100_000 : Number(process.env.BENCH_FOREACH_ITEMS ?? 1200);
const HISTORY_LIMIT = 10_240;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

const env = await startTestEnv({ sandbox: { throttling: false } });
const server = await startApiServer(env, { pollMs: 2000, checkResponses: false });
try {
  const designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  const items = Array.from({ length: ITEMS }, (_, i) => `item.${i}@${env.sandbox.tenant.domain}`);
  const definition = {
    name: `forEach over ${ITEMS}`,
    inputs: [{ name: 'people', type: 'list' }],
    nodes: [{ id: 'each', kind: 'forEach', items: 'inputs.people', concurrency: 50, body: { nodes: [{ id: 'check', kind: 'condition', expression: "$contains(item, '@')" }] } }],
  };
  const rss = { start: process.memoryUsage().rss, peak: 0, end: 0 };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, process.memoryUsage().rss)), 1000);
  const t0 = performance.now();
  const res = await designer.call('POST', '/api/runs', { definition, inputs: { people: items }, test: true });
  if (res.status !== 201) throw new Error(`POST /api/runs answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  const postMs = performance.now() - t0;
  const final = await env.client.workflow.getHandle(res.body.id).result();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  rss.end = process.memoryUsage().rss;
  rss.peak = Math.max(rss.peak, rss.end);

  let maxEvents = 0;
  let maxInput = 0;
  let runs = 0;
  for (const id of [res.body.id, `${res.body.id}.each`])
    for await (const w of env.client.workflow.list({ query: `WorkflowId = '${id}'` })) {
      const events = (await env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()).events ?? [];
      const input = (events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? []).reduce((n, p) => n + (p.data?.length ?? 0), 0);
      maxEvents = Math.max(maxEvents, events.length);
      maxInput = Math.max(maxInput, input);
      runs++;
    }
  const p = final.nodes.each!.progress!;
  const listBytes = Buffer.byteLength(JSON.stringify(items));
  console.log(`\nforEach over a stored list of ${ITEMS} items (concurrency 50, no I/O in the body): ${seconds.toFixed(0)} s (${(ITEMS / seconds).toFixed(1)} items/s), the POST ${postMs.toFixed(0)} ms`);
  console.log(`  largest workflow input ${maxInput} bytes vs the list's ${listBytes} bytes: ratio ${(maxInput / listBytes).toFixed(4)} (target: never the list in a payload)`);
  console.log(`  largest single history ${maxEvents} events of ${runs} workflow runs: ratio to the 10,240 limit ${(maxEvents / HISTORY_LIMIT).toFixed(2)} (target < 1)`);
  console.log(`  exactly once: ${p.done} done, ${p.succeeded} succeeded, ${p.failed} failed of ${p.total} (${p.done === ITEMS && p.succeeded === ITEMS ? 'yes' : 'NO'})`);
  console.log(`  RSS (worker, server and sandbox in one process): start ${mb(rss.start)}, peak ${mb(rss.peak)}, end ${mb(rss.end)}: peak/start ${(rss.peak / rss.start).toFixed(2)}`);
} finally {
  await server.close();
  await env.close();
  await stopOwnDevServer();
}
