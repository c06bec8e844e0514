// SharePoint and OneDrive state shared by Graph (/sites, /drives, /users/{id}/drive) and the SharePoint
// REST surface (site creation, tenant site properties, site collection admins, recycle bins, OneDrive
// provisioning). Sites live at their real-looking URLs (https://contoso.sharepoint.com/sites/x); the
// sandbox serves the REST API of host H at ${url}/_sharepoint/H.
//
// What exists without anyone creating it, derived on first use so a 100,000-user tenant costs nothing:
// the root site, one group-connected site per Microsoft 365 group, and a OneDrive for each seeded user
// whose licence carries a SharePoint plan. A user created later gets a OneDrive only when it is
// provisioned (CreatePersonalSiteEnqueueBulk), as a user who never signed in has none.
import { randomBytes, randomUUID } from 'node:crypto';
import { enabledPlanIds } from '../licensing.ts';
import { SKUS } from '../skus.ts';
import type { Group, TenantStore, User } from '../store.ts';

export type SharingCapability = 'Disabled' | 'ExternalUserSharingOnly' | 'ExternalUserAndGuestSharing' | 'ExistingExternalUserSharingOnly';
/** SharePoint REST gives SharingCapability as this enum's index. */
export const SHARING_CAPABILITIES: SharingCapability[] = ['Disabled', 'ExternalUserSharingOnly', 'ExternalUserAndGuestSharing', 'ExistingExternalUserSharingOnly'];

export interface DrivePermission {
  id: string;
  roles: string[];
  /** A tenant user, or an outside address invited to the item. */
  userId?: string;
  email?: string;
  inherited?: boolean;
}

export interface DriveItem {
  id: string;
  name: string;
  parentId: string | null;
  folder: boolean;
  /** A shortcut ("Add shortcut to My files"): the item it points at, in another drive. */
  remote?: { driveId: string; id: string };
  size: number;
  createdDateTime: string;
  lastModifiedDateTime: string;
  permissions: DrivePermission[];
}

export interface RecycleBinItem {
  id: string;
  itemId: string;
  title: string;
  dirName: string;
  deletedDate: string;
  deletedByEmail: string | null;
  itemType: 'File' | 'Folder';
  /** The deleted items (the item and everything under it), restored together. */
  items: DriveItem[];
}

export interface Site {
  id: string;
  siteCollectionId: string;
  webId: string;
  url: string;
  title: string;
  description: string;
  template: string;
  lcid: number;
  createdDateTime: string;
  lastModifiedDateTime: string;
  ownerId: string | null;
  admins: string[];
  /** Members of the site's Owners group (not group-connected sites: their owners are the group's). */
  owners?: string[];
  groupId: string | null;
  personalOwnerId: string | null;
  storageMaximumLevelMB: number;
  storageWarningLevelMB: number;
  sharingCapability: SharingCapability;
  lockState: 'Unlock' | 'ReadOnly' | 'NoAccess';
  /** Sharing defaults (SiteProperties DefaultSharingLinkType, DefaultLinkPermission, guest expiration). */
  sharing?: { defaultLinkType: number; defaultLinkPermission: number; guestExpirationDays: number; overrideGuestExpiration: boolean };
  driveId: string;
  rootItemId: string;
  items: Record<string, DriveItem>;
  recycleBin: RecycleBinItem[];
  /** Set when the site is in the tenant's deleted sites (restorable for 93 days). */
  deletedDateTime: string | null;
}

interface PendingSite {
  readyAtMs: number;
  url: string;
  siteCollectionId: string;
  title: string;
  template: string;
  ownerId: string;
  lcid: number;
  description: string;
  createdDateTime: string;
}

interface SharePointState {
  sites: Record<string, Site>;
  /** Sites requested through SPSiteManager/create that SharePoint is still provisioning. */
  pendingSites?: PendingSite[];
  /** user id -> when the OneDrive requested through CreatePersonalSiteEnqueueBulk exists. */
  pendingPersonal?: Record<string, number>;
  /** user id -> personal site id, for OneDrives provisioned after the seed. */
  personal: Record<string, string>;
  /** user ids whose seeded OneDrive has been materialised or deliberately removed. */
  seededPersonal: Record<string, true>;
}

const SHAREPOINT_PLANS = new Set(
  SKUS.flatMap((s) => s.servicePlans)
    .filter((p) => /^SHAREPOINT(STANDARD|ENTERPRISE|DESKLESS)/.test(p.servicePlanName))
    .map((p) => p.servicePlanId),
);

export const hasSharePointPlan = (user: User): boolean => [...enabledPlanIds(user)].some((id) => SHAREPOINT_PLANS.has(id));

export const tenantName = (store: TenantStore): string => store.info.initialDomain.split('.')[0]!.toLowerCase();
export const rootHost = (store: TenantStore): string => `${tenantName(store)}.sharepoint.com`;
export const adminHost = (store: TenantStore): string => `${tenantName(store)}-admin.sharepoint.com`;
export const myHost = (store: TenantStore): string => `${tenantName(store)}-my.sharepoint.com`;

