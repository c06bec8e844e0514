// The action contract: everything about an action except how it talks to Microsoft 365.
// Contracts carry no Graph code, so the server and the designer import them freely; the
// worker pairs each with a handler (worker/actions/) and registers it as a Temporal activity
// named by the action's id.
import { z } from 'zod';

export const CATEGORIES = [
  'user',
  'licence',
  'group',
  'authentication',
  'directory',
  'mailbox',
  'device',
  'teams',
  'sharepoint',
  'application',
  'notification',
  'tags',
  'investigation',
  'ad',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** How a category is named to people: palette groups in the designer and sections of docs/actions.md. */
export const CATEGORY_TITLES: Record<Category, string> = {
  user: 'Users',
  licence: 'Licences',
  group: 'Groups',
  authentication: 'Authentication and MFA',
  directory: 'Directory',
  mailbox: 'Mailboxes',
  device: 'Devices',
  teams: 'Teams',
  sharepoint: 'SharePoint',
  application: 'Applications',
  notification: 'Notifications',
  tags: 'Tenantflow tags',
  investigation: 'Investigation',
  ad: 'On-premises Active Directory',
};

/**
 * Actions of the `ad` category run inside the customer's network, on the on-premises worker of the
 * tenant's AD connection; their ids start with "ad." (the registry checks it), so the workflow can
 * route them without loading the catalog.
 */
export function isOnPremisesAction(actionId: string): boolean {
  return actionId.startsWith('ad.');
}

/** The task queue an AD connection's on-premises worker polls. */
export function onPremisesTaskQueue(adConnection: string): string {
  return `tenantflow-onprem-${adConnection}`;
}

/**
 * Microsoft's rate-limited write budgets that Tenantflow paces across every worker: each is counted
 * per app and tenant, so each tenant connection has one task queue per budget, which every worker
 * polls with Temporal's task-queue-wide activity rate (docs/architecture.md "One throttle budget
 * across workers"). Which actions draw from which budget: catalog/budgets.ts.
 */
export type WriteBudget = 'directory-write' | 'intune-write';

/** The documented ceiling of each budget, in writes per second per app and tenant. */
export const WRITE_BUDGET_CEILINGS: Record<WriteBudget, { perSecond: number; source: string }> = {
  'directory-write': { perSecond: 3000 / 150, source: 'Entra ID writes: 3,000 per 150 s per app+tenant' },
  'intune-write': { perSecond: 100 / 20, source: 'Intune writes: 100 per 20 s per app+tenant' },
};

/**
 * The share of a budget's ceiling its queue dispatches activities at. Every worker must be given the
 * same rate (the last poller sets the queue's), so it is a constant of the code, not a setting.
 */
export const BUDGET_DISPATCH_SHARE = 0.98;

/** Activities per second the tenant's queue for a budget dispatches, across every worker. */
export function budgetDispatchRate(budget: WriteBudget): number {
  return WRITE_BUDGET_CEILINGS[budget].perSecond * BUDGET_DISPATCH_SHARE;
}

/**
 * The task queue a tenant connection's steps of a budget run on. It is named after the deployment's
 * own task queue (the run's), so deployments (and test runs) sharing a Temporal namespace never
 * serve each other's tenants.
 */
export function budgetTaskQueue(mainQueue: string, tenant: string, budget: WriteBudget): string {
  return `${mainQueue}/tenant/${tenant}/${budget}`;
}

export interface ActionContract<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** Stable id in the operator's words, e.g. user.disableSignIn; also the Temporal activity name. */
  id: string;
  title: string;
  category: Category;
  description: string;
  input: I;
  output: O;
  /** Microsoft Graph application permissions the app registration needs (least privileged first). */
  permissions: string[];
  /** Exchange Online / SharePoint permissions where the action uses those APIs. */
  otherPermissions?: string[];
  /** Rights the on-premises AD connection's bind account needs (category ad), as delegated on the OU. */
  adRights?: string[];
  /** Safe to run for many targets at once (bulk runs and forEach). */
  bulk: boolean;
  /** The action that reverses this one, if any. */
  undo?: string;
  /**
   * How to reverse one finished run of this action, from its input, output and the changes it
   * recorded (with their before-values): the steps of the undo runbook, or why it cannot be
   * undone. Without it, a step of an action with `undo` is reversed by `undo` with the same
   * parameters (see runbook/undo.ts). Pure: no I/O.
   */
  reverse?(done: DoneStep<z.output<I>, z.output<O>>): Reversal;
  /** Why this action can never be undone (permanent delete, wipe, a sent mail), for plans and undo runbooks. */
  irreversible?: string;
  /**
   * Reads only: changes nothing, so it is never undone, and a plan runs it for real to decide later
   * conditions (unless its implementation has a plan of its own: a read that waits).
   */
  readOnly?: boolean;
  /** Input fields that hold secrets: redacted wherever inputs are shown. */
  secretFields?: string[];
}

