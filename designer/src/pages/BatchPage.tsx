// A bulk batch (the rows of one CSV): its rows by status, live while it runs (Server-Sent Events,
// GET /api/batches/:id/events), its rows filtered by status and paged, the per-row report as a CSV
// file, and "retry failed rows" (only those run again).
import { useCallback, useEffect, useState } from 'react';
import { api, type BatchRow, type BatchView } from '../api.ts';
import { useEventStream } from '../live.ts';
import { Link } from '../router.tsx';

const STATUSES = ['pending', 'running', 'succeeded', 'succeeded-with-warnings', 'failed', 'skipped'] as const;

export function BatchPage({ id }: { id: string }) {
  const [batch, setBatch] = useState<BatchView>();
  const [filter, setFilter] = useState('');
  const [rows, setRows] = useState<BatchRow[]>([]);
  const [next, setNext] = useState<number>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setBatch(await api.batch(id));
    } catch (err) {
      setError((err as Error).message);
    }
  }, [id]);
  const loadRows = useCallback(
    async (after?: number) => {
      const page = await api.batchRows(id, { status: filter || undefined, after });
      setRows((old) => (after === undefined ? page.rows : [...old, ...page.rows]));
      setNext(page.next);
    },
    [id, filter],
  );
  useEffect(() => void load(), [load]);
  useEffect(() => void loadRows().catch((err: Error) => setError(err.message)), [loadRows]);
  const mode = useEventStream(
    batch?.status === 'running' ? `/api/batches/${encodeURIComponent(id)}/events` : undefined,
    ['batch', 'end'],
    (event, data) => {
      if (event === 'batch') setBatch(data as BatchView);
      if (event === 'end') void load().then(() => loadRows());
    },
    'end',
  );

  const retry = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.retryBatch(id);
      await load();
      await loadRows();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (!batch) return <main className="page">{error ? <div className="banner banner-error">{error}</div> : 'Loading…'}</main>;
  const counts = batch.counts ?? {};
  const total = batch.rows ?? batch.runs;
  const ended = total - (counts.pending ?? 0) - (counts.running ?? 0);
  return (
    <main className="page" data-page="batch" data-live={mode} data-status={batch.status}>
      <h1>
        Batch {batch.batch} <span className={`status status-${batch.status}`}>{batch.status}</span>
      </h1>
      <p className="muted">
        {batch.runbook} v{batch.version} on {batch.tenant}, started by {batch.startedBy}; round {batch.round}. {ended} of {total} rows done.
      </p>
      <progress max={total} value={ended} aria-label="rows done" />
      <ul className="batch-counts">
        {STATUSES.map((s) => (
          <li key={s} data-count={s}>
            {s}: {counts[s] ?? 0}
          </li>
        ))}
      </ul>
      {error && <div className="banner banner-error">{error}</div>}
      <div className="toolbar">
        <label>
          Show{' '}
          <select value={filter} onChange={(e) => setFilter(e.target.value)} data-field="row-filter">
            <option value="">every row</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>{' '}
        <a className="btn" href={`/api/batches/${encodeURIComponent(id)}/rows?format=csv${filter ? `&status=${filter}` : ''}`} download data-action="export-rows">
          Export the report (CSV)
        </a>{' '}
        <button className="btn" disabled={busy || batch.status === 'running' || !counts.failed} onClick={retry} data-action="retry-failed">
          Retry {counts.failed ?? 0} failed row{counts.failed === 1 ? '' : 's'}
        </button>
      </div>
      <table className="table">
        <thead>
          <tr>
            <th>Line</th>
            <th>Status</th>
            <th>Run</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.line} data-row={r.line} data-status={r.status}>
              <td>{r.line}</td>
              <td>{r.status}</td>
              <td>{r.runId ? <Link to={`/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</Link> : ''}</td>
              <td>{r.error ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== undefined && (
        <button className="btn" onClick={() => void loadRows(next)}>
          More rows
        </button>
      )}
    </main>
  );
}
