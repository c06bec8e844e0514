// Service principals (the tenant's own apps plus Microsoft and third-party ones), their app role
// assignments (users and groups assigned to an enterprise app: /servicePrincipals/{id}/appRoleAssignedTo,
// read also as /users|groups/{id}/appRoleAssignments), and delegated permission grants
// (/oauth2PermissionGrants: user and admin consents). App registrations are in app-registrations.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { badRequest, GraphError, notFound } from '../errors.ts';
import { idByte, pinnedUserRef } from '../derive.ts';
import type { TypeInfo } from '../odata.ts';
import { P } from '../permissions.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import type { AppRole, TenantStore, User } from '../store.ts';
import { bodyObject, collection, entity, odataContext, requireGroup, requireUser, stringProp } from './common.ts';
import { looksCompromised } from './audit-logs.ts';

const READ = ['Application.Read.All', 'Application.ReadWrite.All', ...P.directoryRead];
const WRITE = ['Application.ReadWrite.All'];
const GRANT_READ = ['DelegatedPermissionGrant.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', ...P.directoryRead];
const GRANT_WRITE = ['DelegatedPermissionGrant.ReadWrite.All', ...P.directoryWrite];

/** Service principals of apps registered elsewhere (Microsoft's, and multi-tenant vendors'). */
interface ExternalSp {
  id: string;
  appId: string;
  displayName: string;
  publisherName: string;
  appOwnerOrganizationId: string;
  accountEnabled: boolean;
}

const MICROSOFT_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
const VENDOR_TENANT = '0c7f9d1e-2b3a-4c5d-8e6f-7a8b9c0d1e2f';

