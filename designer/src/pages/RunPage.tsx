// A run: the runbook's graph with each node coloured by its live state (the server's event stream,
// polling while it is not open), a side panel with the selected step's attempts, input, output and error, the
// approval buttons, cancel / retry / resume / re-run, and a timeline of step durations.
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import { useStore } from 'zustand';
import { OUTCOMES } from '../../../runbook/definition.ts';
import { changesIn, type Change } from '../../../catalog/contract.ts';
import type { RunPlan } from '../../../runbook/plan.ts';
import { api, client, type UndoAnswer } from '../api.ts';
import { useSession } from '../context.tsx';
import { Canvas } from '../editor/Canvas.tsx';
import { EditorContext, RunStateContext } from '../editor/context.ts';
import { editorStoreFor } from '../editor/store.ts';
import { applyRunEvent, useEventStream, type LiveMode } from '../live.ts';
import { loadRun, type RunView } from '../repo.ts';
import { Link, navigate } from '../router.tsx';
import { ago, duration, ErrorBanner, Json, Spinner, StatusBadge, useAsync } from '../ui/kit.tsx';
import { ChangesTable, PlanView } from '../ui/PlanView.tsx';

type NodeState = RunView['nodes'][string];

/** How a run ends: it no longer changes. */
const DONE: readonly RunView['status'][] = OUTCOMES;
/** The outcome banner's tone: green only for a plain success, never for a run with failures or warnings. */
const OUTCOME_TONE: Record<string, string> = {
  succeeded: 'banner-ok',
  'succeeded-with-warnings': 'banner-warn',
  'partially-failed': 'banner-error',
  failed: 'banner-error',
  'timed-out': 'banner-error',
  rejected: 'banner-neutral',
  cancelled: 'banner-neutral',
};
const EMPTY = editorStoreFor({ schemaVersion: 1, name: '-', inputs: [], nodes: [], edges: [], settings: { allowSelfApproval: false } }, { readOnly: true });

export function RunPage({ id }: { id: string }) {
  const [finished, setFinished] = useState(false);
  const [view, setView] = useState<RunView>();
  // While the run is going, its event stream updates nodes as they change; polling covers the gaps.
  const mode = useEventStream(
    finished ? undefined : client.url('GET /api/runs/:id/events', { params: { id } }),
    ['node', 'run', 'end'],
    (event, data) => {
      setView((r) => (r ? { ...r, ...applyRunEvent(r, event, data) } : r));
      if (event === 'end') run.reload();
    },
    'end',
  );
  const run = useAsync(() => loadRun(id), [id], finished || mode === 'live' ? undefined : 1000);
  useEffect(() => {
    if (run.data) setView(run.data);
    if (run.data && DONE.includes(run.data.status)) setFinished(true);
  }, [run.data]);
  if (run.error && !view) return <div className="page"><ErrorBanner error={run.error} onRetry={run.reload} /></div>;
  if (!view) return <Spinner label="Loading the run" />;
  return <RunScreen run={view} reload={run.reload} live={finished ? undefined : mode} />;
}

