// Teams administration on Graph (namespace microsoft.graph.teamsAdministration, v1.0): policy assignment
// (POST /admin/teams/policy/userAssignments/assign | unassign, GET /admin/teams/policy/getPolicyId),
// the user's Teams configuration (GET /admin/teams/userConfigurations/{id}: effective policies and phone
// numbers), and telephone number management (GET numberAssignments with $filter / $top / $skip,
// POST assignNumber / unassignNumber / updateNumber -> 202 + Location of a telephoneNumberLongRunningOperation
// that runs for a while before it succeeds, GET operations/{id}).
//
// Seeded: the built-in policy instances of each policy type (Global plus a few tags such as AllOn /
// AllOff) and a pool of calling-plan and direct-routing numbers; nothing is assigned until someone
// assigns it. Call queues, auto attendants, resource accounts and holidays have no Graph API (Teams
// PowerShell only) and are not emulated.
import { createHash, randomBytes } from 'node:crypto';
import { GraphError, badRequest } from '../errors.ts';
import { enabledPlanIds } from '../licensing.ts';
import { applyQuery, type TypeInfo } from '../odata.ts';
import type { Caller, Reply } from '../types.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import type { TenantStore, User } from '../store.ts';
import { bodyObject, odataContext, queryOptions, requireUser } from './common.ts';

/** Teams Phone (Phone System) service plan: a user needs it for a phone number. */
const PHONE_SYSTEM_PLAN = '4828c8ec-dc2e-4779-b502-87ac9ce28ab7';
/** Microsoft Teams service plan. */
const TEAMS_PLAN = '57ff2da0-773e-42df-b2af-ffb7a2317929';

const POLICY_TYPES: Record<string, string[]> = {
  TeamsMeetingPolicy: ['Global', 'AllOn', 'RestrictedAnonymousAccess', 'AllOff', 'RestrictedAnonymousNoRecording', 'Default', 'Kiosk'],
  TeamsMessagingPolicy: ['Global', 'Default', 'EduFaculty', 'EduStudent', 'FirstlineWorker'],
  TeamsCallingPolicy: ['Global', 'AllowCalling', 'DisallowCalling', 'AllowCallingPreventTollBypass', 'AllowCallingPreventForwardingtoPhone'],
  TeamsAppSetupPolicy: ['Global', 'FirstLineWorker'],
  TeamsAppPermissionPolicy: ['Global'],
  TeamsChannelsPolicy: ['Global', 'Default', 'EduFaculty', 'EduStudent'],
  TeamsMeetingBroadcastPolicy: ['Global', 'Default'],
  TeamsUpdateManagementPolicy: ['Global'],
  TeamsFeedbackPolicy: ['Global'],
  TeamsLiveEventsPolicy: ['Global', 'Default'],
  TeamsEventsPolicy: ['Global', 'Default', 'DisablePublicWebinars'],
};

interface NumberRecord {
  telephoneNumber: string;
  numberType: 'callingPlan' | 'directRouting' | 'operatorConnect';
  operatorId: string | null;
  isoCountryCode: string | null;
  city: string | null;
  assignmentTargetId: string | null;
  assignmentCategory: 'primary' | 'private' | 'alternate' | null;
  locationId: string | null;
  networkSiteId?: string | null;
  reverseNumberLookupOptions?: string[];
  /** While an order is running: activationState assignmentPending / updatePending. */
  pendingUntilMs: number;
  pendingState: 'assignmentPending' | 'updatePending' | null;
}

interface NumberOperation {
  id: string;
  createdDateTime: string;
  doneAtMs: number;
  numbers: { telephoneNumber: string; status: 'succeeded' | 'failed' }[];
}

interface TeamsAdminState {
  /** user id -> policy type -> policy id (direct assignments). */
  assignments: Record<string, Record<string, string>>;
  numbers: Record<string, NumberRecord>;
  operations: Record<string, NumberOperation>;
  modified: Record<string, string>;
}

/** How long a number order takes at time scale 1 (Microsoft: seconds to minutes). */
export const NUMBER_ORDER_MS = 8_000;

