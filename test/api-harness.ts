// The control plane for tests: the real server (createApp) on a free port, over the test
// Temporal dev server and sandbox of startTestEnv, with its own database: embedded (PGlite, in
// memory) or PostgreSQL (DATABASE_URL, or a throwaway cluster from Debian's binaries). People
// are real accounts with API tokens; nothing is trusted from headers.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApi } from '../server/app.ts';
import { seedRunbooks } from '../server/bootstrap.ts';
import { secretBox, type SecretBox } from '../m365/secret-box.ts';
import { openDatabase, type Db } from '../server/db.ts';
import { ChangeFeed } from '../server/changes.ts';
import { MIGRATIONS } from '../server/migrations.ts';
import { startBatchWorker } from '../server/batch-worker.ts';
import { NativeConnection } from '@temporalio/worker';
import type { Role, Scope } from '../server/people.ts';
import type { Services } from '../server/services.ts';
import { freePort } from '../scripts/temporal.ts';
import type { TestEnv } from './harness.ts';

export interface GrantSpec {
  tenant: string;
  role: Role;
  scope?: Scope;
}

export interface Caller {
  email: string;
  token: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

export interface ApiServer {
  base: string;
  /** The Express app (a test may serve it over HTTPS too, e.g. for Graph change notifications). */
  app: import('express').Express;
  /** The graph and date triggers' watcher (tests call tick() with their own clock). */
  triggers: import('../server/triggers-m365.ts').TriggerWatcher;
  db: Db;
  services: Services;
  /** An account with these grants and an API token (created once per email). */
  as(email: string, grants?: GrantSpec[], groups?: string[]): Promise<Caller>;
  admin: Caller;
  close(): Promise<void>;
}

export type DbKind = 'pglite' | 'postgres';

export async function startApiServer(
  env: TestEnv,
  opts: {
    db?: DbKind;
    pollMs?: number;
    roles?: Record<string, GrantSpec[]>;
    /** Embedded database folder (kept across servers). */
    dataDir?: string;
    /** Where Microsoft reaches the server (Graph triggers subscribe when it is https). */
    publicUrl?: string;
    /** The clock of date triggers and trigger schedules. */
    triggerClock?: () => number;
    /** The key that seals run secrets: the same the worker opens them with (startTestEnv's `secrets`). */
    secretBox?: ReturnType<typeof secretBox>;
    /** The workers' /metrics URLs (the dashboard's live throttle gates). */
    workerMetrics?: string[];
    /** Check every answer against its contract schema (tests: yes; benches measure production, which does not). */
    checkResponses?: boolean;
  } = {},
): Promise<ApiServer> {
  const pg = opts.db === 'postgres' ? await postgresForTests() : undefined;
  // As in production: an owner role migrates, the application's own role has only what it needs.
  const roles = pg ? await splitRoles(pg.url).catch(() => undefined) : undefined;
  const db = await openDatabase({ url: roles?.appUrl ?? pg?.url, ownerUrl: roles?.ownerUrl, dir: opts.dataDir });
  const { app, services, triggers } = buildApi({
    db,
    runs: env.runs,
    secretBox: opts.secretBox ?? secretBox(randomBytes(32)),
    defaultTenant: 'sandbox',
    builtinTenants: [env.tenant],
    pollMs: opts.pollMs ?? 200,
    checkResponses: opts.checkResponses ?? true,
    workerMetrics: opts.workerMetrics,
    publicUrl: opts.publicUrl,
    triggerClock: opts.triggerClock,
  });
  await seedRunbooks(services, fileURLToPath(new URL('../server/examples', import.meta.url)));
  services.records.start(opts.pollMs ?? 200);
  // The control plane's batch activities, as server/main.ts runs them.
  const native = await NativeConnection.connect({ address: env.address });
  const batchWorker = await startBatchWorker(services, { connection: native, namespace: env.namespace, client: env.client });
  const server = app.listen(0, '127.0.0.1');
  // The test's fetch and this server share one event loop: when it stalls for over a second (the
  // embedded database runs on it), the server's 5 s idle timeout and fetch's 4 s one (the server's
  // hint minus 1 s) both expire and the server may close a socket fetch is about to reuse
  // (ECONNRESET). Without a server-side idle timeout only the client ends idle connections.
  server.keepAliveTimeout = 0;
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const callerFor = (email: string, token: string): Caller => ({
    email,
    token,
    async call(method, path, body, headers = {}) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON (CSV, event streams)
      }
      return { status: res.status, body: parsed as any, headers: res.headers };
    },
  });
  const callers = new Map<string, Caller>();
  const as = async (email: string, grants?: GrantSpec[], groups: string[] = []): Promise<Caller> => {
    const hit = callers.get(email);
    if (hit) return hit;
    // An account kept from an earlier server on the same database gets a new token.
    const user = (await services.people.byEmail(email)) ?? (await services.people.create({ email, name: email.split('@')[0], groups }));
    const have = await services.people.grants(user.id);
    for (const g of grants ?? opts.roles?.[email] ?? []) if (!have.some((h) => h.tenant === g.tenant && h.role === g.role)) await services.people.grant(user.id, g.tenant, g.role, g.scope);
    const { token } = await services.people.createToken(user.id, 'test');
    const caller = callerFor(email, token);
    callers.set(email, caller);
    return caller;
  };
  const admin = await as('admin@tenantflow.test', [{ tenant: '*', role: 'admin' }]);
  return {
    base,
    app,
    triggers,
    db,
    services,
    as,
    admin,
    async close() {
      await services.records.stop();
      await batchWorker.stop();
      await native.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await db.close();
      await roles?.stop();
      await pg?.stop();
    },
  };
}

