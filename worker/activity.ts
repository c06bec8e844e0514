// The one activity wrapper every action runs through: zod-validated input, the tenant's Graph
// client, an idempotency key stable across attempts, heartbeats, and error mapping.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { z } from 'zod';
import type {
  ActionActivityInput,
  ActionActivityResult,
  ActionContract,
  ActionFailureDetails,
} from '../catalog/contract.ts';
import { containsSealed, openSealed, type Sealer } from '../runbook/secrets.ts';
import { toFailure } from './failure.ts';
import { exchangeClientCache, type ExchangeClient } from '../m365/exchange.ts';
import { sharepointClientCache, type SharePointClient } from '../m365/sharepoint.ts';
import { graphTagStore, type TagStore } from './tags.ts';
import type { TenantConnection, TenantDirectory } from '../m365/tenants.ts';
import { isOnPremisesAction, onPremisesTaskQueue } from '../catalog/contract.ts';
import type { AdConnection } from '../m365/ad-connection.ts';
import { adClientCache, type AdClient } from '../m365/ad.ts';

export interface ActionContext {
  graph: Client;
  /** The Exchange Online admin API (InvokeCommand) on the same credential. */
  exchange: ExchangeClient;
  /** SharePoint REST on the tenant's hosts (needs a certificate connection). */
  sharepoint: SharePointClient;
  /** Tenantflow's user tags, kept in this tenant (an open extension on each user, worker/tags.ts). */
  tags: TagStore;
  tenant: TenantConnection;
  /** On-premises Active Directory (LDAPS): only on an on-premises worker, only for `ad` actions. */
  ad: AdClient;
  /** Same value on every attempt of one step of one run: use it to recognise your own earlier effect. */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** When the step's first attempt was scheduled (ms): objects created since then may be this step's own. */
  stepScheduledAt: number;
  /** Aborted when the run (or the step) is cancelled. */
  signal: AbortSignal;
  heartbeat(details?: unknown): void;
  /** The server's secret box, to return a secret the action creates sealed (runbook/secrets.ts); absent on a worker without the key. */
  secrets?: Sealer;
  /** Something the operator must know although the step succeeded (e.g. "E5 was not assigned"). */
  warn(message: string): void;
}

export type ActionHandler<C extends ActionContract> = (
  input: z.output<C['input']>,
  ctx: ActionContext,
) => Promise<z.input<C['output']>>;

export interface ActionImplementation {
  contract: ActionContract;
  handler: ActionHandler<ActionContract>;
}

export function implement<C extends ActionContract>(contract: C, handler: ActionHandler<C>): ActionImplementation {
  return { contract, handler: handler as unknown as ActionHandler<ActionContract> };
}

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

function invalidInput(contract: ActionContract, error: z.ZodError, attempt: number): ApplicationFailure {
  const lines = error.issues.map((i) => {
    const field = i.path.join('.') || '(parameters)';
    if (i.code === 'unrecognized_keys') return `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
    return `parameter "${field}": ${i.message}`;
  });
  const first = error.issues[0];
  const details: ActionFailureDetails = { attempt, code: 'InvalidInput', field: first?.path.join('.') };
  return ApplicationFailure.create({
    message: `${contract.id}: ${lines.join('; ')}`,
    type: 'InvalidInput',
    nonRetryable: true,
    details: [details],
  });
}

/** Builds the activities (one per action, named by its id) from their dependencies. */
export function createActivities(deps: ActivityDeps): Record<string, ActionActivity> {
  const activities: Record<string, ActionActivity> = {};
  const exchangeFor = deps.exchangeFor ?? exchangeClientCache();
  const adFor = deps.adFor ?? adClientCache();
  const sharepointFor = deps.sharepointFor ?? sharepointClientCache();
  for (const { contract, handler } of deps.actions) {
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
      } else {
        try {
          tenant = await deps.tenants.get(envelope.tenant);
        } catch (err) {
          throw ApplicationFailure.create({
            message: (err as Error).message,
            type: 'UnknownTenant',
            nonRetryable: true,
            details: [{ attempt, code: 'UnknownTenant', hint: 'connect the tenant first' } satisfies ActionFailureDetails],
          });
        }
      }
      actx.heartbeat();
      const attemptStarted = Date.now();
      const timer = setInterval(() => actx.heartbeat(), deps.heartbeatEveryMs ?? 2000);
      const warnings: string[] = [];
      try {
        const unavailable = (what: string) => () => {
          throw new Error(`${contract.id}: ${what} is not available ${onPremises ? 'on the on-premises worker' : 'to cloud actions'}`);
        };
        const context = {
          tenant,
          idempotencyKey: `${workflowExecution?.workflowId ?? 'standalone'}/${activityId}`,
          attempt,
          stepScheduledAt: scheduledTimestampMs,
          signal: actx.cancellationSignal,
          heartbeat: (d: unknown) => actx.heartbeat(d),
          secrets: deps.secrets,
          warn: (message: string) => void warnings.push(message),
        } as ActionContext;
        // Cloud actions get the tenant's Graph and Exchange clients; on-premises ones the AD connection.
        if (onPremises) {
          Object.defineProperty(context, 'graph', { get: unavailable('Microsoft Graph') });
          Object.defineProperty(context, 'exchange', { get: unavailable('Exchange Online') });
          Object.defineProperty(context, 'tags', { get: unavailable('tags (kept in the tenant)') });
          Object.defineProperty(context, 'sharepoint', { get: unavailable('SharePoint') });
          context.ad = adFor(deps.adConnection!);
        } else {
          context.graph = deps.graphFor(tenant, actx.cancellationSignal);
          context.exchange = exchangeFor(tenant);
          context.sharepoint = sharepointFor(tenant);
          // Tags live in the tenant (an open extension per user), so every worker sees the same ones.
          context.tags = graphTagStore(context.graph);
          Object.defineProperty(context, 'ad', { get: unavailable('Active Directory') });
        }
        const output = await handler(parsed.data, context);
        const result = { output: contract.output.parse(output), attempt, ...(warnings.length ? { warnings } : {}) };
        deps.onStep?.(contract.id, 'succeeded', (Date.now() - attemptStarted) / 1000);
        return result;
      } catch (err) {
        deps.onStep?.(contract.id, 'failed', (Date.now() - attemptStarted) / 1000);
        throw toFailure(err, contract, attempt);
      } finally {
        clearInterval(timer);
      }
    };
  }
  return activities;
}
