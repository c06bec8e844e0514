// Records the histories test/replay.test.ts replays: representative runs of the runbook and forEach
// workflows on a real Temporal server and worker against the sandbox, saved as JSON into
// test/histories/<name>.json. Run it when the workflow code changes in a way a new history should
// cover (then commit the new files, never rewrite old ones: old histories are what runs in flight
// look like). `node scripts/record-histories.ts --prefix v0.3- [name ...]` (needs the Temporal CLI, like npm test).
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
const { temporal } = proto;
type IHistory = import('@temporalio/proto').temporal.api.history.v1.IHistory;
import { RunbookDefinition, type RunbookDefinitionInput } from '../runbook/definition.ts';
import { NativeConnection, Worker } from '@temporalio/worker';
import { BATCH_WORKFLOW_TYPE, type BatchWorkflowInput, type StoredListRef } from '../workflows/batch.ts';
import type { ForEachInput } from '../workflows/for-each.ts';
import { approvalSignal, approvalUpdate, resumeSignal } from '../workflows/messages.ts';
import { startTestEnv, stopOwnDevServer, type TestEnv } from '../test/harness.ts';
import { startTracing } from '../m365/tracing.ts';

const dir = fileURLToPath(new URL('../test/histories/', import.meta.url));
// `--prefix v0.3-`: names the files after the version of the workflow code that made them.
const prefixAt = process.argv.indexOf('--prefix');
const prefix = prefixAt > 0 ? process.argv[prefixAt + 1]! : '';
const only = process.argv.slice(2).filter((a, i, all) => a !== '--prefix' && all[i - 1] !== '--prefix');

type Recorder = (env: TestEnv, upn: (tag: string) => string) => Promise<WorkflowHandle[]>;

const run = { startedBy: 'recorder@contoso.com', tenant: 'sandbox', runbookId: 'replay', version: 1 };
const def = (nodes: unknown[], edges: unknown[], inputs: unknown[] = []) => ({ name: 'replay sample', inputs, nodes, edges }) as RunbookDefinitionInput;
const createUser = (id: string, userPrincipalName: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'action',
  action: 'user.create',
  params: { userPrincipalName, displayName: `Replay ${userPrincipalName}`, usageLocation: 'US' },
  retry: { initialInterval: '100ms', maximumAttempts: 3 },
  ...extra,
});

