// An approval step: waits for decisions from the eligible approvers (quorum any / all / N, no
// self-approval unless allowed), escalates after a while, and times out to a chosen outcome.
// Decisions arrive as the approval Update (its validator refuses an ineligible one at once, with
// the reason) or, for runs in flight and older callers, as the approval signal (an ineligible one
// is recorded as refused).
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import { hasPatch } from '../patches.ts';
import { approverKeys, decisionRefusal, isPendingApprover, REFUSAL_REASON, rolesOn, seesTenant, type Refusal } from '../../runbook/approvals.ts';
import { durationMs } from '../../runbook/duration.ts';
import type { ApprovalDecision, ApprovalNode, NodeState } from '../../runbook/definition.ts';
import { evaluate, resolveMessage } from '../../runbook/expressions.ts';
import { pastSteps, PLAN_ACTIVITY, type PlanRequest, type RunPlan } from '../../runbook/plan.ts';
import { approvalUpdate, type ApprovalAnswer, type ApprovalUpdate } from '../messages.ts';
import { PLAN_ACTIVITY_OPTIONS } from '../plan.ts';
import { addEntraApprovers, waitNotifying } from './approval-people.ts';
import { errorMessage, type Execution } from './execution.ts';

/** At most ten approvers by name (an Entra group's members can be hundreds). */
function listApprovers(keys: readonly string[]): string {
  return keys.length <= 10 ? keys.join(', ') : `${keys.slice(0, 10).join(', ')} and ${keys.length - 10} more`;
}

/** The message an Update's caller gets for a refused decision. */
function refusalMessage(x: Execution, u: ApprovalUpdate, refusal: Refusal): string {
  const ns = x.state.nodes[u.nodeId];
  switch (refusal) {
    case 'not-waiting':
      return ns ? `step "${u.nodeId}" is not waiting for approval (it is ${ns.status})` : `the run has no step "${u.nodeId}"`;
    case 'not-approver':
      return `${u.by} is not an approver of step "${u.nodeId}" (approvers: ${listApprovers(ns?.approval?.pendingApprovers ?? [])})`;
    case 'self-approval':
      return `you started this run (${u.by}), so you cannot approve it: ask another approver`;
    case 'already-decided':
      return `${u.by} has already decided on step "${u.nodeId}"`;
    case 'not-visible':
      return `run ${x.workflowId} does not exist`;
  }
}

/** The decider's roles on this run's tenant: from their grants when the server sent them, else as sent. */
function rolesOf(x: Execution, u: ApprovalUpdate): string[] {
  return u.grants ? rolesOn(u.grants, x.input.run.tenant) : (u.roles ?? []);
}

/**
 * The approval Update: the validator refuses (ApplicationFailure of type = the refusal, e.g.
 * "not-approver", with the reason) before anything is written to history; the handler waits until
 * the step has taken the decision and returns it as recorded.
 */
export function registerApprovalUpdate(x: Execution): void {
  setHandler(
    approvalUpdate,
    (u) =>
      new Promise<ApprovalAnswer>((answer) =>
        x.approvalInbox.push({
          ...u,
          roles: rolesOf(x, u),
          recorded: (d) => {
            const startedAt = x.state.nodes[u.nodeId]?.startedAt;
            answer({ ...d, tenant: x.input.run.tenant, runbook: x.input.run.runbookId, ...(startedAt ? { waitedMs: Math.max(0, Date.parse(d.at) - Date.parse(startedAt)) } : {}) });
          },
        }),
      ),
    {
      validator: (u) => {
        const ns = x.state.nodes[u.nodeId];
        const who = { email: u.by, roles: rolesOf(x, u), groups: u.groups ?? [] };
        // Sent without the server reading the run first: a decider who cannot see the tenant is told it does not exist.
        let refusal: Refusal | undefined = u.grants && !seesTenant(u.grants, x.input.run.tenant) ? 'not-visible' : undefined;
        refusal ??= ns ? decisionRefusal(ns, x.input.run.startedBy, who) : 'not-waiting';
        // A decision by the same person already on its way to the step.
        if (!refusal && x.approvalInbox.some((s) => s.nodeId === u.nodeId && s.by.toLowerCase() === u.by.toLowerCase())) refusal = 'already-decided';
        if (refusal) throw ApplicationFailure.create({ message: refusalMessage(x, u, refusal), type: refusal, nonRetryable: true, details: refusal === 'not-visible' ? [] : [{ tenant: x.input.run.tenant }] });
      },
    },
  );
}

