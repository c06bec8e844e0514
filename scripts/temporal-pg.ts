// The Temporal server as production runs it, on PostgreSQL, for `npm run test:temporal-pg`: the
// server and its schema tool are built once with `go install` (cached beside the CLI, outside the
// clone), a throwaway Debian PostgreSQL cluster gets the schemas that ship inside the server's Go
// module, and the server starts on free ports with the project's namespace and search attributes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts';
import { postgresForTests } from '../test/api-harness.ts';
import { createServer } from 'node:net';
import { cacheDir, type DevServer } from './temporal.ts';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`;

/** A free TCP port on 127.0.0.1 between 20000 and 32767. */
async function lowFreePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

function goEnv(name: string): string {
  return spawnSync('go', ['env', name], { encoding: 'utf8' }).stdout.trim();
}

/** The server and sql tool binaries: cached, or built once with go install (Go module proxy only). */
export function ensureTemporalServer(log: (m: string) => void = console.log): { server: string; sqlTool: string; schemaDir: string } {
  const bin = join(cacheDir(), 'bin');
  const server = join(bin, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const sqlTool = join(bin, `temporal-sql-tool-${TEMPORAL_SERVER_VERSION}`);
  if (!existsSync(server) || !existsSync(sqlTool)) {
    mkdirSync(bin, { recursive: true });
    const tmpBin = join(cacheDir(), `go-bin-${process.pid}`);
    log(`tenantflow: building the Temporal server ${TEMPORAL_SERVER_VERSION} and its sql tool with go install (once per machine; about 8 minutes on 2 busy cores)...`);
    const res = spawnSync('go', ['install', `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`, `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`], { stdio: 'inherit', env: { ...process.env, GOBIN: tmpBin } });
    if (res.status !== 0) throw new Error(`go install of the Temporal server ${TEMPORAL_SERVER_VERSION} failed (exit ${res.status})`);
    renameSync(join(tmpBin, 'server'), server);
    renameSync(join(tmpBin, 'sql'), sqlTool);
    rmSync(tmpBin, { recursive: true, force: true });
  }
  // The schemas ship inside the module go install downloaded.
  let schemaDir = join(goEnv('GOMODCACHE'), MODULE, 'schema', 'postgresql', 'v12');
  if (!existsSync(schemaDir)) {
    spawnSync('go', ['mod', 'download', MODULE], { stdio: 'inherit' });
    schemaDir = join(goEnv('GOMODCACHE'), MODULE, 'schema', 'postgresql', 'v12');
  }
  if (!existsSync(schemaDir)) throw new Error(`the PostgreSQL schemas of ${MODULE} are not in the Go module cache (${schemaDir})`);
  return { server, sqlTool, schemaDir };
}

/** A Temporal server on a throwaway PostgreSQL cluster; stop() tears both down. */
export async function startTemporalOnPostgres(opts: { namespace?: string; log?: (m: string) => void } = {}): Promise<DevServer> {
  const log = opts.log ?? console.log;
  const namespace = opts.namespace ?? 'default';
  const { server, sqlTool, schemaDir } = ensureTemporalServer(log);
  const pg = await postgresForTests();
  const u = new URL(pg.url);
  const sql = (db: string, ...args: string[]) => {
    const res = spawnSync(sqlTool, ['--plugin', 'postgres12', '--ep', u.hostname, '-p', u.port, '-u', decodeURIComponent(u.username), '--pw', decodeURIComponent(u.password), '--db', db, ...args], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`temporal-sql-tool ${args.join(' ')} on ${db} failed:\n${res.stdout}\n${res.stderr}`);
  };
  for (const [db, dir] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    sql(db, 'create-database');
    sql(db, 'setup-schema', '-v', '0.0');
    sql(db, 'update-schema', '-d', join(schemaDir, dir, 'versioned'));
  }

  const root = mkdtempSync(join(tmpdir(), 'tenantflow-temporal-pg-'));
  mkdirSync(join(root, 'config', 'dynamicconfig'), { recursive: true });
  // Membership ports are stored as smallint: below 32768, not the kernel's ephemeral range.
  const p: number[] = [];
  while (p.length < 10) {
    const port = await lowFreePort();
    if (!p.includes(port)) p.push(port);
  }
  const store = (db: string, conns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${db}
        connectAddr: "${u.hostname}:${u.port}"
        connectProtocol: tcp
        user: "${decodeURIComponent(u.username)}"
        password: "${decodeURIComponent(u.password)}"
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: 1h`;
  const svc = (grpc: number, member: number, http?: number) => `
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${member}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  writeFileSync(
    join(root, 'config', 'production.yaml'),
    `log:
  stdout: true
  level: error
persistence:
  defaultStore: pg-default
  visibilityStore: pg-visibility
  numHistoryShards: 4
  datastores:
    pg-default:${store('temporal', 20)}
    pg-visibility:${store('temporal_visibility', 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:${svc(p[0]!, p[1]!, p[8]!)}
  matching:${svc(p[2]!, p[3]!)}
  history:${svc(p[4]!, p[5]!)}
  worker:${svc(p[6]!, p[7]!)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${p[0]}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${join(root, "config", "dynamicconfig", "production.yaml")}
  pollInterval: 10s
`,
  );
  // What the dev server sets for tests: schedules and updates answer at once.
  writeFileSync(
    join(root, 'config', 'dynamicconfig', 'production.yaml'),
    `frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
` +
      // What production runs with (docker-compose.yml mounts the same file).
      readFileSync(fileURLToPath(new URL('../deploy/temporal-dynamicconfig.yaml', import.meta.url)), 'utf8'),
  );
  // --allow-no-auth: this server listens on 127.0.0.1 only, for the test run (production: mTLS, docs/architecture.md).
  const child = spawn(server, ['--root', root, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-6000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-6000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${p[0]}`;

  const { Connection } = await import('@temporalio/client');
  const deadline = Date.now() + 120_000;
  let connection: Awaited<ReturnType<typeof Connection.connect>> | undefined;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the Temporal server exited (${child.exitCode}):\n${output}`);
      try {
        connection ??= await Connection.connect({ address, connectTimeout: 2000 });
        await connection.workflowService.getSystemInfo({});
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the Temporal server did not answer within 120 s: ${(err as Error).message}\n${output}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    // The namespace with a set retention, then the project's search attributes on it.
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: (3 * 24 * 3600) as never } });
    } catch (err) {
      if ((err as { code?: number }).code !== 6) throw err;
    }
    for (let i = 0; ; i++) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    // IndexedValueType numbers, as server/temporal.ts registers them on an external cluster.
    const types: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
    const searchAttributes = Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, types[type] ?? types.Keyword!]));
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    child.kill('SIGKILL');
    await pg.stop();
    throw err;
  } finally {
    await connection?.close();
  }
  log(`test: Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL at ${address}`);
  return {
    address,
    namespace,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await pg.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
