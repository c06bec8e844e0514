// Problems as you type: the shared validator's messages, each pinned to its node and field.
// Clicking one selects the node and focuses the field. Below them, the Microsoft 365 rules
// checker's warnings (runbook/rules.ts): they do not block publishing; most offer a one-click fix.
import { useEditor, useEditorStore } from './context.ts';

export function ProblemsPanel({ onPick }: { onPick: (nodeId: string | undefined, field: string) => void }) {
  const problems = useEditor((s) => s.problems);
  const warnings = useEditor((s) => s.warnings);
  const readOnly = useEditor((s) => s.readOnly);
  const store = useEditorStore();
  return (
    <section className="problems" aria-label="Problems">
      <h2>
        {problems.length === 0 ? 'No problems' : `${problems.length} problem${problems.length > 1 ? 's' : ''}`}
        {problems.length > 0 && <span className="muted small"> · fix them to publish</span>}
        {warnings.length > 0 && (
          <span className="muted small">
            {' '}
            · {warnings.length} Microsoft 365 rule warning{warnings.length > 1 ? 's' : ''}
          </span>
        )}
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
      {warnings.length > 0 && (
        <ul aria-label="Rule warnings">
          {warnings.map((w, i) => (
            <li key={`${w.rule}:${w.nodeId}:${i}`} className={`rule-warning severity-${w.severity}`} data-rule={w.rule}>
              <button className="problem" onClick={() => store.getState().select([w.nodeId.split('.')[0]!])}>
                <span className="problem-where">
                  {w.nodeId} · {w.rule} ({w.severity})
                </span>
                <span className="problem-msg">{w.message}</span>
              </button>
              <a href={w.link} target="_blank" rel="noreferrer" className="small">
                Microsoft's guidance
              </a>
              {w.fix && !readOnly && (
                <button
                  className="rule-fix"
                  title={w.fix.description}
                  onClick={() => {
                    const id = store.getState().applyRuleFix(w.fix!);
                    store.getState().select([id.split('.')[0]!]);
                  }}
                >
                  Fix: {w.fix.description}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
