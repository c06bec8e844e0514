// The delay node on the canvas: how long, or until when.
import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNode } from '../../store.ts';
import { KeyValue, NodeShell, short } from '../NodeShell.tsx';

export const DelayNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'delay') return null;
  return (
    <NodeShell {...p} title="Delay">
      <KeyValue k={def.until ? 'until' : 'wait'} v={short(def.until ?? def.duration ?? '—')} />
    </NodeShell>
  );
});
