// The audit log's hash chain in the database: every entry names the hash of the entry before it,
// and a unique index on that link lets each entry have one successor only, so appends from any
// number of processes form one chain, and removing, changing, inserting or reordering any entry
// breaks it at that entry. The hashing itself is runbook/fingerprint.ts, which the CLI's
// `tenantflow audit verify` uses to check an export without trusting the server.
import { auditEntryHash, GENESIS_HASH, verifyChain, type ChainCheck, type ChainedEntry } from '../runbook/fingerprint.ts';
import type { Queryable, Row } from './sql.ts';

export interface NewEntry {
  actor: string;
  action: string;
  target?: string;
  tenant?: string;
  detail?: unknown;
  ip?: string;
  userAgent?: string;
}

/** Where the next entry goes: after the entry whose hash is prevHash, with an id from the log's sequence. */
export interface Slot {
  prevHash: string;
  id: number;
}

/**
 * The last entry's hash and a fresh id, in one read. The id comes from the sequence after that
 * entry committed, so it is larger than the entry's own: ids rise along the chain.
 */
export async function readSlot(q: Queryable): Promise<Slot> {
  const head = (await q.query<{ hash: string | null; id: string }>(`select (select hash from audit_log order by id desc limit 1) as hash, nextval(pg_get_serial_sequence('audit_log', 'id')) as id`))[0]!;
  return { prevHash: head.hash ?? GENESIS_HASH, id: Number(head.id) };
}

/**
 * Appends one entry in `slot`, in one statement. The log's unique index on prev_hash lets each
 * entry have one successor only: when another append took this slot's place first (two servers,
 * or a slot this process kept while another wrote), nothing is written and the answer is
 * undefined; the caller reads a fresh slot. On success the answer also carries the slot for the
 * next entry after this one (an id reserved in the same statement).
 */
export async function appendInSlot(q: Queryable, slot: Slot, e: NewEntry): Promise<{ id: number; hash: string; next: Slot } | undefined> {
  const at = new Date().toISOString();
  // Hashed as the database will give it back: JSON, without undefined members.
  const detail = e.detail === undefined ? undefined : (JSON.parse(JSON.stringify(e.detail)) as unknown);
  const hash = auditEntryHash(slot.prevHash, { id: slot.id, at, actor: e.actor, action: e.action, target: e.target, tenant: e.tenant, detail, ip: e.ip, userAgent: e.userAgent });
  const rows = await q.query<{ next: string }>(
    `insert into audit_log (id, at, actor, action, target, tenant, detail, ip, user_agent, prev_hash, hash)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)
     on conflict do nothing
     returning nextval(pg_get_serial_sequence('audit_log', 'id')) as next`,
    [slot.id, at, e.actor, e.action, e.target ?? null, e.tenant ?? null, detail === undefined ? null : JSON.stringify(detail), e.ip ?? null, e.userAgent ?? null, slot.prevHash, hash],
  );
  return rows[0] ? { id: slot.id, hash, next: { prevHash: hash, id: Number(rows[0].next) } } : undefined;
}

/** Tries this many fresh slots before giving up (each one lost only to another append that succeeded). */
const APPEND_TRIES = 50;

async function appendWithRetries(q: Queryable, e: NewEntry, kept?: Slot): Promise<{ id: number; hash: string; next: Slot }> {
  let slot = kept;
  for (let i = 0; i < APPEND_TRIES; i++) {
    const done = await appendInSlot(q, slot ?? (await readSlot(q)), e);
    if (done) return done;
    slot = undefined;
    // Many writers at once: step aside a little longer each time, at random, before the next slot.
    if (i >= 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** i)));
  }
  throw new Error(`the audit log had ${APPEND_TRIES} other entries appended while this one tried to join it`);
}

/** Appends one entry inside the caller's transaction (or on its own when q is the database); returns its id and hash. */
export async function appendEntry(q: Queryable, e: NewEntry): Promise<{ id: number; hash: string }> {
  const { id, hash } = await appendWithRetries(q, e);
  return { id, hash };
}

/**
 * Appends on their own (each entry its own transaction) from one process, one at a time: they
 * would only race each other for the same slot. The slot after this process's last entry is
 * kept, so an append is one statement while no other process wrote since.
 */
export class ChainAppender {
  private slot?: Slot;
  private queue: Promise<unknown> = Promise.resolve();

  append(q: Queryable, e: NewEntry): Promise<{ id: number; hash: string }> {
    const turn = this.queue.then(async () => {
      const kept = this.slot;
      this.slot = undefined;
      const done = await appendWithRetries(q, e, kept);
      this.slot = done.next;
      return { id: done.id, hash: done.hash };
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }
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