/**
 * The API server behind a TLS listener on 127.0.0.1 with the sandbox's certificate (which this
 * process trusts), its public URL that listener's: Graph calls notification URLs over HTTPS only.
 */
export async function startApiServerOverHttps(
  env: TestEnv,
  opts: Omit<NonNullable<Parameters<typeof startApiServer>[1]>, 'publicUrl'> = {},
): Promise<{ server: ApiServer; httpsBase: string; close(): Promise<void> }> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.writeHead(503).end();
  const https = createHttpsServer({ cert: env.sandbox.serverTls.certPem, key: env.sandbox.serverTls.keyPem }, (q, r) => handler(q, r));
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
  const httpsBase = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  const server = await startApiServer(env, { ...opts, publicUrl: httpsBase });
  handler = server.app as unknown as typeof handler;
  return {
    server,
    httpsBase,
    async close() {
      https.closeAllConnections();
      await new Promise((r) => https.close(r));
      await server.close();
    },
  };
}

/** Publishes a one-step runbook `id` that reads a user of the sandbox, runs it as admin and waits until it succeeded. */
export async function runOneUserRead(api: ApiServer, env: TestEnv, id: string): Promise<void> {
  const upn = ((await env.graph.api('/users').select('userPrincipalName').top(1).get()) as { value: { userPrincipalName: string }[] }).value[0]!.userPrincipalName;
  const definition = { name: 'Read a user', nodes: [{ id: 'read', kind: 'action', action: 'user.get', params: { user: upn } }], edges: [] };
  assert.equal((await api.admin.call('POST', '/api/runbooks', { id, definition })).status, 201);
  assert.equal((await api.admin.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
  const started = await api.admin.call('POST', '/api/runs', { runbookId: id, inputs: {} });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  await pollApi(api.admin, `/api/runs/${started.body.id}`, (r) => r.status === 'succeeded');
}

/** Polls the API until until(body) holds. */
export async function pollApi(caller: Caller, path: string, until: (body: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const r = await caller.call('GET', path);
    last = r.body;
    if (r.status === 200 && until(r.body)) return r.body;
    if (Date.now() > deadline) throw new Error(`timed out polling ${path}; last:\n${JSON.stringify(last, null, 2)}`);
    await new Promise((res) => setTimeout(res, 150));
  }
}

/**
 * An embedded database as an older Tenantflow left it: the migrations below `version` applied,
 * for a test to fill before it runs the rest. `pg` is the database itself; `db` the handle the
 * stores take (statements as they come, nothing kept in memory).
 */
export async function databaseBefore(version: number): Promise<{ pg: import('@electric-sql/pglite').PGlite; db: Db }> {
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = new PGlite();
  await pg.exec('create table schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())');
  for (const m of MIGRATIONS.filter((m) => m.version < version)) {
    await pg.exec(m.sql);
    await pg.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
  }
  const db: Db = {
    kind: 'pglite',
    changes: new ChangeFeed(),
    query: async (sql, params) => (await pg.query<never>(sql, params)).rows,
    exec: async (sql) => void (await pg.exec(sql)),
    one: async (sql, params) => (await pg.query<never>(sql, params)).rows[0],
    tx: (fn) => pg.transaction((t) => fn({ query: async (sql, params) => (await t.query<never>(sql, params)).rows, exec: async (sql) => void (await t.exec(sql)) })),
    close: () => pg.close(),
  };
  return { pg, db };
}

// ---- PostgreSQL for tests ----

/**
 * Two roles on the test server, as docs/runs.md asks of production: an owner that runs the
 * migrations and owns a fresh database, and the application's role that only gets grants.
 */
export async function splitRoles(url: string): Promise<{ ownerUrl: string; appUrl: string; stop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const tag = randomBytes(4).toString('hex');
  const [owner, app, dbName] = [`tf_owner_${tag}`, `tf_app_${tag}`, `tf_roles_${tag}`];
  const password = randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create role ${owner} login password '${password}'`);
    await admin.query(`create role ${app} login password '${password}'`);
    await admin.query(`create database ${dbName} owner ${owner}`);
  } finally {
    await admin.end();
  }
  const as = (user: string) => {
    const u = new URL(url);
    u.username = user;
    u.password = password;
    u.pathname = `/${dbName}`;
    return u.toString();
  };
  return {
    ownerUrl: as(owner),
    appUrl: as(app),
    async stop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      // Closed pools' sessions end a moment after their sockets: forcing them would error in the client.
      for (let i = 0; i < 50 && Number((await c.query('select count(*) as n from pg_stat_activity where datname = $1', [dbName])).rows[0].n) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      await c.query(`drop database if exists ${dbName} with (force)`);
      await c.query(`drop role if exists ${app}`);
      await c.query(`drop role if exists ${owner}`);
      await c.end();
    },
  };
}

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  return undefined;
}

export function postgresAvailable(): boolean {
  return Boolean(process.env.DATABASE_URL) || postgresBin() !== undefined;
}

/** The `skip` option of a suite that needs PostgreSQL: false when the machine has it, else why not. */
export function needsPostgres(): false | string {
  return postgresAvailable() ? false : 'PostgreSQL is not installed (apt-get install postgresql) and DATABASE_URL is not set';
}

/**
 * The control plane's database for a benchmark: PostgreSQL (in its own process) when this machine
 * has one, as production runs it; BENCH_DB=pglite measures the embedded database (same process).
 */
export function benchDatabase(): 'postgres' | 'pglite' {
  return process.env.BENCH_DB === 'pglite' || !postgresAvailable() ? 'pglite' : 'postgres';
}

/**
 * A database for one test file: a fresh database on DATABASE_URL's server, or a throwaway
 * cluster (initdb as the postgres user when running as root) on a free port.
 */
export async function postgresForTests(): Promise<{ url: string; stop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = `tf_test_${randomBytes(4).toString('hex')}`;
  if (process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async stop() {
        const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await c.connect();
        await c.query(`drop database if exists ${name} with (force)`);
        await c.end();
      },
    };
  }
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql) and DATABASE_URL is not set');
  const dir = mkdtempSync(join(tmpdir(), 'tenantflow-pg-'));
  chmodSync(dir, 0o777);
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => (asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' }));
  const data = join(dir, 'data');
  run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'tenantflow', '--no-sync']);
  const port = await freePort();
  const proc = spawn(asRoot ? 'runuser' : join(bin, 'postgres'), [...(asRoot ? ['-u', 'postgres', '--', join(bin, 'postgres')] : []), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], { stdio: 'ignore' });
  const url = `postgres://tenantflow@127.0.0.1:${port}/postgres`;
  for (let i = 0; ; i++) {
    try {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    async stop() {
      // runuser does not pass signals on: stop the cluster through pg_ctl.
      run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-s']);
      await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
