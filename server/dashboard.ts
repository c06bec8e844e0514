// The home dashboard's numbers, read-only aggregates over the run records (server/run-records.ts):
// runs per day by outcome, the steps that fail most with their last error, approvals waiting and
// since when, bulk batches with runs still open, and Microsoft 365 throttling per tenant (429
// answers the steps recorded). Every number names the run-list filter behind it, so each chart
// links to the runs it counts. docs/dashboard.md.
import { RUN_STATUSES, type RunStatus } from '../runbook/definition.ts';
import type { Db } from './db.ts';
import { iso } from './people.ts';

export interface DashboardFilter {
  /** Tenants the caller sees (undefined: every tenant). */
  tenants?: string[];
  days: number;
  /** "Now", for the day buckets (tests and screenshots pin it). */
  now?: Date;
}

export interface Dashboard {
  from: string;
  days: { day: string; counts: Partial<Record<RunStatus, number>>; total: number }[];
  failingSteps: { runbook?: string; runbookName?: string; step: string; action?: string; failures: number; lastError: string; code?: string; lastRun: string; tenant?: string }[];
  approvals: { run: string; runbook?: string; runbookName?: string; tenant?: string; step: string; message?: string; approvers: string[]; since: string; waitingMs: number }[];
  batches: { batch: string; runbook?: string; tenant?: string; runs: number; open: number; statuses: Record<string, number>; startedAt: string }[];
  throttling: { tenant: string; throttled: number; steps: number; lastAt?: string }[];
}

const DAY = 86_400_000;
/** Recognises a throttled answer in a recorded step error (worker/failure.ts names the 429). */
const THROTTLED = `(coalesce(n.value->'error'->>'message', '') ~* '(^|[^0-9])429([^0-9]|$)|throttl' or n.value->'error'->>'code' in ('TooManyRequests', 'ActivityLimitReached', 'throttledRequest'))`;

/** The caller's tenants as a SQL condition ($1 is the tenant list, or null for every tenant). */
const TENANTS = '($1::text[] is null or tenant = any($1::text[]))';

