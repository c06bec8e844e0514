// The sandbox's directory synchronisation agent: what Microsoft Entra Connect (or Cloud Sync) does
// for a tenant, for the OUs in scope of one on-premises Active Directory. It reads the directory
// over LDAPS and projects users and groups into the tenant: created, updated, disabled, moved out of
// scope or deleted. In production Entra Connect does this; Tenantflow never writes synced objects'
// mastered attributes in the cloud, it waits for the sync (user.waitUntilExists).
//
// Mapping (Entra Connect's default rules, simplified): objectGUID (or mS-DS-ConsistencyGuid) →
// onPremisesImmutableId (base64); userPrincipalName (suffix not a verified domain → the initial
// onmicrosoft.com domain); displayName, givenName, sn → surname, title → jobTitle, department,
// company → companyName, physicalDeliveryOfficeName → officeLocation, employeeID, streetAddress,
// l → city, st → state, postalCode, co → country, c → usageLocation, telephoneNumber →
// businessPhones, mobile → mobilePhone, mail, proxyAddresses, mailNickname, manager,
// userAccountControl ACCOUNTDISABLE → accountEnabled, msExchHideFromAddressLists → the mailbox's
// HiddenFromAddressListsEnabled, sAMAccountName / distinguishedName / objectSid →
// onPremisesSamAccountName / onPremisesDistinguishedName / onPremisesSecurityIdentifier. Groups:
// displayName (else cn), description, mail, mailNickname, proxyAddresses, groupType's security bit →
// securityEnabled, mail → mailEnabled, members that are themselves in scope.
// Password hashes are not read (Samba does not hand them out over LDAP): sign-ins to the sandbox do
// not check passwords anyway.
import { randomUUID } from 'node:crypto';
import { Client, type Entry } from 'ldapts';
import { mailboxOf } from './mailboxes.ts';
import { newGroup, newUser } from './seed.ts';
import type { Runtime } from './runtime.ts';
import type { Group, OnPremisesInfo, TenantStore, User } from './store.ts';

export interface DirectorySyncConfig {
  /** ldaps://host:636 of a domain controller. */
  url: string;
  /** The sync account: user principal name or DN. */
  bindDn: string;
  bindPassword: string;
  /** PEM the DC's certificate chains to. */
  caPem?: string;
  /** Distinguished names of the OUs in scope. */
  scopes: string[];
  /** DNS name of the AD domain (onPremisesDomainName). */
  domain: string;
  netBiosName?: string;
  /** The sync anchor; default objectGUID. */
  anchor?: 'objectGUID' | 'mS-DS-ConsistencyGuid';
  /** Sync every so often (ms); 0 or absent = only on demand. */
  intervalMs?: number;
  /** The tenant to project into; default the demo tenant. */
  tenantId?: string;
}

export interface SyncReport {
  startedAt: string;
  endedAt: string;
  users: { created: number; updated: number; deleted: number; unchanged: number };
  groups: { created: number; updated: number; deleted: number; unchanged: number };
  /** Objects that could not be exported, with the reason (as Entra Connect's export errors). */
  errors: { dn: string; error: string }[];
}

export interface DirectorySyncStatus {
  configured: boolean;
  scopes: string[];
  intervalMs: number;
  runs: number;
  last?: SyncReport;
  lastError?: string;
}

const USER_ATTRS = [
  'objectGUID', 'mS-DS-ConsistencyGuid', 'objectSid', 'sAMAccountName', 'userPrincipalName', 'displayName', 'givenName', 'sn', 'title',
  'department', 'company', 'physicalDeliveryOfficeName', 'employeeID', 'streetAddress', 'l', 'st', 'postalCode', 'co', 'c',
  'telephoneNumber', 'mobile', 'mail', 'proxyAddresses', 'mailNickname', 'manager', 'userAccountControl', 'msExchHideFromAddressLists',
];
const GROUP_ATTRS = ['objectGUID', 'mS-DS-ConsistencyGuid', 'objectSid', 'sAMAccountName', 'cn', 'displayName', 'description', 'mail', 'mailNickname', 'proxyAddresses', 'groupType', 'member'];
const BINARY = ['objectGUID', 'mS-DS-ConsistencyGuid', 'objectSid'];

function first(e: Entry, attr: string): string | undefined {
  const v = e[attr];
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined) return undefined;
  return Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
}
function all(e: Entry, attr: string): string[] {
  const v = e[attr];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}
