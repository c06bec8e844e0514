// The tenant's state: directory objects with the indexes every hot path needs (id, lowercase UPN,
// mail addresses, memberships, reports), kept in memory and serialisable to JSON.
// Internal fields start with `_` and never leave the sandbox (see publicView).
import { randomUUID } from 'node:crypto';

export interface AssignedLicense {
  skuId: string;
  disabledPlans: string[];
}

/** What a directory synchronisation agent writes about an object's on-premises source (Graph's onPremises* properties). */
export interface OnPremisesInfo {
  /** The sync anchor (base64), as onPremisesImmutableId. */
  anchor: string;
  samAccountName: string | null;
  distinguishedName: string;
  domainName: string;
  netBiosName: string | null;
  userPrincipalName: string | null;
  securityIdentifier: string | null;
  lastSyncDateTime: string;
}

export interface User {
  id: string;
  '@odata.type'?: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  mailNickname: string;
  otherMails: string[];
  proxyAddresses: string[];
  jobTitle: string | null;
  department: string | null;
  companyName: string | null;
  officeLocation: string | null;
  employeeId: string | null;
  employeeType: string | null;
  employeeHireDate: string | null;
  employeeLeaveDateTime: string | null;
  city: string | null;
  state: string | null;
  country: string | null;
  streetAddress: string | null;
  postalCode: string | null;
  usageLocation: string | null;
  preferredLanguage: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  externalUserState: string | null;
  externalUserStateChangeDateTime: string | null;
  creationType: string | null;
  createdDateTime: string;
  deletedDateTime: string | null;
  lastPasswordChangeDateTime: string | null;
  passwordPolicies: string | null;
  signInSessionsValidFromDateTime: string;
  onPremisesSyncEnabled: boolean | null;
  onPremisesImmutableId: string | null;
  /** Set by the sandbox's directory sync agent for objects it projects from AD. */
  _onPremises?: OnPremisesInfo;
  /** extensionAttribute1..15 that are set; absent = all null (so seeded users cost nothing). */
  _extensionAttributes?: Record<string, string>;
  /** Open extensions (openTypeExtension) by lower-cased name; absent = none. */
  _openExtensions?: Record<string, { extensionName: string } & Record<string, unknown>>;
  ageGroup: string | null;
  assignedLicenses: AssignedLicense[];
  _password: string | null;
  _forceChangePasswordNextSignIn: boolean;
  _managerId: string | null;
  _createdMs: number;
}

export interface Group {
  id: string;
  displayName: string;
  description: string | null;
  mail: string | null;
  mailEnabled: boolean;
  mailNickname: string;
  securityEnabled: boolean;
  groupTypes: string[];
  visibility: string | null;
  membershipRule: string | null;
  membershipRuleProcessingState: string | null;
  isAssignableToRole: boolean | null;
  classification: string | null;
  proxyAddresses: string[];
  resourceProvisioningOptions: string[];
  resourceBehaviorOptions: string[];
  createdDateTime: string;
  renewedDateTime: string;
  deletedDateTime: string | null;
  expirationDateTime: string | null;
  onPremisesSyncEnabled: boolean | null;
  /** Set by the sandbox's directory sync agent for groups it projects from AD. */
  _onPremises?: OnPremisesInfo;
  preferredLanguage: string | null;
  securityIdentifier: string;
  theme: string | null;
  _createdMs: number;
}

export interface SubscribedSku {
  skuId: string;
  prepaidEnabled: number;
  prepaidSuspended: number;
  prepaidWarning: number;
  capabilityStatus: 'Enabled' | 'Suspended' | 'Warning';
}

export interface AppSecret {
  keyId: string;
  displayName: string;
  secretText: string;
  hint: string;
  startDateTime: string;
  endDateTime: string;
}

