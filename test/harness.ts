// What every engine test needs: the run's Temporal dev server (started once by scripts/test.ts,
// or here when a file runs alone), a sandbox tenant in process, and a real worker on its own
// task queue. Nothing here stands in for Temporal or Graph.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox/index.ts';
import { startDevServer, type DevServer } from '../scripts/temporal.ts';
import { graphClientCache } from '../m365/graph.ts';
import { staticTenantDirectory, type TenantConnection } from '../m365/tenants.ts';
import { createWorker } from '../worker/worker.ts';
import type { RunbookDefinitionInput, RunContext, RunState } from '../runbook/definition.ts';
import { RunbookDefinition } from '../runbook/definition.ts';
import { runStateQuery } from '../workflows/messages.ts';

// Lookups wait out directory replication lag for 30 s in production (worker/replication.ts); a test
// asserting "user ... does not exist" should not wait that long. A test of the lag sets its own.
process.env.TENANTFLOW_REPLICATION_WAIT_SECONDS ??= '3';
import type { Sealer } from '../runbook/secrets.ts';
import { Runs } from '../server/temporal.ts';
import { temporalClientTracing } from '../server/tracing.ts';

export interface TestEnv {
  address: string;
  namespace: string;
  taskQueue: string;
  client: Client;
  runs: Runs;
  sandbox: Sandbox;
  tenant: TenantConnection;
  /** Graph client for reading the sandbox back, as an operator's tool would. */
  graph: ReturnType<ReturnType<typeof graphClientCache>>;
  worker?: Worker;
  start(def: RunbookDefinitionInput, inputs?: Record<string, unknown>, run?: Partial<RunContext>): Promise<WorkflowHandle>;
  state(handle: WorkflowHandle | string): Promise<RunState>;
  waitFor(handle: WorkflowHandle | string, done: (s: RunState) => boolean, timeoutMs?: number): Promise<RunState>;
  close(): Promise<void>;
}

let ownServer: Promise<DevServer> | undefined;

// Workers log every state change at INFO; tests show only what went wrong. A test that reads the
// Temporal SDK's own metrics sets TENANTFLOW_TEST_SDK_METRICS_ADDRESS before it imports this module
// (the runtime option worker/main.ts sets from TENANTFLOW_SDK_METRICS_ADDRESS).
const sdkMetrics = process.env.TENANTFLOW_TEST_SDK_METRICS_ADDRESS;
Runtime.install({
  logger: new DefaultLogger((process.env.TEST_LOG_LEVEL as 'ERROR' | undefined) ?? 'ERROR'),
  ...(sdkMetrics ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetrics } } } } : {}),
});

async function temporalAddress(): Promise<string> {
  const fromRunner = process.env.TENANTFLOW_TEST_TEMPORAL_ADDRESS;
  if (fromRunner) return fromRunner;
  ownServer ??= startDevServer({ headless: true });
  return (await ownServer).address;
}

export function sandboxTenant(sandbox: Sandbox): TenantConnection {
  return {
    name: 'sandbox',
    tenantId: sandbox.tenant.tenantId,
    clientId: sandbox.tenant.clientId,
    clientSecret: sandbox.tenant.clientSecret,
    authorityHost: sandbox.url,
    graphUrl: sandbox.url,
    exchangeUrl: sandbox.url,
    sharepointUrl: `${sandbox.url}/_sharepoint`,
    caPem: sandbox.caPem,
  };
}

/** The workflow bundle scripts/test.ts builds once for every test file (undefined: the worker bundles its own). */
export function sharedWorkflowBundle(): { codePath: string } | undefined {
  const codePath = process.env.TENANTFLOW_WORKFLOW_BUNDLE;
  return codePath ? { codePath } : undefined;
}

/** The environment a `worker/main.ts` (or `server/main.ts`) child process needs to reach this env's Temporal and sandbox tenant (the sandbox's CA in caFile). */
export function childProcessEnv(env: Pick<TestEnv, 'address' | 'namespace' | 'sandbox'>, caFile: string, taskQueue: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SANDBOX_URL: env.sandbox.url,
    SANDBOX_TENANT_ID: env.sandbox.tenant.tenantId,
    SANDBOX_CLIENT_ID: env.sandbox.tenant.clientId,
    SANDBOX_CLIENT_SECRET: env.sandbox.tenant.clientSecret,
    SANDBOX_CA_FILE: caFile,
  };
}

export async function startTestEnv(
  opts: {
    worker?: boolean;
    sandbox?: SandboxOptions;
    secrets?: Sealer;
    /** For client and worker alike. */
    dataConverter?: DataConverter;
    /** More tenant connection names the worker knows, each a connection to the same sandbox tenant. */
    aliases?: string[];
  } = {},
): Promise<TestEnv> {
  const address = await temporalAddress();
  const namespace = 'default';
  const taskQueue = `test-${randomUUID()}`;
  const sandbox = await startSandbox({ seed: 1, users: 40, ...opts.sandbox });
  const tenant = sandboxTenant(sandbox);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace, dataConverter: opts.dataConverter, interceptors: temporalClientTracing() });
  const runs = new Runs(client, taskQueue);

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  if (opts.worker !== false) {
    nativeConnection = await NativeConnection.connect({ address });
    worker = await createWorker({
      connection: nativeConnection,
      namespace,
      taskQueue,
      tenants: staticTenantDirectory([tenant, ...(opts.aliases ?? []).map((name) => ({ ...tenant, name }))]),
      secrets: opts.secrets,
      dataConverter: opts.dataConverter,
      workflowBundle: sharedWorkflowBundle(),
    });
    workerRun = worker.run();
  }

  const handleOf = (h: WorkflowHandle | string) => (typeof h === 'string' ? client.workflow.getHandle(h) : h);
  const env: TestEnv = {
    address,
    namespace,
    taskQueue,
    client,
    runs,
    sandbox,
    tenant,
    graph: graphClientCache()(tenant),
    worker,
    async start(def, inputs = {}, run = {}) {
      const definition = RunbookDefinition.parse(def);
      const id = await runs.start({
        definition,
        inputs,
        run: { startedBy: 'operator@tenantflow.test', tenant: 'sandbox', runbookId: 'test', version: 1, ...run },
      });
      return client.workflow.getHandle(id);
    },
    async state(h) {
      return handleOf(h).query(runStateQuery);
    },
    async waitFor(h, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: RunState | undefined;
      for (;;) {
        try {
          last = await handleOf(h).query(runStateQuery);
          if (done(last)) return last;
        } catch {
          // not picked up by the worker yet
        }
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for the run; last state:\n${JSON.stringify(last, null, 2)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      if (worker) {
        worker.shutdown();
        await workerRun;
      }
      await nativeConnection?.close();
      await connection.close();
      await sandbox.close();
    },
  };
  return env;
}

/** Node states in a compact form for assertions: { nodeId: status }. */
export function statuses(s: RunState): Record<string, string> {
  return Object.fromEntries(Object.values(s.nodes).map((n) => [n.id, n.status]));
}

export async function stopOwnDevServer(): Promise<void> {
  if (ownServer) await (await ownServer).stop();
}

/** An HTTP endpoint on loopback that answers 200 {"ok":true} and keeps every request (webhook tests). */
export async function recordingEndpoint(): Promise<{ url: string; received: { headers: IncomingHttpHeaders; body: string }[]; close(): void }> {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: () => server.close() };
}
