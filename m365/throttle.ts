// The worker's request budgets, one per Microsoft service and resource, shared by every step that
// calls the same tenant with the same app (Microsoft budgets "per app per tenant"). Each budget has
// the documented quotas of its service (Microsoft Graph service-specific throttling limits, and
// SharePoint's resource units) and a rate that learns the limit: it starts below the documented ceiling
// (85%), climbs towards it with each success, steps down to 80% of the rate that drew a 429 (which
// also holds that budget -- and only that one -- for exactly the Retry-After; several 429s within a few
// seconds are one signal: one step-down, one hold) and then approaches that
// learned limit from below. A 503, 504 or lost answer is a transient service error, not throttling:
// it changes nothing (SharePoint's 503 with Retry-After is its documented throttled answer and counts).
// So bulk Intune work that is throttled does not hold Entra writes, a SharePoint site creation does not
// wait behind mailbox cmdlets, and bulk work runs just under each service's ceiling instead of storming
// it with 429s. The gate never retries anything itself.
//
// A step that a tenant's budget queue dispatched (worker/tenant-queues.ts) already had its turn:
// Temporal paces that queue's dispatches across every worker. Its first write of that budget is not
// paced again at the gate's cautious rate (runOnQueueTurn): it is only kept under the documented
// ceiling within this process (so a burst of dispatches does not reach Microsoft at once), and is
// counted and learned from like any other; after a 429 the gate paces those writes at its own rate
// too until that rate has climbed back to the queue's.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { retryAfterMs } from './errors.ts';
import { serviceCall, type ServiceRequest } from './tracing.ts';

export type Service = 'directory' | 'intune' | 'teams' | 'outlook' | 'sharepoint' | 'exchange';

/**
 * After a throttling signal, further 429s of the same budget within this window (or twice the
 * Retry-After, whichever is longer) are the same event: one step-down and one hold per window.
 */
export const SIGNAL_WINDOW_MS = 5000;

/** At most `units` cost units per `perMs` milliseconds (a token bucket that starts full). */
export interface Quota {
  units: number;
  perMs: number;
  /** Where the number comes from, for docs and failure messages. */
  source: string;
}