function RunScreen({ run, reload, live }: { run: RunView; reload: () => void; live?: LiveMode }) {
  const { user } = useSession();
  const def = run.definition;
  const store = useMemo(() => (def ? editorStoreFor(def, { readOnly: true }) : undefined), [def]);
  const selectedId = useStore(store ?? EMPTY, (s) => s.nodes.find((n) => n.selected)?.id);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const [undo, setUndo] = useState<UndoAnswer>();
  const generateUndo = async () => {
    setError(undefined);
    try {
      setUndo(await api.undoRun(run.id));
    } catch (err) {
      setError(err);
    }
  };
  const waiting = Object.values(run.nodes).filter((n) => n.status === 'waiting-approval');
  const focus = selectedId ?? waiting[0]?.id ?? Object.values(run.nodes).find((n) => n.status === 'failed' || n.status === 'paused')?.id;
  const node = focus ? run.nodes[focus] : undefined;
  const finished = DONE.includes(run.status);
  const states = Object.values(run.nodes);
  const total = def?.nodes.length ?? states.length;
  const done = states.filter((s) => ['succeeded', 'skipped', 'failed', 'cancelled'].includes(s.status)).length;

  const act = async (what: () => Promise<unknown>, ok: string) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await what();
      setNotice(ok);
      setTimeout(reload, 300);
    } catch (err) {
      setError(err);
    }
  };

  const rerun = async () => {
    try {
      const { id: rerunId } = await api.rerun(run.id);
      navigate(`/runs/${encodeURIComponent(rerunId)}`);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div className="run-page" data-live={live ?? 'finished'}>
      <header className="editor-bar">
        <Link to="/runs" className="btn btn-ghost btn-small" aria-label="Back to runs">
          ←
        </Link>
        <div className="run-title">
          <strong>{def?.name ?? run.runbook ?? 'Run'}</strong>
          <span className="muted small mono"> {run.id}</span>
        </div>
        <StatusBadge status={run.status} />
        {live && (
          <span className={`live-dot live-${live}`} title={live === 'live' ? 'Updated live by the server' : 'Checking every second'}>
            {live === 'live' ? 'live' : 'polling'}
          </span>
        )}
        <span className="muted small">
          {done}/{total} steps · started {ago(run.startedAt)} by {run.startedBy ?? '—'} · tenant {run.tenant ?? '—'}
        </span>
        <div className="grow" />
        <a className="btn btn-small" href={`/api/runs/${encodeURIComponent(run.id)}/evidence`} target="_blank" rel="noreferrer" data-action="evidence">
          Evidence pack
        </a>
        {run.temporalUrl && (
          <a className="btn btn-small btn-ghost" href={run.temporalUrl} target="_blank" rel="noreferrer">
            Temporal history
          </a>
        )}
        {!finished && (
          <button className="btn btn-small btn-danger" onClick={() => confirm('Cancel this run? Steps in flight are cancelled.') && act(() => api.cancel(run.id), 'Cancel requested')}>
            Cancel run
          </button>
        )}
        {finished && (
          <button className="btn btn-small" onClick={generateUndo} data-action="generate-undo" title="A draft runbook that puts back what this run changed">
            Generate undo
          </button>
        )}
        {finished && (
          <button className="btn btn-small" onClick={rerun}>
            Re-run
          </button>
        )}
      </header>
      {undo && <UndoResult undo={undo} />}
      {(error || notice || run.message || run.reason || run.record?.inTemporal === false) && (
        <div className="editor-notices">
          {run.message && (
            <div className={`banner run-outcome ${finished ? (OUTCOME_TONE[run.status] ?? 'banner-neutral') : 'banner-neutral'}`} data-outcome={run.status}>
              <strong>{run.message}</strong>
              {(run.warnings?.length ?? 0) > 0 && (
                <ul className="warnings" aria-label="Warnings">
                  {run.warnings!.map((w, i) => (
                    <li key={i}>{w}</li>
                  ))}
                </ul>
              )}
            </div>
          )}
          {run.reason && <div className="banner banner-neutral small">Why: {run.reason}</div>}
          {run.record?.inTemporal === false && (
            <div className="banner banner-neutral small" data-source="record">
              Shown from the run record: Temporal no longer keeps this run.
            </div>
          )}
          {notice && <div className="banner banner-ok" role="status">{notice}</div>}
          <ErrorBanner error={error} />
        </div>
      )}
      <div className="run-body">
        <div className="editor-center">
          {store ? (
            <EditorContext.Provider value={store}>
              <RunStateContext.Provider value={run.nodes}>
                <ReactFlowProvider>
                  <Canvas readOnly />
                </ReactFlowProvider>
              </RunStateContext.Provider>
            </EditorContext.Provider>
          ) : (
            <div className="empty-inline">The graph of this run is not known to this browser; its steps are listed on the right.</div>
          )}
          <Timeline run={run} />
        </div>
        <aside className="side" aria-label="Step details">
          <div className="side-body">
            {node ? (
              <StepPanel run={run} node={node} me={user} act={act} />
            ) : (
              <p className="empty-inline">Select a step to see its attempts, input and output.</p>
            )}
            <details className="advanced">
              <summary>Run inputs</summary>
              <Json value={run.inputs} />
            </details>
            {!store && (
              <ul className="step-list">
                {states.map((s) => (
                  <li key={s.id}>
                    {s.id} <StatusBadge status={s.status} />
                  </li>
                ))}
              </ul>
            )}
          </div>
        </aside>
      </div>
    </div>
  );
}