const policyIdOf = (type: string, name: string): string => createHash('sha256').update(`${type}/${name}`).digest('base64url').slice(0, 43);

function seedNumbers(store: TenantStore): Record<string, NumberRecord> {
  const out: Record<string, NumberRecord> = {};
  // Fictional North American numbers (555-01xx is reserved for fiction).
  for (let i = 0; i < 20; i++) {
    const callingPlan = i < 12;
    const n = `+1425555${String(100 + i).padStart(4, '0')}`;
    out[n] = {
      telephoneNumber: n,
      numberType: callingPlan ? 'callingPlan' : 'directRouting',
      operatorId: callingPlan ? '0019adbc-b82a-47b4-a799-4e993a9982f1' : '7a205197-8e59-487d-b9fa-3fc1b108f1e5',
      isoCountryCode: callingPlan ? 'US' : null,
      city: callingPlan ? 'Redmond' : null,
      assignmentTargetId: null,
      assignmentCategory: null,
      locationId: null,
      pendingUntilMs: 0,
      pendingState: null,
    };
  }
  void store;
  return out;
}

const adminState = (store: TenantStore): TeamsAdminState => store.tenantState('teamsAdmin', () => ({ assignments: {}, numbers: seedNumbers(store), operations: {}, modified: {} }));

const NUMBER_TYPE: TypeInfo = {
  name: 'microsoft.graph.teamsAdministration.numberAssignment',
  properties: new Set(['id', 'telephoneNumber', 'operatorId', 'numberType', 'activationState', 'capabilities', 'locationId', 'civicAddressId', 'networkSiteId', 'assignmentTargetId', 'assignmentCategory', 'portInStatus', 'assignmentStatus', 'isoCountryCode', 'city', 'numberSource', 'supportedCustomerActions', 'reverseNumberLookupOptions']),
};

const numberId = (tenantId: string, n: string): string => Buffer.from(`${tenantId}|${n}`).toString('base64url');

function numberView(ctx: Ctx, r: NumberRecord): Record<string, unknown> {
  const pending = r.pendingState && ctx.nowMs < r.pendingUntilMs;
  return {
    '@odata.type': '#microsoft.graph.teamsAdministration.numberAssignment',
    id: numberId(ctx.store.info.id, r.telephoneNumber),
    telephoneNumber: r.telephoneNumber,
    operatorId: r.operatorId,
    numberType: r.numberType,
    activationState: pending ? r.pendingState : 'activated',
    capabilities: r.numberType === 'callingPlan' ? ['userAssignment', 'conferenceAssignment'] : ['userAssignment', 'voiceApplicationAssignment', 'conferenceAssignment'],
    locationId: r.locationId,
    civicAddressId: null,
    networkSiteId: r.networkSiteId ?? null,
    assignmentTargetId: r.assignmentTargetId,
    assignmentCategory: r.assignmentCategory,
    portInStatus: null,
    assignmentStatus: r.assignmentTargetId ? 'userAssigned' : 'unassigned',
    isoCountryCode: r.isoCountryCode,
    city: r.city,
    numberSource: 'online',
    supportedCustomerActions: r.numberType === 'callingPlan' ? ['locationUpdate', 'release'] : ['locationUpdate'],
    reverseNumberLookupOptions: r.reverseNumberLookupOptions ?? [],
  };
}

/** Graph answers telephone numbers with a '+' whatever the request had. */
const normalNumber = (raw: unknown): string => {
  if (typeof raw !== 'string' || !/^\+?\d{4,15}$/.test(raw.replace(/[\s-]/g, ''))) throw badRequest("The value of 'telephoneNumber' is not a valid telephone number (E.164 digits, optionally with a leading +).");
  const digits = raw.replace(/[\s-+]/g, '');
  return `+${digits}`;
};

const NUMBER_TYPES = new Set(['callingPlan', 'directRouting', 'operatorConnect']);
const CATEGORIES = new Set(['primary', 'private', 'alternate']);

