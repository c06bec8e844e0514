// Everything one running sandbox holds: its tenants, signing key, request log, faults, clock and
// routes. The HTTP server and the in-process admin API both work on a Runtime.
import { ChangeFeed } from './changes.ts';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RequestLog } from './requestlog.ts';
import { Faults, type FaultConfig } from './faults.ts';
import { TenantStore, type TenantSnapshot } from './store.ts';
import { seedTenant } from './seed.ts';
import type { Caller, GraphCall, Reply, SigningKey, Workload } from './types.ts';
import { GraphError } from './errors.ts';
import { WebhookSink } from './webhooks.ts';

export interface RuntimeOptions {
  seed: number;
  users: number;
  timeScale: number;
  throttling: boolean;
  statePath?: string;
  faults?: FaultConfig;
  log: (msg: string) => void;
}

export interface DemoCredentials {
  tenantId: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  displayName: string;
}

interface StateFile {
  version: 1;
  seed: number;
  users: number;
  defaultTenantId: string;
  demo: DemoCredentials;
  tenants: TenantSnapshot[];
}

export class Runtime {
  readonly opts: RuntimeOptions;
  readonly log = new RequestLog();
  readonly faults = new Faults();
  readonly graph = new Router();
  readonly signing: SigningKey;
  readonly tenants = new Map<string, TenantStore>();
  /** What arrived at ${url}/_webhooks/{name} (notification tests). */
  readonly webhooks = new WebhookSink();
  /** User changes: /users/delta and change notifications (changes.ts, graph/subscriptions.ts). */
  readonly changes = new ChangeFeed();
  demo!: DemoCredentials;
  defaultTenantId = '';
  baseUrl = '';
  /** Shifts the sandbox's clock (admin API), e.g. to expire deleted items or tokens. */
  clockOffsetMs = 0;
  /** Microsoft's throttling limits (throttle.ts). */
  throttler?: Throttler;
  /** Hooks areas register to react to reset (e.g. throttle buckets). */
  readonly onReset: (() => void)[] = [];