/** An app registration plus its service principal in this tenant, with granted application permissions. */
export interface AppRegistration {
  id: string;
  appId: string;
  servicePrincipalId: string;
  displayName: string;
  secrets: AppSecret[];
  permissions: string[];
  createdDateTime: string;
  /** false once the service principal is deleted (Graph DELETE /servicePrincipals); absent = present. */
  hasServicePrincipal?: boolean;
  /** false when the service principal is disabled (accountEnabled); absent = enabled. */
  accountEnabled?: boolean;
  /** Registration properties set through Graph (absent on apps made by the admin API: Graph's defaults). */
  description?: string | null;
  notes?: string | null;
  signInAudience?: string;
  web?: { redirectUris: string[]; homePageUrl: string | null; logoutUrl: string | null };
  identifierUris?: string[];
  tags?: string[];
  appRoles?: AppRole[];
  /** Object ids of the app's owners (users or service principals). */
  owners?: string[];
  /** Whether users must be assigned to the enterprise app before they can sign in to it. */
  appRoleAssignmentRequired?: boolean;
  _createdMs: number;
}

export interface AppRole {
  id: string;
  allowedMemberTypes: string[];
  description: string;
  displayName: string;
  isEnabled: boolean;
  value: string | null;
  origin: string;
}

export interface DeletedEntry {
  kind: 'user' | 'group' | 'application';
  object: User | Group | AppRegistration;
  memberOf: string[];
  members?: string[];
  owners?: string[];
  deletedMs: number;
}

export interface TenantInfo {
  id: string;
  displayName: string;
  initialDomain: string;
  defaultDomain: string;
  verifiedDomains: string[];
  createdDateTime: string;
  countryLetterCode: string;
}

type SerializedSets = Record<string, string[]>;

export interface TenantSnapshot {
  version: 1;
  info: TenantInfo;
  users: User[];
  groups: Group[];
  members: SerializedSets;
  owners: SerializedSets;
  skus: SubscribedSku[];
  deleted: [string, DeletedEntry][];
  apps: AppRegistration[];
  extra: Record<string, unknown>;
  perUser?: [string, Record<string, unknown>][];
}

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

export const isGuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

export class TenantStore {
  info: TenantInfo;
  readonly users = new Map<string, User>();
  readonly groups = new Map<string, Group>();
  readonly skus = new Map<string, SubscribedSku>();
  readonly deleted = new Map<string, DeletedEntry>();
  readonly apps = new Map<string, AppRegistration>();
  /** Area modules (devices, teams, sites, exchange, ...) keep their own state here, JSON-safe. */
  extra: Record<string, unknown> = {};
  /** Per-user state of area modules (authentication methods, mailbox, ...), created on first use. */
  readonly perUser = new Map<string, Record<string, unknown>>();

  private readonly upnIndex = new Map<string, string>();
  private readonly addressIndex = new Map<string, string>();
  private readonly members = new Map<string, Set<string>>();
  private readonly owners = new Map<string, Set<string>>();
  private readonly memberOfIndex = new Map<string, Set<string>>();
  private readonly ownedIndex = new Map<string, Set<string>>();
  private readonly reports = new Map<string, Set<string>>();
  private readonly consumed = new Map<string, number>();

  constructor(info: TenantInfo) {
    this.info = info;
  }

  // ---- users ----

  userById(id: string): User | undefined {
    return this.users.get(id.toLowerCase());
  }

  /** Graph addresses a user by object id or by userPrincipalName. */
  findUser(idOrUpn: string): User | undefined {
    const key = idOrUpn.toLowerCase();
    const byId = this.users.get(key);
    if (byId) return byId;
    const id = this.upnIndex.get(key);
    return id ? this.users.get(id) : undefined;
  }

  upnTaken(upn: string): boolean {
    return this.upnIndex.has(upn.toLowerCase());
  }

  /** Which object (user or group) owns an SMTP address, if any. */
  addressOwner(address: string): string | undefined {
    return this.addressIndex.get(address.toLowerCase());
  }

  addUser(user: User): void {
    this.users.set(user.id, user);
    this.upnIndex.set(user.userPrincipalName.toLowerCase(), user.id);
    this.indexAddresses(user.id, user.mail, user.proxyAddresses);
    if (user._managerId) addTo(this.reports, user._managerId, user.id);
    for (const lic of user.assignedLicenses) this.consumed.set(lic.skuId, (this.consumed.get(lic.skuId) ?? 0) + 1);
  }

