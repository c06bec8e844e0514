// One small query interface over two engines with identical SQL: PGlite (PostgreSQL compiled to
// WebAssembly, in process, data under data/db) by default, and PostgreSQL through DATABASE_URL in
// production. Only plain PostgreSQL is used, so a statement that runs on one runs on the other.
// On PostgreSQL an owner role (DATABASE_OWNER_URL) may run the migrations and grant the
// application's role only what it needs: then the application cannot rewrite the audit log.
import { mkdirSync } from 'node:fs';
import { ChangeFeed, CHANGES_CHANNEL, type Listen } from './changes.ts';
import { MIGRATIONS } from './migrations.ts';
import { ident, type Queryable, type Row } from './sql.ts';

export type { Queryable, Row } from './sql.ts';

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  one<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** Runs fn in one transaction; a throw rolls it back. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Which tables changed, heard from every process sharing the database (server/changes.ts). */
  readonly changes: ChangeFeed;
  close(): Promise<void>;
}

export interface DbOptions {
  /** postgres://... ; when absent the embedded database is used. */
  url?: string;
  /**
   * postgres://... of the role that owns the schema: it runs the migrations and grants the role
   * of `url` what the application needs (no UPDATE, DELETE or TRUNCATE of the audit log, no DDL).
   * Without it the application's own role runs the migrations and owns the tables.
   */
  ownerUrl?: string;
  /** Folder of the embedded database; in memory when absent. */
  dir?: string;
  /**
   * Keep who is calling and the runbooks runs start from in memory, dropped when the database
   * says their tables changed (server/changes.ts). Default true; false reads them on every request.
   */
  keepReads?: boolean;
}

export async function openDatabase(opts: DbOptions = {}): Promise<Db> {
  if (opts.url && opts.ownerUrl) {
    const owner = await openPostgres(opts.ownerUrl, 1);
    try {
      await migrate(owner);
      const db = await openPostgres(opts.url, 10, opts.keepReads ?? true);
      const role = (await db.one<{ role: string }>('select current_user as role'))!.role;
      const ownerRole = (await owner.one<{ role: string }>('select current_user as role'))!.role;
      if (role !== ownerRole) await grantApplication(owner, role);
      await db.changes.start();
      return db;
    } finally {
      await owner.close();
    }
  }
  const db = opts.url ? await openPostgres(opts.url, 10, opts.keepReads ?? true) : await openPglite(opts.dir, opts.keepReads ?? true);
  await migrate(db);
  await db.changes.start();
  return db;
}

/**
 * What the application role may do, granted by the owner at every start (so tables added by later
 * migrations are covered): read and write its tables, but only read and append the audit log, and
 * only read the migration history. The claims that a step's change or a run's start was audited
 * are append-only too, but for the entry a step's claim points at (written in the same
 * transaction, right after the entry). Only the owner can drop or disable the audit log's triggers.
 */
export async function grantApplication(owner: Queryable, role: string): Promise<void> {
  const r = ident(role);
  await owner.exec(`
    grant usage on schema public to ${r};
    revoke create on schema public from ${r};
    grant select, insert, update, delete on all tables in schema public to ${r};
    grant usage, select on all sequences in schema public to ${r};
    revoke insert, update, delete, truncate, references, trigger on schema_migrations from ${r};
    revoke update, delete, truncate, references, trigger on audit_log from ${r};
    revoke update, delete, truncate, references, trigger on run_changes_audited from ${r};
    grant update (audit_id) on run_changes_audited to ${r};
    revoke update, delete, truncate, references, trigger on run_start_audited from ${r};
  `);
}

/** How far the database itself protects the audit log from the application (GET /api/audit/verify). */
export async function auditProtection(db: Db): Promise<{ engine: Db['kind']; role?: string; canRewrite: string[]; summary: string }> {
  if (db.kind === 'pglite')
    return {
      engine: 'pglite',
      canRewrite: ['drop or disable the triggers', 'edit the files under data/db'],
      summary: 'embedded database: a trigger refuses UPDATE, DELETE and TRUNCATE of the audit log, but the process owns the database and its files; the hash chain shows any rewrite',
    };
  const row = (await db.one(
    `select current_user as role, r.rolsuper as superuser,
       has_table_privilege(current_user, 'audit_log', 'UPDATE') as can_update,
       has_table_privilege(current_user, 'audit_log', 'DELETE') as can_delete,
       has_table_privilege(current_user, 'audit_log', 'TRUNCATE') as can_truncate,
       pg_has_role(current_user, t.tableowner, 'USAGE') as owns
     from pg_roles r, pg_tables t where r.rolname = current_user and t.tablename = 'audit_log' and t.schemaname = 'public'`,
  ))!;
  const canRewrite: string[] = [];
  if (row.superuser) canRewrite.push('everything (superuser)');
  if (row.owns) canRewrite.push('drop or disable the triggers (owner)');
  for (const [k, what] of [['can_update', 'UPDATE'], ['can_delete', 'DELETE'], ['can_truncate', 'TRUNCATE']] as const) if (row[k]) canRewrite.push(`${what} (blocked by the trigger while it exists)`);
  return {
    engine: 'postgres',
    role: row.role,
    canRewrite,
    summary:
      row.superuser || row.owns
        ? `the application's role ${row.role} owns the audit log: set DATABASE_OWNER_URL to a separate owner role to make it append-only for the application`
        : `the application's role ${row.role} can only read and append the audit log (no UPDATE, DELETE, TRUNCATE, and no way to drop its triggers)`,
  };
}