/** Which budget a request draws from, and what it costs there. */
export interface BudgetSpec {
  service: Service;
  /** Budget key within the gate, e.g. "directory:write" or "outlook:anna@contoso.com". */
  key: string;
  cost: number;
  quotas: readonly Quota[];
  /** Requests in flight at once (Outlook: 4 per mailbox). */
  concurrency?: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** The documented numbers, per app per tenant (the smallest tenant tier where the number depends on size). */
export const QUOTAS = {
  directoryRead: { units: 3500, perMs: 10 * SECOND, source: 'Entra ID resource units, S tenant: 3,500 per 10 s per app+tenant' },
  directoryWrite: { units: 3000, perMs: 150 * SECOND, source: 'Entra ID writes: 3,000 per 150 s per app+tenant' },
  intuneWrite: { units: 100, perMs: 20 * SECOND, source: 'Intune writes: 100 per 20 s per app+tenant' },
  intuneAny: { units: 1000, perMs: 20 * SECOND, source: 'Intune requests: 1,000 per 20 s per app+tenant' },
  teamsCreate: { units: 10, perMs: SECOND, source: 'Teams POST /teams: 10 rps per app+tenant' },
  teamsFromGroup: { units: 6, perMs: SECOND, source: 'Teams PUT /groups/{id}/team: 6 rps per app+tenant' },
  teamsDelete: { units: 15, perMs: SECOND, source: 'Teams DELETE channel: 15 rps per app+tenant' },
  teamsList: { units: 60, perMs: SECOND, source: 'Teams GET members / channels: 60 rps per app+tenant' },
  teamsOther: { units: 30, perMs: SECOND, source: 'Teams other calls: 30 rps per app+tenant' },
  outlookMailbox: { units: 10_000, perMs: 10 * MINUTE, source: 'Outlook: 10,000 requests per 10 min per app and mailbox' },
  sharepointMinute: { units: 1250, perMs: MINUTE, source: 'SharePoint: 1,250 resource units per minute per app+tenant (up to 1,000 licences)' },
  sharepointDay: { units: 1_200_000, perMs: 24 * 60 * MINUTE, source: 'SharePoint: 1,200,000 resource units per 24 h per app+tenant' },
} satisfies Record<string, Quota>;

/** Documented Entra ID resource-unit base costs; anything not listed costs 1. */
const DIRECTORY_RU: [RegExp, number][] = [
  [/^\/users$/i, 2],
  [/^\/applications$/i, 2],
  [/^\/applications\/[^/]+\/extensionProperties$/i, 2],
  [/^\/contracts$/i, 3],
  [/^\/groups\/[^/]+\/members$/i, 3],
  [/^\/groups\/[^/]+\/transitiveMembers$/i, 5],
  [/^\/users\/[^/]+\/(licenseDetails|memberOf|ownedObjects|transitiveMemberOf)$/i, 2],
  [/^\/oauth2PermissionGrants(\/[^/]+)?$/i, 2],
  [/^\/servicePrincipals\/[^/]+\/appRoleAssignments$/i, 2],
  [/^\/subscribedSkus$/i, 3],
  [/^\/domains\/[^/]+\/domainNameReferences$/i, 4],
];

const MAILBOX = /^\/users\/([^/]+)\/(messages|mailFolders|sendMail|mailboxSettings|events|calendars?|calendarView|contacts|contactFolders|inferenceClassification|outlook)(\/|$)/i;
const INTUNE = /^\/(deviceManagement|deviceAppManagement)(\/|$)|^\/users\/[^/]+\/managedDevices(\/|$)/i;
const TEAMS = /^\/(teams|teamwork|chats|appCatalogs|admin\/teams)(\/|$)|^\/groups\/[^/]+\/team(\/|$)|^\/users\/[^/]+\/(joinedTeams|teamwork|chats)(\/|$)/i;
const FILES = /^\/(sites|drives|shares)(\/|$)|^\/(users|groups)\/[^/]+\/(drive|drives|sites)(\/|$)/i;

/** The Graph path without its version segment and query, for classification. */
function graphPath(url: string): { path: string; query: URLSearchParams } {
  const u = new URL(url, 'https://graph.microsoft.com');
  return { path: u.pathname.replace(/^\/(v1\.0|beta)(?=\/)/i, '').replace(/\/$/, '') || '/', query: u.searchParams };
}

/** Which of Microsoft's budgets a Graph request draws from. */
export function graphBudget(method: string, url: string): BudgetSpec {
  const { path, query } = graphPath(url);
  const m = method.toUpperCase();
  const write = m !== 'GET' && m !== 'HEAD';
  if (INTUNE.test(path)) {
    return write
      ? { service: 'intune', key: 'intune:write', cost: 1, quotas: [QUOTAS.intuneWrite, QUOTAS.intuneAny] }
      : { service: 'intune', key: 'intune:read', cost: 1, quotas: [QUOTAS.intuneAny] };
  }
  if (TEAMS.test(path)) {
    if (m === 'POST' && /^\/teams$/i.test(path)) return { service: 'teams', key: 'teams:create', cost: 1, quotas: [QUOTAS.teamsCreate] };
    if (m === 'PUT' && /^\/groups\/[^/]+\/team$/i.test(path)) return { service: 'teams', key: 'teams:fromGroup', cost: 1, quotas: [QUOTAS.teamsFromGroup] };
    if (m === 'DELETE') return { service: 'teams', key: 'teams:delete', cost: 1, quotas: [QUOTAS.teamsDelete] };
    if (m === 'GET' && /^\/teams\/[^/]+\/(members|channels|channels\/[^/]+\/members)$/i.test(path)) return { service: 'teams', key: 'teams:list', cost: 1, quotas: [QUOTAS.teamsList] };
    return { service: 'teams', key: write ? 'teams:write' : 'teams:read', cost: 1, quotas: [QUOTAS.teamsOther] };
  }
  if (FILES.test(path)) return sharepointBudget(write ? 2 : /\/(children|items|drives|sites|permissions)$/i.test(path) || query.has('search') ? 2 : 1);
  const mailbox = MAILBOX.exec(path);
  if (mailbox) {
    const who = decodeURIComponent(mailbox[1]!).toLowerCase();
    return { service: 'outlook', key: `outlook:${who}`, cost: 1, quotas: [QUOTAS.outlookMailbox], concurrency: 4 };
  }
  if (write && !/^\/directoryObjects\/getByIds$/i.test(path)) return { service: 'directory', key: 'directory:write', cost: 1, quotas: [QUOTAS.directoryWrite] };
  let ru = DIRECTORY_RU.find(([re]) => re.test(path))?.[1] ?? (/^\/directoryObjects\/getByIds$/i.test(path) ? 3 : 1);
  if (query.has('$select')) ru -= 1;
  if (query.has('$expand')) ru += 1;
  const top = Number(query.get('$top') ?? NaN);
  if (!Number.isNaN(top) && top < 20) ru -= 1;
  return { service: 'directory', key: 'directory:read', cost: Math.max(1, ru), quotas: [QUOTAS.directoryRead] };
}

/** One dispatch from a budget queue: the budget it paces, at what rate, and whether its write went. */
interface QueueTurn {
  key: string;
  rate: number;
  used: boolean;
}
const queueTurns = new AsyncLocalStorage<QueueTurn>();

/**
 * Runs one attempt of a step that the budget queue of gate budget `key` (e.g. "directory:write")
 * dispatched at `rate` per second: its first request of that budget goes on the queue's turn,
 * without waiting for the gate's spacing (Temporal already paced it across every worker). Its other
 * requests of the budget (a step with several writes, the resend of a 429) are spaced as before.
 */
export function runOnQueueTurn<T>(key: string, rate: number, fn: () => Promise<T>): Promise<T> {
  return queueTurns.run({ key, rate, used: false }, fn);
}

/** SharePoint and OneDrive (Graph files routes and SharePoint REST) share the tenant's resource units. */
export function sharepointBudget(cost = 2): BudgetSpec {
  return { service: 'sharepoint', key: 'sharepoint', cost, quotas: [QUOTAS.sharepointMinute, QUOTAS.sharepointDay] };
}

/**
 * The Exchange Online admin API (InvokeCommand). Microsoft publishes no request quota for it, so its
 * budget has no ceiling of its own: it is adaptive only, and apart from Graph's.
 */
export function exchangeBudget(): BudgetSpec {
  return { service: 'exchange', key: 'exchange', cost: 1, quotas: [] };
}

/**
 * When the request after one sent at `now` (due at `slot`) may go: one interval after its slot when
 * it went on time or at most one interval late, so a timer that fires late (a busy event loop) does
 * not lower the rate; one interval after it was sent when it went later (the budget was idle) or
 * before its slot (a queue's turn).
 */
function slotAfter(slot: number, now: number, interval: number): number {
  return (now >= slot && now - slot <= interval ? slot : now) + interval;
}

class Bucket {
  private tokens: number;
  private last: number;
  private readonly capacity: number;
  private readonly perMs: number;
  constructor(capacity: number, perMs: number) {
    this.capacity = capacity;
    this.perMs = perMs;
    this.tokens = capacity;
    this.last = Date.now();
  }
  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.capacity) / this.perMs);
    this.last = now;
  }
  /** ms until `cost` fits (0 = now). */
  waitFor(cost: number, now: number): number {
    this.refill(now);
    const need = Math.min(cost, this.capacity);
    return this.tokens >= need ? 0 : ((need - this.tokens) * this.perMs) / this.capacity;
  }
  take(cost: number): void {
    this.tokens -= cost;
  }
  level(now: number): number {
    this.refill(now);
    return this.tokens / this.capacity;
  }
}

