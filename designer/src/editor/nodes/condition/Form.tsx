// The condition node's inspector form: the JSONata expression it branches on.
import { TextField } from '../../fields.tsx';
import type { KindFormProps } from '../kind.ts';

export function ConditionForm({ nodeId, def, set }: KindFormProps<'condition'>) {
  return (
    <TextField nodeId={nodeId} field="expression" label="Expression" value={def.expression} onChange={(v) => set('expression', v)} expression bare help='JSONata; true follows "true", anything else "false". Ctrl+Space completes.' placeholder="inputs.department = 'Finance'" />
  );
}
