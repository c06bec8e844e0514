// The inspector: the selected node's form. Action parameters are generated from the action's JSON
// Schema (forms.ts); every field shows its help text and the validator's problems for it.
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { ON_ERROR, type ForEachNode, type RunbookNode } from '../../../runbook/definition.ts';
import { api, isMissing } from '../api.ts';
import { useCatalog } from '../context.tsx';
import { useEditor, useEditorStore } from './context.ts';
import { ExpressionInput } from './ExpressionInput.tsx';
import { expressionShape } from './expressions.ts';
import { coerceField, fieldText, formFields, parseList, type FieldDescriptor, type PickerKind } from './forms.ts';
import { addBodyStep, bodySteps, isChain, moveBodyStep, removeBodyStep, renameBodyStep, updateBodyStep, type Body, type BodyStep, type NewBodyStep } from './body.ts';
import { KINDS } from './nodes/config.ts';
import { newNode } from './store.ts';

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
        {required && <span className="req" aria-label="required"> *</span>}
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

function usePicker(kind: PickerKind | undefined, search: string) {
  const [options, setOptions] = useState<{ value: string; label: string }[]>([]);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    if (!kind || missing || search.includes('{{')) return;
    let live = true;
    const t = setTimeout(() => {
      api.pick(kind, search).then(
        (o) => live && setOptions(o),
        (err) => live && isMissing(err) && setMissing(true),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [kind, search, missing]);
  return options;
}

function ParamField({ nodeId, field, value, onChange }: { nodeId: string; field: FieldDescriptor; value: unknown; onChange: (v: unknown) => void }) {
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
  const options = usePicker(field.picker, text);
  const listId = `${id}-options`;
  const help = (
    <>
      {field.description}
      {field.picker && <span className="muted"> · {field.picker} picker</span>}
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
    control = (
      <>
        <ExpressionInput
          id={id}
          nodeId={nodeId}
          value={text}
          list={options.length ? listId : undefined}
          type={field.kind === 'number' || field.kind === 'integer' ? 'text' : undefined}
          placeholder={field.kind === 'list' ? 'comma-separated, or {{ expression }}' : field.default !== undefined ? `default: ${String(field.default)}` : undefined}
          onChange={(t) => {
            setText(t);
            onChange(coerceField(field, t, shape));
          }}
        />
        {options.length > 0 && (
          <datalist id={listId}>
            {options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </datalist>
        )}
      </>
    );
  }
  return (
    <Field label={field.label} field={`params.${field.name}`} nodeId={nodeId} help={help} required={field.required} htmlFor={id}>
      {control}
    </Field>
  );
}

function TextField({
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

type Update = (field: string, patch: (d: RunbookNode) => RunbookNode) => void;

export function NodeInspector({ nodeId }: { nodeId: string }) {
  const store = useEditorStore();
  const def = useEditor((s) => s.nodes.find((n) => n.id === nodeId)?.data.def);
  if (!def) return null;
  const update: Update = (field, patch) => store.getState().updateNode(nodeId, patch, field);
  return (
    <div className="inspector" aria-label={`Step ${nodeId}`}>
      <div className="inspector-kind">
        <span aria-hidden>{KINDS[def.kind].icon}</span> {KINDS[def.kind].title}
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
  const { actions, byId } = useCatalog();
  const set = <K extends string>(field: K, value: unknown) =>
    update(field, (d) => {
      const next = { ...d } as Record<string, unknown>;
      if (value === undefined || value === '') delete next[field];
      else next[field] = value;
      return next as RunbookNode;
    });

  return (
    <>
      <TextField nodeId={nodeId} field="label" label="Label" value={def.label} onChange={(v) => set('label', v)} placeholder="What this step does, in a few words" />

      {def.kind === 'action' && <ActionForm nodeId={nodeId} def={def} update={update} />}

      {def.kind === 'approval' && (
        <>
          <ListField nodeId={nodeId} field="approvers.users" label="Approving users" help="User principal names" value={def.approvers.users} onChange={(v) => update('approvers.users', (d) => ({ ...d, approvers: { ...(d as typeof def).approvers, users: v } }) as RunbookNode)} />
          <ListField nodeId={nodeId} field="approvers.roles" label="Approving roles" help="Tenantflow roles, e.g. approver" value={def.approvers.roles} onChange={(v) => update('approvers.roles', (d) => ({ ...d, approvers: { ...(d as typeof def).approvers, roles: v } }) as RunbookNode)} />
          <ListField nodeId={nodeId} field="approvers.groups" label="Approving groups" help="Group names or ids" value={def.approvers.groups} onChange={(v) => update('approvers.groups', (d) => ({ ...d, approvers: { ...(d as typeof def).approvers, groups: v } }) as RunbookNode)} />
          <Field label="Quorum" field="quorum" nodeId={nodeId} help="Any one approver, all listed users, or a number of them">
            <select
              value={typeof def.quorum === 'object' ? 'count' : def.quorum}
              onChange={(e) => set('quorum', e.target.value === 'count' ? { count: 2 } : e.target.value)}
              aria-label="Quorum"
            >
              <option value="any">any one</option>
              <option value="all">all listed users</option>
              <option value="count">a number of approvers</option>
            </select>
            {typeof def.quorum === 'object' && (
              <input type="number" min={1} value={def.quorum.count} onChange={(e) => set('quorum', { count: Math.max(1, Number(e.target.value) || 1) })} aria-label="Approvals needed" />
            )}
          </Field>
          <TextField nodeId={nodeId} field="message" label="Message" value={def.message} onChange={(v) => set('message', v)} expression multiline help="What the approver is asked; {{ expressions }} are filled in" />
          <TextField nodeId={nodeId} field="timeout" label="Timeout" value={def.timeout === undefined ? '' : String(def.timeout)} onChange={(v) => set('timeout', v)} placeholder="e.g. 3d" />
          <Field label="When nobody decides in time" field="onTimeout" nodeId={nodeId}>
            <select value={def.onTimeout} onChange={(e) => set('onTimeout', e.target.value)} aria-label="On timeout">
              <option value="reject">reject</option>
              <option value="approve">approve</option>
              <option value="route">follow the "timed out" handle</option>
            </select>
          </Field>
          <label className="check">
            <input type="checkbox" checked={!!def.allowSelfApproval} onChange={(e) => set('allowSelfApproval', e.target.checked || undefined)} /> Let the person who started the run approve it
          </label>
        </>
      )}

      {def.kind === 'condition' && (
        <TextField nodeId={nodeId} field="expression" label="Expression" value={def.expression} onChange={(v) => set('expression', v)} expression bare help='JSONata; true follows "true", anything else "false". Ctrl+Space completes.' placeholder="inputs.department = 'Finance'" />
      )}

      {def.kind === 'delay' && (
        <>
          <TextField nodeId={nodeId} field="duration" label="Wait for" value={def.duration === undefined ? '' : String(def.duration)} onChange={(v) => set('duration', v)} placeholder="30s, 5m, 2h, 1d" help="Or leave empty and wait until a date" />
          <TextField nodeId={nodeId} field="until" label="Wait until" value={def.until} onChange={(v) => set('until', v)} expression bare placeholder="$fromMillis($toMillis(inputs.leaveDate) + 30*86400000)" help="A JSONata expression giving a date" />
        </>
      )}

      {def.kind === 'forEach' && (
        <>
          <TextField nodeId={nodeId} field="items" label="Items" value={def.items} onChange={(v) => set('items', v)} expression bare help="A JSONata expression giving the list; the steps read each one as item" placeholder="inputs.users" />
          <Field label="At a time" field="concurrency" nodeId={nodeId}>
            <input type="number" min={1} max={100} value={def.concurrency} onChange={(e) => set('concurrency', Math.max(1, Number(e.target.value) || 1))} aria-label="Concurrency" />
          </Field>
          <Field label="When an item fails" field="onItemError" nodeId={nodeId}>
            <select value={def.onItemError} onChange={(e) => set('onItemError', e.target.value)} aria-label="On item error">
              <option value="continue">record it and go on</option>
              <option value="fail">stop the loop and fail</option>
            </select>
          </Field>
          <BodyEditor nodeId={nodeId} body={def.body} update={update} />
        </>
      )}

      {def.kind === 'end' && (
        <>
          <Field label="Run status" field="status" nodeId={nodeId}>
            <select value={def.status} onChange={(e) => set('status', e.target.value)} aria-label="Run status">
              <option value="succeeded">succeeded</option>
              <option value="failed">failed</option>
            </select>
          </Field>
          <TextField nodeId={nodeId} field="message" label="Message" value={def.message} onChange={(v) => set('message', v)} />
        </>
      )}

      <TextField nodeId={nodeId} field="description" label="Notes" value={def.description} onChange={(v) => set('description', v)} multiline />
      {def.kind === 'action' && actions.length > 0 && !byId.get(def.action) && def.action && <div className="banner banner-warn">"{def.action}" is not in this server's catalog.</div>}
    </>
  );
}

const BODY_KINDS = ['action', 'approval', 'condition', 'delay', 'end'] as const;

/**
 * The loop's steps: a list, each step edited with the same form as a top-level step, added,
 * removed and reordered as a chain. A body that branches is edited step by step only; JSON is
 * there for anything else.
 */
function BodyEditor({ nodeId, body, update }: { nodeId: string; body: Body; update: Update }) {
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
                    <span aria-hidden>{KINDS[step.kind].icon}</span> {step.label || step.id}
                    <span className="muted small"> {step.kind === 'action' ? step.action || 'choose an action' : KINDS[step.kind].title}</span>
                    <BodyStepProblems nodeId={`${nodeId}.${step.id}`} />
                  </button>
                  {chained && (
                    <>
                      <button className="btn btn-small btn-ghost" onClick={() => setBody('body', (b) => moveBodyStep(b, i, -1))} disabled={i === 0} aria-label={`Move ${step.id} up`}>
                        ↑
                      </button>
                      <button className="btn btn-small btn-ghost" onClick={() => setBody('body', (b) => moveBodyStep(b, i, 1))} disabled={i === steps.length - 1} aria-label={`Move ${step.id} down`}>
                        ↓
                      </button>
                      <button className="btn btn-small btn-danger-ghost" onClick={() => setBody('body', (b) => removeBodyStep(b, i))} disabled={steps.length === 1} aria-label={`Remove ${step.id}`}>
                        ✕
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
    <span className="flow-node-problems" aria-label={`${n} problems`}>
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

function ListField({ nodeId, field, label, help, value, onChange }: { nodeId: string; field: string; label: string; help?: string; value: string[]; onChange: (v: string[]) => void }) {
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

function ActionForm({ nodeId, def, update }: { nodeId: string; def: Extract<RunbookNode, { kind: 'action' }>; update: (field: string, patch: (d: RunbookNode) => RunbookNode) => void }) {
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
            <ParamField key={f.name} nodeId={nodeId} field={f} value={def.params?.[f.name]} onChange={(v) => setParam(f.name, v)} />
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
