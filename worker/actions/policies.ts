// Handlers of the Conditional Access policy actions (catalog/actions/policies.ts). Names are resolved
// to the ids Entra stores before anything is written, so a typo fails the step with nothing changed.
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/policies.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext, PlanDraft } from '../implementation.ts';
import type { Change } from '../../catalog/contract.ts';
import { change } from './changes.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { createdByThisStep, findGroup, getUser, GUID, odataString, orNotFound, unless404 } from './shared.ts';

type Json = Record<string, unknown>;

interface Policy {
  id: string;
  displayName: string;
  state: string;
  createdDateTime?: string;
  modifiedDateTime?: string | null;
  conditions: {
    users: Record<string, string[] | null>;
    applications: Record<string, string[]>;
    clientAppTypes: string[];
    platforms: { includePlatforms: string[]; excludePlatforms: string[] } | null;
    locations: { includeLocations: string[]; excludeLocations: string[] } | null;
    signInRiskLevels: string[];
    userRiskLevels: string[];
  };
  grantControls: { operator: string; builtInControls: string[] } | null;
  sessionControls: { signInFrequency?: { value: number | null; type: string | null } | null } | null;
}

const BASE = '/identity/conditionalAccess/policies';

async function findPolicy(graph: Client, ref: string): Promise<Policy | undefined> {
  if (GUID.test(ref)) return orNotFound(graph.api(`${BASE}/${ref}`).get() as Promise<Policy>);
  const res = (await graph.api(BASE).filter(`displayName eq ${odataString(ref)}`).get()) as { value: Policy[] };
  if (res.value.length > 1) throw new ActionError(`${res.value.length} Conditional Access policies are called "${ref}"`, { code: 'AmbiguousName', hint: `use the policy id: ${res.value.map((p) => p.id).join(', ')}` });
  return res.value[0];
}

async function requirePolicy(graph: Client, ref: string): Promise<Policy> {
  const p = await findPolicy(graph, ref);
  if (!p) throw new ActionError(`Conditional Access policy "${ref}" does not exist`, { code: 'ResourceNotFound', hint: 'use the policy\'s exact name or id', status: 404 });
  return p;
}

// ---- resolving names to the ids a policy holds ----

const keywords = (list: readonly string[]) => (ref: string) => list.find((k) => k.toLowerCase() === ref.toLowerCase());

async function resolveAll(refs: string[] | undefined, keyword: (r: string) => string | undefined, resolve: (r: string) => Promise<string>): Promise<string[] | undefined> {
  if (!refs) return undefined;
  const out: string[] = [];
  for (const r of refs) out.push(keyword(r) ?? (await resolve(r)));
  return [...new Set(out)];
}

async function roleTemplateId(graph: Client, ref: string): Promise<string> {
  if (GUID.test(ref)) return ref.toLowerCase();
  const res = (await graph.api('/roleManagement/directory/roleDefinitions').filter(`displayName eq ${odataString(ref)}`).select('id,templateId,displayName').get()) as { value: { id: string; templateId?: string }[] };
  const role = res.value[0];
  if (!role) throw new ActionError(`directory role "${ref}" does not exist`, { code: 'ResourceNotFound', hint: 'use the role\'s name as the Entra admin center shows it (e.g. Global Administrator) or its template id', status: 404 });
  return role.templateId ?? role.id;
}

async function applicationId(graph: Client, ref: string): Promise<string> {
  if (GUID.test(ref)) return ref.toLowerCase();
  const res = (await graph.api('/servicePrincipals').filter(`displayName eq ${odataString(ref)}`).select('appId,displayName').get()) as { value: { appId: string }[] };
  if (!res.value[0]) throw new ActionError(`cloud app "${ref}" does not exist`, { code: 'ResourceNotFound', hint: 'use the enterprise app\'s name, its application id, or All / Office365 / MicrosoftAdminPortals', status: 404 });
  return res.value[0].appId;
}

