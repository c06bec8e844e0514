// The design system's small parts: page header, buttons, badges, empty states, error banners,
// and hooks for loading data. Styles live in styles.css (one stylesheet, CSS variables).
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';

export function PageHeader({ title, subtitle, actions }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

export function Empty({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <div className="empty-title">{title}</div>
      {children && <div className="muted">{children}</div>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const e = error as { message?: string; problems?: { field: string; message: string; nodeId?: string }[] };
  return (
    <div className="banner banner-error" role="alert">
      <div>
        <strong>{e.message ?? String(error)}</strong>
        {e.problems && e.problems.length > 0 && (
          <ul>
            {e.problems.map((p, i) => (
              <li key={i}>
                {p.nodeId ? `${p.nodeId} · ` : ''}
                {p.field}: {p.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      {onRetry && (
        <button className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** How each run and row status reads, wherever one is shown. */
export const STATUS_LABEL: Record<string, string> = {
  pending: 'Pending',
  running: 'Running',
  'waiting-approval': 'Waiting for approval',
  paused: 'Paused',
  succeeded: 'Succeeded',
  'succeeded-with-warnings': 'Succeeded with warnings',
  'partially-failed': 'Partially failed',
  failed: 'Failed',
  rejected: 'Rejected',
  'timed-out': 'Timed out',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{STATUS_LABEL[status] ?? status}</span>;
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div className="spinner" role="status" aria-live="polite">
      <span className="spinner-dot" /> {label}…
    </div>
  );
}

export interface Async<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads once and on `deps` change; `pollMs` reloads in the background. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    run().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error) => mine === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [run]);
  useEffect(() => {
    setState((s) => ({ data: s.data, loading: true }));
    reload();
    if (!pollMs) return;
    const t = setInterval(reload, pollMs);
    return () => clearInterval(t);
  }, [reload, pollMs]);
  return { ...state, reload };
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

export function Json({ value }: { value: unknown }) {
  if (value === undefined) return <span className="muted">—</span>;
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** A page's buttons: run one change, then reload; the outcome as a notice or an error. */
export function useAction(reload: () => void) {
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const act = async (change: () => Promise<unknown>, ok: string) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await change();
      setNotice(ok);
      reload();
    } catch (err) {
      setError(err);
    }
  };
  return { error, notice, setNotice, act };
}
