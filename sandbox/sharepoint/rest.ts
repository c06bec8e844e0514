// The SharePoint REST API of the tenant's hosts, served at ${url}/_sharepoint/{host}/{site path}/_api/...:
// modern site creation (SPSiteManager), tenant administration on the -admin host (SPO.Tenant site
// properties, site collection admins, deleted sites, OneDrive provisioning through the profile loader)
// and per-site reads (web, site, site users, recycle bin).
//
// Tokens: app-only tokens for the tenant's SharePoint resource (https://{tenant}.sharepoint.com,
// -admin or -my, all issued with the root host as audience); SharePoint roles Sites.FullControl.All
// (administration) and Sites.Read/ReadWrite/Manage.All (site reads and recycle bin).
import { randomUUID } from 'node:crypto';
import { verifyBearer } from '../auth.ts';
import type { Caller } from '../types.ts';
import type { Runtime } from '../runtime.ts';
import type { Surface } from '../server.ts';
import type { TenantStore, User } from '../store.ts';
import {
  adminHost,
  allSites,
  enqueuePersonalSite,
  pendingSiteAt,
  requestSite,
  settleSharePoint,
  myHost,
  purgeSite,
  rootHost,
  SHARING_CAPABILITIES,
  siteById,
  siteByUrl,
  storageUsedMB,
  type SharingCapability,
  type Site,
} from './model.ts';

class SpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const notFound = (): SpError => new SpError(404, '-2147024894, System.IO.FileNotFoundException', 'File Not Found.');
const badArg = (message: string): SpError => new SpError(400, '-2147024809, System.ArgumentException', message);
const denied = (): SpError => new SpError(403, '-2147024891, System.UnauthorizedAccessException', 'Attempted to perform an unauthorized operation.');

const READ_ROLES = ['Sites.Read.All', 'Sites.ReadWrite.All', 'Sites.Manage.All', 'Sites.FullControl.All'];
const WRITE_ROLES = ['Sites.ReadWrite.All', 'Sites.Manage.All', 'Sites.FullControl.All'];
const ADMIN_ROLES = ['Sites.FullControl.All'];

interface SpCtx {
  rt: Runtime;
  store: TenantStore;
  caller: Caller;
  host: string;
  /** Absolute URL of the site the request addresses (host + path before /_api). */
  siteUrl: string;
  api: string;
  method: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  nowIso: string;
  mutated(op: string, ...ids: string[]): void;
}

const need = (ctx: SpCtx, roles: string[]): void => {
  if (!roles.some((r) => ctx.caller.roles.has(r))) throw denied();
};
const adminOnly = (ctx: SpCtx): void => {
  if (ctx.host !== adminHost(ctx.store)) throw new SpError(404, '-1, Microsoft.SharePoint.Client.ResourceNotFoundException', `Cannot find resource for the request ${ctx.api.split('/').pop()}.`);
  need(ctx, ADMIN_ROLES);
};

const loginName = (u: User): string => `i:0#.f|membership|${u.userPrincipalName.toLowerCase()}`;

/** A user from a login name (i:0#.f|membership|upn), a UPN or an email address. */
function userOf(ctx: SpCtx, ref: unknown): User {
  if (typeof ref !== 'string' || !ref) throw badArg('The user is required.');
  const upn = ref.includes('|') ? ref.split('|').pop()! : ref;
  const user = ctx.store.findUser(upn) ?? [...ctx.store.users.values()].find((u) => u.mail?.toLowerCase() === upn.toLowerCase());
  if (!user) throw new SpError(400, '-2146232832, Microsoft.SharePoint.SPException', `The user does not exist or is not unique.`);
  return user;
}