  /** Re-index after a change to upn, mail, proxyAddresses, manager or licences. */
  updateUser(user: User, before: Pick<User, 'userPrincipalName' | 'mail' | 'proxyAddresses' | '_managerId' | 'assignedLicenses'>): void {
    this.upnIndex.delete(before.userPrincipalName.toLowerCase());
    this.unindexAddresses(user.id, before.mail, before.proxyAddresses);
    if (before._managerId) removeFrom(this.reports, before._managerId, user.id);
    for (const lic of before.assignedLicenses) this.consumed.set(lic.skuId, (this.consumed.get(lic.skuId) ?? 1) - 1);
    this.addUser(user);
  }

  directReports(userId: string): string[] {
    return [...(this.reports.get(userId) ?? [])];
  }

  consumedUnits(skuId: string): number {
    return this.consumed.get(skuId) ?? 0;
  }

  private indexAddresses(id: string, mail: string | null, proxyAddresses: string[]): void {
    if (mail) this.addressIndex.set(mail.toLowerCase(), id);
    for (const p of proxyAddresses) this.addressIndex.set(p.replace(/^smtp:/i, '').toLowerCase(), id);
  }

  private unindexAddresses(id: string, mail: string | null, proxyAddresses: string[]): void {
    const drop = (a: string): void => {
      if (this.addressIndex.get(a.toLowerCase()) === id) this.addressIndex.delete(a.toLowerCase());
    };
    if (mail) drop(mail);
    for (const p of proxyAddresses) drop(p.replace(/^smtp:/i, ''));
  }

  // ---- groups and memberships ----

  groupById(id: string): Group | undefined {
    return this.groups.get(id.toLowerCase());
  }

  addGroup(group: Group): void {
    this.groups.set(group.id, group);
    this.indexAddresses(group.id, group.mail, group.proxyAddresses);
    if (!this.members.has(group.id)) this.members.set(group.id, new Set());
    if (!this.owners.has(group.id)) this.owners.set(group.id, new Set());
  }

  updateGroup(group: Group, before: Pick<Group, 'mail' | 'proxyAddresses'>): void {
    this.unindexAddresses(group.id, before.mail, before.proxyAddresses);
    this.indexAddresses(group.id, group.mail, group.proxyAddresses);
  }

  membersOf(groupId: string): Set<string> {
    return this.members.get(groupId) ?? new Set();
  }

  ownersOf(groupId: string): Set<string> {
    return this.owners.get(groupId) ?? new Set();
  }

  isMember(groupId: string, objectId: string): boolean {
    return this.members.get(groupId)?.has(objectId) ?? false;
  }

  addMember(groupId: string, objectId: string): void {
    addTo(this.members, groupId, objectId);
    addTo(this.memberOfIndex, objectId, groupId);
  }

  removeMember(groupId: string, objectId: string): void {
    removeFrom(this.members, groupId, objectId);
    this.members.set(groupId, this.members.get(groupId) ?? new Set());
    removeFrom(this.memberOfIndex, objectId, groupId);
  }

  addOwner(groupId: string, objectId: string): void {
    addTo(this.owners, groupId, objectId);
    addTo(this.ownedIndex, objectId, groupId);
  }

  removeOwner(groupId: string, objectId: string): void {
    removeFrom(this.owners, groupId, objectId);
    this.owners.set(groupId, this.owners.get(groupId) ?? new Set());
    removeFrom(this.ownedIndex, objectId, groupId);
  }

  /** Direct group memberships of any directory object. */
  memberOf(objectId: string): string[] {
    return [...(this.memberOfIndex.get(objectId) ?? [])];
  }

  ownedGroups(objectId: string): string[] {
    return [...(this.ownedIndex.get(objectId) ?? [])];
  }

