// Which of Microsoft's rate-limited write budgets each action draws from, and how many writes of it
// one attempt makes at most. A step of a listed action runs on its tenant's queue for that budget
// (workflows/nodes/action.ts, patch `tenant-task-queues`), which Temporal dispatches at
// budgetDispatchRate() across every worker. A table rather than a field of each contract: the
// workflow routes by it, and the workflow bundle should not load every contract (and the table is
// reviewed in one place). test/tenant-queues.test.ts checks every entry names a real action, that
// every write action of the budgeted areas is listed, and the counts of the bulk actions against the
// sandbox's request log (the others are read from the implementations).
//
// Dispatches are not requests: the queue's rate counts activities, one per attempt. An action
// declared with more than one write per attempt (or one per listed item) can make several writes
// per dispatch; the per-process gate (m365/throttle.ts) paces those within a worker, and learns
// from 429s across workers. Bulk work should use single-write actions (a forEach of user.create or
// group.addMember), where one dispatch is one write and the queue's rate is the write rate.
import type { WriteBudget } from './contract.ts';

type Params = Record<string, unknown>;

export interface BudgetDeclaration {
  budget: WriteBudget;
  /** Writes of that budget one attempt makes at most, for the step's parameters. */
  writes: number | ((params: Params) => number);
  /** What the count leaves out (writes that depend on the tenant, not on the parameters). */
  note?: string;
}

/** Entries of a list parameter (0 when absent or not yet a list). */
const n = (p: Params, key: string): number => (Array.isArray(p[key]) ? (p[key] as unknown[]).length : 0);

const dir = (writes: BudgetDeclaration['writes'], note?: string): BudgetDeclaration => ({ budget: 'directory-write', writes, ...(note ? { note } : {}) });
const intune = (writes: BudgetDeclaration['writes'], note?: string): BudgetDeclaration => ({ budget: 'intune-write', writes, ...(note ? { note } : {}) });

export const ACTION_BUDGETS: Readonly<Record<string, BudgetDeclaration>> = {
  // Users: POST /users, then (when asked) the password on a retry, one assignLicense, one per group, the manager.
  'user.create': dir((p) => 1 + (p['sendPasswordTo'] ? 1 : 0) + (n(p, 'licences') ? 1 : 0) + n(p, 'groups') + (p['manager'] ? 1 : 0)),
  'user.clone': dir(5, 'plus one per group of the source user'),
  'user.update': dir(1),
  'user.updateBulk': dir((p) => n(p, 'users')),
  'user.setAttributes': dir(1),
  'user.setContactInfo': dir(1),
  'user.rename': dir(1),
  'user.changeUpnDomain': dir(1),
  'user.clearImmutableId': dir(1),
  'user.disableSignIn': dir(1),
  'user.enableSignIn': dir(1),
  'user.resetPassword': dir(1),
  'user.revokeSessions': dir(1),
  'user.setPasswordNeverExpires': dir(1),
  'user.setManager': dir(1),
  'user.removeManager': dir(1),
  'user.removeFromAllGroups': dir(0, 'one per group the user is a member of'),
  'user.delete': dir(1),
  'user.restore': dir(1),
  'user.permanentDelete': dir(1),
  'user.inviteGuest': dir(1),
  'user.removeGuest': dir(1),
  // Licences: one assignLicense call carries every SKU added and removed.
  'licence.assign': dir(1),
  'licence.unassign': dir(1),
  'licence.removeAll': dir(1),
  'licence.setServicePlans': dir(1),
  // Groups (Microsoft Graph; distribution groups are Exchange's and not listed).
  'group.addMember': dir(1),
  'group.addMembers': dir((p) => n(p, 'users') * n(p, 'groups')),
  'group.removeMember': dir(1),
  'group.removeMembers': dir((p) => n(p, 'users') * n(p, 'groups')),
  'group.addOwner': dir(1),
  'group.removeOwner': dir(1),
  'group.manageM365Members': dir((p) => n(p, 'addMembers') + n(p, 'removeMembers') + n(p, 'addOwners') + n(p, 'removeOwners') + n(p, 'addSubscribers') + n(p, 'removeSubscribers')),
  'group.createM365': dir(1, 'plus one per owner and member given'),
  'group.createSecurity': dir(1, 'plus one per owner and member given'),
  'group.update': dir(1),
  'group.delete': dir(1),
  'group.restore': dir(1),
  'group.transferOwnership': dir(0, 'two per group the user owns'),
  // Authentication methods and MFA.
  'auth.createTemporaryAccessPass': dir(1),
  'auth.removeMethods': dir(0, 'one per method removed'),
  'auth.setMfaState': dir(1),
  'auth.setPreferredMethod': dir(1),
  'user.setAuthenticationContact': dir(1),
  // Directory roles, named locations, Conditional Access, domains.
  'directory.assignRole': dir(1),
  'directory.removeRole': dir(1),
  'directory.createNamedLocation': dir(1),
  'directory.updateNamedLocation': dir(1),
  'directory.deleteNamedLocation': dir(1),
  'policy.createConditionalAccess': dir(1),
  'policy.updateConditionalAccess': dir(1),
  'policy.setConditionalAccessState': dir(1),
  'policy.deleteConditionalAccess': dir(1),
  'domain.add': dir(1),
  'domain.update': dir(1),
  'domain.verify': dir(1),
  'domain.remove': dir(1),
  // Applications and enterprise apps.
  'app.create': dir(2),
  'app.update': dir(1),
  'app.delete': dir(1),
  'app.restore': dir(1),
  'app.addOwner': dir(1),
  'app.removeOwner': dir(1),
  'app.addSecret': dir(1),
  'app.removeSecret': dir(1),
  'app.addCertificate': dir(1),
  'app.removeCertificate': dir(1),
  'app.removeExpiredCredentials': dir(0, 'one per expired credential'),
  'app.assignUser': dir(1),
  'app.unassignUser': dir(1),
  'app.assignGroup': dir(1),
  'app.unassignGroup': dir(1),
  // Intune managed devices and Windows Autopilot (Exchange's mobile devices are not listed).
  'device.bypassActivationLock': intune(1),
  'device.delete': intune(1),
  'device.disableLostMode': intune(1),
  'device.freshStart': intune(1),
  'device.locate': intune(1),
  'device.lock': intune(1),
  'device.rename': intune(1),
  'device.resetPasscode': intune(1),
  'device.restart': intune(1),
  'device.retire': intune(1),
  'device.scan': intune(1),
  'device.setCategory': intune(1),
  'device.setOwnership': intune(1),
  'device.shutDown': intune(1),
  'device.sync': intune(1),
  'device.updateDefenderSignatures': intune(1),
  'device.wipe': intune(1),
  'autopilot.import': intune(1),
  'autopilot.assignUser': intune(1),
  'autopilot.unassignUser': intune(1),
  'autopilot.setGroupTag': intune(1),
  'autopilot.delete': intune(1),
};

/** The budget an action draws from, if it is one Tenantflow paces across workers. */
export function budgetOf(actionId: string): BudgetDeclaration | undefined {
  return Object.hasOwn(ACTION_BUDGETS, actionId) ? ACTION_BUDGETS[actionId] : undefined;
}

/** Writes one attempt of the action makes at most with these parameters (0 for an action with no budget). */
export function writesOf(actionId: string, params: Params): number {
  const d = budgetOf(actionId);
  if (!d) return 0;
  return typeof d.writes === 'number' ? d.writes : d.writes(params);
}
