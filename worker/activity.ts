// The one activity wrapper every action runs through: zod-validated input, the tenant's Graph
// client, an idempotency key stable across attempts, heartbeats, error mapping, and for a write
// action the changes it made (its plan read just before it runs: docs/plan.md).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@microsoft/microsoft-graph-client';
import {
  CHANGES_KEY,
  isOnPremisesAction,
  onPremisesTaskQueue,
  type ActionActivityInput,
  type ActionActivityResult,
  type ActionFailureDetails,
  type Change,
} from '../catalog/contract.ts';
import { containsSealed, openSealed, type Sealer } from '../runbook/secrets.ts';
import { invalidInput, toFailure } from './failure.ts';
import { exchangeClientCache, type ExchangeClient } from '../m365/exchange.ts';
import { changesBefore, settle, withChanges } from './planning.ts';
import { rerunTransient, withTenantReread } from './transient-steps.ts';
import { planRunbook } from './plan-runbook.ts';
import { PLAN_ACTIVITY, PLAN_BATCH_ACTIVITY, type PlanBatch, type PlanRequest, type RunPlan } from '../runbook/plan.ts';
import { sharepointClientCache, type SharePointClient } from '../m365/sharepoint.ts';
import { graphTagStore } from './tags.ts';
import { waitingOutReplication } from './replication.ts';
import type { ActionContext, ActionImplementation, PlanContext } from './implementation.ts';
import type { TenantConnection, TenantDirectory } from '../m365/tenants.ts';
import type { AdConnection } from '../m365/ad-connection.ts';
import { adClientCache, type AdClient } from '../m365/ad.ts';

export { implement, type ActionContext, type ActionHandler, type ActionImplementation, type ActionPlanner, type PlanContext } from './implementation.ts';

export interface ActivityDeps {
  tenants: TenantDirectory;
  graphFor: (conn: TenantConnection, signal?: AbortSignal) => Client;
  /** Default: one Exchange admin API client per connection. */
  exchangeFor?: (conn: TenantConnection) => ExchangeClient;
  /** Default: one SharePoint REST client per connection. */
  sharepointFor?: (conn: TenantConnection) => SharePointClient;
  actions: ActionImplementation[];
  /** Opens sealed secrets in parameters (see workflows/secrets.ts); without it they stay sealed. */
  secrets?: Sealer;
  heartbeatEveryMs?: number;
  /** Called when an attempt of a step ends (metrics: step durations). */
  onStep?: (action: string, outcome: 'succeeded' | 'failed', seconds: number) => void;
  /** Set on an on-premises worker: the AD connection its `ad` actions use. */
  adConnection?: AdConnection;
  /** Default: one AD client per connection. */
  adFor?: (conn: AdConnection) => AdClient;
}

export type ActionActivity = (input: ActionActivityInput) => Promise<ActionActivityResult>;
export type PlanActivity = (input: PlanRequest) => Promise<RunPlan>;
export type PlanBatchActivity = (input: PlanBatch) => Promise<{ rows: { line: number; plan: RunPlan }[] }>;

/**
 * Builds the activities from their dependencies: one per action, named by its id, and the plan
 * activities (docs/plan.md), which read the tenant through the same transports and throttle gate.
 */