/** The users a step names, each expression resolved: a value, or a list of them; empty values are dropped. */
async function approverUsers(x: Execution, users: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const u of users) {
    const whole = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(u);
    const value = !u.includes('{{') ? u : whole ? await evaluate(whole[1]!, x.expressions()) : await resolveMessage(u, x.expressions());
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string' && v.trim() && !v.includes('{{')) out.push(v.trim());
  }
  return out;
}

export async function runApproval(x: Execution, node: ApprovalNode, ns: NodeState): Promise<string> {
  // Runs started before this refused only self-approval and repeats in the workflow itself.
  const checkEligibility = hasPatch('approval-eligibility');
  const message = node.message ? await resolveMessage(node.message, x.expressions()) : undefined;
  // The approver sees what approving lets run: the plan of the steps after "approved", made
  // before the wait starts, with what the run knows so far (runs started before this existed
  // replay without it).
  const plan = hasPatch('approval-plan') ? await planGated(x, node) : undefined;
  const timeoutMs = node.timeout !== undefined ? durationMs(node.timeout) : undefined;
  const started = Date.now();
  const allowSelf = node.allowSelfApproval ?? x.input.definition.settings.allowSelfApproval;
  const needed =
    node.quorum === 'any' ? 1 : node.quorum === 'all' ? Math.max(1, node.approvers.users.length) : node.quorum.count;
  ns.approval = {
    pendingApprovers: approverKeys(node.approvers),
    decisions: [],
    message,
    deadline: timeoutMs !== undefined ? new Date(started + timeoutMs).toISOString() : undefined,
    allowSelfApproval: allowSelf,
    quorum: needed,
    ...plan,
  };
  // Approvers named by an expression (e.g. the leaver's manager, "{{ inputs.manager }}"), resolved with
  // what the run knows now. Runs started before this took such an entry literally (patch only when one is named).
  if (node.approvers.users.some((u) => u.includes('{{')) && hasPatch('approver-expressions')) {
    ns.approval.pendingApprovers = approverKeys({ ...node.approvers, users: await approverUsers(x, node.approvers.users) });
    x.publish();
  }
  // Members of the Entra groups the step names, read from the tenant now (none before this patch).
  if (node.approvers.entraGroups?.length && hasPatch('approval-entra-groups')) await addEntraApprovers(x, node.approvers, ns);
  ns.status = 'waiting-approval';
  x.publish();
  let outcome: 'approved' | 'rejected' | undefined;
  const approvals = new Set<string>();

  const drain = () => {
    for (let i = 0; i < x.approvalInbox.length; ) {
      const s = x.approvalInbox[i]!;
      if (s.nodeId !== node.id) {
        i++;
        continue;
      }
      x.approvalInbox.splice(i, 1);
      const by = s.by.toLowerCase();
      const record: ApprovalDecision = { by, decision: s.decision, comment: s.comment, at: x.now() };
      if (outcome) {
        s.recorded?.({ ...record, refused: REFUSAL_REASON['not-waiting'] });
        continue;
      }
      const refuse = (refusal: Refusal) => {
        const refused = { ...record, refused: REFUSAL_REASON[refusal] };
        ns.approval!.decisions.push(refused);
        s.recorded?.(refused);
      };
      if (!allowSelf && by === x.input.run.startedBy.toLowerCase()) {
        refuse('self-approval');
        continue;
      }
      if (checkEligibility && !isPendingApprover({ email: by, roles: s.roles ?? [], groups: s.groups ?? [] }, ns.approval!.pendingApprovers)) {
        refuse('not-approver');
        continue;
      }
      if (approvals.has(by)) {
        refuse('already-decided');
        continue;
      }
      ns.approval!.decisions.push(record);
      s.recorded?.(record);
      if (s.decision === 'reject') outcome = 'rejected';
      else {
        approvals.add(by);
        if (approvals.size >= needed) outcome = 'approved';
      }
    }
    return outcome !== undefined;
  };

  const waitUntil = async (ms: number | undefined): Promise<boolean> => {
    if (ms !== undefined) return condition(drain, Math.max(0, ms));
    await condition(drain);
    return true;
  };
  let decided: boolean;
  // Reminders, escalation and timeout as the workflow's own timers, notifying the approvers.
  if (hasPatch('approval-notify')) decided = await waitNotifying(x, node, ns, drain, started, timeoutMs);
  else if (node.escalation && (timeoutMs === undefined || durationMs(node.escalation.after) < timeoutMs)) {
    decided = await waitUntil(durationMs(node.escalation.after));
    if (!decided) {
      ns.approval.pendingApprovers = [...new Set([...ns.approval.pendingApprovers, ...approverKeys(node.escalation.approvers)])];
      x.publish();
      decided = await waitUntil(timeoutMs === undefined ? undefined : timeoutMs - (Date.now() - started));
    }
  } else {
    decided = await waitUntil(timeoutMs);
  }
  ns.approval.pendingApprovers = [];
  ns.status = 'succeeded';
  // Updates that arrived as the step ended are told it no longer takes decisions.
  for (let i = x.approvalInbox.length - 1; i >= 0; i--) {
    const s = x.approvalInbox[i]!;
    if (s.nodeId !== node.id || !s.recorded) continue;
    x.approvalInbox.splice(i, 1);
    s.recorded({ by: s.by.toLowerCase(), decision: s.decision, comment: s.comment, at: x.now(), refused: REFUSAL_REASON['not-waiting'] });
  }
  if (!decided) {
    const handle = node.onTimeout === 'route' ? 'timeout' : node.onTimeout === 'approve' ? 'approved' : 'rejected';
    ns.approval.decisions.push({
      by: 'system',
      decision: handle === 'approved' ? 'approve' : 'reject',
      comment: 'timed out',
      at: x.now(),
    });
    ns.output = { decision: handle, timedOut: true };
    return handle;
  }
  const last = ns.approval.decisions.filter((d) => !d.refused).at(-1)!;
  ns.output = {
    decision: outcome,
    decidedBy: last.by,
    comment: last.comment ?? null,
    approvers: [...approvals],
  };
  return outcome!;
}

async function planGated(x: Execution, node: ApprovalNode): Promise<{ plan: RunPlan } | { planError: string }> {
  const { definition, inputs, run, item } = x.input;
  const request: PlanRequest = { definition, inputs, run, ...(item ? { item } : {}), done: pastSteps(definition, x.state.nodes), gate: node.id };
  try {
    return { plan: await proxyActivities<{ [PLAN_ACTIVITY]: (r: PlanRequest) => Promise<RunPlan> }>(PLAN_ACTIVITY_OPTIONS)[PLAN_ACTIVITY](request) };
  } catch (err) {
    return { planError: `the plan of what this approval lets run could not be made: ${errorMessage(err)}` };
  }
}
