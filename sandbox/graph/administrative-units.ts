// Entra administrative units: /directory/administrativeUnits (create, read, delete), their members
// by $ref (users and groups), and /users/{id}/memberOf/microsoft.graph.administrativeUnit, the
// cast a help desk scope reads. Members of an administrative unit are stored by object id.
import { randomUUID } from 'node:crypto';
import { badRequest, GraphError, notFound } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import type { Ctx, Router } from '../runtime.ts';
import type { TenantStore } from '../store.ts';
import { bodyObject, collection, entity, odataContext, refId, requireDirectoryObject, requireUser } from './common.ts';
import { directoryObjectView, DIRECTORY_OBJECT_TYPE } from './views.ts';

export interface AdministrativeUnit {
  id: string;
  displayName: string;
  description: string | null;
  visibility: string | null;
  members: string[];
}

const READ = ['AdministrativeUnit.Read.All', 'AdministrativeUnit.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE = ['AdministrativeUnit.ReadWrite.All', 'Directory.ReadWrite.All'];
const TYPE: TypeInfo = { name: 'microsoft.graph.administrativeUnit', properties: new Set(['id', 'displayName', 'description', 'visibility', 'deletedDateTime']) };
const CONTEXT = 'directory/administrativeUnits';

function units(store: TenantStore): AdministrativeUnit[] {
  return store.tenantState('administrativeUnits', () => [] as AdministrativeUnit[]);
}

const view = (u: AdministrativeUnit): Record<string, unknown> => ({ '@odata.type': '#microsoft.graph.administrativeUnit', id: u.id, displayName: u.displayName, description: u.description, visibility: u.visibility, deletedDateTime: null });

function requireUnit(ctx: Ctx): AdministrativeUnit {
  const id = ctx.params['id']!.toLowerCase();
  const u = units(ctx.store).find((x) => x.id === id);
  if (!u) throw notFound(id);
  return u;
}

function text(v: unknown, name: string, required: boolean): string | null {
  if (v === undefined || v === null) {
    if (required) throw badRequest(`The property '${name}' is required.`);
    return null;
  }
  if (typeof v !== 'string') throw badRequest(`Cannot convert the literal '${String(v)}' to the expected type 'Edm.String'.`);
  return v;
}

/** The administrative units an object belongs to. */
export function unitsOf(store: TenantStore, objectId: string): AdministrativeUnit[] {
  return units(store).filter((u) => u.members.includes(objectId.toLowerCase()));
}

export function registerAdministrativeUnitRoutes(router: Router): void {
  const base = '/directory/administrativeUnits';
  router.add(
    { method: 'GET', path: base, permissions: READ, handler: (ctx) => collection(ctx, units(ctx.store), TYPE, view, CONTEXT) },
    { method: 'GET', path: `${base}/:id`, permissions: READ, handler: (ctx) => entity(ctx, view(requireUnit(ctx)), TYPE, `${CONTEXT}/$entity`) },
    {
      method: 'POST',
      path: base,
      permissions: WRITE,
      handler: (ctx) => {
        const body = bodyObject(ctx);
        for (const k of Object.keys(body))
          if (!['displayName', 'description', 'visibility', '@odata.type'].includes(k)) throw badRequest(`Property '${k}' does not exist on type 'microsoft.graph.administrativeUnit'.`);
        const visibility = text(body['visibility'], 'visibility', false);
        if (visibility !== null && visibility !== 'HiddenMembership' && visibility !== 'Public') throw badRequest(`Invalid value specified for property 'visibility' of resource 'AdministrativeUnit'.`);
        const u: AdministrativeUnit = { id: randomUUID(), displayName: text(body['displayName'], 'displayName', true)!, description: text(body['description'], 'description', false), visibility, members: [] };
        units(ctx.store).push(u);
        ctx.mutated('administrativeUnit.create', u.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, `${CONTEXT}/$entity`), ...view(u) } };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:id`,
      permissions: WRITE,
      handler: (ctx) => {
        const u = requireUnit(ctx);
        const all = units(ctx.store);
        all.splice(all.indexOf(u), 1);
        ctx.mutated('administrativeUnit.delete', u.id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: `${base}/:id/members`,
      permissions: READ,
      handler: (ctx) => {
        const members = requireUnit(ctx).members.map((id) => ctx.store.directoryObject(id)).filter((o) => o !== undefined);
        return collection(ctx, members, DIRECTORY_OBJECT_TYPE, (o) => directoryObjectView(ctx.store, o), 'directoryObjects');
      },
    },
    {
      method: 'POST',
      path: `${base}/:id/members/$ref`,
      permissions: WRITE,
      handler: (ctx) => {
        const u = requireUnit(ctx);
        const member = requireDirectoryObject(ctx, refId(bodyObject(ctx)['@odata.id']));
        const id = member.object.id.toLowerCase();
        if (u.members.includes(id)) throw badRequest("One or more added object references already exist for the following modified properties: 'members'.");
        u.members.push(id);
        ctx.mutated('administrativeUnit.addMember', u.id, id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:id/members/:memberId/$ref`,
      permissions: WRITE,
      handler: (ctx) => {
        const u = requireUnit(ctx);
        const id = ctx.params['memberId']!.toLowerCase();
        if (!u.members.includes(id)) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
        u.members.splice(u.members.indexOf(id), 1);
        ctx.mutated('administrativeUnit.removeMember', u.id, id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/memberOf/microsoft.graph.administrativeUnit',
      permissions: READ,
      handler: (ctx) => collection(ctx, unitsOf(ctx.store, requireUser(ctx, ctx.params['id']!).id), TYPE, view, 'directoryObjects/microsoft.graph.administrativeUnit'),
    },
  );
}
