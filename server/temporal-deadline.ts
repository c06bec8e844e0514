// Temporal down must not hang the API: every gRPC call the control plane makes gets a short
// deadline (retries included), and an unreachable Temporal is a 503 with Retry-After. When
// Temporal returns, the next call simply succeeds (the channel reconnects by itself).
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import { HttpError } from './http.ts';

/** The longest a control-plane call to Temporal may take, its retries included. */
export const TEMPORAL_CALL_DEADLINE_MS = 2_000;
/** What a 503 asks the client to wait before trying again. */
export const TEMPORAL_RETRY_AFTER_S = 5;

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** Sets an absolute deadline on each call (kept when the caller gave an earlier one); outermost, so retries share it. */
export function deadlineInterceptor(ms = TEMPORAL_CALL_DEADLINE_MS): Interceptor {
  return ((options: { deadline?: Date | number }, nextCall: (o: unknown) => unknown) => {
    const mine = Date.now() + ms;
    const given = options.deadline === undefined ? Infinity : Number(new Date(options.deadline));
    return nextCall({ ...options, deadline: given < mine ? options.deadline : mine });
  }) as Interceptor;
}

/** Connection options for the control plane: the SDK's retries, bounded by the deadline. */
export function controlPlaneInterceptors(ms = TEMPORAL_CALL_DEADLINE_MS): Interceptor[] {
  return [deadlineInterceptor(ms), makeGrpcRetryInterceptor(defaultGrpcRetryOptions())];
}

/** gRPC UNAVAILABLE (14) or DEADLINE_EXCEEDED (4), on the error or its cause: Temporal is not answering. */
export function isTemporalDown(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as never, i++)
    if (e.code === 14 || e.code === 4) return true;
  return false;
}

export function temporalDownError(): HttpError {
  return new HttpError(503, `Temporal is not answering; try again in ${TEMPORAL_RETRY_AFTER_S} s`, { code: 'temporal_unavailable', retryAfterSeconds: TEMPORAL_RETRY_AFTER_S });
}
