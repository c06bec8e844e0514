// Everything one running sandbox holds: its tenants, signing key, request log, faults, clock and
// routes. The HTTP server and the in-process admin API both work on a Runtime.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RequestLog } from './requestlog.ts';
import { Faults, type FaultConfig } from './faults.ts';
import { Router } from './router.ts';
import type { Throttler } from './throttle.ts';
import { TenantStore, type TenantSnapshot } from './store.ts';
import { seedTenant } from './seed.ts';
import type { SigningKey } from './auth.ts';
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