export interface BudgetOptions {
  /**
   * Initial requests per second (adaptive). A budget with a documented ceiling starts at
   * `startShare` of it (capped by this when given); one without starts here (default 50).
   */
  rate?: number;
  minRate?: number;
  maxRate?: number;
  /** Where a budget with a documented ceiling starts, as a share of it (default 0.85). */
  startShare?: number;
}

/** Where a budget without a documented ceiling starts, in requests per second. */
const DEFAULT_RATE = 50;
type GateOptions = Required<Omit<BudgetOptions, 'rate'>> & Pick<BudgetOptions, 'rate'>;

/** One budget: quotas, an adaptive rate, Microsoft's Retry-After hold, and an optional concurrency cap. */
class Budget {
  rate: number;
  private nextSlot = 0;
  /** When the next request on a queue's turn may go: requests spaced at the documented ceiling. */
  private nextTurnSlot = 0;
  /** The rate of the budget queue whose turns skip the spacing (the last one seen). */
  private queueRate?: number;
  /** A throttling signal lowered the rate: queue turns are spaced too until it is back at the queue's. */
  private recovering = false;
  /** Requests that went on a queue's turn, without the gate's spacing. */
  private turns = 0;
  until = 0;
  private lastCut = 0;
  /** Until when a 429 belongs to the last throttling signal (see release). */
  private signalWindowEnd = 0;
  private inFlight = 0;
  private readonly buckets: Bucket[];
  private readonly queue: { cost: number; go: () => void; signal?: AbortSignal; turn: boolean }[] = [];
  private pumping = false;
  private wake?: () => void;
  readonly spec: BudgetSpec;
  private readonly opts: GateOptions;

