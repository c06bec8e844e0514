// Change notifications (POST/GET/PATCH/DELETE /subscriptions, POST /subscriptions/{id}/reauthorize)
// and the users delta query (GET /users/delta), as Microsoft Graph documents them:
// - creating a subscription first POSTs `notificationUrl?validationToken=...` (and the
//   lifecycleNotificationUrl's) and needs the token echoed as text/plain with 200 within 10 s;
// - users: changeType created / updated / deleted, at most 41,760 minutes (29 days), basic
//   notifications only (resource data carries the id), clientState sent back on every notification;
// - lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed) are sent to the
//   lifecycleNotificationUrl (admin API: notifications.lifecycle); after reauthorizationRequired the
//   subscription's change notifications stop until the app reauthorizes it, with POST
//   /subscriptions/{id}/reauthorize (204, the expiry unchanged) or a PATCH of its
//   expirationDateTime (which reauthorizes and renews at once): "if the API call succeeds, the
//   change notification flow resumes";
// - PATCH /subscriptions/{id} answers 200 with the subscription, 404 ResourceNotFound once it is
//   gone (deleted, removed or expired);
// - delta: the first round pages through every user (@odata.nextLink) and ends with an
//   @odata.deltaLink; a deltaLink answers the users changed since, a deleted one as
//   { id, "@removed": { reason: "changed" } } (soft deleted; "deleted" once gone for good).
//   $select is kept inside the links' tokens, as Graph does.
import { randomUUID } from 'node:crypto';
import { GraphError, badRequest } from '../errors.ts';
import { parseQuery, project } from '../odata.ts';
import { P } from '../permissions.ts';
import type { Ctx, Router, Runtime } from '../runtime.ts';
import type { UserChange } from '../changes.ts';
import { bodyObject, odataContext } from './common.ts';
import { USER_TYPE, userView } from './views.ts';

/** Users (and groups): the longest a subscription may live, in minutes. */
export const USER_MAX_EXPIRATION_MINUTES = 41_760;
const CHANGE_TYPES = new Set(['created', 'updated', 'deleted']);
const WRITABLE = new Set(['changeType', 'notificationUrl', 'lifecycleNotificationUrl', 'resource', 'expirationDateTime', 'clientState', 'latestSupportedTlsVersion', 'includeResourceData', 'encryptionCertificate', 'encryptionCertificateId', 'notificationUrlAppId']);
const VALIDATION_TIMEOUT_MS = 10_000;
const DELIVERY_TIMEOUT_MS = 3_000;
const DELTA_PAGE = 100;

export interface Subscription {
  id: string;
  tenantId: string;
  applicationId: string;
  resource: string;
  changeType: string;
  clientState: string | null;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: string;
  creatorId: string;
  latestSupportedTlsVersion: string;
  includeResourceData: boolean;
}

export interface NotificationDelivery {
  seq: number;
  time: string;
  url: string;
  subscriptionId: string;
  kind: 'change' | 'lifecycle';
  body: { value: Record<string, unknown>[] };
  /** HTTP status, or 0 when the endpoint did not answer (refused, timed out). */
  status: number;
}

interface State {
  subscriptions: Map<string, Subscription>;
  deliveries: NotificationDelivery[];
  seq: number;
  /** Admin switch: notifications are not delivered (the endpoint is unreachable from "Microsoft"). */
  paused: boolean;
}

/** Subscriptions waiting to be reauthorized (reauthorizationRequired sent): no change notifications meanwhile. */
const awaitingReauthorization = new WeakMap<Subscription, true>();

const states = new WeakMap<Runtime, State>();
function state(rt: Runtime): State {
  let s = states.get(rt);
  if (!s) states.set(rt, (s = { subscriptions: new Map(), deliveries: [], seq: 0, paused: false }));
  return s;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '.0000000Z');

function view(ctx: Ctx | undefined, s: Subscription): Record<string, unknown> {
  const { tenantId: _t, ...rest } = s;
  return {
    ...(ctx ? { '@odata.context': odataContext(ctx, 'subscriptions/$entity') } : {}),
    ...rest,
    notificationQueryOptions: null,
    notificationUrlAppId: null,
    encryptionCertificate: null,
    encryptionCertificateId: null,
  };
}

