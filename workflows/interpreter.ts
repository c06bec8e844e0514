// The one generic workflow: it interprets a pinned runbook definition. Ready nodes run in
// parallel; when a node may run is the scheduler's business (scheduler.ts), what it does is its
// kind's (nodes/<kind>.ts). The interpreter holds the run's state, its messages and visibility.
import { ApplicationFailure, CancellationScope, condition, isCancellation, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { hasPatch, startWithBaseline } from './patches.ts';
import type { NodeState, RunbookNode, RunbookWorkflowInput, RunState } from '../runbook/definition.ts';
import type { ExpressionContext } from '../runbook/expressions.ts';
import { progressValue, SA } from './search-attributes.ts';
import { loopProgressSignal } from './for-each.ts';
import { approvalSignal, resumeSignal, runStateQuery, type CarriedStep, type ResumeSignal } from './messages.ts';
import { runAction } from './nodes/action.ts';
import { registerApprovalUpdate, runApproval } from './nodes/approval.ts';
import { notifyRequester } from './nodes/approval-people.ts';
import { runCondition } from './nodes/condition.ts';
import { runDelay } from './nodes/delay.ts';
import { runEnd } from './nodes/end.ts';
import { errorMessage, RunEnded, type Execution, type InboxDecision } from './nodes/execution.ts';
import { runForEach } from './nodes/forEach.ts';
import { outcomeOf } from './outcome.ts';
import { runSubRunbook } from './nodes/subRunbook.ts';
import { Scheduler } from './scheduler.ts';

export async function runbookWorkflow(input: RunbookWorkflowInput & { carry?: Record<string, CarriedStep> }): Promise<RunState> {
  // First, before anything records a command: a new run takes every patch at once (patches.ts).
  const baseline = startWithBaseline();
  const { definition: def, inputs, run } = input;
  // Steps that already succeeded in an earlier run (retry of a failed run): not executed again.
  const carry = input.carry ?? {};
  const info = workflowInfo();
  const now = () => new Date().toISOString();

  const state: RunState = { status: 'running', startedAt: now(), nodes: {} };
  const nodes = new Map<string, RunbookNode>();
  for (const n of def.nodes) {
    nodes.set(n.id, n);
    state.nodes[n.id] = { id: n.id, kind: n.kind, status: 'pending', attempts: 0 };
  }
  // ---- messages ----
  const approvalInbox: InboxDecision[] = [];
  const resumeInbox: ResumeSignal[] = [];
  setHandler(runStateQuery, () => state);
  // A decision only counts for a step that is waiting for it; anything else is dropped.
  setHandler(approvalSignal, (s) => {
    if (state.nodes[s.nodeId]?.status === 'waiting-approval') approvalInbox.push(s);
  });
  setHandler(resumeSignal, (s) => {
    if (state.nodes[s.nodeId]?.status === 'paused') resumeInbox.push(s);
  });
  setHandler(loopProgressSignal, ({ nodeId, progress }) => {
    const ns = state.nodes[nodeId];
    if (ns?.status === 'running' && (ns.progress?.done ?? -1) < progress.done) ns.progress = progress;
  });

  // What visibility shows: status, who is asked to approve, and how far the run has got. Each
  // change is an upsert: a history event and a visibility write for the Temporal server. A run
  // with the baseline starts from what its start set (visibilityAtStart) and publishes nothing a
  // step's end says when the run's own end, in the same workflow task, says it anyway.
  const visibilityKey = (status: string | undefined, progress: string | undefined, pending: readonly string[]) => [status, progress, ...pending].join('\n');
  const sa = info.typedSearchAttributes;
  let published = baseline ? visibilityKey(sa.get(SA.status), sa.get(SA.progress), sa.get(SA.pendingApprovers) ?? []) : '';
  const FINISHED = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);
  const publish = () => {
    const all = Object.values(state.nodes);
    const pending = [...new Set(all.flatMap((n) => (n.status === 'waiting-approval' ? (n.approval?.pendingApprovers ?? []) : [])))].sort();
    if (state.status === 'running' || state.status === 'waiting-approval' || state.status === 'paused') {
      state.status = all.some((n) => n.status === 'paused')
        ? 'paused'
        : pending.length > 0
          ? 'waiting-approval'
          : 'running';
    }
    const progress = progressValue(all.filter((n) => FINISHED.has(n.status)).length, all.length);
    const key = visibilityKey(state.status, progress, pending);
    if (key === published) return;
    published = key;
    upsertSearchAttributes([
      { key: SA.status, value: state.status },
      { key: SA.pendingApprovers, value: pending },
      { key: SA.progress, value: progress },
    ]);
  };

  const ctx = (): ExpressionContext => ({
    inputs,
    run: { ...run, id: info.workflowId },
    item: input.item?.value,
    steps: Object.fromEntries(Object.values(state.nodes).map((n) => [n.id, { output: n.output, status: n.status }])),
  });

  // ---- graph walking ----
  const scope = new CancellationScope();
  let active = 0;
  let ended: RunEnded | undefined;
  let unexpected: unknown;

  const launch = (id: string): string | undefined => {
    const node = nodes.get(id)!;
    const ns = state.nodes[id]!;
    const carried = carry[id];
    if (carried) {
      Object.assign(ns, { status: 'succeeded', output: carried.output, handle: carried.handle, attempts: 0, carriedFrom: carried.from });
      ns.startedAt = ns.endedAt = now();
      return carried.handle;
    }
    ns.status = 'running';
    ns.startedAt = now();
    active++;
    scope
      .run(() => execute(node, ns))
      .then((handle) => {
        ns.endedAt = now();
        ns.handle = handle;
        if (!baseline) publish();
        scheduler.settle(id, handle);
        // Still running after this step (another step, one it let run, or work in the background):
        // say how far it got. Otherwise the run ends in this task and its end says it.
        if (baseline && (active > 1 || background.pending > 0)) publish();
      })
      .catch((err: unknown) => {
        ns.endedAt ??= now();
        if (isCancellation(err) && (ended || scope.consideredCancelled)) {
          if (ns.status === 'running' || ns.status === 'waiting-approval' || ns.status === 'paused') ns.status = 'cancelled';
        } else if (err instanceof RunEnded) {
          ended ??= err;
          scope.cancel();
        } else {
          unexpected ??= err;
          ns.status = 'failed';
          ns.error ??= { message: errorMessage(err) };
          scope.cancel();
        }
        publish();
      })
      .finally(() => {
        active--;
      });
    return undefined;
  };

  // ---- node kinds ----
  const background = { work: [] as Promise<unknown>[], pending: 0 };
  const inBackground = (work: Promise<unknown>) => {
    background.pending++;
    background.work.push(work.finally(() => background.pending--));
  };
  const execution: Execution = { input, workflowId: info.workflowId, state, approvalInbox, resumeInbox, expressions: ctx, publish, now, inBackground };
  registerApprovalUpdate(execution);
  const execute = async (node: RunbookNode, ns: NodeState): Promise<string> => {
    switch (node.kind) {
      case 'action':
        return runAction(execution, node, ns);
      case 'approval':
        return runApproval(execution, node, ns);
      case 'condition':
        return runCondition(execution, node, ns);
      case 'delay':
        return runDelay(execution, node, ns);
      case 'forEach':
        return runForEach(execution, node, ns);
      case 'end':
        return runEnd(execution, node, ns);
      case 'subRunbook':
        return runSubRunbook(execution, node, ns);
    }
  };

  const scheduler = new Scheduler(
    def.nodes.map((n) => n.id),
    def.edges,
    {
      pending: (id) => state.nodes[id]!.status === 'pending',
      halted: () => ended !== undefined,
      run: launch,
      skip: (id) => {
        state.nodes[id]!.status = 'skipped';
      },
    },
  );

  // ---- run ----
  publish();
  scheduler.start();
  try {
    await condition(() => active === 0);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // The run itself was cancelled: steps in flight were cancelled with it.
    await CancellationScope.nonCancellable(async () => {
      await condition(() => active === 0);
      for (const ns of Object.values(state.nodes)) if (ns.status === 'pending') ns.status = 'skipped';
      state.status = 'cancelled';
      state.endedAt = now();
      publish();
    });
    throw err;
  }

  // Notices steps sent without waiting (none for runs started before approval-request-concurrent).
  if (background.work.length) await Promise.all(background.work);
  for (const ns of Object.values(state.nodes)) if (ns.status === 'pending') ns.status = 'skipped';
  state.endedAt = now();
  // The outcome only decides the words; whether the workflow fails or completes is as it always
  // was (a failing step or an unexpected error), so histories of runs in flight still replay.
  const outcome = outcomeOf(def, state.nodes, {
    ended: ended && { status: ended.status, message: ended.message, nodeId: ended.nodeId },
    unexpected: unexpected ? errorMessage(unexpected) : undefined,
  });
  state.status = outcome.status;
  state.message = outcome.message;
  if (outcome.warnings.length) state.warnings = outcome.warnings;
  publish();
  // Whoever asked for a run that waited for approval hears how it ended. Since
  // requester-notice-server the control plane's notifier mails them when it sees the run closed
  // (server/notify.ts), so the run's end waits for no mail; before it the run sent the notice
  // itself (as a local activity since requester-notice-local).
  if (def.nodes.some((n) => n.kind === 'approval') && hasPatch('notify-requester') && !hasPatch('requester-notice-server')) await notifyRequester(execution, hasPatch('requester-notice-local'));
  if (unexpected || ended?.status === 'failed') throw ApplicationFailure.nonRetryable(state.message ?? 'run failed', 'RunFailed', state);
  return state;
}
