// Helpers every Graph area shares: lookups that honour replication lag, body checks, and the
// collection answer (OData context, paging, $count).
import { GraphError, badRequest, notFound } from '../errors.ts';
import { applyQuery, encodeSkipToken, parseQuery, project, type QueryOptions, type TypeInfo } from '../odata.ts';
import type { Ctx } from '../runtime.ts';
import type { Reply } from '../types.ts';
import type { Group, User } from '../store.ts';

/** Entra replicas answer 404 for a new object until it has replicated (fault: replicationLagSeconds). */
export function replicated(ctx: Ctx, obj: { _createdMs: number }): boolean {
  const lag = ctx.rt.faults.replicationLagMs;
  return !lag || ctx.nowMs - obj._createdMs >= lag;
}

export function requireUser(ctx: Ctx, idOrUpn: string): User {
  const user = ctx.store.findUser(idOrUpn);
  if (!user || !replicated(ctx, user)) throw notFound(idOrUpn);
  return user;
}

export function requireGroup(ctx: Ctx, id: string): Group {
  const group = ctx.store.groupById(id);
  if (!group || !replicated(ctx, group)) throw notFound(id);
  return group;
}

export function requireDirectoryObject(ctx: Ctx, id: string): { kind: 'user'; object: User } | { kind: 'group'; object: Group } {
  const found = ctx.store.directoryObject(id) ?? (ctx.store.findUser(id) ? { kind: 'user' as const, object: ctx.store.findUser(id)! } : undefined);
  if (!found || !replicated(ctx, found.object)) throw notFound(id);
  return found;
}

export function bodyObject(ctx: Ctx): Record<string, unknown> {
  const b = ctx.body;
  if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) {
    throw new GraphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
  }
  return b as Record<string, unknown>;
}

/** Rejects properties the resource does not have, and read-only ones, as Graph does. */
export function checkWritable(body: Record<string, unknown>, writable: ReadonlySet<string>, readOnly: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) {
    if (key.startsWith('@odata.') || key.endsWith('@odata.bind')) continue;
    if (readOnly.has(key)) throw badRequest(`Property '${key}' is read-only and cannot be set.`);
    if (!writable.has(key)) throw badRequest(`Property '${key}' does not exist as a declared property or extension property.`);
  }
}

export function stringProp(body: Record<string, unknown>, key: string, resource: string, required: boolean): string | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw badRequest(`A value is required for property '${key}' of resource '${resource}'.`);
    return undefined;
  }
  if (typeof v !== 'string') throw badRequest(`Invalid value specified for property '${key}' of resource '${resource}'.`);
  return v;
}

export function boolProp(body: Record<string, unknown>, key: string, resource: string, required: boolean): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw badRequest(`A value is required for property '${key}' of resource '${resource}'.`);
    return undefined;
  }
  if (typeof v !== 'boolean') throw badRequest(`Invalid value specified for property '${key}' of resource '${resource}'.`);
  return v;
}

export function odataContext(ctx: Ctx, fragment: string): string {
  return `${ctx.serviceRoot}/$metadata#${fragment}`;
}

/** Builds the next page's URL from the current request, keeping every query option but $skiptoken. */
function nextLink(ctx: Ctx, nextSkip: number): string {
  const q = new URLSearchParams(ctx.query);
  q.delete('$skiptoken');
  q.delete('skiptoken');
  q.set('$skiptoken', encodeSkipToken(nextSkip));
  return `${ctx.serviceRoot}${ctx.path}?${q.toString().replace(/%24/g, '$').replace(/%2C/gi, ',')}`;
}

export function queryOptions(ctx: Ctx, type: TypeInfo): QueryOptions {
  return parseQuery(ctx.query, ctx.headers, type);
}

/** Navigation properties a type can $expand: name -> the related object(s) of one item, as views. */
export type Expanders<T> = Record<string, (item: T) => Record<string, unknown> | Record<string, unknown>[] | null>;

/** Graph returns at most 20 related objects for an expanded collection. */
const EXPAND_LIMIT = 20;

function expandInto<T>(out: Record<string, unknown>, item: T, q: QueryOptions, type: TypeInfo, expanders: Expanders<T> | undefined): Record<string, unknown> {
  for (const e of q.expand ?? []) {
    const expander = Object.entries(expanders ?? {}).find(([k]) => k.toLowerCase() === e.name.toLowerCase());
    if (!expander) throw new GraphError(400, 'Request_BadRequest', `Could not find a property named '${e.name}' on type '${type.name}'.`);
    const related = expander[1](item);
    const shape = (r: Record<string, unknown>): Record<string, unknown> => (e.select ? project(r, e.select, { name: '', properties: new Set() }) : r);
    out[expander[0]] = Array.isArray(related) ? related.slice(0, EXPAND_LIMIT).map(shape) : related ? shape(related) : null;
  }
  return out;
}

function checkExpandCount(q: QueryOptions): void {
  if ((q.expand?.length ?? 0) > 1) throw new GraphError(400, 'Request_BadRequest', 'Only one $expand is supported for directory objects in this request.');
}

/** A collection answer: value, @odata.count, @odata.nextLink (and $expand when the type has expanders). */
export function collection<T extends object>(ctx: Ctx, items: Iterable<T>, type: TypeInfo, view: (item: T) => Record<string, unknown>, contextFragment: string, opts?: QueryOptions, expanders?: Expanders<T>): Reply {
  const q = opts ?? queryOptions(ctx, type);
  checkExpandCount(q);
  const page = applyQuery(items, q, (item) => view(item), undefined, q.expand?.length ? (item, projected) => expandInto(projected, item, q, type, expanders) : undefined);
  return {
    status: 200,
    body: {
      '@odata.context': odataContext(ctx, contextFragment),
      ...(page.count !== undefined ? { '@odata.count': page.count } : {}),
      ...(page.nextSkip !== undefined ? { '@odata.nextLink': nextLink(ctx, page.nextSkip) } : {}),
      value: page.value,
    },
  };
}

/** A single entity answer honouring $select and $expand. */
export function entity<T>(ctx: Ctx, obj: Record<string, unknown>, type: TypeInfo, contextFragment: string, source?: T, expanders?: Expanders<T>): Reply {
  const q = queryOptions(ctx, type);
  checkExpandCount(q);
  const projected = project(obj, q.select, type);
  if (q.expand?.length) expandInto(projected, source as T, q, type, expanders);
  return { status: 200, body: { '@odata.context': odataContext(ctx, contextFragment), ...projected } };
}

/** `/users/$count`-style answers: text/plain, ConsistencyLevel required for directory objects. */
export function countReply(ctx: Ctx, n: number): Reply {
  if ((ctx.headers['consistencylevel'] ?? '').toLowerCase() !== 'eventual') {
    throw new GraphError(400, 'Request_BadRequest', 'Count is not currently supported.');
  }
  return { status: 200, body: String(n), headers: { 'content-type': 'text/plain' } };
}

/** The id inside an @odata.id / @odata.bind reference such as https://graph.microsoft.com/v1.0/directoryObjects/{id}. */
export function refId(ref: unknown): string {
  if (typeof ref !== 'string' || !ref) throw badRequest("Invalid value specified for property '@odata.id'.");
  const m = /\/(?:directoryObjects|users|groups|servicePrincipals|devices|contacts)(?:\/|\(')([^/')]+)'?\)?\/?$/i.exec(ref) ?? /^([0-9a-f-]{36})$/i.exec(ref);
  if (!m) throw badRequest(`Invalid URL format specified in @odata.bind for members`);
  return decodeURIComponent(m[1]!).toLowerCase();
}
