// Who may call what: the access matrix of the API, as one table. Each route of the contract
// (server/api-contract.ts) names the kinds of caller that may call it on a tenant where they hold
// their role; whether it is bound to a tenant (then a role on another tenant gives nothing, only
// a grant on every tenant does); and whether it causes a run whose target an operator's scope must
// cover. The handlers enforce access (server/access.ts, server/people.ts); this table is what they
// must do: test/access-matrix.test.ts calls every route as every caller and compares, and
// docs/api.md renders it (scripts/gen-docs.ts).
import type { RouteKey } from './api-contract.ts';
import type { Role } from './people.ts';

export type CallerKind = 'anonymous' | 'no-role' | 'viewer' | 'approver' | 'operator' | 'designer' | 'tenant-admin' | 'admin';

/** The callers of the matrix: the role each holds on its tenant (admin: on every tenant). */
export const CALLERS: Record<CallerKind, { role?: Role; title: string }> = {
  anonymous: { title: 'not signed in' },
  'no-role': { title: 'signed in, no role' },
  viewer: { role: 'viewer', title: 'viewer' },
  approver: { role: 'approver', title: 'approver' },
  operator: { role: 'operator', title: 'operator (scoped)' },
  designer: { role: 'designer', title: 'designer' },
  'tenant-admin': { role: 'admin', title: 'admin of the tenant' },
  admin: { role: 'admin', title: 'admin of every tenant' },
};

export interface AccessRow {
  /** Who may call it on a tenant where they hold their role. */
  allow: readonly CallerKind[];
  /** 'bound': acts on one tenant's runs, schedules or connection; 'any': not tied to a tenant. */
  tenant: 'bound' | 'any';
  /** It causes a run: an operator whose scope does not cover the target is refused. */
  scoped?: boolean;
  note?: string;
}

const everyone: readonly CallerKind[] = ['anonymous', 'no-role', 'viewer', 'approver', 'operator', 'designer', 'tenant-admin', 'admin'];
const signedIn: readonly CallerKind[] = everyone.filter((c) => c !== 'anonymous');
const withRole: readonly CallerKind[] = signedIn.filter((c) => c !== 'no-role');
const designers: readonly CallerKind[] = ['designer', 'tenant-admin', 'admin'];
const operators: readonly CallerKind[] = ['operator', 'designer', 'tenant-admin', 'admin'];
const admins: readonly CallerKind[] = ['tenant-admin', 'admin'];
const globalAdmin: readonly CallerKind[] = ['admin'];
const runOperators: readonly CallerKind[] = ['operator', 'tenant-admin', 'admin'];
const approvers: readonly CallerKind[] = ['approver', 'tenant-admin', 'admin'];

