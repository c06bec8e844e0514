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
 * Reads an object a step needs, treating 404 as directory replication lag for a bounded time
 * (inside waitingOutReplication): retried inside the attempt with backoff (0.5 s doubling to 5 s;
 * the activity heartbeats meanwhile), then the not-found error, non-retryable, its hint saying how
 * long it waited. Issue 16, finding 11.
 */
export async function waitOutReplication<T>(read: () => Promise<T>, windowMs = replication.getStore()?.windowMs ?? 0): Promise<T> {
  const started = Date.now();
  let delay = 500;
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
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

