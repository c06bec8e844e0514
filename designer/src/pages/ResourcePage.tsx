// Read-only tables over the control plane's lists (the audit log): search and CSV export.
import { useMemo, useState } from 'react';
import { api } from '../api.ts';
import { Empty, ErrorBanner, PageHeader, Spinner, useAsync } from '../ui/kit.tsx';

/** A row of a table: its columns are the keys the rows have. */
type Row = Record<string, unknown>;

const PAGES = {
  audit: { title: 'Audit log', subtitle: 'Every change and every decision: who, what, when, from where.', load: async (): Promise<Row[]> => api.audit(), empty: 'No entries yet' },
} as const;

function cell(v: unknown): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function ResourcePage({ kind }: { kind: keyof typeof PAGES }) {
  const page = PAGES[kind];
  const data = useAsync(() => page.load(), [kind]);
  const [search, setSearch] = useState('');
  const rows = useMemo(() => {
    const s = search.trim().toLowerCase();
    return (data.data ?? []).filter((r) => !s || JSON.stringify(r).toLowerCase().includes(s));
  }, [data.data, search]);
  const columns = useMemo(() => [...new Set(rows.slice(0, 50).flatMap((r) => Object.keys(r)))].filter((c) => !/secret|password|hash/i.test(c)).slice(0, 8), [rows]);

  const exportCsv = () => {
    const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const text = [columns.join(','), ...rows.map((r) => columns.map((c) => esc(cell(r[c]))).join(','))].join('\n');
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
    a.download = `${kind}.csv`;
    a.click();
  };

  return (
    <div className="page" data-page={kind}>
      <PageHeader
        title={page.title}
        subtitle={page.subtitle}
        actions={
          rows.length > 0 && (
            <button className="btn" onClick={exportCsv}>
              Export CSV
            </button>
          )
        }
      />
      <ErrorBanner error={data.error} onRetry={data.reload} />
      <div className="toolbar">
        <input type="search" className="search" placeholder="Search" value={search} onChange={(e) => setSearch(e.target.value)} aria-label={`Search ${page.title}`} />
      </div>
      {data.loading && !data.data ? (
        <Spinner />
      ) : rows.length === 0 ? (
        <Empty title={search ? 'Nothing matches' : page.empty} />
      ) : (
        <table className="table">
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={String(r.id ?? i)}>
                {columns.map((c) => (
                  <td key={c}>{cell(r[c])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
