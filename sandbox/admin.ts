// The sandbox's own control surface (not part of Microsoft 365): reset and reseed, faults and
// limits, app registrations with chosen permissions, state export, request log, mutation counts.
// SandboxAdmin is the in-process API; handleAdmin serves the same under /_admin over HTTP.
import type { FaultConfig, ScriptedFault } from './faults.ts';
import type { MutationFilter, MutationRecord, RequestLogEntry } from './requestlog.ts';
import type { DemoCredentials, Runtime } from './runtime.ts';
import type { TenantStore, User } from './store.ts';
import { ALL_PERMISSIONS } from './permissions.ts';
import type { WebhookDelivery, WebhookResponse } from './webhooks.ts';
import { sentMailLog, type SentMail } from './graph/mail.ts';
import { enrollDevice, type DeviceOs, type ManagedDevice } from './graph/devices.ts';
import { publishDnsRecord, type DnsRecord } from './graph/domains.ts';
import { QUARANTINE_TYPES, quarantineMessage, type QuarantinedMessage, type QuarantineType } from './exchange/quarantine.ts';
import type { DirectorySync, DirectorySyncConfig, DirectorySyncStatus, SyncReport } from './directory-sync.ts';
import { generateCertificate } from './certificates.ts';
import { subscriptionAdmin } from './graph/subscriptions.ts';
import { addCertificate, certificatesOf, overrideNextIdToken, removeCertificate, setRedirectUris, type AppCertificate } from './oidc.ts';

export interface AppCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  displayName: string;
  permissions: string[];
}

export interface LimitsConfig {
  throttling?: boolean;
  timeScale?: number;
}

export interface RequestLogFilter {
  since?: number;
  surface?: string;
  path?: string;
  method?: string;
}