export const ACCESS: Record<RouteKey, AccessRow> = {
  'POST /api/auth/login': { allow: everyone, tenant: 'any' },
  'POST /api/auth/logout': { allow: everyone, tenant: 'any' },
  'GET /api/auth/me': { allow: signedIn, tenant: 'any' },
  'POST /api/auth/password': { allow: signedIn, tenant: 'any' },
  'GET /api/auth/tokens': { allow: signedIn, tenant: 'any' },
  'POST /api/auth/tokens': { allow: signedIn, tenant: 'any' },
  'DELETE /api/auth/tokens/:id': { allow: signedIn, tenant: 'any', note: "only the caller's own tokens" },
  'GET /api/auth/oidc': { allow: everyone, tenant: 'any' },
  'GET /api/auth/oidc/login': { allow: everyone, tenant: 'any' },
  'GET /api/auth/oidc/callback': { allow: everyone, tenant: 'any' },
  'GET /api/users': { allow: admins, tenant: 'any', note: 'an admin of one tenant sees the accounts' },
  'POST /api/users': { allow: globalAdmin, tenant: 'any' },
  'PATCH /api/users/:id': { allow: globalAdmin, tenant: 'any' },
  'POST /api/users/:id/password-reset': { allow: globalAdmin, tenant: 'any' },
  'POST /api/users/:id/grants': { allow: admins, tenant: 'bound' },
  'DELETE /api/users/:id/grants/:grantId': { allow: admins, tenant: 'bound' },
  'GET /api/actions': { allow: signedIn, tenant: 'any' },
  'GET /api/templates': { allow: withRole, tenant: 'any' },
  'POST /api/templates/:id/runbooks': { allow: designers, tenant: 'bound', note: 'the runbook belongs to the tenant named (as POST /api/runbooks); its sub-runbooks are global, shared with every tenant' },
  'GET /api/runbooks': { allow: withRole, tenant: 'any', note: "lists only the runbooks of the caller's tenants and those shared with them" },
  'POST /api/runbooks': { allow: designers, tenant: 'bound', note: 'the runbook belongs to the tenant named (a designer of it); sharing it needs an admin of every tenant shared with' },
  'POST /api/runbooks/validate': { allow: withRole, tenant: 'any' },
  'POST /api/runbooks/import': { allow: designers, tenant: 'bound', note: 'into the tenant named' },
  'GET /api/runbooks/:id': { allow: withRole, tenant: 'bound', note: "a runbook of the tenant (or shared with it); another tenant's is 404" },
  'PUT /api/runbooks/:id/draft': { allow: designers, tenant: 'bound', note: 'designers of the owning tenant only, even when shared' },
  'POST /api/runbooks/:id/validate': { allow: withRole, tenant: 'bound' },
  'POST /api/runbooks/:id/publish': { allow: designers, tenant: 'bound', note: 'designers of the owning tenant only, even when shared' },
  'GET /api/runbooks/:id/versions': { allow: withRole, tenant: 'bound' },
  'GET /api/runbooks/:id/versions/:version': { allow: withRole, tenant: 'bound' },
  'GET /api/runbooks/:id/diff': { allow: withRole, tenant: 'bound' },
  'PATCH /api/runbooks/:id': { allow: designers, tenant: 'bound', note: 'changing the owner or the shared list needs an admin of every tenant it touches' },
  'POST /api/runbooks/:id/clone': { allow: designers, tenant: 'bound', note: 'a runbook the caller sees, copied into a tenant the caller designs for' },
  'GET /api/runbooks/:id/export': { allow: withRole, tenant: 'bound' },
  'GET /api/custom-actions': { allow: withRole, tenant: 'any', note: "only the runbooks of the caller's tenants and those shared with them" },
  'POST /api/runs': { allow: operators, tenant: 'bound', scoped: true },
  'POST /api/runs/bulk': { allow: operators, tenant: 'bound', scoped: true },
  'POST /api/runs/plan': { allow: operators, tenant: 'bound', scoped: true },
  'POST /api/runs/:id/undo': { allow: designers, tenant: 'bound', note: 'a draft runbook, run like any other' },
  'GET /api/runs': { allow: signedIn, tenant: 'any', note: 'lists only the runs of tenants the caller may see' },
  'GET /api/runs/events': { allow: signedIn, tenant: 'any', note: 'streams only the runs of tenants the caller may see' },
  'GET /api/runs/:id': { allow: withRole, tenant: 'bound' },
  'GET /api/runs/:id/evidence': { allow: withRole, tenant: 'bound' },
  'GET /api/batches/:id': { allow: withRole, tenant: 'bound' },
  'GET /api/batches/:id/rows': { allow: withRole, tenant: 'bound' },
  'GET /api/batches/:id/events': { allow: withRole, tenant: 'bound' },
  'POST /api/batches/:id/retry': { allow: runOperators, tenant: 'bound', note: 'also whoever started the batch' },
  'GET /api/dashboard': { allow: signedIn, tenant: 'any', note: 'counts only the runs of tenants the caller may see' },
  'GET /api/settings/run-retention': { allow: globalAdmin, tenant: 'any' },
  'PUT /api/settings/run-retention': { allow: globalAdmin, tenant: 'any' },
  'GET /api/runs/:id/events': { allow: withRole, tenant: 'bound' },
  'POST /api/runs/:id/cancel': { allow: runOperators, tenant: 'bound', note: 'also whoever started the run' },
  'POST /api/runs/:id/resume': { allow: runOperators, tenant: 'bound', note: 'also whoever started the run' },
  'POST /api/runs/:id/retry': { allow: runOperators, tenant: 'bound', note: 'also whoever started the run' },
  'POST /api/runs/:id/rerun': { allow: operators, tenant: 'bound' },
  'GET /api/approvals': { allow: signedIn, tenant: 'any', note: 'lists only the steps the caller may decide' },
  'GET /api/runs/:id/approvals/:nodeId': { allow: everyone, tenant: 'any', note: 'never decides: answers 405 to everyone' },
  'POST /api/runs/:id/approvals/:nodeId': { allow: approvers, tenant: 'bound', note: "the step's approvers (here: the approver role), never who started the run" },
  'GET /api/schedules': { allow: signedIn, tenant: 'any', note: 'lists only the schedules of tenants the caller may see' },
  'POST /api/schedules': { allow: operators, tenant: 'bound', scoped: true },
  'GET /api/schedules/:id': { allow: withRole, tenant: 'bound' },
  'POST /api/schedules/:id/pause': { allow: operators, tenant: 'bound', note: 'also whoever created the schedule' },
  'POST /api/schedules/:id/resume': { allow: operators, tenant: 'bound', note: 'also whoever created the schedule' },
  'POST /api/schedules/:id/trigger': { allow: operators, tenant: 'bound', note: "also whoever created the schedule; the run is recorded as the caller's" },
  'DELETE /api/schedules/:id': { allow: operators, tenant: 'bound', note: 'also whoever created the schedule' },
  'GET /api/triggers': { allow: signedIn, tenant: 'any', note: 'lists only the triggers of tenants the caller may see' },
  'POST /api/triggers': { allow: designers, tenant: 'bound' },
  'GET /api/triggers/:id': { allow: withRole, tenant: 'bound' },
  'GET /api/triggers/:id/firings': { allow: withRole, tenant: 'bound' },
  'POST /api/triggers/:id/pause': { allow: designers, tenant: 'bound', note: 'also whoever created the trigger' },
  'POST /api/triggers/:id/resume': { allow: designers, tenant: 'bound', note: 'also whoever created the trigger' },
  'POST /api/triggers/:id/rotate-secret': { allow: designers, tenant: 'bound', note: 'also whoever created the trigger' },
  'DELETE /api/triggers/:id': { allow: designers, tenant: 'bound', note: 'also whoever created the trigger' },
  'POST /api/hooks/:id': { allow: everyone, tenant: 'any', note: "no sign-in: the trigger's own secret signs the request (HMAC over timestamp and body); unsigned here, so every caller hears 401 for the signature" },
  'GET /api/tenants': { allow: signedIn, tenant: 'any', note: 'lists only the tenants the caller holds a role on' },
  'POST /api/tenants': { allow: globalAdmin, tenant: 'any' },
  'GET /api/tenants/:name': { allow: withRole, tenant: 'bound' },
  'PUT /api/tenants/:name': { allow: admins, tenant: 'bound' },
  'DELETE /api/tenants/:name': { allow: globalAdmin, tenant: 'bound' },
  'POST /api/tenants/:name/test': { allow: admins, tenant: 'bound' },
  'GET /api/tenants/:name/users': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/groups': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/licences': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/mailboxes': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/shared-mailboxes': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/devices': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/teams': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/teams/:team/channels': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/sites': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/onedrives': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/applications': { allow: withRole, tenant: 'bound' },
  'GET /api/tenants/:name/domains': { allow: withRole, tenant: 'bound' },
  'GET /api/audit': { allow: admins, tenant: 'any', note: 'an admin of some tenants sees the entries of those tenants' },
  'GET /api/audit/verify': { allow: globalAdmin, tenant: 'any' },
  'GET /api/audit/chain': { allow: globalAdmin, tenant: 'any' },
};
