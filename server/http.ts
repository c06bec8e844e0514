// The API's plumbing: errors with a status, request parsing with the contract's zod schemas
// (api-contract.ts), handlers registered against the contract's routes, and the OpenAPI document
// generated from the contract.
import type { Express, NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { API, SHAPES, type Api as ApiSpec, type ApiRoute, type RouteSpec } from './api-contract.ts';
import type { Principal } from './people.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.body = { error: message, ...extra };
  }
}

export function parse<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new HttpError(400, `invalid request ${where}`, {
    problems: r.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => ({ field: [...i.path, k === '' ? '""' : k].join('.'), message: `unknown field ${k === '' ? '"" (an empty name)' : k}` }))
        : [{ field: i.path.join('.') || `(${where})`, message: i.message }],
    ),
  });
}

/** A NUL or another control character in an id or a query is a 400 naming it (Temporal and the database refuse them later with a 500). */
function refuseControlCharacters(values: Record<string, unknown>, where: string): void {
  for (const [name, v] of Object.entries(values ?? {}))
    for (const one of Array.isArray(v) ? v : [v])
      if (typeof one === 'string' && /[\u0000-\u001f\u007f]/.test(one))
        throw new HttpError(400, `invalid ${where} ${name}: it holds a control character (such as NUL)`, { problems: [{ field: name, message: 'control characters (NUL, line breaks, ...) are not allowed here' }] });
}

/**
 * The path parameter of a contract route whose raw value did not decode (Express answers
 * "Failed to decode param"): its name, for a 400 that names it.
 */
export function undecodableParam(method: string, rawPath: string): string | undefined {
  for (const key of Object.keys(API) as ApiRoute[]) {
    if (methodOf(key) !== method.toLowerCase()) continue;
    const names: string[] = [];
    const re = new RegExp(`^${pathOf(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z_]+)/g, (_m, n: string) => (names.push(n), '([^/]+)'))}/?$`);
    const m = re.exec(rawPath);
    if (!m) continue;
    for (let i = 1; i < m.length; i++) {
      try {
        decodeURIComponent(m[i]!);
      } catch {
        return names[i - 1];
      }
    }
  }
  return undefined;
}

export interface Ctx<B, Q> {
  req: Request;
  res: Response;
  body: B;
  query: Q;
  params: Record<string, string>;
  me: Principal;
  /** The request's Idempotency-Key (routes marked idempotent): derive created ids from it. */
  idempotencyKey?: string;
}

/** Runs an idempotent route's handler, or replays the first answer to its Idempotency-Key (server/idempotency.ts). */
export type IdempotencyHook = (ctx: { req: Request; res: Response; me: Principal | undefined; route: ApiRoute }, run: (key: string | undefined) => Promise<unknown>) => Promise<unknown>;

type Part<S, F extends 'body' | 'query'> = S extends { [P in F]: infer T extends z.ZodType } ? z.output<T> : undefined;
/** What a route's handler may return: its response's JSON, or nothing when it answered itself. */
type Answer<S> = S extends { response: infer R extends z.ZodType } ? z.input<R> : never;
export type Handler<K extends ApiRoute> = (ctx: Ctx<Part<ApiSpec[K], 'body'>, Part<ApiSpec[K], 'query'>>) => Promise<Answer<ApiSpec[K]> | void> | Answer<ApiSpec[K]> | void;

const methodOf = (key: ApiRoute) => key.slice(0, key.indexOf(' ')).toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
const pathOf = (key: ApiRoute) => key.slice(key.indexOf(' ') + 1);

/**
 * The routes of api-contract.ts with their handlers. Requests are parsed with the contract's
 * schemas; with `checkResponses` (tests) every JSON answer is checked against its response schema,
 * and one that does not fit is a 500 naming the route and the field.
 */
export class Api {
  readonly app: Express;
  readonly checkResponses: boolean;
  private readonly registered = new Set<ApiRoute>();
  private readonly idempotency?: IdempotencyHook;
  constructor(app: Express, opts: { checkResponses?: boolean; idempotency?: IdempotencyHook } = {}) {
    this.app = app;
    this.checkResponses = opts.checkResponses ?? false;
    this.idempotency = opts.idempotency;
  }

