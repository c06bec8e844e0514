// The home page after sign-in: what happened and what waits, in pictures, for one tenant or every
// tenant the person sees. The numbers come from GET /api/dashboard (aggregates over the run
// records) and GET /api/schedules; every chart links to the filtered run list behind it.
import { AlertTriangle, CalendarClock, Gauge, Hourglass, Layers, BarChart3 } from 'lucide-react';
import { useMemo, useState, type ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { OUTCOMES, RUN_STATUSES } from '../../../runbook/definition.ts';
import { api, type DashboardData, type Schedule } from '../api.ts';
import { runsLink } from '../dashboard-links.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { duration, Empty, ErrorBanner, PageHeader, Spinner, STATUS_LABEL, StatusBadge, useAsync } from '../ui/kit.tsx';

/** One colour per run status (outcomes per workflows/outcome.ts), matching the badges. */
export const STATUS_COLOUR: Record<string, string> = {
  running: '#2557d6',
  'waiting-approval': '#d08a00',
  paused: '#b07a2a',
  succeeded: '#1b7f4b',
  'succeeded-with-warnings': '#8fae2f',
  'partially-failed': '#e0642e',
  failed: '#c4302b',
  rejected: '#6d7584',
  cancelled: '#a3aab6',
  'timed-out': '#8a1f4a',
};

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();

function Card({ id, title, icon, link, children }: { id: string; title: string; icon: ReactNode; link?: { to: string; label: string }; children: ReactNode }) {
  return (
    <section className="card dash-card" data-chart={id} aria-labelledby={`dash-${id}`}>
      <header className="dash-card-head">
        <h2 id={`dash-${id}`}>
          <span className="dash-icon" aria-hidden>
            {icon}
          </span>
          {title}
        </h2>
        {link && (
          <Link to={link.to} className="small" data-link={id}>
            {link.label}
          </Link>
        )}
      </header>
      {children}
    </section>
  );
}

export function RunsPerDay({ data, tenant }: { data: DashboardData; tenant?: string }) {
  const rows = data.days.map((d) => ({ day: d.day.slice(5), iso: d.day, ...d.counts }));
  const present = RUN_STATUSES.filter((s) => data.days.some((d) => (d.counts[s] ?? 0) > 0));
  const total = data.days.reduce((n, d) => n + d.total, 0);
  return (
    <Card id="runs-per-day" title="Runs per day by outcome" icon={<BarChart3 size={16} />} link={{ to: runsLink({ tenant, from: data.from }), label: `All ${total} runs` }}>
      {total === 0 ? (
        <Empty title="No runs in this period" />
      ) : (
        <div className="chart" role="img" aria-label={`Runs per day by outcome: ${total} runs in ${data.days.length} days`}>
          <ResponsiveContainer width="100%" height={240}>
            <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="day" tick={{ fontSize: 11 }} />
              <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
              <Tooltip />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {present.map((s) => (
                <Bar
                  key={s}
                  dataKey={s}
                  name={STATUS_LABEL[s] ?? s}
                  stackId="runs"
                  fill={STATUS_COLOUR[s]}
                  isAnimationActive={false}
                  cursor="pointer"
                  onClick={(d: { payload?: { iso?: string } }) => d.payload?.iso && navigate(runsLink({ tenant, status: [s], from: `${d.payload.iso}T00:00:00.000Z`, to: nextDay(d.payload.iso) }))}
                />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
      <ul className="dash-legend-links" aria-label="Runs by outcome">
        {present.map((s) => (
          <li key={s}>
            <Link to={runsLink({ tenant, status: [s], from: data.from })} data-status={s}>
              <StatusBadge status={s} /> {data.days.reduce((n, d) => n + (d.counts[s] ?? 0), 0)}
            </Link>
          </li>
        ))}
      </ul>
    </Card>
  );
}

export function FailingSteps({ data, tenant }: { data: DashboardData; tenant?: string }) {
  const failed = OUTCOMES.filter((o) => o === 'failed' || o === 'partially-failed' || o === 'succeeded-with-warnings');
  return (
    <Card id="failing-steps" title="Steps that fail most" icon={<AlertTriangle size={16} />} link={{ to: runsLink({ tenant, status: ['failed', 'partially-failed'], from: data.from }), label: 'Failed runs' }}>
      {data.failingSteps.length === 0 ? (
        <Empty title="No step failed in this period" />
      ) : (
        <>
          <div className="chart" role="img" aria-label={`Failures by step: ${data.failingSteps.map((f) => `${f.step} ${f.failures}`).join(', ')}`}>
            <ResponsiveContainer width="100%" height={Math.max(80, data.failingSteps.length * 30 + 20)}>
              <BarChart data={data.failingSteps.map((f) => ({ ...f, label: f.step }))} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
                <XAxis type="number" allowDecimals={false} tick={{ fontSize: 11 }} />
                <YAxis type="category" dataKey="label" width={130} tick={{ fontSize: 11 }} />
                <Tooltip />
                <Bar
                  dataKey="failures"
                  name="Failures"
                  fill={STATUS_COLOUR.failed}
                  isAnimationActive={false}
                  cursor="pointer"
                  onClick={(d: { payload?: { runbook?: string } }) => navigate(runsLink({ tenant, runbook: d.payload?.runbook, status: [...failed], from: data.from }))}
                />
              </BarChart>
            </ResponsiveContainer>
          </div>
          <table className="table compact">
            <thead>
              <tr>
                <th>Step</th>
                <th>Failures</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {data.failingSteps.map((f) => (
                <tr key={`${f.runbook}/${f.step}`} data-failing-step={f.step}>
                  <td>
                    <Link to={runsLink({ tenant, runbook: f.runbook, status: [...failed], from: data.from })}>
                      {f.runbookName ?? f.runbook ?? '—'} · {f.step}
                    </Link>
                    {f.action && <div className="muted small">{f.action}</div>}
                  </td>
                  <td>{f.failures}</td>
                  <td className="small">
                    {f.code && <code>{f.code}</code>} {f.lastError}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Card>
  );
}

export function ApprovalsWaiting({ data }: { data: DashboardData }) {
  // Minutes while nothing has waited two hours, hours after.
  const longest = Math.max(0, ...data.approvals.map((a) => a.waitingMs));
  const unit = longest < 7_200_000 ? { name: 'min', ms: 60_000 } : { name: 'h', ms: 3_600_000 };
  const rows = data.approvals.map((a, i) => ({ ...a, label: `${a.runbookName ?? a.runbook ?? a.run} · ${a.step}`, short: `${i + 1}. ${a.step}`, waited: Math.round((a.waitingMs / unit.ms) * 10) / 10 }));
  return (
    <Card id="approvals" title="Approvals waiting" icon={<Hourglass size={16} />} link={{ to: '/approvals', label: 'Approval inbox' }}>
      {rows.length === 0 ? (
        <Empty title="Nothing waits for a decision" />
      ) : (
        <>
          <div className="chart" role="img" aria-label={`Approvals waiting: ${rows.length}; longest ${duration(rows[0]!.waitingMs)}`}>
            <ResponsiveContainer width="100%" height={Math.max(90, Math.min(rows.length, 8) * 34 + 40)}>
              <BarChart data={rows.slice(0, 8)} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
                <XAxis type="number" unit={` ${unit.name}`} tick={{ fontSize: 11 }} />
                <YAxis type="category" dataKey="short" width={150} tick={{ fontSize: 11 }} />
                <Tooltip />
                <Bar dataKey="waited" name={`Waiting (${unit.name})`} fill={STATUS_COLOUR['waiting-approval']} isAnimationActive={false} cursor="pointer" onClick={(d: { payload?: { run?: string } }) => d.payload?.run && navigate(`/runs/${encodeURIComponent(d.payload.run)}`)} />
              </BarChart>
            </ResponsiveContainer>
          </div>
          <ul className="dash-list">
            {rows.map((a) => (
              <li key={`${a.run}/${a.step}`} data-waiting={a.run}>
                <Link to={`/runs/${encodeURIComponent(a.run)}`}>{a.short.split('.')[0]}. {a.label}</Link> <span className="muted small">waiting {duration(a.waitingMs)} · {a.approvers.join(', ') || 'no approver named'}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}

/** Bulk batches: one stacked bar per batch. Its rows could come from a batches API as well. */
export function BatchesCard({ batches, tenant }: { batches: DashboardData['batches']; tenant?: string }) {
  const present = RUN_STATUSES.filter((s) => batches.some((b) => (b.statuses[s] ?? 0) > 0));
  const rows = batches.map((b) => ({ ...b.statuses, batch: b.batch, label: b.batch.slice(0, 12) }));
  return (
    <Card id="batches" title="Bulk batches" icon={<Layers size={16} />} link={{ to: runsLink({ tenant }), label: 'All runs' }}>
      {batches.length === 0 ? (
        <Empty title="No bulk batch in this period" />
      ) : (
        <>
          <div className="chart" role="img" aria-label={`Bulk batches: ${batches.map((b) => `${b.batch} ${b.runs - b.open} of ${b.runs} ended`).join(', ')}`}>
            <ResponsiveContainer width="100%" height={Math.max(80, rows.length * 30 + 40)}>
              <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
                <XAxis type="number" allowDecimals={false} tick={{ fontSize: 11 }} />
                <YAxis type="category" dataKey="label" width={150} tick={{ fontSize: 11 }} />
                <Tooltip />
                {present.map((s) => (
                  <Bar key={s} dataKey={s} name={STATUS_LABEL[s] ?? s} stackId="b" fill={STATUS_COLOUR[s]} isAnimationActive={false} cursor="pointer" onClick={(d: { payload?: { batch?: string } }) => d.payload?.batch && navigate(runsLink({ batch: d.payload.batch, status: [s] }))} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
          <ul className="dash-list">
            {batches.map((b) => (
              <li key={b.batch} data-batch={b.batch}>
                <Link to={`/batches/${encodeURIComponent(b.batch)}`}>
                  {b.runbook ?? 'bulk'} · {b.batch.slice(0, 8)}
                </Link>{' '}
                <span className="muted small">
                  {b.runs - b.open} of {b.runs} ended{b.open ? ` · ${b.open} open` : ''}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}

export function NextScheduled({ schedules, tenant }: { schedules: Schedule[] | undefined; tenant?: string }) {
  const next = (schedules ?? [])
    .filter((s) => !tenant || s.tenant === tenant)
    .flatMap((s) => (s.paused ? [] : s.upcoming.slice(0, 3).map((at) => ({ at, s }))))
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(0, 6);
  return (
    <Card id="schedules" title="Next scheduled runs" icon={<CalendarClock size={16} />} link={{ to: '/schedules', label: 'Schedules' }}>
      {!schedules ? (
        <Spinner />
      ) : next.length === 0 ? (
        <Empty title="Nothing scheduled" />
      ) : (
        <ul className="dash-list">
          {next.map(({ at, s }) => (
            <li key={`${s.id}/${at}`} data-next={s.id}>
              <time dateTime={at}>{new Date(at).toLocaleString()}</time> · {s.runbookId} <span className="muted small">{s.tenant}</span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/** The throttle gates now, from the workers' own metrics: each tenant's rate per budget and the 429s answered. */
function LiveGates({ live }: { live: DashboardData['live'] }) {
  if (!live.configured) return <p className="muted small" data-gates="off">Live gate rates: no worker metrics configured (TENANTFLOW_WORKER_METRICS).</p>;
  const byTenant = new Map<string, DashboardData['live']['gates']>();
  for (const g of live.gates) byTenant.set(g.tenant, [...(byTenant.get(g.tenant) ?? []), g]);
  return (
    <div className="dash-gates" data-gates="live">
      <h4 className="small">Throttle gates now</h4>
      {live.unreachable.map((u) => (
        <p key={u.worker} className="muted small" role="status">
          Worker {u.worker} did not answer: {u.reason}
        </p>
      ))}
      {byTenant.size === 0 ? (
        <p className="muted small">No worker has called Microsoft 365 since it started.</p>
      ) : (
        <ul className="dash-list">
          {[...byTenant].map(([tenant, gates]) => {
            const answered = live.answers.filter((a) => a.tenant === tenant);
            const total = answered.reduce((n, a) => n + a.total, 0);
            const throttled = answered.reduce((n, a) => n + a.throttled, 0);
            return (
              <li key={tenant} data-gate={tenant}>
                <strong>{tenant}</strong>{' '}
                <span className="muted small">
                  {gates.map((g) => `${g.budget} ${g.rate.toFixed(1)}/s`).join(', ')} · {throttled} of {total} answers 429
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

export function Throttling({ data }: { data: DashboardData }) {
  const rows = data.throttling;
  return (
    <Card id="throttling" title="Microsoft 365 throttling" icon={<Gauge size={16} />}>
      <LiveGates live={data.live} />
      {rows.length === 0 ? (
        <Empty title="No step called Microsoft 365 in this period" />
      ) : (
        <>
          <div className="chart" role="img" aria-label={`Throttled (429) steps per tenant: ${rows.map((r) => `${r.tenant} ${r.throttled}`).join(', ')}`}>
            <ResponsiveContainer width="100%" height={Math.max(80, rows.length * 30 + 40)}>
              <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
                <XAxis type="number" allowDecimals={false} tick={{ fontSize: 11 }} />
                <YAxis type="category" dataKey="tenant" width={110} tick={{ fontSize: 11 }} />
                <Tooltip />
                <Bar dataKey="throttled" name="Steps answered 429" fill={STATUS_COLOUR['partially-failed']} isAnimationActive={false} cursor="pointer" onClick={(d: { payload?: { tenant?: string } }) => d.payload?.tenant && navigate(runsLink({ tenant: d.payload.tenant, status: ['failed', 'partially-failed'], from: data.from }))} />
              </BarChart>
            </ResponsiveContainer>
          </div>
          <ul className="dash-list">
            {rows.map((r) => (
              <li key={r.tenant} data-throttle={r.tenant}>
                <Link to={runsLink({ tenant: r.tenant, status: ['failed', 'partially-failed'], from: data.from })}>{r.tenant}</Link>{' '}
                <span className="muted small">
                  {r.throttled} of {r.steps} steps answered 429
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}

export function DashboardPage() {
  const { query } = useLocation();
  const [tenant, setTenant] = useState(query.get('tenant') ?? '');
  const [days, setDays] = useState(Number(query.get('days') ?? 14) || 14);
  const dash = useAsync(() => api.dashboard(tenant || undefined, days), [tenant, days], 15_000);
  const schedules = useAsync(() => api.schedules(), [], 60_000);
  const tenants = useMemo(() => dash.data?.tenants ?? [], [dash.data]);
  const t = tenant || undefined;
  return (
    <div className="page" data-page="dashboard">
      <PageHeader
        title="Dashboard"
        subtitle={tenant ? `Tenant ${tenant}` : 'Every tenant you can see'}
        actions={
          <>
            <label className="inline-field">
              Tenant{' '}
              <select
                aria-label="Tenant"
                value={tenant}
                onChange={(e) => {
                  setTenant(e.target.value);
                  navigate(e.target.value ? `/?tenant=${encodeURIComponent(e.target.value)}` : '/', { replace: true });
                }}
              >
                <option value="">All tenants</option>
                {(tenant && !tenants.includes(tenant) ? [tenant, ...tenants] : tenants).map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <label className="inline-field">
              Period{' '}
              <select aria-label="Period" value={days} onChange={(e) => setDays(Number(e.target.value))}>
                {[7, 14, 30, 90].map((d) => (
                  <option key={d} value={d}>
                    {d} days
                  </option>
                ))}
              </select>
            </label>
          </>
        }
      />
      <ErrorBanner error={dash.error} onRetry={dash.reload} />
      {!dash.data ? (
        <Spinner />
      ) : (
        <div className="dash-grid" data-loaded="true">
          <RunsPerDay data={dash.data} tenant={t} />
          <FailingSteps data={dash.data} tenant={t} />
          <ApprovalsWaiting data={dash.data} />
          <BatchesCard batches={dash.data.batches} tenant={t} />
          <NextScheduled schedules={schedules.data} tenant={t} />
          <Throttling data={dash.data} />
        </div>
      )}
    </div>
  );
}
