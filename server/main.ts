// `npm run server`: the HTTP API (and the designer's files when built).
// Storage: PostgreSQL when DATABASE_URL is set, else the embedded database under data/db.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { connectionOptions, temporalSettingsFromEnv } from '../m365/temporal-connection.ts';
import { controlPlaneInterceptors } from './temporal-deadline.ts';
import { tenantsFromEnv } from '../m365/tenants.ts';
import { buildApi } from './app.ts';
import { firstAdmin, seedRunbooks } from './bootstrap.ts';
import { loadSecretKey, secretBox } from '../m365/secret-box.ts';
import { openDatabase } from './db.ts';
import { startNotifier } from './notify.ts';
import { oidcFromEnv } from './oidc.ts';
import { ensureSearchAttributes, Runs } from './temporal.ts';
import { startBatchWorker } from './batch-worker.ts';
import { startTracing } from '../m365/tracing.ts';
import { temporalClientTracing } from './tracing.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = process.env.TENANTFLOW_DATA ?? join(root, 'data');
const settings = temporalSettingsFromEnv();
// OpenTelemetry traces, when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT says where to send them.
const tracing = await startTracing('tenantflow-server');
// Short deadlines on every call: Temporal down answers 503 quickly instead of hanging (server/temporal-deadline.ts).
const connection = await Connection.connect({ ...connectionOptions(settings), interceptors: controlPlaneInterceptors() });
const client = new Client({ connection, namespace: settings.namespace, interceptors: temporalClientTracing() });
try {
  await ensureSearchAttributes(client);
} catch (err) {
  console.warn(`server: could not register search attributes (${(err as Error).message}); register them with the cluster admin`);
}
// TENANTFLOW_KEEP_READS=off: read who is calling from the database on every request (server/changes.ts).
const db = await openDatabase({ url: process.env.DATABASE_URL, ownerUrl: process.env.DATABASE_OWNER_URL || undefined, dir: join(dataDir, 'db'), keepReads: process.env.TENANTFLOW_KEEP_READS !== 'off' });
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const publicUrl = process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
const staticDir = join(root, 'designer', 'dist');
const builtinTenants = await tenantsFromEnv();
const { app, services, triggers } = buildApi({
  db,
  runs: new Runs(client, settings.taskQueue, process.env.TEMPORAL_UI_URL || undefined),
  secretBox: secretBox(loadSecretKey(process.env, join(dataDir, 'secret.key'))),
  defaultTenant: process.env.TENANTFLOW_DEFAULT_TENANT ?? (builtinTenants.some((t) => t.name === 'sandbox') ? 'sandbox' : (builtinTenants[0]?.name ?? 'default')),
  builtinTenants,
  // Workers read tenant connections from PostgreSQL directly; the embedded database has one
  // owner (this process), so workers read this sealed mirror instead.
  tenantMirrorFile: process.env.DATABASE_URL ? undefined : join(dataDir, 'tenants.sealed.json'),
  staticDir: existsSync(staticDir) ? staticDir : undefined,
  secureCookies: publicUrl.startsWith('https://'),
  oidc: oidcFromEnv(process.env, publicUrl),
  workerMetrics: (process.env.TENANTFLOW_WORKER_METRICS ?? '').split(',').map((u) => u.trim()).filter(Boolean),
  // Graph triggers subscribe to change notifications only where Microsoft can reach this server
  // (https); TENANTFLOW_GRAPH_NOTIFICATIONS=off keeps them on delta queries alone.
  publicUrl: process.env.TENANTFLOW_GRAPH_NOTIFICATIONS === 'off' ? undefined : publicUrl,
});
await services.tenants.writeMirror();
const seeded = await seedRunbooks(services, join(root, 'server', 'examples'));
if (seeded.length) console.log(`server: published the example runbooks ${seeded.join(', ')} (v1)`);
const admin = await firstAdmin(services, process.env.TENANTFLOW_ADMIN_EMAIL);
if (admin)
  console.log(`
server: created the first admin (shown only this once):
  email     ${admin.email}
  password  ${admin.password}   (one-time: change it at first sign-in)
  sign in:  npx tenantflow login --url ${publicUrl} --email ${admin.email} --new-password '<a new password>'
`);
// Graph and date triggers: subscriptions renewed, delta queries and date evaluations on schedule.
triggers.start();
const notifier = startNotifier(services, { intervalMs: Number(process.env.TENANTFLOW_NOTIFY_INTERVAL_MS ?? 5000), publicUrl });
// Run records are written as runs progress, whether or not anybody looks (docs/runs.md).
services.records.start(Number(process.env.TENANTFLOW_RECORD_INTERVAL_MS ?? 2000));
// Bulk batches: this process serves their activities (they read and write the rows in its database)
// on a connection of its own without the API's short call deadlines (a slice waits for its runs).
const batchConnection = await Connection.connect(connectionOptions(settings));
const batchWorker = await startBatchWorker(services, {
  connection: await NativeConnection.connect(connectionOptions(settings)),
  namespace: settings.namespace,
  // Traced like the API's client: a row's run joins the trace of its batch's slice.
  client: new Client({ connection: batchConnection, namespace: settings.namespace, interceptors: temporalClientTracing() }),
});
const server = app.listen(port, host, () => console.log(`server: listening on http://${host}:${port} (database: ${db.kind === 'postgres' ? 'PostgreSQL' : 'embedded, data/db'})`));
const stop = () => {
  notifier.stop();
  triggers.stop();
  void services.records.stop();
  void batchWorker.stop().finally(() => batchConnection.close());
  server.close();
  server.closeAllConnections();
  void db.close().finally(() => connection.close());
  void tracing?.shutdown();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