export interface SandboxAdmin {
  /** Back to the seeded tenant the sandbox started with (or another seed / size); clears log and counters. */
  reset(opts?: { seed?: number; users?: number }): void;
  /** The default tenant's state, for direct inspection in tests. */
  readonly store: TenantStore;
  findUser(idOrUpn: string): User | undefined;
  setFaults(config: FaultConfig): void;
  updateFaults(partial: FaultConfig): void;
  /** Fails the next matching request(s) on purpose, e.g. { status: 503, match: '^POST /v1.0/users$' }. */
  failNext(fault: ScriptedFault): void;
  faults(): FaultConfig;
  setLimits(limits: LimitsConfig): void;
  limits(): Required<LimitsConfig>;
  /** How full each throttling bucket is (0..1), keyed by limit and app / tenant. */
  throttleUsage(): Record<string, number>;
  /** A new app registration in a tenant (default: the demo tenant) with exactly these application permissions. */
  createApp(opts: { permissions: string[]; displayName?: string; tenantId?: string; redirectUris?: string[] }): AppCredentials;
  setAppPermissions(clientId: string, permissions: string[], tenantId?: string): void;
  /** Uploads a certificate (PEM, public part only is kept) to an app: client assertions signed with its key sign in. */
  addAppCertificate(clientId: string, certificatePem: string, opts?: { tenantId?: string; displayName?: string }): Omit<AppCertificate, 'certificatePem'>;
  appCertificates(clientId: string, tenantId?: string): Omit<AppCertificate, 'certificatePem'>[];
  /**
   * Makes a self-signed certificate, registers it on the app and returns it with its private key
   * (shown only here; the sandbox keeps the certificate alone): a certificate connection in one call.
   */
  createAppCertificate(clientId: string, opts?: { tenantId?: string; displayName?: string }): Omit<AppCertificate, 'certificatePem'> & { pem: string };
  removeAppCertificate(clientId: string, keyId: string, tenantId?: string): void;
  /** The web redirect URIs of an app (user sign-in): the authorize endpoint refuses any other. */
  setAppRedirectUris(clientId: string, redirectUris: string[], tenantId?: string): void;
  /** The next ID token the tenant issues carries these claims instead (tests of relying parties: another aud, an old exp...). */
  overrideNextIdToken(claims: Record<string, unknown>, tenantId?: string): void;
  /** Another seeded tenant, for MSP scenarios. */
  addTenant(opts: { seed: number; users?: number; domainName: string; displayName?: string }): DemoCredentials;
  requestLog(filter?: RequestLogFilter): RequestLogEntry[];
  mutations(filter?: MutationFilter): MutationRecord[];
  mutationCount(filter?: MutationFilter): number;
  mutationSummary(filter?: MutationFilter): Record<string, number>;
  /** Moves the sandbox clock forward (token expiry, deleted-item retention, delays; held throttle time too). */
  advanceClock(seconds: number): void;
  /**
   * Holds the throttle buckets' time still (true) until released (false) or reset: quotas then
   * refill only by advanceClock, so a test of a burst does not depend on how fast the machine is.
   */
  holdThrottleTime(hold: boolean): void;
  exportState(): unknown;
  importState(state: unknown): void;
  /** Writes the state file now (no-op without statePath). */
  saveState(): void;
  /** `${url}/_webhooks/{name}`: a webhook URL whose deliveries webhooks(name) lists. */
  webhookUrl(name: string): string;
  webhooks(name?: string): WebhookDelivery[];
  /** The next request(s) to a webhook get this answer (e.g. { status: 429, headers: { 'retry-after': '1' } }). */
  scriptWebhook(name: string, response: WebhookResponse): void;
  clearWebhooks(): void;
  /**
   * Graph change notifications (graph/subscriptions.ts): the subscriptions, the notifications sent
   * (newest last), pause(true) to stop delivering (the receiver is unreachable; /users/delta still
   * has the changes), and lifecycle(id, event) to send a lifecycle notification.
   */
  notifications: ReturnType<typeof subscriptionAdmin>;
  /** Mail sent through Graph sendMail in a tenant (default: the demo tenant), oldest first. */
  sentMail(filter?: { from?: string; to?: string; tenantId?: string }): SentMail[];
  /** The directory sync agent (Entra Connect's part in a hybrid tenant): configure, run a cycle, status. */
  directorySync: {
    configure(config: DirectorySyncConfig | null): void;
    run(): Promise<SyncReport>;
    status(): DirectorySyncStatus;
  };
  /** Enrols a new Intune managed device for a user (e.g. a new hire's laptop). */
  enrollDevice(opts: { user: string; operatingSystem: DeviceOs; deviceName?: string; tenantId?: string }): ManagedDevice;
  /** Publishes a record in the sandbox's public DNS (what a domain owner adds at their DNS host), for domain verification. */
  publishDnsRecord(domain: string, record: DnsRecord): void;
  /** Holds an inbound message in Exchange Online Protection's quarantine (as spam by default), as filtering would. */
  quarantineMessage(opts: { to: string[]; from: string; subject: string; type?: QuarantineType; body?: string; tenantId?: string }): QuarantinedMessage;
}