async function locationId(graph: Client, ref: string): Promise<string> {
  if (GUID.test(ref)) return ref.toLowerCase();
  const res = (await graph.api('/identity/conditionalAccess/namedLocations').filter(`displayName eq ${odataString(ref)}`).get()) as { value: { id: string }[] };
  if (!res.value[0]) throw new ActionError(`named location "${ref}" does not exist`, { code: 'ResourceNotFound', hint: 'use a named location\'s exact name (see "Create trusted network"), or All / AllTrusted', status: 404 });
  return res.value[0].id;
}

type PolicyInput = Partial<Pick<c.PolicyParts, keyof c.PolicyParts>>;

/** The ids for every part the input names (undefined: not given). */
async function resolveParts(graph: Client, i: PolicyInput) {
  const userKw = keywords(['All', 'None', 'GuestsOrExternalUsers']);
  const appKw = keywords(['All', 'None', 'Office365', 'MicrosoftAdminPortals']);
  const locKw = keywords(['All', 'AllTrusted']);
  const user = async (r: string) => (await getUser(graph, r)).id;
  const group = async (r: string) => (await findGroup(graph, r)).id;
  return {
    includeUsers: await resolveAll(i.includeUsers, userKw, user),
    excludeUsers: await resolveAll(i.excludeUsers, userKw, user),
    includeGroups: await resolveAll(i.includeGroups, () => undefined, group),
    excludeGroups: await resolveAll(i.excludeGroups, () => undefined, group),
    includeRoles: await resolveAll(i.includeRoles, () => undefined, (r) => roleTemplateId(graph, r)),
    excludeRoles: await resolveAll(i.excludeRoles, () => undefined, (r) => roleTemplateId(graph, r)),
    includeApplications: await resolveAll(i.includeApplications, appKw, (r) => applicationId(graph, r)),
    excludeApplications: await resolveAll(i.excludeApplications, appKw, (r) => applicationId(graph, r)),
    includeLocations: await resolveAll(i.includeLocations, locKw, (r) => locationId(graph, r)),
    excludeLocations: await resolveAll(i.excludeLocations, locKw, (r) => locationId(graph, r)),
  };
}

/** Graph keeps a sign-in frequency in hours (1-23) or days (1-365). */
function signInFrequency(hours: number): { value: number; type: 'hours' | 'days'; isEnabled: true } {
  if (hours <= 23) return { value: hours, type: 'hours', isEnabled: true };
  if (hours % 24 === 0) return { value: hours / 24, type: 'days', isEnabled: true };
  throw new ActionError(`a sign-in frequency of ${hours} hours cannot be set`, { code: 'InvalidInput', hint: 'use 1 to 23 hours, or whole days (a multiple of 24 hours)' });
}

const same = (a: unknown, b: unknown) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
const sorted = (v: unknown): unknown => (Array.isArray(v) ? [...v].map(sorted).sort() : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, sorted(x)])) : v);