function onlyKnown(body: Record<string, unknown>, known: string[], action: string): void {
  for (const k of Object.keys(body)) if (!known.includes(k)) throw badRequest(`The parameter '${k}' in the request payload is not a valid parameter for the operation '${action}'.`);
}

function startOrder(ctx: Ctx, numbers: NumberRecord[], state: 'assignmentPending' | 'updatePending'): Reply {
  const s = adminState(ctx.store);
  const doneAtMs = ctx.nowMs + NUMBER_ORDER_MS / ctx.rt.opts.timeScale;
  for (const r of numbers) {
    r.pendingState = state;
    r.pendingUntilMs = doneAtMs;
  }
  const id = Buffer.from(`${state === 'assignmentPending' ? 'Assignment' : 'Update'}|${randomBytes(16).toString('hex')}`).toString('base64url');
  s.operations[id] = { id, createdDateTime: ctx.nowIso, doneAtMs, numbers: numbers.map((r) => ({ telephoneNumber: r.telephoneNumber, status: 'succeeded' })) };
  return { status: 202, headers: { location: `${ctx.serviceRoot}/admin/teams/telephoneNumberManagement/operations('${id}')` } };
}

function requireNumber(ctx: Ctx, raw: unknown, numberType: unknown): NumberRecord {
  const n = normalNumber(raw);
  if (typeof numberType !== 'string' || !NUMBER_TYPES.has(numberType)) throw badRequest("The value of 'numberType' must be one of directRouting, callingPlan, operatorConnect.");
  const r = adminState(ctx.store).numbers[n];
  if (!r) throw new GraphError(404, 'NotFound', `The telephone number ${n} was not found in the tenant.`);
  if (r.numberType !== numberType) throw badRequest(`The telephone number ${n} is a ${r.numberType} number, not ${numberType}.`);
  return r;
}

const teamsDenied = (route: RouteDef, caller: Caller): GraphError =>
  new GraphError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${route.permissions.join(', ')}'. Roles on the request '${[...caller.roles].join(', ')}'.`);
const adminRoute = (def: Omit<RouteDef, 'workload' | 'denied'>): RouteDef => ({ ...def, workload: 'teams', denied: teamsDenied });

const NUMBER_READ = ['TeamsTelephoneNumber.Read.All', 'TeamsTelephoneNumber.ReadWrite.All'];
const NUMBER_WRITE = ['TeamsTelephoneNumber.ReadWrite.All'];
const POLICY = ['TeamsPolicyUserAssign.ReadWrite.All'];

function userConfiguration(ctx: Ctx, user: User): Record<string, unknown> {
  const s = adminState(ctx.store);
  const plans = enabledPlanIds(user);
  const direct = s.assignments[user.id] ?? {};
  const numbers = Object.values(s.numbers).filter((r) => r.assignmentTargetId === user.id);
  return {
    '@odata.context': odataContext(ctx, 'admin/teams/userConfigurations/$entity'),
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    tenantId: ctx.store.info.id,
    effectivePolicyAssignments: Object.entries(direct).map(([policyType, policyId]) => ({
      policyType,
      policyAssignment: { displayName: POLICY_TYPES[policyType]!.find((n) => policyIdOf(policyType, n) === policyId) ?? policyId, assignmentType: 'direct', policyId, groupId: null },
    })),
    telephoneNumbers: numbers.map((r) => ({ telephoneNumber: r.telephoneNumber, assignmentCategory: r.assignmentCategory })),
    isEnterpriseVoiceEnabled: plans.has(PHONE_SYSTEM_PLAN),
    featureTypes: [...(plans.has(TEAMS_PLAN) ? ['Teams'] : []), ...(plans.has(PHONE_SYSTEM_PLAN) ? ['PhoneSystem'] : [])],
    accountType: user.userType === 'Guest' ? 'guest' : plans.has(TEAMS_PLAN) ? 'user' : 'ineligibleUser',
    createdDateTime: user.createdDateTime,
    modifiedDateTime: s.modified[user.id] ?? user.createdDateTime,
  };
}