export function defineAction<I extends z.ZodType, O extends z.ZodType>(c: ActionContract<I, O>): ActionContract<I, O> {
  return c;
}

export type ActionInput<C extends ActionContract> = z.infer<C['input']>;
export type ActionOutput<C extends ActionContract> = z.infer<C['output']>;

/** The envelope every action activity receives: no secrets, only names that the worker resolves. */
export interface ActionActivityInput {
  /** Tenant connection id; the worker looks up its credentials itself. */
  tenant: string;
  params: unknown;
}

export interface ActionActivityResult {
  /** The action's output; a write step's output also carries `__changes` (CHANGES_KEY). */
  output: unknown;
  attempt: number;
  /** What the action noticed without failing ("E5 was not assigned to ..."); the run ends "succeeded with warnings". */
  warnings?: string[];
}

/** Details attached to an action's failure, read by the interpreter and shown on the run. */
export interface ActionFailureDetails {
  attempt: number;
  code?: string;
  hint?: string;
  status?: number;
  field?: string;
  /** For a failed write whose effect was uncertain: what a fresh read of the tenant shows (worker/transient-steps.ts). */
  tenantNow?: string;
}

// ---- plans and recorded changes (docs/plan.md) ----

/**
 * A value a plan cannot know before the run: it comes from an earlier step's output (or from this
 * step's own, e.g. the id of an object it creates). Shown as "known after the run".
 */
export interface KnownAfterRun {
  $knownAfterRun: string;
}

export function knownAfterRun(from: string): KnownAfterRun {
  return { $knownAfterRun: from };
}

export function isKnownAfterRun(v: unknown): v is KnownAfterRun {
  return !!v && typeof v === 'object' && typeof (v as KnownAfterRun).$knownAfterRun === 'string';
}

/** True when the value holds a KnownAfterRun anywhere inside it. */
export function containsKnownAfterRun(v: unknown): boolean {
  if (isKnownAfterRun(v)) return true;
  if (Array.isArray(v)) return v.some(containsKnownAfterRun);
  if (v && typeof v === 'object') return Object.values(v).some(containsKnownAfterRun);
  return false;
}

/**
 * One change to the tenant: a property of an object, before -> after. `null` means absent or
 * empty; membership-like properties ("member anna@contoso.com", "licence SPE_E3") go false -> true.
 * Plans predict them; a write step records them (before read at execution time) in its output
 * under CHANGES_KEY.
 */
export interface Change {
  /** The object in the operator's words: "user anna@contoso.com", "group All Company". */
  object: string;
  /** Its object id, when known (a new object's: known after the run). */
  objectId?: string | KnownAfterRun;
  property: string;
  before: unknown;
  after: unknown;
  /** What else to know: "restorable for 30 days", "cannot be undone", ... */
  note?: string;
}

/** The reserved output key under which a write step records its changes. */
export const CHANGES_KEY = '__changes';

/** Recorded changes are capped per step (payload size); past the cap the output says how many were left out. */
export const MAX_RECORDED_CHANGES = 2000;
export const CHANGES_TRUNCATED_KEY = '__changesTruncated';

/** What one action step would do, as its plan answers. */
export type ActionPlan =
  /** It changes these (values may be KnownAfterRun). `notes` are warnings such as skipped groups. */
  | { outcome: 'changes'; changes: Change[]; notes?: string[] }
  | { outcome: 'no-change'; notes?: string[] }
  /** It would fail, with the reason; `changes` lists what it would change before failing. */
  | { outcome: 'would-fail'; reason: string; code?: string; hint?: string; changes?: Change[] }
  /** The action declares no plan: its changes are not predicted (never "no change"). */
  | { outcome: 'not-predicted'; reason: string }
  /** Its parameters are known only after the run (they come from earlier steps' outputs). */
  | { outcome: 'unknown'; reason: string; dependsOn: string[] }
  /** A read: it ran during the plan, and its output decides later conditions. */
  | { outcome: 'read'; output?: unknown }
  /** The plan itself could not be made (throttled, unreachable, a bug): it says nothing about the step. */
  | { outcome: 'plan-failed'; reason: string };

/** One finished step of an action, as the undo generator sees it. */
export interface DoneStep<I = unknown, O = unknown> {
  input: I;
  output: O;
  /** What the step recorded (empty: it changed nothing). */
  changes: Change[];
}

/** One step of an undo runbook. */
export interface InverseStep {
  action: string;
  params: Record<string, unknown>;
  /** What it puts back, in words. */
  label?: string;
}

export type Reversal = { steps: InverseStep[]; note?: string } | { irreversible: string };

/** The recorded changes in a step's output (empty when it recorded none). */
export function changesIn(output: unknown): Change[] | undefined {
  const v = output && typeof output === 'object' ? (output as Record<string, unknown>)[CHANGES_KEY] : undefined;
  return Array.isArray(v) ? (v as Change[]) : undefined;
}