/** The policy as it would be with the input applied: the parts of the body that differ from `current`. */
async function desiredChanges(ctx: ActionContext, i: PolicyInput & { displayName?: string; state?: string; grantOperator?: string }, current?: Policy): Promise<{ patch: Json; changed: string[] }> {
  const ids = await resolveParts(ctx.graph, i);
  const cur = current?.conditions;
  const conditions: Json = {};
  const changed: string[] = [];
  const pick = <T>(v: T | undefined, fallback: T): T => (v === undefined ? fallback : v);

  const users = {
    includeUsers: pick(ids.includeUsers, cur?.users['includeUsers'] ?? []),
    excludeUsers: pick(ids.excludeUsers, cur?.users['excludeUsers'] ?? []),
    includeGroups: pick(ids.includeGroups, cur?.users['includeGroups'] ?? []),
    excludeGroups: pick(ids.excludeGroups, cur?.users['excludeGroups'] ?? []),
    includeRoles: pick(ids.includeRoles, cur?.users['includeRoles'] ?? []),
    excludeRoles: pick(ids.excludeRoles, cur?.users['excludeRoles'] ?? []),
  };
  if (!cur || !same(users, Object.fromEntries(Object.keys(users).map((k) => [k, cur.users[k] ?? []])))) {
    conditions['users'] = users;
    changed.push('users');
  }
  const apps = { includeApplications: pick(ids.includeApplications, cur?.applications['includeApplications'] ?? []), excludeApplications: pick(ids.excludeApplications, cur?.applications['excludeApplications'] ?? []) };
  if (!cur || !same(apps, { includeApplications: cur.applications['includeApplications'] ?? [], excludeApplications: cur.applications['excludeApplications'] ?? [] })) {
    conditions['applications'] = apps;
    changed.push('applications');
  }
  for (const k of ['clientAppTypes', 'signInRiskLevels', 'userRiskLevels'] as const) {
    const v = i[k];
    if (v !== undefined ? !same(v, cur?.[k] ?? []) : !cur) {
      conditions[k] = v ?? [];
      if (v !== undefined) changed.push(k);
    }
  }
  if (i.includePlatforms || i.excludePlatforms) {
    const p = { includePlatforms: i.includePlatforms ?? cur?.platforms?.includePlatforms ?? ['all'], excludePlatforms: i.excludePlatforms ?? cur?.platforms?.excludePlatforms ?? [] };
    if (!same(p, cur?.platforms ?? null)) {
      conditions['platforms'] = p;
      changed.push('platforms');
    }
  }
  if (ids.includeLocations || ids.excludeLocations) {
    const l = { includeLocations: ids.includeLocations ?? cur?.locations?.includeLocations ?? ['All'], excludeLocations: ids.excludeLocations ?? cur?.locations?.excludeLocations ?? [] };
    if (!same(l, cur?.locations ?? null)) {
      conditions['locations'] = l;
      changed.push('locations');
    }
  }
  const patch: Json = Object.keys(conditions).length ? { conditions } : {};
  if (i.displayName !== undefined && i.displayName !== current?.displayName) {
    patch['displayName'] = i.displayName;
    changed.push('displayName');
  }
  if (i.state !== undefined && i.state !== current?.state) {
    patch['state'] = i.state;
    if (current) changed.push('state');
  }
  if (i.grant || i.grantOperator) {
    const g = { operator: i.grantOperator ?? current?.grantControls?.operator ?? 'OR', builtInControls: i.grant ?? current?.grantControls?.builtInControls ?? [] };
    if (!same(g, current?.grantControls ? { operator: current.grantControls.operator, builtInControls: current.grantControls.builtInControls } : null)) {
      patch['grantControls'] = g;
      if (current) changed.push('grant');
    }
  }
  if (i.signInFrequencyHours !== undefined) {
    const f = signInFrequency(i.signInFrequencyHours);
    const curF = current?.sessionControls?.signInFrequency;
    if (!curF || curF.value !== f.value || curF.type !== f.type) {
      patch['sessionControls'] = { signInFrequency: f };
      if (current) changed.push('signInFrequency');
    }
  }
  return { patch, changed };
}

/** Enabling a policy that blocks everyone with no one excluded locks the administrators out too. */
function refuseLockout(p: { state?: unknown; conditions?: unknown; grantControls?: unknown }): void {
  const users = (p.conditions as Policy['conditions'] | undefined)?.users;
  const blocks = (p.grantControls as Policy['grantControls'])?.builtInControls?.includes('block');
  const excludesSomeone = ['excludeUsers', 'excludeGroups', 'excludeRoles'].some((k) => (users?.[k] ?? []).length > 0);
  if (p.state === 'enabled' && blocks && users?.['includeUsers']?.includes('All') && !excludesSomeone)
    throw new ActionError('this policy would block every user, administrators included, with no one excluded', {
      code: 'PolicyWouldLockOut',
      hint: 'exclude an emergency-access (break-glass) account or group, or start the policy report-only',
    });
}

function refused(err: unknown): never {
  if (statusOf(err) === 400) throw new ActionError(`Entra refused the policy: ${(err as Error).message}`, { code: 'InvalidPolicy', hint: 'check the parts of the policy against the action description', status: 400 });
  throw err;
}

const view = (p: Pick<Policy, 'id' | 'displayName' | 'state'>) => ({ id: p.id, displayName: p.displayName, state: p.state });

