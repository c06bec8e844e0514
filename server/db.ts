// One small query interface over two engines with identical SQL: PGlite (PostgreSQL compiled to
// WebAssembly, in process, data under data/db) by default, and PostgreSQL through DATABASE_URL in
// production. Only plain PostgreSQL is used, so a statement that runs on one runs on the other.
import { mkdirSync } from 'node:fs';
import { MIGRATIONS } from './migrations.ts';

export type Row = Record<string, any>;

export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  one<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** Runs fn in one transaction; a throw rolls it back. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** postgres://... ; when absent the embedded database is used. */
  url?: string;
  /** Folder of the embedded database; in memory when absent. */
  dir?: string;
}

export async function openDatabase(opts: DbOptions = {}): Promise<Db> {
  const db = opts.url ? await openPostgres(opts.url) : await openPglite(opts.dir);
  await migrate(db);
  return db;
}

async function openPglite(dir?: string): Promise<Db> {
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
  const db: Db = {
    kind: 'pglite',
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
    close: () => serial(() => pg.close()),
  };
  return db;
}

async function openPostgres(url: string): Promise<Db> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db: Db = {
    kind: 'postgres',
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
    close: () => pool.end(),
  };
  return db;
}

/** Applies the migrations the database has not seen, in order, each in its own transaction. */
export async function migrate(db: Db): Promise<number[]> {
  await db.exec(`create table if not exists schema_migrations (
    version integer primary key, name text not null, applied_at timestamptz not null default now())`);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const did = await db.tx(async (q) => {
      // Two servers starting together on one PostgreSQL must not both apply a migration.
      if (db.kind === 'postgres') await q.query('select pg_advisory_xact_lock(424242)');
      if ((await q.query('select 1 from schema_migrations where version = $1', [m.version])).length) return false;
      await q.exec(m.sql);
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
