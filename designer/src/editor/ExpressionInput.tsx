// A text field that also takes expressions: typing inside "{{ }}" (or anywhere, for bare JSONata
// fields) offers runbook inputs, upstream step outputs and run context; the value is previewed on
// sample data so a designer sees what a step will receive before anything runs.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { evaluate, resolveTemplate } from '../../../runbook/expressions.ts';
import { useCatalog } from '../context.tsx';
import { useEditorStore } from './context.ts';
import { applyCompletion, completionsFor, filterCompletions, sampleContext, tokenAt, type Completion } from './expressions.ts';

export interface ExpressionInputProps {
  nodeId: string;
  value: string;
  onChange: (text: string) => void;
  /** Bare JSONata (conditions, delay until) instead of text with {{ }}. */
  bare?: boolean;
  multiline?: boolean;
  placeholder?: string;
  id?: string;
  list?: string;
  type?: string;
  invalid?: boolean;
  describedBy?: string;
}

export function ExpressionInput({ nodeId, value, onChange, bare, multiline, placeholder, id, list, type, invalid, describedBy }: ExpressionInputProps) {
  const store = useEditorStore();
  const { byId } = useCatalog();
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [open, setOpen] = useState<{ items: Completion[]; active: number } | undefined>();
  const listId = useId();

  const refresh = (text: string, cursor: number) => {
    const tok = tokenAt(text, cursor, bare);
    if (!tok) return setOpen(undefined);
    const items = filterCompletions(completionsFor(store.getState().definition(), nodeId, byId), tok.prefix);
    setOpen(items.length ? { items, active: 0 } : undefined);
  };

  const choose = (c: Completion) => {
    const el = ref.current;
    const cursor = el?.selectionStart ?? value.length;
    const next = applyCompletion(value, cursor, c, bare);
    onChange(next.text);
    setOpen(undefined);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(next.cursor, next.cursor);
    });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      const tok = tokenAt(value, ref.current?.selectionStart ?? value.length, true);
      const items = filterCompletions(completionsFor(store.getState().definition(), nodeId, byId), tok?.prefix ?? '');
      setOpen(items.length ? { items, active: 0 } : undefined);
      return;
    }
    if (!open) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const d = e.key === 'ArrowDown' ? 1 : -1;
      setOpen({ ...open, active: (open.active + d + open.items.length) % open.items.length });
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      choose(open.items[open.active]!);
    } else if (e.key === 'Escape') {
      e.stopPropagation();
      setOpen(undefined);
    }
  };

  const common = {
    ref,
    id,
    value,
    placeholder,
    list,
    'aria-invalid': invalid || undefined,
    'aria-describedby': describedBy,
    'aria-autocomplete': 'list' as const,
    'aria-controls': open ? listId : undefined,
    'aria-expanded': !!open,
    role: 'combobox',
    className: bare || value.includes('{{') ? 'expr' : undefined,
    spellCheck: false,
    onChange: (e: { target: { value: string; selectionStart: number | null } }) => {
      onChange(e.target.value);
      refresh(e.target.value, e.target.selectionStart ?? e.target.value.length);
    },
    onKeyDown,
    onBlur: () => setTimeout(() => setOpen(undefined), 150),
  };

  return (
    <div className="expr-input">
      {multiline ? <textarea rows={3} {...common} /> : <input type={type ?? 'text'} {...common} />}
      {open && (
        <ul className="completions" role="listbox" id={listId}>
          {open.items.map((c, i) => (
            <li
              key={c.text}
              role="option"
              aria-selected={i === open.active}
              className={i === open.active ? 'active' : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(c);
              }}
            >
              <code>{c.text}</code>
              <span className="muted small">{c.detail}</span>
            </li>
          ))}
        </ul>
      )}
      <Preview nodeId={nodeId} value={value} bare={bare} />
    </div>
  );
}

function Preview({ nodeId, value, bare }: { nodeId: string; value: string; bare?: boolean }) {
  const store = useEditorStore();
  const { byId } = useCatalog();
  const [out, setOut] = useState<{ ok: boolean; text: string }>();
  const active = bare ? value.trim() !== '' : value.includes('{{');
  useEffect(() => {
    if (!active) return setOut(undefined);
    let live = true;
    const t = setTimeout(() => {
      const ctx = sampleContext(store.getState().definition(), byId);
      (bare ? evaluate(value, ctx) : resolveTemplate(value, ctx)).then(
        (v) => live && setOut({ ok: true, text: v === undefined ? '(nothing)' : JSON.stringify(v) }),
        (err: Error) => live && setOut({ ok: false, text: err.message }),
      );
    }, 200);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [value, bare, active, nodeId, byId, store]);
  if (!out) return null;
  return (
    <div className={`preview ${out.ok ? '' : 'preview-error'}`} aria-live="polite">
      <span className="muted">Preview on sample data:</span> <code>{out.text}</code>
    </div>
  );
}
