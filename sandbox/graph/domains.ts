// Domains: /domains list / get / POST (an unverified custom domain), verificationDnsRecords (the
// TXT "MS=ms…" and MX "ms….msv1.invalid" records that prove ownership), verify (looks the record up
// in the sandbox's public DNS, which the admin API publishes to: POST /_admin/dns), PATCH (default
// domain, supported services, password policy), DELETE (refused while users or groups still use the
// domain) and forceDelete (asynchronous: the domain answers with state ForceDelete / InProgress
// until FORCE_DELETE_MS of sandbox clock later its users and groups are renamed to the initial
// domain and it is gone). A verified domain joins the tenant's verified domains: users can be
// created in it and the token endpoint accepts it as the tenant's name.
import { GraphError, badRequest, notFound } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import { P } from '../permissions.ts';
import type { Ctx, Router, Runtime } from '../runtime.ts';
import type { TenantStore, User } from '../store.ts';
import { bodyObject, collection, entity, odataContext } from './common.ts';

const READ = ['Domain.Read.All', 'Domain.ReadWrite.All', ...P.directoryRead];
const WRITE = ['Domain.ReadWrite.All', ...P.directoryWrite];

/** How long an asynchronous forceDelete takes (sandbox clock, divided by timeScale). */
export const FORCE_DELETE_MS = 4_000;
/** forceDelete renames at most this many objects, as Microsoft documents. */
const MAX_RENAMES = 1000;

const SERVICES = ['Email', 'Sharepoint', 'EmailInternalRelayOnly', 'OfficeCommunicationsOnline', 'SharePointDefaultDomain', 'FullRedelegation', 'SharePointPublic', 'OrgIdAuthentication', 'Yammer', 'Intune'];

interface CustomDomain {
  id: string;
  isVerified: boolean;
  supportedServices: string[];
  passwordValidityPeriodInDays: number | null;
  passwordNotificationWindowInDays: number | null;
  /** ms########: the value of the verification records. */
  verificationCode: string;
  createdMs: number;
  forceDelete?: { startedMs: number; disableUserAccounts: boolean };
}

const DOMAIN_TYPE: TypeInfo = {
  name: 'microsoft.graph.domain',
  properties: new Set(['id', 'authenticationType', 'availabilityStatus', 'isAdminManaged', 'isDefault', 'isInitial', 'isRoot', 'isVerified', 'supportedServices', 'passwordValidityPeriodInDays', 'passwordNotificationWindowInDays', 'state']),
};

const WRITABLE = new Set(['isDefault', 'supportedServices', 'passwordValidityPeriodInDays', 'passwordNotificationWindowInDays']);

// ---- the sandbox's public DNS (one internet for every tenant of a runtime) ----

export interface DnsRecord {
  type: 'TXT' | 'MX';
  value: string;
}

const zones = new WeakMap<Runtime, Map<string, DnsRecord[]>>();

function zone(rt: Runtime): Map<string, DnsRecord[]> {
  let z = zones.get(rt);
  if (!z) {
    zones.set(rt, (z = new Map()));
    rt.onReset.push(() => z!.clear());
  }
  return z;
}

/** Admin API: what a domain's owner would add at their DNS host. */
export function publishDnsRecord(rt: Runtime, domain: string, record: DnsRecord): void {
  if (record.type !== 'TXT' && record.type !== 'MX') throw new Error('type must be TXT or MX');
  if (!record.value) throw new Error('value is required');
  const key = domain.toLowerCase();
  const list = zone(rt).get(key) ?? [];
  zone(rt).set(key, [...list.filter((r) => !(r.type === record.type && r.value === record.value)), record]);
}

export function dnsRecords(rt: Runtime, domain: string): DnsRecord[] {
  return zone(rt).get(domain.toLowerCase()) ?? [];
}

// ---- tenant domains ----

const custom = (store: TenantStore): Record<string, CustomDomain> => store.tenantState('customDomains', () => ({}));

const isDomainName = (s: string): boolean => s.length <= 253 && /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(s);

/** The root domain a subdomain belongs to, if the tenant has verified it. */
function verifiedParent(store: TenantStore, name: string): string | undefined {
  return store.info.verifiedDomains.find((d) => name.endsWith(`.${d}`));
}

