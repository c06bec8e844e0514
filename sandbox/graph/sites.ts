// SharePoint sites and drives through Graph: /sites (root, by id, by host and path, search),
// /sites/{id}/drive(s), /groups/{id}/sites/root and /drive, /users/{id}/drive (OneDrive), /drives/{id}
// with root, items, children, folder creation, small uploads, rename, delete (to the site's recycle
// bin), and sharing: permissions and invite. SharePoint-backed Graph answers errors with its own codes
// (itemNotFound, accessDenied, nameAlreadyExists, invalidRequest), not the directory's.
import { createHash, randomUUID } from 'node:crypto';
import { GraphError } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import type { Caller, Reply } from '../types.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import type { TenantStore, User } from '../store.ts';
import {
  allSites,
  groupSite,
  itemId,
  itemPath,
  libraryName,
  personalSite,
  rootHost,
  siteByDriveId,
  siteById,
  siteByUrl,
  storageUsedMB,
  subtree,
  type DriveItem,
  type DrivePermission,
  type Site,
} from '../sharepoint/model.ts';
import { bodyObject, collection, entity, queryOptions, requireGroup, requireUser } from './common.ts';

const SITES_READ = ['Sites.Read.All', 'Sites.ReadWrite.All', 'Sites.Manage.All', 'Sites.FullControl.All'];
const FILES_READ = ['Files.Read.All', 'Files.ReadWrite.All', ...SITES_READ];
const FILES_WRITE = ['Files.ReadWrite.All', 'Sites.ReadWrite.All', 'Sites.Manage.All', 'Sites.FullControl.All'];

const SITE_TYPE: TypeInfo = { name: 'microsoft.graph.site', properties: new Set(['id', 'name', 'displayName', 'description', 'webUrl', 'createdDateTime', 'lastModifiedDateTime', 'siteCollection', 'root', 'isPersonalSite']) };
const DRIVE_TYPE: TypeInfo = { name: 'microsoft.graph.drive', properties: new Set(['id', 'name', 'description', 'driveType', 'webUrl', 'createdDateTime', 'lastModifiedDateTime', 'owner', 'quota']) };
const ITEM_TYPE: TypeInfo = {
  name: 'microsoft.graph.driveItem',
  properties: new Set(['id', 'name', 'webUrl', 'size', 'createdDateTime', 'lastModifiedDateTime', 'parentReference', 'folder', 'file', 'root', 'eTag', 'cTag', 'remoteItem']),
};
const PERMISSION_TYPE: TypeInfo = { name: 'microsoft.graph.permission', properties: new Set(['id', 'roles', 'grantedToV2', 'grantedTo', 'invitation', 'inheritedFrom', 'link']) };

const denied = (_route: RouteDef, caller: Caller): GraphError =>
  new GraphError(403, 'accessDenied', caller.roles.size ? 'Access denied' : 'Either scp or roles claim need to be present in the token.');
const route = (def: Omit<RouteDef, 'workload' | 'denied'>): RouteDef => ({ ...def, workload: 'files', denied });

const siteNotFound = (): GraphError => new GraphError(404, 'itemNotFound', 'Requested site could not be found');
const itemNotFound = (): GraphError => new GraphError(404, 'itemNotFound', 'The resource could not be found.');
const invalid = (message: string): GraphError => new GraphError(400, 'invalidRequest', message);

// ---- addressing ----

/** /sites/{id}: root, a host, host:/server-relative-path (see addressedPath), or host,collectionId,webId. */
function requireSite(ctx: Ctx, ref: string): Site {
  const key = decodeURIComponent(ref);
  const host = rootHost(ctx.store);
  let site: Site | undefined;
  if (key === 'root' || key.toLowerCase() === host) site = siteByUrl(ctx.store, `https://${host}`);
  else if (key.includes(':')) {
    const [h, path] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    site = siteByUrl(ctx.store, `https://${h}${path}`);
  } else site = siteById(ctx.store, key);
  if (!site) throw siteNotFound();
  return site;
}

function requireDrive(ctx: Ctx, id: string): Site {
  const site = siteByDriveId(ctx.store, id);
  if (!site) throw itemNotFound();
  return site;
}

function requireItem(site: Site, id: string): DriveItem {
  const item = id === 'root' ? site.items[site.rootItemId] : site.items[id];
  if (!item) throw itemNotFound();
  return item;
}