async function openPglite(dir?: string, keep = true): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dir) mkdirSync(dir, { recursive: true });
  const pg = dir ? new PGlite(dir) : new PGlite();
  await pg.waitReady;
  // PGlite runs one statement at a time; a queue keeps a transaction's statements together.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const query = async <T extends Row>(sql: string, params: unknown[] = []) => ((await pg.query<T>(sql, params)).rows);
  // One process owns the embedded database: its notifications arrive in process.
  const listen: Listen = async (note) => {
    const stop = await pg.listen(CHANGES_CHANNEL, note);
    return { stop, send: async (payload) => void (await db.query('select pg_notify($1, $2)', [CHANGES_CHANNEL, payload])) };
  };
  const changes = new ChangeFeed(keep ? listen : undefined);
  const db: Db = {
    kind: 'pglite',
    changes,
    query: (sql, params) => serial(() => query(sql, params)),
    exec: (sql) => serial(async () => void (await pg.exec(sql))),
    async one(sql, params) {
      return (await db.query(sql, params))[0] as never;
    },
    tx: (fn) =>
      serial(() => pg.transaction(async (t) => fn({
          query: async (sql, params = []) => (await t.query<any>(sql, params)).rows,
          exec: async (sql) => void (await t.exec(sql)),
        }),
      ),
    ),
    close: async () => {
      await changes.close();
      await serial(() => pg.close());
    },
  };
  return db;
}

async function openPostgres(url: string, max = 10, keep = true): Promise<Db> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max });
  // Its own connection LISTENs (a pooled one would be handed to other queries).
  const listen: Listen = async (note, lost) => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', lost);
    client.on('end', () => lost(new Error('the listening connection ended')));
    client.on('notification', (n) => n.channel === CHANGES_CHANNEL && note(n.payload ?? ''));
    await client.connect();
    await client.query(`listen ${CHANGES_CHANNEL}`);
    return {
      async stop() {
        client.removeAllListeners('end');
        await client.end();
      },
      // Through the pool, as the triggers' notifications come: what a pooler would swallow.
      send: async (payload) => void (await pool.query('select pg_notify($1, $2)', [CHANGES_CHANNEL, payload])),
    };
  };
  const changes = new ChangeFeed(keep ? listen : undefined);
  const db: Db = {
    kind: 'postgres',
    changes,
    async query(sql, params = []) {
      return (await pool.query(sql, params as unknown[])).rows;
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async one(sql, params) {
      return (await db.query(sql, params))[0] as never;
    },
    async tx(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async (sql, params = []) => (await client.query(sql, params as unknown[])).rows,
          exec: async (sql) => void (await client.query(sql)),
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: async () => {
      await changes.close();
      await pool.end();
    },
  };
  return db;
}

/** Applies the migrations the database has not seen, in order, each in its own transaction. */
export async function migrate(db: Db): Promise<number[]> {
  // Asked first: the application's role may read the history but not create tables.
  if (!(await db.one(`select to_regclass('schema_migrations') as t`))?.t)
    await db.exec(`create table if not exists schema_migrations (
    version integer primary key, name text not null, applied_at timestamptz not null default now())`);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const did = await db.tx(async (q) => {
      // Two servers starting together on one PostgreSQL must not both apply a migration.
      if (db.kind === 'postgres') await q.query('select pg_advisory_xact_lock(424242)');
      if ((await q.query('select 1 from schema_migrations where version = $1', [m.version])).length) return false;
      await q.exec(m.sql);
      await m.after?.(q);
      await q.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (did) applied.push(m.version);
  }
  return applied;
}

/** JSON for a jsonb parameter (both drivers take text and cast). */
export function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