/** OneDrive ids and drive item ids look like Microsoft's (b!… and 01…). */
const driveId = (): string => `b!${randomBytes(48).toString('base64url').slice(0, 64)}`;
export const itemId = (): string => `01${randomBytes(20).toString('hex').toUpperCase().slice(0, 32)}`;

function state(store: TenantStore): SharePointState {
  const s = store.tenantState<SharePointState>('sharepoint', () => ({ sites: {}, personal: {}, seededPersonal: {} }));
  if (!Object.values(s.sites).some((x) => x.url === `https://${rootHost(store)}`)) {
    addSite(store, s, { url: `https://${rootHost(store)}`, title: 'Communication site', template: 'SITEPAGEPUBLISHING#0', ownerId: null, createdDateTime: '2021-03-01T09:00:00Z' });
  }
  return s;
}

function addSite(
  store: TenantStore,
  s: SharePointState,
  f: { url: string; title: string; template: string; ownerId: string | null; createdDateTime: string; description?: string; lcid?: number; groupId?: string; personalOwnerId?: string; siteCollectionId?: string },
): Site {
  const host = new URL(f.url).host;
  const siteCollectionId = f.siteCollectionId ?? randomUUID();
  const webId = randomUUID();
  const root: DriveItem = { id: itemId(), name: 'root', parentId: null, folder: true, size: 0, createdDateTime: f.createdDateTime, lastModifiedDateTime: f.createdDateTime, permissions: [] };
  const personal = !!f.personalOwnerId;
  const site: Site = {
    id: `${host},${siteCollectionId},${webId}`,
    siteCollectionId,
    webId,
    url: f.url,
    title: f.title,
    description: f.description ?? '',
    template: f.template,
    lcid: f.lcid ?? 1033,
    createdDateTime: f.createdDateTime,
    lastModifiedDateTime: f.createdDateTime,
    ownerId: f.ownerId,
    admins: f.ownerId ? [f.ownerId] : [],
    ...(f.groupId || f.personalOwnerId ? {} : { owners: f.ownerId ? [f.ownerId] : [] }),
    groupId: f.groupId ?? null,
    personalOwnerId: f.personalOwnerId ?? null,
    storageMaximumLevelMB: personal ? 1_048_576 : 26_214_400,
    storageWarningLevelMB: personal ? 943_718 : 25_574_400,
    sharingCapability: personal ? 'ExternalUserAndGuestSharing' : 'ExternalUserSharingOnly',
    lockState: 'Unlock',
    driveId: driveId(),
    rootItemId: root.id,
    items: { [root.id]: root },
    recycleBin: [],
    deletedDateTime: null,
  };
  if (personal) root.permissions.push({ id: 'aTowaS4uZnxtZW1iZXJzaGlw', roles: ['owner'], userId: f.personalOwnerId, inherited: false });
  if (f.groupId) {
    const general: DriveItem = { id: itemId(), name: 'General', parentId: root.id, folder: true, size: 0, createdDateTime: f.createdDateTime, lastModifiedDateTime: f.createdDateTime, permissions: [] };
    site.items[general.id] = general;
  }
  s.sites[site.id] = site;
  return site;
}

/** The group-connected site of a Microsoft 365 group (created with the group, as SharePoint does). */
export function groupSite(store: TenantStore, group: Group): Site | undefined {
  if (!group.groupTypes.includes('Unified') || group.deletedDateTime) return undefined;
  const s = state(store);
  const found = Object.values(s.sites).find((x) => x.groupId === group.id);
  if (found) return found;
  const owner = [...store.ownersOf(group.id)][0] ?? null;
  const site = addSite(store, s, {
    url: `https://${rootHost(store)}/sites/${group.mailNickname.replace(/[^A-Za-z0-9-]/g, '')}`,
    title: group.displayName,
    template: 'GROUP#0',
    ownerId: owner,
    createdDateTime: group.createdDateTime ?? new Date(0).toISOString(),
    groupId: group.id,
  });
  site.admins = [...store.ownersOf(group.id)];
  return site;
}

/** Every site that exists, group sites included (deleted ones only when asked). */
export function allSites(store: TenantStore, opts: { deleted?: boolean } = {}): Site[] {
  for (const g of store.groups.values()) if (g.groupTypes.includes('Unified')) groupSite(store, g);
  return Object.values(state(store).sites).filter((x) => !!x.deletedDateTime === !!opts.deleted);
}