function assignments(ctx: Ctx, assign: boolean): Reply {
  const body = bodyObject(ctx);
  onlyKnown(body, ['value'], assign ? 'assign' : 'unassign');
  const list = body['value'];
  if (!Array.isArray(list) || list.length === 0) throw badRequest("A value is required for parameter 'value': a list of teamsPolicyUserAssignment.");
  const s = adminState(ctx.store);
  // Check every entry before changing anything.
  const checked = list.map((raw) => {
    const a = (raw ?? {}) as Record<string, unknown>;
    onlyKnown(a, ['@odata.type', 'id', 'userId', 'policyType', 'policyId'], assign ? 'assign' : 'unassign');
    const type = Object.keys(POLICY_TYPES).find((t) => t.toLowerCase() === String(a['policyType'] ?? '').toLowerCase());
    if (!type) throw badRequest(`Unknown policyType '${String(a['policyType'] ?? '')}'. Known types: ${Object.keys(POLICY_TYPES).join(', ')}.`);
    const user = ctx.store.findUser(String(a['userId'] ?? ''));
    if (!user) throw new GraphError(404, 'NotFound', `User '${String(a['userId'] ?? '')}' was not found in the tenant.`);
    if (!assign) return { user, type, policyId: '' };
    const policyId = String(a['policyId'] ?? '');
    if (!POLICY_TYPES[type]!.some((n) => policyIdOf(type, n) === policyId)) throw badRequest(`Policy '${policyId}' is not a ${type} policy of this tenant: look its id up with getPolicyId.`);
    return { user, type, policyId };
  });
  for (const c of checked) {
    const mine = (s.assignments[c.user.id] ??= {});
    // Assigning Global is the same as having no direct assignment.
    if (assign && c.policyId !== policyIdOf(c.type, 'Global')) mine[c.type] = c.policyId;
    else delete mine[c.type];
    s.modified[c.user.id] = ctx.nowIso;
    ctx.mutated(assign ? 'teams.assignPolicy' : 'teams.unassignPolicy', c.user.id);
  }
  return { status: 204 };
}

