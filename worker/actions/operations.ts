// Microsoft's asynchronous operations (Teams, telephone numbers, SharePoint) waited out inside a step: poll with a growing interval,
// every poll (so Temporal sees the step alive and can cancel it), and never report done before the
// service says so. No deadline of its own: the step's timeout bounds the wait, and a retried step
// finds its earlier request and waits again.
import type { Client } from '@microsoft/microsoft-graph-client';
import { ResponseType } from '@microsoft/microsoft-graph-client';
import type { ActionContext } from '../activity.ts';
import { ActionError, type ServiceError } from '../../m365/errors.ts';

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface PollOptions {
  /** First wait (ms), growing by `factor` up to `maxMs`. */
  firstMs?: number;
  maxMs?: number;
  factor?: number;
}

/** Calls `check` until it returns a value, heartbeating what it waits for. */
export async function pollUntil<T>(ctx: Pick<ActionContext, 'heartbeat' | 'signal'>, what: string, check: () => Promise<T | undefined>, opts: PollOptions = {}): Promise<T> {
  let delay = opts.firstMs ?? 500;
  for (let polls = 1; ; polls++) {
    const v = await check();
    if (v !== undefined) return v;
    ctx.heartbeat({ waitingFor: what, polls });
    await sleep(delay, ctx.signal);
    delay = Math.min(opts.maxMs ?? 10_000, delay * (opts.factor ?? 1.5));
  }
}

/** A Graph answer read raw (to see Location), turned into the ServiceError shape when it failed. */
export class GraphCallError extends Error implements ServiceError {
  readonly statusCode: number;
  readonly code: string;
  readonly headers: Headers;
  constructor(statusCode: number, code: string, message: string, headers: Headers) {
    super(message);
    this.name = 'GraphCallError';
    this.statusCode = statusCode;
    this.code = code;
    this.headers = headers;
  }
}

/** POSTs to Graph and returns the raw response (for 202 + Location); a failure throws like the SDK would. */
export async function postForLocation(graph: Client, path: string, body: unknown): Promise<{ status: number; location: string | null }> {
  const res = (await graph.api(path).responseType(ResponseType.RAW).post(body)) as Response;
  if (!res.ok) {
    const text = await res.text();
    let err: { code?: string; message?: string } = {};
    try {
      err = (JSON.parse(text) as { error?: typeof err }).error ?? {};
    } catch {
      // not JSON
    }
    throw new GraphCallError(res.status, err.code ?? `HTTP${res.status}`, err.message ?? text, res.headers);
  }
  return { status: res.status, location: res.headers.get('location') };
}

/** Polls a Graph long-running operation (teamsAsyncOperation, telephone number orders) until it has succeeded. */
export async function waitForGraphOperation(ctx: Pick<ActionContext, 'graph' | 'heartbeat' | 'signal'>, location: string, what: string): Promise<void> {
  await pollUntil(ctx, what, async () => {
    const raw = (await ctx.graph.api(location).get()) as Record<string, unknown> & { value?: Record<string, unknown> };
    // The telephone-number operation is documented wrapped in "value"; Teams' is not.
    const op = (raw.value && typeof raw.value === 'object' && !Array.isArray(raw.value) ? raw.value : raw) as { status?: string; error?: { code?: string; message?: string } | null };
    const status = String(op.status ?? '').toLowerCase();
    if (status === 'succeeded') return true;
    if (status === 'failed')
      throw new ActionError(`${what} failed at Microsoft: ${op.error?.message ?? 'no reason given'}`, { code: op.error?.code ?? 'OperationFailed', hint: 'see the error; the request can be run again once the cause is fixed' });
    return undefined;
  });
}
