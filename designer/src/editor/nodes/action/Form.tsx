// The action node's inspector form: the action picked from the catalog, its parameters generated
// from the action's JSON Schema (../../forms.ts) with pickers fed by the tenant for the fields that
// name its objects (users, mailboxes, teams and their channels, sites, ...), and its error handling,
// retries and timeout.
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import { ON_ERROR, type RunbookNode } from '../../../../../runbook/definition.ts';
import { PICKER_NOUN, PickerBox } from '../../../ui/Picker.tsx';
import { useCatalog } from '../../../context.tsx';
import { useEditorStore } from '../../context.ts';
import { ExpressionInput } from '../../ExpressionInput.tsx';
import { expressionShape } from '../../expressions.ts';
import { Field } from '../../fields.tsx';
import { coerceField, fieldText, formFields, type FieldDescriptor } from '../../forms.ts';
import type { KindFormProps } from '../kind.ts';

/** `team`: the step's team parameter, which a channel picker lists the channels of. */
function ParamField({ nodeId, field, value, onChange, team }: { nodeId: string; field: FieldDescriptor; value: unknown; onChange: (v: unknown) => void; team?: string }) {
  const id = useId();
  const store = useEditorStore();
  const { byId } = useCatalog();
  const shape = (expr: string) => expressionShape(store.getState().definition(), byId, expr);
  // Local text so "a, " or "1." can be typed; the parameter gets the coerced value.
  const [text, setText] = useState(fieldText(field, value));
  useEffect(() => {
    if (JSON.stringify(coerceField(field, text, shape)) !== JSON.stringify(value)) setText(fieldText(field, value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, field]);
  const help = (
    <>
      {field.description}
      {field.picker && <span className="muted"> · {PICKER_NOUN[field.picker]} picker</span>}
    </>
  );
  let control: ReactNode;
  if (field.kind === 'enum' || field.kind === 'boolean') {
    const opts = field.kind === 'boolean' ? ['true', 'false'] : (field.options ?? []);
    control = (
      <select
        id={id}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          onChange(coerceField(field, e.target.value));
        }}
      >
        <option value="">{field.default !== undefined ? `default (${String(field.default)})` : '—'}</option>
        {opts.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else {
    const edit = (t: string) => {
      setText(t);
      onChange(coerceField(field, t, shape));
    };
    control = (
      <PickerBox kind={field.picker} text={text} list={field.kind === 'list'} ctx={{ team }} onPick={edit}>
        <ExpressionInput
          id={id}
          nodeId={nodeId}
          value={text}
          type={field.kind === 'number' || field.kind === 'integer' ? 'text' : undefined}
          placeholder={field.kind === 'list' ? 'comma-separated, or {{ expression }}' : field.default !== undefined ? `default: ${String(field.default)}` : undefined}
          onChange={edit}
        />
      </PickerBox>
    );
  }
  return (
    <Field label={field.label} field={`params.${field.name}`} nodeId={nodeId} help={help} required={field.required} htmlFor={id}>
      {control}
    </Field>
  );
}

export function ActionForm({ nodeId, def, update }: KindFormProps<'action'>) {
  const { actions, byId } = useCatalog();
  const action = byId.get(def.action);
  const fields = useMemo(() => formFields(action?.input), [action]);
  const setParam = (name: string, value: unknown) =>
    update(`params.${name}`, (d) => {
      const params = { ...((d as typeof def).params ?? {}) };
      if (value === undefined) delete params[name];
      else params[name] = value;
      return { ...d, params } as RunbookNode;
    });
  const id = useId();
  return (
    <>
      <Field label="Action" field="action" nodeId={nodeId} htmlFor={id} help={action?.description}>
        <select id={id} value={def.action} onChange={(e) => update('action', (d) => ({ ...d, action: e.target.value, params: {} }) as RunbookNode)}>
          <option value="">Choose an action…</option>
          {actions.map((a) => (
            <option key={a.id} value={a.id}>
              {a.title} ({a.id})
            </option>
          ))}
        </select>
      </Field>
      {action && (
        <fieldset className="params">
          <legend>Parameters</legend>
          {fields.length === 0 && <p className="muted">This action takes no parameters.</p>}
          {fields.map((f) => (
            <ParamField key={f.name} nodeId={nodeId} field={f} value={def.params?.[f.name]} onChange={(v) => setParam(f.name, v)} team={typeof def.params?.team === 'string' ? def.params.team : undefined} />
          ))}
          {action.permissions.length > 0 && <p className="muted small">Needs Graph permissions: {action.permissions.join(', ')}</p>}
        </fieldset>
      )}
      <details className="advanced">
        <summary>Errors, retries and timeout</summary>
        <Field label="When the step fails" field="onError" nodeId={nodeId}>
          <select value={def.onError} onChange={(e) => update('onError', (d) => ({ ...d, onError: e.target.value }) as RunbookNode)} aria-label="On error">
            {ON_ERROR.map((o) => (
              <option key={o} value={o}>
                {{ fail: 'fail the run', continue: 'continue anyway', route: 'follow the "on error" handle', pause: 'pause for an operator' }[o]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Attempts" field="retry" nodeId={nodeId} help="Including the first; empty uses the runbook default">
          <input
            type="number"
            min={1}
            max={100}
            value={def.retry?.maximumAttempts ?? ''}
            aria-label="Attempts"
            onChange={(e) =>
              update('retry', (d) => {
                const n = Number(e.target.value);
                const { retry: _r, ...rest } = d as typeof def;
                return (e.target.value ? { ...rest, retry: { ...def.retry, maximumAttempts: n } } : rest) as RunbookNode;
              })
            }
          />
        </Field>
        <Field label="Timeout per attempt" field="timeout" nodeId={nodeId}>
          <input
            value={def.timeout === undefined ? '' : String(def.timeout)}
            placeholder="e.g. 2m"
            aria-label="Timeout per attempt"
            onChange={(e) =>
              update('timeout', (d) => {
                const { timeout: _t, ...rest } = d as typeof def;
                return (e.target.value ? { ...rest, timeout: e.target.value } : rest) as RunbookNode;
              })
            }
          />
        </Field>
      </details>
    </>
  );
}

/** After the step's notes: an action this server's catalog does not know (a runbook from elsewhere). */
export function ActionNotInCatalog({ def }: { def: Extract<RunbookNode, { kind: 'action' }> }) {
  const { actions, byId } = useCatalog();
  return actions.length > 0 && !byId.get(def.action) && def.action ? <div className="banner banner-warn">"{def.action}" is not in this server's catalog.</div> : null;
}
