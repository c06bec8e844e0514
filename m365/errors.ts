// What the Microsoft 365 transports (Graph, Exchange, SharePoint) throw, and the operator-grade
// error an action raises. worker/failure.ts turns both into Temporal failures.

/** An operator-grade failure raised by an action handler. */
export class ActionError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly retryable: boolean;
  readonly status?: number;
  constructor(message: string, opts: { code: string; hint?: string; retryable?: boolean; status?: number }) {
    super(message);
    this.name = 'ActionError';
    this.code = opts.code;
    this.hint = opts.hint;
    this.retryable = opts.retryable ?? false;
    this.status = opts.status;
  }
}

/** The parts of a GraphError (or an Exchange error) we use. */
export interface ServiceError {
  statusCode?: number;
  code?: string | null;
  message?: string;
  headers?: Headers | Record<string, string>;
  requestId?: string | null;
}

export function isServiceError(err: unknown): err is ServiceError {
  return !!err && typeof err === 'object' && typeof (err as ServiceError).statusCode === 'number';
}

export function statusOf(err: unknown): number | undefined {
  return isServiceError(err) ? err.statusCode : err instanceof ActionError ? err.status : undefined;
}

function header(h: ServiceError['headers'], name: string): string | undefined {
  if (!h) return undefined;
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined;
  const rec = h as Record<string, string>;
  return rec[name] ?? rec[name.toLowerCase()];
}

/** Retry-After in milliseconds (seconds or an HTTP date), if the response carried one. */
export function retryAfterMs(err: ServiceError): number | undefined {
  const v = header(err.headers, 'Retry-After');
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

