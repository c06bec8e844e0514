// Graph's error body: { error: { code, message, details?, innerError: { date, request-id, client-request-id } } }.
// Handlers throw GraphError; the dispatcher fills in innerError from the request.

export interface GraphErrorDetail {
  code: string;
  message: string;
  target?: string;
}

export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: GraphErrorDetail[];
  readonly headers?: Record<string, string>;
  constructor(status: number, code: string, message: string, extra?: { details?: GraphErrorDetail[]; headers?: Record<string, string> }) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = extra?.details;
    this.headers = extra?.headers;
  }
}

/** Graph writes innerError.date without fractional seconds or zone: 2024-05-01T10:20:30. */
export function graphDate(now: Date): string {
  return now.toISOString().slice(0, 19);
}

export function errorBody(err: GraphError, requestId: string, clientRequestId: string, now: Date): unknown {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details ? { details: err.details } : {}),
      innerError: { date: graphDate(now), 'request-id': requestId, 'client-request-id': clientRequestId },
    },
  };
}

export const notFound = (id: string): GraphError =>
  new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

export const badRequest = (message: string, details?: GraphErrorDetail[]): GraphError =>
  new GraphError(400, 'Request_BadRequest', message, details ? { details } : undefined);

export const requiredProperty = (prop: string, resource: string): GraphError =>
  badRequest(`A value is required for property '${prop}' of resource '${resource}'.`);

export const invalidProperty = (prop: string, resource: string): GraphError =>
  badRequest(`Invalid value specified for property '${prop}' of resource '${resource}'.`);

export const objectConflict = (prop: string): GraphError => {
  const message = `Another object with the same value for property ${prop} already exists.`;
  return badRequest(message, [{ code: 'ObjectConflict', message, target: prop }]);
};

export const insufficientPrivileges = (): GraphError =>
  new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

/** Non-directory workloads (Intune, Teams, SharePoint, Outlook) answer a missing role with a plain AccessDenied. */
export const accessDenied = (message = 'Either the signed-in user does not have sufficient privileges, or you need to use a different authentication method.'): GraphError =>
  new GraphError(403, 'AccessDenied', message);

export const invalidToken = (message: string): GraphError => new GraphError(401, 'InvalidAuthenticationToken', message);

export const badOData = (message: string): GraphError => new GraphError(400, 'BadRequest', message);

export const noRoute = (method: string, path: string): GraphError =>
  new GraphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/').filter(Boolean).pop() ?? path}'.`);

export const methodNotAllowed = (): GraphError =>
  new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