function userDrive(ctx: Ctx, ref: string): Site {
  const user = requireUser(ctx, ref);
  const site = personalSite(ctx.store, user);
  // What Graph answers for a user without a provisioned OneDrive (no licence, or never provisioned).
  if (!site) throw new GraphError(404, 'ResourceNotFound', "User's mysite not found.");
  return site;
}

// ---- views ----

function siteView(site: Site): Record<string, unknown> {
  const u = new URL(site.url);
  return {
    id: site.id,
    name: u.pathname === '/' ? '' : u.pathname.split('/').pop(),
    displayName: site.title,
    description: site.description,
    webUrl: site.url,
    createdDateTime: site.createdDateTime,
    lastModifiedDateTime: site.lastModifiedDateTime,
    siteCollection: { hostname: u.host },
    ...(u.pathname === '/' ? { root: {} } : {}),
    isPersonalSite: !!site.personalOwnerId,
  };
}

function identity(store: TenantStore, userId: string): Record<string, unknown> {
  const u = store.userById(userId);
  return { id: userId, displayName: u?.displayName ?? null, email: u?.mail ?? u?.userPrincipalName ?? null };
}

function driveView(store: TenantStore, site: Site): Record<string, unknown> {
  const total = site.storageMaximumLevelMB * 1_048_576;
  const used = storageUsedMB(site) * 1_048_576;
  const group = site.groupId ? store.groups.get(site.groupId) : undefined;
  return {
    id: site.driveId,
    name: site.personalOwnerId ? 'OneDrive' : 'Documents',
    description: '',
    driveType: site.personalOwnerId ? 'business' : 'documentLibrary',
    webUrl: `${site.url}/${libraryName(site)}`,
    createdDateTime: site.createdDateTime,
    lastModifiedDateTime: site.lastModifiedDateTime,
    owner: site.personalOwnerId ? { user: identity(store, site.personalOwnerId) } : group ? { group: { id: group.id, displayName: group.displayName, email: group.mail } } : { user: { displayName: 'System Account' } },
    quota: { total, used, remaining: total - used, deleted: site.recycleBin.reduce((n, r) => n + r.items.reduce((m, i) => m + i.size, 0), 0), state: used > site.storageWarningLevelMB * 1_048_576 ? 'nearing' : 'normal' },
  };
}

function itemView(site: Site, item: DriveItem, store?: TenantStore): Record<string, unknown> {
  const remoteSite = item.remote && store ? siteByDriveId(store, item.remote.driveId) : undefined;
  const remote = remoteSite && item.remote ? remoteSite.items[item.remote.id] : undefined;
  if (item.remote) {
    const parent = item.parentId ? site.items[item.parentId] : undefined;
    return {
      id: item.id,
      name: item.name,
      createdDateTime: item.createdDateTime,
      lastModifiedDateTime: item.lastModifiedDateTime,
      eTag: `"{${item.id}},1"`,
      ...(parent ? { parentReference: { driveId: site.driveId, driveType: site.personalOwnerId ? 'business' : 'documentLibrary', id: parent.id, path: `/drive/root:${parent.parentId ? `/${itemPath(site, parent)}` : ''}` } } : {}),
      remoteItem: {
        id: item.remote.id,
        parentReference: { driveId: item.remote.driveId, driveType: remoteSite?.personalOwnerId ? 'business' : 'documentLibrary' },
        ...(remote && remoteSite ? { name: remote.name, webUrl: itemView(remoteSite, remote).webUrl, ...(remote.folder ? { folder: { childCount: Object.values(remoteSite.items).filter((x) => x.parentId === remote.id).length } } : { file: { mimeType: mimeOf(remote.name) } }) } : {}),
      },
    };
  }
  const path = itemPath(site, item);
  const parent = item.parentId ? site.items[item.parentId] : undefined;
  const children = item.folder ? Object.values(site.items).filter((x) => x.parentId === item.id).length : 0;
  return {
    id: item.id,
    name: item.name,
    webUrl: `${site.url}/${libraryName(site)}${path ? `/${path.split('/').map(encodeURIComponent).join('/')}` : ''}`,
    size: item.folder ? subtree(site, item).reduce((n, x) => n + x.size, 0) : item.size,
    createdDateTime: item.createdDateTime,
    lastModifiedDateTime: item.lastModifiedDateTime,
    eTag: `"{${item.id}},1"`,
    ...(parent ? { parentReference: { driveId: site.driveId, driveType: site.personalOwnerId ? 'business' : 'documentLibrary', id: parent.id, path: `/drive/root:${parent.parentId ? `/${itemPath(site, parent)}` : ''}` } } : { root: {} }),
    ...(item.folder ? { folder: { childCount: children } } : { file: { mimeType: mimeOf(item.name) } }),
  };
}

