// Entra ID activity logs: /auditLogs/signIns (a week of sign-ins per seeded user, derived from the
// user's id: office IP and country, some failed passwords, and a foreign, risky trail for the few
// users whose mailbox also has a suspicious forwarding rule) and /auditLogs/directoryAudits (what
// the sandbox really did, see audit.ts). Both need an Entra ID P1 subscription in the tenant.
import { GraphError } from '../errors.ts';
import { directoryAudits, type DirectoryAudit } from '../audit.ts';
import { idByte, isoSeconds, maskGuid, pinnedUserRef, rngFor } from '../derive.ts';
import { OFFICES } from '../names.ts';
import type { TypeInfo } from '../odata.ts';
import { PLANS, SKU_BY_ID } from '../skus.ts';
import type { Ctx, Router } from '../runtime.ts';
import type { TenantStore, User } from '../store.ts';
import { collection } from './common.ts';

const READ = ['AuditLog.Read.All'];

const APPS = [
  { appId: '00000002-0000-0ff1-ce00-000000000000', appDisplayName: 'Office 365 Exchange Online', resource: 'Office 365 Exchange Online' },
  { appId: '1fec8e78-bce4-4aaf-ab1b-5451cc387264', appDisplayName: 'Microsoft Teams', resource: 'Microsoft Teams Services' },
  { appId: '4765445b-32c6-49b0-83e6-1d93765276ca', appDisplayName: 'OfficeHome', resource: 'Office 365 SharePoint Online' },
  { appId: 'd3590ed6-52b3-4102-aeff-aad2292ab01c', appDisplayName: 'Microsoft Office', resource: 'Microsoft Graph' },
] as const;

const OFFICE_IP: Record<string, string> = { Seattle: '203.0.113', 'New York': '203.0.113', London: '198.51.100', Berlin: '198.51.100', Paris: '198.51.100', Singapore: '203.0.113' };
const FOREIGN = [
  { city: 'Lagos', state: 'Lagos', countryOrRegion: 'NG', ip: '102.89.34', latitude: 6.45, longitude: 3.39 },
  { city: 'Moscow', state: 'Moscow', countryOrRegion: 'RU', ip: '95.165.12', latitude: 55.75, longitude: 37.61 },
];

const SIGN_IN_MASK = '51515151515105150515151515151515';
const DAY = 86_400_000;

/** Users whose seeded trail looks like a compromised account (same roll as the forwarding inbox rule). */
export const looksCompromised = (user: User): boolean => user._password === null && idByte(user.id, 5) < 5;

function signInsOf(user: User, nowMs: number): Record<string, unknown>[] {
  if (user._password !== null || user.userType !== 'Member') return [];
  const rng = rngFor(user.id, 7);
  const office = OFFICES.find((o) => o.officeLocation === user.officeLocation) ?? OFFICES[0]!;
  const anchor = Math.floor(nowMs / DAY) * DAY;
  const count = 2 + rng.int(6);
  const out: Record<string, unknown>[] = [];
  const compromised = looksCompromised(user);
  const total = count + (compromised ? 6 : 0);
  for (let i = 0; i < total; i++) {
    const at = anchor - (i * 7 * DAY) / total - rng.int(3_600_000);
    const app = APPS[rng.int(APPS.length)]!;
    const suspicious = compromised && i < 6;
    const place = suspicious ? FOREIGN[i % 2]! : { city: office.city, state: office.state, countryOrRegion: office.usageLocation, ip: OFFICE_IP[office.officeLocation] ?? '203.0.113', latitude: 47.6, longitude: -122.3 };
    let errorCode = 0;
    let failureReason = 'Other.';
    if (!user.accountEnabled && i < 2) [errorCode, failureReason] = [50057, 'User account is disabled. The account has been disabled by an administrator.'];
    else if (suspicious ? i % 3 !== 2 : rng.chance(0.08)) [errorCode, failureReason] = [50126, 'Error validating credentials due to invalid username or password.'];
    out.push({
      id: maskGuid(user.id, SIGN_IN_MASK).slice(0, 24) + i.toString(16).padStart(12, '0'),
      createdDateTime: isoSeconds(at),
      userDisplayName: user.displayName,
      userPrincipalName: user.userPrincipalName,
      userId: user.id,
      appId: app.appId,
      appDisplayName: app.appDisplayName,
      ipAddress: `${place.ip}.${10 + rng.int(200)}`,
      clientAppUsed: 'Browser',
      correlationId: maskGuid(user.id, i.toString(16).padStart(2, '0') + 'a0'.repeat(15)),
      conditionalAccessStatus: errorCode ? 'notApplied' : 'success',
      isInteractive: true,
      riskDetail: 'none',
      riskLevelAggregated: suspicious ? 'medium' : 'none',
      riskLevelDuringSignIn: suspicious ? 'medium' : 'none',
      riskState: suspicious ? 'atRisk' : 'none',
      riskEventTypes_v2: suspicious ? ['unfamiliarFeatures'] : [],
      resourceDisplayName: app.resource,
      resourceId: '00000003-0000-0000-c000-000000000000',
      status: { errorCode, failureReason: errorCode ? failureReason : 'Other.', additionalDetails: errorCode ? null : 'MFA requirement satisfied by claim in the token' },
      deviceDetail: { deviceId: '', displayName: '', operatingSystem: suspicious ? 'Linux' : 'Windows10', browser: suspicious ? 'Firefox 126.0' : 'Edge 124.0.0', isCompliant: !suspicious, isManaged: !suspicious, trustType: suspicious ? '' : 'Azure AD joined' },
      location: { city: place.city, state: place.state, countryOrRegion: place.countryOrRegion, geoCoordinates: { altitude: null, latitude: place.latitude, longitude: place.longitude } },
      appliedConditionalAccessPolicies: [],
    });
  }
  return out;
}

