// A run's plan (docs/plan.md), the way infrastructure-as-code tools show one: each step that would
// run, and what it would change, before -> after; "no change", "would fail: why", "changes not
// predicted", and values "known after the run". Used by the run form, the approvals inbox and the
// run view (what a step recorded).
import type { ActionPlan, Change } from '../../../catalog/contract.ts';
import { isKnownAfterRun } from '../../../catalog/contract.ts';
import type { RunPlan, StepPlan } from '../../../runbook/plan.ts';

function Value({ v }: { v: unknown }) {
  if (isKnownAfterRun(v)) return <span className="after-run">known after the run</span>;
  if (v === null || v === undefined) return <span className="muted">—</span>;
  if (typeof v === 'boolean') return <span className="mono">{v ? 'yes' : 'no'}</span>;
  if (Array.isArray(v)) return <span className="mono">{v.length ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ') : '(none)'}</span>;
  // A new credential's {keyId, displayName, endDateTime} holds values known only after the run.
  if (typeof v === 'object') return <span className="mono">{JSON.stringify(v, (_k, x: unknown) => (isKnownAfterRun(x) ? '(known after the run)' : x))}</span>;
  return <span className="mono">{String(v)}</span>;
}

const objectCell = (object: string) => (object.includes('known after the run') ? <span className="after-run">{object}</span> : object);

/** Changes as rows: object, property, before -> after (the object once, above, when they all share it). */
export function ChangesTable({ changes, caption }: { changes: Change[]; caption?: string }) {
  const single = changes.length > 0 && changes.every((c) => c.object === changes[0]!.object);
  return (
    <>
      {single && <p className="changes-object">{objectCell(changes[0]!.object)}</p>}
      <table className="table compact changes" aria-label={caption ?? 'Changes'} tabIndex={0}>
        <thead>
          <tr>
            {!single && <th>Object</th>}
            <th>Property</th>
            <th>Before</th>
            <th />
            <th>After</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c, i) => (
            <tr key={i} data-change={`${c.object}|${c.property}`}>
              {!single && <td>{objectCell(c.object)}</td>}
              <td className="mono small">{c.property}</td>
              <td>
                <Value v={c.before} />
              </td>
              <td aria-hidden="true">→</td>
              <td>
                <Value v={c.after} />
                {c.note && <div className="muted small">{c.note}</div>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Outcome({ plan }: { plan: ActionPlan }) {
  switch (plan.outcome) {
    case 'changes':
      return (
        <>
          <ChangesTable changes={plan.changes} />
          {plan.notes?.map((n, i) => (
            <p key={i} className="muted small">
              {n}
            </p>
          ))}
        </>
      );
    case 'no-change':
      return <p className="plan-outcome no-change">No change{plan.notes?.length ? `: ${plan.notes.join('; ')}` : ''}</p>;
    case 'would-fail':
      return (
        <div className="plan-outcome would-fail" role="alert">
          <strong>Would fail:</strong> {plan.reason}
          {plan.hint && <div className="small">{plan.hint}</div>}
          {plan.changes?.length ? <ChangesTable changes={plan.changes} caption="Changes before it fails" /> : null}
        </div>
      );
    case 'read':
      return <p className="plan-outcome muted small">Reads only (it ran during the plan).</p>;
    default:
      return <p className="plan-outcome not-predicted">{plan.reason}</p>;
  }
}

const RUNS: Record<StepPlan['runs'], string> = { yes: 'runs', if: 'runs if', no: 'does not run', done: 'already ran' };

function Step({ step }: { step: StepPlan }) {
  const changed = step.plan?.outcome === 'changes';
  return (
    <li className={`plan-step runs-${step.runs}${changed ? ' has-changes' : ''}`} data-plan-step={step.nodeId}>
      <div className="plan-step-head">
        <strong>{step.label ?? step.nodeId}</strong>
        <span className="muted small mono"> {step.action ?? step.kind}</span>
        <span className={`plan-runs runs-${step.runs}`}>
          {RUNS[step.runs]}
          {step.runs === 'if' && step.when ? ` ${step.when.join(' or ')}` : ''}
        </span>
      </div>
      {step.runs === 'no' && step.why && <p className="muted small">{step.why}</p>}
      {step.detail && <p className="small">{step.detail}</p>}
      {step.decided && <p className="small">Takes “{step.decided}”.</p>}
      {step.plan && step.runs !== 'no' && <Outcome plan={step.plan} />}
      {step.irreversible && changed && <p className="plan-outcome irreversible small">Cannot be undone: {step.irreversible}</p>}
      {step.loop && (
        <div className="plan-loop">
          {step.loop.total === null ? (
            <p className="small after-run">{step.loop.reason}</p>
          ) : (
            <>
              <p className="muted small">
                {step.loop.total} item{step.loop.total === 1 ? '' : 's'}
                {step.loop.items.length < step.loop.total ? `; items ${step.loop.offset + 1}–${step.loop.offset + step.loop.items.length} planned here` : ''}
              </p>
              <ol start={step.loop.offset + 1}>
                {step.loop.items.map((i) => (
                  <li key={i.index}>
                    <span className="mono small">{typeof i.item === 'string' ? i.item : JSON.stringify(i.item)}</span>
                    <ul className="plan-steps">
                      {i.steps.map((s) => (
                        <Step key={s.nodeId} step={s} />
                      ))}
                    </ul>
                  </li>
                ))}
              </ol>
              {step.loop.more > 0 && <p className="muted small">{step.loop.more} more item(s) not planned in this page.</p>}
            </>
          )}
        </div>
      )}
    </li>
  );
}

export function PlanSummaryLine({ plan }: { plan: RunPlan }) {
  const s = plan.summary;
  const parts = [`${s.changes} step${s.changes === 1 ? '' : 's'} change something (${s.changeRows} change${s.changeRows === 1 ? '' : 's'})`, `${s.noChange} without change`];
  if (s.wouldFail) parts.push(`${s.wouldFail} would fail`);
  if (s.notPredicted) parts.push(`${s.notPredicted} not predicted`);
  if (s.unknown) parts.push(`${s.unknown} known after the run`);
  if (s.planFailed) parts.push(`${s.planFailed} could not be planned`);
  if (s.irreversible) parts.push(`${s.irreversible} cannot be undone`);
  return <p className={`plan-summary${s.wouldFail ? ' has-failures' : ''}`}>{parts.join(' · ')}</p>;
}

/** A whole plan; steps that do not run are folded away. */
export function PlanView({ plan, title = 'Plan' }: { plan: RunPlan; title?: string }) {
  const running = plan.steps.filter((s) => s.runs !== 'no');
  const skipped = plan.steps.filter((s) => s.runs === 'no');
  return (
    <section className="plan" aria-label={title} data-plan={plan.gate ?? 'run'}>
      <h3>{title}</h3>
      <PlanSummaryLine plan={plan} />
      <ul className="plan-steps">
        {running.map((s) => (
          <Step key={s.nodeId} step={s} />
        ))}
      </ul>
      {skipped.length > 0 && (
        <details className="advanced">
          <summary>{skipped.length} step(s) that do not run</summary>
          <ul className="plan-steps">
            {skipped.map((s) => (
              <Step key={s.nodeId} step={s} />
            ))}
          </ul>
        </details>
      )}
      <p className="muted small">Planned {new Date(plan.plannedAt).toLocaleString()} against tenant {plan.tenant}; the tenant can change before the run.</p>
    </section>
  );
}
