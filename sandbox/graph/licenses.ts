// subscribedSkus, POST /users/{id}/assignLicense, /users/{id}/licenseDetails, and the assignedPlans
// a user's licences give. Licence assignment with an Exchange plan provisions the mailbox address.
import { badRequest } from '../errors.ts';
import { P } from '../permissions.ts';
import type { Ctx, Router } from '../runtime.ts';
import { SKU_BY_ID } from '../skus.ts';
import { hasMailboxPlan } from '../licensing.ts';
import type { AssignedLicense, TenantStore, User } from '../store.ts';
import { bodyObject, collection, odataContext, requireUser } from './common.ts';
import { defaultUserView } from './views.ts';
import type { TypeInfo } from '../odata.ts';

function guidBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

function licenseDetails(user: User, lic: AssignedLicense): Record<string, unknown> {
  const sku = SKU_BY_ID.get(lic.skuId);
  return {
    id: Buffer.concat([guidBytes(user.id), guidBytes(lic.skuId)]).toString('base64url'),
    skuId: lic.skuId,
    skuPartNumber: sku?.skuPartNumber ?? null,
    servicePlans: (sku?.servicePlans ?? []).map((p) => ({
      servicePlanId: p.servicePlanId,
      servicePlanName: p.servicePlanName,
      provisioningStatus: lic.disabledPlans.includes(p.servicePlanId) ? 'Disabled' : 'Success',
      appliesTo: p.appliesTo,
    })),
  };
}

export function subscribedSkuView(store: TenantStore, skuId: string): Record<string, unknown> {
  const s = store.skus.get(skuId)!;
  const def = SKU_BY_ID.get(skuId)!;
  return {
    accountName: store.info.initialDomain.split('.')[0],
    accountId: store.info.id,
    appliesTo: 'User',
    capabilityStatus: s.capabilityStatus,
    consumedUnits: store.consumedUnits(skuId),
    id: `${store.info.id}_${skuId}`,
    prepaidUnits: { enabled: s.prepaidEnabled, suspended: s.prepaidSuspended, warning: s.prepaidWarning, lockedOut: 0 },
    servicePlans: def.servicePlans.map((p) => ({ servicePlanId: p.servicePlanId, servicePlanName: p.servicePlanName, provisioningStatus: 'Success', appliesTo: p.appliesTo })),
    skuId,
    skuPartNumber: def.skuPartNumber,
    subscriptionIds: [`${skuId.slice(0, 8)}-0000-4000-8000-${store.info.id.slice(-12)}`],
  };
}

const SKU_TYPE: TypeInfo = {
  name: 'microsoft.graph.subscribedSku',
  properties: new Set(['accountName', 'accountId', 'appliesTo', 'capabilityStatus', 'consumedUnits', 'id', 'prepaidUnits', 'servicePlans', 'skuId', 'skuPartNumber', 'subscriptionIds']),
};

const LICENSE_DETAILS_TYPE: TypeInfo = { name: 'microsoft.graph.licenseDetails', properties: new Set(['id', 'skuId', 'skuPartNumber', 'servicePlans']) };

function isGuidLike(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
}

/** Applies an assignLicense body to a user; throws Graph's errors without changing anything on failure. */
export function applyLicenseChange(ctx: Ctx, user: User, body: Record<string, unknown>): void {
  const add = body['addLicenses'];
  const remove = body['removeLicenses'];
  if (!Array.isArray(add)) throw badRequest("A value is required for property 'addLicenses' of resource 'User'.");
  if (!Array.isArray(remove)) throw badRequest("A value is required for property 'removeLicenses' of resource 'User'.");
  const next = new Map(user.assignedLicenses.map((l) => [l.skuId, l]));
  for (const skuId of remove) {
    if (!isGuidLike(skuId)) throw badRequest("Invalid value specified for property 'removeLicenses' of resource 'User'.");
    if (!next.has(skuId.toLowerCase())) throw badRequest('User does not have a corresponding license.');
    next.delete(skuId.toLowerCase());
  }
  for (const raw of add) {
    const item = (raw ?? {}) as Record<string, unknown>;
    if (!isGuidLike(item['skuId'])) throw badRequest("Invalid value specified for property 'skuId' of resource 'AssignedLicense'.");
    const skuId = item['skuId'].toLowerCase();
    const sub = ctx.store.skus.get(skuId);
    const def = SKU_BY_ID.get(skuId);
    if (!sub || !def) throw badRequest(`License ${skuId} does not correspond to a valid company License.`);
    const disabled = Array.isArray(item['disabledPlans']) ? (item['disabledPlans'] as unknown[]).map((d) => String(d).toLowerCase()) : [];
    for (const d of disabled) {
      if (!def.servicePlans.some((p) => p.servicePlanId === d)) throw badRequest(`The service plan ${d} is not part of the license ${skuId}.`);
    }
    if (!user.assignedLicenses.some((l) => l.skuId === skuId)) {
      if (!user.usageLocation) throw badRequest('License assignment cannot be done for user with invalid usage location.');
      if (ctx.store.consumedUnits(skuId) >= sub.prepaidEnabled + sub.prepaidWarning) {
        throw badRequest(`Subscription with SKU ${skuId} does not have any available licenses.`);
      }
    }
    next.set(skuId, { skuId, disabledPlans: disabled });
  }
  const before = { ...user, assignedLicenses: user.assignedLicenses };
  user.assignedLicenses = [...next.values()];
  // Exchange provisions a mailbox for a licensed user: mail and the primary SMTP address appear.
  if (!user.mail && hasMailboxPlan(user)) {
    user.mail = user.userPrincipalName;
    user.proxyAddresses = [`SMTP:${user.userPrincipalName}`, ...user.proxyAddresses.filter((p) => p.toLowerCase() !== `smtp:${user.userPrincipalName.toLowerCase()}`)];
  }
  ctx.store.updateUser(user, before);
}

export function registerLicenseRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/subscribedSkus',
      permissions: P.licenseRead,
      handler: (ctx) => collection(ctx, ctx.store.skus.values(), SKU_TYPE, (s) => subscribedSkuView(ctx.store, s.skuId), 'subscribedSkus'),
    },
    {
      method: 'GET',
      path: '/subscribedSkus/:id',
      permissions: P.licenseRead,
      handler: (ctx) => {
        const skuId = ctx.params['id']!.split('_').pop()!.toLowerCase();
        if (!ctx.store.skus.has(skuId)) throw badRequest(`Invalid subscribedSku id '${ctx.params['id']}'.`);
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'subscribedSkus/$entity'), ...subscribedSkuView(ctx.store, skuId) } };
      },
    },
    {
      method: 'POST',
      path: '/users/:id/assignLicense',
      permissions: P.license,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        applyLicenseChange(ctx, user, bodyObject(ctx));
        ctx.mutated('user.assignLicense', user.id);
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'users/$entity'), ...defaultUserView(ctx.store, user) } };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/licenseDetails',
      permissions: ['LicenseAssignment.Read.All', ...P.userRead],
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        return collection(ctx, user.assignedLicenses, LICENSE_DETAILS_TYPE, (l) => licenseDetails(user, l), `users('${user.id}')/licenseDetails`);
      },
    },
  );
}
