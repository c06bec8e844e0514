// Handlers of the SharePoint site actions (catalog/actions/sites.ts): SharePoint REST on the tenant's
// hosts (ctx.sharepoint), Graph for the owners of group-connected sites.
import * as c from '../../catalog/actions/sites.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import type { Change } from '../../catalog/contract.ts';
import { GONE_NOTE } from '../../catalog/reversal.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { addToGroup, getGroup, getUser, removeFromGroup, type GraphUser } from './shared.ts';
import { change, creation, groupObject, knownAfterRun, memberProperty, propertyChanges, relations } from './changes.ts';
import { pollUntil } from './operations.ts';

const NO_GROUP = '00000000-0000-0000-0000-000000000000';
const SHARING = ['Disabled', 'ExternalUserSharingOnly', 'ExternalUserAndGuestSharing', 'ExistingExternalUserSharingOnly'] as const;
const LINK_TYPES = ['tenantDefault', 'specificPeople', 'organization', 'anyone'] as const;
const LINK_PERMISSIONS = ['tenantDefault', 'view', 'edit'] as const;

export interface SiteProperties {
  SiteId: string;
  Url: string;
  Title: string;
  Template: string;
  Owner: string;
  GroupId: string;
  StorageMaximumLevel: number;
  StorageWarningLevel: number;
  StorageUsage: number;
  SharingCapability: number;
  LockState: string;
  DefaultSharingLinkType?: number;
  DefaultLinkPermission?: number;
  ExternalUserExpirationInDays?: number;
  OverrideTenantExternalUserExpirationPolicy?: boolean;
}

export const loginName = (u: GraphUser): string => `i:0#.f|membership|${u.userPrincipalName.toLowerCase()}`;
export const normalUrl = (url: string): string => url.replace(/\/+$/, '');

