// What a user's licences entitle them to: enabled service plans, assignedPlans, mailbox.
import { EXCHANGE_PLAN_IDS, SKU_BY_ID, type ServicePlanDef } from './skus.ts';
import type { User } from './store.ts';

const SERVICE_OF_PLAN: [RegExp, string][] = [
  [/^EXCHANGE/, 'exchange'],
  [/^SHAREPOINT/, 'SharePoint'],
  [/^TEAMS/, 'TeamspaceAPI'],
  [/^MCO/, 'MicrosoftCommunicationsOnline'],
  [/^OFFICESUBSCRIPTION/, 'MicrosoftOffice'],
  [/^INTUNE/, 'SCO'],
  [/^AAD_PREMIUM/, 'AADPremiumService'],
  [/^MFA/, 'MultiFactorService'],
  [/^RMS/, 'RMSOnline'],
  [/^YAMMER/, 'YammerEnterprise'],
  [/^(FLOW|POWERAPPS)/, 'ProcessSimple'],
  [/^BI_/, 'PowerBI'],
];

function serviceOf(plan: ServicePlanDef): string {
  return SERVICE_OF_PLAN.find(([re]) => re.test(plan.servicePlanName))?.[1] ?? plan.servicePlanName;
}

/** Plans a user is entitled to, disabled ones excluded. */
export function enabledPlanIds(user: User): Set<string> {
  const out = new Set<string>();
  for (const lic of user.assignedLicenses) {
    for (const plan of SKU_BY_ID.get(lic.skuId)?.servicePlans ?? []) if (!lic.disabledPlans.includes(plan.servicePlanId)) out.add(plan.servicePlanId);
  }
  return out;
}

export function hasMailboxPlan(user: User): boolean {
  for (const id of enabledPlanIds(user)) if (EXCHANGE_PLAN_IDS.has(id)) return true;
  return false;
}

export function assignedPlans(user: User): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const lic of user.assignedLicenses) {
    for (const plan of SKU_BY_ID.get(lic.skuId)?.servicePlans ?? []) {
      out.push({
        assignedDateTime: user.createdDateTime,
        capabilityStatus: lic.disabledPlans.includes(plan.servicePlanId) ? 'Deleted' : 'Enabled',
        service: serviceOf(plan),
        servicePlanId: plan.servicePlanId,
      });
    }
  }
  return out;
}

