// The sub-runbook node's inspector form: the published runbook to run (picked from the list), its
// version ("latest" is pinned when this runbook is published), each of its inputs as an
// expression, and what a failure of the child does here.
import { useEffect, useState } from 'react';
import type { RunbookDefinition } from '../../../../../runbook/definition.ts';
import { api, type RunbookSummary } from '../../../api.ts';
import { Field, TextField } from '../../fields.tsx';
import type { KindFormProps } from '../kind.ts';

export function SubRunbookForm({ nodeId, def, set }: KindFormProps<'subRunbook'>) {
  const [runbooks, setRunbooks] = useState<RunbookSummary[]>([]);
  const [child, setChild] = useState<RunbookDefinition | undefined>();
  useEffect(() => {
    api.runbooks().then(setRunbooks, () => setRunbooks([]));
  }, []);
  useEffect(() => {
    let live = true;
    if (!def.runbook) return setChild(undefined);
    const id = def.runbook;
    const which = typeof def.version === 'number' ? Promise.resolve(def.version) : api.versions(id).then((vs) => Math.max(...vs.map((v) => v.version)));
    which.then((n) => api.version(id, n)).then(
      (v) => live && setChild((v as { definition?: RunbookDefinition }).definition),
      () => live && setChild(undefined),
    );
    return () => {
      live = false;
    };
  }, [def.runbook, def.version]);
  const published = runbooks.filter((r) => r.latestVersion !== undefined);
  return (
    <>
      <Field label="Runbook" field="runbook" nodeId={nodeId}>
        <select value={def.runbook} onChange={(e) => set('runbook', e.target.value)} aria-label="Runbook">
          <option value="">— pick a published runbook —</option>
          {published.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name} ({r.id})
            </option>
          ))}
          {def.runbook && !published.some((r) => r.id === def.runbook) && <option value={def.runbook}>{def.runbook}</option>}
        </select>
      </Field>
      <TextField
        nodeId={nodeId}
        field="version"
        label="Version"
        value={String(def.version)}
        onChange={(v) => set('version', /^\d+$/.test(v.trim()) ? Number(v.trim()) : 'latest')}
        placeholder="latest"
        help='A version number, or "latest": the latest published when this runbook is published, pinned then'
      />
      {(child?.inputs ?? []).map((i) => (
        <TextField
          key={i.name}
          nodeId={nodeId}
          field={`inputs.${i.name}`}
          label={`${i.title ?? i.name}${i.required ? ' *' : ''}`}
          value={def.inputs[i.name] === undefined ? '' : String(def.inputs[i.name])}
          onChange={(v) => set('inputs', { ...def.inputs, [i.name]: v === '' ? undefined : v })}
          expression
          help={i.description ?? `${i.type} input of ${def.runbook}`}
        />
      ))}
      <Field label="When the sub-runbook fails" field="onError" nodeId={nodeId}>
        <select value={def.onError} onChange={(e) => set('onError', e.target.value)} aria-label="When the sub-runbook fails">
          <option value="fail">fail this run</option>
          <option value="continue">continue</option>
          <option value="route">take the error branch</option>
        </select>
      </Field>
    </>
  );
}