export function createAdmin(rt: Runtime, sync: DirectorySync): SandboxAdmin {
  const tenantOf = (tenantId?: string): TenantStore => {
    const t = tenantId ? rt.tenant(tenantId) : rt.store;
    if (!t) throw new AdminError(404, `no tenant ${tenantId}`);
    return t;
  };
  return {
    reset: (opts) => rt.reseed(opts?.seed ?? rt.opts.seed, opts?.users ?? rt.opts.users),
    get store() {
      return rt.store;
    },
    findUser: (idOrUpn) => rt.store.findUser(idOrUpn),
    directorySync: {
      configure: (config) => {
        try {
          sync.configure(config);
        } catch (err) {
          throw new AdminError(400, (err as Error).message);
        }
      },
      run: () => sync.run(),
      status: () => sync.status(),
    },
    setFaults: (config) => rt.faults.set(config),
    updateFaults: (partial) => rt.faults.update(partial),
    failNext: (fault) => rt.faults.script(fault),
    faults: () => rt.faults.snapshot(),
    setLimits: (limits) => {
      if (limits.throttling !== undefined) rt.opts.throttling = limits.throttling;
      if (limits.timeScale !== undefined) {
        if (!(limits.timeScale > 0)) throw new AdminError(400, 'timeScale must be a positive number');
        rt.opts.timeScale = limits.timeScale;
      }
      for (const hook of rt.onReset) hook();
    },
    limits: () => ({ throttling: rt.opts.throttling, timeScale: rt.opts.timeScale }),
    throttleUsage: () => rt.throttler?.usage() ?? {},
    createApp: (opts) => {
      const store = tenantOf(opts.tenantId);
      const unknown = opts.permissions.filter((p) => !ALL_PERMISSIONS.includes(p));
      if (unknown.length) throw new AdminError(400, `unknown permissions: ${unknown.join(', ')} (known: ${ALL_PERMISSIONS.join(', ')})`);
      const app = store.createApp({ displayName: opts.displayName ?? 'Test app', permissions: opts.permissions, nowMs: rt.now() });
      if (opts.redirectUris) setRedirectUris(store, app.appId, opts.redirectUris);
      return { tenantId: store.info.id, clientId: app.appId, clientSecret: app.secrets[0]!.secretText, displayName: app.displayName, permissions: app.permissions };
    },
    setAppPermissions: (clientId, permissions, tenantId) => {
      const app = tenantOf(tenantId).appByClientId(clientId);
      if (!app) throw new AdminError(404, `no app ${clientId}`);
      app.permissions = [...new Set(permissions)];
    },
    addAppCertificate: (clientId, pem, opts = {}) => {
      const store = tenantOf(opts.tenantId);
      const app = store.appByClientId(clientId);
      if (!app) throw new AdminError(404, `no app ${clientId}`);
      try {
        const { certificatePem: _, ...view } = addCertificate(store, app, pem, opts.displayName);
        return view;
      } catch (err) {
        throw new AdminError(400, (err as Error).message);
      }
    },
    createAppCertificate(clientId, opts = {}) {
      const made = generateCertificate(opts.displayName ?? `Tenantflow sandbox ${clientId.slice(0, 8)}`, { nowMs: rt.now() });
      return { ...this.addAppCertificate(clientId, made.certificatePem, opts), pem: made.pem };
    },
    appCertificates: (clientId, tenantId) => certificatesOf(tenantOf(tenantId), clientId).map(({ certificatePem: _, ...view }) => view),
    removeAppCertificate: (clientId, keyId, tenantId) => {
      if (!removeCertificate(tenantOf(tenantId), clientId.toLowerCase(), keyId)) throw new AdminError(404, `app ${clientId} has no certificate ${keyId}`);
    },
    setAppRedirectUris: (clientId, uris, tenantId) => {
      const store = tenantOf(tenantId);
      if (!store.appByClientId(clientId)) throw new AdminError(404, `no app ${clientId}`);
      try {
        setRedirectUris(store, clientId, uris);
      } catch (err) {
        throw new AdminError(400, (err as Error).message);
      }
    },
    overrideNextIdToken: (claims, tenantId) => overrideNextIdToken(tenantOf(tenantId), claims),
    addTenant: (opts) => rt.addTenant(opts.seed, opts.users ?? 20, opts.domainName, opts.displayName),
    requestLog: (filter) => rt.log.requests(filter),
    mutations: (filter) => rt.log.mutations(filter),
    mutationCount: (filter) => rt.log.mutationCount(filter),
    mutationSummary: (filter) => rt.log.mutationSummary(filter),
    advanceClock: (seconds) => {
      rt.clockOffsetMs += seconds * 1000;
      if (rt.heldThrottleMs !== undefined) rt.heldThrottleMs += seconds * 1000;
    },
    holdThrottleTime: (hold) => {
      rt.heldThrottleMs = hold ? performance.now() : undefined;
    },
    exportState: () => rt.exportState(),
    importState: (state) => rt.importState(state as ReturnType<Runtime['exportState']>),
    saveState: () => rt.saveState(),
    webhookUrl: (name) => `${rt.baseUrl}/_webhooks/${encodeURIComponent(name)}`,
    webhooks: (name) => rt.webhooks.list(name),
    scriptWebhook: (name, response) => {
      try {
        rt.webhooks.script(name, response);
      } catch (err) {
        throw new AdminError(400, (err as Error).message);
      }
    },
    clearWebhooks: () => rt.webhooks.clear(),
    notifications: subscriptionAdmin(rt),
    enrollDevice: (opts) => {
      const store = tenantOf(opts.tenantId);
      const user = store.findUser(opts.user);
      if (!user) throw new AdminError(404, `no user ${opts.user}`);
      if (!['Windows', 'macOS', 'iOS', 'Android'].includes(opts.operatingSystem)) throw new AdminError(400, 'operatingSystem must be Windows, macOS, iOS or Android');
      return enrollDevice(store, user, opts.operatingSystem, rt.now(), opts.deviceName);
    },
    publishDnsRecord: (domain, record) => {
      try {
        publishDnsRecord(rt, domain, record);
      } catch (err) {
        throw new AdminError(400, (err as Error).message);
      }
    },
    quarantineMessage: (opts) => {
      const ok = Array.isArray(opts.to) && opts.to.length > 0 && opts.to.every((t) => typeof t === 'string') && typeof opts.from === 'string' && typeof opts.subject === 'string';
      if (!ok) throw new AdminError(400, 'quarantineMessage needs { to: [addresses], from, subject, type? }');
      if (opts.type !== undefined && !QUARANTINE_TYPES.includes(opts.type)) throw new AdminError(400, `type must be one of ${QUARANTINE_TYPES.join(', ')}`);
      return quarantineMessage(tenantOf(opts.tenantId), rt.now(), opts);
    },
    sentMail: (filter = {}) => {
      const has = (list: string[], a: string) => list.some((x) => x.toLowerCase() === a.toLowerCase());
      return sentMailLog(tenantOf(filter.tenantId)).filter(
        (m) => (!filter.from || m.from.toLowerCase() === filter.from.toLowerCase()) && (!filter.to || has([...m.toRecipients, ...m.ccRecipients, ...m.bccRecipients], filter.to)),
      );
    },
  };
}