export function createActivities(deps: ActivityDeps): Record<string, ActionActivity | PlanActivity | PlanBatchActivity> {
  const activities: Record<string, ActionActivity> = {};
  const exchangeFor = deps.exchangeFor ?? exchangeClientCache();
  const adFor = deps.adFor ?? adClientCache();
  const sharepointFor = deps.sharepointFor ?? sharepointClientCache();
  /** The tenant's transports for the activity running now (cancelled with it). */
  const planContext = (tenant: TenantConnection, heartbeat: (d?: unknown) => void): PlanContext => {
    const signal = Context.current().cancellationSignal;
    const graph = deps.graphFor(tenant, signal);
    // Tags live in the tenant (an open extension per user), so every worker sees the same ones.
    return { graph, exchange: exchangeFor(tenant), sharepoint: sharepointFor(tenant), tags: graphTagStore(graph), tenant, signal, heartbeat };
  };
  const tenantOf = async (name: string, attempt: number): Promise<TenantConnection> => {
    try {
      return await deps.tenants.get(name);
    } catch (err) {
      throw ApplicationFailure.create({
        message: (err as Error).message,
        type: 'UnknownTenant',
        nonRetryable: true,
        details: [{ attempt, code: 'UnknownTenant', hint: 'connect the tenant first' } satisfies ActionFailureDetails],
      });
    }
  };
  for (const impl of deps.actions) {
    const { contract, handler } = impl;
    if (activities[contract.id]) throw new Error(`two implementations of ${contract.id}`);
    activities[contract.id] = async (envelope) => {
      const actx = Context.current();
      const { attempt, activityId, workflowExecution, scheduledTimestampMs } = actx.info;
      if (!deps.secrets && containsSealed(envelope.params))
        throw ApplicationFailure.create({
          message: `${contract.id}: a parameter is a sealed secret, and this worker has no secret key to open it`,
          type: 'NoSecretKey',
          nonRetryable: true,
          details: [{ attempt, code: 'NoSecretKey', hint: 'give the worker the same TENANTFLOW_SECRET_KEY (or data/secret.key) as the server' } satisfies ActionFailureDetails],
        });
      const params = deps.secrets ? openSealed(deps.secrets, envelope.params) : envelope.params;
      const parsed = contract.input.safeParse(params);
      if (!parsed.success) throw invalidInput(contract, parsed.error, attempt);
      const onPremises = isOnPremisesAction(contract.id);
      let tenant: TenantConnection;
      if (onPremises) {
        // The on-premises worker holds an AD connection, not the tenant's cloud credentials.
        if (!deps.adConnection)
          throw ApplicationFailure.create({
            message: `${contract.id} runs on the on-premises worker of the tenant's AD connection, and this worker has none (it polls a cloud task queue)`,
            type: 'NoAdConnection',
            nonRetryable: true,
            details: [{ attempt, code: 'NoAdConnection', hint: `give tenant ${envelope.tenant} an AD connection (onPremises) and run an on-premises worker for it: TENANTFLOW_AD_CONNECTION=<name> npm run worker, which polls ${onPremisesTaskQueue('<name>')} (docs/hybrid.md)` } satisfies ActionFailureDetails],
          });
        tenant = { name: envelope.tenant, tenantId: '', clientId: '', clientSecret: '' };
      } else tenant = await tenantOf(envelope.tenant, attempt);
      // The before-state an earlier attempt read travels in its heartbeat details: a retry after a
      // write whose answer was lost must not take the changed state for the state before. The
      // first heartbeat leaves at once (later ones are throttled), so for a write it carries it.
      let before = earlierBefore(actx.info.heartbeatDetails);
      let beat: Record<string, unknown> = before ? { [CHANGES_KEY]: before } : {};
      const heartbeat = (d?: unknown) => actx.heartbeat({ ...beat, ...(d === undefined ? {} : { progress: d }) });
      let timer: ReturnType<typeof setInterval> | undefined;
      let ran = attempt;
      const attemptStarted = Date.now();
      const warnings: string[] = [];
      try {
        const unavailable = (what: string) => () => {
          throw new Error(`${contract.id}: ${what} is not available ${onPremises ? 'on the on-premises worker' : 'to cloud actions'}`);
        };
        const ids = { idempotencyKey: `${workflowExecution?.workflowId ?? 'standalone'}/${activityId}`, attempt, stepScheduledAt: scheduledTimestampMs, secrets: deps.secrets, warn: (message: string) => void warnings.push(message) };
        let context: ActionContext;
        // Cloud actions get the tenant's Graph and Exchange clients; on-premises ones the AD connection.
        if (onPremises) {
          context = { tenant, signal: actx.cancellationSignal, heartbeat, ...ids } as ActionContext;
          Object.defineProperty(context, 'graph', { get: unavailable('Microsoft Graph') });
          Object.defineProperty(context, 'exchange', { get: unavailable('Exchange Online') });
          Object.defineProperty(context, 'tags', { get: unavailable('tags (kept in the tenant)') });
          Object.defineProperty(context, 'sharepoint', { get: unavailable('SharePoint') });
          context.ad = adFor(deps.adConnection!);
        } else {
          const base = planContext(tenant, heartbeat);
          context = { ...base, ...ids } as ActionContext;
          Object.defineProperty(context, 'ad', { get: unavailable('Active Directory') });
          if (!before && impl.plan) {
            before = await changesBefore(impl, parsed.data, base);
            if (before) beat = { [CHANGES_KEY]: before };
          }
        }
        heartbeat();
        timer = setInterval(() => heartbeat(), deps.heartbeatEveryMs ?? 2000);
        // Transient failures (throttling, 5xx, a lost answer) run the handler again inside this
        // attempt, as a retry would (ctx.attempt counts up, so it recognises its own earlier
        // write), within bounds: they do not use up the step's attempts (finding 12). Objects a
        // recent step wrote may not have replicated yet: lookups wait that out (finding 11).
        const output = await rerunTransient(contract, attempt, (run) => {
          ran = run;
          context.attempt = run;
          return waitingOutReplication(() => handler(parsed.data, context));
        }, actx.cancellationSignal);
        const checked = contract.output.parse(output);
        deps.onStep?.(contract.id, 'succeeded', (Date.now() - attemptStarted) / 1000);
        return { output: before ? withChanges(checked, settle(before, checked)) : checked, attempt: ran, ...(warnings.length ? { warnings } : {}) };
      } catch (err) {
        deps.onStep?.(contract.id, 'failed', (Date.now() - attemptStarted) / 1000);
        const failure = toFailure(err, contract, ran);
        // A step that fails where its write may have happened re-reads the tenant and says what is there.
        if (!failure.nonRetryable && before?.length && !onPremises && !actx.cancellationSignal.aborted)
          throw await withTenantReread(failure, impl, parsed.data, planContext(tenant, heartbeat), before);
        throw failure;
      } finally {
        if (timer) clearInterval(timer);
      }
    };
  }
  const byId = new Map(deps.actions.map((a) => [a.contract.id, a]));
  const planner = async (tenantName: string) => {
    const actx = Context.current();
    const tenant = await tenantOf(tenantName, actx.info.attempt);
    return { actions: byId, ctx: planContext(tenant, (d) => actx.heartbeat(d)), secrets: deps.secrets };
  };
  const plan: PlanActivity = async (req) => planRunbook(req, await planner(req.run.tenant));
  const planRows: PlanBatchActivity = async (batch) => {
    const p = await planner(batch.request.run.tenant);
    const rows: { line: number; plan: RunPlan }[] = [];
    for (const row of batch.rows) rows.push({ line: row.line, plan: await planRunbook({ ...batch.request, inputs: row.inputs }, p) });
    return { rows };
  };
  return { ...activities, [PLAN_ACTIVITY]: plan, [PLAN_BATCH_ACTIVITY]: planRows };
}

function earlierBefore(details: unknown): Change[] | undefined {
  const v = details && typeof details === 'object' ? (details as Record<string, unknown>)[CHANGES_KEY] : undefined;
  return Array.isArray(v) ? (v as Change[]) : undefined;
}