  route<K extends ApiRoute>(key: K, handler: Handler<K>): void {
    const spec: RouteSpec = API[key];
    if (this.registered.has(key)) throw new Error(`${key} is registered twice`);
    this.registered.add(key);
    const path = pathOf(key);
    this.app[methodOf(key)](path, async (req: Request, res: Response, next: NextFunction) => {
      const me = (req as Request & { principal?: Principal }).principal;
      if (spec.access !== 'public' && !me) throw new HttpError(401, 'sign in first: a session cookie or an API token (Authorization: Bearer ...)');
      if (me?.user.mustChangePassword && spec.access !== 'public' && !path.startsWith('/api/auth/'))
        throw new HttpError(403, 'change your one-time password first (POST /api/auth/password)', { code: 'password_change_required' });
      refuseControlCharacters(req.params as Record<string, unknown>, 'path parameter');
      refuseControlCharacters(req.query as Record<string, unknown>, 'query parameter');
      const body = spec.body ? parse(spec.body, req.body ?? {}, 'body') : undefined;
      const query = spec.query ? parse(spec.query, req.query, 'query') : undefined;
      const call = (idempotencyKey: string | undefined) => Promise.resolve(handler({ req, res, body: body as never, query: query as never, params: req.params as Record<string, string>, me: me as Principal, idempotencyKey }));
      const out = spec.idempotent && this.idempotency ? await this.idempotency({ req, res, me, route: key }, call) : await call(undefined);
      if (out !== undefined && !res.headersSent) {
        if (this.checkResponses && spec.response) {
          const checked = spec.response.safeParse(out);
          if (!checked.success) throw new Error(`${key} answered outside its contract (server/api-contract.ts): ${checked.error.issues.map((i) => `${i.path.join('.') || '(answer)'}: ${i.message}`).join('; ')}`);
        }
        sendJson(req, res, out);
      } else if (out === undefined && !res.headersSent && !res.writableEnded) next();
    });
  }

  /** Throws unless every route of the contract has a handler. */
  assertComplete(): void {
    const missing = (Object.keys(API) as ApiRoute[]).filter((k) => !this.registered.has(k));
    if (missing.length) throw new Error(`routes of server/api-contract.ts without a handler: ${missing.join(', ')}`);
  }

  /** The OpenAPI 3.1 document of the contract. */
  openapi(info: { title: string; version: string; description?: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    // Answers are components: the shapes the contract names, and one per route, so a shape used by
    // several routes (a runbook definition) is written once.
    const components = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(SHAPES)) components.add(schema, { id });
    for (const [key, r] of Object.entries(API) as [ApiRoute, RouteSpec][])
      if (r.response && !components.has(r.response)) components.add(r.response, { id: `${key.replace(/[^A-Za-z0-9]+/g, '_')}_answer` });
    const { schemas } = z.toJSONSchema(components, { io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
    const json = (schema: z.ZodType) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${components.get(schema)!.id}` } } });
    for (const [key, r] of Object.entries(API) as [ApiRoute, RouteSpec][]) {
      const method = methodOf(key);
      const path = pathOf(key).replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = [...pathOf(key).matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      const query: unknown[] = [];
      if (r.query) {
        const js = z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, schema] of Object.entries(js.properties ?? {}))
          query.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema, description: (schema as { description?: string }).description });
      }
      const content: Record<string, unknown> = {};
      for (const type of r.produces?.split(/,\s*/) ?? (r.response ? ['application/json'] : [])) Object.assign(content, type === 'application/json' && r.response ? json(r.response) : { [type]: {} });
      // The success answer: 201 (created) or 202 (accepted) when the route names one, else 200.
      const okCode = (method === 'post' && (['201', '202'] as const).find((c) => r.statuses?.[Number(c)])) || '200';
      const responses: Record<string, unknown> = {
        [okCode]: { description: r.statuses?.[Number(okCode)] ?? 'OK', ...(Object.keys(content).length ? { content } : {}) },
      };
      if (r.body || r.query) responses['400'] = { description: 'invalid request: { error, problems: [{ field, message }] }' };
      if (r.access !== 'public') {
        responses['401'] = { description: 'not signed in' };
        responses['403'] = { description: 'signed in without the role this needs' };
      }
      for (const [code, text] of Object.entries(r.statuses ?? {}))
        if (code !== okCode) responses[code] = { description: text, ...(r.reports?.includes(Number(code)) && r.response ? { content: json(r.response) } : {}) };
      paths[path] ??= {};
      paths[path]![method] = {
        summary: r.summary,
        tags: [r.tag],
        ...(r.roles ? { description: `Roles: ${r.roles}` } : {}),
        ...(r.access === 'public' ? { security: [] } : {}),
        parameters: [
          ...params,
          ...query,
          ...(r.idempotent ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 }, description: 'A repeat with the same key and body gets the first answer; with another body, a 422' }] : []),
        ],
        ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info,
      components: {
        schemas: Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema])),
        securitySchemes: {
          token: { type: 'http', scheme: 'bearer', description: 'API token (tf_...), from POST /api/auth/tokens' },
          session: { type: 'apiKey', in: 'cookie', name: 'tf_session', description: 'Session cookie from POST /api/auth/login; POST/PUT/PATCH/DELETE also need the X-CSRF-Token header' },
        },
      },
      security: [{ token: [] }, { session: [] }],
      paths,
    };
  }
}

/**
 * A route's JSON answer. A GET goes through Express (its ETag lets a client revalidate with
 * If-None-Match); any other method's answer is never fresh, so it is written straight out:
 * hashing it for an ETag nobody can use was half the cost of answering a run start.
 */
function sendJson(req: Request, res: Response, out: unknown): void {
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.json(out);
    return;
  }
  const text = JSON.stringify(out);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Where a request came from, for the audit log. */
export function originOf(req: Request, me?: Principal) {
  return { actor: me?.user.email ?? 'anonymous', ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 200) };
}
