// Plans of single action steps (docs/plan.md): the action's plan run against the tenant, its
// answer turned into an ActionPlan, and the same plan run just before the handler so a write step
// records what it changed (before read at execution time, after) under CHANGES_KEY.
import { z } from 'zod';
import {
  CHANGES_KEY,
  CHANGES_TRUNCATED_KEY,
  containsKnownAfterRun,
  isKnownAfterRun,
  MAX_RECORDED_CHANGES,
  type ActionFailureDetails,
  type ActionContract,
  type ActionPlan,
  type Change,
} from '../catalog/contract.ts';
import { retryAfterMs, type ServiceError } from '../m365/errors.ts';
import { invalidInput, toFailure } from './failure.ts';
import type { ActionContext, ActionImplementation, PlanContext, PlanDraft } from './implementation.ts';

/** Reads a plan makes are retried this often after a throttled or transient answer before the plan gives up. */
const PLAN_READ_TRIES = 5;

const plainDraft = (d: Change[] | PlanDraft): PlanDraft => (Array.isArray(d) ? { changes: d } : d);

/** Top-level parameters whose value is (or holds) a KnownAfterRun. */
export function unknownFields(params: unknown): string[] {
  if (!params || typeof params !== 'object' || Array.isArray(params)) return [];
  return Object.entries(params as Record<string, unknown>).filter(([, v]) => containsKnownAfterRun(v)).map(([k]) => k);
}

function dependsOn(params: Record<string, unknown>, fields: string[]): string[] {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (isKnownAfterRun(v)) out.add(v.$knownAfterRun);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const f of fields) walk(params[f]);
  return [...out];
}

type Parsed = { ok: true; input: unknown } | { ok: false; plan: ActionPlan };

/** The contract's input parse, with fields known only after the run let through as they are. */
function parseInput(impl: ActionImplementation, params: unknown, unknown: string[]): Parsed {
  let schema: z.ZodType = impl.contract.input;
  if (unknown.length) {
    const extend = (schema as unknown as { safeExtend?: (shape: Record<string, z.ZodType>) => z.ZodType }).safeExtend;
    if (!extend) return { ok: false, plan: { outcome: 'unknown', reason: `parameters ${unknown.join(', ')} are known only after the run`, dependsOn: dependsOn(params as Record<string, unknown>, unknown) } };
    schema = extend.call(schema, Object.fromEntries(unknown.map((k) => [k, z.any()])));
  }
  const parsed = schema.safeParse(params);
  if (parsed.success) return { ok: true, input: parsed.data };
  const failure = invalidInput(impl.contract, parsed.error, 1);
  return { ok: false, plan: { outcome: 'would-fail', reason: failure.message, code: 'InvalidInput' } };
}

function retryable(err: unknown, contract: ActionContract): { retry: boolean; delayMs?: number } {
  const f = toFailure(err, contract, 1);
  if (f.nonRetryable || f.type === 'ActionFailed') return { retry: false };
  return { retry: true, delayMs: retryAfterMs(err as ServiceError) };
}

/** The answer of a failed plan or read: "would fail" for what the step would fail with, else "plan failed". */
function failedPlan(impl: ActionImplementation, err: unknown): ActionPlan {
  const f = toFailure(err, impl.contract, 1);
  if (f.type === 'ActionFailed') return { outcome: 'plan-failed', reason: `the plan of ${impl.contract.id} failed: ${f.message}` };
  if (!f.nonRetryable) return { outcome: 'plan-failed', reason: `the tenant did not answer the plan's reads: ${f.message}` };
  const d = (f.details?.[0] ?? {}) as ActionFailureDetails;
  return { outcome: 'would-fail', reason: f.message, ...(d.code ? { code: d.code } : {}), ...(d.hint ? { hint: d.hint } : {}) };
}

/** Runs fn, again after a throttled or transient answer (the throttle gate holds the retry until Retry-After has passed). */
async function withReadRetries<T>(contract: ActionContract, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const r = retryable(err, contract);
      if (!r.retry || attempt >= PLAN_READ_TRIES || signal.aborted) throw err;
      await new Promise((res) => setTimeout(res, Math.min(r.delayMs ?? 500 * attempt, 30_000)));
    }
  }
}

/** An ActionContext for running a read-only action during a plan. */
export function readContext(ctx: PlanContext): ActionContext {
  const read = { ...ctx, idempotencyKey: 'plan', attempt: 1, stepScheduledAt: Date.now(), warn: () => {} } as unknown as ActionContext;
  return Object.defineProperty(read, 'ad', {
    get: () => {
      throw new Error('Active Directory is not available to plans');
    },
  });
}

/**
 * Why a write action has no plan, and what it will change all the same (docs/plan.md lists them):
 * on-premises AD is reached only by the on-premises worker, and plans run on a cloud worker; a
 * remote action on a device (wipe, lock, restart, sync ...) changes the device, not a property
 * Graph can read before; every other one simply has no plan written yet.
 */
