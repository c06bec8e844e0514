// The delay node's inspector form: a duration, or an expression giving the date to wait until.
import { TextField } from '../../fields.tsx';
import type { KindFormProps } from '../kind.ts';

export function DelayForm({ nodeId, def, set }: KindFormProps<'delay'>) {
  return (
    <>
      <TextField nodeId={nodeId} field="duration" label="Wait for" value={def.duration === undefined ? '' : String(def.duration)} onChange={(v) => set('duration', v)} placeholder="30s, 5m, 2h, 1d" help="Or leave empty and wait until a date" />
      <TextField nodeId={nodeId} field="until" label="Wait until" value={def.until} onChange={(v) => set('until', v)} expression bare placeholder="$fromMillis($toMillis(inputs.leaveDate) + 30*86400000)" help="A JSONata expression giving a date" />
    </>
  );
}
