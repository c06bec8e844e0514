// The append-only audit log: every change and every decision, with who, what, when and from
// where. The database refuses updates and deletes of its rows (a trigger), so history cannot be
// rewritten through the application.
import type { Db } from './db.ts';
import { json } from './db.ts';
import { iso } from './people.ts';

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
  constructor(db: Db) {
    this.db = db;
  }

  async record(origin: AuditOrigin, action: string, target?: string, detail?: unknown, tenant?: string): Promise<void> {
    await this.db.query('insert into audit_log (actor, action, target, tenant, detail, ip, user_agent) values ($1, $2, $3, $4, $5::jsonb, $6, $7)', [
      origin.actor,
      action,
      target ?? null,
      tenant ?? null,
      json(detail),
      origin.ip ?? null,
      origin.userAgent ?? null,
    ]);
  }

  async search(f: AuditQuery): Promise<AuditEntry[]> {
    const rows = await this.db.query(
      `select * from audit_log where
         ($1::text is null or actor = $1) and
         ($2::text is null or action = $2 or action like $2 || '.%') and
         ($3::text is null or target = $3) and
         ($4::text is null or tenant = $4) and
         ($5::text is null or position(lower($5) in lower(actor || ' ' || action || ' ' || coalesce(target, '') || ' ' || coalesce(detail::text, ''))) > 0) and
         ($6::timestamptz is null or at >= $6) and
         ($7::timestamptz is null or at < $7) and
         ($8::bigint is null or id < $8)
       order by id desc limit $9`,
      [f.actor ?? null, f.action ?? null, f.target ?? null, f.tenant ?? null, f.q ?? null, f.from ?? null, f.to ?? null, f.before ?? null, Math.min(f.limit ?? 100, 10_000)],
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
    }));
  }
}

export function auditCsv(entries: AuditEntry[]): string {
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${(/^[=+\-@]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"` : s;
  };
  const header = ['id', 'at', 'actor', 'action', 'target', 'tenant', 'ip', 'userAgent', 'detail'];
  return [header.join(','), ...entries.map((e) => [e.id, e.at, e.actor, e.action, e.target, e.tenant, e.ip, e.userAgent, e.detail].map(cell).join(','))].join('\r\n') + '\r\n';
}
