// The control plane's API as a typed client, for the designer and the CLI. Routes are named as in
// the API contract (server/api-contract.ts), "METHOD /path"; the path parameters, query, body and
// answer of each are typed from the contract's zod schemas. Only types come from the server:
// nothing of it is loaded where the client runs (the browser, the CLI).
import type { z } from 'zod';
import type { Api, ApiRoute, Method } from '../server/api-contract.ts';

export type { ApiRoute };

type Spec<K extends ApiRoute> = Api[K];
type PathOf<K extends ApiRoute> = K extends `${string} ${infer P}` ? P : never;
type ParamNames<P extends string> = P extends `${string}:${infer N}/${infer Rest}` ? N | ParamNames<`/${Rest}`> : P extends `${string}:${infer N}` ? N : never;

/** The route's path parameters (":id" in "/api/runs/:id"). */
export type Params<K extends ApiRoute> = Record<ParamNames<PathOf<K>>, string | number>;
/** What the route's body may be (defaults of the contract may be left out). */
export type Body<K extends ApiRoute> = Spec<K> extends { body: infer B extends z.ZodType } ? z.input<B> : never;
export type Query<K extends ApiRoute> = Spec<K> extends { query: infer Q extends z.ZodType } ? z.input<Q> : never;
/** What the route answers. */
export type Answer<K extends ApiRoute> = Spec<K> extends { response: infer R extends z.ZodType } ? z.output<R> : never;
/** Statuses other than 2xx whose body is still the answer (a report: 422 of a bulk check). */
export type Report<K extends ApiRoute> = Spec<K> extends { reports: readonly (infer S)[] } ? S : never;

export type Args<K extends ApiRoute> = ([ParamNames<PathOf<K>>] extends [never] ? { params?: undefined } : { params: Params<K> }) &
  ([Body<K>] extends [never] ? { body?: undefined } : { body: Body<K> }) &
  ([Query<K>] extends [never] ? { query?: undefined } : { query?: Query<K> }) & {
    /** Report statuses to return as the answer instead of throwing. */
    accept?: Report<K>[];
  };
/** A route's arguments: optional when it takes none that are required. */
export type ArgList<K extends ApiRoute> = object extends Args<K> ? [args?: Args<K>] : [args: Args<K>];

/** An answer other than 2xx: status, the server's message, and its body ({ error, problems? }). */
export class ApiError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, message: string, body: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }

  /** The problems the server named, each with the field (and step) it belongs to. */
  get problems(): { nodeId?: string; field: string; message: string }[] {
    return Array.isArray(this.body.problems) ? (this.body.problems as { nodeId?: string; field: string; message: string }[]) : [];
  }
}

export interface ClientOptions {
  /** Where the API is ("" or absent: the page's own origin). */
  baseUrl?: string;
  /** Headers of each request: an API token, the CSRF token of a session on writes. */
  headers?: (method: Method) => Record<string, string | undefined>;
  /** Whether cookies go along (the designer's session). */
  credentials?: RequestCredentials;
}

export interface Client {
  /** Calls the route and returns its answer; any other status throws an ApiError. */
  call<K extends ApiRoute>(route: K, ...args: ArgList<K>): Promise<Answer<K>>;
  /** Calls the route and returns its body as text (a CSV export). */
  text<K extends ApiRoute>(route: K, ...args: ArgList<K>): Promise<string>;
  /** The route's URL (an event stream to open with EventSource). */
  url<K extends ApiRoute>(route: K, ...args: ArgList<K>): string;
}

function split(route: ApiRoute): { method: Method; path: string } {
  const i = route.indexOf(' ');
  return { method: route.slice(0, i) as Method, path: route.slice(i + 1) };
}

export function createClient(opts: ClientOptions = {}): Client {
  const base = (opts.baseUrl ?? '').replace(/\/$/, '');

  const urlOf = (path: string, args: { params?: Record<string, string | number>; query?: object } = {}) => {
    const filled = path.replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
      const v = args.params?.[name];
      if (v === undefined || v === '') throw new Error(`${path}: the path parameter ${name} is missing`);
      return encodeURIComponent(String(v));
    });
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(args.query ?? {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const qs = q.toString();
    return `${base}${filled}${qs ? `?${qs}` : ''}`;
  };

  const send = async (route: ApiRoute, args: { params?: Record<string, string | number>; query?: object; body?: unknown; accept?: readonly number[] } = {}) => {
    const { method, path } = split(route);
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [k, v] of Object.entries(opts.headers?.(method) ?? {})) if (v !== undefined) headers[k] = v;
    if (args.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(urlOf(path, args), {
      method,
      headers,
      body: args.body === undefined ? undefined : JSON.stringify(args.body),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
    const text = await res.text();
    if (res.ok || args.accept?.includes(res.status)) return { res, text };
    let body: Record<string, unknown> = {};
    try {
      const parsed = text ? (JSON.parse(text) as unknown) : {};
      body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { error: text };
    } catch {
      body = { error: text };
    }
    throw new ApiError(res.status, typeof body.error === 'string' && body.error ? body.error : `${method} ${path} answered ${res.status}`, body);
  };

  return {
    async call(route, ...[args]) {
      const { text } = await send(route, args as never);
      return (text ? JSON.parse(text) : undefined) as never;
    },
    async text(route, ...[args]) {
      return (await send(route, args as never)).text;
    },
    url(route, ...[args]) {
      return urlOf(split(route).path, args as never);
    },
  };
}
