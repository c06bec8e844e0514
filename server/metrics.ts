// The server's Prometheus metrics on GET /metrics: runs started and finished by runbook and status
// (counted from the durable run records, so they survive restarts and agree across servers), the
// Microsoft 365 requests the server itself sends (pickers, notification mail) and its throttle
// gate's rate (m365/metrics.ts). Set TENANTFLOW_METRICS_TOKEN to require `Authorization: Bearer`.
import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { Gauge, Histogram, Registry, serviceMetrics } from '../m365/metrics.ts';
import { OUTCOMES } from '../runbook/definition.ts';
import type { Db } from './db.ts';

/** How long an approval step waited for the decision that counted (observed by the approvals route). */
export const approvalWait = new Histogram({
  name: 'tenantflow_approval_wait_seconds',
  help: 'Time from an approval step starting to a decision on it through the API, by runbook and decision',
  labelNames: ['runbook', 'decision'] as const,
  buckets: [60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400],
  registers: [],
});

export function serverMetrics(db: Db): { registry: Registry; handler: (req: Request, res: Response) => Promise<void> } {
  const registry = new Registry();
  serviceMetrics(registry);
  registry.registerMetric(approvalWait);
  const counts = async () =>
    (await db.query('select runbook, status, count(*) as n from run_records group by runbook, status')) as { runbook: string | null; status: string; n: string | number }[];
  new Gauge({
    name: 'tenantflow_runs_started_total',
    help: 'Runs started, by runbook (from the run records)',
    labelNames: ['runbook'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const by = new Map<string, number>();
      for (const r of await counts()) by.set(r.runbook ?? '', (by.get(r.runbook ?? '') ?? 0) + Number(r.n));
      for (const [runbook, n] of by) this.set({ runbook }, n);
    },
  });
  const finished = new Set<string>(OUTCOMES);
  new Gauge({
    name: 'tenantflow_runs_finished_total',
    help: 'Runs finished, by runbook and outcome (from the run records)',
    labelNames: ['runbook', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await counts()) if (finished.has(r.status)) this.set({ runbook: r.runbook ?? '', status: r.status }, Number(r.n));
    },
  });
  new Gauge({
    name: 'tenantflow_runs_in_progress',
    help: 'Runs not finished yet, by runbook and status (running, waiting-approval, paused)',
    labelNames: ['runbook', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await counts()) if (!finished.has(r.status)) this.set({ runbook: r.runbook ?? '', status: r.status }, Number(r.n));
    },
  });
  const token = process.env.TENANTFLOW_METRICS_TOKEN;
  const handler = async (req: Request, res: Response) => {
    if (token) {
      const given = Buffer.from(req.get('authorization') ?? '');
      const want = Buffer.from(`Bearer ${token}`);
      if (given.length !== want.length || !timingSafeEqual(given, want)) {
        res.status(401).set('www-authenticate', 'Bearer').json({ error: 'metrics need Authorization: Bearer <TENANTFLOW_METRICS_TOKEN>' });
        return;
      }
    }
    res.set('content-type', registry.contentType).send(await registry.metrics());
  };
  return { registry, handler };
}