function view(ctx: Ctx, name: string): Record<string, unknown> {
  const info = ctx.store.info;
  const c = custom(ctx.store)[name];
  const verified = info.verifiedDomains.includes(name);
  return {
    id: name,
    authenticationType: 'Managed',
    availabilityStatus: null,
    isAdminManaged: true,
    isDefault: name === info.defaultDomain,
    isInitial: name === info.initialDomain,
    isRoot: !verifiedParent(ctx.store, name),
    isVerified: verified,
    supportedServices: c ? c.supportedServices : name === info.initialDomain ? ['Email', 'OfficeCommunicationsOnline'] : ['Email', 'OfficeCommunicationsOnline', 'Intune'],
    passwordValidityPeriodInDays: c?.passwordValidityPeriodInDays ?? 2147483647,
    passwordNotificationWindowInDays: c?.passwordNotificationWindowInDays ?? 14,
    state: c?.forceDelete ? { status: 'InProgress', operation: 'ForceDelete', lastActionDateTime: new Date(c.forceDelete.startedMs).toISOString() } : null,
  };
}

/** Objects that still use the domain: users by UPN, mail or proxy address, groups by mail. */
function referencesOf(store: TenantStore, name: string): { users: User[]; groups: number } {
  const uses = (addr: string | null) => !!addr && addr.toLowerCase().replace(/^smtp:/, '').endsWith(`@${name}`);
  const users = [...store.users.values()].filter((u) => uses(u.userPrincipalName) || uses(u.mail) || u.proxyAddresses.some(uses));
  const groups = [...store.groups.values()].filter((g) => uses(g.mail) || g.proxyAddresses.some(uses)).length;
  return { users, groups };
}

/** Finishes force deletions whose time has come: references move to the initial domain, the domain goes. */
function settle(ctx: Ctx): void {
  const delay = FORCE_DELETE_MS / ctx.rt.opts.timeScale;
  for (const c of Object.values(custom(ctx.store))) {
    if (!c.forceDelete || ctx.nowMs - c.forceDelete.startedMs < delay) continue;
    const initial = ctx.store.info.initialDomain;
    const move = (addr: string) => addr.replace(new RegExp(`@${c.id.replace(/\./g, '\\.')}$`, 'i'), `@${initial}`);
    for (const u of referencesOf(ctx.store, c.id).users) {
      const before = { userPrincipalName: u.userPrincipalName, mail: u.mail, proxyAddresses: [...u.proxyAddresses], _managerId: u._managerId, assignedLicenses: u.assignedLicenses };
      u.userPrincipalName = move(u.userPrincipalName);
      u.mail = u.mail ? move(u.mail) : u.mail;
      u.proxyAddresses = u.proxyAddresses.map(move);
      if (c.forceDelete.disableUserAccounts) u.accountEnabled = false;
      ctx.store.updateUser(u, before);
    }
    for (const g of ctx.store.groups.values()) {
      const before = { mail: g.mail, proxyAddresses: [...g.proxyAddresses] };
      if (!g.mail?.toLowerCase().endsWith(`@${c.id}`) && !g.proxyAddresses.some((p) => p.toLowerCase().endsWith(`@${c.id}`))) continue;
      g.mail = g.mail ? move(g.mail) : g.mail;
      g.proxyAddresses = g.proxyAddresses.map(move);
      ctx.store.updateGroup(g, before);
    }
    removeDomain(ctx.store, c.id);
  }
}

function removeDomain(store: TenantStore, name: string): void {
  delete custom(store)[name];
  store.info.verifiedDomains = store.info.verifiedDomains.filter((d) => d !== name);
}

function exists(store: TenantStore, name: string): boolean {
  return store.info.verifiedDomains.includes(name) || !!custom(store)[name];
}

function requireDomain(ctx: Ctx): string {
  settle(ctx);
  const name = ctx.params['id']!.toLowerCase();
  if (!exists(ctx.store, name)) throw notFound(name);
  return name;
}

function verificationRecords(name: string, code: string): Record<string, unknown>[] {
  return [
    { '@odata.type': '#microsoft.graph.domainDnsTxtRecord', id: `aceff52c-06a5-447f-ac5f-${code.slice(2).padStart(12, '0')}`, isOptional: false, label: name, recordType: 'Txt', supportedService: 'Email', ttl: 3600, text: `MS=${code}` },
    { '@odata.type': '#microsoft.graph.domainDnsMxRecord', id: `5fbde38c-0865-497f-82b1-${code.slice(2).padStart(12, '0')}`, isOptional: false, label: name, recordType: 'Mx', supportedService: 'Email', ttl: 3600, mailExchange: `${code}.msv1.invalid`, preference: 32767 },
  ];
}

