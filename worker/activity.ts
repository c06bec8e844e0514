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
import { defaultTagStore, type TagStore } from './tags.ts';
import type { TenantConnection, TenantDirectory } from '../m365/tenants.ts';

export interface ActionContext {
  graph: Client;
  /** The Exchange Online admin API (InvokeCommand) on the same credential. */
  exchange: ExchangeClient;
  /** SharePoint REST on the tenant's hosts (needs a certificate connection). */
  sharepoint: SharePointClient;
  /** Tenantflow's own user tags (never written to Entra). */
  tags: TagStore;
  tenant: TenantConnection;
  /** Same value on every attempt of one step of one run: use it to recognise your own earlier effect. */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** When the step's first attempt was scheduled (ms): objects created since then may be this step's own. */
  stepScheduledAt: number;
  /** Aborted when the run (or the step) is cancelled. */
  signal: AbortSignal;
  heartbeat(details?: unknown): void;
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
  /** Default: a JSON file (see worker/tags.ts); the control plane injects its database. */
  tags?: TagStore;
  actions: ActionImplementation[];
  /** Opens sealed secrets in parameters (see workflows/secrets.ts); without it they stay sealed. */
  secrets?: Sealer;
  heartbeatEveryMs?: number;
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
  const sharepointFor = deps.sharepointFor ?? sharepointClientCache();
  let tags = deps.tags;
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
      let tenant: TenantConnection;
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
      actx.heartbeat();
      const timer = setInterval(() => actx.heartbeat(), deps.heartbeatEveryMs ?? 2000);
      try {
        const output = await handler(parsed.data, {
          graph: deps.graphFor(tenant, actx.cancellationSignal),
          exchange: exchangeFor(tenant),
          sharepoint: sharepointFor(tenant),
          tags: (tags ??= defaultTagStore()),
          tenant,
          idempotencyKey: `${workflowExecution?.workflowId ?? 'standalone'}/${activityId}`,
          attempt,
          stepScheduledAt: scheduledTimestampMs,
          signal: actx.cancellationSignal,
          heartbeat: (d) => actx.heartbeat(d),
        });
        return { output: contract.output.parse(output), attempt };
      } catch (err) {
        throw toFailure(err, contract, attempt);
      } finally {
        clearInterval(timer);
      }
    };
  }
  return activities;
}