export const policyListConditionalAccess = implement(c.policyListConditionalAccess, async (input, { graph }) => {
  const res = (await graph.api(BASE).get()) as { value: Policy[] };
  const policies = res.value.filter((p) => !input.state || p.state === input.state).map((p) => ({ ...view(p), grant: p.grantControls?.builtInControls ?? [], modifiedDateTime: p.modifiedDateTime ?? null }));
  return { policies, count: policies.length };
});

export const policyCreateConditionalAccess = implement(c.policyCreateConditionalAccess, async (input, ctx) => {
  const existing = await findPolicy(ctx.graph, input.displayName).catch((err) => {
    if (err instanceof ActionError && err.code === 'AmbiguousName') throw new ActionError(`policies called "${input.displayName}" already exist`, { code: 'ObjectConflict', hint: 'pick another name' });
    throw err;
  });
  if (existing) {
    if (createdByThisStep(ctx, existing.createdDateTime)) return { ...view(existing), created: false };
    throw new ActionError(`a Conditional Access policy called "${input.displayName}" already exists`, { code: 'ObjectConflict', hint: 'pick another name, or use "Update Conditional Access policy"' });
  }
  const { patch } = await desiredChanges(ctx, input);
  const body = { ...patch, displayName: input.displayName, state: input.state };
  refuseLockout(body);
  const made = (await ctx.graph.api(BASE).post(body).catch(refused)) as Policy;
  return { ...view(made), created: true };
}, planPolicyCreate);

/** desiredChanges reads only: it resolves names through Graph. */
const readsOnly = (ctx: PlanContext) => ({ graph: ctx.graph }) as ActionContext;

async function planPolicyCreate(input: InputOf<typeof c.policyCreateConditionalAccess>, ctx: PlanContext): Promise<Change[]> {
  const existing = await findPolicy(ctx.graph, input.displayName).catch((err) => {
    if (err instanceof ActionError && err.code === 'AmbiguousName') throw new ActionError(`policies called "${input.displayName}" already exist`, { code: 'ObjectConflict', hint: 'pick another name' });
    throw err;
  });
  if (existing) throw new ActionError(`a Conditional Access policy called "${input.displayName}" already exists`, { code: 'ObjectConflict', hint: 'pick another name, or use "Update Conditional Access policy"' });
  const { patch } = await desiredChanges(readsOnly(ctx), input);
  refuseLockout({ state: input.state, conditions: patch['conditions'], grantControls: patch['grantControls'] });
  const object = `Conditional Access policy "${input.displayName}"`;
  return [change(object, 'exists', false, true), change(object, 'state', null, input.state)];
}

/** The policy's value of each input field an update can set (ids as Entra keeps them). */
function policyFields(p: Policy | undefined, patch: Json = {}): Record<string, unknown> {
  const cond = { ...(p?.conditions ?? {}), ...((patch['conditions'] as Json | undefined) ?? {}) } as Partial<Policy['conditions']> & Json;
  const users = (cond.users ?? {}) as Record<string, string[] | null>;
  const apps = (cond.applications ?? {}) as Record<string, string[]>;
  const grant = ('grantControls' in patch ? patch['grantControls'] : p?.grantControls) as Policy['grantControls'];
  const freq = ('sessionControls' in patch ? (patch['sessionControls'] as Policy['sessionControls']) : p?.sessionControls)?.signInFrequency;
  const platforms = cond.platforms as Policy['conditions']['platforms'];
  const locations = cond.locations as Policy['conditions']['locations'];
  return {
    displayName: (patch['displayName'] as string | undefined) ?? p?.displayName ?? null,
    ...Object.fromEntries(['includeUsers', 'excludeUsers', 'includeGroups', 'excludeGroups', 'includeRoles', 'excludeRoles'].map((k) => [k, users[k] ?? []])),
    includeApplications: apps['includeApplications'] ?? [],
    excludeApplications: apps['excludeApplications'] ?? [],
    clientAppTypes: cond.clientAppTypes ?? [],
    signInRiskLevels: cond.signInRiskLevels ?? [],
    userRiskLevels: cond.userRiskLevels ?? [],
    includePlatforms: platforms?.includePlatforms ?? null,
    excludePlatforms: platforms?.excludePlatforms ?? null,
    includeLocations: locations?.includeLocations ?? null,
    excludeLocations: locations?.excludeLocations ?? null,
    grant: grant?.builtInControls ?? null,
    grantOperator: grant?.operator ?? null,
    signInFrequencyHours: freq?.value ? freq.value * (freq.type === 'days' ? 24 : 1) : null,
  };
}

