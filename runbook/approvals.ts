// Who may decide an approval step, and which decisions count: the one copy of these rules. The
// workflow is the authority: its approval Update's validator refuses a decision that does not
// count, with the reason below, before anything is written to the run's history, and the server
// passes that refusal on to the caller (403 / 409). The old approval signal records such a
// decision as refused. Pure and deterministic: the workflow bundle may import it.
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

/** Tenant value of a grant that covers every tenant. */
export const ALL_TENANTS = '*';
/** The emulated tenant of test runs: everyone with a role sees it. */
export const SANDBOX = 'sandbox';

/** A Tenantflow role granted on a tenant (ALL_TENANTS: on every tenant), as the server holds it. */
export interface Grant {
  tenant: string;
  role: string;
}

/** The grants let their holder see runs of the tenant (the sandbox: anyone with a role). */
export function seesTenant(grants: readonly Grant[], tenant: string | undefined): boolean {
  if (!tenant) return false;
  return grants.some((g) => g.tenant === tenant || g.tenant === ALL_TENANTS) || (tenant === SANDBOX && grants.length > 0);
}

/** The roles the grants hold on the tenant ("admin" covers every role a step may name). */
export function rolesOn(grants: readonly Grant[], tenant: string): string[] {
  return [...new Set(grants.filter((g) => g.tenant === tenant || g.tenant === ALL_TENANTS).map((g) => g.role))];
}

export type Refusal = 'self-approval' | 'already-decided' | 'not-approver' | 'not-waiting' | 'not-visible';

/** The reason a refused decision carries in the run's state. */
export const REFUSAL_REASON: Record<Refusal, string> = {
  'self-approval': 'the person who started the run cannot approve it',
  'already-decided': 'already decided',
  'not-approver': 'not an approver of this step',
  'not-waiting': 'the step is not waiting for approval',
  'not-visible': 'the run is not on a tenant the decider sees',
};

/** The HTTP status a refusal answers with: 403 for who the person is, 409 for the step's state. */
export const REFUSAL_STATUS: Record<Refusal, 403 | 404 | 409> = {
  'self-approval': 403,
  'not-approver': 403,
  'already-decided': 409,
  'not-waiting': 409,
  // As for any run the caller cannot see: it does not exist for them.
  'not-visible': 404,
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

/**
 * Why `who` may not decide this step now, or undefined when the decision counts: the step must be
 * waiting, the person not its requester (unless allowed), among its pending approvers, and not
 * have decided already. What the workflow's approval Update validator applies.
 */
export function decisionRefusal(
  step: { status: string; approval?: { pendingApprovers: readonly string[]; allowSelfApproval: boolean; decisions: readonly Pick<ApprovalDecision, 'by' | 'refused'>[] } },
  startedBy: string | undefined,
  who: Approver,
): Refusal | undefined {
  if (step.status !== 'waiting-approval' || !step.approval) return 'not-waiting';
  const refusal = refusalOf(step.approval, startedBy, who.email);
  if (refusal === 'self-approval') return refusal;
  if (!isPendingApprover(who, step.approval.pendingApprovers)) return 'not-approver';
  return refusal;
}