  /** Requests per second the documented quotas allow at this budget's cost (none: no published number). */
  readonly ceiling?: number;
  /** The rate at the last throttled answer (the documented ceiling until then). */
  private learned: number;

  constructor(spec: BudgetSpec, opts: GateOptions) {
    this.spec = spec;
    this.opts = opts;
    const rates = spec.quotas.map((q) => (q.units * 1000) / q.perMs / Math.max(1, spec.cost));
    this.ceiling = rates.length ? Math.min(...rates) : undefined;
    // Start below the documented ceiling: other apps, workers or earlier runs may share it.
    // (Not below that for no reason: every request waits 1/rate after the one before it, so a
    // start at 50/s made each of a step's sequential Entra reads wait up to 20 ms.)
    this.rate = this.ceiling !== undefined ? Math.min(opts.rate ?? Infinity, opts.startShare * this.ceiling) : (opts.rate ?? DEFAULT_RATE);
    this.learned = this.ceiling ?? opts.maxRate;
    this.buckets = spec.quotas.map((q) => new Bucket(q.units, q.perMs));
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length) {
        // A request on a queue's turn goes before those waiting for the gate's spacing.
        const i = this.recovering ? 0 : Math.max(0, this.queue.findIndex((e) => e.turn));
        const head = this.queue[i]!;
        if (head.signal?.aborted) {
          this.queue.splice(i, 1);
          continue;
        }
        if (this.spec.concurrency !== undefined && this.inFlight >= this.spec.concurrency) {
          await new Promise<void>((r) => (this.wake = r));
          continue;
        }
        const now = Date.now();
        // Retry-After and the quotas hold every request; one on a queue's turn is spaced at the
        // documented ceiling, not at the gate's rate.
        const onTurn = head.turn && !this.recovering;
        const wait = Math.max((onTurn ? this.nextTurnSlot : this.nextSlot) - now, this.until - now, ...this.buckets.map((b) => b.waitFor(head.cost, now)));
        if (wait > 0) {
          // Sleep until the slot, or until a waiter is cancelled or a request comes back.
          await new Promise<void>((r) => {
            const t = setTimeout(r, wait);
            this.wake = () => {
              clearTimeout(t);
              r();
            };
          });
          this.wake = undefined;
          continue;
        }
        this.queue.splice(i, 1);
        for (const b of this.buckets) b.take(head.cost);
        const sent = Date.now();
        this.nextSlot = slotAfter(this.nextSlot, sent, 1000 / this.rate);
        this.nextTurnSlot = slotAfter(this.nextTurnSlot, sent, 1000 / (this.ceiling ?? this.rate));
        if (onTurn) this.turns++;
        this.inFlight++;
        head.go();
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Waits for this request's turn (rejects if the signal aborts first). `queueRate`: the request
   * goes on the turn of a budget queue dispatching at that rate (see runOnQueueTurn).
   */
  acquire(signal?: AbortSignal, queueRate?: number): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (queueRate !== undefined) this.queueRate = queueRate;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(signal!.reason);
        this.wake?.();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push({
        cost: this.spec.cost,
        signal,
        turn: queueRate !== undefined,
        go: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      });
      // A pump asleep until the next slot looks again: a queue's turn need not wait for it.
      if (queueRate !== undefined && !this.recovering) this.wake?.();
      void this.pump();
    });
  }

  /**
   * What Microsoft answered. A 429 (and, for SharePoint, a 503 with Retry-After: its documented
   * throttled answer) is a throttling signal: the rate it was sent at is remembered as the limit
   * learned, the rate steps down to 80% of it, and the budget is held for exactly the Retry-After,
   * once per window: 429s answering requests sent before that step-down, or arriving within
   * SIGNAL_WINDOW_MS (or twice the Retry-After) after it, are the same signal, not new ones.
   * Any other 503, 504 or lost answer is a transient service error, not a signal: the rate stays.
   * Each success climbs back towards the limit: in steps of 1% of the documented ceiling up to 95% of
   * the limit learned, then in steps of 0.1% (approaching it from below), never above the ceiling.
   * A signal also spaces the requests on a budget queue's turn, until the rate is back at the queue's.
   */
  release(sentAt: number, status: number | undefined, headers: Headers | undefined): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const w = this.wake;
    this.wake = undefined;
    w?.();
    const ms = headers && status !== undefined && status >= 400 ? retryAfterMs({ statusCode: status, headers }) : undefined;
    const throttled = status === 429 || (status === 503 && this.spec.service === 'sharepoint' && ms !== undefined);
    if (throttled) {
      // One signal per window: a 429 answering a request that was on its way when the budget stepped
      // down, or that comes within the window after it, is the same event: that request waits its own
      // Retry-After (m365/transient.ts), the budget is neither stepped down nor held again.
      const now = Date.now();
      if (sentAt >= this.lastCut && now >= this.signalWindowEnd) {
        this.learned = this.rate;
        this.rate = Math.max(this.opts.minRate, this.rate * 0.8);
        this.recovering = true;
        this.lastCut = now;
        if (ms !== undefined) this.until = Math.max(this.until, now + ms);
        this.signalWindowEnd = now + Math.max(SIGNAL_WINDOW_MS, 2 * (ms ?? 0));
      }
    } else if (status !== undefined && status < 400) {
      const top = this.ceiling ?? this.opts.maxRate;
      const step = this.ceiling !== undefined ? this.ceiling * (this.rate < 0.95 * this.learned ? 0.01 : 0.001) : this.rate * 0.05;
      this.rate = Math.min(top, this.opts.maxRate, this.rate + step);
      if (this.recovering && this.rate >= Math.min(this.queueRate ?? Infinity, top, this.opts.maxRate)) this.recovering = false;
    }
  }

  snapshot(): BudgetState {
    const now = Date.now();
    return {
      service: this.spec.service,
      rate: Math.round(this.rate * 100) / 100,
      heldForMs: Math.max(0, this.until - now),
      queued: this.queue.length,
      queueTurns: this.turns,
      spacingQueueTurns: this.recovering,
      quotaLeft: this.buckets.map((b) => Math.round(b.level(now) * 1000) / 1000),
    };
  }
}

