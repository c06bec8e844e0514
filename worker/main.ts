// `npm run worker`: a worker process. Production runs several; `npm start` runs one.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadSecretKey, secretBox } from '../server/crypto.ts';
import { connectionOptions, temporalSettingsFromEnv } from './temporal-connection.ts';
import { staticTenantDirectory, tenantsFromEnv } from './tenants.ts';
import { createWorker } from './worker.ts';

Runtime.install({ logger: new DefaultLogger((process.env.LOG_LEVEL?.toUpperCase() as 'INFO' | undefined) ?? 'WARN') });
const settings = temporalSettingsFromEnv();
const tenants = await tenantsFromEnv();
if (tenants.length === 0) console.warn('worker: no tenant connection configured (see README, "Connect a real tenant")');
const connection = await NativeConnection.connect(connectionOptions(settings));
const bundlePath = process.env.TENANTFLOW_WORKFLOW_BUNDLE;
// The same key as the server's (TENANTFLOW_SECRET_KEY or data/secret.key) opens sealed secrets.
const dataDir = process.env.TENANTFLOW_DATA ?? fileURLToPath(new URL('../data', import.meta.url));
const secrets = secretBox(loadSecretKey(process.env, join(dataDir, 'secret.key')));
const worker = await createWorker({
  connection,
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  tenants: staticTenantDirectory(tenants),
  secrets,
  workflowBundle: bundlePath ? { codePath: bundlePath } : undefined,
});
console.log(`worker: polling task queue "${settings.taskQueue}" on ${settings.address} (tenants: ${tenants.map((t) => t.name).join(', ') || 'none'})`);
await worker.run();
await connection.close();
