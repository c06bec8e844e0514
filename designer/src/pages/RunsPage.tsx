// The task board: every run with status, progress, requester, runbook and tenant; filters; live.
import { useEffect, useMemo, useState } from 'react';
import { RUN_STATUSES } from '../../../runbook/definition.ts';
import { client, type RunSummary } from '../api.ts';
import { upsertRun, useEventStream } from '../live.ts';
import { listRuns } from '../repo.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { ago, Empty, ErrorBanner, PageHeader, Spinner, StatusBadge, useAsync } from '../ui/kit.tsx';

export function RunsPage() {
  const { query } = useLocation();
  const [status, setStatus] = useState(query.get('status') ?? '');
  const [search, setSearch] = useState('');
  const [list, setList] = useState<RunSummary[]>();
  const mode = useEventStream(client.url('GET /api/runs/events'), ['run'], (_e, data) => setList((l) => upsertRun(l ?? [], data as RunSummary)));
  const runs = useAsync(() => listRuns({ status: status || undefined }), [status], mode === 'live' ? undefined : 3000);
  useEffect(() => setList(runs.data), [runs.data]);
  const rows = useMemo(() => {
    const s = search.trim().toLowerCase();
    return (list ?? [])
      .filter((r) => !status || r.status === status)
      .filter((r) => !s || [r.id, r.runbook, r.runbookName, r.startedBy, r.tenant].some((x) => x?.toLowerCase().includes(s)));
  }, [list, search, status]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const r of list ?? []) c[r.status] = (c[r.status] ?? 0) + 1;
    return c;
  }, [list]);

  return (
    <div className="page" data-page="runs" data-live={mode}>
      <PageHeader
        title="Runs"
        subtitle={mode === 'live' ? 'Every run, updated live.' : 'Every run, checked every 3 seconds.'}
      />
      <div className="toolbar">
        <div className="chips" role="group" aria-label="Filter by status">
          <button className={!status ? 'chip active' : 'chip'} onClick={() => setStatus('')}>
            All
          </button>
          {RUN_STATUSES.map((s) => (
            <button key={s} className={status === s ? 'chip active' : 'chip'} onClick={() => setStatus(status === s ? '' : s)}>
              <StatusBadge status={s} /> {counts[s] ?? 0}
            </button>
          ))}
        </div>
        <input type="search" className="search" placeholder="Search runbook, requester, tenant" value={search} onChange={(e) => setSearch(e.target.value)} aria-label="Search runs" />
      </div>
      <ErrorBanner error={runs.error} onRetry={runs.reload} />
      {!runs.data ? (
        <Spinner />
      ) : rows.length === 0 ? (
        <Empty title={status || search ? 'No run matches' : 'No runs yet'} action={<Link className="btn btn-primary" to="/">Run a runbook</Link>}>
          Runs appear here as soon as they start.
        </Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Runbook</th>
              <th>Status</th>
              <th>Progress</th>
              <th>Requested by</th>
              <th>Tenant</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} className="clickable" onClick={() => navigate(`/runs/${encodeURIComponent(r.id)}`)} data-run={r.id}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.id)}`} className="strong" onClick={(e) => e.stopPropagation()}>
                    {r.runbookName ?? r.runbook ?? r.id}
                  </Link>
                  {r.version !== undefined && <span className="muted small"> v{r.version}</span>}
                </td>
                <td>
                  <StatusBadge status={r.status} />
                  {(r.warnings ?? 0) > 0 && <span className="muted small"> {r.warnings} warning{r.warnings === 1 ? '' : 's'}</span>}
                </td>
                <td>
                  {r.progress ? (
                    <div className="progress" title={`${r.progress.done} of ${r.progress.total} steps`}>
                      <span style={{ width: `${(r.progress.done / Math.max(1, r.progress.total)) * 100}%` }} />
                    </div>
                  ) : (
                    '—'
                  )}
                </td>
                <td>{r.startedBy ?? '—'}</td>
                <td>{r.tenant ?? '—'}</td>
                <td className="muted">{ago(r.startedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
