// Who may see and do what with runs: the tenants whose runs a person sees, who may operate a run
// (cancel, retry, resume), who may start a runbook, an operator's scope checked against the
// tenant's users (looked up through Graph), and a person as approval steps name approvers.
// Used by the run, approval, schedule and tenant routes.
import type { Client as GraphClient } from '@microsoft/microsoft-graph-client';
import { graphClientCache } from '../m365/graph.ts';
import { statusOf } from '../m365/errors.ts';
import { rolesOn, SANDBOX, seesTenant, type Approver } from '../runbook/approvals.ts';
import type { RowProblem } from '../runbook/csv.ts';
import type { RunbookDefinition } from '../runbook/definition.ts';
import { pinSubRunbooks } from '../runbook/subrunbooks.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { HttpError } from './http.ts';
import { hasRole, hasRoleAnywhere, operatorScope, tenantsWith, ALL_TENANTS, type Principal } from './people.ts';
import { runbookRunsOn, runbookVisible, type Placement } from './runbook-access.ts';
import type { Services } from './services.ts';

export { SANDBOX } from '../runbook/approvals.ts';

/** A runbook about to run: a published version, or an inline definition. */
export interface Startable {
  definition: RunbookDefinition;
  runbookId: string;
  version: number;
  customAction: boolean;
  /** Where the runbook belongs (absent for an inline definition): which tenants it may run on. */
  placement?: Placement;
}

export class RunAccess {
  readonly s: Services;
  private readonly graphs = graphClientCache();
  constructor(s: Services) {
    this.s = s;
  }

  /** A published runbook (its version, or the latest) or an inline definition, checked. */
  async resolve(p: Principal, runbookId: string | undefined, version: number | undefined, inline: unknown): Promise<Startable> {
    const s = this.s;
    if (runbookId) {
      // The runbook and its version in one read (one round trip to the database).
      const got = await s.runbooks.startable(runbookId, version);
      const rb = got?.runbook;
      const v = got?.version;
      // Another tenant's runbook is not told to exist.
      if (!rb || !runbookVisible(p, rb)) throw new HttpError(404, `runbook ${runbookId} does not exist`);
      if (rb.archived) throw new HttpError(409, `runbook ${runbookId} is archived`);
      if (!v) throw new HttpError(version ? 404 : 409, version ? `runbook ${runbookId} has no version ${version}` : `runbook ${runbookId} has no published version yet`);
      return { definition: v.definition, runbookId, version: v.version, customAction: rb.customAction, placement: { tenant: rb.tenant, sharedWith: rb.sharedWith } };
    }
    const parsed = validateRunbook(inline);
    // Its sub-runbooks are checked and pinned as a publish would (a test run of a draft).
    // Only runbooks the caller may see can be called from a draft.
    const children = parsed.definition ? await s.runbooks.childResolver(parsed.definition, (child) => runbookVisible(p, child)) : undefined;
    const checked = validateRunbook(inline, { resolve: children });
    if (!checked.ok) throw new HttpError(400, 'the runbook definition has problems', { problems: checked.problems });
    return { definition: children ? pinSubRunbooks(checked.definition, children) : checked.definition, runbookId: 'inline', version: 0, customAction: false };
  }

  /** The tenant a run goes to: the sandbox for a test run, else the one named or the default; 400 when unknown. */
  async tenantOf(test: boolean, tenant: string | undefined): Promise<string> {
    const t = test ? SANDBOX : (tenant ?? this.s.deps.defaultTenant);
    if (!(await this.s.tenants.exists(t))) throw new HttpError(400, `tenant ${t} does not exist`, { problems: [{ field: 'tenant', message: `unknown tenant ${t}` }] });
    return t;
  }

  canSeeTenant(p: Principal, tenant: string | undefined): boolean {
    return seesTenant(p.grants, tenant);
  }

  /** Operators of the tenant (designers too for the sandbox), or the person who started it. */
  canOperate(p: Principal, tenant: string | undefined, startedBy?: string): boolean {
    if (!tenant) return false;
    if (startedBy && startedBy === p.user.email) return true;
    if (hasRole(p, 'operator', tenant)) return true;
    return tenant === SANDBOX && (hasRoleAnywhere(p, 'operator') || hasRoleAnywhere(p, 'designer'));
  }

  async graph(tenant: string): Promise<GraphClient | undefined> {
    const conn = await this.s.tenants.connection(tenant);
    return conn ? this.graphs(conn) : undefined;
  }