const RECORDERS: Record<string, Recorder> = {
  // Every node kind on the happy path: action, condition, approval (approved), delay, end.
  'every-kind': async (env, upn) => {
    const h = await env.start(
      def(
        [
          createUser('create', upn('every')),
          { id: 'check', kind: 'condition', expression: "steps.create.output.id != ''" },
          { id: 'ask', kind: 'approval', approvers: { users: ['boss@contoso.com'] }, message: 'Go on for {{ inputs.who }}?' },
          { id: 'licence', kind: 'action', action: 'licence.assign', params: { user: '{{ steps.create.output.id }}', licences: ['SPE_E3'] } },
          { id: 'wait', kind: 'delay', duration: '1s' },
          { id: 'end', kind: 'end' },
          { id: 'never', kind: 'delay', duration: '0s' },
        ],
        [
          { source: 'create', target: 'check' },
          { source: 'check', target: 'ask', sourceHandle: 'true' },
          { source: 'check', target: 'never', sourceHandle: 'false' },
          { source: 'ask', target: 'licence', sourceHandle: 'approved' },
          { source: 'licence', target: 'wait' },
          { source: 'wait', target: 'end' },
        ],
        [{ name: 'who', type: 'string' }],
      ),
      { who: 'Ada' },
      run,
    );
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    // Decided through the approval Update (since v0.3-); an outsider's Update is refused by the validator.
    await h.executeUpdate(approvalUpdate, { args: [{ nodeId: 'ask', decision: 'approve', by: 'mallory@contoso.com', roles: [], groups: [] }] }).catch(() => undefined);
    await h.executeUpdate(approvalUpdate, { args: [{ nodeId: 'ask', decision: 'approve', by: 'boss@contoso.com', roles: [], groups: [], comment: 'recorded' }] });
    await h.result();
    return [h];
  },
  // An approver named by an expression (the manager input), resolved when the step starts; an
  // outsider refused, the manager's decision taken (since v0.5-approver-expr-).
  'approval-expression': async (env) => {
    const h = await env.start(
      def(
        [
          { id: 'ask', kind: 'approval', approvers: { users: ['{{ inputs.manager }}'] }, quorum: 'any' },
          { id: 'done', kind: 'end' },
        ],
        [{ source: 'ask', target: 'done', sourceHandle: 'approved' }],
        [{ name: 'manager', type: 'string' }],
      ),
      { manager: 'manager@contoso.com' },
      run,
    );
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval' && s.nodes.ask.approval?.pendingApprovers[0] === 'manager@contoso.com');
    await h.executeUpdate(approvalUpdate, { args: [{ nodeId: 'ask', decision: 'approve', by: 'mallory@contoso.com', roles: [], groups: [] }] }).catch(() => undefined);
    await h.executeUpdate(approvalUpdate, { args: [{ nodeId: 'ask', decision: 'approve', by: 'manager@contoso.com', roles: [], groups: [] }] });
    await h.result();
    return [h];
  },
  // A run still waiting for an approval when its history was taken (what a deploy meets in flight).
  'approval-waiting': async (env) => {
    const h = await env.start(
      def(
        [
          { id: 'ask', kind: 'approval', approvers: { users: ['boss@contoso.com'] }, quorum: 'any', escalation: { after: '1h', approvers: { users: ['deputy@contoso.com'] } } },
          { id: 'done', kind: 'end' },
        ],
        [{ source: 'ask', target: 'done', sourceHandle: 'approved' }],
      ),
      {},
      run,
    );
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'recorder@contoso.com' }); // refused: self-approval
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'mallory@contoso.com' }); // refused: not an approver (approval-eligibility)
    await env.waitFor(h, (s) => (s.nodes.ask?.approval?.decisions.length ?? 0) > 1);
    return [h];
  },
  // Entra-group approvers read when the step starts, a reminder timer that fired, an outsider's
  // Update refused, a member's taken, and the requester told at the end (since v0.5-approvals-notify-).
  'approval-entra-reminders': async (env) => {
    const users = (await env.graph.api('/users').select('id,userPrincipalName').top(2).get()) as { value: { id: string; userPrincipalName: string }[] };
    const member = users.value[0]!;
    const group = (await env.graph.api('/groups').post({ displayName: `Replay approvers ${Date.now()}`, mailEnabled: false, mailNickname: `replay${Date.now()}`, securityEnabled: true })) as { id: string };
    await env.graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `${env.tenant.graphUrl}/v1.0/directoryObjects/${member.id}` });
    const h = await env.start(
      def(
        [
          { id: 'ask', kind: 'approval', approvers: { entraGroups: [group.id] }, reminders: { every: '1s' }, escalation: { after: '1h', approvers: { users: ['deputy@contoso.com'] } } },
          { id: 'done', kind: 'end' },
        ],
        [{ source: 'ask', target: 'done', sourceHandle: 'approved' }],
      ),
      {},
      run,
    );
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    await new Promise((r) => setTimeout(r, 2500)); // a reminder or two
    await h.executeUpdate(approvalUpdate, { args: [{ nodeId: 'ask', decision: 'approve', by: 'mallory@contoso.com', roles: ['admin'], groups: [] }] }).catch(() => undefined);
    await h.executeUpdate(approvalUpdate, { args: [{ nodeId: 'ask', decision: 'approve', by: member.userPrincipalName, roles: [], groups: [] }] });
    await h.result();
    return [h];
  },
  // Failure handling: onError continue, route to an error branch, pause then resume with skip.
  'error-handling': async (env, upn) => {
    const bad = { id: 'bad', kind: 'action', action: 'group.addMember', params: { user: 'nobody-here@contoso.com', group: 'No such group' }, retry: { maximumAttempts: 1 } };
    const h = await env.start(
      def(
        [
          { ...bad, id: 'cont', onError: 'continue' },
          { ...bad, id: 'route', onError: 'route' },
          createUser('cleanup', upn('routed')),
          { ...bad, id: 'pause', onError: 'pause' },
          { id: 'end', kind: 'end' },
        ],
        [
          { source: 'cont', target: 'route' },
          { source: 'route', target: 'cleanup', sourceHandle: 'error' },
          { source: 'cleanup', target: 'pause' },
          { source: 'pause', target: 'end' },
        ],
      ),
      {},
      run,
    );
    await env.waitFor(h, (s) => s.nodes.pause?.status === 'paused');
    await h.signal(resumeSignal, { nodeId: 'pause', action: 'skip', by: 'operator@contoso.com' });
    await h.result();
    return [h];
  },
  // A loop inside a run, and the loop workflow continuing as new between batches.
  'foreach': async (env, upn) => {
    const h = await env.start(
      def(
        [
          {
            id: 'each',
            kind: 'forEach',
            items: 'inputs.people',
            concurrency: 2,
            body: { nodes: [createUser('create', '{{ item }}')], edges: [] },
          },
          { id: 'end', kind: 'end' },
        ],
        [{ source: 'each', target: 'end' }],
        [{ name: 'people', type: 'list' }],
      ),
      { people: [upn('loop-a'), upn('loop-b'), upn('loop-c')] },
      run,
    );
    await h.result();
    const body = RunbookDefinition.parse({ name: 'noop', nodes: [{ id: 'check', kind: 'condition', expression: 'item % 2 = 0' }] });
    const workflowId = `replay-loop-${randomUUID()}`;
    const input: ForEachInput = { parentWorkflowId: `${workflowId}-parent`, nodeId: 'each', body, inputs: {}, run, items: [0, 1, 2, 3, 4], offset: 0, total: 5, concurrency: 2, onItemError: 'continue', batch: 2 };
    const loop = await env.client.workflow.start('forEachWorkflow', { taskQueue: env.taskQueue, workflowId, args: [input] });
    await loop.result();
    // The first run of the loop: the one that continued as new.
    const first = env.client.workflow.getHandle(workflowId, loop.firstExecutionRunId);
    return [h, first];
  },
  // A loop over a stored list (patched 'foreach-stored-list'): the run carries a reference, each
  // loop run reads its batch through the control plane's readListPage (served here from memory).
  'foreach-stored': async (env, upn) => {
    const people = [upn('stored-a'), upn('stored-b'), upn('stored-c')];
    const lists: Record<string, unknown[]> = { people, numbers: [0, 1, 2, 3, 4] };
    const queue = `${env.taskQueue}-control`;
    const connection = await NativeConnection.connect({ address: env.address });
    const worker = await Worker.create({
      connection,
      namespace: env.namespace,
      taskQueue: queue,
      activities: { readListPage: async ({ list, offset, limit }: { list: string; offset: number; limit: number }) => lists[list]!.slice(offset, offset + limit) },
    });
    const running = worker.run();
    try {
      const ref = (list: string): StoredListRef => ({ $storedList: list, count: lists[list]!.length, queue });
      const h = await env.start(
        def(
          [{ id: 'each', kind: 'forEach', items: 'inputs.people', concurrency: 2, body: { nodes: [createUser('create', '{{ item }}')], edges: [] } }],
          [],
          [{ name: 'people', type: 'list' }],
        ),
        { people: ref('people') },
        run,
      );
      await h.result();
      const body = RunbookDefinition.parse({ name: 'noop', nodes: [{ id: 'check', kind: 'condition', expression: 'item % 2 = 0' }] });
      const workflowId = `replay-stored-loop-${randomUUID()}`;
      const input: ForEachInput = { parentWorkflowId: `${workflowId}-parent`, nodeId: 'each', body, inputs: {}, run, items: [], list: ref('numbers'), offset: 0, total: 5, concurrency: 2, onItemError: 'continue', batch: 2 };
      const loop = await env.client.workflow.start('forEachWorkflow', { taskQueue: env.taskQueue, workflowId, args: [input] });
      await loop.result();
      return [h, env.client.workflow.getHandle(`${h.workflowId}.each`), env.client.workflow.getHandle(workflowId, loop.firstExecutionRunId)];
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  },
  // A bulk run's batch workflow (workflows/batch.ts): three rows in slices of two, then the finish.
  // The control plane's activities are served here from memory (they read and write rows in its
  // database; what the history holds is their results). Recorded traced (since v0.5-observe-), the
  // slices' StartActivity spans carry the trace to the control plane's activity worker.
  batch: async (env) => {
    const queue = `${env.taskQueue}-control`;
    const lines = [1, 2, 3];
    const connection = await NativeConnection.connect({ address: env.address });
    const worker = await Worker.create({
      connection,
      namespace: env.namespace,
      taskQueue: queue,
      activities: {
        runBatchSlice: async ({ afterLine, limit }: { afterLine: number; limit: number }) => ({ lastLine: lines.filter((l) => l > afterLine).slice(0, limit).at(-1) ?? null }),
        finishBatch: async () => 'succeeded',
      },
    });
    const running = worker.run();
    try {
      const batchId = `replay-bulk-${randomUUID().slice(0, 8)}`;
      const input: BatchWorkflowInput = { batchId, controlQueue: queue, round: 1, sliceRows: 2 };
      const h = await env.client.workflow.start(BATCH_WORKFLOW_TYPE, { taskQueue: env.taskQueue, workflowId: `${batchId}.round-1`, args: [input] });
      await h.result();
      return [h];
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  },
  // A run cancelled while a step waits.
  cancelled: async (env) => {
    const h = await env.start(def([{ id: 'wait', kind: 'delay', duration: '1h' }, { id: 'after', kind: 'end' }], [{ source: 'wait', target: 'after' }]), {}, run);
    await env.waitFor(h, (s) => s.nodes.wait?.status === 'running');
    await h.cancel();
    await h.result().catch(() => undefined);
    return [h];
  },
  // A sub-runbook step (patched 'sub-runbook'): the parent and its child run, the child's output read downstream.
  subrunbook: async (env, upn) => {
    const child = RunbookDefinition.parse({ name: 'replay child', inputs: [{ name: 'upn', type: 'user', required: true }], nodes: [createUser('create', '{{ inputs.upn }}')] });
    const parent = def(
      [
        { id: 'inner', kind: 'subRunbook', runbook: 'replay-child', inputs: { upn: '{{ inputs.who }}' }, pinned: { version: 1, definition: child } },
        { id: 'check', kind: 'condition', expression: "steps.inner.output.steps.create.output.id != ''" },
      ],
      [{ source: 'inner', target: 'check' }],
      [{ name: 'who', type: 'user' }],
    );
    const h = await env.start(parent, { who: upn('sub') }, run);
    await h.result();
    return [h, env.client.workflow.getHandle(`${h.workflowId}.inner`)];
  },
};

/**
 * protobufjs's own JSON form of the History message (64-bit numbers and bytes as strings), read back
 * with History.fromObject in test/replay.test.ts. (Temporal's standard history JSON, historyToJSON,
 * fails with this install: @temporalio/common and @temporalio/proto each carry their own protobufjs.)
 */
function toJson(history: IHistory): unknown {
  return temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { longs: String, enums: String, bytes: String });
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, runs start traced: their histories carry the trace header
// and replay through the tracing interceptors (workflows/tracing.ts), as traced runs in flight do.
await startTracing('tenantflow-recorder');
const env = await startTestEnv();
mkdirSync(dir, { recursive: true });
try {
  const domain = env.sandbox.tenant.domain;
  const upn = (tag: string) => `${tag}.${randomUUID().slice(0, 8)}@${domain}`;
  for (const [name, record] of Object.entries(RECORDERS)) {
    if (only.length && !only.includes(name)) continue;
    const handles = await record(env, upn);
    for (const [i, h] of handles.entries()) {
      const history = await h.fetchHistory();
      const file = join(dir, `${prefix}${name}${handles.length > 1 ? `-${i + 1}` : ''}.json`);
      // The workflow id matters: the interpreter derives child ids from it.
      writeFileSync(file, JSON.stringify({ workflowId: h.workflowId, history: toJson(history) }, null, 1) + '\n');
      console.log(`recorded ${file} (${history.events?.length ?? 0} events)`);
    }
    for (const h of handles) await h.terminate('recorded').catch(() => undefined);
  }
} finally {
  await env.close();
  await stopOwnDevServer();
}
