// The forEach node on the canvas: the list it loops over, how many steps, how many at a time.
import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNode } from '../../store.ts';
import { KeyValue, NodeShell, short } from '../NodeShell.tsx';

export const ForEachNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'forEach') return null;
  return (
    <NodeShell {...p} title="For each">
      <KeyValue k="over" v={short(def.items || '—')} />
      <KeyValue k="steps" v={`${def.body.nodes.length} · ${def.concurrency} at a time`} />
    </NodeShell>
  );
});
