// Microsoft's published Graph throttling, as token buckets:
// - Entra ID (identity and access): resource units per app+tenant per 10 s (S 3,500 / M 5,000 /
//   L 8,000 by tenant size), writes 3,000 per 150 s per app+tenant and 18,000 per 300 s per tenant,
//   with the documented base costs and $select / $expand / $top modifiers;
// - Intune, Teams and Outlook (per app and mailbox) limits.
// timeScale divides every window and every quota by the same factor: the sustained rate (e.g. 20
// writes/s per app+tenant) is unchanged, but a burst reaches the limit after 1/timeScale of the
// requests and a full bucket drains and refills 1/timeScale as long. Retry-After is whole seconds
// at timeScale 1 (as Graph sends it) and fractional seconds otherwise; retry-after-ms is exact.
import type { GraphCall } from './types.ts';
import { GraphError } from './errors.ts';
import type { Caller, Reply } from './types.ts';
import type { RouteDef } from './runtime.ts';
import type { Runtime } from './runtime.ts';
import type { TenantStore } from './store.ts';
import type { Throttler } from './runtime.ts';

class Bucket {
  readonly capacity: number;
  readonly windowMs: number;
  tokens: number;
  last: number;
  constructor(capacity: number, windowMs: number, now: number) {
    this.capacity = capacity;
    this.windowMs = windowMs;
    this.tokens = capacity;
    this.last = now;
  }
  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.capacity) / this.windowMs);
    this.last = now;
  }
  /** ms until `cost` fits, 0 when it fits now (nothing is taken). */
  waitFor(cost: number, now: number): number {
    this.refill(now);
    return this.tokens >= cost ? 0 : ((cost - this.tokens) * this.windowMs) / this.capacity;
  }
  take(cost: number): void {
    this.tokens -= cost;
  }
  usage(): number {
    return (this.capacity - this.tokens) / this.capacity;
  }
}

interface Limit {
  key: string;
  capacity: number;
  windowMs: number;
  cost: number;
  /** x-ms-throttle-scope, e.g. Tenant_Application/ReadWrite/{app}/{tenant} */
  scope: string;
  information: string;
}

/** Documented base resource-unit costs; anything not listed costs 1. */
const RU_COST: Record<string, number> = {
  'GET /applications': 2,
  'GET /applications/:id/extensionProperties': 2,
  'POST /directoryObjects/getByIds': 3,
  'GET /groups/:id/members': 3,
  'GET /groups/:id/transitiveMembers': 5,
  'GET /users/:id/licenseDetails': 2,
  'GET /users/:id/memberOf': 2,
  'GET /users/:id/ownedObjects': 2,
  'GET /users/:id/transitiveMemberOf': 2,
  'GET /servicePrincipals/:id/appRoleAssignments': 2,
  'GET /subscribedSkus': 3,
  'GET /users': 2,
};

/** Writes that do not count against the write quota. */
const NO_WRITE_COST = new Set(['POST /directoryObjects/getByIds']);

export function tenantSize(store: TenantStore): 'S' | 'M' | 'L' {
  const n = store.users.size;
  return n < 50 ? 'S' : n <= 500 ? 'M' : 'L';
}

const RU_CAPACITY = { S: 3500, M: 5000, L: 8000 } as const;

function directoryCost(route: RouteDef, call: GraphCall): { ru: number; write: number } {
  const key = `${route.method} ${route.path}`;
  let ru = RU_COST[key] ?? 1;
  const q = call.query;
  if (q.has('$select') || q.has('select')) ru -= 1;
  if (q.has('$expand') || q.has('expand')) ru += 1;
  const top = Number(q.get('$top') ?? q.get('top') ?? NaN);
  if (!Number.isNaN(top) && top < 20) ru -= 1;
  const write = route.method !== 'GET' && !NO_WRITE_COST.has(key) ? 1 : 0;
  return { ru: Math.max(1, ru), write };
}

