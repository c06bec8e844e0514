// Triggers: runs started by something that happened — a signed webhook, a change to users in the
// Microsoft 365 tenant, or a date on people (hire date − 7 days). Listed with what they last
// fired; designers create, pause, resume and delete them (docs/triggers.md).
import { Fragment, useState, type FormEvent } from 'react';
import { abilities } from '../access.ts';
import { api, type NewTrigger, type Trigger } from '../api.ts';
import { useSession } from '../context.tsx';
import { Link } from '../router.tsx';
import { usePublishedRunbook } from '../ui/PublishedRunbook.tsx';
import { ago, Empty, ErrorBanner, PageHeader, Spinner, useAction, useAsync } from '../ui/kit.tsx';

type Kind = 'webhook' | 'graph' | 'date';

/** "webhook", "users: updated (notifications)", "employeeHireDate −7 days, department eq 'Sales'". */
export function describeTrigger(t: Trigger): string {
  if (t.kind === 'graph') return `changes to users: ${t.graph?.changeType ?? 'all'} (${t.watch?.mode === 'notifications' ? 'change notifications' : 'delta queries'})`;
  if (t.kind === 'date' && t.date) {
    const d = t.date.offsetDays;
    return `${t.date.attribute} ${d === 0 ? 'on the day' : `${d > 0 ? '+' : '−'}${Math.abs(d)} days`}${t.date.scope ? `, ${t.date.scope}` : ''}`;
  }
  return `webhook ${t.url ?? ''}`;
}