export interface BudgetState {
  service: Service;
  rate: number;
  /** How long Microsoft's Retry-After still holds this budget. */
  heldForMs: number;
  queued: number;
  /** Requests sent on a budget queue's turn without the gate's spacing (runOnQueueTurn). */
  queueTurns: number;
  /** After a 429: requests on a queue's turn are spaced too, until the rate is back at the queue's. */
  spacingQueueTurns: boolean;
  /** Share of each quota left (0..1), in the order of the spec's quotas. */
  quotaLeft: number[];
}

/**
 * A tenant's request budgets in this worker: one per Microsoft service and resource. The Graph
 * client uses it as middleware; the Exchange and SharePoint transports call send().
 */
export class ThrottleGate implements Middleware {
  private next?: Middleware;
  private readonly budgets = new Map<string, Budget>();
  private readonly opts: GateOptions;
  /** The tenant this gate paces (for metrics). */
  readonly tenant: string;

  constructor(opts: BudgetOptions = {}, tenant = '') {
    this.opts = { rate: opts.rate, minRate: opts.minRate ?? 1, maxRate: opts.maxRate ?? 1000, startShare: opts.startShare ?? 0.85 };
    this.tenant = tenant;
  }

  setNext(next: Middleware): void {
    this.next = next;
  }

  private budget(spec: BudgetSpec): Budget {
    let b = this.budgets.get(spec.key);
    if (!b) this.budgets.set(spec.key, (b = new Budget(spec, this.opts)));
    return b;
  }

