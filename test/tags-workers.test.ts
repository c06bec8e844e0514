// Tags with two workers on one task queue (as docker-compose.yml runs them): a tag one worker
// writes, the other reads and builds on, because both keep tags in the tenant (an open extension on
// the user), not on their own disk. Temporal history names the worker that ran each step.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { staticTenantDirectory } from '../m365/tenants.ts';
import { createWorker } from '../worker/worker.ts';
import { sharedWorkflowBundle, startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
/** Each worker with its own connection, as separate worker processes have. */
const running = new Map<Worker, { done: Promise<void>; connection: NativeConnection }>();

before(async () => {
  env = await startTestEnv({ worker: false });
});
after(async () => {
  for (const w of running.keys()) await stopWorker(w);
  await env?.close();
});

async function startWorker(identity: string): Promise<Worker> {
  const connection = await NativeConnection.connect({ address: env.address });
  const w = await createWorker({
    connection,
    namespace: env.namespace,
    taskQueue: env.taskQueue,
    tenants: staticTenantDirectory([env.tenant]),
    identity,
    workflowBundle: sharedWorkflowBundle(),
  });
  running.set(w, { done: w.run(), connection });
  return w;
}

async function stopWorker(w: Worker): Promise<void> {
  const r = running.get(w)!;
  running.delete(w);
  w.shutdown();
  await r.done;
  await r.connection.close();
}

/** Runs one action as a one-step runbook; its output and the identity of the worker that ran it. */
async function run(action: string, params: Record<string, unknown>) {
  const h = await env.start({
    name: `tags ${action}`,
    nodes: [
      { id: 'step', kind: 'action', action, params },
      { id: 'end', kind: 'end' },
    ],
    edges: [{ source: 'step', target: 'end' }],
  });
  const node = (await h.result()).nodes['step']!;
  assert.equal(node.status, 'succeeded', JSON.stringify(node.error));
  const history = await h.fetchHistory();
  const started = history.events!.find((e) => e.activityTaskStartedEventAttributes)!;
  return { output: node.output as { tags?: string[]; userIds?: string[] }, worker: started.activityTaskStartedEventAttributes!.identity };
}

describe('tags with two workers on one task queue', () => {
  it('a tag written by one worker is read, and kept, by the other', async () => {
    const user = [...env.sandbox.admin.store.users.values()].find((u) => u.userType === 'Member' && u.accountEnabled)!;
    const tag = `pilot-${randomUUID().slice(0, 6)}`;

    const a = await startWorker('worker-a');
    const wrote = await run('tags.add', { user: user.userPrincipalName, tags: [tag] });
    assert.equal(wrote.worker, 'worker-a');
    assert.deepEqual(wrote.output.tags, [tag]);

    // Worker b takes over the queue; a stops, so every later step runs on b.
    await startWorker('worker-b');
    await stopWorker(a);
    const found = await run('tags.findUsers', { tag });
    assert.equal(found.worker, 'worker-b');
    assert.deepEqual(found.output.userIds, [user.id]);
    const added = await run('tags.add', { user: user.id, tags: ['second'] });
    assert.equal(added.worker, 'worker-b');
    assert.deepEqual(added.output.tags, [tag, 'second'].sort((x, y) => x.localeCompare(y)), 'worker b keeps the tag worker a wrote');

    // What the tenant holds, read back through Graph.
    const ext = await env.graph.api(`/users/${user.id}/extensions/com.tenantflow.tags`).get();
    assert.deepEqual(ext.tags, added.output.tags);
  });
});
