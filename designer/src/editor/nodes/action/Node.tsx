// The action node on the canvas: the action's title and id, its first two parameters, its error
// handling when not "fail".
import type { NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { useCatalog } from '../../../context.tsx';
import type { FlowNode } from '../../store.ts';
import { KeyValue, NodeShell, short } from '../NodeShell.tsx';

export const ActionNode = memo((p: NodeProps<FlowNode>) => {
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
