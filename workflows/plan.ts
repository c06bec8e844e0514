// The plan of a run, made on a worker (docs/plan.md): the worker holds the tenant's credentials
// and the actions' plans, so the server asks for a plan by running this short workflow, which
// runs the plan activity once and returns what it found. Nothing is changed in the tenant.
import { proxyActivities } from '@temporalio/workflow';
import { PLAN_ACTIVITY, PLAN_BATCH_ACTIVITY, type PlanBatch, type PlanRequest, type RunPlan } from '../runbook/plan.ts';

export type PlanJob = { request: PlanRequest } | { batch: PlanBatch };
export type PlanJobResult = { plan: RunPlan } | { rows: { line: number; plan: RunPlan }[] };

type Planner = {
  [PLAN_ACTIVITY]: (req: PlanRequest) => Promise<RunPlan>;
  [PLAN_BATCH_ACTIVITY]: (batch: PlanBatch) => Promise<{ rows: { line: number; plan: RunPlan }[] }>;
};

/** Options of the plan activity, here and where an approval plans what it gates. */
export const PLAN_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '10m',
  // Each planned step heartbeats; a read waiting out a Retry-After can take a while.
  heartbeatTimeout: '2m',
  retry: { maximumAttempts: 3, initialInterval: '1s' },
} as const;

export async function planWorkflow(job: PlanJob): Promise<PlanJobResult> {
  const acts = proxyActivities<Planner>(PLAN_ACTIVITY_OPTIONS);
  if ('request' in job) return { plan: await acts[PLAN_ACTIVITY](job.request) };
  return acts[PLAN_BATCH_ACTIVITY](job.batch);
}
