// The sub-runbook node on the canvas: which runbook, which version.
import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNode } from '../../store.ts';
import { KeyValue, NodeShell, short } from '../NodeShell.tsx';

export const SubRunbookNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'subRunbook') return null;
  return (
    <NodeShell {...p} title="Sub-runbook">
      <div className="flow-node-action">{short(def.runbook || '—')}</div>
      <KeyValue k="version" v={def.pinned ? `${def.pinned.version} (pinned)` : String(def.version)} />
    </NodeShell>
  );
});