export class AdminError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const obj = (body: unknown): Record<string, unknown> => (body && typeof body === 'object' ? (body as Record<string, unknown>) : {});

function mutationFilter(q: URLSearchParams): MutationFilter {
  const f: MutationFilter = {};
  for (const k of ['objectId', 'op', 'path', 'tenantId', 'appId'] as const) {
    const v = q.get(k);
    if (v) f[k] = v;
  }
  return f;
}

/** HTTP mirror of SandboxAdmin under /_admin. */
type AdminReply = { status: number; body?: unknown };

export function handleAdmin(admin: SandboxAdmin, rt: Runtime, method: string, path: string, query: URLSearchParams, body: unknown): AdminReply | Promise<AdminReply> {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  // The directory sync agent: GET status, PUT configuration (null body fields: off), POST /run: one cycle now.
  if (route === 'GET /_admin/sync') return { status: 200, body: admin.directorySync.status() };
  if (route === 'PUT /_admin/sync') {
    admin.directorySync.configure(body && typeof body === 'object' && Object.keys(body).length ? (body as DirectorySyncConfig) : null);
    return { status: 200, body: admin.directorySync.status() };
  }
  if (route === 'POST /_admin/sync/run')
    return admin.directorySync.run().then(
      (report) => ({ status: 200, body: report }),
      (err: Error) => ({ status: 502, body: { error: `directory sync failed: ${err.message}` } }),
    );
  const b = obj(body);
  switch (route) {
    case 'GET /_admin':
    case 'GET /_admin/info':
      return {
        status: 200,
        body: { url: rt.baseUrl, graphBaseUrl: `${rt.baseUrl}/v1.0`, exchangeBaseUrl: `${rt.baseUrl}/adminapi/beta/${rt.demo.tenantId}`, tenant: rt.demo, tenants: [...rt.tenants.values()].map((t) => t.info), limits: admin.limits(), faults: admin.faults() },
      };
    case 'POST /_admin/reset':
      admin.reset({ seed: typeof b['seed'] === 'number' ? b['seed'] : undefined, users: typeof b['users'] === 'number' ? b['users'] : undefined });
      return { status: 200, body: { tenant: rt.demo } };
    case 'POST /_admin/seed':
      if (typeof b['seed'] !== 'number') throw new AdminError(400, 'seed (number) is required');
      admin.reset({ seed: b['seed'], users: typeof b['users'] === 'number' ? b['users'] : undefined });
      return { status: 200, body: { tenant: rt.demo } };
    case 'GET /_admin/faults':
      return { status: 200, body: admin.faults() };
    case 'PUT /_admin/faults':
      admin.setFaults(b as FaultConfig);
      return { status: 200, body: admin.faults() };
    case 'PATCH /_admin/faults':
      admin.updateFaults(b as FaultConfig);
      return { status: 200, body: admin.faults() };
    case 'POST /_admin/faults/next':
      admin.failNext(b as unknown as ScriptedFault);
      return { status: 200, body: admin.faults() };
    case 'GET /_admin/limits':
      return { status: 200, body: { ...admin.limits(), usage: admin.throttleUsage() } };
    case 'PUT /_admin/limits':
    case 'PATCH /_admin/limits':
      admin.setLimits(b as LimitsConfig);
      return { status: 200, body: admin.limits() };
    case 'POST /_admin/apps': {
      if (!Array.isArray(b['permissions'])) throw new AdminError(400, 'permissions (array of application permission names) is required');
      return { status: 201, body: admin.createApp({ permissions: b['permissions'] as string[], displayName: b['displayName'] as string | undefined, tenantId: b['tenantId'] as string | undefined, redirectUris: b['redirectUris'] as string[] | undefined }) };
    }
    case 'POST /_admin/tenants': {
      if (typeof b['seed'] !== 'number' || typeof b['domainName'] !== 'string') throw new AdminError(400, 'seed (number) and domainName (string) are required');
      return { status: 201, body: admin.addTenant({ seed: b['seed'], users: b['users'] as number | undefined, domainName: b['domainName'], displayName: b['displayName'] as string | undefined }) };
    }
    case 'GET /_admin/state':
      return { status: 200, body: admin.exportState() };
    case 'PUT /_admin/state':
      admin.importState(body);
      return { status: 204 };
    case 'POST /_admin/state/save':
      admin.saveState();
      return { status: 204 };
    case 'GET /_admin/requests': {
      const since = query.get('since');
      return { status: 200, body: { value: admin.requestLog({ since: since ? Number(since) : undefined, surface: query.get('surface') ?? undefined, path: query.get('path') ?? undefined, method: query.get('method') ?? undefined }) } };
    }
    case 'GET /_admin/mutations': {
      const filter = mutationFilter(query);
      return { status: 200, body: { count: admin.mutationCount(filter), byOp: admin.mutationSummary(filter), value: admin.mutations(filter) } };
    }
    case 'GET /_admin/webhooks':
      return { status: 200, body: { value: admin.webhooks(query.get('name') ?? undefined) } };
    case 'DELETE /_admin/webhooks':
      admin.clearWebhooks();
      return { status: 204 };
    case 'GET /_admin/subscriptions':
      return { status: 200, body: { value: admin.notifications.subscriptions(), deliveries: admin.notifications.deliveries() } };
    case 'PUT /_admin/notifications':
      admin.notifications.pause(b['paused'] === true);
      return { status: 204 };
    case 'POST /_admin/lifecycle': {
      const event = b['lifecycleEvent'];
      if (typeof b['subscriptionId'] !== 'string' || (event !== 'reauthorizationRequired' && event !== 'subscriptionRemoved' && event !== 'missed')) throw new AdminError(400, 'subscriptionId and lifecycleEvent (reauthorizationRequired, subscriptionRemoved, missed) are required');
      return admin.notifications.lifecycle(b['subscriptionId'], event).then(
        (delivery) => ({ status: 200, body: delivery }),
        (err: Error) => ({ status: 404, body: { error: err.message } }),
      );
    }
    case 'POST /_admin/devices':
      return { status: 201, body: admin.enrollDevice(b as unknown as Parameters<SandboxAdmin['enrollDevice']>[0]) };
    case 'POST /_admin/dns':
      admin.publishDnsRecord(String(b['domain'] ?? ''), { type: b['type'] as DnsRecord['type'], value: String(b['value'] ?? '') });
      return { status: 204 };
    case 'POST /_admin/quarantine':
      return { status: 201, body: admin.quarantineMessage(b as unknown as Parameters<SandboxAdmin['quarantineMessage']>[0]) };
    case 'GET /_admin/mail':
      return { status: 200, body: { value: admin.sentMail({ from: query.get('from') ?? undefined, to: query.get('to') ?? undefined, tenantId: query.get('tenantId') ?? undefined }) } };
    case 'POST /_admin/idtoken/next':
      admin.overrideNextIdToken(obj(b['claims']), b['tenantId'] as string | undefined);
      return { status: 204 };
    case 'POST /_admin/clock':
      admin.advanceClock(Number(b['advanceSeconds'] ?? 0));
      return { status: 200, body: { now: new Date(rt.now()).toISOString() } };
  }
  const appPerm = /^PUT \/_admin\/apps\/([^/]+)\/permissions$/.exec(route);
  if (appPerm) {
    if (!Array.isArray(b['permissions'])) throw new AdminError(400, 'permissions (array) is required');
    admin.setAppPermissions(appPerm[1]!, b['permissions'] as string[], b['tenantId'] as string | undefined);
    return { status: 204 };
  }
  const generate = /^POST \/_admin\/apps\/([^/]+)\/certificates\/generate$/.exec(route);
  if (generate) return { status: 201, body: admin.createAppCertificate(generate[1]!, { tenantId: b['tenantId'] as string | undefined, displayName: b['displayName'] as string | undefined }) };
  const appCerts = /^(GET|POST) \/_admin\/apps\/([^/]+)\/certificates$/.exec(route);
  if (appCerts) {
    const tenantId = (b['tenantId'] as string | undefined) ?? query.get('tenantId') ?? undefined;
    if (appCerts[1] === 'GET') return { status: 200, body: { value: admin.appCertificates(appCerts[2]!, tenantId) } };
    if (typeof b['certificate'] !== 'string') throw new AdminError(400, 'certificate (PEM string) is required');
    return { status: 201, body: admin.addAppCertificate(appCerts[2]!, b['certificate'], { tenantId, displayName: b['displayName'] as string | undefined }) };
  }
  const appCert = /^DELETE \/_admin\/apps\/([^/]+)\/certificates\/([^/]+)$/.exec(route);
  if (appCert) {
    admin.removeAppCertificate(appCert[1]!, appCert[2]!, query.get('tenantId') ?? undefined);
    return { status: 204 };
  }
  const appRedirects = /^PUT \/_admin\/apps\/([^/]+)\/redirectUris$/.exec(route);
  if (appRedirects) {
    if (!Array.isArray(b['redirectUris'])) throw new AdminError(400, 'redirectUris (array of absolute URIs) is required');
    admin.setAppRedirectUris(appRedirects[1]!, b['redirectUris'] as string[], b['tenantId'] as string | undefined);
    return { status: 204 };
  }
  const hook = /^PUT \/_admin\/webhooks\/(.+)\/response$/.exec(route);
  if (hook) {
    admin.scriptWebhook(decodeURIComponent(hook[1]!), b as unknown as WebhookResponse);
    return { status: 204 };
  }
  throw new AdminError(404, `no admin route ${route}`);
}
