// The inspector: the selected node's form. What is common to every step (id, label, notes) is here;
// each kind's own fields are its form in nodes/<kind>/Form.tsx, found through nodes/index.tsx. Every
// field shows its help text and the validator's problems for it (fields.tsx).
import { useEffect, useId, useState, type ComponentType } from 'react';
import type { NodeKind, RunbookNode } from '../../../runbook/definition.ts';
import { useEditor, useEditorStore } from './context.ts';
import { Field, TextField } from './fields.tsx';
import { KINDS } from './nodes/config.ts';
import { KindIcon } from './nodes/KindIcon.tsx';
import { FORMS } from './nodes/index.tsx';
import type { KindFormProps, Setter, Update } from './nodes/kind.ts';

function IdField({ nodeId }: { nodeId: string }) {
  const store = useEditorStore();
  const [text, setText] = useState(nodeId);
  const [error, setError] = useState<string>();
  useEffect(() => setText(nodeId), [nodeId]);
  const apply = () => {
    if (text === nodeId) return setError(undefined);
    const ok = store.getState().renameNode(nodeId, text);
    setError(ok ? undefined : `"${text}" cannot be used: letters, digits and _ only, starting with a letter, and not taken by another step`);
  };
  const id = useId();
  return (
    <Field label="Step id" field="id" nodeId={nodeId} help="Later steps read this step's output as steps.<id>.output" htmlFor={id}>
      <input id={id} value={text} onChange={(e) => setText(e.target.value)} onBlur={apply} onKeyDown={(e) => e.key === 'Enter' && apply()} className="mono" />
      {error && <div className="field-problem">{error}</div>}
    </Field>
  );
}

export function NodeInspector({ nodeId }: { nodeId: string }) {
  const store = useEditorStore();
  const def = useEditor((s) => s.nodes.find((n) => n.id === nodeId)?.data.def);
  if (!def) return null;
  const update: Update = (field, patch) => store.getState().updateNode(nodeId, patch, field);
  return (
    <div className="inspector" role="region" aria-label={`Step ${nodeId}`}>
      <div className="inspector-kind">
        <KindIcon kind={def.kind} /> {KINDS[def.kind].title}
      </div>
      <IdField nodeId={nodeId} />
      <StepForm nodeId={nodeId} def={def} update={update} />
    </div>
  );
}

/**
 * The fields of one step: a top-level one, or a step of a forEach body (then `nodeId` is
 * "loop.step", the id the validator gives its problems, and `update` writes into the body).
 */
function StepForm({ nodeId, def, update }: { nodeId: string; def: RunbookNode; update: Update }) {
  const set: Setter = (field, value) =>
    update(field, (d) => {
      const next = { ...d } as Record<string, unknown>;
      if (value === undefined || value === '') delete next[field];
      else next[field] = value;
      return next as RunbookNode;
    });
  // The registry pairs each kind with its own form; the cast only widens K to the union.
  const { Form, After } = FORMS[def.kind] as { Form: ComponentType<KindFormProps<NodeKind>>; After?: ComponentType<KindFormProps<NodeKind>> };
  const props = { nodeId, def: def as KindFormProps<NodeKind>['def'], update, set, StepForm };

  return (
    <>
      <TextField nodeId={nodeId} field="label" label="Label" value={def.label} onChange={(v) => set('label', v)} placeholder="What this step does, in a few words" />
      <Form {...props} />
      <TextField nodeId={nodeId} field="description" label="Notes" value={def.description} onChange={(v) => set('description', v)} multiline />
      {After && <After {...props} />}
    </>
  );
}