/** users, /users: the only resource the sandbox offers notifications for. */
function normalizeResource(resource: string): string {
  const r = resource.replace(/^\//, '');
  if (r.toLowerCase() !== 'users') throw badRequest(`Resource '${resource}' is not supported by the sandbox for change notifications. Subscribe to 'users'.`);
  return 'users';
}

function checkChangeType(v: unknown): string {
  if (typeof v !== 'string' || !v) throw badRequest("A value is required for property 'changeType' of resource 'Subscription'.");
  for (const t of v.split(',')) if (!CHANGE_TYPES.has(t.trim())) throw badRequest(`Invalid value '${t}' for property 'changeType': use created, updated, deleted (comma-separated).`);
  return v.split(',').map((t) => t.trim()).join(',');
}

function checkExpiration(v: unknown, nowMs: number): string {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw badRequest("A value is required for property 'expirationDateTime' of resource 'Subscription'.");
  const at = Date.parse(v);
  if (at <= nowMs) throw badRequest('Subscription expiration date time must be in the future.');
  if (at > nowMs + USER_MAX_EXPIRATION_MINUTES * 60_000) throw badRequest(`Subscription expiration can only be ${USER_MAX_EXPIRATION_MINUTES} minutes in the future.`);
  return iso(at);
}

function checkUrl(v: unknown, prop: string): string {
  if (typeof v !== 'string' || !v) throw badRequest(`A value is required for property '${prop}' of resource 'Subscription'.`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw badRequest(`Invalid value specified for property '${prop}' of resource 'Subscription'.`);
  }
  if (u.protocol !== 'https:') throw badRequest(`Subscription validation request failed. ${prop} must be an HTTPS URL.`);
  return v;
}

/** Graph's validation handshake: POST url?validationToken=..., 200 text/plain echoing the token within 10 s. */
async function validateEndpoint(url: string): Promise<void> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
  let status = 0;
  let text = '';
  let type = '';
  try {
    const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '', signal: AbortSignal.timeout(VALIDATION_TIMEOUT_MS) });
    status = res.status;
    type = res.headers.get('content-type') ?? '';
    text = await res.text();
  } catch (err) {
    throw badRequest(`Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. (${(err as Error).name === 'TimeoutError' ? 'timed out after 10 seconds' : 'the endpoint could not be reached'})`);
  }
  if (status !== 200) throw badRequest(`Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. (answered ${status})`);
  if (!/^text\/plain/i.test(type) || text !== token) throw badRequest('Subscription validation request failed. Response must exactly match validationToken query parameter.');
}

function find(ctx: Ctx, id: string): Subscription {
  const s = state(ctx.rt).subscriptions.get(id.toLowerCase());
  if (!s || s.tenantId !== ctx.store.info.id || Date.parse(s.expirationDateTime) <= ctx.nowMs) {
    throw new GraphError(404, 'ResourceNotFound', `The object was not found.`);
  }
  return s;
}

async function post(rt: Runtime, sub: Subscription, kind: 'change' | 'lifecycle', url: string, value: Record<string, unknown>[]): Promise<void> {
  const st = state(rt);
  const body = { value };
  let status = 0;
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body), signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
    status = res.status;
    await res.arrayBuffer().catch(() => undefined);
  } catch {
    status = 0;
  }
  st.deliveries.push({ seq: ++st.seq, time: new Date(rt.now()).toISOString(), url, subscriptionId: sub.id, kind, body, status });
  if (st.deliveries.length > 2000) st.deliveries.splice(0, st.deliveries.length - 2000);
}

function notify(rt: Runtime, change: UserChange): void {
  const st = state(rt);
  if (st.paused) return;
  for (const sub of st.subscriptions.values()) {
    if (sub.tenantId !== change.tenantId || Date.parse(sub.expirationDateTime) <= rt.now()) continue;
    if (!sub.changeType.split(',').includes(change.changeType)) continue;
    if (awaitingReauthorization.has(sub)) continue;
    const item = {
      id: randomUUID(),
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: sub.expirationDateTime,
      changeType: change.changeType,
      resource: `Users/${change.userId}`,
      resourceData: { '@odata.type': '#Microsoft.Graph.User', '@odata.id': `Users/${change.userId}`, id: change.userId, organizationId: change.tenantId },
      clientState: sub.clientState,
      tenantId: change.tenantId,
    };
    // Sent after the write's answer, as Graph does (at least once, out of band).
    setImmediate(() => void post(rt, sub, 'change', sub.notificationUrl, [item]));
  }
}

/** Hooks the change feed to the subscriptions (once per sandbox). */
export function startNotifications(rt: Runtime): void {
  rt.changes.onChange((c) => notify(rt, c));
  rt.onReset.push(() => {
    const st = state(rt);
    st.subscriptions.clear();
    st.deliveries = [];
    rt.changes.clear();
  });
}

