// Triggers on what happens in the Microsoft 365 tenant (docs/triggers.md):
// - graph: a Graph change-notification subscription on `users` (validation handshake answered by
//   routes-triggers.ts, clientState checked there) is only a signal: each notification, each
//   lifecycle "missed", and a schedule (the fallback where notifications are off or cannot reach
//   this server) run the trigger's users delta query from its kept deltaLink. Each changed user is
//   compared with what the trigger saw last (trigger_objects) into an event { changeType, user,
//   before, changed }, and fireTrigger starts at most one run per event: the event key is the delta
//   round (the deltaLink it started from) and the user, so a repeated notification, a crash before
//   the deltaLink was saved, or a restart finds the same key (trigger_firings) and starts nothing.
// - date: a date attribute of the users in a scope plus an offset in days is planned per user
//   (trigger_date_plans); a plan whose day has come starts its run once (key: user and date), a
//   changed date re-plans, a cleared date or a user leaving the scope cancels. Evaluated on a
//   schedule and at once when a change notification arrives. The evaluation clock is injectable.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Client as GraphClient } from '@microsoft/microsoft-graph-client';
import { graphClientCache } from '../m365/graph.ts';
import type { AuditOrigin } from './audit.ts';
import type { Services } from './services.ts';
import { fireTrigger, type TriggerRow } from './triggers.ts';

/** A users subscription lives at most 41,760 minutes; Tenantflow asks for 28 days and renews with 3 days left. */
export const SUBSCRIPTION_MINUTES = 28 * 24 * 60;
export const RENEW_BEFORE_MS = 3 * 24 * 3600_000;
/** Properties a graph trigger reads of each user (and compares before/after) unless it names others. */
export const DEFAULT_USER_PROPERTIES = ['id', 'userPrincipalName', 'displayName', 'givenName', 'surname', 'mail', 'accountEnabled', 'department', 'jobTitle', 'companyName', 'officeLocation', 'employeeId', 'usageLocation', 'createdDateTime'];
export const DATE_ATTRIBUTES = ['employeeHireDate', 'employeeLeaveDateTime', 'createdDateTime'] as const;
const DAY_MS = 24 * 3600_000;

export interface GraphConfig {
  resource: 'users';
  changeType: string;
  select: string[];
  /** Minutes between delta rounds when notifications are off or unreachable (and as a safety net with them). */
  pollMinutes: number;
}
export interface DateConfig {
  attribute: string;
  offsetDays: number;
  scope?: string;
  /** A plan whose day passed while the server was down still starts within this many days. */
  catchUpDays: number;
  everyMinutes: number;
}
export interface WatchState {
  mode?: 'notifications' | 'delta';
  subscriptionId?: string;
  expiresAt?: string;
  clientStateEnc?: string;
  deltaLink?: string;
  syncedAt?: string;
  nextPollAt?: string;
  evaluatedAt?: string;
  lastError?: string;
  /** When subscribing failed: not before this time again (wall clock). */
  subscribeRetryAt?: string;
}

const watchOf = (t: TriggerRow) => (t.state ?? {}) as WatchState;
const graphConfig = (t: TriggerRow) => t.config as unknown as GraphConfig;
const dateConfig = (t: TriggerRow) => t.config as unknown as DateConfig;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const addDays = (day: string, n: number) => dayOf(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);

/** The property a date trigger reads, and how to get its value from a user. */
export function dateAttribute(attribute: string): { select: string; read: (u: Record<string, unknown>) => unknown } | undefined {
  if ((DATE_ATTRIBUTES as readonly string[]).includes(attribute)) return { select: attribute, read: (u) => u[attribute] };
  const ext = /^extensionAttribute([1-9]|1[0-5])$/.exec(attribute);
  if (ext) return { select: 'onPremisesExtensionAttributes', read: (u) => (u['onPremisesExtensionAttributes'] as Record<string, unknown> | null)?.[attribute] };
  return undefined;
}

