// Entra's directory audit log: every directory write the sandbox performs leaves an entry, in the
// shape GET /auditLogs/directoryAudits returns, so investigation runbooks read real history.
import { randomUUID } from 'node:crypto';
import type { Caller } from './types.ts';
import type { TenantStore } from './store.ts';

export interface DirectoryAudit {
  id: string;
  category: string;
  correlationId: string;
  result: 'success' | 'failure';
  resultReason: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  operationType: 'Add' | 'Update' | 'Delete' | 'Assign' | 'Unassign';
  initiatedBy: { app: { appId: string; displayName: string; servicePrincipalId: string; servicePrincipalName: string | null } | null; user: null };
  targetResources: { id: string; displayName: string | null; type: string; userPrincipalName: string | null; groupType: string | null; modifiedProperties: unknown[] }[];
  additionalDetails: { key: string; value: string }[];
}

type Activity = [displayName: string, category: string, operationType: DirectoryAudit['operationType'], service?: string];

const METHODS = 'Authentication Methods';

/** Mutation op (named like catalog actions) -> the activity Entra logs for it. */
const ACTIVITIES: Record<string, Activity> = {
  'user.create': ['Add user', 'UserManagement', 'Add'],
  'user.update': ['Update user', 'UserManagement', 'Update'],
  'user.delete': ['Delete user', 'UserManagement', 'Delete'],
  'user.restore': ['Restore user', 'UserManagement', 'Update'],
  'user.permanentDelete': ['Hard Delete user', 'UserManagement', 'Delete'],
  'user.invite': ['Invite external user', 'UserManagement', 'Add', 'Invited Users'],
  'user.assignLicense': ['Change user license', 'UserManagement', 'Update'],
  'user.setManager': ['Set user manager', 'UserManagement', 'Update'],
  'user.removeManager': ['Remove user manager', 'UserManagement', 'Update'],
  'user.revokeSignInSessions': ['Invalidate all refresh tokens for user', 'UserManagement', 'Update'],
  'user.setPerUserMfaState': ['Update per-user multifactor authentication state (StrongAuthenticationRequirement)', 'UserManagement', 'Update'],
  'user.deleteAuthenticationMethod': ['Admin deleted security info', 'UserManagement', 'Delete', METHODS],
  'user.addPhoneMethod': ['Admin registered security info', 'UserManagement', 'Add', METHODS],
  'user.addEmailMethod': ['Admin registered security info', 'UserManagement', 'Add', METHODS],
  'user.addTemporaryAccessPassMethod': ['Admin registered temporary access pass method for user', 'UserManagement', 'Add', METHODS],
  'user.setSignInPreferences': ['Admin updated security info', 'UserManagement', 'Update', METHODS],
  'group.create': ['Add group', 'GroupManagement', 'Add'],
  'group.update': ['Update group', 'GroupManagement', 'Update'],
  'group.delete': ['Delete group', 'GroupManagement', 'Delete'],
  'group.restore': ['Restore Group', 'GroupManagement', 'Update'],
  'group.permanentDelete': ['Hard Delete group', 'GroupManagement', 'Delete'],
  'group.addMember': ['Add member to group', 'GroupManagement', 'Assign'],
  'group.removeMember': ['Remove member from group', 'GroupManagement', 'Unassign'],
  'group.addOwner': ['Add owner to group', 'GroupManagement', 'Assign'],
  'group.removeOwner': ['Remove owner from group', 'GroupManagement', 'Unassign'],
  'role.assign': ['Add member to role', 'RoleManagement', 'Assign'],
  'role.unassign': ['Remove member from role', 'RoleManagement', 'Unassign'],
  'namedLocation.create': ['Add named location', 'Policy', 'Add', 'Conditional Access'],
  'namedLocation.update': ['Update named location', 'Policy', 'Update', 'Conditional Access'],
  'namedLocation.delete': ['Delete named location', 'Policy', 'Delete', 'Conditional Access'],
  'conditionalAccessPolicy.create': ['Add conditional access policy', 'Policy', 'Add', 'Conditional Access'],
  'conditionalAccessPolicy.update': ['Update conditional access policy', 'Policy', 'Update', 'Conditional Access'],
  'conditionalAccessPolicy.delete': ['Delete conditional access policy', 'Policy', 'Delete', 'Conditional Access'],
  'application.create': ['Add application', 'ApplicationManagement', 'Add'],
  'application.update': ['Update application', 'ApplicationManagement', 'Update'],
  'application.delete': ['Delete application', 'ApplicationManagement', 'Delete'],
  'application.addPassword': ['Update application – Certificates and secrets management ', 'ApplicationManagement', 'Update'],
  'application.removePassword': ['Update application – Certificates and secrets management ', 'ApplicationManagement', 'Update'],
  'application.updateKeyCredentials': ['Update application – Certificates and secrets management ', 'ApplicationManagement', 'Update'],
  'application.restore': ['Restore application', 'ApplicationManagement', 'Update'],
  'application.permanentDelete': ['Hard delete application', 'ApplicationManagement', 'Delete'],
  'application.addOwner': ['Add owner to application', 'ApplicationManagement', 'Add'],
  'application.removeOwner': ['Remove owner from application', 'ApplicationManagement', 'Delete'],
  'appRoleAssignment.create': ['Add app role assignment grant to user', 'UserManagement', 'Assign'],
  'appRoleAssignment.delete': ['Remove app role assignment from user', 'UserManagement', 'Unassign'],
  'servicePrincipal.create': ['Add service principal', 'ApplicationManagement', 'Add'],
  'servicePrincipal.update': ['Update service principal', 'ApplicationManagement', 'Update'],
  'servicePrincipal.delete': ['Remove service principal', 'ApplicationManagement', 'Delete'],
  'domain.create': ['Add unverified domain', 'DirectoryManagement', 'Add'],
  'domain.verify': ['Verify domain', 'DirectoryManagement', 'Update'],
  'domain.update': ['Update domain', 'DirectoryManagement', 'Update'],
  'domain.delete': ['Delete domain', 'DirectoryManagement', 'Delete'],
  'domain.forceDelete': ['Delete domain', 'DirectoryManagement', 'Delete'],
  'oauth2PermissionGrant.delete': ['Remove delegated permission grant', 'ApplicationManagement', 'Delete'],
};

