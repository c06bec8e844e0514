// The shared shell of every node: header (kind icon, label, id), a body with the node's key facts,
// problem count, live run state, one target handle on top and one source handle per handlesOf().
import { Handle, Position, type NodeProps } from '@xyflow/react';
import type { ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { handlesOf } from '../../../../runbook/definition.ts';
import { useNodeRunState, useEditor } from '../context.ts';
import type { FlowNode } from '../store.ts';
import { HANDLE_LABELS, KINDS } from './config.ts';

export function NodeShell({ id, data, selected, title, children }: NodeProps<FlowNode> & { title: string; children?: ReactNode }) {
  const def = data.def;
  const problems = useEditor(useShallow((s) => s.problems.filter((p) => p.nodeId === id)));
  const run = useNodeRunState(id);
  const handles = handlesOf({ ...def, id });
  const kind = KINDS[def.kind];
  const state = run?.status;
  return (
    <div
      className={`flow-node kind-${def.kind}${selected ? ' selected' : ''}${problems.length ? ' has-problems' : ''}${state ? ` run-${state}` : ''}`}
      data-node-id={id}
      data-status={state}
      title={problems.map((p) => `${p.field}: ${p.message}`).join('\n') || undefined}
    >
      <Handle type="target" position={Position.Top} className="handle-in" />
      <div className="flow-node-head">
        <span className="flow-node-icon" aria-hidden>
          <kind.icon size={14} strokeWidth={2.25} />
        </span>
        <span className="flow-node-title">{def.label || title}</span>
        {problems.length > 0 && (
          <span className="flow-node-problems" role="img" aria-label={`${problems.length} problems`}>
            {problems.length}
          </span>
        )}
        {state && <span className={`dot status-${state}`} role="img" aria-label={state} />}
      </div>
      <div className="flow-node-body">
        <div className="flow-node-id">{id}</div>
        {children}
        {run?.progress && (
          <div className="flow-node-progress" data-progress={`${run.progress.done}/${run.progress.total}`} title={`${run.progress.succeeded} succeeded, ${run.progress.failed} failed`}>
            <div className="progress">
              <span style={{ width: `${(run.progress.done / Math.max(1, run.progress.total)) * 100}%` }} />
            </div>
            <span className="small">
              {run.progress.done}/{run.progress.total} items{run.progress.failed > 0 && <span className="error-text"> · {run.progress.failed} failed</span>}
            </span>
          </div>
        )}
        {run && (run.attempts > 1 || run.error) && (
          <div className="flow-node-run">
            {run.attempts > 1 && <span>attempt {run.attempts}</span>}
            {run.error && <span className="error-text"> {run.error.message}</span>}
          </div>
        )}
      </div>
      {handles.length > 0 && (
        <div className="flow-node-handles">
          {handles.map((h, i) => (
            <Handle
              key={h}
              id={h}
              type="source"
              position={Position.Bottom}
              className={`handle-out handle-${h}`}
              style={{ left: `${((i + 1) / (handles.length + 1)) * 100}%` }}
              title={HANDLE_LABELS[h] ?? h}
            >
              {handles.length > 1 && <span className="handle-label">{HANDLE_LABELS[h] ?? h}</span>}
            </Handle>
          ))}
        </div>
      )}
    </div>
  );
}

export const KeyValue = ({ k, v }: { k: string; v: unknown }) => (
  <div className="kv">
    <span className="kv-k">{k}</span>
    <span className="kv-v">{typeof v === 'string' ? v : JSON.stringify(v)}</span>
  </div>
);

/** A value shortened to fit a node's body. */
export const short = (v: unknown) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 38 ? `${s.slice(0, 36)}…` : s;
};
