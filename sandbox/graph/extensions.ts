// Open extensions (openTypeExtension) on users, as Graph documents them for directory objects:
// POST /users/{id}/extensions (201, the extension), GET one (404 when absent) or all, PATCH replaces
// every custom property (unspecified ones are removed; 204), DELETE (204), and $expand=extensions
// on /users. Data is primitives or arrays of primitives; an app may add at most two extensions per
// user, of at most 2 KB each (the extension definition included). No OData query options: clients
// read the extensions and filter them themselves.
import { badRequest, notFound, requiredProperty } from '../errors.ts';
import { P } from '../permissions.ts';
import type { Ctx, Router } from '../runtime.ts';
import type { User } from '../store.ts';
import { bodyObject, odataContext, requireUser } from './common.ts';

const TYPE = 'microsoft.graph.openTypeExtension';
/** Documented limits for directory objects. */
const MAX_PER_OBJECT = 2;
const MAX_BYTES = 2048;

type Stored = { extensionName: string } & Record<string, unknown>;

const stored = (user: User): Record<string, Stored> => (user._openExtensions ??= {});
const find = (user: User, id: string): Stored | undefined => user._openExtensions?.[id.toLowerCase()];

/** An extension as Graph returns it: typed, its id (= its name on directory objects), its data. */
export function extensionView(ext: Stored): Record<string, unknown> {
  const { extensionName, ...data } = ext;
  return { '@odata.type': `#${TYPE}`, extensionName, id: extensionName, ...data };
}

export function userExtensionsView(user: User): Record<string, unknown>[] {
  return Object.values(user._openExtensions ?? {}).map(extensionView);
}

const isPrimitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** The custom data of a request body: everything but the extension's own properties, checked. */
function customData(body: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('@odata.') || k === 'extensionName' || k === 'id') continue;
    if (!isPrimitive(v) && !(Array.isArray(v) && v.every(isPrimitive)))
      throw badRequest(`Invalid value specified for property '${k}' of resource 'OpenTypeExtension': open extension data must be primitive types or arrays of primitive types.`);
    data[k] = v;
  }
  return data;
}

function checkType(body: Record<string, unknown>): void {
  const t = body['@odata.type'];
  if (typeof t !== 'string' || t.replace(/^#/, '').toLowerCase() !== TYPE.toLowerCase())
    throw badRequest(`A value of '${TYPE}' is required for property '@odata.type' of an open extension.`);
}

function checkSize(ext: Stored): void {
  if (Buffer.byteLength(JSON.stringify(extensionView(ext))) > MAX_BYTES)
    throw badRequest(`The open extension '${ext.extensionName}' exceeds the maximum size of ${MAX_BYTES} bytes allowed for an open extension on a directory object.`);
}

function requireExtension(ctx: Ctx, user: User): Stored {
  const id = ctx.params['extensionId']!;
  const ext = find(user, id);
  if (!ext) throw notFound(id);
  return ext;
}

export function registerExtensionRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/users/:id/extensions',
      permissions: P.userRead,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        return { status: 200, body: { '@odata.context': odataContext(ctx, `users('${user.id}')/extensions`), value: userExtensionsView(user) } };
      },
    },
    {
      method: 'POST',
      path: '/users/:id/extensions',
      permissions: P.userWrite,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const body = bodyObject(ctx);
        checkType(body);
        const name = body['extensionName'] ?? body['id'];
        if (typeof name !== 'string' || !name.trim()) throw requiredProperty('extensionName', 'OpenTypeExtension');
        if (find(user, name)) throw badRequest('An extension already exists with given id.');
        if (Object.keys(stored(user)).length >= MAX_PER_OBJECT)
          throw badRequest(`An application can add at most ${MAX_PER_OBJECT} open extensions to a directory object.`);
        const ext: Stored = { extensionName: name, ...customData(body) };
        checkSize(ext);
        stored(user)[name.toLowerCase()] = ext;
        ctx.mutated('user.extension', user.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, `users('${user.id}')/extensions/$entity`), ...extensionView(ext) } };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/extensions/:extensionId',
      permissions: P.userRead,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const ext = requireExtension(ctx, user);
        return { status: 200, body: { '@odata.context': odataContext(ctx, `users('${user.id}')/extensions/$entity`), ...extensionView(ext) } };
      },
    },
    {
      method: 'PATCH',
      path: '/users/:id/extensions/:extensionId',
      permissions: P.userWrite,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const ext = requireExtension(ctx, user);
        // Directory objects: the body is the whole extension; properties it leaves out are removed.
        const next: Stored = { extensionName: ext.extensionName, ...customData(bodyObject(ctx)) };
        checkSize(next);
        stored(user)[ext.extensionName.toLowerCase()] = next;
        ctx.mutated('user.extension', user.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/users/:id/extensions/:extensionId',
      permissions: P.userWrite,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const ext = requireExtension(ctx, user);
        delete stored(user)[ext.extensionName.toLowerCase()];
        ctx.mutated('user.extension', user.id);
        return { status: 204 };
      },
    },
  );
}
