// The approvals inbox: steps waiting for me, with the run's context; approve or reject with a
// comment (always a POST: links never decide).
import { useState } from 'react';
import { api, type ApprovalTask } from '../api.ts';
import { useSession } from '../context.tsx';
import { listApprovals } from '../repo.ts';
import { Link } from '../router.tsx';
import { ago, Empty, ErrorBanner, PageHeader, Spinner, useAsync } from '../ui/kit.tsx';
import { PlanView } from '../ui/PlanView.tsx';

export function ApprovalsPage() {
  const { user } = useSession();
  const inbox = useAsync(() => listApprovals(), [user], 3000);
  return (
    <div className="page narrow">
      <PageHeader title="Approvals" subtitle="Steps waiting for your decision." />
      <ErrorBanner error={inbox.error} onRetry={inbox.reload} />
      {!inbox.data ? (
        <Spinner />
      ) : inbox.data.length === 0 ? (
        <Empty title="Nothing waits for you">When a run needs your approval it shows up here.</Empty>
      ) : (
        <ul className="inbox">
          {inbox.data.map((t) => (
            <Task key={`${t.runId}/${t.nodeId}`} task={t} onDone={inbox.reload} />
          ))}
        </ul>
      )}
    </div>
  );
}

function Task({ task, onDone }: { task: ApprovalTask; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [decided, setDecided] = useState<string>();
  const mine = !task.canDecide;
  const inputs = (task.inputs ?? {}) as Record<string, unknown>;
  const decide = async (d: 'approve' | 'reject') => {
    setBusy(true);
    setError(undefined);
    try {
      await api.decide(task.runId, task.nodeId, d, comment || undefined);
      setDecided(d === 'approve' ? 'Approved' : 'Rejected');
      setTimeout(onDone, 800);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="card task" data-task={`${task.runId}/${task.nodeId}`}>
      <div className="task-head">
        <strong>{task.runbookName ?? task.runbook ?? 'Runbook'}</strong>
        <span className="muted small">
          · step {task.nodeId} · requested by {task.startedBy ?? '—'} {ago(task.startedAt)}
        </span>
        <Link className="btn btn-small btn-ghost" to={`/runs/${encodeURIComponent(task.runId)}`}>
          Open run
        </Link>
      </div>
      {task.message && <p className="approval-message">{task.message}</p>}
      {Object.keys(inputs).length > 0 && (
        <dl className="facts inline">
          {Object.entries(inputs).map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{String(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      {task.onApproval && task.onApproval.length > 0 && (
        <p className="small">
          <span className="muted">When approved: </span>
          {task.onApproval.map((n) => n.title ?? n.label ?? n.id).join(', ')}
        </p>
      )}
      {task.plan ? (
        <PlanView plan={task.plan} title="What approving lets run" />
      ) : (
        task.planError && <p className="banner banner-warn">{task.planError}</p>
      )}
      {task.deadline && <p className="muted small">Decides itself {new Date(task.deadline).toLocaleString()}</p>}
      {decided ? (
        <div className="banner banner-ok" role="status">
          {decided}
        </div>
      ) : mine ? (
        <p className="muted small">You started this run, so another approver decides.</p>
      ) : (
        <>
          <textarea rows={2} placeholder="Comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} aria-label="Comment" />
          <div className="row-actions">
            <button className="btn btn-primary" disabled={busy} onClick={() => decide('approve')}>
              Approve
            </button>
            <button className="btn btn-danger" disabled={busy} onClick={() => decide('reject')}>
              Reject
            </button>
          </div>
        </>
      )}
      <ErrorBanner error={error} />
    </li>
  );
}
