// The condition node on the canvas: its expression (or how many cases it switches on).
import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowNode } from '../../store.ts';
import { KeyValue, NodeShell, short } from '../NodeShell.tsx';

export const ConditionNode = memo((p: NodeProps<FlowNode>) => {
  const def = p.data.def;
  if (def.kind !== 'condition') return null;
  return (
    <NodeShell {...p} title={def.cases ? 'Switch' : 'Condition'}>
      <KeyValue k="if" v={short(def.expression || (def.cases ? `${def.cases.length} cases` : '—'))} />
    </NodeShell>
  );
});
