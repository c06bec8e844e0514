// Directory replication lag (issue 16, finding 11): Entra answers 404 for an object created moments
// ago until its replicas have it, so a step that looks up an object a recent step wrote waits that
// out for a bounded time instead of failing for good.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ActionError, statusOf } from '../m365/errors.ts';

/**
 * How long a lookup of an input object waits out "not found" (TENANTFLOW_REPLICATION_WAIT_SECONDS,
 * default 30): Entra answers 404 for an object created moments ago until its replicas have it.
 */
export function replicationWaitMs(): number {
  const v = Number(process.env.TENANTFLOW_REPLICATION_WAIT_SECONDS);
  return process.env.TENANTFLOW_REPLICATION_WAIT_SECONDS && Number.isFinite(v) && v >= 0 ? v * 1000 : 30_000;
}

const replication = new AsyncLocalStorage<{ windowMs: number }>();

/**
 * Runs an action's handler with lookups that wait out replication lag (worker/activity.ts). Plans
 * (the run form's, and the read before a write) answer at once: "does not exist" is their news.
 */
export function waitingOutReplication<T>(fn: () => Promise<T>, windowMs = replicationWaitMs()): Promise<T> {
  return replication.run({ windowMs }, fn);
}

/**
 * The pause before the next lookup of an object not replicated yet: short and growing, and never
 * more than REPLICATION_POLL_MAX_MS, so the step goes on within about a second of the object
 * appearing (a doubling backoff to 5 s left a 5 s lag waited out as 7.5 s). Issue 16, finding 13.
 */
export const REPLICATION_POLL_FIRST_MS = 250;
export const REPLICATION_POLL_MAX_MS = 1000;
export function nextReplicationDelay(previous: number): number {
  return Math.min(Math.round(previous * 1.5), REPLICATION_POLL_MAX_MS);
}

/**
 * Reads an object a step needs, treating 404 as directory replication lag for a bounded time
 * (inside waitingOutReplication): retried inside the attempt on a short, growing interval (0.25 s,
 * x1.5, at most 1 s; the activity heartbeats meanwhile), then the not-found error, non-retryable,
 * its hint saying how long it waited. Issue 16, findings 11 and 13.
 */
export async function waitOutReplication<T>(read: () => Promise<T>, windowMs = replication.getStore()?.windowMs ?? 0): Promise<T> {
  const started = Date.now();
  let delay = REPLICATION_POLL_FIRST_MS;
  let signal: AbortSignal | undefined;
  try {
    signal = Context.current().cancellationSignal;
  } catch {
    // not inside an activity (a test calling it directly)
  }
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      const waited = Date.now() - started;
      if (waited + delay > windowMs) {
        if (waited > 0 && err instanceof ActionError)
          throw new ActionError(err.message, { code: err.code, hint: `still not found after waiting ${Math.round(waited / 1000)} s for directory replication${err.hint ? `; ${err.hint}` : ''}`, status: 404, retryable: false });
        throw err;
      }
      await sleep(delay, undefined, { signal });
      delay = nextReplicationDelay(delay);
    }
  }
}