const SIGN_IN_TYPE: TypeInfo = {
  name: 'microsoft.graph.signIn',
  properties: new Set([
    'id', 'createdDateTime', 'userDisplayName', 'userPrincipalName', 'userId', 'appId', 'appDisplayName', 'ipAddress', 'clientAppUsed', 'correlationId',
    'conditionalAccessStatus', 'isInteractive', 'riskDetail', 'riskLevelAggregated', 'riskLevelDuringSignIn', 'riskState', 'riskEventTypes_v2',
    'resourceDisplayName', 'resourceId', 'status', 'deviceDetail', 'location', 'appliedConditionalAccessPolicies',
  ]),
  maxTop: 1000,
};

const AUDIT_TYPE: TypeInfo = {
  name: 'microsoft.graph.directoryAudit',
  properties: new Set(['id', 'category', 'correlationId', 'result', 'resultReason', 'activityDisplayName', 'activityDateTime', 'loggedByService', 'operationType', 'initiatedBy', 'targetResources', 'additionalDetails']),
  maxTop: 1000,
};

const AAD_PREMIUM_PLANS = new Set([PLANS.AAD_PREMIUM.servicePlanId, PLANS.AAD_PREMIUM_P2.servicePlanId]);

/** Sign-in and audit reports need Entra ID P1 or P2 in the tenant, as on the real service. */
function requirePremium(store: TenantStore): void {
  for (const sku of store.skus.values()) {
    if (sku.prepaidEnabled > 0 && SKU_BY_ID.get(sku.skuId)?.servicePlans.some((p) => AAD_PREMIUM_PLANS.has(p.servicePlanId))) return;
  }
  throw new GraphError(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', 'Neither tenant is B2C or tenant doesn\'t have premium license');
}

function* allSignIns(ctx: Ctx): Generator<Record<string, unknown>> {
  const pinned = pinnedUserRef(ctx.query.get('$filter') ?? ctx.query.get('filter'), ['userId', 'userPrincipalName']);
  if (pinned) {
    const user = ctx.store.findUser(pinned);
    if (user) yield* signInsOf(user, ctx.nowMs);
    return;
  }
  for (const user of ctx.store.users.values()) yield* signInsOf(user, ctx.nowMs);
}

function* newestFirst(list: DirectoryAudit[]): Generator<DirectoryAudit> {
  for (let i = list.length - 1; i >= 0; i--) yield list[i]!;
}

export function registerAuditLogRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/auditLogs/signIns',
      permissions: READ,
      handler: (ctx) => {
        requirePremium(ctx.store);
        return collection(ctx, allSignIns(ctx), SIGN_IN_TYPE, (s) => s, 'auditLogs/signIns');
      },
    },
    {
      method: 'GET',
      path: '/auditLogs/signIns/:id',
      permissions: READ,
      handler: (ctx) => {
        requirePremium(ctx.store);
        const id = ctx.params['id']!.toLowerCase();
        for (const s of allSignIns(ctx)) if (s['id'] === id) return { status: 200, body: { '@odata.context': `${ctx.serviceRoot}/$metadata#auditLogs/signIns/$entity`, ...s } };
        throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist.`);
      },
    },
    {
      method: 'GET',
      path: '/auditLogs/directoryAudits',
      permissions: READ,
      handler: (ctx) => {
        requirePremium(ctx.store);
        return collection(ctx, newestFirst(directoryAudits(ctx.store)), AUDIT_TYPE, (a) => ({ ...a }), 'auditLogs/directoryAudits');
      },
    },
    {
      method: 'GET',
      path: '/auditLogs/directoryAudits/:id',
      permissions: READ,
      handler: (ctx) => {
        requirePremium(ctx.store);
        const a = directoryAudits(ctx.store).find((x) => x.id === ctx.params['id']);
        if (!a) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${ctx.params['id']}' does not exist.`);
        return { status: 200, body: { '@odata.context': `${ctx.serviceRoot}/$metadata#auditLogs/directoryAudits/$entity`, ...a } };
      },
    },
  );
}
