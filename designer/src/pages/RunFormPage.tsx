// Run a published runbook: the form from its inputs (prefilled from the URL's query string), or a
// CSV with a per-row report before anything starts. "Test run" targets the sandbox tenant.
import { useEffect, useId, useMemo, useState, type ChangeEvent, type FormEvent } from 'react';
import { PICKER_KINDS, type PickerKind } from '../../../catalog/fields.ts';
import type { RunbookDefinition, RunbookInput } from '../../../runbook/definition.ts';
import type { RunPlan } from '../../../runbook/plan.ts';
import { validateInputs } from '../../../runbook/inputs.ts';
import { api, ApiError, type BulkReport, type CsvPlan } from '../api.ts';
import { prefill } from '../bulk.ts';
import { latestPublished, loadRunbook, planRun, startRun, type EditableRunbook } from '../repo.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { ErrorBanner, PageHeader, Spinner, useAsync } from '../ui/kit.tsx';
import { PickerBox, type PickerContext } from '../ui/Picker.tsx';
import { PlanView } from '../ui/PlanView.tsx';

export function RunFormPage({ id }: { id: string }) {
  const rb = useAsync(() => loadRunbook(id), [id]);
  const [mode, setMode] = useState<'one' | 'bulk'>('one');
  if (rb.error) return <div className="page"><ErrorBanner error={rb.error} onRetry={rb.reload} /></div>;
  if (!rb.data) return <Spinner />;
  const published = latestPublished(rb.data);
  const def = published?.definition;
  return (
    <div className="page narrow">
      <PageHeader
        title={`Run: ${def?.name ?? rb.data.definition.name}`}
        subtitle={published ? `Version ${published.version}${def?.description ? ` · ${def.description}` : ''}` : def?.description}
        actions={<Link className="btn" to={`/runbooks/${encodeURIComponent(id)}`}>Open in designer</Link>}
      />
      {!def ? (
        <div className="banner banner-warn">This runbook has no published version yet. <Link to={`/runbooks/${encodeURIComponent(id)}`}>Publish it</Link> first.</div>
      ) : (
        <>
          <div className="tabs" role="tablist">
            <button role="tab" aria-selected={mode === 'one'} className={mode === 'one' ? 'tab active' : 'tab'} onClick={() => setMode('one')}>
              One run
            </button>
            <button role="tab" aria-selected={mode === 'bulk'} className={mode === 'bulk' ? 'tab active' : 'tab'} onClick={() => setMode('bulk')}>
              Bulk from CSV
            </button>
          </div>
          {mode === 'one' ? <RunForm rb={rb.data} def={def} /> : <BulkForm rb={rb.data} def={def} />}
        </>
      )}
    </div>
  );
}

function useTenants() {
  return useAsync(async () => (await api.tenantList()).map((t) => t.name), []);
}