function routes(): RouteDef[] {
  const base = '/admin/teams/telephoneNumberManagement';
  return [
    // getPolicyId(type='…',name='…') is one path segment (a function call with two parameters).
    adminRoute({ method: 'GET', path: '/admin/teams/policy/:call', permissions: POLICY, handler: getPolicyId }),
    adminRoute({ method: 'POST', path: '/admin/teams/policy/userAssignments/assign', permissions: POLICY, handler: (ctx) => assignments(ctx, true) }),
    adminRoute({ method: 'POST', path: '/admin/teams/policy/userAssignments/unassign', permissions: POLICY, handler: (ctx) => assignments(ctx, false) }),
    adminRoute({
      method: 'GET',
      path: '/admin/teams/userConfigurations/:id',
      permissions: ['TeamsUserConfiguration.Read.All'],
      handler: (ctx) => ({ status: 200, body: userConfiguration(ctx, requireUser(ctx, ctx.params['id']!)) }),
    }),
    adminRoute({
      method: 'GET',
      path: `${base}/numberAssignments`,
      permissions: NUMBER_READ,
      handler: (ctx) => {
        // $top (default 500, at most 1,000) and $skip are this API's paging; the rest is ordinary OData.
        const rest = new URLSearchParams(ctx.query);
        for (const k of ['$top', 'top', '$skip', 'skip']) rest.delete(k);
        const q = queryOptions({ ...ctx, query: rest }, NUMBER_TYPE);
        const top = Number(ctx.query.get('$top') ?? ctx.query.get('top') ?? 500);
        const skip = Number(ctx.query.get('$skip') ?? ctx.query.get('skip') ?? 0);
        if (!Number.isInteger(top) || top < 1 || top > 1000) throw badRequest("Invalid value for '$top': between 1 and 1000.");
        if (!Number.isInteger(skip) || skip < 0) throw badRequest("Invalid value for '$skip'.");
        // $filter applies to the numbers as Graph shows them (assignmentStatus, activationState are computed).
        const views = Object.values(adminState(ctx.store).numbers).map((r) => numberView(ctx, r));
        const all = applyQuery(views, { ...q, top: undefined }, (v) => v, Number.MAX_SAFE_INTEGER).value;
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'admin/teams/telephoneNumberManagement/numberAssignments'), value: all.slice(skip, skip + top) } };
      },
    }),
    adminRoute({
      method: 'POST',
      path: `${base}/numberAssignments/assignNumber`,
      permissions: NUMBER_WRITE,
      handler: (ctx) => {
        const b = bodyObject(ctx);
        onlyKnown(b, ['telephoneNumber', 'assignmentTargetId', 'numberType', 'assignmentCategory', 'locationId'], 'assignNumber');
        if (b['assignmentTargetId'] === undefined) throw badRequest("A value is required for parameter 'assignmentTargetId'.");
        const category = b['assignmentCategory'] ?? 'primary';
        if (typeof category !== 'string' || !CATEGORIES.has(category)) throw badRequest("The value of 'assignmentCategory' must be one of primary, private, alternate.");
        const s = adminState(ctx.store);
        const n = normalNumber(b['telephoneNumber']);
        // Direct routing numbers are the customer's own: the first assignment brings one into the inventory.
        if (!s.numbers[n] && b['numberType'] === 'directRouting')
          s.numbers[n] = { telephoneNumber: n, numberType: 'directRouting', operatorId: null, isoCountryCode: null, city: null, assignmentTargetId: null, assignmentCategory: null, locationId: null, pendingUntilMs: 0, pendingState: null };
        const r = requireNumber(ctx, n, b['numberType']);
        const user = ctx.store.findUser(String(b['assignmentTargetId']));
        if (!user) throw new GraphError(404, 'NotFound', `The assignment target '${String(b['assignmentTargetId'])}' was not found.`);
        if (!enabledPlanIds(user).has(PHONE_SYSTEM_PLAN)) throw badRequest(`User '${user.userPrincipalName}' is not licensed for Teams Phone (Phone System); assign a licence with the MCOEV plan first.`);
        if (r.assignmentTargetId && r.assignmentTargetId !== user.id) throw badRequest(`The telephone number ${n} is already assigned to another user or resource account.`);
        if (typeof b['locationId'] === 'string') r.locationId = b['locationId'];
        // A user has one number per category: a new one replaces the old (as Set-CsPhoneNumberAssignment does).
        for (const other of Object.values(s.numbers)) {
          if (other !== r && other.assignmentTargetId === user.id && other.assignmentCategory === category) {
            other.assignmentTargetId = null;
            other.assignmentCategory = null;
          }
        }
        r.assignmentTargetId = user.id;
        r.assignmentCategory = category as NumberRecord['assignmentCategory'];
        s.modified[user.id] = ctx.nowIso;
        ctx.mutated('teams.assignNumber', user.id);
        return startOrder(ctx, [r], 'assignmentPending');
      },
    }),
    adminRoute({
      method: 'POST',
      path: `${base}/numberAssignments/unassignNumber`,
      permissions: NUMBER_WRITE,
      handler: (ctx) => {
        const b = bodyObject(ctx);
        onlyKnown(b, ['telephoneNumber', 'numberType'], 'unassignNumber');
        const r = requireNumber(ctx, b['telephoneNumber'], b['numberType']);
        if (!r.assignmentTargetId) throw badRequest(`The telephone number ${r.telephoneNumber} is not assigned.`);
        const userId = r.assignmentTargetId;
        r.assignmentTargetId = null;
        r.assignmentCategory = null;
        adminState(ctx.store).modified[userId] = ctx.nowIso;
        ctx.mutated('teams.unassignNumber', userId);
        return startOrder(ctx, [r], 'updatePending');
      },
    }),
    adminRoute({
      method: 'POST',
      path: `${base}/numberAssignments/updateNumber`,
      permissions: NUMBER_WRITE,
      handler: (ctx) => {
        const b = bodyObject(ctx);
        onlyKnown(b, ['telephoneNumber', 'locationId', 'networkSiteId', 'reverseNumberLookupOptions'], 'updateNumber');
        const r = adminState(ctx.store).numbers[normalNumber(b['telephoneNumber'])];
        if (!r) throw new GraphError(404, 'NotFound', `The telephone number ${normalNumber(b['telephoneNumber'])} was not found in the tenant.`);
        // An empty string clears a value; null or an absent field keeps it (as documented).
        const text = (key: string): string | null | undefined => {
          const v = b[key];
          if (v === undefined || v === null) return undefined;
          if (typeof v !== 'string') throw badRequest(`The value of '${key}' must be a string.`);
          return v === '' ? null : v;
        };
        const rnl = b['reverseNumberLookupOptions'];
        if (rnl !== undefined && rnl !== null && (!Array.isArray(rnl) || rnl.some((o) => o !== 'skipInternalVoip'))) throw badRequest("reverseNumberLookupOptions must be a list of 'skipInternalVoip'.");
        const location = text('locationId');
        const site = text('networkSiteId');
        if (location !== undefined) r.locationId = location;
        if (site !== undefined) r.networkSiteId = site;
        if (Array.isArray(rnl)) r.reverseNumberLookupOptions = [...new Set(rnl as string[])];
        ctx.mutated('teams.updateNumber', r.assignmentTargetId ?? r.telephoneNumber);
        return { status: 200 };
      },
    }),
    adminRoute({
      method: 'GET',
      path: `${base}/operations/:operationId`,
      permissions: NUMBER_READ,
      handler: (ctx) => {
        const op = adminState(ctx.store).operations[ctx.params['operationId']!];
        if (!op) throw new GraphError(404, 'NotFound', `Operation '${ctx.params['operationId']}' was not found.`);
        const done = ctx.nowMs >= op.doneAtMs;
        return {
          status: 200,
          body: {
            '@odata.context': odataContext(ctx, 'admin/teams/telephoneNumberManagement/operations/$entity'),
            '@odata.type': '#microsoft.graph.teamsAdministration.telephoneNumberLongRunningOperation',
            id: op.id,
            createdDateTime: op.createdDateTime,
            status: done ? 'succeeded' : 'running',
            numbers: op.numbers.map((n) => ({
              telephoneNumber: n.telephoneNumber,
              resourceLocation: `${ctx.serviceRoot}/admin/teams/telephoneNumberManagement/numberAssignments/${numberId(ctx.store.info.id, n.telephoneNumber)}`,
              status: done ? n.status : 'running',
            })),
          },
        };
      },
    }),
  ];
}

