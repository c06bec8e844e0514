// Proving what runs did: a run's evidence pack (HTML that prints, or JSON), a bulk batch's
// outcome, the audit log's hash chain (checked by the server, or exported for `tenantflow audit
// verify` to check itself), and how long run records are kept. docs/runs.md.
import { RunAccess } from './access.ts';
import { chainPage, chainedOf } from './audit-chain.ts';
import { auditProtection } from './db.ts';
import { buildEvidence, evidenceHtml, type EvidenceAuditEntry } from './evidence.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { isGlobalAdmin, type Principal } from './people.ts';
import type { RunRecord } from './run-records.ts';
import type { Services } from './services.ts';

/** Item runs listed in a pack, at most. */
const MAX_ITEMS = 1000;

export function evidenceRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);
  const globalAdmin = (p: Principal, what: string) => {
    if (!isGlobalAdmin(p)) throw new HttpError(403, `only admins of every tenant may ${what}`);
  };

  api.route('GET /api/runs/:id/evidence', async ({ req, res, me: p, params, query }) => {
    const rec = await s.records.refresh(params.id!);
    if (!rec || !access.canSeeTenant(p, rec.tenant)) throw new HttpError(404, `run ${params.id} does not exist`);
    const items = (await s.db.query(`select record from run_records where parent_id = $1 order by started_at limit ${MAX_ITEMS}`, [rec.id])).map((r) => r.record as RunRecord);
    const rows = await s.db.query(`select * from audit_log where target = $1 or target like $2 order by id asc limit 10000`, [rec.id, `${rec.id}.%`]);
    const audit: EvidenceAuditEntry[] = rows.map(chainedOf).map((e) => ({ id: e.id, at: e.at, actor: e.actor, action: e.action, target: e.target ?? undefined, detail: e.detail ?? undefined, prevHash: e.prevHash ?? undefined, hash: e.hash ?? undefined }));
    const head = await s.db.one('select id, hash from audit_log order by id desc limit 1');
    const pack = buildEvidence({
      record: rec,
      items,
      audit,
      head: head ? { id: Number(head.id), hash: head.hash } : undefined,
      chain: await s.audit.verify(),
      by: p.user.email,
      temporalUrl: s.runs.webUiLink(rec.id, rec.runId),
    });
    await s.audit.record(originOf(req, p), 'run.evidence', rec.id, { format: query.format, digest: pack.digest }, rec.tenant);
    const name = `evidence-${rec.id}`;
    if (query.format === 'json') {
      res.set('content-disposition', `inline; filename="${name}.json"`);
      return pack;
    }
    res.type('html').set('content-disposition', `inline; filename="${name}.html"`).set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(evidenceHtml(pack));
  });

  api.route('GET /api/audit/verify', async ({ me: p }) => {
    globalAdmin(p, 'check the audit log');
    return { ...(await s.audit.verify()), protection: await auditProtection(s.db) };
  });

  api.route('GET /api/audit/chain', async ({ me: p, query }) => {
    globalAdmin(p, 'export the audit chain');
    const entries = await chainPage(s.db, query.after, query.limit);
    return { entries, next: entries.length === query.limit ? entries.at(-1)!.id : undefined };
  });

  api.route('GET /api/settings/run-retention', async ({ me: p }) => {
    globalAdmin(p, 'read the run retention');
    return { days: (await s.records.retentionDays()) ?? null };
  });

  api.route('PUT /api/settings/run-retention', async ({ req, me: p, body }) => {
    globalAdmin(p, 'change the run retention');
    await s.records.setRetentionDays(body.days ?? undefined, p.user.email);
    await s.audit.record(originOf(req, p), 'settings.runRetention', 'runs', { days: body.days });
    return { days: body.days, purged: await s.records.purge() };
  });
}
