// `npm start`: the whole product on one machine with its embedded defaults. The Temporal dev
// server (persisted under data/), the sandbox tenant, one worker and the server, each its own
// process as in production. Ctrl-C stops everything this started.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSecretKey } from '../m365/secret-box.ts';
import { startSandbox } from '../sandbox/index.ts';
import { freePort, startDevServer, type DevServer } from './temporal.ts';
import { sambaUnavailable, startSambaDc, type SambaDc } from './samba.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = process.env.TENANTFLOW_DATA ?? join(root, 'data');
mkdirSync(dataDir, { recursive: true });

async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => void freePort().then(resolve));
    s.listen(preferred, '127.0.0.1', () => s.close(() => resolve(preferred)));
  });
}

// Server and worker share one secret key; make sure it exists before either starts.
loadSecretKey(process.env, join(dataDir, 'secret.key'));

const children: ChildProcess[] = [];
let devServer: DevServer | undefined;
let stopping = false;

async function stopAll(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('\ntenantflow: stopping...');
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    await sandbox?.close();
    await dc?.stop();
    await devServer?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

let temporalAddress = process.env.TEMPORAL_ADDRESS;
let temporalUi = process.env.TEMPORAL_UI_URL;
if (!temporalAddress) {
  console.log('tenantflow: starting the Temporal dev server (data in data/temporal.db)...');
  devServer = await startDevServer({
    dbFile: join(dataDir, 'temporal.db'),
    port: await portOr(Number(process.env.TEMPORAL_PORT ?? 7233)),
    uiPort: await portOr(Number(process.env.TEMPORAL_UI_PORT ?? 8233)),
  });
  temporalAddress = devServer.address;
  temporalUi = devServer.uiUrl;
}

// Hybrid mode: an on-premises Active Directory (a throwaway Samba AD DC, stopped with the run), the
// sandbox's sync agent projecting its OU into the tenant, and an on-premises worker for it.
let dc: SambaDc | undefined;
if (process.env.TENANTFLOW_HYBRID === '1') {
  const why = sambaUnavailable();
  if (why) {
    console.error(`tenantflow: hybrid mode needs the Samba AD DC: ${why}`);
    process.exit(2);
  }
  console.log('tenantflow: provisioning the on-premises AD (Samba AD DC, a throwaway domain)...');
  dc = await startSambaDc({ log: (m) => console.log(`tenantflow: ${m}`) });
}
const syncEverySeconds = Number(process.env.TENANTFLOW_SYNC_INTERVAL ?? 30);

console.log('tenantflow: starting the sandbox tenant...');
const sandbox = await startSandbox({
  port: await portOr(Number(process.env.SANDBOX_PORT ?? 4443)),
  statePath: join(dataDir, 'sandbox'),
  seed: 1,
  directorySync: dc
    ? {
        url: dc.url,
        bindDn: dc.connection.bindUser,
        bindPassword: dc.connection.bindPassword,
        caPem: dc.caPem,
        scopes: dc.connection.syncOus!,
        domain: dc.connection.domain,
        intervalMs: syncEverySeconds * 1000,
      }
    : undefined,
});
const caFile = join(dataDir, 'sandbox-ca.pem');
writeFileSync(caFile, sandbox.caPem);
// The demo app signs in with a certificate (SharePoint REST refuses secret-based app tokens): made once,
// registered again if the sandbox state was reset.
const certFile = join(dataDir, 'sandbox-app-certificate.pem');
if (existsSync(certFile)) {
  const pem = readFileSync(certFile, 'utf8');
  const cert = pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 25);
  const x5t = createHash('sha1').update(new X509Certificate(cert).raw).digest('hex').toUpperCase();
  if (!sandbox.admin.appCertificates(sandbox.tenant.clientId).some((c) => c.thumbprint === x5t)) sandbox.admin.addAppCertificate(sandbox.tenant.clientId, cert);
} else writeFileSync(certFile, sandbox.admin.createAppCertificate(sandbox.tenant.clientId, { displayName: 'Tenantflow (npm start)' }).pem, { mode: 0o600 });

