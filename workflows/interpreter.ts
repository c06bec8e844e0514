// The one generic workflow: it interprets a pinned runbook definition. Ready nodes run in
// parallel; a node runs once every incoming edge is decided and at least one was taken, and is
// skipped (and passes the skip on) when none was, so joins after a condition never wait forever.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { isOnPremisesAction, onPremisesTaskQueue, type ActionActivityInput, type ActionActivityResult, type ActionFailureDetails } from '../catalog/contract.ts';
import {
  durationMs,
  type ActionNode,
  type ApprovalNode,
  type ConditionNode,
  type DelayNode,
  type ForEachNode,
  type NodeState,
  type RunbookEdge,
  type RunbookNode,
  type RunbookWorkflowInput,
  type RunState,
  type RunStatus,
} from '../runbook/definition.ts';
import { evaluate, resolveTemplate, type ExpressionContext } from '../runbook/expressions.ts';
import { SA } from './search-attributes.ts';
import { loopProgressSignal, type ForEachInput, type ForEachResult } from './for-each.ts';
import {
  approvalSignal,
  resumeSignal,
  runStateQuery,
  type ApprovalSignal,
  type CarriedStep,
  type ResumeSignal,
} from './messages.ts';


const DEFAULT_TIMEOUT = '5m';
const DEFAULT_RETRY = { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

type ActionActivity = (input: ActionActivityInput) => Promise<ActionActivityResult>;

/** Raised inside node execution to end the whole run (onError=fail, abort, an end node). */
class RunEnded extends Error {
  readonly status: 'succeeded' | 'failed';
  constructor(status: 'succeeded' | 'failed', message: string) {
    super(message);
    this.status = status;
  }
}

export async function runbookWorkflow(input: RunbookWorkflowInput & { carry?: Record<string, CarriedStep> }): Promise<RunState> {
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
  const incoming = new Map<string, RunbookEdge[]>();
  const outgoing = new Map<string, RunbookEdge[]>();
  for (const e of def.edges) {
    incoming.set(e.target, [...(incoming.get(e.target) ?? []), e]);
    outgoing.set(e.source, [...(outgoing.get(e.source) ?? []), e]);
  }
  const edgeTaken = new Map<RunbookEdge, boolean>();

  // ---- messages ----
  const approvalInbox: ApprovalSignal[] = [];
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

  // What visibility shows: status, who is asked to approve, and how far the run has got.
  let published = '';
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
    const progress = `${all.filter((n) => FINISHED.has(n.status)).length}/${all.length}`;
    const key = [state.status, progress, ...pending].join('\n');
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

  const settle = (id: string, handle: string | null) => {
    const outs = outgoing.get(id) ?? [];
    for (const e of outs) edgeTaken.set(e, handle !== null && e.sourceHandle === handle);
    for (const target of new Set(outs.map((e) => e.target))) consider(target);
  };

  const consider = (id: string) => {
    const node = state.nodes[id]!;
    if (node.status !== 'pending' || ended) return;
    const ins = incoming.get(id) ?? [];
    if (ins.some((e) => !edgeTaken.has(e))) return;
    if (ins.length === 0 || ins.some((e) => edgeTaken.get(e))) {
      launch(id);
    } else {
      node.status = 'skipped';
      settle(id, null);
    }
  };

  const launch = (id: string) => {
    const node = nodes.get(id)!;
    const ns = state.nodes[id]!;
    const carried = carry[id];
    if (carried) {
      Object.assign(ns, { status: 'succeeded', output: carried.output, handle: carried.handle, attempts: 0, carriedFrom: carried.from });
      ns.startedAt = ns.endedAt = now();
      settle(id, carried.handle);
      return;
    }
    ns.status = 'running';
    ns.startedAt = now();
    active++;
    scope
      .run(() => execute(node, ns))
      .then((handle) => {
        ns.endedAt = now();
        ns.handle = handle;
        publish();
        settle(id, handle);
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
  };

  // ---- node kinds ----
  const execute = async (node: RunbookNode, ns: NodeState): Promise<string> => {
    switch (node.kind) {
      case 'action':
        return runAction(node, ns);
      case 'approval':
        return runApproval(node, ns);
      case 'condition':
        return runCondition(node, ns);
      case 'delay':
        return runDelay(node, ns);
      case 'forEach':
        return runForEach(node, ns);
      case 'end':
        ns.status = 'succeeded';
        ns.endedAt = now();
        throw new RunEnded(node.status, node.message ?? (node.status === 'failed' ? `ended at ${node.id}` : 'completed'));
    }
  };

  const runAction = async (node: ActionNode, ns: NodeState): Promise<string> => {
    const params = await resolveTemplate(node.params, ctx());
    ns.input = params;
    const retry = { ...DEFAULT_RETRY, ...def.settings.defaultRetry, ...node.retry };
    // On-premises (ad.*) steps go to the tenant's AD connection's worker; patched so runs started
    // before this change replay unchanged (they had no such steps).
    const taskQueue = isOnPremisesAction(node.action) && run.onPremises && patched('ad-task-queue') ? onPremisesTaskQueue(run.onPremises) : undefined;
    for (let round = 1; ; round++) {
      const activities = proxyActivities<Record<string, ActionActivity>>({
        ...(taskQueue ? { taskQueue } : {}),
        activityId: round === 1 ? node.id : `${node.id}#${round}`,
        startToCloseTimeout: node.timeout ?? def.settings.defaultTimeout ?? DEFAULT_TIMEOUT,
        // Short, so a step whose worker died is retried elsewhere within seconds.
        heartbeatTimeout: '10s',
        retry: {
          maximumAttempts: retry.maximumAttempts,
          initialInterval: retry.initialInterval,
          backoffCoefficient: retry.backoffCoefficient,
          maximumInterval: retry.maximumInterval,
        },
      });
      try {
        ns.status = 'running';
        publish();
        const result = await activities[node.action]!({ tenant: run.tenant, params });
        ns.attempts += result.attempt;
        ns.output = result.output;
        ns.status = 'succeeded';
        ns.error = undefined;
        return 'out';
      } catch (err) {
        if (isCancellation(err)) throw err;
        const failure = describeFailure(err);
        ns.attempts += failure.attempt ?? retry.maximumAttempts ?? 1;
        ns.error = failure.error;
        ns.status = 'failed';
        ns.endedAt = now();
        log.warn('step failed', { node: node.id, error: failure.error.message });
        switch (node.onError) {
          case 'continue':
            return 'out';
          case 'route':
            return 'error';
          case 'fail':
            throw new RunEnded('failed', `Step ${node.id} failed: ${failure.error.message}`);
          case 'pause': {
            ns.status = 'paused';
            publish();
            const decision = await waitFor(resumeInbox, node.id);
            ns.endedAt = undefined;
            if (decision.action === 'retry') continue;
            if (decision.action === 'skip') {
              ns.status = 'skipped';
              return 'out';
            }
            ns.status = 'failed';
            throw new RunEnded('failed', `Step ${node.id} was aborted by ${decision.by} after failing: ${failure.error.message}`);
          }
        }
      }
    }
  };

  const runApproval = async (node: ApprovalNode, ns: NodeState): Promise<string> => {
    const approvers = (a: ApprovalNode['approvers']) => [
      ...a.users.map((u) => u.toLowerCase()),
      ...a.roles.map((r) => `role:${r}`),
      ...a.groups.map((g) => `group:${g}`),
    ];
    const message = node.message ? String(await resolveTemplate(node.message, ctx())) : undefined;
    const timeoutMs = node.timeout !== undefined ? durationMs(node.timeout) : undefined;
    const started = Date.now();
    const allowSelf = node.allowSelfApproval ?? def.settings.allowSelfApproval;
    const needed =
      node.quorum === 'any' ? 1 : node.quorum === 'all' ? Math.max(1, node.approvers.users.length) : node.quorum.count;
    ns.approval = {
      pendingApprovers: approvers(node.approvers),
      decisions: [],
      message,
      deadline: timeoutMs !== undefined ? new Date(started + timeoutMs).toISOString() : undefined,
      allowSelfApproval: allowSelf,
      quorum: needed,
    };
    ns.status = 'waiting-approval';
    publish();
    let outcome: 'approved' | 'rejected' | undefined;
    const approvals = new Set<string>();

    const drain = () => {
      for (let i = 0; i < approvalInbox.length; ) {
        const s = approvalInbox[i]!;
        if (s.nodeId !== node.id) {
          i++;
          continue;
        }
        approvalInbox.splice(i, 1);
        if (outcome) continue;
        const by = s.by.toLowerCase();
        const record = { by, decision: s.decision, comment: s.comment, at: now() };
        if (!allowSelf && by === run.startedBy.toLowerCase()) {
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
        publish();
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
        at: now(),
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
  };

  const runForEach = async (node: ForEachNode, ns: NodeState): Promise<string> => {
    const items = await evaluate(node.items, ctx());
    if (!Array.isArray(items))
      throw new RunEnded('failed', `Step ${node.id}: "items" gave ${JSON.stringify(items)?.slice(0, 100)}, not a list`);
    ns.input = { count: items.length };
    ns.progress = { total: items.length, done: 0, succeeded: 0, failed: 0 };
    const loop: ForEachInput = {
      parentWorkflowId: info.workflowId,
      nodeId: node.id,
      body: { ...def, name: `${def.name} / ${node.id}`, nodes: node.body.nodes, edges: node.body.edges },
      inputs,
      run,
      items,
      offset: 0,
      total: items.length,
      concurrency: node.concurrency,
      onItemError: node.onItemError,
    };
    try {
      const result = await executeChild<(i: ForEachInput) => Promise<ForEachResult>>('forEachWorkflow', {
        workflowId: `${info.workflowId}.${node.id}`,
        args: [loop],
      });
      ns.progress = { total: result.total, done: result.done, succeeded: result.succeeded, failed: result.failed };
      ns.output = result;
      ns.status = 'succeeded';
      return 'out';
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
      const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as ForEachResult | undefined) : undefined;
      if (details) {
        ns.output = details;
        ns.progress = { total: details.total, done: details.done, succeeded: details.succeeded, failed: details.failed };
      }
      ns.status = 'failed';
      ns.error = { message: errorMessage(cause) };
      throw new RunEnded('failed', `Step ${node.id} failed: ${errorMessage(cause)}`);
    }
  };

  const runCondition = async (node: ConditionNode, ns: NodeState): Promise<string> => {
    let handle: string;
    if (node.cases) {
      handle = 'default';
      for (const c of node.cases) {
        if (truthy(await evaluate(c.expression, ctx()))) {
          handle = c.handle;
          break;
        }
      }
    } else {
      handle = truthy(await evaluate(node.expression ?? 'false', ctx())) ? 'true' : 'false';
    }
    ns.status = 'succeeded';
    ns.output = { handle };
    return handle;
  };

  const runDelay = async (node: DelayNode, ns: NodeState): Promise<string> => {
    let ms = 0;
    if (node.duration !== undefined) ms = durationMs(node.duration);
    else if (node.until) {
      const at = await evaluate(node.until, ctx());
      const t = typeof at === 'number' ? at : Date.parse(String(at));
      if (Number.isNaN(t)) throw new RunEnded('failed', `Step ${node.id}: "until" gave ${JSON.stringify(at)}, not a date`);
      ms = t - Date.now();
    }
    ns.output = { until: new Date(Date.now() + Math.max(0, ms)).toISOString() };
    if (ms > 0) await sleep(ms);
    ns.status = 'succeeded';
    return 'out';
  };

  const waitFor = async <T extends { nodeId: string }>(inbox: T[], nodeId: string): Promise<T> => {
    await condition(() => inbox.some((s) => s.nodeId === nodeId));
    const i = inbox.findIndex((s) => s.nodeId === nodeId);
    return inbox.splice(i, 1)[0]!;
  };

  // ---- run ----
  publish();
  for (const n of def.nodes) consider(n.id);
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

  for (const ns of Object.values(state.nodes)) if (ns.status === 'pending') ns.status = 'skipped';
  state.endedAt = now();
  if (unexpected) {
    state.status = 'failed';
    state.message = errorMessage(unexpected);
  } else if (ended) {
    state.status = ended.status;
    state.message = ended.message;
  } else {
    const failed = Object.values(state.nodes).filter((n) => n.status === 'failed');
    state.status = 'succeeded';
    state.message = failed.length ? `completed; failed steps continued past: ${failed.map((n) => n.id).join(', ')}` : 'completed';
  }
  publish();
  if (state.status === 'failed') throw ApplicationFailure.nonRetryable(state.message ?? 'run failed', 'RunFailed', state);
  return state;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describeFailure(err: unknown): { error: NodeState['error'] & {}; attempt?: number } {
  let cause: unknown = err;
  if (err instanceof ActivityFailure) cause = err.cause ?? err;
  if (cause instanceof ApplicationFailure) {
    const d = (cause.details?.[0] ?? {}) as Partial<ActionFailureDetails>;
    return {
      error: { message: cause.message, type: cause.type ?? undefined, code: d.code, hint: d.hint },
      attempt: d.attempt,
    };
  }
  return { error: { message: errorMessage(cause) } };
}
