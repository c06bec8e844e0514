// Entra built-in directory roles: directoryRoleTemplates, activated directoryRoles with members, and
// the unified RBAC API (/roleManagement/directory/roleDefinitions and roleAssignments).
import { randomUUID } from 'node:crypto';
import { badRequest, GraphError, notFound } from '../errors.ts';
import { maskGuid } from '../derive.ts';
import type { TypeInfo } from '../odata.ts';
import { P } from '../permissions.ts';
import type { Ctx, Router } from '../runtime.ts';
import type { TenantStore } from '../store.ts';
import { bodyObject, collection, entity, odataContext, requireDirectoryObject, stringProp } from './common.ts';
import { directoryObjectView, DIRECTORY_OBJECT_TYPE } from './views.ts';

/** Real template ids of Entra's built-in roles (they are the roleDefinition ids too). */
export const BUILT_IN_ROLES: readonly { id: string; displayName: string; description: string; privileged?: boolean }[] = [
  { id: '62e90394-69f5-4237-9190-012177145e10', displayName: 'Global Administrator', description: 'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.', privileged: true },
  { id: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451', displayName: 'Global Reader', description: 'Can read everything that a Global Administrator can, but not update anything.', privileged: true },
  { id: 'fe930be7-5e62-47db-91af-98c3a49a38b1', displayName: 'User Administrator', description: 'Can manage all aspects of users and groups, including resetting passwords for limited admins.', privileged: true },
  { id: '729827e3-9c14-49f7-bb1b-9608f156bbb8', displayName: 'Helpdesk Administrator', description: 'Can reset passwords for non-administrators and Helpdesk Administrators.', privileged: true },
  { id: '966707d0-3269-4727-9be2-8c3a10f19b9d', displayName: 'Password Administrator', description: 'Can reset passwords for non-administrators and Password Administrators.', privileged: true },
  { id: 'c4e39bd9-1100-46d3-8c65-fb160da0071f', displayName: 'Authentication Administrator', description: 'Can access to view, set and reset authentication method information for any non-admin user.', privileged: true },
  { id: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13', displayName: 'Privileged Authentication Administrator', description: 'Can access to view, set and reset authentication method information for any user (admin or non-admin).', privileged: true },
  { id: 'e8611ab8-c189-46e8-94e1-60213ab1f814', displayName: 'Privileged Role Administrator', description: 'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.', privileged: true },
  { id: '194ae4cb-b126-40b2-bd5b-6091b380977d', displayName: 'Security Administrator', description: 'Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.', privileged: true },
  { id: '5d6b6bb7-de71-4623-b4af-96380a352509', displayName: 'Security Reader', description: 'Can read security information and reports in Microsoft Entra ID and Office 365.', privileged: true },
  { id: 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9', displayName: 'Conditional Access Administrator', description: 'Can manage Conditional Access capabilities.', privileged: true },
  { id: '29232cdf-9323-42fd-ade2-1d097af3e4de', displayName: 'Exchange Administrator', description: 'Can manage all aspects of the Exchange product.' },
  { id: '31392ffb-586c-42d1-9346-e59415a2cc4e', displayName: 'Exchange Recipient Administrator', description: 'Can create or update Exchange Online recipients within the Exchange Online organization.' },
  { id: 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c', displayName: 'SharePoint Administrator', description: 'Can manage all aspects of the SharePoint service.' },
  { id: '69091246-20e8-4a56-aa4d-066075b2a7a8', displayName: 'Teams Administrator', description: 'Can manage the Microsoft Teams service.' },
  { id: '3a2c62db-5318-420d-8d74-23affee5d9d5', displayName: 'Intune Administrator', description: 'Can manage all aspects of the Intune product.', privileged: true },
  { id: 'fdd7a751-b60b-444a-984c-02652fe8fa1c', displayName: 'Groups Administrator', description: 'Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.' },
  { id: '4d6ac14f-3453-41d0-bef9-a3e0c569773a', displayName: 'License Administrator', description: 'Can manage product licenses on users and groups.' },
  { id: 'b0f54661-2d74-4c50-afa3-1ec803f12efe', displayName: 'Billing Administrator', description: 'Can perform common billing related tasks like updating payment information.' },
  { id: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', displayName: 'Application Administrator', description: 'Can create and manage all aspects of app registrations and enterprise apps.', privileged: true },
  { id: '158c047a-c907-4556-b7ef-446551a6b5f7', displayName: 'Cloud Application Administrator', description: 'Can create and manage all aspects of app registrations and enterprise apps except App Proxy.', privileged: true },
  { id: '17315797-102d-40b4-93e0-432062caca18', displayName: 'Compliance Administrator', description: 'Can read and manage compliance configuration and reports in Microsoft Entra ID and Microsoft 365.' },
  { id: '4a5d8f65-41da-4de4-8968-e035b65339cf', displayName: 'Reports Reader', description: 'Can read sign-in and audit reports.' },
  { id: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b', displayName: 'Directory Readers', description: 'Can read basic directory information. Commonly used to grant directory read access to applications and guests.' },
  { id: '95e79109-95c0-4d8e-aee3-d01accf2d47b', displayName: 'Guest Inviter', description: 'Can invite guest users independent of the \'members can invite guests\' setting.' },
  { id: 'a9ea8996-122f-4c74-9520-8edcd192826c', displayName: 'Fabric Administrator', description: 'Can manage all aspects of the Fabric and Power BI products.' },
];

const ROLE_BY_ID = new Map(BUILT_IN_ROLES.map((r) => [r.id, r]));
/** An activated directoryRole has its own object id, distinct from its template id. */
const ACTIVATED_MASK = '5a5a5a5a5a5a0a5a0a5a5a5a5a5a5a5a';
const activatedId = (templateId: string): string => maskGuid(templateId, ACTIVATED_MASK);

export interface RoleAssignment {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId: string;
  appScopeId: string | null;
  createdDateTime: string;
}

interface RoleState {
  assignments: RoleAssignment[];
}

/** Unified role assignment ids look like this in Entra: a base64 of the role and principal. */
const assignmentId = (roleId: string, principalId: string): string => Buffer.from(`${roleId}${principalId}`.replace(/-/g, ''), 'hex').toString('base64url');

/** Seeded: the head of IT is Global Administrator, the next IT people User / Helpdesk / Exchange admins. */
function seedRoles(store: TenantStore): RoleState {
  const it: string[] = [];
  for (const u of store.users.values()) {
    if (u.department === 'IT' && u.userType === 'Member' && u._password === null) it.push(u.id);
    if (it.length >= 5) break;
  }
  const roles = ['62e90394-69f5-4237-9190-012177145e10', 'fe930be7-5e62-47db-91af-98c3a49a38b1', '729827e3-9c14-49f7-bb1b-9608f156bbb8', '729827e3-9c14-49f7-bb1b-9608f156bbb8', '29232cdf-9323-42fd-ade2-1d097af3e4de'];
  const created = store.info.createdDateTime;
  return {
    assignments: it.map((principalId, i) => ({ id: assignmentId(roles[i]!, principalId), principalId, roleDefinitionId: roles[i]!, directoryScopeId: '/', appScopeId: null, createdDateTime: created })),
  };
}

export function roleState(store: TenantStore): RoleState {
  return store.tenantState('roles', () => seedRoles(store));
}

const READ = ['RoleManagement.Read.Directory', 'RoleManagement.ReadWrite.Directory', ...P.directoryRead];
const WRITE = ['RoleManagement.ReadWrite.Directory'];

const DEFINITION_TYPE: TypeInfo = {
  name: 'microsoft.graph.unifiedRoleDefinition',
  properties: new Set(['id', 'description', 'displayName', 'isBuiltIn', 'isEnabled', 'isPrivileged', 'resourceScopes', 'rolePermissions', 'templateId', 'version']),
};
const ASSIGNMENT_TYPE: TypeInfo = {
  name: 'microsoft.graph.unifiedRoleAssignment',
  properties: new Set(['id', 'principalId', 'roleDefinitionId', 'directoryScopeId', 'appScopeId', 'condition', 'createdDateTime']),
};
const TEMPLATE_TYPE: TypeInfo = { name: 'microsoft.graph.directoryRoleTemplate', properties: new Set(['id', 'deletedDateTime', 'description', 'displayName']) };
const ROLE_TYPE: TypeInfo = { name: 'microsoft.graph.directoryRole', properties: new Set(['id', 'deletedDateTime', 'description', 'displayName', 'roleTemplateId']) };

const definitionView = (r: (typeof BUILT_IN_ROLES)[number]) => ({
  id: r.id,
  description: r.description,
  displayName: r.displayName,
  isBuiltIn: true,
  isEnabled: true,
  isPrivileged: r.privileged ?? false,
  resourceScopes: ['/'],
  templateId: r.id,
  version: '1',
  rolePermissions: [{ allowedResourceActions: [], condition: null }],
  inheritsPermissionsFrom: [],
});

const assignmentView = (a: RoleAssignment) => ({ id: a.id, principalId: a.principalId, roleDefinitionId: a.roleDefinitionId, directoryScopeId: a.directoryScopeId, appScopeId: a.appScopeId, condition: null, createdDateTime: a.createdDateTime });

function requireDefinition(id: string) {
  const role = ROLE_BY_ID.get(id.toLowerCase());
  if (!role) throw notFound(id);
  return role;
}

/** A role is "activated" (listed under /directoryRoles) once it has been assigned, as in Entra. */
function activatedRoles(ctx: Ctx): (typeof BUILT_IN_ROLES)[number][] {
  const used = new Set(roleState(ctx.store).assignments.map((a) => a.roleDefinitionId));
  used.add('62e90394-69f5-4237-9190-012177145e10');
  return BUILT_IN_ROLES.filter((r) => used.has(r.id));
}

const directoryRoleView = (r: (typeof BUILT_IN_ROLES)[number]) => ({ id: activatedId(r.id), deletedDateTime: null, description: r.description, displayName: r.displayName, roleTemplateId: r.id });

function requireActivated(ctx: Ctx, id: string) {
  const key = id.toLowerCase();
  const role = activatedRoles(ctx).find((r) => activatedId(r.id) === key || r.id === key);
  if (!role) throw notFound(id);
  return role;
}

function principalsOf(ctx: Ctx, roleId: string) {
  return roleState(ctx.store)
    .assignments.filter((a) => a.roleDefinitionId === roleId && a.directoryScopeId === '/')
    .map((a) => ctx.store.directoryObject(a.principalId))
    .filter((o) => o !== undefined);
}

export function registerRoleRoutes(router: Router): void {
  const base = '/roleManagement/directory';
  router.add(
    {
      method: 'GET',
      path: '/directoryRoleTemplates',
      permissions: READ,
      handler: (ctx) => collection(ctx, BUILT_IN_ROLES, TEMPLATE_TYPE, (r) => ({ id: r.id, deletedDateTime: null, description: r.description, displayName: r.displayName }), 'directoryRoleTemplates'),
    },
    {
      method: 'GET',
      path: '/directoryRoles',
      permissions: READ,
      handler: (ctx) => collection(ctx, activatedRoles(ctx), ROLE_TYPE, directoryRoleView, 'directoryRoles'),
    },
    {
      method: 'GET',
      path: '/directoryRoles/:id',
      permissions: READ,
      handler: (ctx) => entity(ctx, directoryRoleView(requireActivated(ctx, ctx.params['id']!)), ROLE_TYPE, 'directoryRoles/$entity'),
    },
    {
      method: 'GET',
      path: '/directoryRoles/:id/members',
      permissions: READ,
      handler: (ctx) => {
        const role = requireActivated(ctx, ctx.params['id']!);
        return collection(ctx, principalsOf(ctx, role.id), DIRECTORY_OBJECT_TYPE, (o) => directoryObjectView(ctx.store, o), 'directoryObjects');
      },
    },
    {
      method: 'GET',
      path: `${base}/roleDefinitions`,
      permissions: READ,
      handler: (ctx) => collection(ctx, BUILT_IN_ROLES.map(definitionView), DEFINITION_TYPE, (r) => r, 'roleManagement/directory/roleDefinitions'),
    },
    {
      method: 'GET',
      path: `${base}/roleDefinitions/:id`,
      permissions: READ,
      handler: (ctx) => entity(ctx, definitionView(requireDefinition(ctx.params['id']!)), DEFINITION_TYPE, 'roleManagement/directory/roleDefinitions/$entity'),
    },
    {
      method: 'GET',
      path: `${base}/roleAssignments`,
      permissions: READ,
      handler: (ctx) => {
        // Entra refuses an unfiltered list of all assignments only for huge tenants; the sandbox allows it.
        return collection(ctx, roleState(ctx.store).assignments, ASSIGNMENT_TYPE, assignmentView, 'roleManagement/directory/roleAssignments');
      },
    },
    {
      method: 'GET',
      path: `${base}/roleAssignments/:id`,
      permissions: READ,
      handler: (ctx) => {
        const a = roleState(ctx.store).assignments.find((x) => x.id === ctx.params['id']);
        if (!a) throw notFound(ctx.params['id']!);
        return entity(ctx, assignmentView(a), ASSIGNMENT_TYPE, 'roleManagement/directory/roleAssignments/$entity');
      },
    },
    {
      method: 'POST',
      path: `${base}/roleAssignments`,
      permissions: WRITE,
      handler: (ctx) => {
        const body = bodyObject(ctx);
        const principalId = stringProp(body, 'principalId', 'unifiedRoleAssignment', true)!.toLowerCase();
        const roleDefinitionId = stringProp(body, 'roleDefinitionId', 'unifiedRoleAssignment', true)!.toLowerCase();
        const directoryScopeId = stringProp(body, 'directoryScopeId', 'unifiedRoleAssignment', false) ?? '/';
        if (!ROLE_BY_ID.has(roleDefinitionId)) throw badRequest(`The role definition '${roleDefinitionId}' does not exist.`);
        // Users, groups and service principals (an app's roles, e.g. Exchange Administrator for app-only Exchange).
        const principal = ctx.store.directoryObject(principalId);
        const servicePrincipal = [...ctx.store.apps.values()].some((a) => a.servicePrincipalId.toLowerCase() === principalId && a.hasServicePrincipal !== false);
        if (!principal && !servicePrincipal) throw notFound(principalId);
        if (principal?.kind === 'group' && !principal.object.isAssignableToRole) {
          throw badRequest('The group must be role-assignable (isAssignableToRole) to be assigned a directory role.');
        }
        if (directoryScopeId !== '/' && !/^\/(administrativeUnits\/)?[0-9a-f-]{36}$/i.test(directoryScopeId)) throw badRequest(`Invalid directoryScopeId '${directoryScopeId}'.`);
        const state = roleState(ctx.store);
        if (state.assignments.some((a) => a.principalId === principalId && a.roleDefinitionId === roleDefinitionId && a.directoryScopeId === directoryScopeId)) {
          throw new GraphError(409, 'Request_BadRequest', 'A conflicting object with one or more of the specified property values is present in the directory.', {
            details: [{ code: 'ObjectConflict', message: 'The role assignment already exists.', target: 'roleAssignment' }],
          });
        }
        const a: RoleAssignment = { id: directoryScopeId === '/' ? assignmentId(roleDefinitionId, principalId) : randomUUID(), principalId, roleDefinitionId, directoryScopeId, appScopeId: null, createdDateTime: ctx.nowIso };
        state.assignments.push(a);
        ctx.mutated('role.assign', principalId);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'roleManagement/directory/roleAssignments/$entity'), ...assignmentView(a) } };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/roleAssignments/:id`,
      permissions: WRITE,
      handler: (ctx) => {
        const state = roleState(ctx.store);
        const a = state.assignments.find((x) => x.id === ctx.params['id']);
        if (!a) throw notFound(ctx.params['id']!);
        state.assignments = state.assignments.filter((x) => x !== a);
        ctx.mutated('role.unassign', a.principalId);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/transitiveRoleAssignments',
      permissions: READ,
      betaOnly: true,
      handler: (ctx) => {
        const principal = requireDirectoryObject(ctx, ctx.params['id']!);
        const groups = new Set(ctx.store.transitiveMemberOf(principal.object.id));
        const mine = roleState(ctx.store).assignments.filter((a) => a.principalId === principal.object.id || groups.has(a.principalId));
        return collection(ctx, mine, ASSIGNMENT_TYPE, assignmentView, 'roleManagement/directory/roleAssignments');
      },
    },
  );
}