export const personalUrl = (store: TenantStore, user: User): string =>
  `https://${myHost(store)}/personal/${user.userPrincipalName.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;

/** A user's OneDrive if it is provisioned: seeded licensed users have one, others once provisioned. */
export function personalSite(store: TenantStore, user: User): Site | undefined {
  const s = state(store);
  const id = s.personal[user.id];
  if (id) return s.sites[id];
  if (s.seededPersonal[user.id] || user._password !== null || user.userType !== 'Member' || !hasSharePointPlan(user)) return undefined;
  s.seededPersonal[user.id] = true;
  return provision(store, s, user);
}

function provision(store: TenantStore, s: SharePointState, user: User): Site {
  const site = addSite(store, s, { url: personalUrl(store, user), title: user.displayName, template: 'SPSPERS#10', ownerId: user.id, createdDateTime: user.createdDateTime, personalOwnerId: user.id });
  s.personal[user.id] = site.id;
  return site;
}

/**
 * CreatePersonalSiteEnqueueBulk: a licensed user's OneDrive is queued and exists from readyAtMs on
 * (settleSharePoint); unlicensed users are skipped, as SharePoint does. true when newly queued.
 */
export function enqueuePersonalSite(store: TenantStore, user: User, readyAtMs: number): boolean {
  if (personalSite(store, user) || !hasSharePointPlan(user)) return false;
  const s = state(store);
  if (s.pendingPersonal?.[user.id] !== undefined) return false;
  (s.pendingPersonal ??= {})[user.id] = readyAtMs;
  return true;
}

/** Provisioning that has finished by nowMs takes effect (called before every Graph and SharePoint request). */
export function settleSharePoint(store: TenantStore, nowMs: number): void {
  const s = store.tenantState<SharePointState>('sharepoint', () => ({ sites: {}, personal: {}, seededPersonal: {} }));
  if (s.pendingSites?.length) {
    for (const p of s.pendingSites.filter((x) => x.readyAtMs <= nowMs)) {
      addSite(store, s, { url: p.url, title: p.title, template: p.template, ownerId: p.ownerId, lcid: p.lcid, description: p.description, createdDateTime: p.createdDateTime, siteCollectionId: p.siteCollectionId });
    }
    s.pendingSites = s.pendingSites.filter((x) => x.readyAtMs > nowMs);
  }
  for (const [userId, at] of Object.entries(s.pendingPersonal ?? {})) {
    if (at > nowMs) continue;
    delete s.pendingPersonal![userId];
    const user = store.userById(userId);
    if (user && !s.personal[userId]) provision(store, s, user);
  }
}

/** A site SharePoint is still provisioning at this URL, if any. */
export function pendingSiteAt(store: TenantStore, url: string): PendingSite | undefined {
  const want = url.replace(/\/+$/, '').toLowerCase();
  return state(store).pendingSites?.find((p) => p.url.toLowerCase() === want);
}

/** Finds a site by its absolute URL (case-insensitive, trailing slash ignored). */
export function siteByUrl(store: TenantStore, url: string, opts: { deleted?: boolean } = {}): Site | undefined {
  const want = url.replace(/\/+$/, '').toLowerCase();
  const personal = /\/personal\/[^/]+$/.exec(want) ? [...store.users.values()].find((u) => personalUrl(store, u) === want) : undefined;
  if (personal) personalSite(store, personal);
  return allSites(store, opts).find((x) => x.url.toLowerCase() === want);
}

export function siteById(store: TenantStore, id: string): Site | undefined {
  const s = state(store).sites;
  const site = s[id] ?? Object.values(s).find((x) => x.siteCollectionId === id.toLowerCase() || x.id.toLowerCase() === id.toLowerCase());
  return site && !site.deletedDateTime ? site : undefined;
}

export function siteByDriveId(store: TenantStore, id: string): Site | undefined {
  return Object.values(state(store).sites).find((x) => x.driveId === id && !x.deletedDateTime);
}

/** SPSiteManager/create: the site is provisioned in the background and exists from readyAtMs on. */
export function requestSite(
  store: TenantStore,
  f: { url: string; title: string; template: string; ownerId: string; lcid: number; description: string; nowIso: string; readyAtMs: number },
): PendingSite {
  const p: PendingSite = { readyAtMs: f.readyAtMs, url: f.url, siteCollectionId: randomUUID(), title: f.title, template: f.template, ownerId: f.ownerId, lcid: f.lcid, description: f.description, createdDateTime: f.nowIso };
  (state(store).pendingSites ??= []).push(p);
  return p;
}

export function purgeSite(store: TenantStore, site: Site): void {
  const s = state(store);
  delete s.sites[site.id];
  for (const [user, id] of Object.entries(s.personal)) if (id === site.id) delete s.personal[user];
}

/** Storage used, in MB: the sum of the files' sizes (the sandbox keeps sizes, not contents). */
export function storageUsedMB(site: Site): number {
  const bytes = Object.values(site.items).reduce((n, i) => n + (i.folder ? 0 : i.size), 0);
  return Math.ceil(bytes / 1_048_576);
}

/** An item and everything under it. */
export function subtree(site: Site, root: DriveItem): DriveItem[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const x of Object.values(site.items)) if (x.parentId === out[i]!.id) out.push(x);
  return out;
}

export function itemPath(site: Site, item: DriveItem): string {
  const parts: string[] = [];
  for (let cur: DriveItem | undefined = item; cur && cur.parentId; cur = site.items[cur.parentId]) parts.unshift(cur.name);
  return parts.join('/');
}

/** Library folder of the default document library, as SharePoint shows it in URLs. */
export const libraryName = (site: Site): string => (site.personalOwnerId ? 'Documents' : 'Shared Documents');