  /**
   * Sends one request through its budget: waits for a slot, then reports the answer back. `what`
   * names the request for its trace span (method, URL: its query string is left out).
   */
  async send<T extends { status: number; headers: Headers } | undefined>(spec: BudgetSpec, signal: AbortSignal | undefined, request: () => Promise<T>, what?: ServiceRequest): Promise<T> {
    const b = this.budget(spec);
    const queuedAt = Date.now();
    // The first request of the budget a queue dispatched this step for goes on the queue's turn.
    const turn = queueTurns.getStore();
    const onTurn = turn && !turn.used && turn.key === spec.key;
    if (onTurn) turn.used = true;
    await b.acquire(signal, onTurn ? turn.rate : undefined);
    const sentAt = Date.now();
    let res: T | undefined;
    try {
      res = await serviceCall({ service: spec.service, tenant: this.tenant, budget: spec.key, waitedMs: sentAt - queuedAt, request: what }, request);
      return res;
    } finally {
      b.release(sentAt, res?.status, res?.headers);
      for (const fn of answerListeners) fn({ tenant: this.tenant, service: spec.service, status: res?.status, ms: Date.now() - sentAt });
    }
  }

  /** Graph middleware: `next` is the rest of the calling client's chain (a gate serves several). */
  async execute(context: Context, next: Middleware | undefined = this.next): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const method = context.options?.method ?? (typeof context.request === 'string' ? 'GET' : context.request.method);
    await this.send(
      graphBudget(method, url),
      context.options?.signal ?? undefined,
      async () => {
        await next!.execute(context);
        return context.response;
      },
      { method, url },
    );
  }

  /** Every budget used so far, by key (for tests and diagnostics). */
  state(): Record<string, BudgetState> {
    return Object.fromEntries([...this.budgets].map(([k, b]) => [k, b.snapshot()]));
  }
}

const gates = new Map<string, ThrottleGate>();

/** One answer (or none: a network error) from a Microsoft service, as the gate saw it. */
export interface ServiceAnswer {
  tenant: string;
  service: Service;
  /** undefined when no answer came (network error, aborted). */
  status: number | undefined;
  ms: number;
}
const answerListeners = new Set<(a: ServiceAnswer) => void>();

/** Calls `fn` for every request any gate of this process sends (metrics); returns the unsubscribe. */
export function onServiceAnswer(fn: (a: ServiceAnswer) => void): () => void {
  answerListeners.add(fn);
  return () => answerListeners.delete(fn);
}

/** Every gate of this process (metrics: the current rate per tenant and budget). */
export function allGates(): ThrottleGate[] {
  return [...gates.values()];
}

/**
 * The gate of one app in one tenant, shared by the Graph, Exchange and SharePoint transports of this
 * process (Microsoft counts per app per tenant, whichever client sends).
 */
export function gateFor(conn: { tenantId: string; clientId: string; authorityHost?: string }): ThrottleGate {
  const key = `${conn.authorityHost ?? 'microsoft'}|${conn.tenantId.toLowerCase()}|${conn.clientId.toLowerCase()}`;
  let g = gates.get(key);
  if (!g) gates.set(key, (g = new ThrottleGate({}, conn.tenantId.toLowerCase())));
  return g;
}
