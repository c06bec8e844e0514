// The end node's inspector form: the run's final status and message.
import { Field, TextField } from '../../fields.tsx';
import type { KindFormProps } from '../kind.ts';

export function EndForm({ nodeId, def, set }: KindFormProps<'end'>) {
  return (
    <>
      <Field label="Run status" field="status" nodeId={nodeId}>
        <select value={def.status} onChange={(e) => set('status', e.target.value)} aria-label="Run status">
          <option value="succeeded">succeeded</option>
          <option value="failed">failed</option>
        </select>
      </Field>
      <TextField nodeId={nodeId} field="message" label="Message" value={def.message} onChange={(v) => set('message', v)} />
    </>
  );
}