/** YYYY-MM-DD of a date attribute's value (an ISO date-time, or a date an extension attribute holds), or undefined. */
export function dayOfValue(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v.trim()) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(v.trim());
  if (!m || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`))) return undefined;
  return m[1];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export interface WatcherOptions {
  /** https://... where Microsoft reaches this server; notifications only when set (else delta on a schedule). */
  publicUrl?: string;
  /** The evaluation clock (date triggers, schedules): injectable for tests. */
  now?: () => number;
  /**
   * The clock subscriptions live on (Microsoft's: their expirationDateTime, renewal, retries):
   * the wall clock unless a test moves it together with the sandbox's clock.
   */
  wallClock?: () => number;
  intervalMs?: number;
  log?: (m: string) => void;
}

/**
 * Keeps graph and date triggers working: subscriptions created, renewed and re-created, delta
 * rounds, date evaluations. One per server process (server/main.ts); tests call tick() themselves.
 */
export class TriggerWatcher {
  readonly now: () => number;
  private readonly wall: () => number;
  private readonly graphs = graphClientCache();
  private readonly chain = new Map<string, Promise<void>>();
  /** Triggers with a notified delta round queued and not yet started: more notifications join it. */
  private readonly notifyQueued = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly s: Services;
  private readonly opts: WatcherOptions;

  constructor(s: Services, opts: WatcherOptions = {}) {
    this.s = s;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.wall = opts.wallClock ?? Date.now;
  }

  get notificationsOn(): boolean {
    return !!this.opts.publicUrl?.startsWith('https://');
  }

  start(): this {
    const every = this.opts.intervalMs ?? 60_000;
    const loop = () => {
      this.timer = setTimeout(() => void this.tick().finally(loop), every);
      this.timer.unref?.();
    };
    loop();
    return this;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private log(m: string): void {
    (this.opts.log ?? ((x: string) => console.warn(`triggers: ${x}`)))(m);
  }

  private async graph(tenant: string): Promise<GraphClient> {
    const conn = await this.s.tenants.connection(tenant);
    if (!conn) throw new Error(`tenant ${tenant} has no connection`);
    return this.graphs(conn);
  }

  private async saveState(id: string, patch: WatchState & Record<string, unknown>): Promise<void> {
    const clean = Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, v === undefined ? null : v]));
    await this.s.db.query('update triggers set state = coalesce(state, \'{}\'::jsonb) || $2::jsonb where id = $1', [id, JSON.stringify(clean)]);
  }

  private async load(id: string): Promise<TriggerRow | undefined> {
    return this.s.db.one<TriggerRow>('select * from triggers where id = $1', [id]);
  }

  /** Runs work for one trigger at a time, in the order asked (a per-trigger queue). */
  private serial(id: string, work: () => Promise<void>): Promise<void> {
    const prev = this.chain.get(id) ?? Promise.resolve();
    const p = prev.then(work);
    const tail = p.catch(() => undefined);
    this.chain.set(id, tail);
    void tail.then(() => {
      if (this.chain.get(id) === tail) this.chain.delete(id);
    });
    return p;
  }

  /** Every active graph and date trigger: subscriptions kept alive, delta rounds and evaluations that are due. */
  async tick(): Promise<void> {
    const rows = await this.s.db.query<TriggerRow>("select * from triggers where kind in ('graph', 'date') and not paused order by created_at");
    for (const t of rows) {
      try {
        await this.maintain(t);
      } catch (err) {
        this.log(`${t.id}: ${(err as Error).message}`);
      }
    }
  }

  /** Sets a new trigger up at once (subscription, first delta round as the baseline, first evaluation). */
  setUp(id: string): Promise<void> {
    return this.serial(id, async () => {
      const t = await this.load(id);
      if (t && !t.paused) await this.maintainUnlocked(t, true);
    }).catch((err) => this.log(`${id}: ${(err as Error).message}`));
  }

  private maintain(t: TriggerRow): Promise<void> {
    return this.serial(t.id, async () => {
      const fresh = await this.load(t.id);
      if (fresh && !fresh.paused) await this.maintainUnlocked(fresh, false);
    });
  }

  private async maintainUnlocked(t: TriggerRow, force: boolean): Promise<void> {
    const w = watchOf(t);
    let subscribeError: string | undefined;
    /** A subscription was lost (expired or removed) and made again: changes in between had no notification. */
    let gap = false;
    try {
      if (this.notificationsOn && (force || !w.subscribeRetryAt || Date.parse(w.subscribeRetryAt) <= this.wall())) {
        try {
          gap = await this.keepSubscription(t);
        } catch (err) {
          // Microsoft cannot reach this server (the handshake failed) or refused the subscription:
          // delta queries on the schedule carry on alone; subscribing is tried again in 15 minutes.
          subscribeError = `change notifications unavailable, using delta queries: ${(err as Error).message}`;
          await this.saveState(t.id, { mode: 'delta', subscribeRetryAt: new Date(this.wall() + 15 * 60_000).toISOString() });
        }
      } else if (!this.notificationsOn && w.mode !== 'delta') await this.saveState(t.id, { mode: 'delta' });
      const fresh = (await this.load(t.id))!;
      const due = !watchOf(fresh).nextPollAt || Date.parse(watchOf(fresh).nextPollAt!) <= this.now();
      if (force || due || gap) await this.runOnce(fresh);
      await this.saveState(t.id, { lastError: subscribeError?.slice(0, 500), ...(subscribeError ? {} : { subscribeRetryAt: undefined }) });
    } catch (err) {
      await this.saveState(t.id, { lastError: (err as Error).message.slice(0, 500) });
      throw err;
    }
  }

  /** A delta round (graph) or an evaluation (date), then the next one scheduled. */
  private async runOnce(t: TriggerRow): Promise<void> {
    const every = t.kind === 'date' ? dateConfig(t).everyMinutes : graphConfig(t).pollMinutes * (watchOf(t).mode === 'notifications' ? 4 : 1);
    if (t.kind === 'graph') await this.deltaRound(t);
    else await this.evaluateDates(t);
    await this.saveState(t.id, { nextPollAt: new Date(this.now() + every * 60_000).toISOString() });
  }

  // ---- subscriptions ----

  private notificationUrl(t: TriggerRow, lifecycle = false): string {
    return `${this.opts.publicUrl!.replace(/\/$/, '')}/api/graph-notifications/${t.id}${lifecycle ? '/lifecycle' : ''}`;
  }

  /**
   * Renews the subscription (PATCH expirationDateTime) once less than RENEW_BEFORE_MS is left, or
   * subscribes again when it is gone: expired (Graph deletes expired subscriptions) or removed at
   * Microsoft (the PATCH answers 404). True when a subscription the trigger had was replaced (its
   * notifications may have been missed since it was lost: the caller catches up with a delta round).
   */
  private async keepSubscription(t: TriggerRow): Promise<boolean> {
    const w = watchOf(t);
    const left = w.expiresAt ? Date.parse(w.expiresAt) - this.wall() : 0;
    if (w.subscriptionId && left > RENEW_BEFORE_MS) return false;
    if (w.subscriptionId && left > 0 && (await this.renewOrGone(t))) return false;
    await this.subscribe(t);
    return !!w.subscriptionId;
  }

  /** PATCHes the subscription's expiry: true when renewed, false when Graph no longer has it (404). */
  private async renewOrGone(t: TriggerRow): Promise<boolean> {
    try {
      await this.renew(t);
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      await this.s.audit.record(SYSTEM, 'trigger.subscription-gone', t.id, { subscription: watchOf(t).subscriptionId }, t.tenant);
      return false;
    }
  }

  private async subscribe(t: TriggerRow): Promise<void> {
    const g = await this.graph(t.tenant);
    const clientState = randomBytes(32).toString('base64url');
    const changeType = t.kind === 'date' ? 'created,updated' : graphConfig(t).changeType;
    const sub = (await g.api('/subscriptions').post({
      changeType,
      notificationUrl: this.notificationUrl(t),
      lifecycleNotificationUrl: this.notificationUrl(t, true),
      resource: 'users',
      expirationDateTime: new Date(this.wall() + SUBSCRIPTION_MINUTES * 60_000).toISOString(),
      clientState,
    })) as { id: string; expirationDateTime: string };
    await this.saveState(t.id, { mode: 'notifications', subscriptionId: sub.id, expiresAt: sub.expirationDateTime, clientStateEnc: this.s.deps.secretBox.seal(clientState) });
    await this.s.audit.record(SYSTEM, 'trigger.subscribed', t.id, { subscription: sub.id, expires: sub.expirationDateTime }, t.tenant);
  }

  private async renew(t: TriggerRow): Promise<void> {
    const g = await this.graph(t.tenant);
    const id = watchOf(t).subscriptionId!;
    const sub = (await g.api(`/subscriptions/${id}`).patch({ expirationDateTime: new Date(this.wall() + SUBSCRIPTION_MINUTES * 60_000).toISOString() })) as { expirationDateTime: string };
    await this.saveState(t.id, { mode: 'notifications', expiresAt: sub.expirationDateTime });
    await this.s.audit.record(SYSTEM, 'trigger.subscription-renewed', t.id, { subscription: id, expires: sub.expirationDateTime }, t.tenant);
  }

  /** Removes the trigger's subscription at Microsoft (best effort: it expires by itself otherwise). */
  async unsubscribe(t: TriggerRow): Promise<void> {
    const id = watchOf(t).subscriptionId;
    if (!id) return;
    try {
      await (await this.graph(t.tenant)).api(`/subscriptions/${id}`).delete();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) this.log(`${t.id}: could not delete subscription ${id}: ${(err as Error).message}`);
    }
    await this.saveState(t.id, { subscriptionId: undefined, expiresAt: undefined, clientStateEnc: undefined });
  }

  /** True when the notification's subscription and clientState are this trigger's (constant-time compare). */
  checkNotification(t: TriggerRow, item: { subscriptionId?: unknown; clientState?: unknown }): boolean {
    const w = watchOf(t);
    if (!w.clientStateEnc || typeof item.clientState !== 'string') return false;
    const want = Buffer.from(this.s.deps.secretBox.open(w.clientStateEnc));
    const got = Buffer.from(item.clientState);
    return got.length === want.length && timingSafeEqual(got, want) && item.subscriptionId === w.subscriptionId;
  }

  /** A change notification arrived (checked): run the trigger's delta round / evaluation now. */
  notified(t: TriggerRow): Promise<void> {
    if (this.notifyQueued.has(t.id)) return Promise.resolve();
    this.notifyQueued.add(t.id);
    return this.serial(t.id, async () => {
      this.notifyQueued.delete(t.id);
      const fresh = await this.load(t.id);
      if (fresh && !fresh.paused) await this.runOnce(fresh);
    }).catch((err) => this.log(`${t.id}: ${(err as Error).message}`));
  }

  /**
   * A lifecycle notification (checked), handled as Microsoft documents: reauthorizationRequired ->
   * one PATCH with a new expirationDateTime, which reauthorizes and renews at once (Microsoft asks
   * not to send a reauthorize and a PATCH for the same subscription within 10 minutes), or a new
   * subscription when Graph no longer has it; subscriptionRemoved -> a new subscription; missed ->
   * nothing more. Then, in every case, a delta round catches up with what may have been missed.
   */
  async lifecycle(t: TriggerRow, event: string): Promise<void> {
    await this.s.audit.record(SYSTEM, 'trigger.lifecycle', t.id, { event, subscription: watchOf(t).subscriptionId }, t.tenant);
    await this.serial(t.id, async () => {
      const fresh = (await this.load(t.id))!;
      if (event === 'reauthorizationRequired') {
        if (!(await this.renewOrGone(fresh))) await this.subscribe(fresh);
      } else if (event === 'subscriptionRemoved') {
        await this.saveState(t.id, { subscriptionId: undefined, expiresAt: undefined });
        await this.subscribe(fresh);
      }
      // Changes may have been missed in every case: catch up.
      if (!fresh.paused) await this.runOnce((await this.load(t.id))!);
    });
  }

  /** Forget the delta state: the next round is a new baseline (on resume: changes while paused start nothing). */
  async rebaseline(id: string): Promise<void> {
    await this.s.db.query('delete from trigger_objects where trigger_id = $1', [id]);
    await this.saveState(id, { deltaLink: undefined, syncedAt: undefined, nextPollAt: undefined });
  }

  // ---- graph: delta rounds ----

  private async deltaRound(t: TriggerRow): Promise<void> {
    const g = await this.graph(t.tenant);
    const cfg = graphConfig(t);
    const from = watchOf(t).deltaLink;
    const baseline = !from;
    const round = from ? createHash('sha256').update(from).digest('hex').slice(0, 16) : 'baseline';
    let page = (await (from ? g.api(from) : g.api('/users/delta').query({ $select: cfg.select.join(',') })).get()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
    for (;;) {
      for (const item of page.value) await this.change(t, item, baseline, round);
      if (page['@odata.nextLink']) page = (await g.api(page['@odata.nextLink']).get()) as typeof page;
      else break;
    }
    await this.saveState(t.id, { deltaLink: page['@odata.deltaLink'], syncedAt: new Date(this.now()).toISOString() });
  }

  private async change(t: TriggerRow, item: Record<string, unknown>, baseline: boolean, round: string): Promise<void> {
    const id = String(item['id']);
    const prev = await this.s.db.one<{ props: Record<string, unknown> }>('select props from trigger_objects where trigger_id = $1 and object_id = $2', [t.id, id]);
    const removed = '@removed' in item;
    const { '@removed': _r, '@odata.type': _t, ...props } = item;
    const after = removed ? undefined : { ...(prev?.props ?? {}), ...props };
    if (removed) await this.s.db.query('delete from trigger_objects where trigger_id = $1 and object_id = $2', [t.id, id]);
    else
      await this.s.db.query('insert into trigger_objects (trigger_id, object_id, props) values ($1, $2, $3) on conflict (trigger_id, object_id) do update set props = excluded.props', [t.id, id, JSON.stringify(after)]);
    if (baseline) return;
    const changeType = removed ? 'deleted' : prev ? 'updated' : 'created';
    if (!graphConfig(t).changeType.split(',').includes(changeType)) return;
    const before = prev?.props;
    const changed = changeType === 'updated' ? Object.keys(after!).filter((k) => !same(before?.[k], after![k])) : Object.keys(after ?? before ?? {});
    if (changeType === 'updated' && changed.length === 0) return;
    const event = { changeType, user: after ?? before ?? { id }, ...(before ? { before } : {}), changed, ...(removed ? { removed: item['@removed'] } : {}) };
    await fireTrigger(this.s, t, `graph:${round}:${id}`, event, SYSTEM_FOR(t));
  }

  // ---- date triggers ----

  /** Plans each user's date in scope, cancels cleared ones, starts the runs whose day has come. */
  async evaluateDates(t: TriggerRow): Promise<void> {
    const cfg = dateConfig(t);
    const attr = dateAttribute(cfg.attribute)!;
    const g = await this.graph(t.tenant);
    const select = [...new Set(['id', 'userPrincipalName', 'displayName', 'department', 'mail', attr.select])];
    let req = g.api('/users').select(select).top(999);
    if (cfg.scope) req = req.filter(cfg.scope).header('ConsistencyLevel', 'eventual').query({ $count: 'true' });
    let page = (await req.get()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string };
    const users: Record<string, unknown>[] = [...page.value];
    while (page['@odata.nextLink']) {
      page = (await g.api(page['@odata.nextLink']).header('ConsistencyLevel', 'eventual').get()) as typeof page;
      users.push(...page.value);
    }
    const today = dayOf(this.now());
    const earliest = addDays(today, -cfg.catchUpDays);
    const plans = new Map((await this.s.db.query<{ user_id: string; date: string; due: string; status: string }>('select user_id, date, due, status from trigger_date_plans where trigger_id = $1', [t.id])).map((p) => [p.user_id, p]));
    const seen = new Set<string>();
    const origin = SYSTEM_FOR(t);
    for (const u of users) {
      const id = String(u['id']);
      seen.add(id);
      const date = dayOfValue(attr.read(u));
      const plan = plans.get(id);
      if (!date) {
        if (plan?.status === 'planned') await this.setPlan(t, id, u, plan.date, plan.due, 'cancelled', 'the date was cleared');
        continue;
      }
      const due = addDays(date, cfg.offsetDays);
      if (!plan || plan.date !== date) {
        // A new or changed date: (re)planned. A date whose day is already before the window is recorded, never started.
        const status = due < earliest ? 'past' : 'planned';
        await this.setPlan(t, id, u, date, due, status, plan ? `re-planned from ${plan.date}` : undefined);
        plans.set(id, { user_id: id, date, due, status });
      } else if (plan.status === 'cancelled') {
        await this.setPlan(t, id, u, date, due, due < earliest ? 'past' : 'planned', 'the date is back');
        plans.set(id, { ...plan, status: 'planned' });
      }
      const p = plans.get(id)!;
      if (p.status === 'planned' && p.due <= today && p.due >= earliest) {
        const r = await fireTrigger(this.s, t, `date:${id}:${date}`, { user: u, date, due: p.due, attribute: cfg.attribute, offsetDays: cfg.offsetDays }, origin);
        const runId = r.outcome === 'started' || r.outcome === 'duplicate' ? r.runId : undefined;
        await this.s.db.query('update trigger_date_plans set status = $3, run_id = $4, updated_at = now() where trigger_id = $1 and user_id = $2', [t.id, id, r.outcome === 'filtered' ? 'filtered' : r.outcome === 'refused' ? 'refused' : 'started', runId ?? null]);
      }
    }
    // Users who left the scope (or the tenant): their open plans are cancelled.
    for (const [id, p] of plans) if (!seen.has(id) && p.status === 'planned') await this.setPlan(t, id, undefined, p.date, p.due, 'cancelled', 'the user is no longer in scope');
    await this.saveState(t.id, { evaluatedAt: new Date(this.now()).toISOString(), syncedAt: new Date(this.now()).toISOString() });
  }

  private async setPlan(t: TriggerRow, userId: string, u: Record<string, unknown> | undefined, date: string, due: string, status: string, why?: string): Promise<void> {
    await this.s.db.query(
      `insert into trigger_date_plans (trigger_id, user_id, upn, date, due, status) values ($1, $2, $3, $4, $5, $6)
       on conflict (trigger_id, user_id) do update set upn = coalesce(excluded.upn, trigger_date_plans.upn), date = excluded.date, due = excluded.due, status = excluded.status, run_id = null, updated_at = now()`,
      [t.id, userId, (u?.['userPrincipalName'] as string | undefined) ?? null, date, due, status],
    );
    if (why) await this.s.audit.record(SYSTEM_FOR(t), `trigger.plan-${status === 'cancelled' ? 'cancelled' : 'changed'}`, t.id, { user: userId, date, due, why }, t.tenant);
  }
}

const SYSTEM: AuditOrigin = { actor: 'system:triggers' };
const SYSTEM_FOR = (t: TriggerRow): AuditOrigin => ({ actor: `trigger:${t.id}` });