/** GET /admin/teams/policy/getPolicyId(type='…',name='…'): a function call the route table cannot split. */
function getPolicyId(ctx: Ctx): Reply {
  const m = /getPolicyId\(type='([^']*)',name='([^']*)'\)$/i.exec(decodeURIComponent(ctx.path));
  if (!m) throw badRequest("getPolicyId needs type='{policyType}' and name='{policyName}'.");
  const type = Object.keys(POLICY_TYPES).find((t) => t.toLowerCase() === m[1]!.toLowerCase());
  if (!type) throw badRequest(`Unknown policy type '${m[1]}'. Known types: ${Object.keys(POLICY_TYPES).join(', ')}.`);
  const want = m[2]!.replace(/^Tag:/i, '').toLowerCase();
  const name = POLICY_TYPES[type]!.find((n) => n.toLowerCase() === want);
  if (!name) throw new GraphError(404, 'NotFound', `No ${type} named '${m[2]}' exists in the tenant.`);
  return {
    status: 200,
    body: {
      '@odata.context': odataContext(ctx, 'Collection(microsoft.graph.teamsAdministration.policyIdentifierDetail)'),
      value: [{ '@odata.type': '#microsoft.graph.teamsAdministration.policyIdentifierDetail', name: name === 'Global' ? 'Global' : `Tag:${name}`, policyId: policyIdOf(type, name) }],
    },
  };
}

export function registerTeamsAdminRoutes(router: Router): void {
  router.add(...routes());
}

/** Test and seed helper: the policy id of a built-in policy instance. */
export const builtInPolicyId = policyIdOf;