/** A site's SPO.Tenant properties, or undefined when there is no live site at that address. */
export async function siteProperties(ctx: PlanContext, url: string): Promise<SiteProperties | undefined> {
  try {
    return await ctx.sharepoint.admin<SiteProperties>('POST', 'SPO.Tenant/GetSitePropertiesByUrl', { url: normalUrl(url), includeDetail: true }, ctx.signal);
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export async function requireSite(ctx: PlanContext, url: string): Promise<SiteProperties> {
  const p = await siteProperties(ctx, url);
  if (!p) throw new ActionError(`there is no site at ${normalUrl(url)}`, { code: 'SiteNotFound', hint: 'check the address (https://{tenant}.sharepoint.com/sites/{name}); a deleted site is in the deleted sites', status: 404 });
  return p;
}

export async function patchSite(ctx: ActionContext, p: SiteProperties, changes: Record<string, unknown>): Promise<void> {
  await ctx.sharepoint.admin('PATCH', `SPO.Tenant/sites('${p.SiteId}')`, changes, ctx.signal);
}

async function deletedSites(ctx: PlanContext): Promise<{ Url: string; SiteId?: string }[]> {
  const r = await ctx.sharepoint.admin<{ value?: { Url: string; SiteId?: string }[] } | { Url: string; SiteId?: string }[]>('POST', 'SPO.Tenant/GetDeletedSitePropertiesFromSharePoint', { startIndex: '0' }, ctx.signal);
  return Array.isArray(r) ? r : (r?.value ?? []);
}

/** The site at this address in the deleted sites, if it is there. */
const deletedSite = async (ctx: PlanContext, url: string) => (await deletedSites(ctx)).find((s) => normalUrl(s.Url).toLowerCase() === normalUrl(url).toLowerCase());
const isDeleted = async (ctx: PlanContext, url: string): Promise<boolean> => !!(await deletedSite(ctx, url));

interface SiteStatus {
  SiteId: string;
  SiteStatus: number;
  SiteUrl: string;
}

async function siteStatus(ctx: PlanContext, root: string, url: string): Promise<SiteStatus> {
  return ctx.sharepoint.call<SiteStatus>('GET', `${root}/_api/SPSiteManager/status?url='${encodeURIComponent(url)}'`, undefined, ctx.signal);
}

const siteTaken = (url: string) =>
  new ActionError(`a site already exists at ${url} (or is in the deleted sites)`, {
    code: 'SiteAlreadyExists',
    hint: 'pick another alias, or restore / purge the deleted site first',
    status: 409,
  });

export const siteCreate = implement(c.siteCreate, async (input, ctx) => {
  const owner = await getUser(ctx.graph, input.owner);
  const { root } = await ctx.sharepoint.hosts(ctx.signal);
  const url = `${root}/${input.managedPath}/${input.alias}`;
  const conflict = () => siteTaken(url);
  let status = await siteStatus(ctx, root, url);
  if (status.SiteStatus === 2) {
    // Ours only if an earlier attempt of this step made it (same title and owner).
    const p = await siteProperties(ctx, url);
    if (ctx.attempt > 1 && p && p.Title === input.title && p.Owner.toLowerCase() === owner.userPrincipalName.toLowerCase()) return { siteId: p.SiteId, url, created: true };
    throw conflict();
  }
  if (status.SiteStatus !== 1) {
    status = await ctx.sharepoint.call<SiteStatus>('POST', `${root}/_api/SPSiteManager/create`, {
      request: {
        Title: input.title,
        Url: url,
        Lcid: input.language,
        WebTemplate: webTemplate(input.template),
        Owner: owner.userPrincipalName,
        ...(input.description ? { Description: input.description } : {}),
        ...(input.sensitivityLabel ? { SensitivityLabel: input.sensitivityLabel } : {}),
        ...(input.classification ? { Classification: input.classification } : {}),
        ShareByEmailEnabled: false,
      },
    }, ctx.signal);
    if (status.SiteStatus === 3) throw conflict();
  }
  // 1 = provisioning: SharePoint finishes in the background.
  const ready = await pollUntil(ctx, `site ${url} to be provisioned`, async () => {
    const s = status.SiteStatus === 2 ? status : await siteStatus(ctx, root, url);
    status = s;
    if (s.SiteStatus === 3) throw new ActionError(`SharePoint could not create the site at ${url}`, { code: 'SiteCreationFailed', hint: 'check the owner, template and language, then run the step again' });
    return s.SiteStatus === 2 ? s : undefined;
  }, { firstMs: 1000 });
  return { siteId: ready.SiteId, url: normalUrl(ready.SiteUrl || url), created: true };
}, planSiteCreate);

const webTemplate = (t: 'communication' | 'team') => (t === 'communication' ? 'SITEPAGEPUBLISHING#0' : 'STS#3');

export const siteGet = implement(c.siteGet, async (input, ctx) => {
  const p = await siteProperties(ctx, input.site);
  if (!p) return { found: false, site: null };
  return {
    found: true,
    site: {
      siteId: p.SiteId,
      url: p.Url,
      title: p.Title,
      template: p.Template,
      owner: p.Owner,
      groupId: p.GroupId && p.GroupId !== NO_GROUP ? p.GroupId : null,
      storageMaximumMB: p.StorageMaximumLevel,
      storageWarningMB: p.StorageWarningLevel,
      storageUsedMB: p.StorageUsage,
      sharing: SHARING[p.SharingCapability] ?? String(p.SharingCapability),
      lockState: p.LockState,
    },
  };
});

/** The site collection administrators of a site, as user principal names (lower case). */
export async function siteAdmins(ctx: PlanContext, url: string): Promise<string[]> {
  const r = await ctx.sharepoint.call<{ value?: { UserPrincipalName?: string; LoginName: string }[] }>('GET', `${normalUrl(url)}/_api/web/siteusers?$filter=IsSiteAdmin eq true`, undefined, ctx.signal);
  return (r.value ?? []).map((u) => (u.UserPrincipalName ?? u.LoginName.split('|').pop()!).toLowerCase());
}

/** Adds or removes a site collection administrator; false when there was nothing to do. */
export async function setSiteAdmin(ctx: ActionContext, url: string, user: GraphUser, admin: boolean): Promise<boolean> {
  const has = (await siteAdmins(ctx, url)).includes(user.userPrincipalName.toLowerCase());
  if (has === admin) return false;
  await ctx.sharepoint.admin('POST', 'SPO.Tenant/SetSiteAdmin', { siteUrl: normalUrl(url), loginName: loginName(user), isSiteAdmin: admin }, ctx.signal);
  return true;
}

export const siteAddAdmin = implement(c.siteAddAdmin, async (input, ctx) => {
  const p = await requireSite(ctx, input.site);
  const user = await getUser(ctx.graph, input.user);
  return { url: p.Url, user: user.userPrincipalName, changed: await setSiteAdmin(ctx, p.Url, user, true) };
}, planAdmin(true));

function refusePrimary(p: SiteProperties, user: GraphUser): void {
  if (p.Owner.toLowerCase() === user.userPrincipalName.toLowerCase())
    throw new ActionError(`${user.userPrincipalName} is the primary administrator of ${p.Url}`, { code: 'PrimaryAdmin', hint: 'make someone else the owner first ("Change site owner")' });
}

export const siteRemoveAdmin = implement(c.siteRemoveAdmin, async (input, ctx) => {
  const p = await requireSite(ctx, input.site);
  const user = await getUser(ctx.graph, input.user);
  refusePrimary(p, user);
  return { url: p.Url, user: user.userPrincipalName, changed: await setSiteAdmin(ctx, p.Url, user, false) };
}, planAdmin(false));

const connected = (p: SiteProperties): boolean => !!p.GroupId && p.GroupId !== NO_GROUP;
const ownersPath = (p: SiteProperties) => `${normalUrl(p.Url)}/_api/web/AssociatedOwnerGroup/Users`;

/** Login names (lower case) in the Owners group of a site without a Microsoft 365 group. */
async function ownerLogins(ctx: PlanContext, p: SiteProperties): Promise<string[]> {
  return ((await ctx.sharepoint.call<{ value?: { LoginName: string }[] }>('GET', ownersPath(p), undefined, ctx.signal)).value ?? []).map((u) => u.LoginName.toLowerCase());
}

/** Owners: a group-connected site's are its group's owners; other sites have an Owners group. */
async function setSiteOwner(ctx: ActionContext, input: { site: string; user: string }, add: boolean) {
  const p = await requireSite(ctx, input.site);
  const user = await getUser(ctx.graph, input.user);
  if (connected(p)) {
    const g = await getGroup(ctx.graph, p.GroupId);
    if (add) {
      const owner = await addToGroup(ctx, g, user, 'owners');
      const member = await addToGroup(ctx, g, user, 'members');
      return { url: p.Url, user: user.userPrincipalName, changed: owner || member };
    }
    return { url: p.Url, user: user.userPrincipalName, changed: await removeFromGroup(ctx, g, user, 'owners') };
  }
  const base = ownersPath(p);
  const has = (await ownerLogins(ctx, p)).includes(loginName(user));
  if (has === add) return { url: p.Url, user: user.userPrincipalName, changed: false };
  if (add) await ctx.sharepoint.call('POST', base, { LoginName: loginName(user) }, ctx.signal);
  else await ctx.sharepoint.call('POST', `${base}/removeByLoginName(@v)?@v='${encodeURIComponent(loginName(user))}'`, undefined, ctx.signal);
  return { url: p.Url, user: user.userPrincipalName, changed: true };
}

export const siteAddOwner = implement(c.siteAddOwner, (input, ctx) => setSiteOwner(ctx, input, true), planOwner(true));
export const siteRemoveOwner = implement(c.siteRemoveOwner, (input, ctx) => setSiteOwner(ctx, input, false), planOwner(false));

/** Storage levels: the warning defaults to 90 % of the maximum. */
function warningLevel(maximum: number, warning: number | undefined): number {
  const warn = warning ?? Math.floor(maximum * 0.9);
  if (warn > maximum) throw new ActionError(`the warning level (${warn} MB) is above the maximum (${maximum} MB)`, { code: 'InvalidInput', hint: 'give a warning level at or below the maximum' });
  return warn;
}

export async function setQuota(ctx: ActionContext, p: SiteProperties, maximum: number, warning: number | undefined) {
  const warn = warningLevel(maximum, warning);
  const previous = { storageMaximumMB: p.StorageMaximumLevel, storageWarningMB: p.StorageWarningLevel };
  if (previous.storageMaximumMB !== maximum || previous.storageWarningMB !== warn) await patchSite(ctx, p, { StorageMaximumLevel: maximum, StorageWarningLevel: warn });
  return { url: p.Url, storageMaximumMB: maximum, storageWarningMB: warn, previous };
}

export const siteSetQuota = implement(c.siteSetQuota, async (input, ctx) => setQuota(ctx, await requireSite(ctx, input.site), input.storageMaximumMB, input.storageWarningMB), planSiteSetQuota);

export const siteSetSharing = implement(c.siteSetSharing, async (input, ctx) => {
  const p = await requireSite(ctx, input.site);
  const want: Record<string, unknown> = {};
  if (input.sharing !== undefined) want['SharingCapability'] = SHARING.indexOf(input.sharing);
  if (input.defaultLinkType !== undefined) want['DefaultSharingLinkType'] = LINK_TYPES.indexOf(input.defaultLinkType);
  if (input.defaultLinkPermission !== undefined) want['DefaultLinkPermission'] = LINK_PERMISSIONS.indexOf(input.defaultLinkPermission);
  // Compared as the catalog says it (0: the organisation's setting applies, whatever the site's own days).
  if (input.guestAccessExpiresAfterDays !== undefined && input.guestAccessExpiresAfterDays !== sharingOf(p).guestAccessExpiresAfterDays) {
    want['ExternalUserExpirationInDays'] = input.guestAccessExpiresAfterDays;
    want['OverrideTenantExternalUserExpirationPolicy'] = input.guestAccessExpiresAfterDays > 0;
  }
  const changes = Object.fromEntries(Object.entries(want).filter(([k, v]) => (p as unknown as Record<string, unknown>)[k] !== v));
  if (Object.keys(changes).length) await patchSite(ctx, p, changes);
  return { url: p.Url, changed: Object.keys(changes) };
}, planSiteSetSharing);

/** The site to lock or unlock (not the tenant's root site). */
async function lockable(ctx: PlanContext, url: string): Promise<SiteProperties> {
  const p = await requireSite(ctx, url);
  if (p.Url === (await ctx.sharepoint.hosts(ctx.signal)).root) throw new ActionError('the tenant\'s root site cannot be locked here', { code: 'InvalidInput' });
  return p;
}

async function setLock(ctx: ActionContext, url: string, lockState: string) {
  const p = await lockable(ctx, url);
  if (p.LockState !== lockState) await patchSite(ctx, p, { LockState: lockState });
  return { url: p.Url, lockState, previous: p.LockState };
}

export const siteLock = implement(c.siteLock, (input, ctx) => setLock(ctx, input.site, input.lockState), (input, ctx) => planLock(ctx, input.site, input.lockState));
export const siteUnlock = implement(c.siteUnlock, (input, ctx) => setLock(ctx, input.site, 'Unlock'), (input, ctx) => planLock(ctx, input.site, 'Unlock'));

export const siteSetOwner = implement(c.siteSetOwner, async (input, ctx) => {
  const p = await requireSite(ctx, input.site);
  const user = await getUser(ctx.graph, input.user);
  refuseGroupOwner(p);
  if (p.Owner.toLowerCase() === user.userPrincipalName.toLowerCase()) return { url: p.Url, owner: p.Owner, previousOwner: p.Owner, changed: false };
  await patchSite(ctx, p, { Owner: user.userPrincipalName, SetOwnerWithoutUpdatingSecondaryAdmin: true });
  return { url: p.Url, owner: user.userPrincipalName, previousOwner: p.Owner, changed: true };
}, planSiteSetOwner);

function refuseGroupOwner(p: SiteProperties): void {
  if (connected(p)) throw new ActionError(`${p.Url} belongs to a Microsoft 365 group: its owners are the group's`, { code: 'GroupConnectedSite', hint: 'use "Add site owner", which adds a group owner' });
}

function refuseGroupDelete(p: SiteProperties): void {
  if (connected(p)) throw new ActionError(`${p.Url} belongs to a Microsoft 365 group: it is deleted with the group`, { code: 'GroupConnectedSite', hint: 'remove the group ("Remove group" or "Remove team") instead' });
}

const noDeletedSite = (url: string) => new ActionError(`there is no site at ${url}, nor in the deleted sites`, { code: 'SiteNotFound', hint: 'deleted sites are kept for 93 days', status: 404 });
const notDeleted = (url: string) => new ActionError(`${url} is not deleted: only a site in the deleted sites can be removed for good`, { code: 'SiteNotDeleted', hint: 'delete it first ("Delete SharePoint site")' });

export const siteDelete = implement(c.siteDelete, async (input, ctx) => {
  const p = await siteProperties(ctx, input.site);
  if (!p) {
    if (await isDeleted(ctx, input.site)) return { url: normalUrl(input.site), deleted: false };
    await requireSite(ctx, input.site);
  }
  refuseGroupDelete(p!);
  const op = await ctx.sharepoint.admin<{ IsComplete?: boolean }>('POST', 'SPO.Tenant/RemoveSite', { siteUrl: p!.Url }, ctx.signal);
  if (op && op.IsComplete === false) await pollUntil(ctx, `site ${p!.Url} to be deleted`, async () => ((await isDeleted(ctx, p!.Url)) ? true : undefined), { firstMs: 2000 });
  return { url: p!.Url, deleted: true };
}, planSiteDelete);

export const siteRestore = implement(c.siteRestore, async (input, ctx) => {
  const url = normalUrl(input.site);
  if (await siteProperties(ctx, url)) return { url, restored: false };
  if (!(await isDeleted(ctx, url))) throw noDeletedSite(url);
  const op = await ctx.sharepoint.admin<{ IsComplete?: boolean }>('POST', 'SPO.Tenant/RestoreDeletedSite', { siteUrl: url }, ctx.signal);
  if (op && op.IsComplete === false) await pollUntil(ctx, `site ${url} to be restored`, async () => ((await siteProperties(ctx, url)) ? true : undefined), { firstMs: 2000 });
  return { url, restored: true };
}, planSiteRestore);

export const sitePurge = implement(c.sitePurge, async (input, ctx) => {
  const url = normalUrl(input.site);
  if (await siteProperties(ctx, url)) throw notDeleted(url);
  if (!(await isDeleted(ctx, url))) return { url, purged: false };
  const op = await ctx.sharepoint.admin<{ IsComplete?: boolean }>('POST', 'SPO.Tenant/RemoveDeletedSite', { siteUrl: url }, ctx.signal);
  if (op && op.IsComplete === false) await pollUntil(ctx, `site ${url} to be removed`, async () => ((await isDeleted(ctx, url)) ? undefined : true), { firstMs: 2000 });
  return { url, purged: true };
}, planSitePurge);

// ---- plans (docs/plan.md): read through the same SharePoint REST calls as the handlers ----

const siteObject = (url: string): string => `site ${normalUrl(url)}`;

async function planSiteCreate(input: InputOf<typeof c.siteCreate>, ctx: PlanContext): Promise<Change[]> {
  const owner = await getUser(ctx.graph, input.owner);
  const { root } = await ctx.sharepoint.hosts(ctx.signal);
  const url = `${root}/${input.managedPath}/${input.alias}`;
  // Provisioning (1) or ready (2) at that address, or a deleted site there: the address is taken.
  const { SiteStatus } = await siteStatus(ctx, root, url);
  if (SiteStatus === 1 || SiteStatus === 2 || (await isDeleted(ctx, url))) throw siteTaken(url);
  const properties = {
    title: input.title,
    template: webTemplate(input.template),
    owner: owner.userPrincipalName,
    description: input.description,
    language: input.language,
    sensitivityLabel: input.sensitivityLabel,
    classification: input.classification,
  };
  return creation(siteObject(url), properties, knownAfterRun('output.siteId'));
}

/** "admin anna@contoso.com": a site collection administrator, read from the site's users. */
function planAdmin(admin: boolean) {
  return async (input: { site: string; user: string }, ctx: PlanContext): Promise<Change[]> => {
    const p = await requireSite(ctx, input.site);
    const user = await getUser(ctx.graph, input.user);
    if (!admin) refusePrimary(p, user);
    const has = (await siteAdmins(ctx, p.Url)).includes(user.userPrincipalName.toLowerCase());
    return has === admin ? [] : [change(siteObject(p.Url), `admin ${user.userPrincipalName}`, has, admin, { objectId: p.SiteId })];
  };
}

/**
 * "owner anna@contoso.com": the site's Owners group; for a group-connected site the group's owners
 * (adding an owner also makes them a member, as the handler does).
 */
function planOwner(add: boolean) {
  return async (input: { site: string; user: string }, ctx: PlanContext): Promise<Change[]> => {
    const p = await requireSite(ctx, input.site);
    const user = await getUser(ctx.graph, input.user);
    if (connected(p)) {
      const g = await getGroup(ctx.graph, p.GroupId);
      const rel = relations(ctx.graph);
      const out: Change[] = [];
      const owner = await rel.has('owners', g.id, user.id);
      if (owner !== add) out.push(change(groupObject(g), memberProperty('owner', user), owner, add, { objectId: g.id }));
      if (add && !(await rel.has('members', g.id, user.id))) out.push(change(groupObject(g), memberProperty('member', user), false, true, { objectId: g.id }));
      return out;
    }
    const has = (await ownerLogins(ctx, p)).includes(loginName(user));
    return has === add ? [] : [change(siteObject(p.Url), memberProperty('owner', user), has, add, { objectId: p.SiteId })];
  };
}

async function planSiteSetQuota(input: InputOf<typeof c.siteSetQuota>, ctx: PlanContext): Promise<Change[]> {
  const p = await requireSite(ctx, input.site);
  const desired = { storageMaximumMB: input.storageMaximumMB, storageWarningMB: warningLevel(input.storageMaximumMB, input.storageWarningMB) };
  return propertyChanges(siteObject(p.Url), p.SiteId, { storageMaximumMB: p.StorageMaximumLevel, storageWarningMB: p.StorageWarningLevel }, desired);
}

/** A site's sharing settings in the catalog's words (guest expiry 0: the organisation's setting applies). */
function sharingOf(p: SiteProperties) {
  return {
    sharing: SHARING[p.SharingCapability] ?? String(p.SharingCapability),
    defaultLinkType: LINK_TYPES[p.DefaultSharingLinkType ?? 0] ?? String(p.DefaultSharingLinkType),
    defaultLinkPermission: LINK_PERMISSIONS[p.DefaultLinkPermission ?? 0] ?? String(p.DefaultLinkPermission),
    guestAccessExpiresAfterDays: p.OverrideTenantExternalUserExpirationPolicy ? (p.ExternalUserExpirationInDays ?? 0) : 0,
  };
}

async function planSiteSetSharing({ site, ...fields }: InputOf<typeof c.siteSetSharing>, ctx: PlanContext): Promise<Change[]> {
  const p = await requireSite(ctx, site);
  const current = sharingOf(p);
  const desired = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const next = { ...current, ...desired };
  // SharePoint refuses anyone links as the default where the site does not allow anyone links.
  if (next.defaultLinkType === 'anyone' && next.sharing !== 'ExternalUserAndGuestSharing')
    throw new ActionError(`anyone links cannot be the default on ${p.Url}: its sharing is ${next.sharing}`, { code: 'InvalidInput', hint: 'set sharing to ExternalUserAndGuestSharing, or choose another default link type' });
  return propertyChanges(siteObject(p.Url), p.SiteId, current, desired);
}

async function planLock(ctx: PlanContext, url: string, lockState: string): Promise<Change[]> {
  const p = await lockable(ctx, url);
  return p.LockState === lockState ? [] : [change(siteObject(p.Url), 'lockState', p.LockState, lockState, { objectId: p.SiteId })];
}

/** The primary admin; the new one becomes a site collection administrator too (the previous one stays one). */
async function planSiteSetOwner(input: InputOf<typeof c.siteSetOwner>, ctx: PlanContext): Promise<Change[]> {
  const p = await requireSite(ctx, input.site);
  const user = await getUser(ctx.graph, input.user);
  refuseGroupOwner(p);
  if (p.Owner.toLowerCase() === user.userPrincipalName.toLowerCase()) return [];
  const out = [change(siteObject(p.Url), 'owner', p.Owner, user.userPrincipalName, { objectId: p.SiteId })];
  if (!(await siteAdmins(ctx, p.Url)).includes(user.userPrincipalName.toLowerCase())) out.push(change(siteObject(p.Url), `admin ${user.userPrincipalName}`, false, true, { objectId: p.SiteId }));
  return out;
}

async function planSiteDelete(input: InputOf<typeof c.siteDelete>, ctx: PlanContext): Promise<Change[]> {
  const p = await siteProperties(ctx, input.site);
  if (!p) {
    if (await isDeleted(ctx, input.site)) return [];
    await requireSite(ctx, input.site);
  }
  refuseGroupDelete(p!);
  return [change(siteObject(p!.Url), 'exists', true, false, { objectId: p!.SiteId, note: c.SITE_RESTORABLE_NOTE })];
}

async function planSiteRestore(input: InputOf<typeof c.siteRestore>, ctx: PlanContext): Promise<Change[]> {
  const url = normalUrl(input.site);
  if (await siteProperties(ctx, url)) return [];
  const gone = await deletedSite(ctx, url);
  if (!gone) throw noDeletedSite(url);
  return [change(siteObject(url), 'exists', false, true, { ...(gone.SiteId ? { objectId: gone.SiteId } : {}), note: 'restored from the deleted sites' })];
}

async function planSitePurge(input: InputOf<typeof c.sitePurge>, ctx: PlanContext): Promise<Change[]> {
  const url = normalUrl(input.site);
  if (await siteProperties(ctx, url)) throw notDeleted(url);
  const gone = await deletedSite(ctx, url);
  if (!gone) return [];
  return [change(siteObject(url), 'inDeletedSites', true, false, { ...(gone.SiteId ? { objectId: gone.SiteId } : {}), note: GONE_NOTE })];
}