function StepPanel({ run, node, me, act }: { run: RunView; node: NodeState; me: string; act: (f: () => Promise<unknown>, ok: string) => void }) {
  const [comment, setComment] = useState('');
  const a = node.approval;
  // The run view lifts a step's changes out of its output; the live stream sends the output as the workflow has it.
  const stepChanges = ((node as { changes?: Change[] }).changes ?? changesIn(node.output)) as Change[] | undefined;
  return (
    <div className="step-panel" data-step={node.id}>
      <h2>
        {node.id} <StatusBadge status={node.status} />
      </h2>
      <dl className="facts">
        <dt>Kind</dt>
        <dd>{node.kind}</dd>
        <dt>Attempts</dt>
        <dd>{node.attempts}</dd>
        <dt>Started</dt>
        <dd>{node.startedAt ? new Date(node.startedAt).toLocaleTimeString() : '—'}</dd>
        <dt>Took</dt>
        <dd>{node.startedAt ? duration((node.endedAt ? Date.parse(node.endedAt) : Date.now()) - Date.parse(node.startedAt)) : '—'}</dd>
        {node.handle && (
          <>
            <dt>Went</dt>
            <dd>{node.handle}</dd>
          </>
        )}
      </dl>
      {(node.warnings?.length ?? 0) > 0 && (
        <ul className="step-warnings" aria-label="Step warnings">
          {node.warnings!.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      )}
      {node.error && (
        <div className="banner banner-error">
          <div>
            <strong>{node.error.message}</strong>
            {node.error.code && <div className="mono small">{node.error.code}</div>}
            {node.error.hint && <div>{node.error.hint}</div>}
          </div>
        </div>
      )}
      {node.status === 'waiting-approval' && (
        <div className="approval-box">
          {a?.message && <p className="approval-message">{a.message}</p>}
          {a && a.pendingApprovers.length > 0 && <p className="muted small">Waiting for: {a.pendingApprovers.join(', ')}</p>}
          {a?.deadline && <p className="muted small">Decides itself at {new Date(a.deadline).toLocaleString()}</p>}
          {run.startedBy?.toLowerCase() === me.toLowerCase() && !a?.allowSelfApproval ? (
            <p className="banner banner-warn">You started this run, so another approver has to decide.</p>
          ) : (
            <>
              <label className="field">
                <span className="field-label">Comment</span>
                <textarea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
              </label>
              <div className="row-actions">
                <button className="btn btn-primary" onClick={() => act(() => api.decide(run.id, node.id, 'approve', comment || undefined), 'Approved')}>
                  Approve
                </button>
                <button className="btn btn-danger" onClick={() => act(() => api.decide(run.id, node.id, 'reject', comment || undefined), 'Rejected')}>
                  Reject
                </button>
              </div>
            </>
          )}
        </div>
      )}
      {a && a.decisions.length > 0 && (
        <>
          <h3>Decisions</h3>
          <ul className="decisions">
            {a.decisions.map((d, i) => (
              <li key={i}>
                <strong>{d.decision === 'approve' ? 'Approved' : 'Rejected'}</strong> by {d.by} · {new Date(d.at).toLocaleString()}
                {d.comment && <div className="muted">“{d.comment}”</div>}
                {d.refused && <div className="error-text">refused: {d.refused}</div>}
              </li>
            ))}
          </ul>
        </>
      )}
      {(node.status === 'paused' || node.status === 'failed') && (
        <div className="row-actions">
          <button
            className="btn"
            onClick={() =>
              act(async () => {
                if (node.status === 'paused') return api.resume(run.id, node.id, 'retry');
                const r = await api.retry(run.id, node.id);
                if ('id' in r) navigate(`/runs/${encodeURIComponent(r.id)}`);
              }, 'Retry requested')
            }
          >
            Retry step
          </button>
          {node.status === 'paused' && (
            <>
              <button className="btn" onClick={() => act(() => api.resume(run.id, node.id, 'skip'), 'Skip requested')}>
                Skip
              </button>
              <button className="btn btn-danger" onClick={() => act(() => api.resume(run.id, node.id, 'abort'), 'Abort requested')}>
                Abort
              </button>
            </>
          )}
        </div>
      )}
      {node.kind === 'forEach' && <LoopItems node={node} />}
      {node.kind === 'subRunbook' && node.child && <ChildRun child={node.child} />}
      {a?.plan && <PlanView plan={a.plan as RunPlan} title="What approving lets run" />}
      {a?.planError && <p className="banner banner-warn">{a.planError}</p>}
      {stepChanges && (
        <>
          <h3>Changes</h3>
          {stepChanges.length ? <ChangesTable changes={stepChanges} caption="Changes this step made" /> : <p className="muted small">No change: everything already was as asked.</p>}
        </>
      )}
      <h3>Input</h3>
      <Json value={node.input} />
      <h3>Output</h3>
      <Json value={node.kind === 'forEach' ? undefined : node.output} />
    </div>
  );
}

/** A sub-runbook step's child run, inline: its runbook and outcome, a link to its own page, and its graph on demand. */
function ChildRun({ child }: { child: NonNullable<NodeState['child']> }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="child-run" data-child-run={child.runId}>
      <h3>Sub-runbook</h3>
      <dl className="facts">
        <dt>Runbook</dt>
        <dd>
          {child.runbook} v{child.version}
        </dd>
        <dt>Outcome</dt>
        <dd>{child.status ? <StatusBadge status={child.status} /> : 'running'}</dd>
      </dl>
      {child.message && <p>{child.message}</p>}
      <div className="row">
        <Link to={`/runs/${encodeURIComponent(child.runId)}`}>Open the child run</Link>
        <button className="btn btn-small btn-ghost" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide its steps' : 'Show its steps'}
        </button>
      </div>
      {open && <ChildGraph id={child.runId} />}
    </div>
  );
}

