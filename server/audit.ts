// The append-only audit log: every change and every decision, with who, what, when and from
// where. The database refuses updates, deletes and truncation (triggers; on PostgreSQL with an
// owner role, privileges too), and each entry carries the hash of the one before it, so a
// rewrite shows (server/audit-chain.ts).
import { appendEntry, ChainAppender, verifyAuditChain } from './audit-chain.ts';
import type { Db } from './db.ts';
import { iso } from './people.ts';
import type { Queryable } from './sql.ts';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target?: string;
  tenant?: string;
  detail?: unknown;
  ip?: string;
  userAgent?: string;
  /** The hash chain: the previous entry's hash, and this entry's. */
  prevHash?: string;
  hash?: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  tenant?: string;
  /** Free text matched against actor, action, target and detail. */
  q?: string;
  from?: string;
  to?: string;
  limit?: number;
  /** Entries with an id below this (paging backwards in time). */
  before?: number;
}

export interface AuditOrigin {
  actor: string;
  ip?: string;
  userAgent?: string;
}

export class Audit {
  readonly db: Db;
  private readonly appender = new ChainAppender();
  constructor(db: Db) {
    this.db = db;
  }

  /** Appends one entry on its own: one statement while no other process appended since this one's last. */
  async record(origin: AuditOrigin, action: string, target?: string, detail?: unknown, tenant?: string): Promise<void> {
    await this.appender.append(this.db, { actor: origin.actor, action, target, tenant, detail, ip: origin.ip, userAgent: origin.userAgent });
  }

  /** Appends inside the caller's transaction (the entry commits with what it records). */
  recordIn(q: Queryable, origin: AuditOrigin, action: string, target?: string, detail?: unknown, tenant?: string): Promise<{ id: number; hash: string }> {
    return appendEntry(q, { actor: origin.actor, action, target, tenant, detail, ip: origin.ip, userAgent: origin.userAgent });
  }

  verify() {
    return verifyAuditChain(this.db);
  }

  /** Newest first; `tenants` limits the entries to those tenants in the query itself, so the row limit counts only what the caller may see. */
  async search(f: AuditQuery, tenants?: readonly string[]): Promise<AuditEntry[]> {
    const rows = await this.db.query(
      `select * from audit_log where
         ($1::text is null or actor = $1) and
         ($2::text is null or action = $2 or action like $2 || '.%') and
         ($3::text is null or target = $3) and
         ($4::text is null or tenant = $4) and
         ($5::text is null or position(lower($5) in lower(actor || ' ' || action || ' ' || coalesce(target, '') || ' ' || coalesce(detail::text, ''))) > 0) and
         ($6::timestamptz is null or at >= $6) and
         ($7::timestamptz is null or at < $7) and
         ($8::bigint is null or id < $8) and
         ($10::jsonb is null or tenant in (select jsonb_array_elements_text($10::jsonb)))
       order by id desc limit $9`,
      [f.actor ?? null, f.action ?? null, f.target ?? null, f.tenant ?? null, f.q ?? null, f.from ?? null, f.to ?? null, f.before ?? null, Math.min(f.limit ?? 100, 10_000), tenants ? JSON.stringify(tenants) : null],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      at: iso(r.at)!,
      actor: r.actor,
      action: r.action,
      target: r.target ?? undefined,
      tenant: r.tenant ?? undefined,
      detail: r.detail ?? undefined,
      ip: r.ip ?? undefined,
      userAgent: r.user_agent ?? undefined,
      prevHash: r.prev_hash ?? undefined,
      hash: r.hash ?? undefined,
    }));
  }
}

export function auditCsv(entries: AuditEntry[]): string {
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${(/^[=+\-@]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"` : s;
  };
  const header = ['id', 'at', 'actor', 'action', 'target', 'tenant', 'ip', 'userAgent', 'detail', 'prevHash', 'hash'];
  return [header.join(','), ...entries.map((e) => [e.id, e.at, e.actor, e.action, e.target, e.tenant, e.ip, e.userAgent, e.detail, e.prevHash, e.hash].map(cell).join(','))].join('\r\n') + '\r\n';
}
