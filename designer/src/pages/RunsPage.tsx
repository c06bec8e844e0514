// The task board: every run with status, progress, requester, runbook and tenant; filters; live.
import { useEffect, useMemo, useState } from 'react';
import { RUN_STATUSES } from '../../../runbook/definition.ts';
import { client, type RunSummary } from '../api.ts';
import { upsertRun, useEventStream } from '../live.ts';
import { listRuns } from '../repo.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { ago, Empty, ErrorBanner, PageHeader, Spinner, StatusBadge, useAsync } from '../ui/kit.tsx';

/** Filters a link can set (the dashboard's charts link here): ?status=a,b&tenant=&runbook=&from=&to=&batch= */
const LINK_FILTERS = ['tenant', 'runbook', 'from', 'to', 'batch'] as const;

export function RunsPage() {
  const { query } = useLocation();
  const [status, setStatus] = useState(query.get('status') ?? '');
  const [search, setSearch] = useState('');
  const [list, setList] = useState<RunSummary[]>();
  const linked = useMemo(() => Object.fromEntries(LINK_FILTERS.map((k) => [k, query.get(k) ?? undefined]).filter(([, v]) => v)) as Partial<Record<(typeof LINK_FILTERS)[number], string>>, [query.toString()]);
  const streamUrl = client.url('GET /api/runs/events') + (linked.tenant || linked.runbook || linked.from ? `?${new URLSearchParams(Object.entries({ tenant: linked.tenant, runbook: linked.runbook, from: linked.from }).filter(([, v]) => v) as [string, string][])}` : '');
  const mode = useEventStream(streamUrl, ['run'], (_e, data) => setList((l) => upsertRun(l ?? [], data as RunSummary)));
  const runs = useAsync(() => listRuns({ status: status || undefined, ...linked }), [status, linked], mode === 'live' ? undefined : 3000);
  const loaded = useMemo(() => new Set((runs.data ?? []).map((r) => r.id)), [runs.data]);
  useEffect(() => setList(runs.data), [runs.data]);
  const rows = useMemo(() => {
    const s = search.trim().toLowerCase();
    const wanted = status ? status.split(',') : [];
    return (list ?? [])
      .filter((r) => !wanted.length || wanted.includes(r.status))
      // Live events name no batch and no end of the period: only runs the filtered list gave stay.
      .filter((r) => !(linked.batch || linked.to) || loaded.has(r.id))
      .filter((r) => (!linked.tenant || r.tenant === linked.tenant) && (!linked.runbook || r.runbook === linked.runbook))
      .filter((r) => !s || [r.id, r.runbook, r.runbookName, r.startedBy, r.tenant].some((x) => x?.toLowerCase().includes(s)));
  }, [list, search, status, linked, loaded]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const r of list ?? []) c[r.status] = (c[r.status] ?? 0) + 1;
    return c;
  }, [list]);
  const filterText = Object.entries(linked).map(([k, v]) => `${k} ${k === 'from' || k === 'to' ? v!.slice(0, 10) : v}`).join(' · ');

  return (
    <div className="page" data-page="runs" data-live={mode}>
      <PageHeader
        title="Runs"
        subtitle={mode === 'live' ? 'Every run, updated live.' : 'Every run, checked every 3 seconds.'}
      />
      {filterText && (
        <div className="filter-note" data-filter={filterText}>
          Showing runs with {filterText}. <Link to="/runs">Show every run</Link>
        </div>
      )}
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
        <Empty title={status || search ? 'No run matches' : 'No runs yet'} action={<Link className="btn btn-primary" to="/runbooks">Run a runbook</Link>}>
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