export function noPlanReason(contract: ActionContract): string {
  const will = `it will ${contract.title.charAt(0).toLowerCase()}${contract.title.slice(1)}`;
  if (contract.id.startsWith('ad.')) return `plan not available: ${will} (on-premises Active Directory is read only by the on-premises worker, and plans run on a cloud worker)`;
  if (/^(device|mobileDevice)\./.test(contract.id)) return `plan not available: ${will} (a remote action on a device has no state Microsoft Graph can read before it)`;
  return `plan not available: ${will} (${contract.id} has no plan yet, so what it changes is not predicted or recorded)`;
}

/**
 * What one action step would do with these parameters (secrets already opened; values known
 * only after the run as KnownAfterRun). Read-only actions run for real and answer with their
 * output. Never throws for the tenant's answers: they become "would fail" or "plan failed".
 */
export async function planAction(impl: ActionImplementation, params: unknown, ctx: PlanContext): Promise<ActionPlan> {
  const { contract } = impl;
  const unknown = unknownFields(params);
  if (!contract.readOnly && !impl.plan) return { outcome: 'not-predicted', reason: noPlanReason(contract) };
  if (unknown.length && ((contract.readOnly && !impl.plan) || unknown.some((k) => !impl.acceptsUnknown?.includes(k))))
    return {
      outcome: 'unknown',
      reason: `${contract.readOnly ? 'what it reads' : 'its changes'} depend${contract.readOnly ? 's' : ''} on values known only after the run (${unknown.join(', ')})`,
      dependsOn: dependsOn(params as Record<string, unknown>, unknown),
    };
  const parsed = parseInput(impl, params, unknown);
  if (!parsed.ok) return parsed.plan;
  try {
    // A read runs for real, unless it has a plan of its own (a read that waits).
    if (contract.readOnly && !impl.plan) {
      const output = await withReadRetries(contract, () => impl.handler(parsed.input, readContext(ctx)), ctx.signal);
      return { outcome: 'read', output: contract.output.parse(output) };
    }
    const draft = plainDraft(await withReadRetries(contract, () => impl.plan!(parsed.input, ctx), ctx.signal));
    const notes = draft.notes?.length ? { notes: draft.notes } : {};
    if (draft.fails) return { outcome: 'would-fail', reason: draft.fails.reason, ...(draft.fails.code ? { code: draft.fails.code } : {}), ...(draft.fails.hint ? { hint: draft.fails.hint } : {}), ...(draft.changes.length ? { changes: draft.changes } : {}) };
    return draft.changes.length ? { outcome: 'changes', changes: draft.changes, ...notes } : { outcome: 'no-change', ...notes };
  } catch (err) {
    return failedPlan(impl, err);
  }
}

// ---- recording what a write step changed ----

function valueAt(obj: unknown, path: string[]): unknown {
  let v = obj;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Fills values the plan could only name ("output.id") from the step's output. */
export function settle(changes: Change[], output: unknown): Change[] {
  const fill = (v: unknown): unknown => {
    if (isKnownAfterRun(v) && v.$knownAfterRun.startsWith('output.')) return valueAt(output, v.$knownAfterRun.split('.').slice(1)) ?? null;
    if (Array.isArray(v)) return v.map(fill);
    // A new credential's {keyId, displayName, endDateTime}, each known only after the run.
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return changes.map((c) => {
    const objectId = c.objectId === undefined ? undefined : fill(c.objectId);
    return { ...c, ...(typeof objectId === 'string' ? { objectId } : {}), before: fill(c.before), after: fill(c.after) };
  });
}

/** The output with the recorded changes under CHANGES_KEY (capped; the cap is said). */
export function withChanges(output: unknown, changes: Change[]): unknown {
  const base = output && typeof output === 'object' && !Array.isArray(output) ? (output as Record<string, unknown>) : { value: output };
  const kept = changes.slice(0, MAX_RECORDED_CHANGES);
  return { ...base, [CHANGES_KEY]: kept, ...(changes.length > kept.length ? { [CHANGES_TRUNCATED_KEY]: changes.length - kept.length } : {}) };
}

/**
 * The changes a write step is about to make, read at execution time by its plan. undefined when
 * the action has no plan, or the plan cannot tell (the handler then fails or succeeds on its own).
 * Throttling and transient errors are thrown, so the attempt is retried like any other.
 */
export async function changesBefore(impl: ActionImplementation, input: unknown, ctx: PlanContext): Promise<Change[] | undefined> {
  if (!impl.plan || impl.contract.readOnly) return undefined;
  try {
    const draft = plainDraft(await impl.plan(input, ctx));
    return draft.fails ? undefined : draft.changes;
  } catch (err) {
    if (retryable(err, impl.contract).retry) throw err;
    return undefined;
  }
}
