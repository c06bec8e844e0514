// Bulk batches (the rows of one CSV, server/batches.ts): the batch with its rows by status, its
// rows paged and filtered (or the whole per-row report as CSV), a live stream of its progress, and
// "retry failed rows". Starting one is POST /api/runs/bulk (routes-runs.ts).
import { RunAccess } from './access.ts';
import { batchWorkflowId, rowView, startBatchWorkflow, type BatchRecord, type RowStatus } from './batches.ts';
import { HttpError, originOf, type Api } from './http.ts';
import type { Principal } from './people.ts';
import type { Services } from './services.ts';
import { stream } from './sse.ts';

/** One CSV cell: quoted when it holds a separator, a quote or a line break; a leading =+-@ is neutralised for spreadsheets. */
export function csvCell(v: unknown): string {
  let t = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(t)) t = `'${t}`;
  return /[",\r\n;]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export function batchRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);

  const visible = async (p: Principal, id: string): Promise<BatchRecord> => {
    const b = await s.batches.get(id);
    if (!b || !access.canSeeTenant(p, b.tenant)) throw new HttpError(404, `batch ${id} does not exist`);
    return b;
  };

  const view = async (b: BatchRecord) => {
    const counts = await s.batches.counts(b.id);
    const statuses = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
    return {
      batch: b.id,
      tenant: b.tenant,
      runbook: b.runbook,
      version: b.version,
      startedBy: b.startedBy,
      rows: b.total,
      round: b.round,
      counts,
      runs: counts.running + counts.succeeded + counts['succeeded-with-warnings'] + counts.failed,
      statuses,
      status: b.status,
      createdAt: b.createdAt,
      endedAt: b.endedAt,
      runsUrl: `/api/runs?batch=${encodeURIComponent(b.id)}&pageSize=200`,
      rowsUrl: `/api/batches/${encodeURIComponent(b.id)}/rows`,
    };
  };

  api.route('GET /api/batches/:id', async ({ me: p, params }) => {
    const b = await s.batches.get(params.id!);
    if (b) return view(await visible(p, b.id));
    // Batches started before batches were stored: from the run records.
    await s.records.fresh(s.deps.pollMs ?? 1000);
    const old = await s.records.batch(params.id!);
    if (!old || !access.canSeeTenant(p, old.tenant)) throw new HttpError(404, `batch ${params.id} does not exist`);
    return { ...old, runsUrl: `/api/runs?batch=${encodeURIComponent(old.batch)}&pageSize=200` };
  });

  api.route('GET /api/batches/:id/rows', async ({ res, me: p, params, query }) => {
    const b = await visible(p, params.id!);
    const status = query.status?.split(',') as RowStatus[] | undefined;
    if (query.format !== 'csv') {
      const page = await s.batches.rows(b.id, { status, after: query.after, size: query.pageSize });
      return { rows: page.rows.map((r) => rowView(b, r)), ...(page.next !== undefined ? { next: page.next } : {}) };
    }
    // The whole report, a page at a time, so 100,000 rows never sit in memory at once.
    const names = b.definition.inputs.map((i) => i.name);
    res.status(200).type('text/csv').set('content-disposition', `attachment; filename="${b.id}.csv"`);
    res.write(`${['line', 'status', 'error', 'runId', 'attempt', ...names].map(csvCell).join(',')}\r\n`);
    let after: number | undefined = query.after;
    for (;;) {
      const page = await s.batches.rows(b.id, { status, after, size: 1000 });
      let chunk = '';
      for (const r of page.rows.map((x) => rowView(b, x))) {
        const inputs = (r.inputs ?? {}) as Record<string, unknown>;
        chunk += `${[r.line, r.status, r.error ?? '', r.runId ?? '', r.attempt, ...names.map((n) => inputs[n])].map(csvCell).join(',')}\r\n`;
      }
      res.write(chunk);
      if (page.next === undefined) break;
      after = page.next;
    }
    res.end();
  });

  api.route('GET /api/batches/:id/events', async ({ req, res, me: p, params }) => {
    const b = await visible(p, params.id!);
    let last = '';
    await stream(req, res, s.deps.pollMs ?? 1000, async (send) => {
      const now = await s.batches.get(b.id);
      if (!now) return false;
      const v = await view(now);
      const key = JSON.stringify([v.status, v.counts, v.round]);
      if (key !== last) {
        last = key;
        send('batch', v);
      }
      if (v.status !== 'running') {
        send('end', { batch: b.id, status: v.status });
        return false;
      }
      return true;
    });
  });

  api.route('POST /api/batches/:id/retry', async ({ req, res, me: p, params }) => {
    const b = await visible(p, params.id!);
    if (!access.canOperate(p, b.tenant, b.startedBy)) throw new HttpError(403, `only operators of tenant ${b.tenant} may retry this batch`);
    // Retrying starts runs: the same rights as starting the batch.
    const rb = await s.runbooks.get(b.runbook);
    access.mayStart(p, { definition: b.definition, runbookId: b.runbook, version: b.version, customAction: rb?.customAction ?? false, placement: rb && { tenant: rb.tenant, sharedWith: rb.sharedWith } }, b.tenant, b.test);
    if (b.status === 'running') throw new HttpError(409, `batch ${b.id} is still running: retry its failed rows once it has ended`);
    const counts = await s.batches.counts(b.id);
    if (!counts.failed) throw new HttpError(409, `batch ${b.id} has no failed row to retry`);
    const { round, rows } = await s.batches.retryFailed(b.id);
    await s.audit.record(originOf(req, p), 'run.bulk.retry', b.id, { round, rows, workflow: batchWorkflowId(b.id, round) }, b.tenant);
    await startBatchWorkflow(s.runs.client, s.runs.taskQueue, { id: b.id, round }).catch((err) => console.warn(`batch ${b.id}: round ${round} starts later (${(err as Error).message})`));
    res.status(202);
    return { batch: b.id, round, retried: rows };
  });
}