  /** Direct and nested group memberships (groups can be members of groups). */
  transitiveMemberOf(objectId: string): string[] {
    const seen = new Set<string>();
    const queue = this.memberOf(objectId);
    while (queue.length) {
      const g = queue.shift()!;
      if (seen.has(g)) continue;
      seen.add(g);
      queue.push(...this.memberOf(g));
    }
    return [...seen];
  }

  transitiveMembers(groupId: string): string[] {
    const seen = new Set<string>();
    const visitedGroups = new Set<string>([groupId]);
    const queue = [groupId];
    while (queue.length) {
      for (const m of this.membersOf(queue.shift()!)) {
        seen.add(m);
        if (this.groups.has(m) && !visitedGroups.has(m)) {
          visitedGroups.add(m);
          queue.push(m);
        }
      }
    }
    return [...seen];
  }

  // ---- deletion and restore (soft delete keeps the object 30 days in deletedItems) ----

  softDeleteUser(user: User, nowIso: string, nowMs: number): void {
    const memberOf = this.memberOf(user.id);
    for (const g of memberOf) this.removeMember(g, user.id);
    for (const g of this.ownedGroups(user.id)) this.removeOwner(g, user.id);
    for (const r of this.directReports(user.id)) {
      const report = this.users.get(r);
      if (report) this.setManager(report, null);
    }
    this.dropUserIndexes(user);
    this.users.delete(user.id);
    user.deletedDateTime = nowIso;
    this.deleted.set(user.id, { kind: 'user', object: user, memberOf, deletedMs: nowMs });
  }

  private dropUserIndexes(user: User): void {
    this.upnIndex.delete(user.userPrincipalName.toLowerCase());
    this.unindexAddresses(user.id, user.mail, user.proxyAddresses);
    if (user._managerId) removeFrom(this.reports, user._managerId, user.id);
    for (const lic of user.assignedLicenses) this.consumed.set(lic.skuId, (this.consumed.get(lic.skuId) ?? 1) - 1);
  }

  softDeleteGroup(group: Group, nowIso: string, nowMs: number): void {
    const members = [...this.membersOf(group.id)];
    const owners = [...this.ownersOf(group.id)];
    const memberOf = this.memberOf(group.id);
    for (const m of members) this.removeMember(group.id, m);
    for (const o of owners) this.removeOwner(group.id, o);
    for (const g of memberOf) this.removeMember(g, group.id);
    this.members.delete(group.id);
    this.owners.delete(group.id);
    this.unindexAddresses(group.id, group.mail, group.proxyAddresses);
    this.groups.delete(group.id);
    group.deletedDateTime = nowIso;
    this.deleted.set(group.id, { kind: 'group', object: group, memberOf, members, owners, deletedMs: nowMs });
  }

  /** Applications are soft-deleted for 30 days too; their service principal goes and comes back with them. */
  softDeleteApp(app: AppRegistration, nowMs: number): void {
    this.apps.delete(app.appId);
    this.deleted.set(app.id, { kind: 'application', object: app, memberOf: [], deletedMs: nowMs });
  }

  /** Puts a soft-deleted object back with its memberships; the caller has checked for conflicts. */
  restore(entry: DeletedEntry): void {
    this.deleted.delete(entry.object.id);
    if (entry.kind === 'application') {
      const app = entry.object as AppRegistration;
      this.apps.set(app.appId, app);
      return;
    }
    (entry.object as User | Group).deletedDateTime = null;
    if (entry.kind === 'user') {
      const user = entry.object as User;
      if (user._managerId && !this.users.has(user._managerId)) user._managerId = null;
      this.addUser(user);
    } else {
      const group = entry.object as Group;
      this.addGroup(group);
      for (const m of entry.members ?? []) if (this.users.has(m) || this.groups.has(m)) this.addMember(group.id, m);
      for (const o of entry.owners ?? []) if (this.users.has(o)) this.addOwner(group.id, o);
    }
    for (const g of entry.memberOf) if (this.groups.has(g)) this.addMember(g, entry.object.id);
  }

  setManager(user: User, managerId: string | null): void {
    if (user._managerId) removeFrom(this.reports, user._managerId, user.id);
    user._managerId = managerId;
    if (managerId) addTo(this.reports, managerId, user.id);
  }

