// The runbook's own settings: name, description, the inputs (which are the run form and the CSV
// columns), and defaults for retries, timeouts and notifications.
import { ArrowDown, ArrowUp } from 'lucide-react';
import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { INPUT_TYPES, type RunbookInput, type RunbookSettings } from '../../../runbook/definition.ts';
import { useEditor, useEditorStore } from './context.ts';
import { parseList } from './forms.ts';
import { Field } from './fields.tsx';

function useMetaProblems(prefix: string) {
  return useEditor(useShallow((s) => s.problems.filter((p) => !p.nodeId && p.field.startsWith(prefix)).map((p) => `${p.field}: ${p.message}`)));
}

export function InputsEditor() {
  const store = useEditorStore();
  const inputs = useEditor((s) => s.meta.inputs);
  const problems = useMetaProblems('inputs');
  const setInput = (i: number, patch: Partial<RunbookInput>, field: string) =>
    store.getState().updateMeta((m) => ({ ...m, inputs: m.inputs.map((x, j) => (j === i ? clean({ ...x, ...patch }) : x)) }), `inputs[${i}].${field}`);
  const add = () =>
    store.getState().updateMeta((m) => {
      const taken = new Set(m.inputs.map((i) => i.name));
      let name = 'input';
      for (let n = 2; taken.has(name); n++) name = `input${n}`;
      return { ...m, inputs: [...m.inputs, { name, type: 'string', required: false }] };
    });
  const remove = (i: number) => store.getState().updateMeta((m) => ({ ...m, inputs: m.inputs.filter((_, j) => j !== i) }));
  const move = (i: number, d: number) =>
    store.getState().updateMeta((m) => {
      const next = [...m.inputs];
      const [x] = next.splice(i, 1);
      next.splice(Math.max(0, Math.min(next.length, i + d)), 0, x!);
      return { ...m, inputs: next };
    });

  return (
    <div className="inputs-editor">
      <p className="muted small">Inputs are the run form's fields and the columns of a bulk CSV. Steps read them as <code>inputs.name</code>.</p>
      {inputs.length === 0 && <p className="empty-inline">No inputs yet: this runbook runs without a form.</p>}
      {inputs.map((input, i) => (
        <fieldset key={i} className="input-card" data-input={input.name}>
          <legend className="sr-only">Input {input.name}</legend>
          <div className="row">
            <label className="grow">
              <span className="field-label">Name</span>
              <input className="mono" value={input.name} onChange={(e) => setInput(i, { name: e.target.value }, 'name')} aria-label="Input name" />
            </label>
            <label>
              <span className="field-label">Type</span>
              <select value={input.type} onChange={(e) => setInput(i, { type: e.target.value as RunbookInput['type'] }, 'type')} aria-label="Input type">
                {INPUT_TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </label>
          </div>
          <label>
            <span className="field-label">Label on the form</span>
            <input value={input.title ?? ''} onChange={(e) => setInput(i, { title: e.target.value || undefined }, 'title')} aria-label="Input label" />
          </label>
          <div className="row">
            <label className="grow">
              <span className="field-label">Default</span>
              <input value={input.default === undefined ? '' : String(input.default)} onChange={(e) => setInput(i, { default: e.target.value || undefined }, 'default')} aria-label="Input default" />
            </label>
            <label className="check">
              <input type="checkbox" checked={input.required} onChange={(e) => setInput(i, { required: e.target.checked }, 'required')} /> Required
            </label>
            <label className="check" title="A password or key: masked on the run form, never prefilled from a link, sealed before the run starts, shown nowhere">
              <input type="checkbox" checked={!!input.secret} onChange={(e) => setInput(i, { secret: e.target.checked || undefined }, 'secret')} aria-label="Secret" /> Secret
            </label>
          </div>
          <details>
            <summary>More</summary>
            <label>
              <span className="field-label">Help text</span>
              <input value={input.description ?? ''} onChange={(e) => setInput(i, { description: e.target.value || undefined }, 'description')} />
            </label>
            <label>
              <span className="field-label">Pattern (regular expression)</span>
              <input className="mono" value={input.pattern ?? ''} onChange={(e) => setInput(i, { pattern: e.target.value || undefined }, 'pattern')} />
            </label>
            <label>
              <span className="field-label">Allowed values</span>
              <input value={(input.options ?? []).join(', ')} onChange={(e) => setInput(i, { options: e.target.value ? parseList(e.target.value) : undefined }, 'options')} placeholder="comma-separated" />
            </label>
          </details>
          <div className="row-actions">
            <button className="btn btn-small btn-ghost" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move ${input.name} up`}>
              <ArrowUp size={14} aria-hidden />
            </button>
            <button className="btn btn-small btn-ghost" onClick={() => move(i, 1)} disabled={i === inputs.length - 1} aria-label={`Move ${input.name} down`}>
              <ArrowDown size={14} aria-hidden />
            </button>
            <button className="btn btn-small btn-danger-ghost" onClick={() => remove(i)}>
              Remove
            </button>
          </div>
        </fieldset>
      ))}
      {problems.map((p, i) => (
        <div key={i} className="field-problem">
          {p}
        </div>
      ))}
      <button className="btn" onClick={add}>
        + Add input
      </button>
    </div>
  );
}

function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function SettingsEditor() {
  const store = useEditorStore();
  const meta = useEditor(useShallow((s) => ({ name: s.meta.name, description: s.meta.description, settings: s.meta.settings })));
  const setSettings = (patch: Partial<RunbookSettings>, field: string) => store.getState().updateMeta((m) => ({ ...m, settings: clean({ ...m.settings, ...patch }) }), field);
  const nameId = useId();
  const notif = meta.settings.notifications ?? { onComplete: [], onFailure: [], onApproval: [] };
  return (
    <div className="settings-editor">
      <Field label="Name" field="name" htmlFor={nameId} required>
        <input id={nameId} value={meta.name} onChange={(e) => store.getState().updateMeta((m) => ({ ...m, name: e.target.value }), 'name')} />
      </Field>
      <Field label="Description" field="description">
        <textarea rows={2} value={meta.description ?? ''} onChange={(e) => store.getState().updateMeta((m) => ({ ...m, description: e.target.value || undefined }), 'description')} aria-label="Description" />
      </Field>
      <h3>Defaults for every step</h3>
      <div className="row">
        <Field label="Attempts" field="settings.defaultRetry">
          <input
            type="number"
            min={1}
            max={100}
            aria-label="Default attempts"
            value={meta.settings.defaultRetry?.maximumAttempts ?? ''}
            onChange={(e) => setSettings({ defaultRetry: e.target.value ? { ...meta.settings.defaultRetry, maximumAttempts: Number(e.target.value) } : undefined }, 'defaultRetry')}
          />
        </Field>
        <Field label="Timeout per attempt" field="settings.defaultTimeout">
          <input aria-label="Default timeout" placeholder="e.g. 5m" value={meta.settings.defaultTimeout === undefined ? '' : String(meta.settings.defaultTimeout)} onChange={(e) => setSettings({ defaultTimeout: e.target.value || undefined }, 'defaultTimeout')} />
        </Field>
      </div>
      <label className="check">
        <input type="checkbox" checked={meta.settings.allowSelfApproval} onChange={(e) => setSettings({ allowSelfApproval: e.target.checked }, 'allowSelfApproval')} /> Let the person who starts a run approve its steps
      </label>
      <h3>Notifications</h3>
      <p className="muted small">Email addresses or webhook URLs, comma-separated.</p>
      {(['onComplete', 'onFailure', 'onApproval'] as const).map((k) => (
        <Field key={k} label={{ onComplete: 'When a run completes', onFailure: 'When a run fails', onApproval: 'When a run waits for approval' }[k]} field={`settings.notifications.${k}`}>
          <input
            aria-label={k}
            value={notif[k].join(', ')}
            onChange={(e) => setSettings({ notifications: { ...notif, [k]: parseList(e.target.value) } }, `notifications.${k}`)}
          />
        </Field>
      ))}
    </div>
  );
}