  /** A user in the tenant by UPN or id, with the attributes scopes use; null when missing. */
  async lookupUser(tenant: string, ref: string): Promise<{ id: string; department?: string; country?: string; usageLocation?: string } | null> {
    const g = await this.graph(tenant);
    if (!g) throw new HttpError(400, `tenant ${tenant} has no connection to look users up with`);
    try {
      return (await g.api(`/users/${encodeURIComponent(ref)}`).select('id,userPrincipalName,department,country,usageLocation').get()) as never;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new HttpError(502, `could not look up ${ref} in tenant ${tenant}: ${(err as Error).message}`);
    }
  }

  /** Problems when the run's target lies outside the caller's operator scope on the tenant. */
  async scopeProblems(p: Principal, tenant: string, def: RunbookDefinition, inputs: Record<string, unknown>, cache = new Map<string, Promise<unknown>>()): Promise<RowProblem[]> {
    const scope = operatorScope(p, tenant);
    if (!scope) return [];
    const problems: RowProblem[] = [];
    const attributes: Record<'department' | 'country', string[]> = { department: [], country: [] };
    const direct: Record<'department' | 'country', string[]> = { department: ['department'], country: ['country', 'usageLocation'] };
    for (const key of ['department', 'country'] as const)
      for (const name of direct[key]) if (typeof inputs[name] === 'string' && inputs[name]) attributes[key].push(inputs[name] as string);
    const once = <T>(k: string, load: () => Promise<T>): Promise<T> => {
      if (!cache.has(k)) cache.set(k, load());
      return cache.get(k) as Promise<T>;
    };
    const users: { field: string; ref: string; id: string }[] = [];
    for (const input of def.inputs.filter((i) => i.type === 'user')) {
      const ref = inputs[input.name];
      if (typeof ref !== 'string' || !ref) continue;
      const u = await once(`${tenant}|${ref.toLowerCase()}`, () => this.lookupUser(tenant, ref));
      if (u) users.push({ field: input.name, ref, id: u.id });
      if (u?.department) attributes.department.push(u.department);
      if (u?.country) attributes.country.push(u.country);
      if (u?.usageLocation) attributes.country.push(u.usageLocation);
    }
    for (const key of ['department', 'country'] as const) {
      const allowed = scope[key];
      if (!allowed) continue;
      const lower = allowed.map((a) => a.toLowerCase());
      if (attributes[key].length === 0)
        problems.push({ field: direct[key][0]!, kind: 'scope', message: `your operator scope is limited to ${key} ${allowed.join(', ')}, and this run names no ${key}` });
      for (const v of attributes[key])
        if (!lower.includes(v.toLowerCase())) problems.push({ field: direct[key][0]!, kind: 'scope', message: `${key} ${v} is outside your operator scope (${allowed.join(', ')})` });
    }
    // Membership kinds: every user the run names must be inside each kind given.
    const membership = ([
      ['group', 'members of the groups', scope.group, (id: string) => once(`${tenant}|groups|${id}`, () => this.groupsOf(tenant, id)).then((gs) => gs.some((g) => scope.group!.some((x) => x.toLowerCase() === g.id.toLowerCase() || x.toLowerCase() === g.displayName.toLowerCase())))],
      ['administrativeUnit', 'members of the administrative units', scope.administrativeUnit, (id: string) => once(`${tenant}|units|${id}`, () => this.unitsOf(tenant, id)).then((us) => us.some((u) => scope.administrativeUnit!.some((x) => x.toLowerCase() === u.toLowerCase())))],
      ['filter', 'users matching', scope.filter, async (id: string) => { for (const f of scope.filter!) if (await once(`${tenant}|filter|${id}|${f}`, () => this.matchesFilter(tenant, id, f))) return true; return false; }],
    ] as const).filter(([, , allowed]) => allowed !== undefined);
    for (const [kind, what, allowed, inside] of membership) {
      const list = (allowed as readonly string[]).join(kind === 'filter' ? ' | ' : ', ');
      if (users.length === 0) problems.push({ field: def.inputs.find((i) => i.type === 'user')?.name ?? 'user', kind: 'scope', message: `your operator scope is limited to ${what} ${list}, and this run names no existing user` });
      for (const u of users) if (!(await inside(u.id))) problems.push({ field: u.field, kind: 'scope', message: `${u.ref} is outside your operator scope (${what} ${list})` });
    }
    return problems;
  }

