// The loop's steps as the inspector edits them (a forEach node's "Steps per item").
import { ArrowDown, ArrowUp, X } from 'lucide-react';
import { useEffect, useId, useState } from 'react';
import type { ForEachNode, RunbookNode } from '../../../../../runbook/definition.ts';
import { useEditor } from '../../context.ts';
import { Field } from '../../fields.tsx';
import { KINDS } from '../config.ts';
import { KindIcon } from '../KindIcon.tsx';
import { newNode } from '../defaults.ts';
import type { StepFormComponent, Update } from '../kind.ts';
import { addBodyStep, bodySteps, isChain, moveBodyStep, removeBodyStep, renameBodyStep, updateBodyStep, type Body, type BodyStep, type NewBodyStep } from './body.ts';

const BODY_KINDS = ['action', 'approval', 'condition', 'delay', 'end'] as const;

/**
 * The loop's steps: a list, each step edited with the same form as a top-level step, added,
 * removed and reordered as a chain. A body that branches is edited step by step only; JSON is
 * there for anything else.
 */
export function BodyEditor({ nodeId, body, update, StepForm }: { nodeId: string; body: Body; update: Update; StepForm: StepFormComponent }) {
  const [json, setJson] = useState(false);
  const [open, setOpen] = useState<string>();
  const setBody = (field: string, next: (b: Body) => Body) => update(field, (d) => ({ ...d, body: next((d as ForEachNode).body) }) as RunbookNode);
  const steps = bodySteps(body);
  const chained = isChain(body);
  return (
    <Field label="Steps per item" field="body" nodeId={nodeId} help={json ? 'nodes and edges, as in a runbook' : 'Run in this order for each item; their expressions read the item as item'}>
      <label className="check small">
        <input type="checkbox" checked={json} onChange={(e) => setJson(e.target.checked)} aria-label="Edit the steps as JSON" /> Advanced: edit as JSON
      </label>
      {json ? (
        <BodyJson body={body} onChange={(b) => setBody('body', () => b as Body)} />
      ) : (
        <>
          {!chained && <p className="muted small">These steps branch: edit each one here, and their connections as JSON.</p>}
          <ol className="body-steps">
            {steps.map((step, i) => (
              <li key={step.id} className="body-step" data-body-step={step.id}>
                <div className="body-step-head">
                  <button className="btn btn-ghost btn-small grow" aria-expanded={open === step.id} onClick={() => setOpen(open === step.id ? undefined : step.id)}>
                    <KindIcon kind={step.kind} /> {step.label || step.id}
                    <span className="muted small"> {step.kind === 'action' ? step.action || 'choose an action' : KINDS[step.kind].title}</span>
                    <BodyStepProblems nodeId={`${nodeId}.${step.id}`} />
                  </button>
                  {chained && (
                    <>
                      <button className="btn btn-small btn-ghost" onClick={() => setBody('body', (b) => moveBodyStep(b, i, -1))} disabled={i === 0} aria-label={`Move ${step.id} up`}>
                        <ArrowUp size={14} aria-hidden />
                      </button>
                      <button className="btn btn-small btn-ghost" onClick={() => setBody('body', (b) => moveBodyStep(b, i, 1))} disabled={i === steps.length - 1} aria-label={`Move ${step.id} down`}>
                        <ArrowDown size={14} aria-hidden />
                      </button>
                      <button className="btn btn-small btn-danger-ghost" onClick={() => setBody('body', (b) => removeBodyStep(b, i))} disabled={steps.length === 1} aria-label={`Remove ${step.id}`}>
                        <X size={14} aria-hidden />
                      </button>
                    </>
                  )}
                </div>
                {open === step.id && (
                  <div className="body-step-form">
                    <BodyStepId id={step.id} onRename={(to) => {
                      const next = renameBodyStep(body, step.id, to);
                      if (next) {
                        setBody(`body.nodes[${i}].id`, () => next);
                        setOpen(to);
                      }
                      return next !== undefined;
                    }} />
                    <StepForm
                      nodeId={`${nodeId}.${step.id}`}
                      def={step}
                      update={(field, patch) => setBody(`body.${step.id}.${field}`, (b) => updateBodyStep(b, step.id, (n) => patch(n) as BodyStep))}
                    />
                  </div>
                )}
              </li>
            ))}
          </ol>
          {chained && (
            <label className="body-add">
              <span className="sr-only">Add a step</span>
              <select
                value=""
                aria-label="Add a step"
                onChange={(e) => {
                  const kind = e.target.value as (typeof BODY_KINDS)[number];
                  if (!kind) return;
                  const next = addBodyStep(body, newNode(kind) as NewBodyStep, kind === 'end' ? 'done' : kind);
                  setBody('body', () => next);
                  setOpen(next.nodes.find((n) => !body.nodes.some((m) => m.id === n.id))?.id);
                }}
              >
                <option value="">+ Add a step…</option>
                {BODY_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {KINDS[k].title}
                  </option>
                ))}
              </select>
            </label>
          )}
        </>
      )}
    </Field>
  );
}

function BodyStepProblems({ nodeId }: { nodeId: string }) {
  const n = useEditor((s) => s.problems.filter((p) => p.nodeId === nodeId).length);
  return n ? (
    <span className="flow-node-problems" role="img" aria-label={`${n} problems`}>
      {n}
    </span>
  ) : null;
}

function BodyStepId({ id, onRename }: { id: string; onRename: (to: string) => boolean }) {
  const [text, setText] = useState(id);
  const [error, setError] = useState<string>();
  useEffect(() => setText(id), [id]);
  const apply = () => setError(text === id || onRename(text) ? undefined : `"${text}" cannot be used: letters, digits and _ only, starting with a letter, and not taken by another step of the loop`);
  const htmlId = useId();
  return (
    <div className="field">
      <label className="field-label" htmlFor={htmlId}>
        Step id
      </label>
      <input id={htmlId} value={text} onChange={(e) => setText(e.target.value)} onBlur={apply} onKeyDown={(e) => e.key === 'Enter' && apply()} className="mono" />
      {error && <div className="field-problem">{error}</div>}
    </div>
  );
}

/** The loop's steps as JSON (the advanced view). */
function BodyJson({ body, onChange }: { body: unknown; onChange: (b: unknown) => void }) {
  const [text, setText] = useState(JSON.stringify(body, null, 2));
  const [bad, setBad] = useState<string>();
  return (
    <>
      <textarea
        className="expr"
        rows={8}
        value={text}
        aria-label="Steps per item"
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value));
            setBad(undefined);
          } catch (err) {
            setBad((err as Error).message);
          }
        }}
      />
      {bad && <div className="field-problem">{bad}</div>}
    </>
  );
}
