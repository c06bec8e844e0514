// Waiting for Microsoft's long-running operations inside a step (Autopilot imports, domain
// deletion): poll with a growing interval, heartbeat on every poll so Temporal knows the step is
// alive, stop at once when the run is cancelled, and give up at a deadline so the step can report
// "still pending" honestly instead of hanging.
import type { ActionContext } from '../activity.ts';

/** Resolves after `ms`, or rejects when `signal` aborts (the run was cancelled). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `check` until it returns a value (not undefined) or `maxWaitMs` has passed; returns that
 * value, or undefined at the deadline. The interval starts at `firstMs` and doubles up to `maxMs`.
 */
export async function pollUntil<T>(
  ctx: Pick<ActionContext, 'signal' | 'heartbeat'>,
  check: () => Promise<T | undefined>,
  opts: { maxWaitMs: number; firstMs?: number; maxMs?: number; progress?: () => unknown },
): Promise<T | undefined> {
  const deadline = Date.now() + opts.maxWaitMs;
  let interval = opts.firstMs ?? 1_000;
  for (;;) {
    const value = await check();
    ctx.heartbeat(opts.progress?.());
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(interval, left), ctx.signal);
    interval = Math.min(interval * 2, opts.maxMs ?? 15_000);
  }
}
