// A forEach over a long list at scale (issue 15): the list input is stored by the control plane and
// the run carries only a reference; the loop pages it through the control plane's activity, one
// batch per workflow run. Every item is written exactly once (read back through Graph), no
// workflow input carries the list, and no history nears Temporal's 10,240-event limit.
// FOREACH_TEST_ITEMS=5000 for the full scale check (2,100 by default: three loop runs, the list
// stored since it is longer than 1,000; each item is a child run, slow on a loaded 2-core machine).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BATCH } from '../workflows/for-each.ts';
import { STORED_LIST_MIN } from '../workflows/batch.ts';
import { startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const ITEMS = Number(process.env.FOREACH_TEST_ITEMS ?? 2100);
const HISTORY_LIMIT = 10_240;

let env: TestEnv;
let server: ApiServer;
before(async () => {
  env = await startTestEnv();
  server = await startApiServer(env, { pollMs: 500 });
});
after(async () => {
  await server?.close();
  await env?.close();
});

/** Every run of a workflow id (continue-as-new makes several): its history's length and input size. */
async function runsOf(workflowId: string): Promise<{ events: number; inputBytes: number }[]> {
  const out = [];
  for await (const w of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    out.push({ events: history.events?.length ?? 0, inputBytes: payloads.reduce((n, p) => n + (p.data?.length ?? 0), 0) });
  }
  return out;
}

describe('forEach over a long list', () => {
  it(`writes each of ${ITEMS} items exactly once, never carrying the list in a workflow input, every history under the limit`, { timeout: 40 * 60_000 }, async () => {
    assert.ok(ITEMS > STORED_LIST_MIN && ITEMS > BATCH * 2, 'the list is stored and the loop continues as new more than once');
    const designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
    const domain = env.sandbox.tenant.domain;
    const tag = `fl${randomUUID().slice(0, 6)}`;
    const people = Array.from({ length: ITEMS }, (_, i) => `${tag}.${i}@${domain}`);
    const definition = {
      name: 'create a long list of users',
      inputs: [{ name: 'people', type: 'list' }],
      nodes: [
        {
          id: 'each',
          kind: 'forEach',
          items: 'inputs.people',
          concurrency: 50,
          body: { nodes: [{ id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ item }}', displayName: '{{ item }}' } }] },
        },
      ],
    };
    const before = env.sandbox.admin.mutationCount({ op: 'user.create' });
    const res = await designer.call('POST', '/api/runs', { definition, inputs: { people }, test: true });
    assert.equal(res.status, 201, JSON.stringify(res.body).slice(0, 300));
    const id = res.body.id as string;
    const final = await env.client.workflow.getHandle(id).result();
    assert.equal(final.status, 'succeeded', final.message);
    assert.deepEqual(final.nodes.each!.progress, { total: ITEMS, done: ITEMS, succeeded: ITEMS, failed: 0 });
    // Only failed and warned items keep a result in a loop over a stored list: none here.
    assert.deepEqual((final.nodes.each!.output as { items: unknown[] }).items, []);

    // Exactly once: one create per item, and every user is there, read back through Graph.
    assert.equal(env.sandbox.admin.mutationCount({ op: 'user.create' }) - before, ITEMS);
    const found = new Set<string>();
    let page = await env.graph.api('/users').select('userPrincipalName').top(999).get();
    for (;;) {
      for (const u of page.value as { userPrincipalName: string }[]) if (u.userPrincipalName.startsWith(`${tag}.`)) found.add(u.userPrincipalName);
      if (!page['@odata.nextLink']) break;
      page = await env.graph.api(page['@odata.nextLink']).get();
    }
    assert.equal(found.size, ITEMS);

    // The run and each loop run: small inputs (a reference, never the list), histories far below the limit.
    const listBytes = Buffer.byteLength(JSON.stringify(people));
    const parent = await runsOf(id);
    const loops = await runsOf(`${id}.each`);
    assert.equal(loops.length, Math.ceil(ITEMS / BATCH), 'one loop run per batch of items');
    for (const r of [...parent, ...loops]) {
      assert.ok(r.inputBytes < 16_000, `a workflow input of ${r.inputBytes} bytes (the list is ${listBytes})`);
      assert.ok(r.events < HISTORY_LIMIT, `a history of ${r.events} events`);
    }
  });
});
