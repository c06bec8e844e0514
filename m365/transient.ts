// Throttled and transient answers retried in place, inside the step's attempt (issue 16, finding
// 12), so a storm of 429s does not use up the step's attempts the way a real error does.
//   - 429 (throttled): Microsoft refused the request before acting on it and documents "wait
//     Retry-After, then send it again": any method is sent again.
//   - 502, 503, 504 and a lost answer (connection closed): a write may have taken effect behind
//     the gateway, so only a read (GET, HEAD) is sent again; a write's answer goes up to the
//     action, which runs again inside the attempt and recognises its own earlier write
//     (worker/transient-steps.ts).
// Bounded: at most TRANSIENT_TRIES sends and TRANSIENT_WINDOW_MS per request, waiting Retry-After
// when the answer has one (else 0.5 s doubling to 10 s); then the last answer is returned as it came.
import { setTimeout as sleep } from 'node:timers/promises';

export const TRANSIENT_TRIES = 8;
export const TRANSIENT_WINDOW_MS = 90_000;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether an answer (undefined: none came) may be sent again without risking a second effect. */
export function retryInPlace(method: string, status: number | undefined): boolean {
  if (status === 429) return true;
  return SAFE.has(method.toUpperCase()) && (status === undefined || status === 502 || status === 503 || status === 504);
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const v = headers?.get('retry-after');
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** Answers retried in place by this process so far (metrics and the chaos suite read it). */
export const transientRetries = { count: 0 };

/**
 * Sends a request, again after a throttled or transient answer (see above). `send` must build the
 * request anew each time (a body that is a string or bytes, not a stream).
 */
export async function sendRetrying<T extends { status: number; headers: Headers; body?: ReadableStream | null } | undefined>(
  method: string,
  signal: AbortSignal | undefined,
  send: () => Promise<T>,
  opts: { tries?: number; windowMs?: number } = {},
): Promise<T> {
  const tries = opts.tries ?? TRANSIENT_TRIES;
  const deadline = Date.now() + (opts.windowMs ?? TRANSIENT_WINDOW_MS);
  let backoff = 500;
  for (let n = 1; ; n++) {
    let res: T;
    try {
      res = await send();
    } catch (err) {
      // No answer (a network error): a read is sent again; an abort never is.
      if (signal?.aborted || n >= tries || !retryInPlace(method, undefined) || Date.now() + backoff > deadline) throw err;
      transientRetries.count++;
      await sleep(backoff, undefined, { signal });
      backoff = Math.min(backoff * 2, 10_000);
      continue;
    }
    if (!res || !retryInPlace(method, res.status) || n >= tries) return res;
    const wait = retryAfter(res.headers) ?? backoff;
    if (Date.now() + wait > deadline) return res;
    await res.body?.cancel().catch(() => {});
    transientRetries.count++;
    await sleep(wait + Math.floor(Math.random() * 100), undefined, { signal });
    backoff = Math.min(backoff * 2, 10_000);
  }
}
