// One throttle budget per tenant and service across workers (docs/architecture.md): a step of a
// rate-limited action is scheduled on its tenant's budget queue (read back from the run's history),
// its declared write count matches what the sandbox saw, and a worker serves a tenant that was added
// to the control plane's directory after it started.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { catalog } from '../catalog/index.ts';
import { ACTION_BUDGETS, writesOf } from '../catalog/budgets.ts';
import { budgetDispatchRate, budgetTaskQueue, WRITE_BUDGET_CEILINGS } from '../catalog/contract.ts';
import { gateFor, graphBudget, QUOTAS } from '../m365/throttle.ts';
import { secretBox } from '../m365/secret-box.ts';
import { tenantDirectory, type SealedRow } from '../m365/tenant-directory.ts';
import { createWorker } from '../worker/worker.ts';
import { GATE_BUDGET } from '../worker/tenant-queues.ts';
import { sharedWorkflowBundle, startTestEnv, stopOwnDevServer, type TestEnv } from './harness.ts';

after(stopOwnDevServer);

/** Each scheduled activity of the run (its workflow only), with the task queue it was scheduled on. */
async function scheduled(h: WorkflowHandle): Promise<{ action: string; queue: string }[]> {
  const history = await h.fetchHistory();
  return (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter((a) => !!a)
    .map((a) => ({ action: a.activityType?.name ?? '', queue: a.taskQueue?.name ?? '' }));
}

describe('the catalog declares which actions draw from a paced write budget', () => {
  it('names only write actions of the catalog, and every Graph write action of the budgeted areas', () => {
    for (const id of Object.keys(ACTION_BUDGETS)) {
      const a = catalog.get(id);
      assert.ok(a, `${id} is not an action`);
      assert.ok(!a.readOnly, `${id} only reads`);
    }
    const budgeted = new Set(['user', 'licence', 'group', 'authentication', 'directory', 'application', 'device']);
    // Exchange's objects (distribution groups, mobile devices) draw on no Graph write budget.
    const missing = [...catalog.values()].filter((a) => budgeted.has(a.category) && !a.readOnly && !/^(distributionGroup|mobileDevice)\./.test(a.id) && !ACTION_BUDGETS[a.id]);
    assert.deepEqual(missing.map((a) => a.id), []);
  });

  it('paces each budget just below the ceiling the gate knows for it', () => {
    const perSecond = (q: { units: number; perMs: number }) => (q.units * 1000) / q.perMs;
    assert.equal(WRITE_BUDGET_CEILINGS['directory-write'].perSecond, perSecond(QUOTAS.directoryWrite));
    assert.equal(WRITE_BUDGET_CEILINGS['intune-write'].perSecond, perSecond(QUOTAS.intuneWrite));
    for (const b of Object.keys(WRITE_BUDGET_CEILINGS) as (keyof typeof WRITE_BUDGET_CEILINGS)[]) {
      assert.ok(budgetDispatchRate(b) < WRITE_BUDGET_CEILINGS[b].perSecond && budgetDispatchRate(b) >= 0.95 * WRITE_BUDGET_CEILINGS[b].perSecond);
    }
    // A queue's turns skip the spacing of the gate's budget for the same writes.
    assert.equal(GATE_BUDGET['directory-write'], graphBudget('POST', '/users').key);
    assert.equal(GATE_BUDGET['intune-write'], graphBudget('POST', '/deviceManagement/managedDevices/1/syncDevice').key);
  });
});

describe('a rate-limited step runs on its tenant budget queue', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.close();
  });

  it('schedules user.create on the tenant directory-write queue, a read on the run queue, and makes the writes it declares', async () => {
    const upn = `budget.${randomBytes(3).toString('hex')}@${env.sandbox.tenant.domain}`;
    const params = { userPrincipalName: upn, displayName: 'Budget Queue', usageLocation: 'US', licences: ['FLOW_FREE'], groups: ['All Company'] };
    const since = env.sandbox.admin.requestLog({}).at(-1)?.seq ?? 0;
    // The worker runs in this process: its gate counts the writes that went on the queue's turn.
    const turns = () => gateFor(env.tenant).state()['directory:write']?.queueTurns ?? 0;
    const turnsBefore = turns();
    const h = await env.start({
      name: 'budget queue',
      nodes: [
        { id: 'create', kind: 'action', action: 'user.create', params },
        { id: 'read', kind: 'action', action: 'user.get', params: { user: upn } },
      ],
      edges: [{ source: 'create', target: 'read' }],
    });
    const state = await h.result();
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes));
    const queues = await scheduled(h);
    assert.deepEqual(queues, [
      { action: 'user.create', queue: budgetTaskQueue(env.taskQueue, 'sandbox', 'directory-write') },
      { action: 'user.get', queue: env.taskQueue },
    ]);
    // What the tenant shows: the user, with the licence and the group.
    const u = (await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).select('id,assignedLicenses').get()).value as { id: string; assignedLicenses: unknown[] }[];
    assert.equal(u.length, 1);
    assert.equal(u[0]!.assignedLicenses.length, 1);
    // The writes the step made against Graph are the writes the catalog declares for it.
    const writes = env.sandbox.admin.requestLog({ since }).filter((e) => (e.surface === 'graph' || e.surface === 'batch-item') && e.method !== 'GET' && !e.path.endsWith('/$batch') && e.status < 400);
    assert.equal(writes.length, writesOf('user.create', params), JSON.stringify(writes.map((w) => `${w.method} ${w.path}`)));
    // One dispatch from the queue is one turn: its first write skipped the gate's spacing, the others did not.
    assert.ok(writes.length > 1);
    assert.equal(turns() - turnsBefore, 1);

    // More actions, one run each, on that user: each makes the writes the catalog declares for it.
    const steps: [string, Record<string, unknown>][] = [
      ['user.update', { user: upn, department: 'Finance' }],
      ['user.disableSignIn', { user: upn }],
      ['group.addMember', { user: upn, group: 'Leadership' }],
      ['licence.unassign', { user: upn, licences: ['FLOW_FREE'] }],
      ['user.delete', { user: upn }],
    ];
    for (const [action, p] of steps) {
      const from = env.sandbox.admin.requestLog({}).at(-1)?.seq ?? 0;
      const turnsFrom = turns();
      const run = await env.start({ name: action, nodes: [{ id: 'step', kind: 'action', action, params: p }], edges: [] });
      const s = await run.result();
      assert.equal(s.status, 'succeeded', `${action}: ${JSON.stringify(s.nodes)}`);
      assert.deepEqual(await scheduled(run), [{ action, queue: budgetTaskQueue(env.taskQueue, 'sandbox', 'directory-write') }]);
      const made = env.sandbox.admin.requestLog({ since: from }).filter((e) => (e.surface === 'graph' || e.surface === 'batch-item') && e.method !== 'GET' && !e.path.endsWith('/$batch') && e.status < 400);
      assert.equal(made.length, writesOf(action, p), `${action}: ${JSON.stringify(made.map((w) => `${w.method} ${w.path}`))}`);
      assert.equal(turns() - turnsFrom, made.length ? 1 : 0, `${action}: one write on the queue's turn`);
    }
  });

  it('is served by Temporal from one partition at the budget rate, so the queue gets the whole rate', async () => {
    // The first test ran steps on this queue: Temporal knows it and the rate its workers gave.
    const name = budgetTaskQueue(env.taskQueue, 'sandbox', 'directory-write');
    const service = env.client.workflowService;
    const partitions = await service.listTaskQueuePartitions({ namespace: env.namespace, taskQueue: { name } });
    // Temporal splits a queue's rate over its read partitions, and a partition that runs dry wastes
    // its share (deploy/temporal-dynamicconfig.yaml, scripts/temporal.ts).
    assert.equal(partitions.activityTaskQueuePartitions?.length, 1, JSON.stringify(partitions.activityTaskQueuePartitions));
    const described = await service.describeTaskQueue({ namespace: env.namespace, taskQueue: { name }, taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, reportConfig: true });
    assert.ok(Math.abs((described.effectiveRateLimit?.requestsPerSecond ?? 0) - budgetDispatchRate('directory-write')) < 0.01, JSON.stringify(described.effectiveRateLimit));
  });

  it('schedules an Intune write on the tenant intune-write queue', async () => {
    type Device = { id: string; operatingSystem: string; lastSyncDateTime: string };
    const devices = (await env.graph.api('/deviceManagement/managedDevices').select('id,operatingSystem,lastSyncDateTime').get()).value as Device[];
    const d = devices.find((x) => x.operatingSystem === 'Windows')!;
    assert.ok(d, 'the sandbox seeds a Windows device');
    const from = env.sandbox.admin.requestLog({}).at(-1)?.seq ?? 0;
    const intuneTurns = gateFor(env.tenant).state()['intune:write']?.queueTurns ?? 0;
    const run = await env.start({ name: 'sync', nodes: [{ id: 'sync', kind: 'action', action: 'device.sync', params: { device: d.id } }], edges: [] });
    const s = await run.result();
    assert.equal(s.status, 'succeeded', JSON.stringify(s.nodes));
    assert.deepEqual(await scheduled(run), [{ action: 'device.sync', queue: budgetTaskQueue(env.taskQueue, 'sandbox', 'intune-write') }]);
    const back = (await env.graph.api(`/deviceManagement/managedDevices/${d.id}`).select('lastSyncDateTime').get()) as Device;
    assert.ok(back.lastSyncDateTime > d.lastSyncDateTime);
    const made = env.sandbox.admin.requestLog({ since: from }).filter((e) => e.surface === 'graph' && e.method !== 'GET' && e.status < 400);
    assert.equal(made.length, writesOf('device.sync', { device: d.id }));
    assert.equal(gateFor(env.tenant).state()['intune:write']!.queueTurns - intuneTurns, 1);
  });
});