/** The eight digits Entra gives a domain for its verification records (stable per tenant and name). */
function codeFor(store: TenantStore, name: string): string {
  let h = 0x811c9dc5;
  for (const ch of `${store.info.id}|${name}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `ms${String(h % 100_000_000).padStart(8, '0')}`;
}

function refuseUnknown(body: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const k of Object.keys(body)) {
    if (k.startsWith('@odata.')) continue;
    if (DOMAIN_TYPE.properties.has(k) && !allowed.has(k)) throw badRequest(`Property '${k}' is read-only and cannot be set.`);
    if (!allowed.has(k)) throw badRequest(`Property '${k}' does not exist as a declared property or extension property.`);
  }
}

export function registerDomainRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/domains',
      permissions: READ,
      handler: (ctx) => {
        settle(ctx);
        const names = [...new Set([...ctx.store.info.verifiedDomains, ...Object.keys(custom(ctx.store))])];
        return collection(ctx, names.map((n) => view(ctx, n)), DOMAIN_TYPE, (d) => d, 'domains');
      },
    },
    {
      method: 'GET',
      path: '/domains/:id',
      permissions: READ,
      handler: (ctx) => entity(ctx, view(ctx, requireDomain(ctx)), DOMAIN_TYPE, 'domains/$entity'),
    },
    {
      method: 'POST',
      path: '/domains',
      permissions: WRITE,
      handler: (ctx) => {
        settle(ctx);
        const body = bodyObject(ctx);
        refuseUnknown(body, new Set(['id']));
        const name = typeof body['id'] === 'string' ? body['id'].toLowerCase() : '';
        if (!name) throw badRequest("A value is required for property 'id' of resource 'Domain'.");
        if (!isDomainName(name)) throw badRequest(`Invalid value specified for property 'id' of resource 'Domain': '${name}' is not a valid domain name.`);
        if (name.endsWith('.onmicrosoft.com')) throw badRequest('Domains ending in .onmicrosoft.com are initial domains: they cannot be added.');
        if (exists(ctx.store, name)) {
          const message = 'Another object with the same value for property id already exists.';
          throw badRequest(message, [{ code: 'ObjectConflict', message, target: 'id' }]);
        }
        const parent = verifiedParent(ctx.store, name);
        custom(ctx.store)[name] = { id: name, isVerified: !!parent, supportedServices: [], passwordValidityPeriodInDays: null, passwordNotificationWindowInDays: null, verificationCode: codeFor(ctx.store, name), createdMs: ctx.nowMs };
        // A subdomain of a verified domain is verified with it.
        if (parent) ctx.store.info.verifiedDomains.push(name);
        ctx.mutated('domain.create', name);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'domains/$entity'), ...view(ctx, name) } };
      },
    },
    {
      method: 'GET',
      path: '/domains/:id/verificationDnsRecords',
      permissions: READ,
      handler: (ctx) => {
        const name = requireDomain(ctx);
        const records = verificationRecords(name, custom(ctx.store)[name]?.verificationCode ?? codeFor(ctx.store, name));
        return collection(ctx, records, { name: 'microsoft.graph.domainDnsRecord', properties: new Set(['@odata.type', 'id', 'isOptional', 'label', 'recordType', 'supportedService', 'ttl', 'text', 'mailExchange', 'preference']) }, (r) => r, `domains('${name}')/verificationDnsRecords`);
      },
    },
    {
      method: 'POST',
      path: '/domains/:id/verify',
      permissions: WRITE,
      handler: (ctx) => {
        const name = requireDomain(ctx);
        const c = custom(ctx.store)[name];
        if (ctx.store.info.verifiedDomains.includes(name)) return { status: 200, body: { '@odata.context': odataContext(ctx, 'domains/$entity'), ...view(ctx, name) } };
        const elsewhere = [...ctx.rt.tenants.values()].find((t) => t !== ctx.store && t.info.verifiedDomains.includes(name));
        if (elsewhere) throw badRequest(`Domain verification failed: the domain ${name} is already verified in another Microsoft Entra organization.`);
        const published = dnsRecords(ctx.rt, name);
        const proven = published.some((r) => (r.type === 'TXT' && r.value === `MS=${c!.verificationCode}`) || (r.type === 'MX' && r.value.toLowerCase() === `${c!.verificationCode}.msv1.invalid`));
        // The message is a sandbox choice; Graph answers 400 when the record is not found.
        if (!proven) throw badRequest(`Domain verification failed: the DNS record TXT "MS=${c!.verificationCode}" (or MX ${c!.verificationCode}.msv1.invalid) was not found for ${name}. DNS changes can take up to 72 hours to propagate.`);
        c!.isVerified = true;
        ctx.store.info.verifiedDomains.push(name);
        ctx.mutated('domain.verify', name);
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'domains/$entity'), ...view(ctx, name) } };
      },
    },
    {
      method: 'PATCH',
      path: '/domains/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const name = requireDomain(ctx);
        const body = bodyObject(ctx);
        refuseUnknown(body, WRITABLE);
        const info = ctx.store.info;
        const verified = info.verifiedDomains.includes(name);
        if ('isDefault' in body) {
          if (body['isDefault'] !== true) throw badRequest("Invalid value for 'isDefault': make another domain the default instead of unsetting this one.");
          if (!verified) throw badRequest(`The domain ${name} must be verified before it can be the default domain.`);
        }
        const services = body['supportedServices'];
        if (services !== undefined && (!Array.isArray(services) || services.some((s) => !SERVICES.includes(s as string)))) throw badRequest(`Invalid value for 'supportedServices': each one of ${SERVICES.join(', ')}.`);
        if (Array.isArray(services) && services.length && !verified) throw badRequest(`The domain ${name} must be verified before services can use it.`);
        for (const k of ['passwordValidityPeriodInDays', 'passwordNotificationWindowInDays'] as const)
          if (k in body && (typeof body[k] !== 'number' || !Number.isInteger(body[k]) || (body[k] as number) < 1)) throw badRequest(`Invalid value for '${k}': a positive number of days is expected.`);
        if (name === info.initialDomain && services !== undefined) throw badRequest('The services of the initial domain cannot be changed.');
        const c = (custom(ctx.store)[name] ??= { id: name, isVerified: true, supportedServices: view(ctx, name)['supportedServices'] as string[], passwordValidityPeriodInDays: null, passwordNotificationWindowInDays: null, verificationCode: codeFor(ctx.store, name), createdMs: ctx.nowMs });
        if (body['isDefault'] === true) info.defaultDomain = name;
        if (Array.isArray(services)) c.supportedServices = [...new Set(services as string[])];
        if (typeof body['passwordValidityPeriodInDays'] === 'number') c.passwordValidityPeriodInDays = body['passwordValidityPeriodInDays'];
        if (typeof body['passwordNotificationWindowInDays'] === 'number') c.passwordNotificationWindowInDays = body['passwordNotificationWindowInDays'];
        ctx.mutated('domain.update', name);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/domains/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const name = requireDomain(ctx);
        refuseProtected(ctx, name);
        const refs = referencesOf(ctx.store, name);
        // The message is a sandbox choice; Graph refuses a domain that objects still use.
        if (refs.users.length || refs.groups)
          throw badRequest(`Unable to delete the domain ${name}: ${refs.users.length} users and ${refs.groups} groups still use it. Rename them, or use forceDelete.`);
        removeDomain(ctx.store, name);
        ctx.mutated('domain.delete', name);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/domains/:id/forceDelete',
      permissions: ['Domain.ReadWrite.All'],
      handler: (ctx) => {
        const name = requireDomain(ctx);
        refuseProtected(ctx, name);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'disableUserAccounts') throw badRequest(`The parameter '${k}' is not a valid parameter of forceDelete.`);
        if (body['disableUserAccounts'] !== undefined && typeof body['disableUserAccounts'] !== 'boolean') throw badRequest("Invalid value for 'disableUserAccounts': a Boolean is expected.");
        const refs = referencesOf(ctx.store, name);
        if (refs.users.length + refs.groups > MAX_RENAMES) throw badRequest(`Unable to delete the domain ${name}: more than ${MAX_RENAMES} objects would have to be renamed.`);
        const c = (custom(ctx.store)[name] ??= { id: name, isVerified: true, supportedServices: [], passwordValidityPeriodInDays: null, passwordNotificationWindowInDays: null, verificationCode: codeFor(ctx.store, name), createdMs: ctx.nowMs });
        c.forceDelete ??= { startedMs: ctx.nowMs, disableUserAccounts: body['disableUserAccounts'] !== false };
        ctx.mutated('domain.forceDelete', name);
        return { status: 204 };
      },
    },
  );
}

function refuseProtected(ctx: Ctx, name: string): void {
  if (name === ctx.store.info.initialDomain) throw badRequest(`The initial domain ${name} cannot be deleted.`);
  if (name === ctx.store.info.defaultDomain) throw badRequest(`The default domain ${name} cannot be deleted: make another verified domain the default first.`);
  if (custom(ctx.store)[name]?.forceDelete) throw new GraphError(400, 'Request_BadRequest', `The domain ${name} is already being deleted.`);
}
