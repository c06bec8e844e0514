// Choosing a published runbook in a form that starts it later (a schedule, a trigger): the runbook
// list, the choice, and the chosen runbook's latest published definition (its inputs).
import { useMemo, useState } from 'react';
import { latestPublished, listRunbooks, loadRunbook } from '../repo.ts';
import { useAsync } from './kit.tsx';

export function usePublishedRunbook() {
  const runbooks = useAsync(() => listRunbooks(), []);
  const [runbookId, setRunbookId] = useState('');
  const rb = useAsync(async () => (runbookId ? loadRunbook(runbookId) : undefined), [runbookId]);
  const def = useMemo(() => (rb.data ? latestPublished(rb.data)?.definition : undefined), [rb.data]);
  const field = (
    <>
      <label className="field">
        <span className="field-label">Runbook</span>
        <select value={runbookId} onChange={(e) => setRunbookId(e.target.value)} required name="runbook">
          <option value="">Choose a published runbook…</option>
          {(runbooks.data ?? []).map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </label>
      {runbookId && rb.data && !def && <div className="banner banner-warn">This runbook has no published version yet.</div>}
    </>
  );
  return { runbookId, def, field };
}
