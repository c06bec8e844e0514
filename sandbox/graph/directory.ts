// Directory-wide endpoints: directoryObjects, memberOf for any object, organization, and deleted
// items (users, groups, applications: restore, permanent delete). Domains are in domains.ts.
import { badRequest, notFound, objectConflict } from '../errors.ts';
import { P } from '../permissions.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import type { AppRegistration, DeletedEntry, Group, User } from '../store.ts';
import { APP_TYPE, appView } from './app-registrations.ts';
import { bodyObject, collection, entity, odataContext, requireDirectoryObject } from './common.ts';
import { directoryObjectView, DIRECTORY_OBJECT_TYPE, GROUP_TYPE, groupView, USER_TYPE, userView } from './views.ts';
import type { TypeInfo } from '../odata.ts';

/** GET /{users|groups}/{id}/memberOf and /transitiveMemberOf. */
export function memberOfRoutes(collectionName: 'users' | 'groups', resolve: (ctx: Ctx, id: string) => User | Group): RouteDef[] {
  return (['memberOf', 'transitiveMemberOf'] as const).map((kind) => ({
    method: 'GET',
    path: `/${collectionName}/:id/${kind}`,
    permissions: collectionName === 'users' ? [...P.userRead, ...P.groupRead] : P.groupRead,
    handler: (ctx: Ctx) => {
      const obj = resolve(ctx, ctx.params['id']!);
      const ids = kind === 'memberOf' ? ctx.store.memberOf(obj.id) : ctx.store.transitiveMemberOf(obj.id);
      const groups = ids.map((id) => ctx.store.groupById(id)).filter((g) => g !== undefined);
      return collection(ctx, groups, DIRECTORY_OBJECT_TYPE, (g) => directoryObjectView(ctx.store, { kind: 'group', object: g }), 'directoryObjects');
    },
  }));
}

const ORG_TYPE: TypeInfo = {
  name: 'microsoft.graph.organization',
  properties: new Set(['id', 'displayName', 'verifiedDomains', 'assignedPlans', 'countryLetterCode', 'createdDateTime', 'tenantType', 'preferredLanguage', 'technicalNotificationMails', 'onPremisesSyncEnabled']),
};

function organizationView(ctx: Ctx): Record<string, unknown> {
  const info = ctx.store.info;
  return {
    id: info.id,
    displayName: info.displayName,
    countryLetterCode: info.countryLetterCode,
    createdDateTime: info.createdDateTime,
    tenantType: 'AAD',
    preferredLanguage: 'en',
    onPremisesSyncEnabled: null,
    technicalNotificationMails: [`admin@${info.defaultDomain}`],
    verifiedDomains: info.verifiedDomains.map((name) => ({
      capabilities: 'Email, OfficeCommunicationsOnline',
      isDefault: name === info.defaultDomain,
      isInitial: name === info.initialDomain,
      name,
      type: 'Managed',
    })),
  };
}

const DELETED_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** Soft-deleted objects older than 30 days are gone for good, as in Entra. */
function purgeExpired(ctx: Ctx): void {
  for (const [id, entry] of ctx.store.deleted) if (ctx.nowMs - entry.deletedMs > DELETED_RETENTION_MS) ctx.store.deleted.delete(id);
}

function deletedView(ctx: Ctx, entry: DeletedEntry): Record<string, unknown> {
  if (entry.kind === 'application')
    return { '@odata.type': '#microsoft.graph.application', ...appView(ctx.store, entry.object as AppRegistration, { deletedDateTime: new Date(entry.deletedMs).toISOString().replace(/\.\d{3}Z$/, 'Z') }) };
  return entry.kind === 'user'
    ? { '@odata.type': '#microsoft.graph.user', ...userView(ctx.store, entry.object as User) }
    : { '@odata.type': '#microsoft.graph.group', ...groupView(ctx.store, entry.object as Group) };
}

function requireDeleted(ctx: Ctx): DeletedEntry {
  purgeExpired(ctx);
  const entry = ctx.store.deleted.get(ctx.params['id']!.toLowerCase());
  if (!entry) throw notFound(ctx.params['id']!);
  return entry;
}