function requireSiteByUrl(ctx: SpCtx, url: unknown, opts: { deleted?: boolean } = {}): Site {
  if (typeof url !== 'string' || !/^https:\/\//i.test(url)) throw badArg('The url must be an absolute https URL of a site.');
  const site = siteByUrl(ctx.store, url, opts);
  if (!site) throw notFound();
  return site;
}

function sharingOf(v: unknown): SharingCapability {
  const byIndex = typeof v === 'number' ? SHARING_CAPABILITIES[v] : SHARING_CAPABILITIES.find((x) => x === v);
  if (!byIndex) throw badArg(`SharingCapability must be one of ${SHARING_CAPABILITIES.map((x, i) => `${i} (${x})`).join(', ')}.`);
  return byIndex;
}

const sharingOfSite = (site: Site): NonNullable<Site['sharing']> => site.sharing ?? { defaultLinkType: 0, defaultLinkPermission: 0, guestExpirationDays: 0, overrideGuestExpiration: false };

/** SPO.Tenant SiteProperties, the fields the admin center and Get-SPOSite show. */
function siteProperties(ctx: SpCtx, site: Site): Record<string, unknown> {
  const owner = site.ownerId ? ctx.store.userById(site.ownerId) : undefined;
  return {
    SiteId: site.siteCollectionId,
    Url: site.url,
    Title: site.title,
    Template: site.template,
    Lcid: site.lcid,
    Owner: owner ? owner.userPrincipalName : '',
    OwnerLoginName: owner ? loginName(owner) : '',
    OwnerEmail: owner?.mail ?? '',
    GroupId: site.groupId ?? '00000000-0000-0000-0000-000000000000',
    StorageMaximumLevel: site.storageMaximumLevelMB,
    StorageWarningLevel: site.storageWarningLevelMB,
    StorageUsage: storageUsedMB(site),
    SharingCapability: SHARING_CAPABILITIES.indexOf(site.sharingCapability),
    LockState: site.lockState,
    DefaultSharingLinkType: sharingOfSite(site).defaultLinkType,
    DefaultLinkPermission: sharingOfSite(site).defaultLinkPermission,
    ExternalUserExpirationInDays: sharingOfSite(site).guestExpirationDays,
    OverrideTenantExternalUserExpirationPolicy: sharingOfSite(site).overrideGuestExpiration,
    Status: 'Active',
    LastContentModifiedDate: site.lastModifiedDateTime,
    IsHubSite: false,
  };
}

/** SiteStatus: 0 not found, 1 provisioning, 2 ready, 3 error. */
function spSiteStatus(ctx: SpCtx, url: string): Record<string, unknown> {
  const pending = pendingSiteAt(ctx.store, url);
  if (pending) return { SiteId: pending.siteCollectionId, SiteStatus: 1, SiteUrl: pending.url };
  const site = siteByUrl(ctx.store, url);
  return site ? { SiteId: site.siteCollectionId, SiteStatus: 2, SiteUrl: site.url } : { SiteId: '00000000-0000-0000-0000-000000000000', SiteStatus: 0, SiteUrl: '' };
}

/** How long SharePoint takes, at time scale 1 (divided by the sandbox's time scale). */
export const SITE_PROVISIONING_MS = 30_000;
export const ONEDRIVE_PROVISIONING_MS = 30_000;

const SITE_REQUEST_PROPERTIES = new Set(['Title', 'Url', 'Lcid', 'ShareByEmailEnabled', 'Classification', 'Description', 'WebTemplate', 'SiteDesignId', 'Owner', 'WebTemplateExtensionId', 'HubSiteId', 'SensitivityLabel', 'TimeZoneId', '__metadata']);

const TEMPLATES = new Set(['SITEPAGEPUBLISHING#0', 'STS#3']);

function createModernSite(ctx: SpCtx): Record<string, unknown> {
  need(ctx, ADMIN_ROLES);
  const req = (ctx.body['request'] ?? {}) as Record<string, unknown>;
  const url = String(req['Url'] ?? '');
  const m = /^https:\/\/([^/]+)\/(sites|teams)\/([A-Za-z0-9_.-]+)\/?$/i.exec(url);
  if (!m || m[1]!.toLowerCase() !== rootHost(ctx.store)) throw badArg(`The site URL must be https://${rootHost(ctx.store)}/sites/{name} or /teams/{name}.`);
  const template = String(req['WebTemplate'] ?? 'SITEPAGEPUBLISHING#0');
  if (!TEMPLATES.has(template)) throw badArg(`WebTemplate ${template} is not supported: use SITEPAGEPUBLISHING#0 (communication site) or STS#3 (team site without a group).`);
  if (typeof req['Title'] !== 'string' || !req['Title']) throw badArg('Title is required.');
  for (const k of Object.keys(req)) if (!SITE_REQUEST_PROPERTIES.has(k)) throw badArg(`The property '${k}' does not exist on type 'Microsoft.SharePoint.Portal.SPSiteCreationRequest'. Make sure to only use property names that are defined by the type.`);
  const lcid = Number(req['Lcid'] ?? 1033);
  if (!Number.isInteger(lcid) || lcid <= 0) throw badArg('Lcid must be a language code identifier such as 1033.');
  // A site already being provisioned at this address answers its own status again.
  const pending = pendingSiteAt(ctx.store, url);
  if (pending) return { SiteId: pending.siteCollectionId, SiteStatus: 1, SiteUrl: pending.url };
  // Sandbox choice: an address in use (a live or a deleted site) answers SiteStatus 3 and no site id.
  if (siteByUrl(ctx.store, url) || siteByUrl(ctx.store, url, { deleted: true })) return { SiteId: '00000000-0000-0000-0000-000000000000', SiteStatus: 3, SiteUrl: url };
  const owner = userOf(ctx, req['Owner']);
  // SharePoint answers at once with SiteStatus 1 (provisioning); the site exists some seconds later.
  const p = requestSite(ctx.store, { url: url.replace(/\/$/, ''), title: req['Title'], template, ownerId: owner.id, lcid, description: String(req['Description'] ?? ''), nowIso: ctx.nowIso, readyAtMs: Date.parse(ctx.nowIso) + SITE_PROVISIONING_MS / ctx.rt.opts.timeScale });
  ctx.mutated('site.create', p.siteCollectionId);
  return { SiteId: p.siteCollectionId, SiteStatus: 1, SiteUrl: p.url };
}

function setSiteAdmin(ctx: SpCtx): void {
  adminOnly(ctx);
  const site = requireSiteByUrl(ctx, ctx.body['siteUrl']);
  const user = userOf(ctx, ctx.body['loginName']);
  const make = ctx.body['isSiteAdmin'] !== false;
  if (!make && site.ownerId === user.id) throw new SpError(400, '-2146232832, Microsoft.SharePoint.SPException', 'The primary site collection administrator cannot be removed. Change the owner first.');
  const has = site.admins.includes(user.id);
  if (make && !has) site.admins.push(user.id);
  if (!make && has) site.admins = site.admins.filter((x) => x !== user.id);
  if (make !== has) ctx.mutated(make ? 'site.addAdmin' : 'site.removeAdmin', site.siteCollectionId, user.id);
}

function patchSiteProperties(ctx: SpCtx, site: Site): void {
  const b = ctx.body;
  const known = new Set(['Title', 'StorageMaximumLevel', 'StorageWarningLevel', 'SharingCapability', 'LockState', 'Owner', 'SetOwnerWithoutUpdatingSecondaryAdmin', 'DefaultSharingLinkType', 'DefaultLinkPermission', 'ExternalUserExpirationInDays', 'OverrideTenantExternalUserExpirationPolicy', '__metadata']);
  for (const k of Object.keys(b)) if (!known.has(k)) throw badArg(`The property '${k}' does not exist on type 'Microsoft.Online.SharePoint.TenantAdministration.SiteProperties' or cannot be set by the sandbox.`);
  const next = { ...site };
  if (typeof b['Title'] === 'string') next.title = b['Title'];
  if (b['StorageMaximumLevel'] !== undefined) next.storageMaximumLevelMB = Number(b['StorageMaximumLevel']);
  if (b['StorageWarningLevel'] !== undefined) next.storageWarningLevelMB = Number(b['StorageWarningLevel']);
  if (!(next.storageMaximumLevelMB > 0) || !(next.storageWarningLevelMB > 0)) throw badArg('Storage levels are positive numbers of megabytes.');
  if (next.storageWarningLevelMB > next.storageMaximumLevelMB) throw badArg('The storage warning level must not exceed the storage maximum level.');
  if (next.storageMaximumLevelMB > 26_214_400) throw badArg('The storage maximum level cannot exceed 25 TB (26214400 MB).');
  if (b['SharingCapability'] !== undefined) next.sharingCapability = sharingOf(b['SharingCapability']);
  const sharing = { ...sharingOfSite(site) };
  const intIn = (key: string, lo: number, hi: number, what: string): number => {
    const v = b[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw badArg(`${key} must be ${what}.`);
    return v;
  };
  // DefaultSharingLinkType 0 none (tenant default), 1 specific people, 2 organization, 3 anyone; DefaultLinkPermission 0 none, 1 view, 2 edit.
  if (b['DefaultSharingLinkType'] !== undefined) sharing.defaultLinkType = intIn('DefaultSharingLinkType', 0, 3, '0 (None), 1 (Direct), 2 (Internal) or 3 (AnonymousAccess)');
  if (b['DefaultLinkPermission'] !== undefined) sharing.defaultLinkPermission = intIn('DefaultLinkPermission', 0, 2, '0 (None), 1 (View) or 2 (Edit)');
  if (b['ExternalUserExpirationInDays'] !== undefined) sharing.guestExpirationDays = intIn('ExternalUserExpirationInDays', 0, 730, 'a number of days from 0 to 730');
  if (b['OverrideTenantExternalUserExpirationPolicy'] !== undefined) {
    if (typeof b['OverrideTenantExternalUserExpirationPolicy'] !== 'boolean') throw badArg('OverrideTenantExternalUserExpirationPolicy must be true or false.');
    sharing.overrideGuestExpiration = b['OverrideTenantExternalUserExpirationPolicy'];
  }
  if (sharing.defaultLinkType === 3 && (next.sharingCapability === 'Disabled' || next.sharingCapability === 'ExistingExternalUserSharingOnly' || next.sharingCapability === 'ExternalUserSharingOnly'))
    throw badArg('Anyone links cannot be the default on a site whose sharing setting does not allow anyone links (SharingCapability 2).');
  next.sharing = sharing;
  if (b['LockState'] !== undefined) {
    if (!['Unlock', 'ReadOnly', 'NoAccess'].includes(String(b['LockState']))) throw badArg('LockState must be Unlock, ReadOnly or NoAccess.');
    next.lockState = b['LockState'] as Site['lockState'];
  }
  if (b['Owner'] !== undefined) {
    const owner = userOf(ctx, b['Owner']);
    next.ownerId = owner.id;
    if (!next.admins.includes(owner.id)) next.admins = [...next.admins, owner.id];
  }
  Object.assign(site, next);
  ctx.mutated('site.update', site.siteCollectionId);
}

const RECYCLE_TYPE = { File: 1, Folder: 5 } as const;

function recycleBinRoute(ctx: SpCtx, site: Site, rest: string): unknown {
  if (!rest) {
    need(ctx, READ_ROLES);
    return site.recycleBin.map((r) => ({ Id: r.id, Title: r.title, LeafName: r.title, DirName: r.dirName, DeletedDate: r.deletedDate, DeletedByEmail: r.deletedByEmail ?? '', ItemType: RECYCLE_TYPE[r.itemType], ItemState: 1, Size: String(r.items.reduce((n, i) => n + i.size, 0)) }));
  }
  need(ctx, WRITE_ROLES);
  if (/^\/DeleteAll$/i.test(rest) && ctx.method === 'POST') {
    site.recycleBin = [];
    ctx.mutated('site.emptyRecycleBin', site.siteCollectionId);
    return null;
  }
  const m = /^\('([^']+)'\)\/(Restore|DeleteObject)$/i.exec(rest);
  if (!m || ctx.method !== 'POST') throw notFound();
  const entry = site.recycleBin.find((r) => r.id === m[1]);
  if (!entry) throw new SpError(404, '-2147024809, System.ArgumentException', 'Item does not exist. It may have been deleted by another user.');
  if (m[2]!.toLowerCase() === 'restore') {
    const top = entry.items[0]!;
    if (!top.parentId || !site.items[top.parentId]) throw new SpError(400, '-2146232832, Microsoft.SharePoint.SPException', 'The folder this item was deleted from no longer exists. Restore the folder first.');
    if (Object.values(site.items).some((x) => x.parentId === top.parentId && x.name.toLowerCase() === top.name.toLowerCase()))
      throw new SpError(400, '-2130575257, Microsoft.SharePoint.SPException', `A file or folder with the name ${top.name} already exists.`);
    for (const x of entry.items) site.items[x.id] = x;
  }
  site.recycleBin = site.recycleBin.filter((r) => r !== entry);
  ctx.mutated(m[2]!.toLowerCase() === 'restore' ? 'site.restoreItem' : 'site.purgeItem', site.siteCollectionId, entry.itemId);
  return null;
}

const userRow = (u: User, i: number, site: Site) => ({ Id: i + 7, LoginName: loginName(u), Title: u.displayName, Email: u.mail ?? '', UserPrincipalName: u.userPrincipalName, IsSiteAdmin: site.admins.includes(u.id), PrincipalType: 1 });

/** The site's Owners group (web/AssociatedOwnerGroup/Users): list, add ({LoginName}), removeByLoginName. */
function ownersRoute(ctx: SpCtx, site: Site, rest: string): unknown {
  const ownerIds = site.groupId ? [...ctx.store.ownersOf(site.groupId)] : (site.owners ?? []);
  if (!rest && ctx.method === 'GET') {
    need(ctx, READ_ROLES);
    return ownerIds.map((id) => ctx.store.userById(id)).filter((u): u is User => !!u).map((u, i) => userRow(u, i, site));
  }
  need(ctx, ADMIN_ROLES);
  // Sandbox choice of message: a group-connected site's owners are the group's owners.
  if (site.groupId) throw new SpError(400, '-2146232832, Microsoft.SharePoint.SPException', 'This site belongs to a Microsoft 365 group. Add or remove owners in the group.');
  if (!rest && ctx.method === 'POST') {
    const user = userOf(ctx, ctx.body['LoginName']);
    if (!ownerIds.includes(user.id)) {
      site.owners = [...ownerIds, user.id];
      ctx.mutated('site.addOwner', site.siteCollectionId, user.id);
    }
    return userRow(user, ownerIds.length, site);
  }
  const rm = /^\/removeByLoginName\((?:'([^']*)'|@v)\)$/i.exec(rest);
  if (rm && ctx.method === 'POST') {
    const login = rm[1] ?? (ctx.query.get('@v') ?? '').replace(/^'|'$/g, '');
    const user = userOf(ctx, login);
    if (!ownerIds.includes(user.id)) throw new SpError(404, '-2146232832, Microsoft.SharePoint.SPException', 'User cannot be found.');
    site.owners = ownerIds.filter((x) => x !== user.id);
    ctx.mutated('site.removeOwner', site.siteCollectionId, user.id);
    return null;
  }
  throw notFound();
}

/** Routes of one request; returns the body (null = the method returned nothing). */
function route(ctx: SpCtx): unknown {
  const api = ctx.api;
  const post = ctx.method === 'POST';
  let m: RegExpExecArray | null;

  if (/^SPSiteManager\/create$/i.test(api) && post) return createModernSite(ctx);
  if (/^SPSiteManager\/status$/i.test(api) && ctx.method === 'GET') {
    need(ctx, READ_ROLES);
    return spSiteStatus(ctx, (ctx.query.get('url') ?? '').replace(/^'|'$/g, ''));
  }
  if (/^SPSiteManager\/delete$/i.test(api) && post) {
    need(ctx, ADMIN_ROLES);
    const site = siteById(ctx.store, String(ctx.body['siteId'] ?? ''));
    if (!site || site.groupId || site.personalOwnerId) throw notFound();
    site.deletedDateTime = ctx.nowIso;
    ctx.mutated('site.delete', site.siteCollectionId);
    return null;
  }

  if (/^SPO\.Tenant\/GetSitePropertiesByUrl$/i.test(api) && post) {
    adminOnly(ctx);
    return siteProperties(ctx, requireSiteByUrl(ctx, ctx.body['url'] ?? ctx.body['Url']));
  }
  if ((m = /^SPO\.Tenant\/sites\('([^']+)'\)$/i.exec(decodeURIComponent(api)))) {
    adminOnly(ctx);
    const site = siteById(ctx.store, m[1]!);
    if (!site) throw notFound();
    if (ctx.method === 'GET') return siteProperties(ctx, site);
    if (ctx.method === 'PATCH' || ctx.method === 'MERGE' || (post && ctx.body['__metadata'])) {
      patchSiteProperties(ctx, site);
      return undefined;
    }
  }
  if (/^SPO\.Tenant\/SetSiteAdmin$/i.test(api) && post) {
    setSiteAdmin(ctx);
    return null;
  }
  if (/^SPO\.Tenant\/RemoveSite$/i.test(api) && post) {
    adminOnly(ctx);
    const site = requireSiteByUrl(ctx, ctx.body['siteUrl']);
    if (site.groupId) throw new SpError(400, '-2146232832, Microsoft.SharePoint.SPException', 'This site belongs to a Microsoft 365 group. To delete the site, you must delete the group.');
    if (site.url === `https://${rootHost(ctx.store)}`) throw new SpError(400, '-2146232832, Microsoft.SharePoint.SPException', 'The root site of the tenant cannot be deleted here.');
    site.deletedDateTime = ctx.nowIso;
    ctx.mutated('site.delete', site.siteCollectionId);
    return { IsComplete: true, PollingInterval: 15000 };
  }
  if ((m = /^SPO\.Tenant\/(RestoreDeletedSite|RemoveDeletedSite)$/i.exec(api)) && post) {
    adminOnly(ctx);
    const site = requireSiteByUrl(ctx, ctx.body['siteUrl'], { deleted: true });
    if (m[1]!.toLowerCase() === 'restoredeletedsite') {
      if (siteByUrl(ctx.store, site.url)) throw new SpError(400, '-2146232832, Microsoft.SharePoint.SPException', `A site already exists at ${site.url}.`);
      site.deletedDateTime = null;
      ctx.mutated('site.restore', site.siteCollectionId);
    } else {
      purgeSite(ctx.store, site);
      ctx.mutated('site.permanentDelete', site.siteCollectionId);
    }
    return { IsComplete: true, PollingInterval: 15000 };
  }
  // The tenant's deleted sites (CSOM Tenant.GetDeletedSitePropertiesFromSharePoint(startIndex)), and
  // one of them by URL: POST, as the Tenant methods are on the admin site's REST endpoint.
  if ((m = /^SPO\.Tenant\/(GetDeletedSitePropertiesFromSharePoint|GetDeletedSitePropertiesByUrl)$/i.exec(api)) && post) {
    adminOnly(ctx);
    const byUrl = m[1]!.toLowerCase() === 'getdeletedsitepropertiesbyurl';
    const allowed = byUrl ? ['siteUrl'] : ['startIndex'];
    const unknown = Object.keys(ctx.body).filter((k) => !allowed.includes(k));
    if (unknown.length) throw badArg(`The parameter ${unknown[0]} does not exist in method ${m[1]}.`);
    const props = (s: ReturnType<typeof allSites>[number]) => ({ SiteId: s.siteCollectionId, Url: s.url, DeletionTime: s.deletedDateTime, DaysRemaining: 93 - Math.floor((Date.parse(ctx.nowIso) - Date.parse(s.deletedDateTime!)) / 86_400_000), Status: 'Recycled' });
    if (byUrl) return props(requireSiteByUrl(ctx, ctx.body['siteUrl'], { deleted: true }));
    return allSites(ctx.store, { deleted: true }).map(props);
  }
  if (/^SP\.UserProfiles\.ProfileLoader\.GetProfileLoader\/CreatePersonalSiteEnqueueBulk$/i.test(api) && post) {
    adminOnly(ctx);
    const emails = ctx.body['emailIDs'];
    if (!Array.isArray(emails) || !emails.length) throw badArg('emailIDs is required.');
    if (emails.length > 200) throw badArg('At most 200 users can be enqueued in one request.');
    // Unknown or unlicensed users are skipped without an error, as SharePoint's queue does; the others'
    // OneDrives exist once the queue has processed them.
    const readyAtMs = Date.parse(ctx.nowIso) + ONEDRIVE_PROVISIONING_MS / ctx.rt.opts.timeScale;
    for (const e of emails) {
      const user = ctx.store.findUser(String(e)) ?? [...ctx.store.users.values()].find((u) => u.mail?.toLowerCase() === String(e).toLowerCase());
      if (user && enqueuePersonalSite(ctx.store, user, readyAtMs)) ctx.mutated('onedrive.provision', user.id);
    }
    return null;
  }

  // Site-scoped calls: the site is the URL before /_api.
  const site = siteByUrl(ctx.store, ctx.siteUrl);
  if (!site || (site.lockState === 'NoAccess' && ctx.method === 'GET')) throw notFound();
  if (/^web$/i.test(api)) {
    need(ctx, READ_ROLES);
    return { Id: site.webId, Title: site.title, Description: site.description, Url: site.url, ServerRelativeUrl: new URL(site.url).pathname, Created: site.createdDateTime, WebTemplate: site.template.split('#')[0], Language: site.lcid };
  }
  if (/^site$/i.test(api)) {
    need(ctx, READ_ROLES);
    return { Id: site.siteCollectionId, Url: site.url, ServerRelativeUrl: new URL(site.url).pathname, ReadOnly: site.lockState !== 'Unlock', GroupId: site.groupId ?? '00000000-0000-0000-0000-000000000000' };
  }
  if (/^web\/siteusers$/i.test(api) && ctx.method === 'GET') {
    need(ctx, READ_ROLES);
    const ids = new Set([...site.admins, ...(site.groupId ? [...ctx.store.membersOf(site.groupId)] : [])]);
    const users = [...ids].map((id) => ctx.store.userById(id)).filter((u): u is User => !!u);
    const rows = users.map((u, i) => ({ Id: i + 7, LoginName: loginName(u), Title: u.displayName, Email: u.mail ?? '', UserPrincipalName: u.userPrincipalName, IsSiteAdmin: site.admins.includes(u.id), PrincipalType: 1 }));
    return /IsSiteAdmin eq true/i.test(ctx.query.get('$filter') ?? '') ? rows.filter((r) => r.IsSiteAdmin) : rows;
  }
  if ((m = /^(?:site|web)\/RecycleBin(.*)$/i.exec(api))) return recycleBinRoute(ctx, site, m[1]!);
  if ((m = /^web\/AssociatedOwnerGroup\/Users(.*)$/i.exec(decodeURIComponent(api)))) return ownersRoute(ctx, site, m[1]!);
  throw new SpError(404, '-1, Microsoft.SharePoint.Client.InvalidClientQueryException', `The sandbox does not serve ${ctx.method} _api/${api}.`);
}

function errorJson(err: SpError, verbose: boolean): unknown {
  const e = { code: err.code, message: { lang: 'en-US', value: err.message } };
  return verbose ? { error: e } : { 'odata.error': e };
}

function wrap(value: unknown, verbose: boolean): unknown {
  if (value === null) return verbose ? { d: null } : { 'odata.null': true };
  if (Array.isArray(value)) return verbose ? { d: { results: value } } : { value };
  return verbose ? { d: value } : value;
}

export function sharepointSurface(): Surface {
  return {
    matches: (path) => /^\/_sharepoint\//i.test(path),
    async handle(rt, req) {
      const started = performance.now();
      const nowMs = rt.now();
      const requestId = randomUUID();
      const verbose = /odata=verbose/i.test(req.headers['accept'] ?? '');
      const headers = { 'content-type': `application/json;${verbose ? 'odata=verbose' : 'odata=nometadata'};charset=utf-8`, 'request-id': requestId, sprequestguid: requestId };
      const m = /^\/_sharepoint\/([^/]+)(\/.*?)?\/_api\/(.+)$/i.exec(req.url.pathname);
      let caller: Caller | undefined;
      const pending: { op: string; ids: string[] }[] = [];
      const finish = (status: number, body: unknown, extra: Record<string, string> = {}) => {
        rt.log.add({ time: new Date(nowMs).toISOString(), surface: 'sharepoint', method: req.method, path: req.url.pathname, status, durationMs: Math.round(performance.now() - started), requestId, tenantId: caller?.tenantId, appId: caller?.appId, ...(pending.length && status < 400 ? { ops: pending.map((p) => p.op) } : {}) });
        return { status, body, headers: { ...headers, ...extra } };
      };
      if (!m) return finish(404, errorJson(notFound(), verbose));
      const host = m[1]!.toLowerCase();
      const tenant = /^([a-z0-9]+)(?:-admin|-my)?\.sharepoint\.com$/.exec(host)?.[1];
      const store = [...rt.tenants.values()].find((s) => s.info.initialDomain.split('.')[0]!.toLowerCase() === tenant);
      if (!store) return finish(404, errorJson(notFound(), verbose));
      const audiences = [`https://${rootHost(store)}`, `https://${adminHost(store)}`, `https://${myHost(store)}`, '00000003-0000-0ff1-ce00-000000000000'];
      const challenge = { 'www-authenticate': `Bearer realm="${store.info.id}",client_id="00000003-0000-0ff1-ce00-000000000000",trusted_issuers="00000001-0000-0000-c000-000000000000@*",authorization_uri="https://login.windows.net/common/oauth2/authorize"` };
      try {
        const verified = verifyBearer(req.headers['authorization'], rt.signing, audiences, nowMs);
        caller = verified.caller;
        if (caller.tenantId !== store.info.id) throw new Error('Invalid issuer or signature.');
        // SharePoint accepts app-only tokens only from a certificate credential (appidacr 2).
        if (verified.appAuthentication === '1') return finish(401, { error_description: 'Unsupported app only token.' }, challenge);
      } catch (err) {
        caller = undefined;
        return finish(401, { error_description: (err as Error).message }, challenge);
      }
      const body = req.body && typeof req.body === 'object' && !(req.body instanceof URLSearchParams) ? (req.body as Record<string, unknown>) : {};
      const method = (req.headers['x-http-method'] ?? req.method).toUpperCase();
      const ctx: SpCtx = {
        rt,
        store,
        caller,
        host,
        siteUrl: `https://${host}${m[2] ?? ''}`,
        api: m[3]!,
        method,
        query: req.url.searchParams,
        body,
        nowIso: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        mutated: (op, ...ids) => pending.push({ op, ids: ids.map((i) => i.toLowerCase()) }),
      };
      settleSharePoint(store, nowMs);
      // Only scripted faults whose pattern names a SharePoint request ("POST /_sharepoint/..."): the
      // random fault storm and catch-all scripts stay on Graph and Exchange.
      const fault = rt.faults.decideScripted(`${req.method} ${req.url.pathname}`);
      const failed = () => {
        if (fault!.status === 'drop') return { status: 0, body: undefined, headers: {}, drop: true };
        return finish(fault!.status, errorJson(new SpError(fault!.status, '-2147024860, Microsoft.SharePoint.SPServerBusyException', 'The server is busy. Please try again later.'), verbose), { 'retry-after': String(fault!.retryAfterSeconds) });
      };
      if (fault && !fault.afterEffect) return failed();
      try {
        const value = route(ctx);
        for (const p of pending) rt.log.recordMutation({ time: ctx.nowIso, tenantId: store.info.id, appId: caller.appId, op: p.op, objectIds: p.ids, method, path: req.url.pathname, requestId });
        // After its effect: the request took effect and its answer is lost.
        if (fault) return failed();
        return value === undefined ? finish(204, undefined) : finish(200, wrap(value, verbose));
      } catch (err) {
        pending.length = 0;
        if (err instanceof SpError) return finish(err.status, errorJson(err, verbose));
        throw err;
      }
    },
  };
}