const serverPort = await portOr(Number(process.env.PORT ?? 3000));
const env = {
  ...process.env,
  TEMPORAL_ADDRESS: temporalAddress,
  TEMPORAL_UI_URL: temporalUi ?? '',
  SANDBOX_URL: sandbox.url,
  SANDBOX_TENANT_ID: sandbox.tenant.tenantId,
  SANDBOX_CLIENT_ID: sandbox.tenant.clientId,
  SANDBOX_CLIENT_SECRET: sandbox.tenant.clientSecret,
  SANDBOX_CA_FILE: caFile,
  SANDBOX_CERTIFICATE_FILE: certFile,
  PORT: String(serverPort),
  // The AD connection belongs to the sandbox tenant (m365/tenants.ts tenantsFromEnv).
  ...(dc
    ? {
        AD_CONNECTION: dc.connection.name,
        AD_DOMAIN: dc.connection.domain,
        AD_HOSTS: dc.connection.hosts.join(','),
        AD_BIND_USER: dc.connection.bindUser,
        AD_BIND_PASSWORD: dc.connection.bindPassword,
        AD_CA_FILE: dc.caFile,
        AD_USERS_OU: dc.connection.usersOu!,
        AD_GROUPS_OU: dc.connection.groupsOu!,
        AD_LEAVERS_OU: dc.connection.leaversOu!,
        AD_SYNC_OUS: dc.connection.syncOus!.join(';'),
        AD_UPN_SUFFIX: dc.connection.upnSuffix!,
        AD_TENANT: 'sandbox',
      }
    : {}),
};

function run(name: string, script: string, extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [join(root, script)], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (d: Buffer) =>
    d
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => `[${name}] ${l}\n`)
      .join('');
  child.stdout?.on('data', (d: Buffer) => process.stdout.write(prefix(d)));
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(prefix(d)));
  child.once('exit', (code) => {
    // Ctrl-C reaches the children too; give our own SIGINT handler a moment to claim the stop.
    setTimeout(() => {
      if (stopping) return;
      console.error(`tenantflow: the ${name} stopped (exit ${code}); stopping everything`);
      void stopAll(1);
    }, 200);
  });
  children.push(child);
  return child;
}

// Each worker serves its Prometheus metrics on a port of its own; the server reads them for the
// dashboard's live throttle gates (TENANTFLOW_WORKER_METRICS).
const metricsPorts = [await freePort(), ...(dc ? [await freePort()] : [])];
run('worker', 'worker/main.ts', { TENANTFLOW_METRICS_PORT: String(metricsPorts[0]), TENANTFLOW_METRICS_HOST: '127.0.0.1' });
if (dc) run('onprem-worker', 'worker/main.ts', { TENANTFLOW_AD_CONNECTION: dc.connection.name, TENANTFLOW_METRICS_PORT: String(metricsPorts[1]), TENANTFLOW_METRICS_HOST: '127.0.0.1' });
run('server', 'server/main.ts', { TENANTFLOW_WORKER_METRICS: metricsPorts.map((p) => `http://127.0.0.1:${p}/metrics`).join(',') });

// Wait until the API answers before printing where things are.
for (let i = 0; i < 100; i++) {
  try {
    const res = await fetch(`http://127.0.0.1:${serverPort}/api/health`);
    if (res.ok) break;
  } catch {
    // not up yet
  }
  await new Promise((r) => setTimeout(r, 200));
}

console.log(`
Tenantflow is running. Ctrl-C stops everything.

  Designer / API   http://127.0.0.1:${serverPort}      (health: /api/health, API reference: docs/api.md)
  Temporal Web UI  ${temporalUi ?? '(external cluster)'}
  Temporal         ${temporalAddress}
  Sandbox tenant   ${sandbox.url}   (tenant ${sandbox.tenant.domain}; npm run sandbox prints its credentials)
${dc ? `  On-premises AD    ${dc.url}   (domain ${dc.connection.domain}, OU ${dc.seeded.rootOu} synced every ${syncEverySeconds} s; POST ${sandbox.url}/_admin/sync/run syncs now)
  AD administrator ${dc.admin.user} / ${dc.admin.password}   (CA: ${dc.caFile})
` : `  (TENANTFLOW_HYBRID=1 npm start adds an on-premises AD: docs/hybrid.md)
`}
Sign in with the first admin printed above by [server] (first start only; the password is one-time).
The example runbook "onboarding" is published: open it in the designer and press Run, or
  npx tenantflow login --url http://127.0.0.1:${serverPort} --email <admin email>
  npx tenantflow runs start onboarding --input userPrincipalName=new.hire@${sandbox.tenant.domain} --input givenName=New --input surname=Hire
`);
