// Problems as you type: the shared validator's messages, each pinned to its node and field.
// Clicking one selects the node and focuses the field.
import { useEditor, useEditorStore } from './context.ts';

export function ProblemsPanel({ onPick }: { onPick: (nodeId: string | undefined, field: string) => void }) {
  const problems = useEditor((s) => s.problems);
  const store = useEditorStore();
  return (
    <section className="problems" aria-label="Problems">
      <h2>
        {problems.length === 0 ? 'No problems' : `${problems.length} problem${problems.length > 1 ? 's' : ''}`}
        {problems.length > 0 && <span className="muted small"> · fix them to publish</span>}
      </h2>
      {problems.length > 0 && (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              <button
                className="problem"
                onClick={() => {
                  if (p.nodeId) store.getState().select([p.nodeId]);
                  onPick(p.nodeId, p.field);
                }}
              >
                <span className="problem-where">{p.nodeId ? `${p.nodeId} · ${p.field}` : p.field}</span>
                <span className="problem-msg">{p.message}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