export function TriggersPage() {
  const { grants } = useSession();
  const can = abilities(grants);
  const list = useAsync(() => api.triggers(), []);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ id: string; secret: string; url?: string }>();
  const [open, setOpen] = useState<string>();
  const { error, notice, setNotice, act } = useAction(list.reload);

  const op = (t: Trigger, what: 'pause' | 'resume' | 'delete') => {
    if (what === 'delete' && !confirm(`Delete trigger ${t.name || t.id}? Runs it started go on.`)) return;
    void act(() => (what === 'delete' ? api.deleteTrigger(t.id) : api.triggerOp(t.id, what)), { pause: 'Paused', resume: 'Resumed', delete: 'Deleted' }[what]);
  };

  return (
    <div className="page" data-page="triggers">
      <PageHeader
        title="Triggers"
        subtitle="Runs started by a webhook, a change in the tenant, or a date on people."
        actions={can.trigger && !creating && (
          <button className="btn btn-primary" onClick={() => setCreating(true)}>
            New trigger
          </button>
        )}
      />
      {creating && (
        <TriggerForm
          onDone={(made) => {
            setCreating(false);
            if (made) {
              setNotice(`Created trigger ${made.name || made.id}`);
              if (made.secret) setSecret({ id: made.id, secret: made.secret, url: made.url });
              list.reload();
            }
          }}
        />
      )}
      {secret && (
        <div className="banner banner-warn" role="alert" data-secret>
          Signing secret of {secret.id} (shown only now): <code>{secret.secret}</code> — POST to <code>{secret.url}</code>.{' '}
          <button className="btn btn-small" onClick={() => setSecret(undefined)}>
            I have saved it
          </button>
        </div>
      )}
      {notice && <div className="banner banner-ok" role="status">{notice}</div>}
      <ErrorBanner error={error ?? list.error} onRetry={list.reload} />
      {!list.data ? (
        <Spinner />
      ) : list.data.length === 0 ? (
        <Empty title="No triggers yet">Start offboarding when an account is disabled, pre-boarding a week before a hire date, or a runbook from your HR system's webhook.</Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Trigger</th>
              <th>On</th>
              <th>Runbook</th>
              <th>Fired</th>
              <th>Tenant</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((t) => (
              <Fragment key={t.id}>
                <tr data-trigger={t.id}>
                  <td>
                    {t.name || <span className="muted">(no name)</span>}
                    <div className="muted small mono">{t.id}</div>
                  </td>
                  <td>
                    <span className="badge">{t.kind}</span> <span className="small">{describeTrigger(t)}</span>
                    {t.filter && <div className="muted small mono">if {t.filter}</div>}
                    {t.watch?.lastError && <div className="small text-danger">{t.watch.lastError}</div>}
                  </td>
                  <td>
                    <Link to={`/runbooks/${encodeURIComponent(t.runbookId)}`}>{t.runbookId}</Link>
                    <span className="muted small"> v{t.version}</span>
                  </td>
                  <td>
                    <button className="btn btn-small btn-link" onClick={() => setOpen(open === t.id ? undefined : t.id)} aria-expanded={open === t.id}>
                      {t.fired} run{t.fired === 1 ? '' : 's'}
                    </button>
                    {t.lastFiredAt && <div className="muted small">{ago(t.lastFiredAt)}</div>}
                  </td>
                  <td>{t.tenant}</td>
                  <td>
                    <span className={`badge ${t.paused ? 'status-paused' : 'status-running'}`} data-state={t.paused ? 'paused' : 'active'}>
                      {t.paused ? 'paused' : 'active'}
                    </span>
                  </td>
                  <td className="row-actions">
                    {can.trigger && (
                      <>
                        <button className="btn btn-small" onClick={() => op(t, t.paused ? 'resume' : 'pause')}>
                          {t.paused ? 'Resume' : 'Pause'}
                        </button>
                        <button className="btn btn-small btn-danger" onClick={() => op(t, 'delete')} aria-label={`Delete ${t.id}`}>
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
                {open === t.id && (
                  <tr>
                    <td colSpan={7}>
                      <Firings id={t.id} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Firings({ id }: { id: string }) {
  const f = useAsync(() => api.triggerFirings(id), [id]);
  if (f.error) return <ErrorBanner error={f.error} />;
  if (!f.data) return <Spinner />;
  if (!f.data.length) return <div className="muted small">Nothing received yet.</div>;
  return (
    <table className="table table-compact" aria-label="Last firings">
      <tbody>
        {f.data.slice(0, 20).map((x) => (
          <tr key={x.eventKey}>
            <td className="small">{new Date(x.at).toLocaleString()}</td>
            <td className="small">{x.outcome}</td>
            <td className="small">{x.runId ? <Link to={`/runs/${encodeURIComponent(x.runId)}`}>{x.runId}</Link> : '—'}</td>
            <td className="muted small mono">{x.eventKey}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const EXAMPLES: Record<Kind, { filter: string; input: string }> = {
  webhook: { filter: "body.event = 'hired'", input: 'body.person.upn' },
  graph: { filter: "changeType = 'updated' and before.accountEnabled = true and user.accountEnabled = false", input: 'user.userPrincipalName' },
  date: { filter: '', input: 'user.userPrincipalName' },
};

function TriggerForm({ onDone }: { onDone: (made?: Trigger & { secret?: string }) => void }) {
  const { runbookId, def, field: runbookField } = usePublishedRunbook();
  const [kind, setKind] = useState<Kind>('graph');
  const [name, setName] = useState('');
  const [filter, setFilter] = useState(EXAMPLES.graph.filter);
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [changeType, setChangeType] = useState('updated');
  const [attribute, setAttribute] = useState('employeeHireDate');
  const [offsetDays, setOffsetDays] = useState('-7');
  const [scope, setScope] = useState('');
  const [paused, setPaused] = useState(false);
  const [error, setError] = useState<unknown>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const body: NewTrigger = {
      kind,
      name,
      runbookId,
      paused,
      inputs: Object.fromEntries(Object.entries(inputs).filter(([, v]) => v.trim() !== '')),
      ...(filter.trim() ? { filter: filter.trim() } : {}),
      ...(kind === 'graph' ? { graph: { changeType } } : {}),
      ...(kind === 'date' ? { date: { attribute, offsetDays: Number(offsetDays), ...(scope.trim() ? { scope: scope.trim() } : {}) } } : {}),
    };
    try {
      onDone(await api.createTrigger(body));
    } catch (err) {
      setError(err);
    }
  };

  return (
    <form className="card form-card" onSubmit={submit} aria-label="New trigger">
      <h2>New trigger</h2>
      <label className="field">
        <span className="field-label">Name</span>
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Disabled account → offboarding" />
      </label>
      <fieldset className="field">
        <legend className="field-label">Starts when</legend>
        <div className="chips" role="radiogroup">
          {(['graph', 'date', 'webhook'] as const).map((k) => (
            <label key={k} className="check">
              <input
                type="radio"
                name="kind"
                value={k}
                checked={kind === k}
                onChange={() => {
                  setKind(k);
                  setFilter(EXAMPLES[k].filter);
                }}
              />{' '}
              {{ graph: 'a user changes in the tenant', date: 'a date on people comes', webhook: 'a signed webhook arrives' }[k]}
            </label>
          ))}
        </div>
      </fieldset>
      {kind === 'graph' && (
        <label className="field">
          <span className="field-label">Changes</span>
          <select name="changeType" value={changeType} onChange={(e) => setChangeType(e.target.value)}>
            <option value="updated">updated</option>
            <option value="created">created</option>
            <option value="deleted">deleted</option>
            <option value="created,updated,deleted">created, updated, deleted</option>
          </select>
          <div className="help">Expressions see changeType, user (after), before and changed (property names).</div>
        </label>
      )}
      {kind === 'date' && (
        <>
          <label className="field">
            <span className="field-label">Date attribute</span>
            <select name="attribute" value={attribute} onChange={(e) => setAttribute(e.target.value)}>
              {['employeeHireDate', 'employeeLeaveDateTime', 'createdDateTime', ...Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`)].map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
          <label className="field">
            <span className="field-label">Offset in days</span>
            <input name="offsetDays" type="number" value={offsetDays} onChange={(e) => setOffsetDays(e.target.value)} required />
            <div className="help">−7 is a week before the date, 30 a month after.</div>
          </label>
          <label className="field">
            <span className="field-label">Scope</span>
            <input name="scope" value={scope} onChange={(e) => setScope(e.target.value)} placeholder="department eq 'Sales'" />
            <div className="help">An OData filter on users; empty for everyone. Expressions see user, date, due.</div>
          </label>
        </>
      )}
      {runbookField}
      <label className="field">
        <span className="field-label">Filter</span>
        <input name="filter" className="mono" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="JSONata: true starts a run" />
      </label>
      {def && def.inputs.length > 0 && (
        <fieldset className="field">
          <legend className="field-label">Inputs from the event</legend>
          {def.inputs.map((i) => (
            <label key={i.name} className="field">
              <span className="field-label">
                {i.name}
                {i.required ? ' *' : ''}
              </span>
              <input className="mono" name={`input-${i.name}`} value={inputs[i.name] ?? ''} onChange={(e) => setInputs({ ...inputs, [i.name]: e.target.value })} placeholder={EXAMPLES[kind].input} />
            </label>
          ))}
        </fieldset>
      )}
      <label className="check">
        <input type="checkbox" name="paused" checked={paused} onChange={(e) => setPaused(e.target.checked)} /> Create paused
      </label>
      <ErrorBanner error={error} />
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={!runbookId || !def}>
          Create trigger
        </button>
        <button className="btn" type="button" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}