/** Admin: the subscriptions, the notifications sent, pausing delivery, lifecycle events. */
export function subscriptionAdmin(rt: Runtime) {
  return {
    subscriptions: (tenantId?: string) => [...state(rt).subscriptions.values()].filter((s) => !tenantId || s.tenantId === tenantId).map((s) => view(undefined, s)),
    deliveries: (subscriptionId?: string) => state(rt).deliveries.filter((d) => !subscriptionId || d.subscriptionId === subscriptionId),
    pause: (paused: boolean) => {
      state(rt).paused = paused;
    },
    /** Sends a lifecycle notification; subscriptionRemoved also removes the subscription, as Graph does. */
    lifecycle: async (subscriptionId: string, event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): Promise<NotificationDelivery | undefined> => {
      const st = state(rt);
      const sub = st.subscriptions.get(subscriptionId.toLowerCase());
      if (!sub) throw new Error(`no subscription ${subscriptionId}`);
      if (!sub.lifecycleNotificationUrl) throw new Error(`subscription ${subscriptionId} has no lifecycleNotificationUrl`);
      if (event === 'subscriptionRemoved') st.subscriptions.delete(sub.id);
      if (event === 'reauthorizationRequired') awaitingReauthorization.set(sub, true);
      await post(rt, sub, 'lifecycle', sub.lifecycleNotificationUrl, [
        { subscriptionId: sub.id, subscriptionExpirationDateTime: sub.expirationDateTime, tenantId: sub.tenantId, clientState: sub.clientState, lifecycleEvent: event },
      ]);
      return st.deliveries.at(-1);
    },
  };
}

// ---- delta ----

interface DeltaToken {
  /** The change sequence the round started at (a deltaLink: changes after it). */
  s: number;
  /** The initial round's next offset (a nextLink), or the incremental round's. */
  o?: number;
  /** Initial round (every user) rather than changes. */
  full?: boolean;
  sel?: string[];
}

const encodeToken = (t: DeltaToken) => Buffer.from(JSON.stringify(t)).toString('base64url');
function decodeToken(raw: string): DeltaToken {
  try {
    const t = JSON.parse(Buffer.from(raw, 'base64url').toString()) as DeltaToken;
    if (typeof t.s === 'number') return t;
  } catch {
    /* below */
  }
  throw new GraphError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
}

