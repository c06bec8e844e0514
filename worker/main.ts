// `npm run worker`: a worker process. Production runs several; `npm start` runs one.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadSecretKey, secretBox } from '../m365/secret-box.ts';
import { connectionOptions, temporalSettingsFromEnv } from '../m365/temporal-connection.ts';
import { tenantDirectory } from '../m365/tenant-directory.ts';
import { tenantsFromEnv } from '../m365/tenants.ts';
import { createWorker } from './worker.ts';

Runtime.install({ logger: new DefaultLogger((process.env.LOG_LEVEL?.toUpperCase() as 'INFO' | undefined) ?? 'WARN') });
const settings = temporalSettingsFromEnv();
const tenants = await tenantsFromEnv();
const connection = await NativeConnection.connect(connectionOptions(settings));
const bundlePath = process.env.TENANTFLOW_WORKFLOW_BUNDLE;
// The same key as the server's (TENANTFLOW_SECRET_KEY or data/secret.key) opens sealed secrets.
const dataDir = process.env.TENANTFLOW_DATA ?? fileURLToPath(new URL('../data', import.meta.url));
const secrets = secretBox(loadSecretKey(process.env, join(dataDir, 'secret.key')));
const worker = await createWorker({
  connection,
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  // Connections from the environment (the sandbox, M365_*), then the control plane's: from
  // PostgreSQL (DATABASE_URL) or, with the embedded database, its sealed mirror file.
  tenants: tenantDirectory({ box: secrets, builtins: tenants, databaseUrl: process.env.DATABASE_URL, mirrorFile: join(dataDir, 'tenants.sealed.json') }),
  secrets,
  workflowBundle: bundlePath ? { codePath: bundlePath } : undefined,
});
console.log(`worker: polling task queue "${settings.taskQueue}" on ${settings.address} (tenants: ${tenants.map((t) => t.name).join(', ') || 'none'})`);
await worker.run();
await connection.close();
