// What the signed-in person may see and do, from their role grants (GET /api/auth/me), mirroring
// the server's rules (server/people.ts): admin implies every role; tenant "*" covers every tenant.
// The server still decides; this only hides what would be refused.

export interface Grant {
  id?: number;
  tenant: string;
  role: string;
  scope?: { department?: string[]; country?: string[] } | null;
}

export const ROLES = ['admin', 'designer', 'operator', 'approver', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function hasRole(grants: Grant[], role: Role, tenant: string): boolean {
  return grants.some((g) => (g.tenant === tenant || g.tenant === '*') && (g.role === role || g.role === 'admin'));
}

export function hasRoleAnywhere(grants: Grant[], role: Role): boolean {
  return grants.some((g) => g.role === role || g.role === 'admin');
}

export function isGlobalAdmin(grants: Grant[]): boolean {
  return grants.some((g) => g.tenant === '*' && g.role === 'admin');
}

export type PageKey = 'dashboard' | 'runbooks' | 'helpdesk' | 'runs' | 'approvals' | 'schedules' | 'triggers' | 'tenants' | 'people' | 'audit';

/** Pages in the navigation for these grants. */
export function visiblePages(grants: Grant[]): Set<PageKey> {
  const pages = new Set<PageKey>(['runbooks', 'approvals', 'tenants']);
  if (grants.length) pages.add('dashboard').add('runs').add('schedules').add('triggers');
  if (hasRoleAnywhere(grants, 'operator') || hasRoleAnywhere(grants, 'designer')) pages.add('helpdesk');
  if (hasRoleAnywhere(grants, 'admin')) pages.add('people').add('audit');
  return pages;
}

/** What the pages let a person change. */
export function abilities(grants: Grant[]) {
  return {
    design: hasRoleAnywhere(grants, 'designer'),
    /** Clone and archive / restore runbooks (the server lets designers and admins: requireDesigner). */
    clone: hasRoleAnywhere(grants, 'designer'),
    archive: hasRoleAnywhere(grants, 'designer'),
    schedule: hasRoleAnywhere(grants, 'designer') || hasRoleAnywhere(grants, 'operator'),
    /** Create, pause, resume and delete triggers (the server lets designers of the tenant). */
    trigger: hasRoleAnywhere(grants, 'designer'),
    addTenants: isGlobalAdmin(grants),
    adminOf: (tenant: string) => hasRole(grants, 'admin', tenant),
    manageAccounts: isGlobalAdmin(grants),
  };
}