function limitsFor(caller: Caller, store: TenantStore, route: RouteDef, call: GraphCall): Limit[] {
  const app = caller.appId;
  const tenant = store.info.id;
  const workload = route.workload ?? 'directory';
  if (workload === 'directory') {
    const { ru, write } = directoryCost(route, call);
    const limits: Limit[] = [
      { key: `ru:${app}:${tenant}`, capacity: RU_CAPACITY[tenantSize(store)], windowMs: 10_000, cost: ru, scope: `Tenant_Application/ReadWrite/${app}/${tenant}`, information: 'ResourceUnitLimitExceeded' },
    ];
    if (write) {
      limits.push(
        { key: `w:${app}:${tenant}`, capacity: 3000, windowMs: 150_000, cost: write, scope: `Tenant_Application/Write/${app}/${tenant}`, information: 'WriteLimitExceeded' },
        { key: `tw:${tenant}`, capacity: 18_000, windowMs: 300_000, cost: write, scope: `Tenant/Write/${app}/${tenant}`, information: 'WriteLimitExceeded' },
      );
    }
    return limits;
  }
  if (workload === 'intune') {
    return [
      { key: `intune:${app}:${tenant}`, capacity: 200, windowMs: 20_000, cost: 1, scope: `Tenant_Application/ReadWrite/${app}/${tenant}`, information: 'IntuneLimitExceeded' },
      { key: `intune:${tenant}`, capacity: 1000, windowMs: 20_000, cost: 1, scope: `Tenant/ReadWrite/${app}/${tenant}`, information: 'IntuneLimitExceeded' },
    ];
  }
  if (workload === 'teams') {
    const createTeam = route.method === 'POST' && /^\/teams$/i.test(route.path);
    const rps = createTeam ? 10 : route.method === 'DELETE' ? 15 : 30;
    return [{ key: `teams:${route.method}:${createTeam}:${app}:${tenant}`, capacity: rps, windowMs: 1000, cost: 1, scope: `Tenant_Application/ReadWrite/${app}/${tenant}`, information: 'TeamsLimitExceeded' }];
  }
  if (workload === 'outlook') {
    // Per app and mailbox: 10,000 requests per 10 minutes.
    const mailbox = /^\/users\/([^/]+)/i.exec(call.path)?.[1]?.toLowerCase() ?? 'tenant';
    return [{ key: `outlook:${app}:${mailbox}`, capacity: 10_000, windowMs: 600_000, cost: 1, scope: `Application_Mailbox/ReadWrite/${app}/${mailbox}`, information: 'MailboxConcurrency' }];
  }
  return [];
}

/** Formats Retry-After: whole seconds at real time; fractional seconds when time is scaled. */
export function retryAfterValue(ms: number, timeScale: number): string {
  if (timeScale === 1) return String(Math.max(1, Math.ceil(ms / 1000)));
  return String(Math.max(0.001, Math.ceil(ms) / 1000));
}

export function createThrottler(rt: Runtime): Throttler {
  let buckets = new Map<string, Bucket>();
  rt.onReset.push(() => {
    buckets = new Map();
    rt.heldThrottleMs = undefined;
  });
  const bucket = (l: Limit, now: number): Bucket => {
    const scale = rt.opts.timeScale;
    const windowMs = l.windowMs / scale;
    const capacity = Math.max(5, l.capacity / scale);
    let b = buckets.get(l.key);
    if (!b || b.capacity !== capacity || b.windowMs !== windowMs) {
      b = new Bucket(capacity, windowMs, now);
      buckets.set(l.key, b);
    }
    return b;
  };
  return {
    check(caller, store, route, call) {
      if (!rt.opts.throttling) return undefined;
      const now = rt.throttleNow();
      const limits = limitsFor(caller, store, route, call);
      let worst: { wait: number; limit: Limit } | undefined;
      for (const l of limits) {
        const wait = bucket(l, now).waitFor(l.cost, now);
        if (wait > 0 && (!worst || wait > worst.wait)) worst = { wait, limit: l };
      }
      if (worst) {
        const retryAfter = retryAfterValue(worst.wait, rt.opts.timeScale);
        return {
          status: 429,
          headers: {
            'retry-after': retryAfter,
            'retry-after-ms': String(Math.ceil(worst.wait)),
            'x-ms-throttle-scope': worst.limit.scope,
            'x-ms-throttle-information': worst.limit.information,
          },
          body: new GraphError(429, 'TooManyRequests', 'Too many requests. Please retry again later.'),
        };
      }
      let maxUsage = 0;
      for (const l of limits) {
        const b = bucket(l, now);
        b.take(l.cost);
        maxUsage = Math.max(maxUsage, b.usage());
      }
      const headers: Record<string, string> = {};
      const ru = limits.find((l) => l.key.startsWith('ru:'));
      if (ru) headers['x-ms-resource-unit'] = String(ru.cost);
      if (maxUsage > 0.8) headers['x-ms-throttle-limit-percentage'] = maxUsage.toFixed(1);
      // Success headers ride on the route's answer: returned as a 0-status marker.
      return { status: 0, headers };
    },
    usage() {
      const out: Record<string, number> = {};
      const now = performance.now();
      for (const [k, b] of buckets) {
        b.waitFor(0, now);
        out[k] = Math.round(b.usage() * 1000) / 1000;
      }
      return out;
    },
  };
}
