// The end node on the canvas: the run's final status and message.
import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNode } from '../../store.ts';
import { NodeShell, short } from '../NodeShell.tsx';

export const EndNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'end') return null;
  return (
    <NodeShell {...p} title={def.status === 'failed' ? 'End (failed)' : 'End'}>
      {def.message && <div className="flow-node-action">{short(def.message)}</div>}
    </NodeShell>
  );
});