/** Entra keeps 30 days (P1); the sandbox keeps the latest entries up to this many. */
const MAX_ENTRIES = 20_000;

export function directoryAudits(store: TenantStore): DirectoryAudit[] {
  return store.tenantState<DirectoryAudit[]>('directoryAudits', () => []);
}

function target(store: TenantStore, id: string): DirectoryAudit['targetResources'][number] {
  const live = store.directoryObject(id);
  const obj = live?.object ?? store.deleted.get(id)?.object;
  const kind = live?.kind ?? store.deleted.get(id)?.kind;
  if (obj && kind === 'user') return { id, displayName: obj.displayName, type: 'User', userPrincipalName: (obj as { userPrincipalName: string }).userPrincipalName, groupType: null, modifiedProperties: [] };
  if (obj && kind === 'group') {
    const groupTypes = (obj as { groupTypes: string[] }).groupTypes;
    return { id, displayName: obj.displayName, type: 'Group', userPrincipalName: null, groupType: groupTypes.includes('Unified') ? 'unifiedGroups' : 'securityGroup', modifiedProperties: [] };
  }
  const app = [...store.apps.values()].find((a) => a.id === id || a.servicePrincipalId === id);
  if (app) return { id, displayName: app.displayName, type: app.id === id ? 'Application' : 'ServicePrincipal', userPrincipalName: null, groupType: null, modifiedProperties: [] };
  return { id, displayName: null, type: 'Other', userPrincipalName: null, groupType: null, modifiedProperties: [] };
}

/** Records the audit entries of one request's successful writes (ops the audit log does not cover are skipped). */
export function recordAudits(store: TenantStore, caller: Caller, ops: { op: string; objectIds: string[] }[], nowIso: string, correlationId: string): void {
  const log = directoryAudits(store);
  for (const { op, objectIds } of ops) {
    const activity = ACTIVITIES[op];
    if (!activity) continue;
    const [activityDisplayName, category, operationType, service] = activity;
    log.push({
      id: `Directory_${randomUUID()}`,
      category,
      correlationId,
      result: 'success',
      resultReason: '',
      activityDisplayName,
      activityDateTime: nowIso,
      loggedByService: service ?? 'Core Directory',
      operationType,
      initiatedBy: { app: { appId: caller.appId, displayName: caller.appDisplayName, servicePrincipalId: caller.servicePrincipalId, servicePrincipalName: null }, user: null },
      targetResources: objectIds.map((id) => target(store, id)),
      additionalDetails: [{ key: 'User-Agent', value: 'Tenantflow' }],
    });
  }
  if (log.length > MAX_ENTRIES) log.splice(0, log.length - MAX_ENTRIES);
}
