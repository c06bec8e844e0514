// The approval node's inspector form: approving users, roles and groups, the quorum, the message
// the approver is asked, the timeout and what happens when nobody decides, self-approval.
import type { RunbookNode } from '../../../../../runbook/definition.ts';
import { Field, ListField, TextField } from '../../fields.tsx';
import type { KindFormProps } from '../kind.ts';

export function ApprovalForm({ nodeId, def, update, set }: KindFormProps<'approval'>) {
  return (
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
  );
}
