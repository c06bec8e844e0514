// An action step: one activity of the catalog, with the step's retry policy and error handling
// (fail the run, continue, route to the error branch, or pause for an operator's decision).
import { ActivityFailure, ApplicationFailure, isCancellation, log, proxyActivities, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import { hasPatch } from '../patches.ts';
import { budgetOf } from '../../catalog/budgets.ts';
import { budgetTaskQueue, isOnPremisesAction, onPremisesTaskQueue, type ActionActivityInput, type ActionActivityResult, type ActionFailureDetails } from '../../catalog/contract.ts';
import type { ActionNode, NodeState } from '../../runbook/definition.ts';
import { resolveTemplate } from '../../runbook/expressions.ts';
import { errorMessage, RunEnded, waitFor, type Execution } from './execution.ts';

const DEFAULT_TIMEOUT = '5m';
const DEFAULT_RETRY = { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

type ActionActivity = (input: ActionActivityInput) => Promise<ActionActivityResult>;

export async function runAction(x: Execution, node: ActionNode, ns: NodeState): Promise<string> {
  const params = await resolveTemplate(node.params, x.expressions());
  ns.input = params;
  const retry = { ...DEFAULT_RETRY, ...x.input.definition.settings.defaultRetry, ...node.retry };
  // On-premises (ad.*) steps go to the tenant's AD connection's worker; patched so runs started
  // before this change replay unchanged (they had no such steps).
  const onPremises = x.input.run.onPremises;
  let taskQueue = isOnPremisesAction(node.action) && onPremises && hasPatch('ad-task-queue') ? onPremisesTaskQueue(onPremises) : undefined;
  // A step that draws from one of Microsoft's rate-limited write budgets (catalog/budgets.ts) runs
  // on its tenant's queue for that budget, which Temporal dispatches at one rate across every
  // worker. Patched: runs started before scheduled it on their own queue (asked only for such steps).
  const budget = budgetOf(node.action);
  if (!taskQueue && budget && hasPatch('tenant-task-queues')) taskQueue = budgetTaskQueue(workflowInfo().taskQueue, x.input.run.tenant, budget.budget);
  for (let round = 1; ; round++) {
    const activities = proxyActivities<Record<string, ActionActivity>>({
      ...(taskQueue ? { taskQueue } : {}),
      activityId: round === 1 ? node.id : `${node.id}#${round}`,
      startToCloseTimeout: node.timeout ?? x.input.definition.settings.defaultTimeout ?? DEFAULT_TIMEOUT,
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
      x.publish();
      const result = await activities[node.action]!({ tenant: x.input.run.tenant, params });
      ns.attempts += result.attempt;
      ns.output = result.output;
      if (result.warnings?.length) ns.warnings = result.warnings;
      ns.status = 'succeeded';
      ns.error = undefined;
      return 'out';
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = describeFailure(err);
      ns.attempts += failure.attempt ?? retry.maximumAttempts ?? 1;
      ns.error = failure.error;
      ns.status = 'failed';
      ns.endedAt = x.now();
      log.warn('step failed', { node: node.id, error: failure.error.message });
      switch (node.onError) {
        case 'continue':
          return 'out';
        case 'route':
          return 'error';
        case 'fail':
          throw new RunEnded('failed', `Step ${node.id} failed: ${failure.error.message}`, node.id);
        case 'pause': {
          ns.status = 'paused';
          x.publish();
          const decision = await waitFor(x.resumeInbox, node.id);
          ns.endedAt = undefined;
          if (decision.action === 'retry') continue;
          if (decision.action === 'skip') {
            ns.status = 'skipped';
            return 'out';
          }
          ns.status = 'failed';
          throw new RunEnded('failed', `Step ${node.id} was aborted by ${decision.by} after failing: ${failure.error.message}`, node.id);
        }
      }
    }
  }
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
  // Out of time on its last attempt: the run says "timed out" rather than "failed".
  if (cause instanceof TimeoutFailure) return { error: { message: errorMessage(cause), type: 'Timeout' } };
  return { error: { message: errorMessage(cause) } };
}
