// /groups: security and Microsoft 365 groups (mail-enabled security groups are read-only through
// Graph, as on the real service), members and owners by $ref, memberOf, transitive members.
import { randomUUID } from 'node:crypto';
import { badRequest, GraphError, objectConflict } from '../errors.ts';
import { P } from '../permissions.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import type { Group } from '../store.ts';
import { newGroup } from '../seed.ts';
import { memberOfRoutes } from './directory.ts';
import { bodyObject, boolProp, checkWritable, collection, countReply, entity, odataContext, refId, replicated, requireDirectoryObject, requireGroup, stringProp } from './common.ts';
import { directoryObjectView, DIRECTORY_OBJECT_TYPE, GROUP_READ_ONLY, GROUP_TYPE, GROUP_WRITABLE, groupExpanders, groupView } from './views.ts';

type Relation = 'members' | 'owners';

const alreadyExists = (rel: Relation): GraphError => badRequest(`One or more added object references already exist for the following modified properties: '${rel}'.`);
const doesNotExist = (rel: Relation): GraphError => new GraphError(404, 'Request_ResourceNotFound', `One or more removed object references do not exist for the following modified properties: '${rel}'.`);

function addRef(ctx: Ctx, group: Group, rel: Relation, objectId: string): void {
  const obj = requireDirectoryObject(ctx, objectId);
  if (rel === 'owners' && obj.kind !== 'user') throw badRequest('Only users and service principals can be owners of a group.');
  if (obj.object.id === group.id) throw badRequest('A group cannot be a member of itself.');
  if (rel === 'members' && group.membershipRule) throw badRequest('Insufficient privileges to complete the operation. Members of a group with dynamic membership cannot be changed.');
  if (rel === 'members' && group.mailEnabled && !group.groupTypes.includes('Unified')) {
    throw badRequest('Cannot Update a mail-enabled security groups and or distribution list.');
  }
  const present = rel === 'members' ? ctx.store.isMember(group.id, obj.object.id) : ctx.store.ownersOf(group.id).has(obj.object.id);
  if (present) throw alreadyExists(rel);
  if (rel === 'members') ctx.store.addMember(group.id, obj.object.id);
  else ctx.store.addOwner(group.id, obj.object.id);
  ctx.mutated(rel === 'members' ? 'group.addMember' : 'group.addOwner', group.id, obj.object.id);
}

/** `members@odata.bind` / `owners@odata.bind` in a create or update body: at most 20 per request. */
function bindRefs(ctx: Ctx, group: Group, body: Record<string, unknown>, validateOnly: boolean): void {
  for (const rel of ['members', 'owners'] as const) {
    const refs = body[`${rel}@odata.bind`];
    if (refs === undefined) continue;
    if (!Array.isArray(refs)) throw badRequest(`Invalid value specified for property '${rel}@odata.bind'.`);
    if (refs.length > 20) throw badRequest('The maximum number of references that can be added in a single request is 20.');
    for (const ref of refs) {
      const id = refId(ref);
      if (validateOnly) requireDirectoryObject(ctx, id);
      else addRef(ctx, group, rel, id);
    }
  }
}

