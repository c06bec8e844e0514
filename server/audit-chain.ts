// The audit log's hash chain in the database: every entry is appended under one lock, naming the
// hash of the entry before it, so removing, changing, inserting or reordering any entry breaks
// the chain at that entry. The hashing itself is runbook/fingerprint.ts, which the CLI's
// `tenantflow audit verify` uses to check an export without trusting the server.
import { auditEntryHash, GENESIS_HASH, verifyChain, type ChainCheck, type ChainedEntry } from '../runbook/fingerprint.ts';
import type { Queryable, Row } from './sql.ts';

/** Serialises appends across servers sharing one PostgreSQL (PGlite runs one statement at a time anyway). */
const CHAIN_LOCK = 4242_0001;

export interface NewEntry {
  actor: string;
  action: string;
  target?: string;
  tenant?: string;
  detail?: unknown;
  ip?: string;
  userAgent?: string;
}

/** Appends one entry inside the caller's transaction; returns its id and hash. */
export async function appendEntry(q: Queryable, postgres: boolean, e: NewEntry): Promise<{ id: number; hash: string }> {
  if (postgres) await q.query('select pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
  // The last entry's hash and the new entry's id in one read.
  const head = (await q.query<{ hash: string | null; id: string }>(`select (select hash from audit_log order by id desc limit 1) as hash, nextval(pg_get_serial_sequence('audit_log', 'id')) as id`))[0]!;
  const prevHash = head.hash ?? GENESIS_HASH;
  const id = Number(head.id);
  const at = new Date().toISOString();
  // Hashed as the database will give it back: JSON, without undefined members.
  const detail = e.detail === undefined ? undefined : (JSON.parse(JSON.stringify(e.detail)) as unknown);
  const hash = auditEntryHash(prevHash, { id, at, actor: e.actor, action: e.action, target: e.target, tenant: e.tenant, detail, ip: e.ip, userAgent: e.userAgent });
  await q.query(
    `insert into audit_log (id, at, actor, action, target, tenant, detail, ip, user_agent, prev_hash, hash)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)`,
    [id, at, e.actor, e.action, e.target ?? null, e.tenant ?? null, detail === undefined ? null : JSON.stringify(detail), e.ip ?? null, e.userAgent ?? null, prevHash, hash],
  );
  return { id, hash };
}

export function chainedOf(r: Row): ChainedEntry {
  return {
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    target: r.target,
    tenant: r.tenant,
    detail: r.detail,
    ip: r.ip,
    userAgent: r.user_agent,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Entries after `afterId`, oldest first, with their links. */
export async function chainPage(q: Queryable, afterId: number, limit: number): Promise<ChainedEntry[]> {
  const rows = await q.query('select * from audit_log where id > $1 order by id asc limit $2', [afterId, limit]);
  return rows.map(chainedOf);
}

/** Walks the whole chain in pages; names the first broken link. */
export async function verifyAuditChain(q: Queryable, pageSize = 2000): Promise<ChainCheck> {
  let prev = GENESIS_HASH;
  let after = 0;
  let counted = 0;
  let first: number | undefined;
  for (;;) {
    const page = await chainPage(q, after, pageSize);
    if (!page.length) return { ok: true, entries: counted, head: prev, firstId: first, lastId: after || undefined };
    const check = verifyChain(page, prev, counted);
    if (!check.ok) return check;
    first ??= check.firstId;
    prev = check.head;
    counted = check.entries;
    after = check.lastId!;
  }
}

/**
 * Entries written before the chain existed (no hash yet) join it in id order. Runs once, in the
 * migration that adds the chain, as the owner: the append-only trigger is off only inside it.
 */
export async function sealUnchainedEntries(q: Queryable): Promise<void> {
  const rows = await q.query('select * from audit_log where hash is null order by id asc');
  if (!rows.length) return;
  const before = (await q.query<{ hash: string }>('select hash from audit_log where hash is not null and id < $1 order by id desc limit 1', [rows[0]!.id]))[0];
  let prev = before?.hash ?? GENESIS_HASH;
  await q.exec('alter table audit_log disable trigger audit_log_append_only');
  for (const r of rows) {
    const hash = auditEntryHash(prev, chainedOf(r));
    await q.query('update audit_log set prev_hash = $1, hash = $2 where id = $3', [prev, hash, r.id]);
    prev = hash;
  }
  await q.exec('alter table audit_log enable trigger audit_log_append_only');
}
