// Conditional Access policies: /identity/conditionalAccess/policies list / get / POST / PATCH /
// DELETE, with the checks Entra makes: the required parts (conditions.users, conditions.applications,
// clientAppTypes, a grant or session control), the allowed values of every enumeration, references
// that must exist (users, groups, role templates, named locations), "block" alone, and unknown
// properties refused at every level. PATCH merges the condition sets it names (Graph's documented
// example patches conditions.signInRiskLevels alone). Writes need Policy.ReadWrite.ConditionalAccess
// and Policy.Read.All, as Microsoft documents for application permissions.
import { randomUUID } from 'node:crypto';
import { GraphError } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import type { Ctx, Router } from '../runtime.ts';
import type { TenantStore } from '../store.ts';
import { bodyObject, collection, entity, odataContext } from './common.ts';
import { namedLocations } from './conditional-access.ts';
import { BUILT_IN_ROLES } from './roles.ts';

const READ = ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'];
const WRITE = ['Policy.ReadWrite.ConditionalAccess'];

type Json = Record<string, unknown>;

export interface ConditionalAccessPolicy {
  id: string;
  displayName: string;
  state: string;
  createdDateTime: string;
  modifiedDateTime: string | null;
  templateId: string | null;
  conditions: Json;
  grantControls: Json | null;
  sessionControls: Json | null;
}

const TYPE: TypeInfo = {
  name: 'microsoft.graph.conditionalAccessPolicy',
  properties: new Set(['id', 'displayName', 'state', 'createdDateTime', 'modifiedDateTime', 'templateId', 'conditions', 'grantControls', 'sessionControls']),
};

const invalid = (message: string): GraphError => new GraphError(400, 'BadRequest', message);

