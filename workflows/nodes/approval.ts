// An approval step: waits for decisions from the eligible approvers (quorum any / all / N, no
// self-approval unless allowed), escalates after a while, and times out to a chosen outcome.
import { condition, patched, proxyActivities } from '@temporalio/workflow';
import { durationMs, type ApprovalNode, type NodeState } from '../../runbook/definition.ts';
import { resolveTemplate } from '../../runbook/expressions.ts';
import { pastSteps, PLAN_ACTIVITY, type PlanRequest, type RunPlan } from '../../runbook/plan.ts';
import { PLAN_ACTIVITY_OPTIONS } from '../plan.ts';
import { errorMessage, type Execution } from './execution.ts';

export async function runApproval(x: Execution, node: ApprovalNode, ns: NodeState): Promise<string> {
  const approvers = (a: ApprovalNode['approvers']) => [
    ...a.users.map((u) => u.toLowerCase()),
    ...a.roles.map((r) => `role:${r}`),
    ...a.groups.map((g) => `group:${g}`),
  ];
  const message = node.message ? String(await resolveTemplate(node.message, x.expressions())) : undefined;
  // The approver sees what approving lets run: the plan of the steps after "approved", made
  // before the wait starts, with what the run knows so far (runs started before this existed
  // replay without it).
  const plan = patched('approval-plan') ? await planGated(x, node) : undefined;
  const timeoutMs = node.timeout !== undefined ? durationMs(node.timeout) : undefined;
  const started = Date.now();
  const allowSelf = node.allowSelfApproval ?? x.input.definition.settings.allowSelfApproval;
  const needed =
    node.quorum === 'any' ? 1 : node.quorum === 'all' ? Math.max(1, node.approvers.users.length) : node.quorum.count;
  ns.approval = {
    pendingApprovers: approvers(node.approvers),
    decisions: [],
    message,
    deadline: timeoutMs !== undefined ? new Date(started + timeoutMs).toISOString() : undefined,
    allowSelfApproval: allowSelf,
    quorum: needed,
    ...plan,
  };
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
      if (outcome) continue;
      const by = s.by.toLowerCase();
      const record = { by, decision: s.decision, comment: s.comment, at: x.now() };
      if (!allowSelf && by === x.input.run.startedBy.toLowerCase()) {
        ns.approval!.decisions.push({ ...record, refused: 'the person who started the run cannot approve it' });
        continue;
      }
      if (approvals.has(by)) {
        ns.approval!.decisions.push({ ...record, refused: 'already decided' });
        continue;
      }
      ns.approval!.decisions.push(record);
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
  if (node.escalation && (timeoutMs === undefined || durationMs(node.escalation.after) < timeoutMs)) {
    decided = await waitUntil(durationMs(node.escalation.after));
    if (!decided) {
      ns.approval.pendingApprovers = [...new Set([...ns.approval.pendingApprovers, ...approvers(node.escalation.approvers)])];
      x.publish();
      decided = await waitUntil(timeoutMs === undefined ? undefined : timeoutMs - (Date.now() - started));
    }
  } else {
    decided = await waitUntil(timeoutMs);
  }
  ns.approval.pendingApprovers = [];
  ns.status = 'succeeded';
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