function ChildGraph({ id }: { id: string }) {
  const run = useAsync(() => loadRun(id), [id], 2000);
  const store = useMemo(() => (run.data?.definition ? editorStoreFor(run.data.definition, { readOnly: true }) : undefined), [run.data?.definition]);
  if (run.error) return <ErrorBanner error={run.error} onRetry={run.reload} />;
  if (!run.data || !store) return <Spinner label="Loading the child run" />;
  return (
    <div className="child-graph" style={{ height: 260 }}>
      <EditorContext.Provider value={store}>
        <RunStateContext.Provider value={run.data.nodes}>
          <ReactFlowProvider>
            <Canvas readOnly />
          </ReactFlowProvider>
        </RunStateContext.Provider>
      </EditorContext.Provider>
    </div>
  );
}

interface LoopItem {
  index: number;
  status: string;
  runId?: string;
  error?: { message: string; code?: string };
  output?: unknown;
}

/** A loop's per-item results: status, error, and a link to each item's own run. */
function LoopItems({ node }: { node: NodeState }) {
  const out = node.output as { items?: LoopItem[]; truncated?: boolean; total?: number; outputsOmitted?: number } | undefined;
  const [filter, setFilter] = useState<'all' | 'failed'>('all');
  const items = (out?.items ?? []).filter((i) => filter === 'all' || i.status === 'failed');
  const p = node.progress;
  return (
    <section className="loop-items" aria-label="Items">
      <h3>
        Items {p && <span className="muted small">{p.done}/{p.total} done · {p.succeeded} succeeded · {p.failed} failed</span>}
      </h3>
      <div className="chips">
        <button className={filter === 'all' ? 'chip active' : 'chip'} onClick={() => setFilter('all')}>
          All
        </button>
        <button className={filter === 'failed' ? 'chip active' : 'chip'} onClick={() => setFilter('failed')}>
          Failed
        </button>
      </div>
      {items.length === 0 ? (
        <p className="muted small">{out?.items ? 'No item matches.' : 'Items appear as they finish.'}</p>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th>#</th>
              <th>Status</th>
              <th>Error</th>
              <th>Run</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.index} data-item={i.index}>
                <td>{i.index + 1}</td>
                <td>
                  <StatusBadge status={i.status} />
                </td>
                <td className="small error-text">{i.error?.message ?? ''}</td>
                <td>{i.runId ? <Link to={`/runs/${encodeURIComponent(i.runId)}`}>open</Link> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {out?.truncated && <p className="muted small">Only the first {out.items?.length} of {out.total} items are listed; open the item runs from the runs board.</p>}
      {!!out?.outputsOmitted && <p className="muted small">{out.outputsOmitted} items are listed without their output (the loop keeps outputs up to a size limit); each item's run shows its own.</p>}
    </section>
  );
}

function Timeline({ run }: { run: RunView }) {
  const steps = Object.values(run.nodes).filter((n) => n.startedAt);
  if (!steps.length) return null;
  const t0 = Math.min(...steps.map((s) => Date.parse(s.startedAt!)));
  const now = run.endedAt ? Date.parse(run.endedAt) : Date.now();
  const t1 = Math.max(now, ...steps.map((s) => (s.endedAt ? Date.parse(s.endedAt) : now)));
  const span = Math.max(1, t1 - t0);
  return (
    <section className="timeline" aria-label="Timeline">
      <h2>Timeline</h2>
      <ul>
        {steps
          .sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!))
          .map((s) => {
            const start = Date.parse(s.startedAt!);
            const end = s.endedAt ? Date.parse(s.endedAt) : now;
            return (
              <li key={s.id}>
                <span className="timeline-label mono">{s.id}</span>
                <span className="timeline-track">
                  <span className={`timeline-bar status-${s.status}`} style={{ left: `${((start - t0) / span) * 100}%`, width: `${Math.max(0.5, ((end - start) / span) * 100)}%` }} />
                </span>
                <span className="timeline-dur muted small">{duration(end - start)}</span>
              </li>
            );
          })}
      </ul>
    </section>
  );
}

/** The answer of "Generate undo": the draft to review, and what it does not undo. */
function UndoResult({ undo }: { undo: UndoAnswer }) {
  const draft = undo.definition as { name?: string; nodes?: unknown[] } | undefined;
  const steps = draft?.nodes?.length ?? 0;
  return (
    <div className="editor-notices">
      <div className={`banner ${undo.runbookId ? 'banner-ok' : 'banner-warn'}`} role="status" data-undo={undo.runbookId ?? 'none'}>
        <div>
          {undo.runbookId ? (
            <>
              Created the draft undo runbook <Link to={`/runbooks/${encodeURIComponent(undo.runbookId)}`}>{draft?.name ?? undo.runbookId}</Link> ({steps} step
              {steps === 1 ? '' : 's'}). Review it, publish it, then run it.
            </>
          ) : (
            undo.message
          )}
          {undo.notUndone.length > 0 && (
            <>
              <div>Not undone:</div>
              <ul className="not-undone">
                {undo.notUndone.map((e, i) => (
                  <li key={i}>
                    <span className="mono">{e.nodeId}</span> ({e.action}): {e.reason}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      </div>
    </div>
  );
}