const MIME: Record<string, string> = { txt: 'text/plain', pdf: 'application/pdf', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', png: 'image/png', csv: 'text/csv' };
const mimeOf = (name: string): string => MIME[name.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream';

function permissionView(store: TenantStore, p: DrivePermission): Record<string, unknown> {
  const granted = p.userId ? { user: identity(store, p.userId) } : { siteUser: { email: p.email, displayName: p.email, loginName: `i:0#.f|membership|${p.email?.replace('@', '_')}#ext#@${rootHost(store)}` } };
  return { id: p.id, roles: p.roles, grantedToV2: granted, ...(p.email ? { invitation: { email: p.email, signInRequired: true } } : {}) };
}

/** Permissions that apply to an item: its own and those it inherits from its folders. */
function effectivePermissions(site: Site, item: DriveItem): (DrivePermission & { from?: DriveItem })[] {
  const out: (DrivePermission & { from?: DriveItem })[] = [...item.permissions];
  for (let p = item.parentId ? site.items[item.parentId] : undefined; p; p = p.parentId ? site.items[p.parentId] : undefined) {
    for (const perm of p.permissions) out.push({ ...perm, inherited: true, from: p });
  }
  return out;
}

// ---- writes ----

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !name.trim()) throw invalid("The 'name' property is required.");
  if (/["*:<>?/\\|]/.test(name) || name.length > 400) throw invalid('The provided name cannot contain leading, or trailing, spaces or any of these characters: " * : < > ? / \\ |');
  return name;
}

function addChild(ctx: Ctx, site: Site, parent: DriveItem, name: string, folder: boolean, size: number, conflict: string): DriveItem {
  if (!parent.folder) throw invalid('The parent item is not a folder.');
  if (site.lockState !== 'Unlock') throw new GraphError(423, 'resourceLocked', 'The site is read-only.');
  const existing = Object.values(site.items).find((x) => x.parentId === parent.id && x.name.toLowerCase() === name.toLowerCase());
  if (existing) {
    if (conflict === 'fail') throw new GraphError(409, 'nameAlreadyExists', 'The specified item name already exists.');
    if (conflict === 'replace') {
      existing.size = size;
      existing.lastModifiedDateTime = ctx.nowIso;
      return existing;
    }
    const dot = folder ? -1 : name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let n = 1;
    while (Object.values(site.items).some((x) => x.parentId === parent.id && x.name.toLowerCase() === `${stem} ${n}${ext}`.toLowerCase())) n++;
    name = `${stem} ${n}${ext}`;
  }
  const item: DriveItem = { id: itemId(), name, parentId: parent.id, folder, size, createdDateTime: ctx.nowIso, lastModifiedDateTime: ctx.nowIso, permissions: [] };
  site.items[item.id] = item;
  site.lastModifiedDateTime = ctx.nowIso;
  return item;
}

function createChild(ctx: Ctx, site: Site, parentRef: string): Reply {
  const body = bodyObject(ctx);
  const parent = requireItem(site, parentRef);
  const name = checkName(body['name']);
  const conflict = String(ctx.query.get('@microsoft.graph.conflictBehavior') ?? body['@microsoft.graph.conflictBehavior'] ?? 'fail');
  if (!['fail', 'replace', 'rename'].includes(conflict)) throw invalid(`Invalid conflict behavior '${conflict}'.`);
  if ('remoteItem' in body) return createShortcut(ctx, site, parent, name, body['remoteItem'], conflict);
  if (!('folder' in body)) throw invalid('Only folders can be created this way; upload files with PUT …/content.');
  const item = addChild(ctx, site, parent, name, true, 0, conflict);
  ctx.mutated('drive.createFolder', site.driveId, item.id);
  return { status: 201, body: { '@odata.context': `${ctx.serviceRoot}/$metadata#drives('${site.driveId}')/items/$entity`, ...itemView(site, item) } };
}

/** "Add shortcut to My files": a child whose remoteItem points at a folder (or file) of another drive. */
function createShortcut(ctx: Ctx, site: Site, parent: DriveItem, name: string, raw: unknown, conflict: string): Reply {
  const r = (raw ?? {}) as { id?: unknown; parentReference?: { driveId?: unknown } };
  if (typeof r.id !== 'string' || typeof r.parentReference?.driveId !== 'string') throw invalid("remoteItem needs 'id' and 'parentReference.driveId' of the item to add a shortcut to.");
  const target = siteByDriveId(ctx.store, r.parentReference.driveId);
  const targetItem = target?.items[r.id];
  if (!target || !targetItem) throw itemNotFound();
  if (target === site) throw invalid('A shortcut must point to an item in another drive.');
  if (conflict === 'replace') throw invalid("conflictBehavior 'replace' is not supported for shortcuts.");
  const existing = Object.values(site.items).find((x) => x.parentId === parent.id && x.remote?.id === targetItem.id && x.remote.driveId === target.driveId);
  if (existing && conflict === 'fail') throw new GraphError(409, 'nameAlreadyExists', 'A shortcut to this item already exists.');
  const item = addChild(ctx, site, parent, name, targetItem.folder, 0, conflict);
  item.remote = { driveId: target.driveId, id: targetItem.id };
  ctx.mutated('drive.addShortcut', site.driveId, item.id);
  return { status: 201, body: { '@odata.context': `${ctx.serviceRoot}/$metadata#drives('${site.driveId}')/items/$entity`, ...itemView(site, item, ctx.store) } };
}

function recipientsOf(ctx: Ctx, raw: unknown): { user?: User; email: string }[] {
  if (!Array.isArray(raw) || !raw.length) throw invalid('At least one recipient is required.');
  return raw.map((r) => {
    const rec = (r ?? {}) as { email?: unknown; objectId?: unknown };
    const ref = typeof rec.objectId === 'string' ? rec.objectId : typeof rec.email === 'string' ? rec.email : undefined;
    if (!ref) throw invalid('Each recipient needs an email or objectId.');
    const user = ctx.store.findUser(ref) ?? [...ctx.store.users.values()].find((u) => u.mail?.toLowerCase() === ref.toLowerCase());
    if (!user && typeof rec.email !== 'string') throw itemNotFound();
    return { user, email: user?.mail ?? user?.userPrincipalName ?? ref };
  });
}

function invite(ctx: Ctx, site: Site, item: DriveItem): Reply {
  const body = bodyObject(ctx);
  const roles = body['roles'];
  if (!Array.isArray(roles) || roles.length !== 1 || !['read', 'write'].includes(String(roles[0]))) throw invalid("Invalid value for 'roles': use [\"read\"] or [\"write\"].");
  if (body['requireSignIn'] === false) throw invalid('requireSignIn must be true for invitations.');
  const recipients = recipientsOf(ctx, body['recipients']);
  const outside = recipients.filter((r) => !r.user || r.user.userType === 'Guest');
  // A sandbox choice of code and message: SharePoint refuses the invitation when the site's sharing setting forbids it.
  if (outside.length && (site.sharingCapability === 'Disabled' || (site.sharingCapability === 'ExistingExternalUserSharingOnly' && outside.some((r) => !r.user))))
    throw new GraphError(403, 'accessDenied', `Sharing with people outside your organization is turned off for this site (${site.url}).`);
  const out: DrivePermission[] = [];
  for (const r of recipients) {
    const same = item.permissions.find((p) => (r.user ? p.userId === r.user.id : p.email?.toLowerCase() === r.email.toLowerCase()));
    if (same) {
      if (roles[0] === 'write' && !same.roles.includes('write')) {
        same.roles = ['write'];
        ctx.mutated('drive.invite', site.driveId, item.id, r.user?.id ?? r.email);
      }
      out.push(same);
      continue;
    }
    const p: DrivePermission = { id: createHash('sha256').update(`${item.id}:${r.user?.id ?? r.email}`).digest('base64url').slice(0, 27), roles: [String(roles[0])], ...(r.user ? { userId: r.user.id } : { email: r.email }) };
    item.permissions.push(p);
    out.push(p);
    ctx.mutated('drive.invite', site.driveId, item.id, r.user?.id ?? r.email);
  }
  return { status: 200, body: { '@odata.context': `${ctx.serviceRoot}/$metadata#Collection(microsoft.graph.permission)`, value: out.map((p) => permissionView(ctx.store, p)) } };
}

function deleteItem(ctx: Ctx, site: Site, item: DriveItem): Reply {
  if (!item.parentId) throw new GraphError(403, 'accessDenied', 'The root of a drive cannot be deleted.');
  if (site.lockState !== 'Unlock') throw new GraphError(423, 'resourceLocked', 'The site is read-only.');
  const items = subtree(site, item);
  const parentPath = itemPath(site, site.items[item.parentId]!);
  for (const x of items) delete site.items[x.id];
  site.recycleBin.push({
    id: randomUUID(),
    itemId: item.id,
    title: item.name,
    dirName: `${new URL(site.url).pathname.replace(/^\//, '')}/${libraryName(site)}${parentPath ? `/${parentPath}` : ''}`.replace(/^\//, ''),
    deletedDate: ctx.nowIso,
    deletedByEmail: null,
    itemType: item.folder ? 'Folder' : 'File',
    items,
  });
  ctx.mutated('drive.deleteItem', site.driveId, item.id);
  return { status: 204 };
}

// ---- routes ----

const siteRoutes = (base: string, find: (ctx: Ctx) => Site): RouteDef[] => [
  route({ method: 'GET', path: base, permissions: SITES_READ, handler: (ctx) => entity(ctx, siteView(find(ctx)), SITE_TYPE, 'sites/$entity') }),
  route({ method: 'GET', path: `${base}/drive`, permissions: FILES_READ, handler: (ctx) => entity(ctx, driveView(ctx.store, find(ctx)), DRIVE_TYPE, 'drives/$entity') }),
  route({ method: 'GET', path: `${base}/drives`, permissions: FILES_READ, handler: (ctx) => collection(ctx, [find(ctx)], DRIVE_TYPE, (s) => driveView(ctx.store, s), 'drives') }),
];

/** Drive routes under a drive base (/drives/{id}, /users/{id}/drive, /sites/{id}/drive, /groups/{id}/drive). */
const driveRoutes = (base: string, find: (ctx: Ctx) => Site): RouteDef[] => {
  const children = (ctx: Ctx, site: Site, parent: DriveItem): Reply =>
    collection(ctx, Object.values(site.items).filter((x) => x.parentId === parent.id).sort((a, b) => a.name.localeCompare(b.name)), ITEM_TYPE, (x) => itemView(site, x, ctx.store), `drives('${site.driveId}')/items`);
  const at = (ctx: Ctx): { site: Site; item: DriveItem } => {
    const site = find(ctx);
    return { site, item: requireItem(site, ctx.params['itemId'] ?? 'root') };
  };
  const routes: RouteDef[] = [];
  for (const itemBase of [`${base}/root`, `${base}/items/:itemId`]) {
    routes.push(
      route({ method: 'GET', path: itemBase, permissions: FILES_READ, handler: (ctx) => { const { site, item } = at(ctx); return entity(ctx, itemView(site, item, ctx.store), ITEM_TYPE, `drives('${site.driveId}')/items/$entity`); } }),
      route({ method: 'GET', path: `${itemBase}/children`, permissions: FILES_READ, handler: (ctx) => { const { site, item } = at(ctx); return children(ctx, site, item); } }),
      route({ method: 'POST', path: `${itemBase}/children`, permissions: FILES_WRITE, handler: (ctx) => { const { site, item } = at(ctx); return createChild(ctx, site, item.id); } }),
      route({
        method: 'GET',
        path: `${itemBase}/permissions`,
        permissions: FILES_READ,
        handler: (ctx) => {
          const { site, item } = at(ctx);
          const perms = effectivePermissions(site, item).map((p) => ({ ...permissionView(ctx.store, p), ...(p.from ? { inheritedFrom: { driveId: site.driveId, id: p.from.id, path: `/drive/root:${p.from.parentId ? `/${itemPath(site, p.from)}` : ''}` } } : {}) }));
          return collection(ctx, perms, PERMISSION_TYPE, (p) => p, `drives('${site.driveId}')/items('${item.id}')/permissions`);
        },
      }),
      route({
        method: 'DELETE',
        path: `${itemBase}/permissions/:permissionId`,
        permissions: FILES_WRITE,
        handler: (ctx) => {
          const { site, item } = at(ctx);
          const perm = item.permissions.find((p) => p.id === ctx.params['permissionId']);
          if (!perm) {
            if (effectivePermissions(site, item).some((p) => p.id === ctx.params['permissionId'])) throw invalid('Inherited permissions cannot be removed from this item; remove them where they are set.');
            throw itemNotFound();
          }
          if (perm.roles.includes('owner')) throw new GraphError(403, 'accessDenied', 'The owner permission of a drive cannot be removed.');
          item.permissions = item.permissions.filter((p) => p !== perm);
          ctx.mutated('drive.removePermission', site.driveId, item.id);
          return { status: 204 };
        },
      }),
      route({ method: 'POST', path: `${itemBase}/invite`, permissions: FILES_WRITE, handler: (ctx) => { const { site, item } = at(ctx); return invite(ctx, site, item); } }),
    );
  }
  routes.push(
    route({ method: 'GET', path: base, permissions: FILES_READ, handler: (ctx) => entity(ctx, driveView(ctx.store, find(ctx)), DRIVE_TYPE, 'drives/$entity') }),
    route({
      method: 'PATCH',
      path: `${base}/items/:itemId`,
      permissions: FILES_WRITE,
      handler: (ctx) => {
        const { site, item } = at(ctx);
        const body = bodyObject(ctx);
        if ('name' in body) {
          const name = checkName(body['name']);
          if (Object.values(site.items).some((x) => x !== item && x.parentId === item.parentId && x.name.toLowerCase() === name.toLowerCase())) throw new GraphError(409, 'nameAlreadyExists', 'The specified item name already exists.');
          item.name = name;
        }
        item.lastModifiedDateTime = ctx.nowIso;
        ctx.mutated('drive.updateItem', site.driveId, item.id);
        return { status: 200, body: itemView(site, item) };
      },
    }),
    route({ method: 'DELETE', path: `${base}/items/:itemId`, permissions: FILES_WRITE, handler: (ctx) => { const { site, item } = at(ctx); return deleteItem(ctx, site, item); } }),
    // PUT /items/{parent-id}:/{file name}:/content (simple upload, up to 250 MB); the sandbox keeps the size, not the bytes.
    route({
      method: 'PUT',
      path: `${base}/items/:parentRef/:fileName/content`,
      permissions: FILES_WRITE,
      handler: (ctx) => {
        const site = find(ctx);
        const parent = requireItem(site, ctx.params['parentRef']!.replace(/:$/, ''));
        const name = checkName(decodeURIComponent(ctx.params['fileName']!.replace(/:$/, '')));
        const size = Buffer.isBuffer(ctx.body) ? ctx.body.length : typeof ctx.body === 'string' ? Buffer.byteLength(ctx.body) : Buffer.byteLength(JSON.stringify(ctx.body ?? ''));
        const conflict = ctx.query.get('@microsoft.graph.conflictBehavior') ?? 'replace';
        const existed = Object.values(site.items).some((x) => x.parentId === parent.id && x.name.toLowerCase() === name.toLowerCase());
        const item = addChild(ctx, site, parent, name, false, size, conflict);
        ctx.mutated('drive.upload', site.driveId, item.id);
        return { status: existed && conflict === 'replace' ? 200 : 201, body: itemView(site, item) };
      },
    }),
  );
  return routes;
};

export function registerSiteRoutes(router: Router): void {
  const byParam = (ctx: Ctx) => requireSite(ctx, ctx.params['siteId']!);
  const ofGroup = (ctx: Ctx) => groupSite(ctx.store, requireGroup(ctx, ctx.params['groupId']!)) ?? (() => { throw siteNotFound(); })();
  const ofDrive = (ctx: Ctx) => requireDrive(ctx, ctx.params['driveId']!);
  const ofUser = (ctx: Ctx) => userDrive(ctx, ctx.params['userId']!);
  router.add(
    route({
      method: 'GET',
      path: '/sites',
      permissions: SITES_READ,
      handler: (ctx) => {
        const search = (ctx.query.get('search') ?? '').replace(/^"|"$/g, '').toLowerCase();
        const sites = allSites(ctx.store).filter((s) => !s.personalOwnerId && (!search || search === '*' || s.title.toLowerCase().includes(search) || s.url.toLowerCase().includes(search)));
        // Here `search` is the site search, not OData's $search (which Graph also accepts without the $).
        const query = new URLSearchParams(ctx.query);
        query.delete('search');
        return collection(ctx, sites, SITE_TYPE, siteView, 'sites', queryOptions({ ...ctx, query }, SITE_TYPE));
      },
    }),
    ...siteRoutes('/sites/:siteId', byParam),
    ...driveRoutes('/sites/:siteId/drive', byParam),
    ...siteRoutes('/groups/:groupId/sites/root', ofGroup),
    ...driveRoutes('/groups/:groupId/drive', ofGroup),
    ...driveRoutes('/drives/:driveId', ofDrive),
    ...driveRoutes('/users/:userId/drive', ofUser),
  );
}