function TargetChoice({ test, setTest, tenant, setTenant }: { test: boolean; setTest: (b: boolean) => void; tenant: string; setTenant: (t: string) => void }) {
  const tenants = useTenants();
  return (
    <fieldset className="target">
      <legend>Where it runs</legend>
      <label className="check">
        <input type="checkbox" checked={test} onChange={(e) => setTest(e.target.checked)} data-field="test" /> Test run against the sandbox tenant
      </label>
      {!test && (tenants.data?.length ?? 0) > 0 && (
        <label>
          <span className="field-label">Tenant</span>
          <select value={tenant} onChange={(e) => setTenant(e.target.value)}>
            <option value="">default tenant</option>
            {tenants.data!.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
      )}
    </fieldset>
  );
}

/** `pick`: the tenant the pickers search, and the team a channel input lists the channels of. */
function InputField({ input, value, onChange, problem, pick }: { input: RunbookInput; value: string; onChange: (v: string) => void; problem?: string; pick?: PickerContext }) {
  const id = useId();
  const picker = input.secret || input.options ? undefined : (PICKER_KINDS as readonly string[]).includes(input.type) ? (input.type as PickerKind) : undefined;
  const label = input.title ?? input.name;
  return (
    <div className={`field${problem ? ' field-invalid' : ''}`} data-input={input.name}>
      <label className="field-label" htmlFor={id}>
        {label}
        {input.required && <span className="req"> *</span>}
      </label>
      {input.options ? (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)} name={input.name}>
          <option value="">—</option>
          {input.options.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      ) : input.type === 'boolean' ? (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)} name={input.name}>
          <option value="">—</option>
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>
      ) : (
        <PickerBox kind={picker} text={value} list={false} ctx={pick} onPick={onChange}>
          <input
            id={id}
            name={input.name}
            type={input.secret ? 'password' : input.type === 'number' ? 'number' : input.type === 'date' ? 'date' : input.type === 'user' ? 'email' : 'text'}
            autoComplete={input.secret ? 'new-password' : picker ? 'off' : undefined}
            value={value}
            onChange={(e) => onChange(e.target.value)}
            placeholder={input.default !== undefined ? `default: ${String(input.default)}` : input.type === 'list' ? 'comma-separated' : undefined}
            aria-invalid={!!problem || undefined}
          />
        </PickerBox>
      )}
      {input.description && <div className="help">{input.description}</div>}
      {problem && (
        <div className="field-problem" role="alert">
          {problem}
        </div>
      )}
    </div>
  );
}

/** What a run form needs: the runbook's id, and its published definition's name and inputs. */
export type Runnable = { rb: Pick<EditableRunbook, 'id'>; def: Pick<RunbookDefinition, 'name' | 'inputs'> };

