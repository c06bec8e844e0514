// Runbooks belong to tenants (issue 16, finding 10). Each runbook has an owning tenant, whose
// designers edit and publish it, and a "shared with" list of other tenants whose people may see
// and run it (never edit it). A runbook with no owner is a global one, kept by designers with a
// grant on every tenant; "*" in its shared list shares it with every tenant. Sharing or moving a
// runbook needs an admin of every tenant it touches (a global admin for "*" and for global runbooks).
// Runbooks that existed before migration 7 became global runbooks shared with every tenant.
import { HttpError } from './http.ts';
import { ALL_TENANTS, canSee, hasRole, isGlobalAdmin, tenantsWith, type Principal } from './people.ts';

/** Where a runbook belongs: its owning tenant (undefined: global) and who else may run it. */
export interface Placement {
  tenant?: string;
  sharedWith: string[];
}

const sharedWithAll = (rb: Placement) => rb.sharedWith.includes(ALL_TENANTS);

/** The people who may see a runbook (read it, its versions, export it, run it as a test). */
export function runbookVisible(p: Principal, rb: Placement): boolean {
  if (sharedWithAll(rb)) return p.grants.length > 0;
  return canSee(p, rb.tenant ?? ALL_TENANTS) || rb.sharedWith.some((t) => canSee(p, t));
}

/** Designers of the owning tenant (of every tenant for a global runbook) edit, publish, archive. */
export function runbookEditable(p: Principal, rb: Placement): boolean {
  return hasRole(p, 'designer', rb.tenant ?? ALL_TENANTS);
}

/** Whether the runbook may run on a tenant: its owner's, or one it is shared with. */
export function runbookRunsOn(rb: Placement, tenant: string): boolean {
  return sharedWithAll(rb) || rb.tenant === tenant || rb.sharedWith.includes(tenant);
}

/** Whether a parent may call child as a sub-runbook: the child runs wherever the parent runs. */
export function childUsable(parent: Placement, child: Placement): boolean {
  if (sharedWithAll(child)) return true;
  if (sharedWithAll(parent) || !parent.tenant) return false;
  return [parent.tenant, ...parent.sharedWith].every((t) => runbookRunsOn(child, t));
}

/** 404 for a runbook the caller may not see (its existence is not told), 403 when seen but not editable. */
export function requireVisible(p: Principal, id: string, rb: Placement | undefined): asserts rb is Placement {
  if (!rb || !runbookVisible(p, rb)) throw new HttpError(404, `runbook ${id} does not exist`);
}
export function requireEditable(p: Principal, id: string, rb: Placement | undefined): asserts rb is Placement {
  requireVisible(p, id, rb);
  if (!runbookEditable(p, rb))
    throw new HttpError(403, rb.tenant ? `only designers of tenant ${rb.tenant} may change runbook ${id}` : `runbook ${id} is a global runbook: only designers of every tenant may change it`);
}

/** The owner of a new runbook when the request names none: the caller's one tenant, or global for a designer of every tenant. */
export function defaultPlacement(p: Principal): Placement {
  const ts = tenantsWith(p, 'designer');
  if (ts.includes(ALL_TENANTS)) return { sharedWith: [ALL_TENANTS] };
  if (ts.length === 1) return { tenant: ts[0], sharedWith: [] };
  throw new HttpError(400, `you design runbooks for several tenants (${ts.join(', ')}): name the owning tenant`, { problems: [{ field: 'tenant', message: `the tenant that owns the runbook, one of ${ts.join(', ')}` }] });
}

/**
 * Refuses a change of owner or of the shared list unless the caller is an admin of every tenant
 * it touches: the old and new owner, each tenant added or removed; a global admin for "*" and
 * for a global runbook.
 */
export function checkSharing(p: Principal, before: Placement | undefined, after: Placement): void {
  const touched = new Set<string>();
  if (!before || before.tenant !== after.tenant) {
    if (before) touched.add(before.tenant ?? ALL_TENANTS);
    // A new runbook's owner only needs a designer of it (checked by the caller); moving needs an admin.
    if (before) touched.add(after.tenant ?? ALL_TENANTS);
  }
  const old = new Set(before?.sharedWith ?? []);
  const now = new Set(after.sharedWith);
  for (const t of now) if (!old.has(t)) touched.add(t);
  for (const t of old) if (!now.has(t)) touched.add(t);
  if (!touched.size) return;
  if (touched.has(ALL_TENANTS) || (before && !before.tenant)) {
    if (!isGlobalAdmin(p)) throw new HttpError(403, 'only an admin of every tenant may share a runbook with every tenant, or change a global runbook\'s owner or sharing');
    return;
  }
  const missing = [...touched].filter((t) => !hasRole(p, 'admin', t));
  if (missing.length) throw new HttpError(403, `sharing or moving a runbook needs an admin of every tenant it touches: you are not an admin of ${missing.join(', ')}`, { problems: [{ field: 'sharedWith', message: `not an admin of ${missing.join(', ')}` }] });
}
