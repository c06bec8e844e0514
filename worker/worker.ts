// Builds the Temporal worker: the interpreter workflow plus one activity per catalog action.
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from './activity.ts';
import { createApproverActivities } from './approvers.ts';
import { observeStep, watchWorker } from './metrics.ts';
import { activityTracing, WORKFLOW_TRACING_PATH, workflowSpanSinks } from './tracing.ts';
import { implementations } from './actions/index.ts';
import { graphClientCache, type GraphOptions } from '../m365/graph.ts';
import type { Sealer } from '../runbook/secrets.ts';
import { staticTenantDirectory, type TenantDirectory } from '../m365/tenants.ts';
import { isOnPremisesAction, onPremisesTaskQueue } from '../catalog/contract.ts';
import type { AdConnection } from '../m365/ad-connection.ts';
import { TenantQueueWorkers } from './tenant-queues.ts';

export { WORKFLOW_TRACING_PATH } from './tracing.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * JSONata: a pure function of its arguments; its module builds the function library once (about a
 * twentieth of the workflow thread's work per run when evaluated for each). Not RE2JS, whose classes
 * fill caches of their own on first use, nor OpenTelemetry, whose workflow interceptors keep their
 * tracer in module state (a traced run loads them itself: workflows/tracing.ts).
 */
export const PRELOADED_MODULES = [fileURLToPath(import.meta.resolve('jsonata'))];

/** Bundles the workflow code (a few seconds); production and tests reuse one bundle. */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    // Traces: inert for a run started without a trace context (workflows/tracing.ts).
    workflowInterceptorModules: [WORKFLOW_TRACING_PATH],
    // Evaluated once per worker and shared by every run (Temporal evaluates the rest of the bundle
    // again for each run): only libraries that keep no state of their own between calls.
    preloadModules: PRELOADED_MODULES,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
  });
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  tenants: TenantDirectory;
  /** Opens sealed secrets in step parameters: the server's secret box (same key). */
  secrets?: Sealer;
  /** A prebuilt bundle (code) or its file; bundled on the fly when absent. */
  workflowBundle?: { code: string } | { codePath: string };
  maxConcurrentActivities?: number;
  graph?: GraphOptions;
  /** Payload converter and codecs (e.g. encryption): the server's client must use the same. */
  dataConverter?: DataConverter;
  /** How this worker names itself in Temporal history (default: the SDK's pid@host). */
  identity?: string;
  /** Links in approval messages (default PUBLIC_URL) and their sender when a tenant names none (default TENANTFLOW_MAIL_FROM). */
  approvals?: { publicUrl?: string; mailFrom?: string };
  /** How often the worker lists its tenants again to poll a new tenant's budget queues (default 15 s). */
  tenantRefreshMs?: number;
}

export interface OnPremisesWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The AD connection this worker serves; it polls tenantflow-onprem-<name>. */
  ad: AdConnection;
  /** Opens sealed secrets in step parameters (a password input): the server's secret box (same key). */
  secrets?: Sealer;
  maxConcurrentActivities?: number;
}

/**
 * The on-premises worker: the same package, inside the customer's network, outbound-only to
 * Temporal. It runs only the `ad` actions, on its AD connection's own task queue, and no workflows.
 */
export async function createOnPremisesWorker(opts: OnPremisesWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: onPremisesTaskQueue(opts.ad.name),
    activities: createActivities({
      tenants: staticTenantDirectory([]),
      graphFor: () => {
        throw new Error('the on-premises worker has no cloud credentials');
      },
      secrets: opts.secrets,
      actions: implementations.filter((i) => isOnPremisesAction(i.contract.id)),
      adConnection: opts.ad,
    }),
    interceptors: { activity: activityTracing() },
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 10,
    maxHeartbeatThrottleInterval: '2s',
  });
}

/**
 * The worker: the workflows and every activity on the deployment's task queue, and, started and
 * stopped with it, the budget queues of each tenant it knows (worker/tenant-queues.ts), where
 * Temporal paces the steps of rate-limited actions across every worker. `run()` and `shutdown()`
 * of the returned worker cover both, so every caller gets the budget queues served.
 */
export async function createWorker(opts: WorkerOptions): Promise<Worker & { budgetQueues(): string[] }> {
  const graphs = graphClientCache(opts.graph);
  // Steps spend most of a slot waiting (a Retry-After, directory replication, a long-running Microsoft
  // operation) while the throttle gate paces the requests themselves: 50 slots capped a 1,000-item bulk
  // under throttling at 50 waiting steps (issue 16, finding 13), so a worker takes as many steps as
  // the largest bulk runs at once (POST /api/runs/bulk concurrency: at most 200).
  const maxActivities = opts.maxConcurrentActivities ?? 200;
  const actions = createActivities({ tenants: opts.tenants, graphFor: graphs, secrets: opts.secrets, actions: implementations, onStep: observeStep });
  const interceptors = { activity: activityTracing() };
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    dataConverter: opts.dataConverter,
    ...(opts.identity ? { identity: opts.identity } : {}),
    workflowBundle: opts.workflowBundle ?? (await bundleWorkflows()),
    activities: {
      ...actions,
      ...createApproverActivities({
        tenants: opts.tenants,
        graphFor: graphs,
        publicUrl: opts.approvals?.publicUrl,
        mailFrom: opts.approvals?.mailFrom,
      }),
    },
    // Traces when on (m365/tracing.ts): the activity spans, and the sink of the workflows' spans.
    interceptors,
    sinks: workflowSpanSinks(),
    maxConcurrentActivityTaskExecutions: maxActivities,
    // Heartbeats carry cancellation to a running step: flush them often so a cancelled step stops within seconds.
    maxHeartbeatThrottleInterval: '2s',
  });
  watchWorker(worker, opts.taskQueue, maxActivities);
  const budgets = new TenantQueueWorkers({
    connection: opts.connection,
    namespace: opts.namespace,
    mainQueue: opts.taskQueue,
    tenants: opts.tenants,
    activities: actions,
    interceptors,
    dataConverter: opts.dataConverter,
    identity: opts.identity,
    maxConcurrentActivities: maxActivities,
    refreshMs: opts.tenantRefreshMs,
    onQueue: (w, queue) => watchWorker(w, queue, maxActivities),
  });
  // The tenants known now have their queues before the first run is picked up.
  await budgets.refresh();
  const runMain = worker.run.bind(worker);
  const shutdownMain = worker.shutdown.bind(worker);
  return Object.assign(worker, {
    async run(): Promise<void> {
      let failure: unknown;
      const served = budgets.run().catch((err: unknown) => {
        failure = err;
        if (worker.getState() === 'RUNNING') shutdownMain();
      });
      try {
        await runMain();
      } finally {
        await budgets.stop();
        await served;
      }
      if (failure) throw failure;
    },
    shutdown(): void {
      shutdownMain();
      void budgets.stop();
    },
    budgetQueues: () => budgets.queues(),
  });
}
