// The forEach node's inspector form: the list to loop over, how many items at a time, what a failed
// item does, and the steps run per item (BodyEditor.tsx).
import { Field, TextField } from '../../fields.tsx';
import type { KindFormProps } from '../kind.ts';
import { BodyEditor } from './BodyEditor.tsx';

export function ForEachForm({ nodeId, def, update, set, StepForm }: KindFormProps<'forEach'>) {
  return (
    <>
      <TextField nodeId={nodeId} field="items" label="Items" value={def.items} onChange={(v) => set('items', v)} expression bare help="A JSONata expression giving the list; the steps read each one as item" placeholder="inputs.users" />
      <Field label="At a time" field="concurrency" nodeId={nodeId}>
        <input type="number" min={1} max={100} value={def.concurrency} onChange={(e) => set('concurrency', Math.max(1, Number(e.target.value) || 1))} aria-label="Concurrency" />
      </Field>
      <Field label="When an item fails" field="onItemError" nodeId={nodeId}>
        <select value={def.onItemError} onChange={(e) => set('onItemError', e.target.value)} aria-label="On item error">
          <option value="continue">record it and go on</option>
          <option value="fail">stop the loop and fail</option>
        </select>
      </Field>
      <BodyEditor nodeId={nodeId} body={def.body} update={update} StepForm={StepForm} />
    </>
  );
}
