// `npm run worker`: a worker process. Production runs several; `npm start` runs one.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadSecretKey, secretBox } from '../m365/secret-box.ts';
import { connectionOptions, temporalSettingsFromEnv } from '../m365/temporal-connection.ts';
import { tenantDirectory } from '../m365/tenant-directory.ts';
import { adConnectionsOf, tenantsFromEnv } from '../m365/tenants.ts';
import { onPremisesTaskQueue } from '../catalog/contract.ts';
import { createOnPremisesWorker, createWorker } from './worker.ts';
import { serveMetrics, workerRegistry } from './metrics.ts';
import { startTracing } from '../m365/tracing.ts';

// The Temporal SDK's own metrics (task slots, pollers, latencies) from its Core runtime, in Prometheus form.
const sdkMetrics = process.env.TENANTFLOW_SDK_METRICS_ADDRESS;
Runtime.install({
  logger: new DefaultLogger((process.env.LOG_LEVEL?.toUpperCase() as 'INFO' | undefined) ?? 'WARN'),
  ...(sdkMetrics ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetrics } } } } : {}),
});
// Tenantflow's worker metrics (steps, Microsoft 365 requests, the throttle gate, slots) on /metrics.
if (process.env.TENANTFLOW_METRICS_PORT) await serveMetrics(workerRegistry, Number(process.env.TENANTFLOW_METRICS_PORT), process.env.TENANTFLOW_METRICS_HOST || undefined);
// OpenTelemetry traces, when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT says where to send them.
const tracing = await startTracing('tenantflow-worker');
const settings = temporalSettingsFromEnv();
const tenants = await tenantsFromEnv();
const connection = await NativeConnection.connect(connectionOptions(settings));
const bundlePath = process.env.TENANTFLOW_WORKFLOW_BUNDLE;
// The same key as the server's (TENANTFLOW_SECRET_KEY or data/secret.key) opens sealed secrets.
const dataDir = process.env.TENANTFLOW_DATA ?? fileURLToPath(new URL('../data', import.meta.url));
const secrets = secretBox(loadSecretKey(process.env, join(dataDir, 'secret.key')));
// Connections from the environment (the sandbox, M365_*, AD_*), then the control plane's: from
// PostgreSQL (DATABASE_URL) or, with the embedded database, its sealed mirror file.
const directory = tenantDirectory({ box: secrets, builtins: tenants, databaseUrl: process.env.DATABASE_URL, mirrorFile: join(dataDir, 'tenants.sealed.json') });
// TENANTFLOW_AD_CONNECTION=<name>: an on-premises worker for that AD connection, configured on site
// (AD_* variables: the bind password never leaves the customer's network) or by the control plane.
const adName = process.env.TENANTFLOW_AD_CONNECTION;
if (adName) {
  const ad = adConnectionsOf(tenants).find((c) => c.name === adName) ?? (await directory.adConnection(adName));
  if (!ad) {
    console.error(`worker: no AD connection "${adName}": set AD_CONNECTION=${adName} with AD_DOMAIN, AD_HOSTS, AD_BIND_USER, AD_BIND_PASSWORD (docs/hybrid.md), or give a tenant that AD connection`);
    process.exit(2);
  }
  const worker = await createOnPremisesWorker({ connection, namespace: settings.namespace, ad, secrets });
  console.log(`worker: on-premises worker for ${ad.domain} (${ad.hosts.join(', ')}), polling task queue "${onPremisesTaskQueue(ad.name)}" on ${settings.address}`);
  await worker.run();
} else {
  const worker = await createWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    tenants: directory,
    secrets,
    workflowBundle: bundlePath ? { codePath: bundlePath } : undefined,
    // A tenant added to the control plane gets its budget queues polled within this long.
    tenantRefreshMs: process.env.TENANTFLOW_TENANT_REFRESH_SECONDS ? Number(process.env.TENANTFLOW_TENANT_REFRESH_SECONDS) * 1000 : undefined,
  });
  console.log(`worker: polling task queue "${settings.taskQueue}" on ${settings.address} (tenants: ${tenants.map((t) => t.name).join(', ') || 'none'}; budget queues: ${worker.budgetQueues().join(', ') || 'none yet'})`);
  await worker.run();
}
await directory.close();
await connection.close();
await tracing?.shutdown();
