// Schedules: recurring runs (cron or interval) and one-off future runs of a published runbook,
// with their upcoming times; pause, resume, run now and delete for those who may.
import { useState, type FormEvent } from 'react';
import { abilities } from '../access.ts';
import { api, type NewSchedule, type Schedule } from '../api.ts';
import { useSession } from '../context.tsx';
import { Link } from '../router.tsx';
import { usePublishedRunbook } from '../ui/PublishedRunbook.tsx';
import { Empty, ErrorBanner, PageHeader, Spinner, StatusBadge, useAction, useAsync } from '../ui/kit.tsx';

/** "every 1h", "0 7 * * 1-5 (Europe/Stockholm)", "once" — what a schedule's spec says. */
export function describeSpec(s: Schedule): string {
  if (s.oneOff) return 'once';
  const parts: string[] = [];
  for (const i of s.spec?.intervals ?? []) parts.push(`every ${typeof i === 'number' ? `${Math.round(i / 1000)} s` : String(i)}`);
  for (const c of s.spec?.calendars ?? []) parts.push(typeof c === 'string' ? c : (c as { comment?: string }).comment ?? 'calendar');
  return `${parts.join(', ') || '—'}${s.spec?.timezone ? ` (${s.spec.timezone})` : ''}`;
}

export function SchedulesPage() {
  const { grants } = useSession();
  const can = abilities(grants);
  const list = useAsync(() => api.schedules(), []);
  const [creating, setCreating] = useState(false);
  const { error, notice, setNotice, act } = useAction(list.reload);

  const op = (s: Schedule, what: 'pause' | 'resume' | 'trigger' | 'delete') => {
    if (what === 'delete' && !confirm(`Delete schedule ${s.id}? Runs already started go on.`)) return;
    void act(() => (what === 'delete' ? api.deleteSchedule(s.id) : api.scheduleOp(s.id, what)), { pause: 'Paused', resume: 'Resumed', trigger: 'Started a run now', delete: 'Deleted' }[what]);
  };

  return (
    <div className="page" data-page="schedules">
      <PageHeader
        title="Schedules"
        subtitle="Recurring and one-off future runs of published runbooks."
        actions={can.schedule && !creating && (
          <button className="btn btn-primary" onClick={() => setCreating(true)}>
            New schedule
          </button>
        )}
      />
      {creating && <ScheduleForm onDone={(made) => { setCreating(false); if (made) { setNotice(`Scheduled ${made.id}`); list.reload(); } }} />}
      {notice && <div className="banner banner-ok" role="status">{notice}</div>}
      <ErrorBanner error={error ?? list.error} onRetry={list.reload} />
      {!list.data ? (
        <Spinner />
      ) : list.data.length === 0 ? (
        <Empty title="No schedules yet">Run a runbook every morning, every hour, or once at a time you choose.</Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Runbook</th>
              <th>When</th>
              <th>Next times</th>
              <th>Last run</th>
              <th>Tenant</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((s) => (
              <tr key={s.id} data-schedule={s.id}>
                <td>
                  <Link to={`/runbooks/${encodeURIComponent(s.runbookId ?? '')}`}>{s.runbookId}</Link>
                  {s.version !== undefined && <span className="muted small"> v{s.version}</span>}
                  <div className="muted small mono">{s.id}</div>
                </td>
                <td>{describeSpec(s)}</td>
                <td className="upcoming">
                  {s.upcoming.length ? s.upcoming.slice(0, 3).map((t) => <div key={t} className="small">{new Date(t).toLocaleString()}</div>) : <span className="muted">—</span>}
                </td>
                <td className="last-run">
                  {s.lastRun ? (
                    <Link to={`/runs/${encodeURIComponent(s.lastRun.runId)}`} title={new Date(s.lastRun.at).toLocaleString()}>
                      <StatusBadge status={s.lastRun.status ?? 'running'} />
                    </Link>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td>{s.tenant ?? '—'}</td>
                <td>
                  <span className={`badge ${s.paused ? 'status-paused' : 'status-running'}`} data-state={s.paused ? 'paused' : 'active'}>
                    {s.paused ? 'paused' : 'active'}
                  </span>
                  {s.note && <div className="muted small">{s.note}</div>}
                </td>
                <td className="row-actions">
                  {can.schedule && (
                    <>
                      <button className="btn btn-small" onClick={() => op(s, s.paused ? 'resume' : 'pause')}>
                        {s.paused ? 'Resume' : 'Pause'}
                      </button>
                      <button className="btn btn-small" onClick={() => op(s, 'trigger')}>
                        Run now
                      </button>
                      <button className="btn btn-small btn-danger" onClick={() => op(s, 'delete')} aria-label={`Delete ${s.id}`}>
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function ScheduleForm({ onDone }: { onDone: (made?: Schedule) => void }) {
  const { runbookId, def, field: runbookField } = usePublishedRunbook();
  const tenants = useAsync(() => api.tenantList().catch(() => []), []);
  const [mode, setMode] = useState<'cron' | 'every' | 'at'>('cron');
  const [when, setWhen] = useState('0 7 * * 1-5');
  const [timezone, setTimezone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [tenant, setTenant] = useState('');
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [paused, setPaused] = useState(false);
  const [error, setError] = useState<unknown>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const body: NewSchedule = {
      runbookId,
      tenant: tenant || undefined,
      inputs: Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== '')),
      paused,
      ...(mode === 'cron' ? { cron: [when.trim()], timezone } : mode === 'every' ? { every: [when.trim()] } : { at: new Date(when).toISOString() }),
    };
    try {
      onDone(await api.createSchedule(body));
    } catch (err) {
      setError(err);
    }
  };

  return (
    <form className="card form-card" onSubmit={submit} aria-label="New schedule">
      <h2>New schedule</h2>
      {runbookField}
      <fieldset className="field">
        <legend className="field-label">When</legend>
        <div className="chips" role="radiogroup">
          {(['cron', 'every', 'at'] as const).map((m) => (
            <label key={m} className="check">
              <input
                type="radio"
                name="mode"
                checked={mode === m}
                onChange={() => {
                  setMode(m);
                  setWhen(m === 'cron' ? '0 7 * * 1-5' : m === 'every' ? '1h' : '');
                }}
              />{' '}
              {{ cron: 'on a calendar (cron)', every: 'every interval', at: 'once, at a time' }[m]}
            </label>
          ))}
        </div>
        <input
          name="when"
          type={mode === 'at' ? 'datetime-local' : 'text'}
          value={when}
          onChange={(e) => setWhen(e.target.value)}
          required
          aria-label={mode === 'cron' ? 'Cron expression' : mode === 'every' ? 'Interval' : 'Time'}
          placeholder={mode === 'cron' ? 'minute hour day month weekday' : mode === 'every' ? '30m, 1h, 1d' : ''}
        />
        {mode === 'cron' && (
          <input value={timezone} onChange={(e) => setTimezone(e.target.value)} aria-label="Time zone" placeholder="Europe/Stockholm" />
        )}
        <div className="help">{mode === 'cron' ? '"0 7 * * 1-5" is 07:00 on weekdays, in the time zone below.' : mode === 'every' ? 'A duration: 30s, 15m, 1h, 1d.' : 'The run starts once at this time.'}</div>
      </fieldset>
      {(tenants.data?.length ?? 0) > 1 && (
        <label className="field">
          <span className="field-label">Tenant</span>
          <select value={tenant} onChange={(e) => setTenant(e.target.value)} name="tenant">
            <option value="">default tenant</option>
            {tenants.data!.map((t) => (
              <option key={t.name}>{t.name}</option>
            ))}
          </select>
        </label>
      )}
      {def && def.inputs.length > 0 && (
        <fieldset className="field">
          <legend className="field-label">Inputs of every run</legend>
          {def.inputs.map((i) => (
            <label key={i.name} className="field" data-input={i.name}>
              <span className="field-label">
                {i.title ?? i.name}
                {i.required && <span className="req"> *</span>}
              </span>
              <input
                type={i.secret ? 'password' : 'text'}
                autoComplete={i.secret ? 'new-password' : undefined}
                value={inputs[i.name] ?? ''}
                placeholder={i.default !== undefined ? `default: ${String(i.default)}` : undefined}
                onChange={(e) => setInputs((v) => ({ ...v, [i.name]: e.target.value }))}
              />
            </label>
          ))}
        </fieldset>
      )}
      <label className="check">
        <input type="checkbox" checked={paused} onChange={(e) => setPaused(e.target.checked)} /> Create it paused
      </label>
      <ErrorBanner error={error} />
      <div className="row-actions">
        <button className="btn btn-primary" type="submit" disabled={!def} data-action="create-schedule">
          Create schedule
        </button>
        <button className="btn" type="button" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}