function binary(e: Entry, attr: string): Buffer | undefined {
  const v = e[attr];
  const x = Array.isArray(v) ? v[0] : v;
  return Buffer.isBuffer(x) && x.length ? x : undefined;
}
function sid(b: Buffer | undefined): string | null {
  if (!b) return null;
  const subs = Array.from({ length: b[1]! }, (_, i) => b.readUInt32LE(8 + i * 4));
  return `S-${b[0]}-${b.readUIntBE(2, 6)}${subs.map((x) => `-${x}`).join('')}`;
}
const norm = (dn: string) => dn.replace(/\s*,\s*/g, ',').toLowerCase();

export class DirectorySync {
  private config?: DirectorySyncConfig;
  private timer?: NodeJS.Timeout;
  private chain: Promise<unknown> = Promise.resolve();
  private runs = 0;
  private last?: SyncReport;
  private lastError?: string;
  private readonly rt: Runtime;

  constructor(rt: Runtime) {
    this.rt = rt;
  }

  configure(config: DirectorySyncConfig | null): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (config && (!config.url || !config.bindDn || !config.scopes?.length || !config.domain)) throw new Error('url, bindDn, bindPassword, scopes and domain are required');
    this.config = config ?? undefined;
    if (config?.intervalMs)
      this.timer = setInterval(() => {
        void this.run().catch(() => {});
      }, Math.max(200, config.intervalMs)).unref();
  }

  status(): DirectorySyncStatus {
    return { configured: !!this.config, scopes: this.config?.scopes ?? [], intervalMs: this.config?.intervalMs ?? 0, runs: this.runs, last: this.last, lastError: this.lastError };
  }

  /** One synchronisation cycle now (after any cycle already running), like Start-ADSyncSyncCycle -PolicyType Delta. */
  run(): Promise<SyncReport> {
    const next = this.chain.then(() => this.cycle());
    this.chain = next.catch(() => {});
    return next;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async cycle(): Promise<SyncReport> {
    const cfg = this.config;
    if (!cfg) throw new Error('directory sync is not configured (PUT /_admin/sync)');
    const started = new Date(this.rt.now()).toISOString();
    const client = new Client({ url: cfg.url, tlsOptions: { ca: cfg.caPem ? [cfg.caPem] : undefined, minVersion: 'TLSv1.2' }, connectTimeout: 10_000, timeout: 60_000 });
    try {
      await client.bind(cfg.bindDn, cfg.bindPassword);
      const users: Entry[] = [];
      const groups: Entry[] = [];
      for (const scope of cfg.scopes) {
        const opts = { scope: 'sub' as const, explicitBufferAttributes: BINARY, paged: { pageSize: 500 } };
        users.push(...(await client.search(scope, { ...opts, filter: '(&(objectCategory=person)(objectClass=user))', attributes: USER_ATTRS })).searchEntries);
        groups.push(...(await client.search(scope, { ...opts, filter: '(objectClass=group)', attributes: GROUP_ATTRS })).searchEntries);
      }
      const store = cfg.tenantId ? this.rt.tenant(cfg.tenantId) : this.rt.store;
      if (!store) throw new Error(`no tenant ${cfg.tenantId}`);
      const report = this.project(store, cfg, users, groups, started);
      this.runs++;
      this.last = report;
      this.lastError = undefined;
      return report;
    } catch (err) {
      this.lastError = (err as Error).message;
      throw err;
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  private anchorOf(cfg: DirectorySyncConfig, e: Entry): string | undefined {
    const b = cfg.anchor === 'mS-DS-ConsistencyGuid' ? (binary(e, 'mS-DS-ConsistencyGuid') ?? binary(e, 'objectGUID')) : binary(e, 'objectGUID');
    return b?.toString('base64');
  }

  private project(store: TenantStore, cfg: DirectorySyncConfig, userEntries: Entry[], groupEntries: Entry[], startedAt: string): SyncReport {
    const nowMs = this.rt.now();
    const nowIso = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const report: SyncReport = { startedAt, endedAt: '', users: { created: 0, updated: 0, deleted: 0, unchanged: 0 }, groups: { created: 0, updated: 0, deleted: 0, unchanged: 0 }, errors: [] };
    const ours = (o: User | Group) => o.onPremisesSyncEnabled === true && o._onPremises?.domainName === cfg.domain;
    const usersByAnchor = new Map<string, User>();
    for (const u of store.users.values()) if (u.onPremisesImmutableId) usersByAnchor.set(u.onPremisesImmutableId, u);
    const idByDn = new Map<string, string>();
    const verified = store.info.verifiedDomains.map((d) => d.toLowerCase());
    const info = (e: Entry, anchor: string): OnPremisesInfo => ({
      anchor,
      samAccountName: first(e, 'sAMAccountName') ?? null,
      distinguishedName: e.dn,
      domainName: cfg.domain,
      netBiosName: cfg.netBiosName ?? cfg.domain.split('.')[0]!.toUpperCase(),
      userPrincipalName: first(e, 'userPrincipalName') ?? null,
      securityIdentifier: sid(binary(e, 'objectSid')),
      lastSyncDateTime: nowIso,
    });

    // ---- users ----
    const seen = new Set<string>();
    const managers: [User, string | undefined][] = [];
    for (const e of userEntries) {
      const anchor = this.anchorOf(cfg, e);
      const adUpn = first(e, 'userPrincipalName');
      if (!anchor || !adUpn) continue;
      seen.add(anchor);
      const [prefix, suffix = ''] = adUpn.split('@');
      // A UPN suffix that is not a verified domain becomes the initial domain, as in Entra ID.
      const upn = verified.includes(suffix.toLowerCase()) ? adUpn : `${prefix}@${store.info.initialDomain}`;
      const mail = first(e, 'mail') ?? null;
      const wanted: Partial<User> = {
        userPrincipalName: upn,
        displayName: first(e, 'displayName') ?? first(e, 'sAMAccountName') ?? prefix!,
        givenName: first(e, 'givenName') ?? null,
        surname: first(e, 'sn') ?? null,
        jobTitle: first(e, 'title') ?? null,
        department: first(e, 'department') ?? null,
        companyName: first(e, 'company') ?? null,
        officeLocation: first(e, 'physicalDeliveryOfficeName') ?? null,
        employeeId: first(e, 'employeeID') ?? null,
        streetAddress: first(e, 'streetAddress') ?? null,
        city: first(e, 'l') ?? null,
        state: first(e, 'st') ?? null,
        postalCode: first(e, 'postalCode') ?? null,
        country: first(e, 'co') ?? null,
        usageLocation: first(e, 'c') ?? null,
        businessPhones: all(e, 'telephoneNumber').slice(0, 1),
        mobilePhone: first(e, 'mobile') ?? null,
        mail,
        mailNickname: first(e, 'mailNickname') ?? first(e, 'sAMAccountName') ?? prefix!,
        proxyAddresses: all(e, 'proxyAddresses').length ? all(e, 'proxyAddresses') : mail ? [`SMTP:${mail}`] : [],
        accountEnabled: !(Number(first(e, 'userAccountControl') ?? 0) & 0x2),
        onPremisesSyncEnabled: true,
        onPremisesImmutableId: anchor,
      };
      let user = usersByAnchor.get(anchor);
      if (!user) {
        // Soft match: a cloud-only user with the same UPN is taken over, as Entra Connect does.
        const match = store.findUser(upn);
        if (match && !match.onPremisesImmutableId) user = match;
      }
      const conflict = (u: User | undefined) => {
        if (u?.userPrincipalName.toLowerCase() !== upn.toLowerCase() && store.upnTaken(upn)) return `userPrincipalName ${upn} is taken by another object (AttributeValueMustBeUnique)`;
        for (const a of [mail, ...(wanted.proxyAddresses ?? []).map((p) => p.replace(/^smtp:/i, ''))]) {
          const owner = a ? store.addressOwner(a) : undefined;
          if (owner && owner !== u?.id) return `proxy address ${a} is taken by another object (AttributeValueMustBeUnique)`;
        }
        return undefined;
      };
      const problem = conflict(user);
      if (problem) {
        report.errors.push({ dn: e.dn, error: problem });
        continue;
      }
      if (!user) {
        user = newUser({ id: randomUUID(), userPrincipalName: upn, displayName: wanted.displayName!, mailNickname: wanted.mailNickname!, creationType: null }, nowMs);
        Object.assign(user, wanted, { _onPremises: info(e, anchor), _password: null, _forceChangePasswordNextSignIn: false });
        store.addUser(user);
        report.users.created++;
      } else {
        const changed = Object.entries(wanted).some(([k, v]) => JSON.stringify((user as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v)) || user._onPremises?.distinguishedName !== e.dn;
        const before = { ...user };
        Object.assign(user, wanted, { _onPremises: info(e, anchor) });
        store.updateUser(user, before);
        if (changed) report.users.updated++;
        else report.users.unchanged++;
      }
      idByDn.set(norm(e.dn), user.id);
      managers.push([user, first(e, 'manager')]);
      const hidden = first(e, 'msExchHideFromAddressLists') === 'TRUE';
      const mbx = mailboxOf(store, user);
      if (mbx && mbx.hiddenFromAddressLists !== hidden) mbx.hiddenFromAddressLists = hidden;
    }
    for (const [user, managerDn] of managers) {
      const managerId = managerDn ? (idByDn.get(norm(managerDn)) ?? null) : null;
      if (user._managerId !== managerId) store.setManager(user, managerId);
    }

    // ---- groups ----
    const groupsByAnchor = new Map<string, Group>();
    for (const g of store.groups.values()) if (ours(g) && g._onPremises) groupsByAnchor.set(g._onPremises.anchor, g);
    const seenGroups = new Set<string>();
    const memberships: [Group, string[]][] = [];
    for (const e of groupEntries) {
      const anchor = this.anchorOf(cfg, e);
      if (!anchor) continue;
      seenGroups.add(anchor);
      const mail = first(e, 'mail') ?? null;
      const wanted: Partial<Group> = {
        displayName: first(e, 'displayName') ?? first(e, 'cn') ?? '',
        description: first(e, 'description') ?? null,
        mail,
        mailEnabled: !!mail,
        mailNickname: first(e, 'mailNickname') ?? first(e, 'sAMAccountName') ?? first(e, 'cn') ?? '',
        securityEnabled: (Number(first(e, 'groupType') ?? 0) & 0x80000000) !== 0,
        proxyAddresses: all(e, 'proxyAddresses').length ? all(e, 'proxyAddresses') : mail ? [`SMTP:${mail}`] : [],
        onPremisesSyncEnabled: true,
      };
      let group = groupsByAnchor.get(anchor);
      const owner = mail ? store.addressOwner(mail) : undefined;
      if (owner && owner !== group?.id) {
        report.errors.push({ dn: e.dn, error: `proxy address ${mail} is taken by another object (AttributeValueMustBeUnique)` });
        continue;
      }
      if (!group) {
        group = newGroup({ id: randomUUID(), displayName: wanted.displayName!, mailNickname: wanted.mailNickname! }, nowMs);
        Object.assign(group, wanted, { _onPremises: info(e, anchor) });
        group.securityIdentifier = sid(binary(e, 'objectSid')) ?? group.securityIdentifier;
        store.addGroup(group);
        report.groups.created++;
      } else {
        const changed = Object.entries(wanted).some(([k, v]) => JSON.stringify((group as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v));
        const before = { mail: group.mail, proxyAddresses: group.proxyAddresses };
        Object.assign(group, wanted, { _onPremises: info(e, anchor) });
        store.updateGroup(group, before);
        if (changed) report.groups.updated++;
        else report.groups.unchanged++;
      }
      idByDn.set(norm(e.dn), group.id);
      memberships.push([group, all(e, 'member')]);
    }
    for (const [group, members] of memberships) {
      const wantedIds = new Set(members.map((m) => idByDn.get(norm(m))).filter((x): x is string => !!x));
      const current = store.membersOf(group.id);
      for (const id of wantedIds) if (!current.has(id)) store.addMember(group.id, id);
      for (const id of [...current]) if (!wantedIds.has(id)) store.removeMember(group.id, id);
    }

    // ---- deletions: objects gone from AD or moved out of scope ----
    for (const u of [...store.users.values()])
      if (ours(u) && u.onPremisesImmutableId && !seen.has(u.onPremisesImmutableId)) {
        store.softDeleteUser(u, nowIso, nowMs);
        report.users.deleted++;
      }
    for (const [anchor, g] of groupsByAnchor)
      if (!seenGroups.has(anchor) && store.groups.has(g.id)) {
        store.softDeleteGroup(g, nowIso, nowMs);
        report.groups.deleted++;
      }
    report.endedAt = new Date(this.rt.now()).toISOString();
    return report;
  }
}