  /** A live user or group by object id. */
  directoryObject(id: string): { kind: 'user'; object: User } | { kind: 'group'; object: Group } | undefined {
    const key = id.toLowerCase();
    const user = this.users.get(key);
    if (user) return { kind: 'user', object: user };
    const group = this.groups.get(key);
    if (group) return { kind: 'group', object: group };
    return undefined;
  }

  /** Area state of one user under `key`, created by `init` on first use (so 100,000 users cost nothing up front). */
  userState<T>(userId: string, key: string, init: () => T): T {
    let rec = this.perUser.get(userId);
    if (!rec) this.perUser.set(userId, (rec = {}));
    if (!(key in rec)) rec[key] = init();
    return rec[key] as T;
  }

  /** Area state of the whole tenant under `key`, created by `init` on first use. */
  tenantState<T>(key: string, init: () => T): T {
    if (!(key in this.extra)) this.extra[key] = init();
    return this.extra[key] as T;
  }

  // ---- apps ----

  appByClientId(appId: string): AppRegistration | undefined {
    return this.apps.get(appId.toLowerCase());
  }

  createApp(opts: { displayName: string; permissions: string[]; secretText?: string; appId?: string; nowMs: number; withSecret?: boolean; withServicePrincipal?: boolean }): AppRegistration {
    const created = new Date(opts.nowMs);
    const secretText = opts.secretText ?? randomSecret();
    const app: AppRegistration = {
      id: randomUUID(),
      appId: (opts.appId ?? randomUUID()).toLowerCase(),
      servicePrincipalId: randomUUID(),
      displayName: opts.displayName,
      permissions: [...new Set(opts.permissions)],
      secrets: opts.withSecret === false ? [] : [
        {
          keyId: randomUUID(),
          displayName: 'sandbox',
          secretText,
          hint: secretText.slice(0, 3),
          startDateTime: created.toISOString(),
          endDateTime: new Date(opts.nowMs + 2 * 365 * 24 * 3600 * 1000).toISOString(),
        },
      ],
      createdDateTime: created.toISOString(),
      ...(opts.withServicePrincipal === false ? { hasServicePrincipal: false } : {}),
      _createdMs: opts.nowMs,
    };
    this.apps.set(app.appId, app);
    return app;
  }

  // ---- persistence ----

  snapshot(): TenantSnapshot {
    const sets = (m: Map<string, Set<string>>): SerializedSets => Object.fromEntries([...m].filter(([, s]) => s.size).map(([k, s]) => [k, [...s]]));
    return {
      version: 1,
      info: this.info,
      users: [...this.users.values()],
      groups: [...this.groups.values()],
      members: sets(this.members),
      owners: sets(this.owners),
      skus: [...this.skus.values()],
      deleted: [...this.deleted],
      apps: [...this.apps.values()],
      extra: this.extra,
      perUser: [...this.perUser],
    };
  }

  static fromSnapshot(snap: TenantSnapshot): TenantStore {
    const store = new TenantStore(snap.info);
    for (const s of snap.skus) store.skus.set(s.skuId, s);
    for (const u of snap.users) store.addUser(u);
    for (const g of snap.groups) store.addGroup(g);
    for (const [g, ids] of Object.entries(snap.members)) for (const id of ids) store.addMember(g, id);
    for (const [g, ids] of Object.entries(snap.owners)) for (const id of ids) store.addOwner(g, id);
    for (const [id, entry] of snap.deleted) store.deleted.set(id, entry);
    for (const a of snap.apps) store.apps.set(a.appId, a);
    store.extra = snap.extra ?? {};
    for (const [id, rec] of snap.perUser ?? []) store.perUser.set(id, rec);
    return store;
  }
}

export function randomSecret(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~.-_';
  let s = '';
  for (const b of crypto.getRandomValues(new Uint8Array(40))) s += alphabet[b % alphabet.length];
  return s;
}

/** Copy of an entity without the sandbox's internal `_` fields. */
export function publicView(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!k.startsWith('_')) out[k] = v;
  return out;
}
