// Who may decide an approval step, and which decisions count: the one copy of these rules. The
// workflow is the authority (it records a decision that does not count as refused, with the reason
// below); the server applies the same rules before it signals, so a person hears at once why a
// decision is refused (403 / 409) instead of finding it refused in the run later. Pure and
// deterministic: the workflow bundle may import it.
import type { ApprovalDecision, ApprovalNode } from './definition.ts';

/** The pending-approver keys a step names: users (lower case), "role:<role>", "group:<group>". */
export function approverKeys(a: ApprovalNode['approvers']): string[] {
  return [...a.users.map((u) => u.toLowerCase()), ...a.roles.map((r) => `role:${r}`), ...a.groups.map((g) => `group:${g}`)];
}

/** A person as approval steps name them. */
export interface Approver {
  email: string;
  groups: readonly string[];
  /** Roles held on the run's tenant ("admin" covers every role a step may name). */
  roles: readonly string[];
}

/** The person is among the pending approvers: by email, a group, or a role (an admin covers any role). */
export function isPendingApprover(who: Approver, pending: readonly string[]): boolean {
  const keys = new Set([who.email.toLowerCase(), ...who.groups.map((g) => `group:${g}`), ...who.roles.map((r) => `role:${r}`)]);
  // Steps may name roles that are not Tenantflow's (e.g. "manager"): admins cover them.
  const admin = who.roles.includes('admin');
  return pending.some((k) => keys.has(k) || (admin && k.startsWith('role:')));
}

export type Refusal = 'self-approval' | 'already-decided';

/** The reason a refused decision carries in the run's state. */
export const REFUSAL_REASON: Record<Refusal, string> = {
  'self-approval': 'the person who started the run cannot approve it',
  'already-decided': 'already decided',
};

/** Why a decision by `by` on this step does not count, or undefined when it counts. */
export function refusalOf(
  step: { allowSelfApproval: boolean; decisions: readonly Pick<ApprovalDecision, 'by' | 'refused'>[] },
  startedBy: string | undefined,
  by: string,
): Refusal | undefined {
  const who = by.toLowerCase();
  if (!step.allowSelfApproval && startedBy !== undefined && who === startedBy.toLowerCase()) return 'self-approval';
  if (step.decisions.some((d) => d.by.toLowerCase() === who && !d.refused)) return 'already-decided';
  return undefined;
}