  constructor(opts: RuntimeOptions, signing: SigningKey) {
    this.opts = opts;
    this.signing = signing;
    if (opts.faults) this.faults.set(opts.faults);
    if (!this.loadState()) this.reseed(opts.seed, opts.users);
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Set while tests hold the throttle buckets' time still (admin.holdThrottleTime). */
  heldThrottleMs: number | undefined;
  /** The throttle buckets' monotonic time: real time, or held still and moved only by advanceClock. */
  throttleNow(): number {
    return this.heldThrottleMs ?? performance.now();
  }

  get store(): TenantStore {
    return this.tenants.get(this.defaultTenantId)!;
  }

  /** A tenant by id or by any of its verified domains. */
  tenant(idOrDomain: string): TenantStore | undefined {
    const key = idOrDomain.toLowerCase();
    const byId = this.tenants.get(key);
    if (byId) return byId;
    for (const t of this.tenants.values()) if (t.info.verifiedDomains.includes(key)) return t;
    return undefined;
  }

  /** Replaces all tenants with a freshly seeded demo tenant and clears log and counters. */
  reseed(seed = this.opts.seed, users = this.opts.users): void {
    const started = Date.now();
    const { store, demoApp } = seedTenant({ seed, users, nowMs: this.now() });
    this.tenants.clear();
    this.tenants.set(store.info.id, store);
    this.defaultTenantId = store.info.id;
    this.opts.seed = seed;
    this.opts.users = users;
    this.demo = {
      tenantId: store.info.id,
      domain: store.info.defaultDomain,
      clientId: demoApp.clientId,
      clientSecret: demoApp.clientSecret,
      displayName: store.info.displayName,
    };
    this.log.clear();
    this.webhooks.clear();
    for (const hook of this.onReset) hook();
    this.opts.log(`sandbox: seeded tenant ${store.info.displayName} (${store.users.size} users, ${store.groups.size} groups) from seed ${seed} in ${Date.now() - started} ms`);
  }

  /** Adds another seeded tenant (MSP scenarios); its demo app credentials come back. */
  addTenant(seed: number, users: number, domainName: string, displayName?: string): DemoCredentials {
    const { store, demoApp } = seedTenant({ seed, users, domainName, displayName, nowMs: this.now() });
    if (this.tenant(store.info.defaultDomain)) throw new Error(`a tenant with domain ${store.info.defaultDomain} already exists`);
    this.tenants.set(store.info.id, store);
    return { tenantId: store.info.id, domain: store.info.defaultDomain, clientId: demoApp.clientId, clientSecret: demoApp.clientSecret, displayName: store.info.displayName };
  }

  exportState(): StateFile {
    return {
      version: 1,
      seed: this.opts.seed,
      users: this.opts.users,
      defaultTenantId: this.defaultTenantId,
      demo: this.demo,
      tenants: [...this.tenants.values()].map((t) => t.snapshot()),
    };
  }

  importState(state: StateFile): void {
    this.tenants.clear();
    for (const snap of state.tenants) this.tenants.set(snap.info.id, TenantStore.fromSnapshot(snap));
    this.defaultTenantId = state.defaultTenantId;
    this.demo = state.demo;
    this.opts.seed = state.seed;
    this.opts.users = state.users;
  }

  private stateFile(): string | undefined {
    return this.opts.statePath ? join(this.opts.statePath, 'state.json') : undefined;
  }

  private loadState(): boolean {
    const file = this.stateFile();
    if (!file || !existsSync(file)) return false;
    this.importState(JSON.parse(readFileSync(file, 'utf8')) as StateFile);
    this.opts.log(`sandbox: loaded state from ${file}`);
    return true;
  }

  /** Writes the state file atomically (no-op without statePath). */
  saveState(): void {
    const file = this.stateFile();
    if (!file) return;
    mkdirSync(this.opts.statePath!, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(this.exportState()));
    renameSync(`${file}.tmp`, file);
  }
}

// Route table shared by the Graph surface and $batch: a handler takes a request context and returns
// a reply (or throws GraphError), so a batch item runs exactly the code a direct call runs.

export interface Ctx {
  method: string;
  /** Resource path after the version segment, e.g. /users/1234/memberOf */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
  version: 'v1.0' | 'beta';
  /** e.g. https://127.0.0.1:4443/v1.0, for @odata.context and @odata.nextLink */
  serviceRoot: string;
  store: TenantStore;
  rt: Runtime;
  caller: Caller;
  requestId: string;
  clientRequestId: string;
  nowMs: number;
  nowIso: string;
  /** Records a successful write so tests can count it (`op` e.g. user.create). */
  mutated(op: string, ...objectIds: string[]): void;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  /** Any one of these application permissions grants access; [] means any valid token. */
  permissions: readonly string[];
  workload?: Workload;
  /** beta-only routes answer 400 on v1.0, like Graph does for a segment v1.0 lacks. */
  betaOnly?: boolean;
  /** Overrides the 403 body (non-directory workloads do not answer Authorization_RequestDenied). */
  denied?: (route: RouteDef, caller: Caller) => GraphError;
  handler: (ctx: Ctx) => Reply | Promise<Reply>;
}

interface CompiledRoute extends RouteDef {
  segs: string[];
}

export interface RouteMatch {
  route: CompiledRoute;
  params: Record<string, string>;
}

/** Splits a Graph path into decoded segments; `users('id')` is the same as `users/id`. */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    if (!raw) continue;
    const seg = decodeURIComponent(raw);
    const keyed = /^([^(]+)\('?([^')]*)'?\)$/.exec(seg);
    if (keyed) out.push(keyed[1]!, keyed[2]!);
    else out.push(seg);
  }
  return out;
}

function literalMatches(literal: string, seg: string): boolean {
  const s = seg.toLowerCase();
  const l = literal.toLowerCase();
  return s === l || s === `microsoft.graph.${l}`;
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(...defs: RouteDef[]): void {
    for (const def of defs) this.routes.push({ ...def, segs: splitPath(def.path) });
  }

  /** Returns the match, 'method' when the path exists under another verb, or undefined. */
  match(method: string, path: string): RouteMatch | 'method' | undefined {
    const segs = splitPath(path);
    let pathExists = false;
    let best: RouteMatch | undefined;
    let bestLiterals = -1;
    for (const route of this.routes) {
      if (route.segs.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let literals = 0;
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const r = route.segs[i]!;
        if (r.startsWith(':')) params[r.slice(1)] = segs[i]!;
        else if (literalMatches(r, segs[i]!)) literals++;
        else {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathExists = true;
      // The most specific route wins: /users/delta beats /users/:id.
      if (route.method === method && literals > bestLiterals) {
        best = { route, params };
        bestLiterals = literals;
      }
    }
    if (best) return best;
    return pathExists ? 'method' : undefined;
  }
}

export interface Throttler {
  check(caller: Caller, store: TenantStore, route: RouteDef, call: GraphCall): Reply | undefined;
  /** Usage of every bucket (0..1+), for the admin API and benchmarks. */
  usage(): Record<string, number>;
}