describe('a worker serves a tenant added after it started', () => {
  let env: TestEnv;
  let dir: string;
  before(async () => {
    env = await startTestEnv({ worker: false });
    dir = mkdtempSync(join(tmpdir(), 'tenantflow-late-tenant-'));
  });
  after(async () => {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('polls the new tenant budget queue and runs its steps there', async () => {
    const box = secretBox(randomBytes(32));
    const mirrorFile = join(dir, 'tenants.sealed.json');
    const write = (tenants: SealedRow[]) => {
      // As the control plane rewrites it: whole, then renamed into place.
      writeFileSync(`${mirrorFile}.tmp`, JSON.stringify({ tenants }));
      renameSync(`${mirrorFile}.tmp`, mirrorFile);
    };
    write([]);
    const connection = await NativeConnection.connect({ address: env.address });
    const worker = await createWorker({
      connection,
      namespace: env.namespace,
      taskQueue: env.taskQueue,
      tenants: tenantDirectory({ box, mirrorFile }),
      workflowBundle: sharedWorkflowBundle(),
      tenantRefreshMs: 200,
    });
    const running = worker.run();
    try {
      assert.deepEqual(worker.budgetQueues(), []);
      // The tenant is added after the worker started (a connection to the sandbox's tenant).
      const t = env.tenant;
      write([
        {
          name: 'late',
          display_name: 'Added later',
          tenant_id: t.tenantId,
          client_id: t.clientId,
          secret_enc: box.seal(t.clientSecret),
          certificate_enc: null,
          authority_host: t.authorityHost ?? null,
          graph_url: t.graphUrl ?? null,
          ca_pem: t.caPem ?? null,
          mail_from: null,
        },
      ]);
      const upn = `late.${randomBytes(3).toString('hex')}@${env.sandbox.tenant.domain}`;
      const h = await env.start({ name: 'late tenant', nodes: [{ id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: upn, displayName: 'Late Tenant' } }], edges: [] }, {}, { tenant: 'late' });
      const state = await h.result();
      assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes));
      const queue = budgetTaskQueue(env.taskQueue, 'late', 'directory-write');
      assert.deepEqual(await scheduled(h), [{ action: 'user.create', queue }]);
      assert.ok(worker.budgetQueues().includes(queue));
      const u = (await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).select('id').get()).value as unknown[];
      assert.equal(u.length, 1);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});
