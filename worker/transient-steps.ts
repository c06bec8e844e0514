// Issue 16, finding 12: throttled and transient failures do not use up a step's attempts the way a
// real error does, and a step that ends failed where its write may have happened says what the
// tenant actually shows.
//   - rerunTransient: a handler that fails with a retryable failure (429, 5xx, a lost answer, a
//     network error, replication lag) runs again inside the same Temporal attempt, counted as the
//     next attempt (ctx.attempt), so it recognises its own earlier write exactly as after a
//     Temporal retry. At most reruns() more runs within RERUN_WINDOW_MS, each after the answer's
//     Retry-After (else 1 s doubling); then the failure goes to Temporal's retry policy.
//   - withTenantReread: the failure of a write step whose effect is uncertain (a retryable failure)
//     carries a fresh read of the tenant through the step's plan: every change in place ("the
//     write is in the tenant although the last answer was lost"), none, or some.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { ActionContract, ActionFailureDetails, Change } from '../catalog/contract.ts';
import { toFailure } from './failure.ts';
import type { ActionImplementation, PlanContext } from './implementation.ts';
import { changesBefore } from './planning.ts';

/** Runs after the first inside one attempt (TENANTFLOW_STEP_RERUNS, default 4; 0 turns them off). */
export function reruns(): number {
  const v = Number(process.env.TENANTFLOW_STEP_RERUNS);
  return process.env.TENANTFLOW_STEP_RERUNS && Number.isInteger(v) && v >= 0 ? v : 4;
}
export const RERUN_WINDOW_MS = 120_000;

/** Whether a failure is worth running the handler again for inside the attempt. */
function transient(err: unknown, contract: ActionContract): { again: boolean; delayMs?: number } {
  const f = toFailure(err, contract, 1);
  // An error of unknown kind (a bug, a malformed answer) is left to Temporal's policy.
  if (f.nonRetryable || f.type === 'ActionFailed') return { again: false };
  const d = f.nextRetryDelay;
  const ms = d === undefined || d === null ? undefined : typeof d === 'number' ? d : typeof d === 'string' ? parseMs(d) : undefined;
  return { again: true, delayMs: ms };
}

function parseMs(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
}

/** Runs `run(attemptNumber)`, again after a transient failure, within bounds (see above). */
export async function rerunTransient<T>(contract: ActionContract, attempt: number, run: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + RERUN_WINDOW_MS;
  const most = reruns();
  let backoff = 1000;
  for (let n = 0; ; n++) {
    try {
      return await run(attempt + n);
    } catch (err) {
      const t = transient(err, contract);
      const wait = Math.min(t.delayMs ?? backoff, 30_000);
      if (!t.again || n >= most || signal?.aborted || Date.now() + wait > deadline) throw err;
      await sleep(wait, undefined, { signal });
      backoff = Math.min(backoff * 2, 16_000);
    }
  }
}

const key = (c: Change) => JSON.stringify([c.object, c.property, c.after]);

/** What the tenant shows of the step's changes now, as a sentence. */
export function rereadSummary(before: Change[], now: Change[] | undefined): string {
  if (!now) return 're-read of the tenant after the failure: could not tell what is there';
  const pending = new Set(now.map(key));
  const done = before.filter((c) => !pending.has(key(c)));
  if (done.length === before.length) return 're-read of the tenant after the failure: every change of this step is in the tenant (the write took effect although its last answer was lost)';
  if (done.length === 0) return 're-read of the tenant after the failure: none of this step\'s changes is in the tenant';
  return `re-read of the tenant after the failure: ${done.length} of ${before.length} changes are in the tenant (${done.map((c) => `${c.object} ${c.property}`).join(', ')}); the rest are not`;
}

/** The failure with what a fresh read of the tenant (the step's plan) shows appended. */
export async function withTenantReread(failure: ApplicationFailure, impl: ActionImplementation, input: unknown, ctx: PlanContext, before: Change[]): Promise<ApplicationFailure> {
  let now: Change[] | undefined;
  try {
    now = await changesBefore(impl, input, ctx);
  } catch {
    now = undefined;
  }
  const summary = rereadSummary(before, now);
  const d = (failure.details?.[0] ?? {}) as ActionFailureDetails;
  return ApplicationFailure.create({
    message: `${failure.message}; ${summary}`,
    type: failure.type ?? undefined,
    nonRetryable: failure.nonRetryable ?? undefined,
    nextRetryDelay: failure.nextRetryDelay ?? undefined,
    details: [{ ...d, tenantNow: summary } satisfies ActionFailureDetails],
  });
}