export function RunForm({ rb, def }: Runnable) {
  const { query } = useLocation();
  const [values, setValues] = useState<Record<string, string>>(() => prefill(def, query));
  const [test, setTest] = useState(query.get('test') === 'true');
  const [tenant, setTenant] = useState(query.get('tenant') ?? '');
  const [reason, setReason] = useState(query.get('reason') ?? '');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const given = useMemo(() => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '')), [values]);
  const plan = useRunPlan(rb, def, given, test, tenant);
  // Pickers search the tenant the run goes to; a channel input lists the channels of the form's team input.
  const teamInput = def.inputs.find((i) => i.type === 'team');
  const pickContext: PickerContext = { tenant: test ? 'sandbox' : tenant || undefined, team: teamInput ? values[teamInput.name] || undefined : undefined };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const checked = validateInputs(def, given);
    if (!checked.ok) {
      setProblems(Object.fromEntries(checked.problems.map((p) => [p.field.replace(/^inputs\./, ''), p.message])));
      return;
    }
    setProblems({});
    setBusy(true);
    try {
      const id = await startRun(rb.id, given, { test, tenant: tenant || undefined, reason: reason.trim() || undefined });
      navigate(`/runs/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.problems.length) setProblems(Object.fromEntries(err.problems.map((p) => [p.field.replace(/^inputs\./, ''), p.message])));
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card run-form" onSubmit={submit} noValidate>
      {def.inputs.length === 0 && <p className="muted">This runbook takes no inputs.</p>}
      {def.inputs.map((i) => (
        <InputField key={i.name} input={i} value={values[i.name] ?? ''} problem={problems[i.name]} onChange={(v) => setValues((s) => ({ ...s, [i.name]: v }))} pick={pickContext} />
      ))}
      <TargetChoice test={test} setTest={setTest} tenant={tenant} setTenant={setTenant} />
      <label className="field">
        <span className="field-label">Why (kept with the run and its evidence pack)</span>
        <input type="text" value={reason} maxLength={2000} placeholder="e.g. ticket HR-1234: new starter in Finance" onChange={(e) => setReason(e.target.value)} data-field="reason" />
      </label>
      <PlanPanel state={plan} />
      <ErrorBanner error={error} />
      <div className="form-actions">
        <button className="btn btn-primary" disabled={busy} data-action="start-run">
          {busy ? 'Starting…' : test ? 'Start test run' : 'Start run'}
        </button>
        <span className="muted small">Tip: link to this form with values in the query string, e.g. <code>?{def.inputs[0]?.name ?? 'name'}=…</code></span>
      </div>
    </form>
  );
}

interface PlanState {
  /** The inputs the plan (or its error) is for. */
  key: string;
  plan?: RunPlan;
  error?: unknown;
  busy?: boolean;
  refresh(): void;
}

/** The plan of the run the form describes, made again (after a pause in typing) whenever valid inputs change. */
function useRunPlan(rb: Runnable['rb'], def: Runnable['def'], given: Record<string, unknown>, test: boolean, tenant: string): PlanState & { current: string } {
  const current = JSON.stringify([given, test, tenant]);
  const [nonce, setNonce] = useState(0);
  const [state, setState] = useState<Omit<PlanState, 'refresh'>>({ key: '' });
  const valid = useMemo(() => validateInputs(def, given).ok, [def, current]);
  useEffect(() => {
    if (!valid) return;
    let live = true;
    const t = setTimeout(async () => {
      setState((s) => ({ ...s, busy: true }));
      try {
        const plan = await planRun(rb.id, given, { test, tenant: tenant || undefined });
        if (live) setState({ key: current, plan });
      } catch (error) {
        if (live) setState({ key: current, error });
      }
    }, 600);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [current, valid, nonce]);
  return { ...state, busy: valid && (state.busy || state.key !== current), current: valid ? current : '', refresh: () => setNonce((n) => n + 1) };
}

function PlanPanel({ state }: { state: PlanState & { current: string } }) {
  if (!state.current) return <p className="muted small plan-hint">Fill in the form to see what the run would change.</p>;
  return (
    <div className="plan-panel" aria-busy={state.busy || undefined}>
      {state.error && state.key === state.current ? (
        <ErrorBanner error={state.error} onRetry={state.refresh} />
      ) : state.plan ? (
        <div className={state.key === state.current ? undefined : 'stale'}>
          <PlanView plan={state.plan} title="What this run would change" />
        </div>
      ) : (
        <Spinner label="Planning: reading the tenant" />
      )}
      <button type="button" className="btn btn-small btn-ghost" onClick={state.refresh} data-action="plan-run" disabled={state.busy}>
        {state.busy ? 'Planning…' : 'Plan again'}
      </button>
    </div>
  );
}

export function BulkForm({ rb, def }: Runnable) {
  const [csv, setCsv] = useState<{ name: string; text: string }>();
  const [report, setReport] = useState<BulkReport>();
  const [skipBad, setSkipBad] = useState(false);
  const [test, setTest] = useState(false);
  const [tenant, setTenant] = useState('');
  const [error, setError] = useState<unknown>();
  const [started, setStarted] = useState<{ batch: string; rows: number }>();
  const [busy, setBusy] = useState(false);

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    const text = await file.text();
    setCsv({ name: file.name, text });
    setStarted(undefined);
    setError(undefined);
    try {
      setReport(await api.startBulk({ runbookId: rb.id, csv: text, dryRun: true, skipBadRows: true }));
    } catch (err) {
      setError(err);
    }
  };

  // A row is bad while it has problems (after a start, bad rows that were skipped say so).
  const ok = (r: BulkReport['rows'][number]) => r.status !== 'error';
  const [rowPlans, setRowPlans] = useState<CsvPlan>();
  const previewRows = async (offset = 0) => {
    if (!csv) return;
    setError(undefined);
    try {
      setRowPlans(await api.planCsv({ runbookId: rb.id, csv: csv.text, test, tenant: tenant || undefined, page: { offset, limit: 10 } }));
    } catch (err) {
      setError(err);
    }
  };
  const good = report?.rows.filter(ok) ?? [];
  const bad = report?.rows.filter((r) => !ok(r)) ?? [];
  const fileProblems = report?.problems ?? [];
  const canStart = !!report && fileProblems.length === 0 && good.length > 0 && (bad.length === 0 || skipBad);

  const start = async () => {
    if (!report || !csv) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await api.startBulk({ runbookId: rb.id, csv: csv.text, skipBadRows: skipBad, test, tenant: tenant || undefined });
      if (!r.started) {
        setReport(r);
        throw new Error('The server started nothing: see the report');
      }
      setStarted({ batch: r.batch!, rows: r.started });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const columns = useMemo(() => def.inputs.map((i) => i.name).join(','), [def]);
  return (
    <div className="card bulk-form">
      <p>
        One run per row. The first row names the columns: <code>{columns || '(no inputs)'}</code>. Every row is checked before anything starts.
      </p>
      <label className="btn file-btn">
        {csv ? `Replace ${csv.name}` : 'Choose a CSV file'}
        <input type="file" accept=".csv,text/csv" onChange={onFile} data-field="csv" className="sr-only" />
      </label>
      {report && (
        <section className="bulk-report" aria-label="Validation report">
          <h3>
            {good.length} row{good.length === 1 ? '' : 's'} ready · {bad.length} with problems
          </h3>
          {fileProblems.map((p, i) => (
            <div key={i} className="field-problem">
              file: {p}
            </div>
          ))}
          <table className="table compact">
            <thead>
              <tr>
                <th>Row</th>
                <th>Result</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {report.rows.map((r) => (
                <tr key={r.line} className={ok(r) ? 'row-ok' : 'row-bad'} data-row={r.line}>
                  <td>{r.line}</td>
                  <td>{ok(r) ? <span className="badge status-succeeded">ready</span> : <span className="badge status-failed">problem</span>}</td>
                  <td>{ok(r) ? <span className="muted small">{Object.values(r.inputs).map(String).join(' · ')}</span> : r.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {bad.length > 0 && (
            <label className="check">
              <input type="checkbox" checked={skipBad} onChange={(e) => setSkipBad(e.target.checked)} /> Skip the {bad.length} bad row{bad.length === 1 ? '' : 's'} and start the others
            </label>
          )}
          <TargetChoice test={test} setTest={setTest} tenant={tenant} setTenant={setTenant} />
          <ErrorBanner error={error} />
          <button className="btn btn-primary" disabled={!canStart || busy || !!started} onClick={start} data-action="start-bulk">
            {busy ? 'Starting…' : `Start ${good.length} run${good.length === 1 ? '' : 's'}`}
          </button>
          {good.length > 0 && (
            <button className="btn" onClick={() => previewRows(0)} data-action="plan-rows">
              Preview changes
            </button>
          )}
          {!canStart && bad.length > 0 && !skipBad && <span className="muted small"> Fix the file, or choose to skip the bad rows.</span>}
          {rowPlans && (
            <section className="row-plans" aria-label="Plans of the rows">
              {rowPlans.rows.map((r) => (
                <div key={r.line} data-row-plan={r.line}>
                  {r.plan ? <PlanView plan={r.plan} title={`Line ${r.line}`} /> : <p className="field-problem">Line {r.line}: {r.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}</p>}
                </div>
              ))}
              {rowPlans.more > 0 && (
                <button className="btn btn-small" onClick={() => previewRows(rowPlans.offset + rowPlans.rows.length)}>
                  Next rows ({rowPlans.more} more)
                </button>
              )}
            </section>
          )}
        </section>
      )}
      {started && (
        <div className="banner banner-ok" role="status">
          Batch {started.batch}: {started.rows} row{started.rows === 1 ? '' : 's'} queued. <Link to={`/batches/${encodeURIComponent(started.batch)}`}>Follow the batch</Link>
        </div>
      )}
    </div>
  );
}
