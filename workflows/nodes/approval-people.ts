// What an approval step does for the people involved, besides taking their decisions: it reads
// the members of the Entra groups it names when it starts (patch approval-entra-groups), and it
// notifies the approvers themselves with durable timers (patch approval-notify): the request when
// it starts, a reminder every `reminders.every`, the added approvers at escalation. Messages link
// to the authenticated approval page; a link never decides. A notice that cannot be sent is logged
// and never fails the step.
import { ActivityFailure, condition, isCancellation, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { hasPatch } from '../patches.ts';
import { approverKeys } from '../../runbook/approvals.ts';
import { durationMs } from '../../runbook/duration.ts';
import type { ApprovalNode, NodeState } from '../../runbook/definition.ts';
import type { ApprovalNotice, ApproverActivities } from '../approver-activities.ts';
import { errorMessage, RunEnded, type Execution } from './execution.ts';

const groups = proxyActivities<ApproverActivities>({
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 5, initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
});
// A repeated notice is one more mail (harmless), so these retry like any step.
const notices = proxyActivities<ApproverActivities>({
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 5, initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m' },
});
// The requester's notice as a local activity (patch requester-notice-local): the worker that ends
// the run sends it inside the run's last workflow task, so the run's end waits for no further
// round trip through the Temporal server (an activity task, its dispatch and one more workflow
// task). A crash while it is sent repeats it (one more mail, as for any notice).
const localNotices = proxyLocalActivities<ApproverActivities>({
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 5, initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m' },
});

/** Adds the members of the Entra groups `approvers` names to the step's pending approvers. */
export async function addEntraApprovers(x: Execution, approvers: ApprovalNode['approvers'], ns: NodeState): Promise<void> {
  const refs = approvers.entraGroups ?? [];
  if (!refs.length || !ns.approval) return;
  let resolved;
  try {
    resolved = await groups.resolveApproverGroups({ tenant: x.input.run.tenant, groups: refs });
  } catch (err) {
    if (isCancellation(err)) throw err;
    // Nobody could approve: the step fails, naming the group.
    const message = err instanceof ActivityFailure && err.cause ? err.cause.message : errorMessage(err);
    ns.status = 'failed';
    ns.error = { message, code: 'ApproversNotFound' };
    throw new RunEnded('failed', `Step ${ns.id} failed: ${message}`, ns.id);
  }
  ns.approval.pendingApprovers = [...new Set([...ns.approval.pendingApprovers, ...resolved.flatMap((g) => g.members)])];
  ns.approval.entraGroups = [...(ns.approval.entraGroups ?? []), ...resolved.map((g) => ({ ref: g.ref, id: g.id, displayName: g.displayName, members: g.members.length }))];
}

/** The run's inputs as facts for people (secrets and objects left out). */
function factsOf(x: Execution): Record<string, string> {
  const secret = new Set(x.input.definition.inputs.filter((i) => i.secret).map((i) => i.name));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(x.input.inputs ?? {})) {
    if (secret.has(k) || v === null || v === undefined || v === '' || typeof v === 'object') continue;
    out[k] = String(v);
  }
  return out;
}

async function notify(x: Execution, node: ApprovalNode, ns: NodeState, kind: ApprovalNotice['kind'], to: string[]): Promise<void> {
  // People by address; those who already approved are not asked again.
  const decided = new Set((ns.approval?.decisions ?? []).filter((d) => !d.refused).map((d) => d.by));
  const people = to.filter((k) => k.includes('@') && !k.startsWith('role:') && !k.startsWith('group:') && !decided.has(k));
  const cards = x.input.definition.settings.notifications?.approvalCards ?? [];
  if (!people.length && !cards.length) return;
  try {
    await notices.notifyApprovers({
      tenant: x.input.run.tenant,
      runId: x.workflowId,
      nodeId: node.id,
      kind,
      to: people,
      requester: x.input.run.startedBy,
      runbookName: x.input.definition.name,
      message: ns.approval?.message,
      facts: factsOf(x),
      plan: (ns.approval as { plan?: unknown } | undefined)?.plan,
      deadline: ns.approval?.deadline,
      teamsWebhooks: cards,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('approval notice not sent', { node: node.id, kind, error: (err as Error).message });
  }
}

/**
 * Waits for the decision with durable timers for the reminders, the escalation and the timeout;
 * true when the step was decided, false when it timed out.
 */
export async function waitNotifying(x: Execution, node: ApprovalNode, ns: NodeState, decided: () => boolean, started: number, timeoutMs: number | undefined): Promise<boolean> {
  ns.approval!.notifies = true;
  const every = node.reminders ? durationMs(node.reminders.every) : undefined;
  const endAt = timeoutMs !== undefined ? started + timeoutMs : undefined;
  let escalateAt = node.escalation && (timeoutMs === undefined || durationMs(node.escalation.after) < timeoutMs) ? started + durationMs(node.escalation.after) : undefined;
  let remindAt = every !== undefined ? started + every : undefined;
  // The request goes out while the step already waits (patch approval-request-concurrent): a
  // decision that arrives before the notice is sent is taken at once, not after it (the run
  // awaits the notice before it ends). Older runs waited for the notice first.
  const request = notify(x, node, ns, 'request', ns.approval!.pendingApprovers);
  if (hasPatch('approval-request-concurrent')) x.inBackground(request.catch(() => undefined));
  else await request;
  for (;;) {
    const next = [endAt, escalateAt, remindAt].filter((t): t is number => t !== undefined);
    if (!next.length) {
      await condition(decided);
      return true;
    }
    if (await condition(decided, Math.max(1, Math.min(...next) - Date.now()))) return true;
    const now = Date.now();
    if (endAt !== undefined && now >= endAt) return false;
    if (escalateAt !== undefined && now >= escalateAt && node.escalation) {
      escalateAt = undefined;
      const before = new Set(ns.approval!.pendingApprovers);
      ns.approval!.pendingApprovers = [...new Set([...ns.approval!.pendingApprovers, ...approverKeys(node.escalation.approvers)])];
      await addEntraApprovers(x, node.escalation.approvers, ns);
      x.publish();
      await notify(x, node, ns, 'escalation', ns.approval!.pendingApprovers.filter((k) => !before.has(k)));
    }
    if (remindAt !== undefined && every !== undefined && now >= remindAt) {
      while (remindAt <= now) remindAt += every;
      await notify(x, node, ns, 'reminder', ns.approval!.pendingApprovers);
    }
  }
}

/** Tells the person who started a run with an approval step how it ended (never fails the run). */
export async function notifyRequester(x: Execution, local: boolean): Promise<void> {
  try {
    await (local ? localNotices : notices).notifyRequester({
      tenant: x.input.run.tenant,
      runId: x.workflowId,
      requester: x.input.run.startedBy,
      runbookName: x.input.definition.name,
      status: x.state.status,
      message: x.state.message,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('run-end notice not sent', { error: (err as Error).message });
  }
}
