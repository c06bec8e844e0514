// `npm run sandbox`: the sandbox tenant on its own. SANDBOX_PORT (default 4443), SANDBOX_STATE
// (default data/sandbox; "none" keeps it in memory), SANDBOX_SEED, SANDBOX_USERS, SANDBOX_TIME_SCALE.
import { join } from 'node:path';
import { startSandbox } from './index.ts';

const env = process.env;
const statePath = env['SANDBOX_STATE'] === 'none' ? undefined : (env['SANDBOX_STATE'] ?? join(import.meta.dirname, '..', 'data', 'sandbox'));
const sandbox = await startSandbox({
  port: Number(env['SANDBOX_PORT'] ?? 4443),
  host: env['SANDBOX_HOST'] ?? '127.0.0.1',
  seed: env['SANDBOX_SEED'] ? Number(env['SANDBOX_SEED']) : undefined,
  users: env['SANDBOX_USERS'] ? Number(env['SANDBOX_USERS']) : undefined,
  timeScale: env['SANDBOX_TIME_SCALE'] ? Number(env['SANDBOX_TIME_SCALE']) : undefined,
  throttling: env['SANDBOX_THROTTLING'] !== 'off',
  statePath,
  log: (msg) => console.log(msg),
});

const t = sandbox.tenant;
console.log(`
Tenantflow sandbox tenant is running.

  Authority host (@azure/identity authorityHost): ${sandbox.url}
  Graph:            ${sandbox.graphBaseUrl}   (beta: ${sandbox.url}/beta)
  Exchange admin:   ${sandbox.exchangeBaseUrl}/InvokeCommand
  Admin API:        ${sandbox.url}/_admin

  Tenant:           ${t.displayName} (${t.domain})
  Tenant id:        ${t.tenantId}
  Client id:        ${t.clientId}
  Client secret:    ${t.clientSecret}
${statePath ? `  State:            ${statePath} (CA certificate: ${join(statePath, 'tls', 'ca.pem')})` : '  State:            in memory only'}

Clients must trust the sandbox CA: trustSandboxCa(caPem) in process, or NODE_EXTRA_CA_CERTS=<ca.pem>.
Ctrl-C stops it.`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await sandbox.close();
  console.log('sandbox: stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
