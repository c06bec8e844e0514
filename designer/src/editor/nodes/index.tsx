// One component per node kind on the shared shell, and the nodeTypes map React Flow uses.
import type { NodeProps, NodeTypes } from '@xyflow/react';
import { memo } from 'react';
import { useCatalog } from '../../context.tsx';
import type { FlowNode } from '../store.ts';
import { KeyValue, NodeShell } from './NodeShell.tsx';

const short = (v: unknown) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 38 ? `${s.slice(0, 36)}…` : s;
};

const ActionNode = memo((p: NodeProps<FlowNode>) => {
  const { byId } = useCatalog();
  const def = p.data.def;
  if (def.kind !== 'action') return null;
  const action = byId.get(def.action);
  const params = Object.entries(def.params ?? {}).filter(([, v]) => v !== undefined && v !== '').slice(0, 2);
  return (
    <NodeShell {...p} title={action?.title ?? (def.action || 'Choose an action')}>
      <div className="flow-node-action">{def.action || 'no action chosen'}</div>
      {params.map(([k, v]) => (
        <KeyValue key={k} k={k} v={short(v)} />
      ))}
      {def.onError !== 'fail' && <KeyValue k="on error" v={def.onError} />}
    </NodeShell>
  );
});

const ApprovalNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'approval') return null;
  const a = def.approvers ?? {};
  const who = [...(a.users ?? []), ...(a.roles ?? []).map((r) => `role ${r}`), ...(a.groups ?? []).map((g) => `group ${g}`)];
  return (
    <NodeShell {...p} title="Approval">
      <KeyValue k="approvers" v={who.length ? short(who.join(', ')) : 'nobody yet'} />
      {def.timeout && <KeyValue k="timeout" v={`${def.timeout} → ${def.onTimeout}`} />}
    </NodeShell>
  );
});

const ConditionNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'condition') return null;
  return (
    <NodeShell {...p} title={def.cases ? 'Switch' : 'Condition'}>
      <KeyValue k="if" v={short(def.expression || (def.cases ? `${def.cases.length} cases` : '—'))} />
    </NodeShell>
  );
});

const DelayNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'delay') return null;
  return (
    <NodeShell {...p} title="Delay">
      <KeyValue k={def.until ? 'until' : 'wait'} v={short(def.until ?? def.duration ?? '—')} />
    </NodeShell>
  );
});

const EndNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'end') return null;
  return (
    <NodeShell {...p} title={def.status === 'failed' ? 'End (failed)' : 'End'}>
      {def.message && <div className="flow-node-action">{short(def.message)}</div>}
    </NodeShell>
  );
});

const ForEachNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'forEach') return null;
  return (
    <NodeShell {...p} title="For each">
      <KeyValue k="over" v={short(def.items || '—')} />
      <KeyValue k="steps" v={`${def.body.nodes.length} · ${def.concurrency} at a time`} />
    </NodeShell>
  );
});

export const nodeTypes: NodeTypes = {
  forEach: ForEachNode,
  action: ActionNode,
  approval: ApprovalNode,
  condition: ConditionNode,
  delay: DelayNode,
  end: EndNode,
};
