// `npm run server`: the HTTP API (and the designer's files when built).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { connectionOptions, temporalSettingsFromEnv } from '../worker/temporal-connection.ts';
import { createApp } from './app.ts';
import { fileRunbookStore } from './runbook-files.ts';
import { ensureSearchAttributes, Runs } from './temporal.ts';

const settings = temporalSettingsFromEnv();
const connection = await Connection.connect(connectionOptions(settings));
const client = new Client({ connection, namespace: settings.namespace });
try {
  await ensureSearchAttributes(client);
} catch (err) {
  console.warn(`server: could not register search attributes (${(err as Error).message}); register them with the cluster admin`);
}
const staticDir = fileURLToPath(new URL('../designer/dist', import.meta.url));
const app = createApp({
  runs: new Runs(client, settings.taskQueue, process.env.TEMPORAL_UI_URL),
  runbooks: await fileRunbookStore(fileURLToPath(new URL('./examples', import.meta.url))),
  defaultTenant: process.env.TENANTFLOW_DEFAULT_TENANT ?? (process.env.SANDBOX_URL ? 'sandbox' : 'default'),
  staticDir: existsSync(staticDir) ? staticDir : undefined,
});
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(port, host, () => console.log(`server: listening on http://${host}:${port}`));
const stop = () => {
  server.close();
  void connection.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
