// What an action implementation is: its contract, the handler that makes the change, and
// optionally the plan that predicts it (docs/plan.md). A leaf module, so the activity wrapper and
// the planner both use these types without importing each other.
import type { Client } from '@microsoft/microsoft-graph-client';
import type { z } from 'zod';
import type { ActionContract, Change } from '../catalog/contract.ts';
import type { AdClient } from '../m365/ad.ts';
import type { ExchangeClient } from '../m365/exchange.ts';
import type { SharePointClient } from '../m365/sharepoint.ts';
import type { TenantConnection } from '../m365/tenants.ts';
import type { Sealer } from '../runbook/secrets.ts';
import type { TagStore } from './tags.ts';

/** What a plan may use: the tenant's transports, for reads only. */
export interface PlanContext {
  graph: Client;
  /** The Exchange Online admin API (InvokeCommand) on the same credential. */
  exchange: ExchangeClient;
  /** SharePoint REST on the tenant's hosts (needs a certificate connection). */
  sharepoint: SharePointClient;
  /** Tenantflow's user tags, kept in this tenant (an open extension on each user, worker/tags.ts). */
  tags: TagStore;
  tenant: TenantConnection;
  /** Aborted when the run (or the step) is cancelled. */
  signal: AbortSignal;
  heartbeat(details?: unknown): void;
}

export interface ActionContext extends PlanContext {
  /** On-premises Active Directory (LDAPS): only on an on-premises worker, only for `ad` actions. */
  ad: AdClient;
  /** Same value on every attempt of one step of one run: use it to recognise your own earlier effect. */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** When the step's first attempt was scheduled (ms): objects created since then may be this step's own. */
  stepScheduledAt: number;
  /** The server's secret box, to return a secret the action creates sealed (runbook/secrets.ts); absent on a worker without the key. */
  secrets?: Sealer;
  /** Something the operator must know although the step succeeded (e.g. "E5 was not assigned"). */
  warn(message: string): void;
}

export type ActionHandler<C extends ActionContract> = (
  input: z.output<C['input']>,
  ctx: ActionContext,
) => Promise<z.input<C['output']>>;

/**
 * What a plan found. Throwing an ActionError means the step would fail with that error; `fails`
 * says the same for a step that would change some objects and then fail (e.g. a batch with a
 * missing user).
 */
export interface PlanDraft {
  changes: Change[];
  notes?: string[];
  fails?: { reason: string; code?: string; hint?: string };
}

/**
 * Reads the tenant and returns the changes the handler would make with this input: object,
 * property, before -> after. An empty list is "no change". It must never write.
 */
export type ActionPlanner<C extends ActionContract> = (input: z.output<C['input']>, ctx: PlanContext) => Promise<Change[] | PlanDraft>;

export interface Planning<C extends ActionContract> {
  plan: ActionPlanner<C>;
  /**
   * Input fields the plan copes with when their value is known only after the run (a
   * KnownAfterRun, e.g. the id of a user an earlier step creates). A plan for such an input is
   * "unknown" unless every unknown field is listed here.
   */
  acceptsUnknown?: string[];
}

export interface ActionImplementation {
  contract: ActionContract;
  handler: ActionHandler<ActionContract>;
  plan?: ActionPlanner<ActionContract>;
  acceptsUnknown?: string[];
}

/** Pairs a contract with its handler and, for a write action, its plan. */
export function implement<C extends ActionContract>(contract: C, handler: ActionHandler<C>, planning?: ActionPlanner<C> | Planning<C>): ActionImplementation {
  const p = typeof planning === 'function' ? { plan: planning } : planning;
  return {
    contract,
    handler: handler as unknown as ActionHandler<ActionContract>,
    ...(p ? { plan: p.plan as unknown as ActionPlanner<ActionContract>, acceptsUnknown: p.acceptsUnknown } : {}),
  };
}

/** The parsed input of an action, for plans written as function declarations. */
export type InputOf<C extends ActionContract> = z.output<C['input']>;
