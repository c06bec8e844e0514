// The API's plumbing: errors with a status, request parsing with the zod schemas that also
// generate the OpenAPI document, and a route registry that is the document's single source.
import type { Express, NextFunction, Request, Response } from 'express';
import { z } from 'zod';
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
        ? i.keys.map((k) => ({ field: [...i.path, k].join('.'), message: `unknown field ${k}` }))
        : [{ field: i.path.join('.') || `(${where})`, message: i.message }],
    ),
  });
}

/** Who may call a route: nobody signed in, anyone signed in (roles are checked by the handler). */
export type Access = 'public' | 'signed-in';

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  access?: Access;
  /** Roles that may call it, as documentation (the handler enforces them). */
  roles?: string;
  body?: B;
  query?: Q;
  /** Response content type when not JSON (text/event-stream, text/csv). */
  produces?: string;
  /** Statuses beyond 200 / 400 / 401 / 403 that the route answers. */
  statuses?: Record<number, string>;
}

export interface Ctx<B, Q> {
  req: Request;
  res: Response;
  body: B;
  query: Q;
  params: Record<string, string>;
  me: Principal;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export class Api {
  readonly routes: RouteSpec<z.ZodType | undefined, z.ZodType | undefined>[] = [];
  readonly app: Express;
  constructor(app: Express) {
    this.app = app;
  }

  route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    spec: RouteSpec<B, Q>,
    handler: (ctx: Ctx<Out<B>, Out<Q>>) => Promise<unknown> | unknown,
  ): void {
    this.routes.push(spec as never);
    this.app[spec.method](spec.path, async (req: Request, res: Response, next: NextFunction) => {
      const me = (req as Request & { principal?: Principal }).principal;
      if (spec.access !== 'public' && !me) throw new HttpError(401, 'sign in first: a session cookie or an API token (Authorization: Bearer ...)');
      if (me?.user.mustChangePassword && spec.access !== 'public' && !spec.path.startsWith('/api/auth/'))
        throw new HttpError(403, 'change your one-time password first (POST /api/auth/password)', { code: 'password_change_required' });
      const body = spec.body ? parse(spec.body, req.body ?? {}, 'body') : undefined;
      const query = spec.query ? parse(spec.query, req.query, 'query') : undefined;
      const out = await handler({ req, res, body: body as never, query: query as never, params: req.params as Record<string, string>, me: me as Principal });
      if (out !== undefined && !res.headersSent) res.json(out);
      else if (out === undefined && !res.headersSent && !res.writableEnded) next();
    });
  }

  /** The OpenAPI 3.1 document of every registered route. */
  openapi(info: { title: string; version: string; description?: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = [...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      const query: unknown[] = [];
      if (r.query) {
        const js = z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, schema] of Object.entries(js.properties ?? {}))
          query.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema, description: (schema as { description?: string }).description });
      }
      const responses: Record<string, unknown> = {
        [r.method === 'post' && r.statuses?.[201] ? '201' : '200']: {
          description: r.statuses?.[201] ?? 'OK',
          ...(r.produces ? { content: { [r.produces]: {} } } : { content: { 'application/json': {} } }),
        },
      };
      if (r.body || r.query) responses['400'] = { description: 'invalid request: { error, problems: [{ field, message }] }' };
      if (r.access !== 'public') {
        responses['401'] = { description: 'not signed in' };
        responses['403'] = { description: 'signed in without the role this needs' };
      }
      for (const [code, text] of Object.entries(r.statuses ?? {})) if (code !== '201') responses[code] = { description: text };
      paths[path] ??= {};
      paths[path]![r.method] = {
        summary: r.summary,
        tags: [r.tag],
        ...(r.roles ? { description: `Roles: ${r.roles}` } : {}),
        ...(r.access === 'public' ? { security: [] } : {}),
        parameters: [...params, ...query],
        ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info,
      components: {
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

/** Where a request came from, for the audit log. */
export function originOf(req: Request, me?: Principal) {
  return { actor: me?.user.email ?? 'anonymous', ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 200) };
}