export const GRAPH_SP_ID = '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e60';
const EXTERNAL: ExternalSp[] = [
  { id: GRAPH_SP_ID, appId: '00000003-0000-0000-c000-000000000000', displayName: 'Microsoft Graph', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e61', appId: '00000002-0000-0ff1-ce00-000000000000', displayName: 'Office 365 Exchange Online', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e62', appId: '00000003-0000-0ff1-ce00-000000000000', displayName: 'Office 365 SharePoint Online', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e63', appId: '1fec8e78-bce4-4aaf-ab1b-5451cc387264', displayName: 'Microsoft Teams', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e64', appId: 'de8bc8b5-d9f9-48b1-a8ad-b748da725064', displayName: 'Graph Explorer', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e65', appId: '7a1c3e5f-9b2d-4f6a-8c0e-2d4f6a8c0e13', displayName: 'Zoom for Outlook', publisherName: 'Zoom Video Communications, Inc.', appOwnerOrganizationId: VENDOR_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e66', appId: '3e9b1d7f-5a2c-4e8b-9f1a-6c3e8b1d7f24', displayName: 'Mail Organizer Pro', publisherName: 'Unverified', appOwnerOrganizationId: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', accountEnabled: true },
];

interface ConsentState {
  /** Ids of seeded (derived) grants that were revoked. */
  revoked: string[];
  /** Service principals of external apps that were disabled / removed. */
  externalDisabled: string[];
  externalRemoved: string[];
}

const consentState = (store: TenantStore): ConsentState => store.tenantState('consents', () => ({ revoked: [], externalDisabled: [], externalRemoved: [] }));

interface Grant {
  id: string;
  clientId: string;
  consentType: 'AllPrincipals' | 'Principal';
  principalId: string | null;
  resourceId: string;
  scope: string;
}

const grantId = (clientId: string, principalId: string | null): string => Buffer.from(`${clientId}|${principalId ?? 'all'}`).toString('base64url');

const EXTERNAL_BY_NAME = new Map(EXTERNAL.map((e) => [e.displayName, e]));
const ADMIN_CONSENTS: Grant[] = [
  { id: grantId(EXTERNAL_BY_NAME.get('Zoom for Outlook')!.id, null), clientId: EXTERNAL_BY_NAME.get('Zoom for Outlook')!.id, consentType: 'AllPrincipals', principalId: null, resourceId: GRAPH_SP_ID, scope: ' openid profile email User.Read Calendars.ReadWrite' },
];

/** A seeded user's own consents: Graph Explorer for some, a mail-reading app for the compromised few. */
function userGrants(user: User): Grant[] {
  if (user._password !== null || user.userType !== 'Member') return [];
  const out: Grant[] = [];
  if (idByte(user.id, 7) < 50) {
    const client = EXTERNAL_BY_NAME.get('Graph Explorer')!.id;
    out.push({ id: grantId(client, user.id), clientId: client, consentType: 'Principal', principalId: user.id, resourceId: GRAPH_SP_ID, scope: ' openid profile User.Read' });
  }
  if (looksCompromised(user)) {
    const client = EXTERNAL_BY_NAME.get('Mail Organizer Pro')!.id;
    out.push({ id: grantId(client, user.id), clientId: client, consentType: 'Principal', principalId: user.id, resourceId: GRAPH_SP_ID, scope: ' offline_access Mail.ReadWrite Mail.Send MailboxSettings.ReadWrite' });
  }
  return out;
}

function* allGrants(ctx: Ctx, users: Iterable<User>): Generator<Grant> {
  const revoked = new Set(consentState(ctx.store).revoked);
  for (const g of ADMIN_CONSENTS) if (!revoked.has(g.id)) yield g;
  for (const u of users) for (const g of userGrants(u)) if (!revoked.has(g.id)) yield g;
}

const GRANT_TYPE: TypeInfo = { name: 'microsoft.graph.oAuth2PermissionGrant', properties: new Set(['id', 'clientId', 'consentType', 'principalId', 'resourceId', 'scope']) };

function grantUsers(ctx: Ctx): Iterable<User> {
  const pinned = pinnedUserRef(ctx.query.get('$filter') ?? ctx.query.get('filter'), ['principalId']);
  if (!pinned) return ctx.store.users.values();
  const u = ctx.store.userById(pinned);
  return u ? [u] : [];
}

/** The grant an id names: ids encode client and principal, so seeded grants need no index. */
function findGrant(ctx: Ctx, id: string): Grant {
  let principal: string | undefined;
  try {
    principal = Buffer.from(id, 'base64url').toString().split('|')[1];
  } catch {
    principal = undefined;
  }
  const user = principal && principal !== 'all' ? ctx.store.userById(principal) : undefined;
  for (const g of allGrants(ctx, user ? [user] : [])) if (g.id === id) return g;
  throw notFound(id);
}

// ---- applications and service principals ----

const SP_TYPE: TypeInfo = {
  name: 'microsoft.graph.servicePrincipal',
  properties: new Set(['id', 'appId', 'displayName', 'accountEnabled', 'servicePrincipalType', 'appOwnerOrganizationId', 'appRoleAssignmentRequired', 'servicePrincipalNames', 'tags', 'publisherName', 'signInAudience', 'passwordCredentials', 'keyCredentials', 'deletedDateTime', 'appRoles']),
};

interface SpView {
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
  [k: string]: unknown;
}

function spViews(store: TenantStore): SpView[] {
  const state = consentState(store);
  const own = [...store.apps.values()]
    .filter((a) => a.hasServicePrincipal !== false)
    .map((a) => ({ id: a.servicePrincipalId, appId: a.appId, displayName: a.displayName, accountEnabled: a.accountEnabled !== false, servicePrincipalType: 'Application', appOwnerOrganizationId: store.info.id, publisherName: store.info.displayName, signInAudience: a.signInAudience ?? 'AzureADMyOrg', appRoles: a.appRoles ?? [], appRoleAssignmentRequired: a.appRoleAssignmentRequired ?? false }));
  const external = EXTERNAL.filter((e) => !state.externalRemoved.includes(e.id)).map((e) => ({ id: e.id, appId: e.appId, displayName: e.displayName, accountEnabled: e.accountEnabled && !state.externalDisabled.includes(e.id), servicePrincipalType: 'Application', appOwnerOrganizationId: e.appOwnerOrganizationId, publisherName: e.publisherName, signInAudience: 'AzureADMultipleOrgs', appRoles: [] as AppRole[], appRoleAssignmentRequired: false }));
  return [...own, ...external].map((sp) => ({ ...sp, servicePrincipalNames: [sp.appId], tags: ['WindowsAzureActiveDirectoryIntegratedApp'], passwordCredentials: [], keyCredentials: [], deletedDateTime: null }));
}

function requireSp(ctx: Ctx): SpView {
  const id = ctx.params['id']!.toLowerCase();
  const sp = spViews(ctx.store).find((s) => s.id === id);
  if (!sp) throw notFound(id);
  return sp;
}

// ---- app role assignments (users and groups assigned to an enterprise app) ----

const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';
const ASSIGN_READ = [...READ, 'AppRoleAssignment.ReadWrite.All'];
const ASSIGN_WRITE = ['AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', ...P.directoryWrite];

interface AppRoleAssignment {
  id: string;
  appRoleId: string;
  principalId: string;
  resourceId: string;
  createdDateTime: string;
}

const ASSIGNMENT_TYPE: TypeInfo = {
  name: 'microsoft.graph.appRoleAssignment',
  properties: new Set(['id', 'appRoleId', 'createdDateTime', 'deletedDateTime', 'principalDisplayName', 'principalId', 'principalType', 'resourceDisplayName', 'resourceId']),
};

const assignments = (store: TenantStore): AppRoleAssignment[] => store.tenantState('appRoleAssignments', () => []);

/** Assignments whose principal and resource still exist (a deleted user's assignments go with it). */
function liveAssignments(ctx: Ctx): { a: AppRoleAssignment; view: Record<string, unknown> }[] {
  const sps = new Map(spViews(ctx.store).map((s) => [s.id, s]));
  const out: { a: AppRoleAssignment; view: Record<string, unknown> }[] = [];
  for (const a of assignments(ctx.store)) {
    const principal = ctx.store.directoryObject(a.principalId);
    const resource = sps.get(a.resourceId);
    if (!principal || !resource) continue;
    out.push({ a, view: { ...a, deletedDateTime: null, principalDisplayName: principal.object.displayName, principalType: principal.kind === 'user' ? 'User' : 'Group', resourceDisplayName: resource.displayName } });
  }
  return out;
}

const assignmentId = (): string => randomBytes(32).toString('base64url').slice(0, 43);

function createAssignment(ctx: Ctx, sp: SpView): Record<string, unknown> {
  const body = bodyObject(ctx);
  for (const k of Object.keys(body)) if (!['principalId', 'resourceId', 'appRoleId', '@odata.type'].includes(k)) throw badRequest(`Property '${k}' does not exist as a declared property or extension property on type 'microsoft.graph.appRoleAssignment'.`);
  const principalId = stringProp(body, 'principalId', 'AppRoleAssignment', true)!.toLowerCase();
  const resourceId = stringProp(body, 'resourceId', 'AppRoleAssignment', true)!.toLowerCase();
  const appRoleId = stringProp(body, 'appRoleId', 'AppRoleAssignment', true)!.toLowerCase();
  if (resourceId !== sp.id) throw badRequest(`The resourceId '${resourceId}' must be the service principal the assignment is made on ('${sp.id}').`);
  const principal = ctx.store.directoryObject(principalId);
  if (!principal) throw notFound(principalId);
  if (appRoleId !== DEFAULT_ACCESS) {
    const role = (sp['appRoles'] as AppRole[]).find((r) => r.id === appRoleId);
    if (!role || !role.isEnabled) throw badRequest('Permission being assigned was not found on application');
    if (!role.allowedMemberTypes.includes('User')) throw badRequest(`The app role '${role.displayName}' cannot be assigned to users or groups: its allowedMemberTypes are ${role.allowedMemberTypes.join(', ')}.`);
  }
  const list = assignments(ctx.store);
  if (list.some((a) => a.principalId === principalId && a.resourceId === sp.id && a.appRoleId === appRoleId)) throw badRequest('Permission being assigned already exists on the object');
  const a: AppRoleAssignment = { id: assignmentId(), appRoleId, principalId, resourceId: sp.id, createdDateTime: ctx.nowIso };
  list.push(a);
  ctx.mutated('appRoleAssignment.create', principalId, sp.id);
  return liveAssignments(ctx).find((x) => x.a === a)!.view;
}

function assignmentRoutes(): RouteDef[] {
  const ofPrincipal = (kind: 'users' | 'groups'): RouteDef => ({
    method: 'GET',
    path: `/${kind}/:id/appRoleAssignments`,
    permissions: [...ASSIGN_READ, ...(kind === 'users' ? P.userRead : P.groupRead)],
    handler: (ctx) => {
      const obj = kind === 'users' ? requireUser(ctx, ctx.params['id']!) : requireGroup(ctx, ctx.params['id']!);
      return collection(ctx, liveAssignments(ctx).filter((x) => x.a.principalId === obj.id), ASSIGNMENT_TYPE, (x) => x.view, `${kind}('${obj.id}')/appRoleAssignments`);
    },
  });
  return [
    {
      method: 'GET',
      path: '/servicePrincipals/:id/appRoleAssignedTo',
      permissions: ASSIGN_READ,
      handler: (ctx) => {
        const sp = requireSp(ctx);
        return collection(ctx, liveAssignments(ctx).filter((x) => x.a.resourceId === sp.id), ASSIGNMENT_TYPE, (x) => x.view, `servicePrincipals('${sp.id}')/appRoleAssignedTo`);
      },
    },
    {
      method: 'POST',
      path: '/servicePrincipals/:id/appRoleAssignedTo',
      permissions: ASSIGN_WRITE,
      handler: (ctx) => ({ status: 201, body: { '@odata.context': odataContext(ctx, `servicePrincipals('${ctx.params['id']}')/appRoleAssignedTo/$entity`), ...createAssignment(ctx, requireSp(ctx)) } }),
    },
    {
      method: 'DELETE',
      path: '/servicePrincipals/:id/appRoleAssignedTo/:assignmentId',
      permissions: ASSIGN_WRITE,
      handler: (ctx) => {
        const sp = requireSp(ctx);
        const list = assignments(ctx.store);
        const i = list.findIndex((a) => a.id === ctx.params['assignmentId'] && a.resourceId === sp.id);
        if (i < 0) throw notFound(ctx.params['assignmentId']!);
        const [gone] = list.splice(i, 1);
        ctx.mutated('appRoleAssignment.delete', gone!.principalId, sp.id);
        return { status: 204 };
      },
    },
    ofPrincipal('users'),
    ofPrincipal('groups'),
  ];
}

export function registerApplicationRoutes(router: Router): void {
  router.add(
    ...assignmentRoutes(),
    {
      method: 'GET',
      path: '/servicePrincipals',
      permissions: READ,
      handler: (ctx) => collection(ctx, spViews(ctx.store), SP_TYPE, (s) => s, 'servicePrincipals'),
    },
    {
      method: 'GET',
      path: '/servicePrincipals/:id',
      permissions: READ,
      handler: (ctx) => entity(ctx, requireSp(ctx), SP_TYPE, 'servicePrincipals/$entity'),
    },
    {
      method: 'POST',
      path: '/servicePrincipals',
      permissions: WRITE,
      handler: (ctx) => {
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (!['appId', 'accountEnabled', 'appRoleAssignmentRequired'].includes(k)) throw badRequest(`Property '${k}' cannot be set on a new service principal (the sandbox takes appId, accountEnabled and appRoleAssignmentRequired).`);
        const appId = stringProp(body, 'appId', 'ServicePrincipal', true)!.toLowerCase();
        const app = ctx.store.appByClientId(appId);
        if (!app) throw badRequest(`The appId '${appId}' of the service principal does not reference a valid application object.`);
        if (app.hasServicePrincipal !== false) {
          throw badRequest('The service principal cannot be created, updated, or restored because the service principal name is already in use.', [{ code: 'ObjectConflict', message: 'servicePrincipalNames already in use', target: 'servicePrincipalNames' }]);
        }
        app.hasServicePrincipal = true;
        app.servicePrincipalId = randomUUID();
        if (typeof body['accountEnabled'] === 'boolean') app.accountEnabled = body['accountEnabled'];
        if (typeof body['appRoleAssignmentRequired'] === 'boolean') app.appRoleAssignmentRequired = body['appRoleAssignmentRequired'];
        ctx.mutated('servicePrincipal.create', app.servicePrincipalId);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'servicePrincipals/$entity'), ...spViews(ctx.store).find((s) => s.id === app.servicePrincipalId) } };
      },
    },
    {
      method: 'PATCH',
      path: '/servicePrincipals/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const sp = requireSp(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'accountEnabled' && k !== 'appRoleAssignmentRequired') throw badRequest(`Property '${k}' is read-only or not supported by the sandbox on type 'microsoft.graph.servicePrincipal'.`);
        const own = [...ctx.store.apps.values()].find((a) => a.servicePrincipalId === sp.id);
        if ('appRoleAssignmentRequired' in body) {
          if (typeof body['appRoleAssignmentRequired'] !== 'boolean') throw badRequest("Invalid value specified for property 'appRoleAssignmentRequired'.");
          if (!own) throw badRequest('The sandbox keeps appRoleAssignmentRequired for the tenant\'s own apps only.');
          own.appRoleAssignmentRequired = body['appRoleAssignmentRequired'];
        }
        if ('accountEnabled' in body) {
          if (typeof body['accountEnabled'] !== 'boolean') throw badRequest("Invalid value specified for property 'accountEnabled'.");
          if (own) own.accountEnabled = body['accountEnabled'];
          else {
            const state = consentState(ctx.store);
            state.externalDisabled = state.externalDisabled.filter((x) => x !== sp.id);
            if (!body['accountEnabled']) state.externalDisabled.push(sp.id);
          }
        }
        ctx.mutated('servicePrincipal.update', sp.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/servicePrincipals/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const sp = requireSp(ctx);
        const own = [...ctx.store.apps.values()].find((a) => a.servicePrincipalId === sp.id);
        if (own) own.hasServicePrincipal = false;
        else consentState(ctx.store).externalRemoved.push(sp.id);
        ctx.mutated('servicePrincipal.delete', sp.id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/oauth2PermissionGrants',
      permissions: GRANT_READ,
      handler: (ctx) => collection(ctx, allGrants(ctx, grantUsers(ctx)), GRANT_TYPE, (g) => ({ ...g }), 'oauth2PermissionGrants'),
    },
    {
      method: 'GET',
      path: '/oauth2PermissionGrants/:id',
      permissions: GRANT_READ,
      handler: (ctx) => entity(ctx, { ...findGrant(ctx, ctx.params['id']!) }, GRANT_TYPE, 'oauth2PermissionGrants/$entity'),
    },
    {
      method: 'DELETE',
      path: '/oauth2PermissionGrants/:id',
      permissions: GRANT_WRITE,
      handler: (ctx) => {
        const g = findGrant(ctx, ctx.params['id']!);
        consentState(ctx.store).revoked.push(g.id);
        ctx.mutated('oauth2PermissionGrant.delete', ...(g.principalId ? [g.principalId] : [g.clientId]));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/oauth2PermissionGrants',
      permissions: GRANT_READ,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const mine = [...allGrants(ctx, [user])].filter((g) => g.principalId === user.id);
        return collection(ctx, mine, GRANT_TYPE, (g) => ({ ...g }), 'oauth2PermissionGrants');
      },
    },
  );
}