export async function dashboard(db: Db, f: DashboardFilter): Promise<Dashboard> {
  const now = f.now ?? new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (f.days - 1) * DAY);
  const args = [f.tenants ?? null, start.toISOString()];

  const perDay = await db.query(
    `select to_char(started_at at time zone 'UTC', 'YYYY-MM-DD') as day, status, count(*)::int as n
     from run_records where parent_id is null and ${TENANTS} and started_at >= $2::timestamptz group by 1, 2`,
    args,
  );
  const days: Dashboard['days'] = [];
  for (let i = 0; i < f.days; i++) days.push({ day: new Date(start.getTime() + i * DAY).toISOString().slice(0, 10), counts: {}, total: 0 });
  const byDay = new Map(days.map((d) => [d.day, d]));
  for (const r of perDay) {
    const d = byDay.get(r.day);
    if (!d || !(RUN_STATUSES as readonly string[]).includes(r.status)) continue;
    d.counts[r.status as RunStatus] = (d.counts[r.status as RunStatus] ?? 0) + Number(r.n);
    d.total += Number(r.n);
  }

  // Failed steps of top-level runs and loop items alike: a loop's failures are its items' steps.
  const failing = await db.query(
    `with f as (
       select r.runbook, r.runbook_name, r.tenant, r.started_at, n.key as step, n.value->>'action' as action,
              coalesce(n.value->'error'->>'message', 'failed') as message, n.value->'error'->>'code' as code
       from run_records r, jsonb_each(r.record->'nodes') n
       where ${TENANTS.replaceAll('tenant', 'r.tenant')} and r.started_at >= $2::timestamptz and n.value->>'status' = 'failed' and n.value->>'kind' = 'action'
     )
     select runbook, step, count(*)::int as failures, max(started_at) as last_run,
            (array_agg(message order by started_at desc))[1] as last_error, (array_agg(code order by started_at desc))[1] as code,
            (array_agg(action order by started_at desc))[1] as action, (array_agg(runbook_name order by started_at desc))[1] as runbook_name,
            case when count(distinct tenant) = 1 then min(tenant) end as tenant
     from f group by runbook, step order by failures desc, last_run desc limit 8`,
    args,
  );

  const waiting = await db.query(
    `select r.workflow_id, r.runbook, r.runbook_name, r.tenant, n.key as step, n.value->'approval'->>'message' as message,
            coalesce(n.value->'approval'->'pendingApprovers', '[]'::jsonb) as approvers, coalesce(n.value->>'startedAt', r.started_at::text) as since
     from run_records r, jsonb_each(r.record->'nodes') n
     where ${TENANTS.replaceAll('tenant', 'r.tenant')} and r.status = 'waiting-approval' and n.value->>'status' = 'waiting-approval'
     order by since asc limit 50`,
    [f.tenants ?? null],
  );

  const batches = await db.query(
    `select record->'origin'->>'bulk' as batch, min(runbook) as runbook, min(tenant) as tenant, min(started_at) as started_at, status, count(*)::int as n
     from run_records where parent_id is null and ${TENANTS} and record->'origin'->>'bulk' is not null
       and record->'origin'->>'bulk' in (
         select distinct record->'origin'->>'bulk' from run_records
         where parent_id is null and ${TENANTS} and record->'origin'->>'bulk' is not null and (status in ('running', 'waiting-approval', 'paused') or started_at >= $2::timestamptz))
     group by 1, status`,
    args,
  );
  const byBatch = new Map<string, Dashboard['batches'][number]>();
  for (const r of batches) {
    const b: Dashboard['batches'][number] = byBatch.get(r.batch) ?? { batch: r.batch, runbook: r.runbook ?? undefined, tenant: r.tenant ?? undefined, runs: 0, open: 0, statuses: {}, startedAt: iso(r.started_at)! };
    b.statuses[r.status] = (b.statuses[r.status] ?? 0) + Number(r.n);
    b.runs += Number(r.n);
    if (['running', 'waiting-approval', 'paused'].includes(r.status)) b.open += Number(r.n);
    if (iso(r.started_at)! < b.startedAt) b.startedAt = iso(r.started_at)!;
    byBatch.set(r.batch, b);
  }

  const throttled = await db.query(
    `select r.tenant, count(*) filter (where ${THROTTLED})::int as throttled, count(*)::int as steps,
            max(r.started_at) filter (where ${THROTTLED}) as last_at
     from run_records r, jsonb_each(r.record->'nodes') n
     where ${TENANTS.replaceAll('tenant', 'r.tenant')} and r.tenant is not null and r.started_at >= $2::timestamptz and n.value->>'kind' = 'action'
     group by r.tenant order by r.tenant`,
    args,
  );

  return {
    from: start.toISOString(),
    days,
    failingSteps: failing.map((r) => ({
      runbook: r.runbook ?? undefined,
      runbookName: r.runbook_name ?? undefined,
      step: r.step,
      action: r.action ?? undefined,
      failures: Number(r.failures),
      lastError: r.last_error,
      code: r.code ?? undefined,
      lastRun: iso(r.last_run)!,
      tenant: r.tenant ?? undefined,
    })),
    approvals: waiting.map((r) => {
      const since = new Date(r.since);
      return {
        run: r.workflow_id,
        runbook: r.runbook ?? undefined,
        runbookName: r.runbook_name ?? undefined,
        tenant: r.tenant ?? undefined,
        step: r.step,
        message: r.message ?? undefined,
        approvers: (typeof r.approvers === 'string' ? JSON.parse(r.approvers) : r.approvers) as string[],
        since: since.toISOString(),
        waitingMs: Math.max(0, now.getTime() - since.getTime()),
      };
    }),
    batches: [...byBatch.values()].sort((a, b) => b.open - a.open || b.startedAt.localeCompare(a.startedAt)).slice(0, 10),
    throttling: throttled.map((r) => ({ tenant: r.tenant, throttled: Number(r.throttled), steps: Number(r.steps), lastAt: iso(r.last_at) })),
  };
}