function createGroup(ctx: Ctx): Group {
  const body = bodyObject(ctx);
  checkWritable(body, GROUP_WRITABLE, GROUP_READ_ONLY);
  const displayName = stringProp(body, 'displayName', 'Group', true)!;
  const mailEnabled = boolProp(body, 'mailEnabled', 'Group', true)!;
  const mailNickname = stringProp(body, 'mailNickname', 'Group', true)!;
  const securityEnabled = boolProp(body, 'securityEnabled', 'Group', true)!;
  const groupTypes = Array.isArray(body['groupTypes']) ? (body['groupTypes'] as unknown[]).map(String) : [];
  const unified = groupTypes.some((t) => t.toLowerCase() === 'unified');
  const dynamic = groupTypes.some((t) => t.toLowerCase() === 'dynamicmembership');
  if (!/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$/.test(mailNickname)) throw badRequest("Invalid value specified for property 'mailNickname' of resource 'Group'.");
  if (mailEnabled && !unified) {
    throw badRequest('The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset or is set to false.');
  }
  if (!mailEnabled && !securityEnabled && !unified) throw badRequest('A group must be either mail-enabled or security-enabled.');
  if (dynamic && typeof body['membershipRule'] !== 'string') throw badRequest("A value is required for property 'membershipRule' of resource 'Group'.");
  const mail = unified ? `${mailNickname}@${ctx.store.info.defaultDomain}` : null;
  if (mail && ctx.store.addressOwner(mail)) throw objectConflict('proxyAddresses');
  bindRefs(ctx, { id: '' } as Group, body, true);
  const group = newGroup(
    {
      id: randomUUID(),
      displayName,
      mailNickname,
      mailEnabled,
      securityEnabled,
      groupTypes,
      description: stringProp(body, 'description', 'Group', false) ?? null,
      visibility: unified ? (stringProp(body, 'visibility', 'Group', false) ?? 'Public') : (stringProp(body, 'visibility', 'Group', false) ?? null),
      membershipRule: stringProp(body, 'membershipRule', 'Group', false) ?? null,
      membershipRuleProcessingState: dynamic ? 'On' : null,
      isAssignableToRole: typeof body['isAssignableToRole'] === 'boolean' ? body['isAssignableToRole'] : null,
      mail,
      proxyAddresses: mail ? [`SMTP:${mail}`, `smtp:${mailNickname}@${ctx.store.info.initialDomain}`] : [],
      resourceBehaviorOptions: Array.isArray(body['resourceBehaviorOptions']) ? (body['resourceBehaviorOptions'] as string[]) : [],
      resourceProvisioningOptions: Array.isArray(body['resourceProvisioningOptions']) ? (body['resourceProvisioningOptions'] as string[]) : [],
      preferredLanguage: stringProp(body, 'preferredLanguage', 'Group', false) ?? null,
      classification: stringProp(body, 'classification', 'Group', false) ?? null,
      theme: stringProp(body, 'theme', 'Group', false) ?? null,
      expirationDateTime: null,
    },
    ctx.nowMs,
  );
  ctx.store.addGroup(group);
  ctx.mutated('group.create', group.id);
  bindRefs(ctx, group, body, false);
  return group;
}

function updateGroup(ctx: Ctx, group: Group): void {
  const body = bodyObject(ctx);
  checkWritable(body, GROUP_WRITABLE, GROUP_READ_ONLY);
  for (const fixed of ['mailEnabled', 'securityEnabled', 'groupTypes'] as const) {
    if (fixed in body && JSON.stringify(body[fixed]) !== JSON.stringify(group[fixed])) {
      if (fixed !== 'securityEnabled' || !group.groupTypes.includes('Unified')) throw badRequest(`Property '${fixed}' cannot be changed for this group.`);
    }
  }
  bindRefs(ctx, group, body, true);
  const before = { mail: group.mail, proxyAddresses: group.proxyAddresses };
  for (const key of ['displayName', 'description', 'visibility', 'membershipRule', 'classification', 'preferredLanguage', 'theme', 'mailNickname'] as const) {
    if (key in body) {
      const v = stringProp(body, key, 'Group', key === 'displayName' || key === 'mailNickname');
      (group as unknown as Record<string, unknown>)[key] = v ?? null;
    }
  }
  if ('securityEnabled' in body) group.securityEnabled = boolProp(body, 'securityEnabled', 'Group', true)!;
  if ('isAssignableToRole' in body) throw badRequest("Property 'isAssignableToRole' can only be set when the group is created.");
  ctx.store.updateGroup(group, before);
  bindRefs(ctx, group, body, false);
}

