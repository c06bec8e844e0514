// The inspector's field controls, shared by every node kind's form and the runbook panel: a labelled
// field showing its help and the validator's problems for it, text (or expression) and list inputs.
import { useEffect, useId, useState, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useEditor } from './context.ts';
import { ExpressionInput } from './ExpressionInput.tsx';
import { parseList } from './forms.ts';

/** Problems of one node whose field is `field` or lies under it. */
function useFieldProblems(nodeId: string | undefined, field: string) {
  return useEditor(
    useShallow((s) =>
      s.problems
        .filter((p) => p.nodeId === nodeId && (p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`)))
        .map((p) => p.message),
    ),
  );
}

export function Field({
  label,
  field,
  nodeId,
  help,
  required,
  children,
  htmlFor,
}: {
  label: string;
  field: string;
  nodeId?: string;
  help?: ReactNode;
  required?: boolean;
  children: ReactNode;
  htmlFor?: string;
}) {
  const problems = useFieldProblems(nodeId, field);
  return (
    <div className={`field${problems.length ? ' field-invalid' : ''}`} data-field={field}>
      <label className="field-label" htmlFor={htmlFor}>
        {label}
        {required && <span className="req" role="img" aria-label="required"> *</span>}
      </label>
      {children}
      {help && <div className="help">{help}</div>}
      {problems.map((m, i) => (
        <div key={i} className="field-problem" role="alert">
          {m}
        </div>
      ))}
    </div>
  );
}

export function TextField({
  nodeId,
  field,
  label,
  value,
  onChange,
  help,
  expression,
  bare,
  multiline,
  placeholder,
}: {
  nodeId: string;
  field: string;
  label: string;
  value: string | undefined;
  onChange: (v: string) => void;
  help?: ReactNode;
  expression?: boolean;
  bare?: boolean;
  multiline?: boolean;
  placeholder?: string;
}) {
  const id = useId();
  return (
    <Field label={label} field={field} nodeId={nodeId} help={help} htmlFor={id}>
      {expression ? (
        <ExpressionInput id={id} nodeId={nodeId} value={value ?? ''} onChange={onChange} bare={bare} multiline={multiline} placeholder={placeholder} />
      ) : multiline ? (
        <textarea id={id} rows={2} value={value ?? ''} onChange={(e) => onChange(e.target.value)} placeholder={placeholder} />
      ) : (
        <input id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value)} placeholder={placeholder} />
      )}
    </Field>
  );
}

export function ListField({ nodeId, field, label, help, value, onChange }: { nodeId: string; field: string; label: string; help?: string; value: string[]; onChange: (v: string[]) => void }) {
  const [text, setText] = useState(value.join(', '));
  useEffect(() => {
    if (parseList(text).join(',') !== value.join(',')) setText(value.join(', '));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  const id = useId();
  return (
    <Field label={label} field={field} nodeId={nodeId} help={help} htmlFor={id}>
      <input
        id={id}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          onChange(parseList(e.target.value));
        }}
        placeholder="comma-separated"
      />
    </Field>
  );
}