const STATES = ['enabled', 'disabled', 'enabledForReportingButNotEnforced'];
const CLIENT_APPS = ['all', 'browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'easSupported', 'other'];
const PLATFORMS = ['android', 'iOS', 'windows', 'windowsPhone', 'macOS', 'linux', 'all'];
const RISK = ['low', 'medium', 'high', 'hidden', 'none'];
const GRANTS = ['block', 'mfa', 'compliantDevice', 'domainJoinedDevice', 'approvedApplication', 'compliantApplication', 'passwordChange'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const MFA_ADMINS = '2b31ac51-b855-40a8-a2b0-3b8d3e6d7a01';

function seed(store: TenantStore): ConditionalAccessPolicy[] {
  const at = store.info.createdDateTime;
  const base = { createdDateTime: at, modifiedDateTime: null, templateId: null, sessionControls: null };
  const conditions = (users: Json, extra: Json = {}): Json => ({ users: { ...emptyUsers(), ...users }, applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [] }, clientAppTypes: ['all'], platforms: null, locations: null, signInRiskLevels: [], userRiskLevels: [], ...extra });
  return [
    { ...base, id: MFA_ADMINS, displayName: 'Require MFA for administrators', state: 'enabled', conditions: conditions({ includeRoles: ['62e90394-69f5-4237-9190-012177145e10', 'fe930be7-5e62-47db-91af-98c3a49a38b1', '29232cdf-9323-42fd-ade2-1d097af3e4de'] }), grantControls: { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [] } },
    { ...base, id: '2b31ac51-b855-40a8-a2b0-3b8d3e6d7a02', displayName: 'Block legacy authentication', state: 'enabled', conditions: conditions({ includeUsers: ['All'] }, { clientAppTypes: ['exchangeActiveSync', 'other'] }), grantControls: { operator: 'OR', builtInControls: ['block'], customAuthenticationFactors: [], termsOfUse: [] } },
    { ...base, id: '2b31ac51-b855-40a8-a2b0-3b8d3e6d7a03', displayName: 'Require compliant device on Windows', state: 'enabledForReportingButNotEnforced', conditions: conditions({ includeUsers: ['All'] }, { platforms: { includePlatforms: ['windows'], excludePlatforms: [] } }), grantControls: { operator: 'OR', builtInControls: ['compliantDevice'], customAuthenticationFactors: [], termsOfUse: [] } },
  ];
}

export function conditionalAccessPolicies(store: TenantStore): ConditionalAccessPolicy[] {
  return store.tenantState('conditionalAccessPolicies', () => seed(store));
}

const emptyUsers = (): Json => ({ includeUsers: [], excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [], includeGuestsOrExternalUsers: null, excludeGuestsOrExternalUsers: null });

function object(v: unknown, where: string): Json {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${where} must be an object.`);
  return v as Json;
}

function only(o: Json, allowed: readonly string[], type: string): void {
  for (const k of Object.keys(o)) if (k !== '@odata.type' && !allowed.includes(k)) throw invalid(`The property '${k}' does not exist on type 'microsoft.graph.${type}'.`);
}

function list(v: unknown, where: string, check: (s: string) => boolean, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !check(x))) throw invalid(`${where}: each value must be ${what}.`);
  return [...new Set(v as string[])];
}

const oneOf = (values: readonly string[]) => (s: string) => values.includes(s);

function usersCondition(ctx: Ctx, raw: unknown): Json {
  const u = object(raw, 'conditions.users');
  only(u, ['includeUsers', 'excludeUsers', 'includeGroups', 'excludeGroups', 'includeRoles', 'excludeRoles', 'includeGuestsOrExternalUsers', 'excludeGuestsOrExternalUsers'], 'conditionalAccessUsers');
  const userOk = (s: string) => ['All', 'None', 'GuestsOrExternalUsers'].includes(s) || (GUID.test(s) && !!ctx.store.userById(s));
  const groupOk = (s: string) => GUID.test(s) && !!ctx.store.groupById(s);
  const roleOk = (s: string) => BUILT_IN_ROLES.some((r) => r.id === s.toLowerCase());
  const out: Json = {
    includeUsers: list(u['includeUsers'], 'conditions.users.includeUsers', userOk, "'All', 'None', 'GuestsOrExternalUsers' or the id of a user of the tenant"),
    excludeUsers: list(u['excludeUsers'], 'conditions.users.excludeUsers', userOk, "'GuestsOrExternalUsers' or the id of a user of the tenant"),
    includeGroups: list(u['includeGroups'], 'conditions.users.includeGroups', groupOk, 'the id of a group of the tenant'),
    excludeGroups: list(u['excludeGroups'], 'conditions.users.excludeGroups', groupOk, 'the id of a group of the tenant'),
    includeRoles: list(u['includeRoles'], 'conditions.users.includeRoles', roleOk, 'a directory role template id'),
    excludeRoles: list(u['excludeRoles'], 'conditions.users.excludeRoles', roleOk, 'a directory role template id'),
    includeGuestsOrExternalUsers: u['includeGuestsOrExternalUsers'] ?? null,
    excludeGuestsOrExternalUsers: u['excludeGuestsOrExternalUsers'] ?? null,
  };
  const inc = ['includeUsers', 'includeGroups', 'includeRoles'].some((k) => (out[k] as string[]).length) || out['includeGuestsOrExternalUsers'];
  if (!inc) throw invalid('conditions.users must include someone: includeUsers, includeGroups, includeRoles or includeGuestsOrExternalUsers.');
  if ((out['excludeUsers'] as string[]).some((x) => x === 'All')) throw invalid("conditions.users.excludeUsers cannot be 'All'.");
  return out;
}

function applicationsCondition(raw: unknown): Json {
  const a = object(raw, 'conditions.applications');
  only(a, ['includeApplications', 'excludeApplications', 'includeUserActions', 'includeAuthenticationContextClassReferences', 'applicationFilter'], 'conditionalAccessApplications');
  const appOk = (s: string) => ['All', 'None', 'Office365', 'MicrosoftAdminPortals'].includes(s) || GUID.test(s);
  const out: Json = {
    includeApplications: list(a['includeApplications'], 'conditions.applications.includeApplications', appOk, "'All', 'None', 'Office365', 'MicrosoftAdminPortals' or an application id"),
    excludeApplications: list(a['excludeApplications'], 'conditions.applications.excludeApplications', appOk, "'Office365', 'MicrosoftAdminPortals' or an application id"),
    includeUserActions: list(a['includeUserActions'], 'conditions.applications.includeUserActions', oneOf(['urn:user:registersecurityinfo', 'urn:user:registerdevice']), 'urn:user:registersecurityinfo or urn:user:registerdevice'),
    includeAuthenticationContextClassReferences: list(a['includeAuthenticationContextClassReferences'], 'conditions.applications.includeAuthenticationContextClassReferences', (s) => /^c\d{1,2}$/.test(s), 'an authentication context id such as c1'),
  };
  if (!['includeApplications', 'includeUserActions', 'includeAuthenticationContextClassReferences'].some((k) => (out[k] as string[]).length))
    throw invalid('conditions.applications must include applications, user actions or authentication contexts.');
  return out;
}

function conditions(ctx: Ctx, raw: unknown, current?: Json): Json {
  const c = object(raw, 'conditions');
  only(c, ['users', 'applications', 'clientAppTypes', 'platforms', 'locations', 'signInRiskLevels', 'userRiskLevels', 'servicePrincipalRiskLevels', 'devices', 'clientApplications'], 'conditionalAccessConditionSet');
  const merged: Json = { ...(current ?? {}), ...c };
  const out: Json = {
    users: merged['users'] === undefined ? undefined : usersCondition(ctx, merged['users']),
    applications: merged['applications'] === undefined ? undefined : applicationsCondition(merged['applications']),
    clientAppTypes: list(merged['clientAppTypes'], 'conditions.clientAppTypes', oneOf(CLIENT_APPS), CLIENT_APPS.join(', ')),
    platforms: null,
    locations: null,
    signInRiskLevels: list(merged['signInRiskLevels'], 'conditions.signInRiskLevels', oneOf(RISK), RISK.join(', ')),
    userRiskLevels: list(merged['userRiskLevels'], 'conditions.userRiskLevels', oneOf(RISK), RISK.join(', ')),
  };
  if (!out['users']) throw invalid('conditions.users is required.');
  if (!out['applications']) throw invalid('conditions.applications is required.');
  if ((out['clientAppTypes'] as string[]).length === 0) throw invalid("conditions.clientAppTypes is required (e.g. ['all']).");
  if (merged['platforms']) {
    const p = object(merged['platforms'], 'conditions.platforms');
    only(p, ['includePlatforms', 'excludePlatforms'], 'conditionalAccessPlatforms');
    out['platforms'] = { includePlatforms: list(p['includePlatforms'], 'conditions.platforms.includePlatforms', oneOf(PLATFORMS), PLATFORMS.join(', ')), excludePlatforms: list(p['excludePlatforms'], 'conditions.platforms.excludePlatforms', oneOf(PLATFORMS), PLATFORMS.join(', ')) };
    if (!(out['platforms'] as Json)['includePlatforms'] || ((out['platforms'] as Json)['includePlatforms'] as string[]).length === 0) throw invalid('conditions.platforms.includePlatforms is required when platforms are set.');
  }
  if (merged['locations']) {
    const l = object(merged['locations'], 'conditions.locations');
    only(l, ['includeLocations', 'excludeLocations'], 'conditionalAccessLocations');
    const ids = new Set(namedLocations(ctx.store).map((x) => x.id));
    const locOk = (s: string) => s === 'All' || s === 'AllTrusted' || ids.has(s.toLowerCase());
    out['locations'] = { includeLocations: list(l['includeLocations'], 'conditions.locations.includeLocations', locOk, "'All', 'AllTrusted' or the id of a named location"), excludeLocations: list(l['excludeLocations'], 'conditions.locations.excludeLocations', locOk, "'AllTrusted' or the id of a named location") };
    if (((out['locations'] as Json)['includeLocations'] as string[]).length === 0) throw invalid('conditions.locations.includeLocations is required when locations are set.');
  }
  return out;
}

function grantControls(raw: unknown, conds: Json): Json | null {
  if (raw === null || raw === undefined) return null;
  const g = object(raw, 'grantControls');
  only(g, ['operator', 'builtInControls', 'customAuthenticationFactors', 'termsOfUse', 'authenticationStrength'], 'conditionalAccessGrantControls');
  if (g['operator'] !== 'AND' && g['operator'] !== 'OR') throw invalid("grantControls.operator must be 'AND' or 'OR'.");
  const controls = list(g['builtInControls'], 'grantControls.builtInControls', oneOf(GRANTS), GRANTS.join(', '));
  if (controls.length === 0) throw invalid('grantControls.builtInControls needs at least one control.');
  if (controls.includes('block') && controls.length > 1) throw invalid("grantControls: 'block' cannot be combined with other controls.");
  if (controls.includes('passwordChange') && (!controls.includes('mfa') || g['operator'] !== 'AND' || (conds['userRiskLevels'] as string[]).length === 0))
    throw invalid("grantControls: 'passwordChange' needs 'mfa' with operator 'AND', and a user risk condition.");
  return { operator: g['operator'], builtInControls: controls, customAuthenticationFactors: [], termsOfUse: [] };
}

function sessionControls(raw: unknown): Json | null {
  if (raw === null || raw === undefined) return null;
  const s = object(raw, 'sessionControls');
  only(s, ['signInFrequency', 'persistentBrowser', 'applicationEnforcedRestrictions', 'cloudAppSecurity', 'disableResilienceDefaults'], 'conditionalAccessSessionControls');
  const out: Json = { signInFrequency: null, persistentBrowser: null, applicationEnforcedRestrictions: null, cloudAppSecurity: null, disableResilienceDefaults: null };
  if (s['signInFrequency']) {
    const f = object(s['signInFrequency'], 'sessionControls.signInFrequency');
    only(f, ['value', 'type', 'isEnabled', 'authenticationType', 'frequencyInterval'], 'signInFrequencySessionControl');
    const every = f['frequencyInterval'] === 'everyTime';
    if (!every && (typeof f['value'] !== 'number' || !Number.isInteger(f['value']) || f['value'] < 1 || (f['type'] === 'hours' && f['value'] > 23) || (f['type'] === 'days' && f['value'] > 365) || (f['type'] !== 'hours' && f['type'] !== 'days')))
      throw invalid("sessionControls.signInFrequency: value 1-23 with type 'hours', or 1-365 with type 'days'.");
    out['signInFrequency'] = { value: every ? null : f['value'], type: every ? null : f['type'], isEnabled: f['isEnabled'] !== false, authenticationType: f['authenticationType'] ?? 'primaryAndSecondaryAuthentication', frequencyInterval: every ? 'everyTime' : 'timeBased' };
  }
  if (s['persistentBrowser']) {
    const b = object(s['persistentBrowser'], 'sessionControls.persistentBrowser');
    only(b, ['mode', 'isEnabled'], 'persistentBrowserSessionControl');
    if (b['mode'] !== 'always' && b['mode'] !== 'never') throw invalid("sessionControls.persistentBrowser.mode must be 'always' or 'never'.");
    out['persistentBrowser'] = { mode: b['mode'], isEnabled: b['isEnabled'] !== false };
  }
  if (s['applicationEnforcedRestrictions']) out['applicationEnforcedRestrictions'] = { isEnabled: object(s['applicationEnforcedRestrictions'], 'sessionControls.applicationEnforcedRestrictions')['isEnabled'] !== false };
  if (typeof s['disableResilienceDefaults'] === 'boolean') out['disableResilienceDefaults'] = s['disableResilienceDefaults'];
  return out;
}

/** Validates a whole policy (a create body, or the merge of a PATCH into the current policy). */
function build(ctx: Ctx, body: Json, current?: ConditionalAccessPolicy): Omit<ConditionalAccessPolicy, 'id' | 'createdDateTime' | 'modifiedDateTime'> {
  only(body, ['displayName', 'state', 'conditions', 'grantControls', 'sessionControls', 'templateId', 'id', 'createdDateTime', 'modifiedDateTime'], 'conditionalAccessPolicy');
  for (const k of ['id', 'createdDateTime', 'modifiedDateTime']) if (k in body) throw invalid(`The property '${k}' is read-only.`);
  const displayName = 'displayName' in body ? body['displayName'] : current?.displayName;
  if (typeof displayName !== 'string' || !displayName.trim()) throw invalid("displayName is required.");
  if (displayName.length > 256) throw invalid('displayName cannot be longer than 256 characters.');
  const state = 'state' in body ? body['state'] : current?.state;
  if (typeof state !== 'string' || !STATES.includes(state)) throw invalid(`state must be one of ${STATES.join(', ')}.`);
  if (!('conditions' in body) && !current) throw invalid('conditions is required.');
  const conds = conditions(ctx, body['conditions'] ?? {}, current?.conditions);
  const grants = grantControls('grantControls' in body ? body['grantControls'] : current?.grantControls, conds);
  const session = sessionControls('sessionControls' in body ? body['sessionControls'] : current?.sessionControls);
  if (!grants && !session) throw invalid('A policy needs grantControls or sessionControls.');
  return { displayName, state, templateId: current?.templateId ?? null, conditions: conds, grantControls: grants, sessionControls: session };
}

function requirePolicy(ctx: Ctx): ConditionalAccessPolicy {
  const p = conditionalAccessPolicies(ctx.store).find((x) => x.id === ctx.params['id']!.toLowerCase());
  if (!p) throw new GraphError(404, 'ResourceNotFound', `The conditional access policy '${ctx.params['id']}' was not found.`);
  return p;
}

/** Applications need Policy.Read.All besides Policy.ReadWrite.ConditionalAccess to write policies. */
function requireReadToo(ctx: Ctx): void {
  if (!ctx.caller.roles.has('Policy.Read.All')) throw new GraphError(403, 'AccessDenied', 'You cannot perform the requested operation, required scopes are missing in the token: Policy.Read.All and Policy.ReadWrite.ConditionalAccess.');
}

export function registerConditionalAccessPolicyRoutes(router: Router): void {
  const base = '/identity/conditionalAccess/policies';
  const context = 'identity/conditionalAccess/policies/$entity';
  router.add(
    { method: 'GET', path: base, permissions: READ, handler: (ctx) => collection(ctx, conditionalAccessPolicies(ctx.store), TYPE, (p) => ({ ...p }), 'identity/conditionalAccess/policies') },
    { method: 'GET', path: `${base}/:id`, permissions: READ, handler: (ctx) => entity(ctx, { ...requirePolicy(ctx) }, TYPE, context) },
    {
      method: 'POST',
      path: base,
      permissions: WRITE,
      handler: (ctx) => {
        requireReadToo(ctx);
        const body = bodyObject(ctx);
        const p: ConditionalAccessPolicy = { id: randomUUID(), createdDateTime: ctx.nowIso, modifiedDateTime: null, ...build(ctx, body) };
        conditionalAccessPolicies(ctx.store).push(p);
        ctx.mutated('conditionalAccessPolicy.create', p.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, context), ...p } };
      },
    },
    {
      method: 'PATCH',
      path: `${base}/:id`,
      permissions: WRITE,
      handler: (ctx) => {
        requireReadToo(ctx);
        const p = requirePolicy(ctx);
        Object.assign(p, build(ctx, bodyObject(ctx), p), { modifiedDateTime: ctx.nowIso });
        ctx.mutated('conditionalAccessPolicy.update', p.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:id`,
      permissions: WRITE,
      handler: (ctx) => {
        requireReadToo(ctx);
        const p = requirePolicy(ctx);
        const all = conditionalAccessPolicies(ctx.store);
        all.splice(all.indexOf(p), 1);
        ctx.mutated('conditionalAccessPolicy.delete', p.id);
        return { status: 204 };
      },
    },
  );
}