async function planPolicyUpdate(input: InputOf<typeof c.policyUpdateConditionalAccess>, ctx: PlanContext): Promise<Change[]> {
  const current = await requirePolicy(ctx.graph, input.policy);
  const { policy: _ref, ...parts } = input;
  const { patch, changed } = await desiredChanges(readsOnly(ctx), parts, current);
  if (changed.length === 0) return [];
  refuseLockout({ state: current.state, conditions: { ...current.conditions, ...(patch['conditions'] as Json | undefined) }, grantControls: patch['grantControls'] ?? current.grantControls });
  const before = policyFields(current);
  const after = policyFields(current, patch);
  const object = `Conditional Access policy "${current.displayName}"`;
  return Object.keys(after)
    .filter((k) => !same(before[k], after[k]))
    .map((k) => change(object, k, before[k], after[k], { objectId: current.id }));
}

async function planPolicyState(input: InputOf<typeof c.policySetConditionalAccessState>, { graph }: PlanContext): Promise<Change[]> {
  const p = await requirePolicy(graph, input.policy);
  if (p.state === input.state) return [];
  refuseLockout({ ...p, state: input.state });
  return [change(`Conditional Access policy "${p.displayName}"`, 'state', p.state, input.state, { objectId: p.id })];
}

async function planPolicyDelete(input: InputOf<typeof c.policyDeleteConditionalAccess>, { graph }: PlanContext): Promise<PlanDraft> {
  const p = await requirePolicy(graph, input.policy);
  return { changes: [change(`Conditional Access policy "${p.displayName}"`, 'exists', true, false, { objectId: p.id })], notes: [`its state was ${p.state}`] };
}

export const policyUpdateConditionalAccess = implement(c.policyUpdateConditionalAccess, async (input, ctx) => {
  const current = await requirePolicy(ctx.graph, input.policy);
  const { policy: _ref, ...parts } = input;
  const { patch, changed } = await desiredChanges(ctx, parts, current);
  if (changed.length === 0) return { ...view(current), changed: [] };
  refuseLockout({ state: current.state, conditions: { ...current.conditions, ...(patch['conditions'] as Json | undefined) }, grantControls: patch['grantControls'] ?? current.grantControls });
  await ctx.graph.api(`${BASE}/${current.id}`).patch(patch).catch(refused);
  return { ...view({ ...current, displayName: input.displayName ?? current.displayName }), changed };
}, planPolicyUpdate);

export const policySetConditionalAccessState = implement(c.policySetConditionalAccessState, async (input, { graph }) => {
  const p = await requirePolicy(graph, input.policy);
  const changed = p.state !== input.state;
  if (changed) {
    refuseLockout({ ...p, state: input.state });
    await graph.api(`${BASE}/${p.id}`).patch({ state: input.state }).catch(refused);
  }
  return { ...view({ ...p, state: input.state }), previousState: p.state, changed };
}, planPolicyState);

export const policyDeleteConditionalAccess = implement(c.policyDeleteConditionalAccess, async (input, ctx) => {
  const p = await findPolicy(ctx.graph, input.policy);
  if (!p) {
    if (ctx.attempt > 1) return { id: GUID.test(input.policy) ? input.policy : null, deleted: false };
    throw new ActionError(`Conditional Access policy "${input.policy}" does not exist`, { code: 'ResourceNotFound', status: 404 });
  }
  return { id: p.id, deleted: await unless404(ctx.graph.api(`${BASE}/${p.id}`).delete()) };
}, planPolicyDelete);
