import { licenceAssign } from '../../catalog/actions/licence.assign.ts';
import { implement } from '../activity.ts';
import { ActionError } from '../errors.ts';
import { getUser, GUID } from '../graph.ts';

interface SubscribedSku {
  skuId: string;
  skuPartNumber: string;
  prepaidUnits: { enabled: number };
  consumedUnits: number;
  servicePlans: { servicePlanId: string; servicePlanName: string }[];
}

export default implement(licenceAssign, async (input, { graph }) => {
  const user = await getUser(graph, input.user, 'id,userPrincipalName,assignedLicenses,usageLocation');
  const skus = ((await graph.api('/subscribedSkus').get()) as { value: SubscribedSku[] }).value;
  const wanted = input.licences.map((ref) => {
    const sku = skus.find((s) => (GUID.test(ref) ? s.skuId === ref.toLowerCase() : s.skuPartNumber.toLowerCase() === ref.toLowerCase()));
    if (!sku)
      throw new ActionError(`licence ${ref} is not subscribed in this tenant`, {
        code: 'LicenceNotFound',
        hint: `subscribed licences: ${skus.map((s) => s.skuPartNumber).join(', ')}`,
      });
    return sku;
  });
  const has = new Set((user.assignedLicenses ?? []).map((l) => l.skuId));
  const toAssign = wanted.filter((s) => !has.has(s.skuId));
  const already = wanted.filter((s) => has.has(s.skuId)).map((s) => s.skuPartNumber);
  if (toAssign.length === 0) return { userId: user.id, assigned: [], alreadyAssigned: already };

  if (!user.usageLocation)
    throw new ActionError(`user ${user.userPrincipalName} has no usage location, so no licence can be assigned`, {
      code: 'UsageLocationMissing',
      hint: 'set the user\'s usage location (a two-letter country code) first',
    });
  for (const s of toAssign) {
    if (s.prepaidUnits.enabled - s.consumedUnits <= 0)
      throw new ActionError(`no ${s.skuPartNumber} licence is free (${s.consumedUnits} of ${s.prepaidUnits.enabled} in use)`, {
        code: 'LicenceUnavailable',
        hint: 'buy more seats or free one up, then retry the step',
      });
  }
  const addLicenses = toAssign.map((s) => ({
    skuId: s.skuId,
    disabledPlans: input.disabledPlans.flatMap((p) => {
      const plan = s.servicePlans.find((sp) => sp.servicePlanId === p || sp.servicePlanName.toLowerCase() === p.toLowerCase());
      return plan ? [plan.servicePlanId] : [];
    }),
  }));
  await graph.api(`/users/${user.id}/assignLicense`).post({ addLicenses, removeLicenses: [] });
  return { userId: user.id, assigned: toAssign.map((s) => s.skuPartNumber), alreadyAssigned: already };
});
