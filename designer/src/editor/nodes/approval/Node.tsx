// The approval node on the canvas: who approves, and the timeout with what happens then.
import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNode } from '../../store.ts';
import { KeyValue, NodeShell, short } from '../NodeShell.tsx';

export const ApprovalNode = memo((p: NodeProps<FlowNode>) => {
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