function deltaReply(ctx: Ctx): { status: number; body: Record<string, unknown> } {
  const skip = ctx.query.get('$skiptoken');
  const delta = ctx.query.get('$deltatoken');
  let token: DeltaToken;
  if (skip || delta) {
    for (const k of ctx.query.keys()) if (k !== '$skiptoken' && k !== '$deltatoken') throw badRequest(`Query option '${k}' is not allowed with a state token: query options of the first delta request are kept in its links.`);
    token = decodeToken((skip ?? delta)!);
    if (delta) token = { s: token.s, sel: token.sel };
  } else {
    for (const k of ctx.query.keys()) {
      if (k === '$select') continue;
      if (k === '$filter' || k === '$expand') throw badRequest(`Query option '${k}' is not supported by the sandbox's users delta (it supports $select).`);
      throw badRequest(`Query option '${k}' is not supported on delta queries of users.`);
    }
    const q = parseQuery(ctx.query, ctx.headers, USER_TYPE);
    token = { s: ctx.rt.changes.watermark(ctx.store.info.id), full: true, ...(q.select ? { sel: [...q.select] } : {}) };
  }
  const pageSize = Math.max(1, Math.min(999, Number(/odata\.maxpagesize=(\d+)/i.exec(ctx.headers['prefer'] ?? '')?.[1] ?? DELTA_PAGE)));
  const offset = token.o ?? 0;
  const sel = token.sel;
  const shown = (u: Parameters<typeof userView>[1]) => project(userView(ctx.store, u), sel, USER_TYPE);
  let items: Record<string, unknown>[];
  let total: number;
  let end: number;
  if (token.full) {
    const users = [...ctx.store.users.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    total = users.length;
    items = users.slice(offset, offset + pageSize).map(shown);
    end = token.s;
  } else {
    const changes = ctx.rt.changes.since(ctx.store.info.id, token.s);
    total = changes.length;
    items = changes.slice(offset, offset + pageSize).map((c) => {
      const u = ctx.store.users.get(c.userId);
      if (u) return shown(u);
      return { id: c.userId, '@removed': { reason: ctx.store.deleted.has(c.userId) ? 'changed' : 'deleted' } };
    });
    end = changes.at(-1)?.seq ?? token.s;
  }
  const link = (t: DeltaToken, kind: '$skiptoken' | '$deltatoken') => `${ctx.serviceRoot}/users/delta?${kind}=${encodeToken(t)}`;
  const more = offset + pageSize < total;
  return {
    status: 200,
    body: {
      '@odata.context': odataContext(ctx, sel ? `users(${sel.join(',')})` : 'users'),
      ...(more ? { '@odata.nextLink': link({ ...token, o: offset + pageSize }, '$skiptoken') } : { '@odata.deltaLink': link({ s: token.full ? token.s : end, ...(sel ? { sel } : {}) }, '$deltatoken') }),
      value: items,
    },
  };
}

export function registerSubscriptionRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/users/delta',
      permissions: P.userRead,
      handler: (ctx) => deltaReply(ctx),
    },
    {
      method: 'POST',
      path: '/subscriptions',
      permissions: P.userRead,
      handler: async (ctx) => {
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (!WRITABLE.has(k) && !k.startsWith('@odata.')) throw badRequest(`Property '${k}' does not exist as a declared property or extension property.`);
        const resource = normalizeResource(String(body['resource'] ?? ''));
        const changeType = checkChangeType(body['changeType']);
        const notificationUrl = checkUrl(body['notificationUrl'], 'notificationUrl');
        const lifecycleNotificationUrl = body['lifecycleNotificationUrl'] === undefined || body['lifecycleNotificationUrl'] === null ? null : checkUrl(body['lifecycleNotificationUrl'], 'lifecycleNotificationUrl');
        const expirationDateTime = checkExpiration(body['expirationDateTime'], ctx.nowMs);
        const clientState = body['clientState'] === undefined || body['clientState'] === null ? null : String(body['clientState']);
        if (clientState !== null && clientState.length > 128) throw badRequest("The value of property 'clientState' must be at most 128 characters.");
        if (body['includeResourceData'] === true) throw badRequest('Rich notifications (includeResourceData) are not supported for users: subscribe without resource data and read the user.');
        await validateEndpoint(notificationUrl);
        if (lifecycleNotificationUrl && lifecycleNotificationUrl !== notificationUrl) await validateEndpoint(lifecycleNotificationUrl);
        const sub: Subscription = {
          id: randomUUID(),
          tenantId: ctx.store.info.id,
          applicationId: ctx.caller.appId,
          resource,
          changeType,
          clientState,
          notificationUrl,
          lifecycleNotificationUrl,
          expirationDateTime,
          creatorId: ctx.caller.servicePrincipalId,
          latestSupportedTlsVersion: typeof body['latestSupportedTlsVersion'] === 'string' ? body['latestSupportedTlsVersion'] : 'v1_2',
          includeResourceData: false,
        };
        state(ctx.rt).subscriptions.set(sub.id, sub);
        return { status: 201, body: view(ctx, sub) };
      },
    },
    {
      method: 'GET',
      path: '/subscriptions',
      permissions: [],
      handler: (ctx) => {
        const mine = [...state(ctx.rt).subscriptions.values()].filter((s) => s.tenantId === ctx.store.info.id && s.applicationId === ctx.caller.appId && Date.parse(s.expirationDateTime) > ctx.nowMs);
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'subscriptions'), value: mine.map((s) => view(undefined, s)) } };
      },
    },
    {
      method: 'GET',
      path: '/subscriptions/:id',
      permissions: [],
      handler: (ctx) => ({ status: 200, body: view(ctx, find(ctx, ctx.params['id']!)) }),
    },
    {
      method: 'PATCH',
      path: '/subscriptions/:id',
      permissions: P.userRead,
      handler: async (ctx) => {
        const sub = find(ctx, ctx.params['id']!);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'expirationDateTime' && k !== 'notificationUrl') throw badRequest(`Property '${k}' cannot be updated: a subscription's expirationDateTime and notificationUrl can.`);
        const next = { ...sub };
        if (body['expirationDateTime'] !== undefined) next.expirationDateTime = checkExpiration(body['expirationDateTime'], ctx.nowMs);
        if (body['notificationUrl'] !== undefined) {
          next.notificationUrl = checkUrl(body['notificationUrl'], 'notificationUrl');
          if (next.notificationUrl !== sub.notificationUrl) await validateEndpoint(next.notificationUrl);
        }
        Object.assign(sub, next);
        // A new expirationDateTime reauthorizes the subscription too.
        if (body['expirationDateTime'] !== undefined) awaitingReauthorization.delete(sub);
        return { status: 200, body: view(ctx, sub) };
      },
    },
    {
      method: 'DELETE',
      path: '/subscriptions/:id',
      permissions: [],
      handler: (ctx) => {
        const sub = find(ctx, ctx.params['id']!);
        state(ctx.rt).subscriptions.delete(sub.id);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/subscriptions/:id/reauthorize',
      permissions: P.userRead,
      handler: (ctx) => {
        awaitingReauthorization.delete(find(ctx, ctx.params['id']!));
        return { status: 204 };
      },
    },
  );
}
