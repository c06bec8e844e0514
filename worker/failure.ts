// One place that turns what Graph, Exchange and our own checks throw into Temporal failures an
// operator can act on: a message in their words, the service's code, and a hint with the fix.
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { ActionContract, ActionFailureDetails } from '../catalog/contract.ts';
import { ActionError, isServiceError, retryAfterMs } from '../m365/errors.ts';

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EAI_AGAIN']);

function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code ?? (err.cause as { code?: string } | undefined)?.code;
  return (code !== undefined && NETWORK_CODES.has(code)) || /fetch failed|socket hang up|other side closed/i.test(err.message);
}

function hintFor(status: number | undefined, code: string | undefined, contract: ActionContract): string | undefined {
  if (status === 403 || code === 'Authorization_RequestDenied' || code === 'Forbidden') {
    const perms = [...contract.permissions, ...(contract.otherPermissions ?? [])];
    return `grant the app registration the application permission${perms.length > 1 ? 's' : ''} ${perms.join(', ')} and give admin consent`;
  }
  if (status === 401 || code === 'InvalidAuthenticationToken')
    return 'check the tenant connection: client id, secret (expired?) and tenant id';
  if (status === 404 || code === 'Request_ResourceNotFound') return 'check the name or id; new objects can take a few seconds to replicate';
  if (code === 'Request_BadRequest') return 'check the parameter values against the action description';
  return undefined;
}

/** Maps any error from a handler to the Temporal failure the interpreter reads. */
export function toFailure(err: unknown, contract: ActionContract, attempt: number): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const details = (d: Omit<ActionFailureDetails, 'attempt'>): ActionFailureDetails[] => [{ attempt, ...d }];

  if (err instanceof ActionError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.code,
      nonRetryable: !err.retryable,
      details: details({ code: err.code, hint: err.hint, status: err.status }),
    });
  }
  if (isServiceError(err)) {
    const status = err.statusCode!;
    const code = err.code ?? `HTTP${status}`;
    const retryable = status === 429 || status === 503 || status === 504 || status >= 500 || status <= 0;
    const delay = retryable ? retryAfterMs(err) : undefined;
    const message =
      status === 429
        ? `Microsoft 365 is throttling this app (429 ${code}): ${err.message ?? ''}`.trim()
        : `${contract.title} failed: ${err.message || code} (HTTP ${status} ${code})`;
    return ApplicationFailure.create({
      message,
      type: code,
      nonRetryable: !retryable,
      nextRetryDelay: delay !== undefined ? Math.max(delay, 100) : undefined,
      details: details({ code, hint: (err as { hint?: string }).hint ?? hintFor(status, code, contract), status }),
    });
  }
  if (isNetworkError(err)) {
    return ApplicationFailure.create({
      message: `network error talking to Microsoft 365: ${(err as Error).message}`,
      type: 'NetworkError',
      nonRetryable: false,
      details: details({ code: 'NetworkError' }),
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({ message, type: 'ActionFailed', nonRetryable: false, details: details({}) });
}

/** A non-retryable failure naming each invalid parameter: what the wrapper and the plan report for bad input. */
export function invalidInput(contract: ActionContract, error: z.ZodError, attempt: number): ApplicationFailure {
  const lines = error.issues.map((i) => {
    const field = i.path.join('.') || '(parameters)';
    if (i.code === 'unrecognized_keys') return `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
    return `parameter "${field}": ${i.message}`;
  });
  const first = error.issues[0];
  const details: ActionFailureDetails = { attempt, code: 'InvalidInput', field: first?.path.join('.') };
  return ApplicationFailure.create({
    message: `${contract.id}: ${lines.join('; ')}`,
    type: 'InvalidInput',
    nonRetryable: true,
    details: [details],
  });
}