  /** The groups a user belongs to, directly or through nested groups (GET /users/{id}/transitiveMemberOf). */
  private async groupsOf(tenant: string, userId: string): Promise<{ id: string; displayName: string }[]> {
    const g = await this.graph(tenant);
    const out: { id: string; displayName: string }[] = [];
    try {
      let page = await g!.api(`/users/${encodeURIComponent(userId)}/transitiveMemberOf`).select('id,displayName').top(999).get();
      for (;;) {
        out.push(...(page.value as { id: string; displayName: string }[]));
        if (!page['@odata.nextLink']) return out;
        page = await g!.api(page['@odata.nextLink']).get();
      }
    } catch (err) {
      throw new HttpError(502, `could not read the groups of ${userId} in tenant ${tenant}: ${(err as Error).message}`);
    }
  }

  /** The administrative units a user is a member of (GET /users/{id}/memberOf/microsoft.graph.administrativeUnit). */
  private async unitsOf(tenant: string, userId: string): Promise<string[]> {
    const g = await this.graph(tenant);
    try {
      const page = await g!.api(`/users/${encodeURIComponent(userId)}/memberOf/microsoft.graph.administrativeUnit`).select('id').top(999).get();
      return (page.value as { id: string }[]).map((u) => u.id);
    } catch (err) {
      throw new HttpError(502, `could not read the administrative units of ${userId} in tenant ${tenant}: ${(err as Error).message}`);
    }
  }

  /** Whether the user matches an OData filter (GET /users?$filter=id eq '{id}' and ({filter})). */
  private async matchesFilter(tenant: string, userId: string, filter: string): Promise<boolean> {
    const g = await this.graph(tenant);
    try {
      const page = await g!.api('/users').filter(`id eq '${userId.replace(/'/g, "''")}' and (${filter})`).select('id').get();
      return (page.value as unknown[]).length > 0;
    } catch (err) {
      throw new HttpError(502, `could not check the scope filter "${filter}" in tenant ${tenant}: ${(err as Error).message}`);
    }
  }

  /** Tenants whose runs the principal sees (everyone with a role sees the sandbox); undefined = every tenant. */
  visibleTenants(p: Principal): string[] | undefined {
    const ts = tenantsWith(p, 'any');
    if (ts.includes(ALL_TENANTS)) return undefined;
    return p.grants.length ? [...new Set([...ts, SANDBOX])] : [];
  }

  /** A run the principal may see, with its search attributes read (and its state unless `state: false`); 404 for any other. */
  async visibleRun(p: Principal, id: string, read = { state: true }) {
    const got = await this.s.runs.get(id, read);
    const sa = got?.description.searchAttributes as Record<string, unknown[] | undefined> | undefined;
    const tenant = sa?.TenantflowTenant?.[0] as string | undefined;
    if (!got || !this.canSeeTenant(p, tenant)) throw new HttpError(404, `run ${id} does not exist`);
    return { ...got, tenant: tenant!, startedBy: sa?.TenantflowRequester?.[0] as string | undefined, runbook: sa?.TenantflowRunbook?.[0] as string | undefined, version: sa?.TenantflowVersion?.[0] as number | undefined };
  }

  /** Who may start what: designers any runbook (and inline definitions), operators the custom actions. */
  mayStart(p: Principal, r: Startable, tenant: string, test: boolean): void {
    // A runbook runs on its owner's tenant and those it is shared with; a test run needs only sight of it.
    if (r.placement && !(test ? runbookVisible(p, r.placement) : runbookRunsOn(r.placement, tenant))) {
      if (!runbookVisible(p, r.placement)) throw new HttpError(404, `runbook ${r.runbookId} does not exist`);
      throw new HttpError(403, `runbook ${r.runbookId} belongs to ${r.placement.tenant ? `tenant ${r.placement.tenant}` : 'no tenant'} and is not shared with tenant ${tenant}`);
    }
    const designer = test ? hasRoleAnywhere(p, 'designer') : hasRole(p, 'designer', tenant);
    if (designer) return;
    if (r.runbookId === 'inline') throw new HttpError(403, 'only designers may run an unpublished definition');
    const operator = test ? hasRoleAnywhere(p, 'operator') : hasRole(p, 'operator', tenant);
    if (!operator) throw new HttpError(403, `you are not an operator of tenant ${tenant}`);
    if (!r.customAction) throw new HttpError(403, `runbook ${r.runbookId} is not offered to operators (ask a designer to make it a custom action)`);
  }

  /** The principal as approval steps name people, with the roles it holds on the run's tenant. */
  approverOf(p: Principal, tenant: string): Approver {
    return { email: p.user.email, groups: p.user.groups, roles: rolesOn(p.grants, tenant) };
  }
}