function deletedItemRoutes(): RouteDef[] {
  const appRead = ['Application.Read.All', 'Application.ReadWrite.All', ...P.directoryRead];
  const kinds: ['user' | 'group' | 'application', TypeInfo, readonly string[], readonly string[]][] = [
    ['user', { ...USER_TYPE, defaults: [...USER_TYPE.defaults!, 'deletedDateTime'] }, P.userRead, P.userWrite],
    ['group', GROUP_TYPE, P.groupRead, P.groupWrite],
    ['application', APP_TYPE, appRead, ['Application.ReadWrite.All']],
  ];
  const routes: RouteDef[] = [];
  for (const [kind, type, read] of kinds) {
    routes.push({
      method: 'GET',
      path: `/directory/deletedItems/${type.name}`,
      permissions: read,
      handler: (ctx) => {
        purgeExpired(ctx);
        const entries = [...ctx.store.deleted.values()].filter((e) => e.kind === kind);
        return collection(ctx, entries, type, (e) => deletedView(ctx, e), `directory/deletedItems/${type.name}`);
      },
    });
  }
  const anyRead = [...P.userRead, ...P.groupRead, ...appRead];
  const anyWrite = [...P.userWrite, ...P.groupWrite, 'Application.ReadWrite.All'];
  routes.push(
    {
      method: 'GET',
      path: '/directory/deletedItems/:id',
      permissions: anyRead,
      handler: (ctx) => entity(ctx, deletedView(ctx, requireDeleted(ctx)), DIRECTORY_OBJECT_TYPE, 'directory/deletedItems/$entity'),
    },
    {
      method: 'POST',
      path: '/directory/deletedItems/:id/restore',
      permissions: anyWrite,
      handler: (ctx) => {
        const entry = requireDeleted(ctx);
        if (entry.kind === 'user') {
          const user = entry.object as User;
          if (ctx.store.upnTaken(user.userPrincipalName)) throw objectConflict('userPrincipalName');
        } else if (entry.kind === 'group') {
          const group = entry.object as Group;
          if (group.mail && ctx.store.addressOwner(group.mail)) throw objectConflict('proxyAddresses');
        }
        ctx.store.restore(entry);
        ctx.mutated(`${entry.kind}.restore`, entry.object.id);
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'directoryObjects/$entity'), ...deletedView(ctx, entry) } };
      },
    },
    {
      method: 'DELETE',
      path: '/directory/deletedItems/:id',
      permissions: anyWrite,
      handler: (ctx) => {
        const entry = requireDeleted(ctx);
        ctx.store.deleted.delete(entry.object.id);
        ctx.mutated(`${entry.kind}.permanentDelete`, entry.object.id);
        return { status: 204 };
      },
    },
  );
  return routes;
}

export function registerDirectoryRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/directoryObjects/:id',
      permissions: [...P.directoryRead, ...P.userRead, ...P.groupRead],
      handler: (ctx) => entity(ctx, directoryObjectView(ctx.store, requireDirectoryObject(ctx, ctx.params['id']!)), DIRECTORY_OBJECT_TYPE, 'directoryObjects/$entity'),
    },
    {
      method: 'POST',
      path: '/directoryObjects/getByIds',
      permissions: [...P.directoryRead, ...P.userRead, ...P.groupRead],
      handler: (ctx) => {
        const body = bodyObject(ctx);
        const ids = body['ids'];
        if (!Array.isArray(ids)) throw badRequest("A value is required for property 'ids' of resource 'getByIds'.");
        if (ids.length > 1000) throw badRequest('Too many ids specified. Maximum is 1000.');
        const types = Array.isArray(body['types']) ? (body['types'] as string[]).map((t) => t.toLowerCase()) : undefined;
        const value = ids
          .map((id) => ctx.store.directoryObject(String(id)))
          .filter((o) => o !== undefined && (!types || types.includes(o.kind)))
          .map((o) => directoryObjectView(ctx.store, o!));
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'directoryObjects'), value } };
      },
    },
    {
      method: 'GET',
      path: '/organization',
      permissions: [...P.orgRead, ...P.userRead],
      handler: (ctx) => collection(ctx, [organizationView(ctx)], ORG_TYPE, (o) => o, 'organization'),
    },
    {
      method: 'GET',
      path: '/organization/:id',
      permissions: [...P.orgRead, ...P.userRead],
      handler: (ctx) => {
        if (ctx.params['id']!.toLowerCase() !== ctx.store.info.id) throw notFound(ctx.params['id']!);
        return entity(ctx, organizationView(ctx), ORG_TYPE, 'organization/$entity');
      },
    },
    ...deletedItemRoutes(),
  );
}