function relationRoutes(rel: Relation): RouteDef[] {
  const read = rel === 'members' ? P.groupRead : [...P.groupRead, 'Application.Read.All'];
  const write = rel === 'members' ? P.memberWrite : P.groupWrite;
  const list = (transitive: boolean) => (ctx: Ctx) => {
    const group = requireGroup(ctx, ctx.params['id']!);
    const ids = transitive ? ctx.store.transitiveMembers(group.id) : [...(rel === 'members' ? ctx.store.membersOf(group.id) : ctx.store.ownersOf(group.id))];
    const objs = ids.map((id) => ctx.store.directoryObject(id)).filter((o) => o !== undefined).filter((o) => replicated(ctx, o.object));
    return collection(ctx, objs, DIRECTORY_OBJECT_TYPE, (o) => directoryObjectView(ctx.store, o), 'directoryObjects');
  };
  const routes: RouteDef[] = [
    { method: 'GET', path: `/groups/:id/${rel}`, permissions: read, handler: list(false) },
    {
      method: 'GET',
      path: `/groups/:id/${rel}/$count`,
      permissions: read,
      handler: (ctx) => countReply(ctx, (rel === 'members' ? ctx.store.membersOf : ctx.store.ownersOf).call(ctx.store, requireGroup(ctx, ctx.params['id']!).id).size),
    },
    {
      method: 'POST',
      path: `/groups/:id/${rel}/$ref`,
      permissions: write,
      handler: (ctx) => {
        const group = requireGroup(ctx, ctx.params['id']!);
        addRef(ctx, group, rel, refId(bodyObject(ctx)['@odata.id']));
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: `/groups/:id/${rel}/:memberId/$ref`,
      permissions: write,
      handler: (ctx) => {
        const group = requireGroup(ctx, ctx.params['id']!);
        const memberId = ctx.params['memberId']!.toLowerCase();
        const present = rel === 'members' ? ctx.store.isMember(group.id, memberId) : ctx.store.ownersOf(group.id).has(memberId);
        if (!present) throw doesNotExist(rel);
        if (rel === 'owners' && group.groupTypes.includes('Unified') && ctx.store.ownersOf(group.id).size === 1 && ctx.store.membersOf(group.id).size > 0) {
          throw badRequest('The group must have at least one owner, hence this owner cannot be removed.');
        }
        if (rel === 'members') ctx.store.removeMember(group.id, memberId);
        else ctx.store.removeOwner(group.id, memberId);
        ctx.mutated(rel === 'members' ? 'group.removeMember' : 'group.removeOwner', group.id, memberId);
        return { status: 204 };
      },
    },
  ];
  if (rel === 'members') routes.push({ method: 'GET', path: '/groups/:id/transitiveMembers', permissions: read, handler: list(true) });
  return routes;
}

export function registerGroupRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/groups',
      permissions: P.groupRead,
      handler: (ctx) => {
        const groups = [...ctx.store.groups.values()].filter((g) => replicated(ctx, g));
        return collection(ctx, groups, GROUP_TYPE, (g) => groupView(ctx.store, g), 'groups', undefined, groupExpanders(ctx.store));
      },
    },
    { method: 'GET', path: '/groups/$count', permissions: P.groupRead, handler: (ctx) => countReply(ctx, ctx.store.groups.size) },
    {
      method: 'POST',
      path: '/groups',
      permissions: P.groupCreate,
      handler: (ctx) => {
        const group = createGroup(ctx);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'groups/$entity'), ...groupView(ctx.store, group) } };
      },
    },
    {
      method: 'GET',
      path: '/groups/:id',
      permissions: P.groupRead,
      handler: (ctx) => {
        const group = requireGroup(ctx, ctx.params['id']!);
        return entity(ctx, groupView(ctx.store, group), GROUP_TYPE, 'groups/$entity', group, groupExpanders(ctx.store));
      },
    },
    {
      method: 'PATCH',
      path: '/groups/:id',
      permissions: [...P.groupWrite, ...P.memberWrite],
      handler: (ctx) => {
        const group = requireGroup(ctx, ctx.params['id']!);
        const body = bodyObject(ctx);
        const onlyRefs = Object.keys(body).every((k) => k.endsWith('@odata.bind'));
        if (!onlyRefs && !P.groupWrite.some((r) => ctx.caller.roles.has(r))) throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
        updateGroup(ctx, group);
        if (!onlyRefs) ctx.mutated('group.update', group.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/groups/:id',
      permissions: P.groupWrite,
      handler: (ctx) => {
        const group = requireGroup(ctx, ctx.params['id']!);
        ctx.store.softDeleteGroup(group, ctx.nowIso, ctx.nowMs);
        ctx.mutated('group.delete', group.id);
        return { status: 204 };
      },
    },
    ...relationRoutes('members'),
    ...relationRoutes('owners'),
    ...memberOfRoutes('groups', requireGroup),
  );
}
