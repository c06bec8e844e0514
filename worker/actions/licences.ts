// Handlers of the licence actions (catalog/actions/licences.ts).
import * as c from '../../catalog/actions/licences.ts';
import type { Change } from '../../catalog/contract.ts';
import { implement } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import { change, isKnownAfterRun, userLabel, userObject, userOrLater } from './changes.ts';
import { ActionError } from '../../m365/errors.ts';
import { assignLicences, findSku, getUser, planIds, planNames, requireFreeSeats, requireSeats, subscribedSkus, type SubscribedSku } from './shared.ts';

const LICENSED = 'id,userPrincipalName,assignedLicenses,usageLocation';

export const licenceAssign = implement(c.licenceAssign, async (input, { graph }) => {
  const user = await getUser(graph, input.user, LICENSED);
  const skus = await subscribedSkus(graph);
  const wanted = input.licences.map((ref) => {
    const sku = findSku(skus, ref);
    const known = new Set(sku.servicePlans.flatMap((p) => [p.servicePlanId, p.servicePlanName.toLowerCase()]));
    return { sku, disabledPlans: planIds(sku, input.disabledPlans.filter((p) => known.has(p.toLowerCase()))) };
  });
  const { assigned, already } = await assignLicences(graph, user, wanted);
  return { userId: user.id, assigned, alreadyAssigned: already };
}, { plan: planLicenceAssign, acceptsUnknown: ['user'] });

async function removeLicences(graph: Parameters<typeof subscribedSkus>[0], userId: string, skus: SubscribedSku[]): Promise<void> {
  if (skus.length) await graph.api(`/users/${userId}/assignLicense`).post({ addLicenses: [], removeLicenses: skus.map((s) => s.skuId) });
}

export const licenceUnassign = implement(c.licenceUnassign, async (input, { graph, attempt, warn }) => {
  const user = await getUser(graph, input.user, LICENSED);
  const skus = await subscribedSkus(graph);
  const has = new Set((user.assignedLicenses ?? []).map((l) => l.skuId));
  const wanted = input.licences.map((ref) => findSku(skus, ref));
  const toRemove = wanted.filter((s) => has.has(s.skuId));
  await removeLicences(graph, user.id, toRemove);
  const notAssigned = wanted.filter((s) => !has.has(s.skuId)).map((s) => s.skuPartNumber);
  // On a retry the licence may be missing because the first attempt removed it: no warning then.
  if (notAssigned.length && attempt === 1) warn(`no licence to remove: ${user.userPrincipalName} did not have ${notAssigned.join(', ')}`);
  return { userId: user.id, removed: toRemove.map((s) => s.skuPartNumber), notAssigned };
}, planLicenceUnassign);

export const licenceRemoveAll = implement(c.licenceRemoveAll, async (input, { graph, attempt, warn }) => {
  const user = await getUser(graph, input.user, LICENSED);
  const skus = await subscribedSkus(graph);
  const toRemove = (user.assignedLicenses ?? []).map((l) => skus.find((s) => s.skuId === l.skuId) ?? { skuId: l.skuId, skuPartNumber: l.skuId } as SubscribedSku);
  if (!toRemove.length && attempt === 1) warn(`no licence to remove: ${user.userPrincipalName} had no directly assigned licence`);
  await removeLicences(graph, user.id, toRemove);
  return { userId: user.id, removed: toRemove.map((s) => s.skuPartNumber) };
}, planLicenceRemoveAll);

export const licenceSetServicePlans = implement(c.licenceSetServicePlans, async (input, { graph }) => {
  const user = await getUser(graph, input.user, LICENSED);
  const sku = findSku(await subscribedSkus(graph), input.licence);
  const assigned = user.assignedLicenses?.find((l) => l.skuId === sku.skuId);
  if (!assigned)
    throw new ActionError(`${user.userPrincipalName} does not have the licence ${sku.skuPartNumber}`, { code: 'LicenceNotAssigned', hint: 'assign the licence first' });
  const enable = new Set(planIds(sku, input.enable));
  const disable = planIds(sku, input.disable);
  const overlap = disable.filter((p) => enable.has(p) && !input.enable.includes('*') && !input.disable.includes('*'));
  if (overlap.length) throw new ActionError(`service plans ${planNames(sku, overlap).join(', ')} are both enabled and disabled`, { code: 'InvalidInput' });
  const next = new Set(assigned.disabledPlans);
  for (const p of enable) next.delete(p);
  for (const p of disable) next.add(p);
  const disabledPlans = [...next].sort();
  const changed = JSON.stringify(disabledPlans) !== JSON.stringify([...assigned.disabledPlans].sort());
  if (changed) await graph.api(`/users/${user.id}/assignLicense`).post({ addLicenses: [{ skuId: sku.skuId, disabledPlans }], removeLicenses: [] });
  return { userId: user.id, licence: sku.skuPartNumber, disabledPlans: planNames(sku, disabledPlans), changed };
}, planLicenceSetServicePlans);

export const licenceGetAvailable = implement(c.licenceGetAvailable, async (input, { graph }) => {
  const skus = await subscribedSkus(graph);
  const chosen = input.licences.length ? input.licences.map((ref) => findSku(skus, ref)) : skus;
  const licences = chosen.map((s) => ({
    skuId: s.skuId,
    skuPartNumber: s.skuPartNumber,
    enabled: s.prepaidUnits.enabled,
    consumed: s.consumedUnits,
    available: Math.max(0, s.prepaidUnits.enabled - s.consumedUnits),
  }));
  return { licences, available: licences.reduce((n, l) => n + l.available, 0) };
});

// ---- plans ----

const freeNote = (s: SubscribedSku) => `${Math.max(0, s.prepaidUnits.enabled - s.consumedUnits)} of ${s.prepaidUnits.enabled} free`;

/** Rows for licences that go away, with the service plans that were switched off in them (so an undo can put them back). */
function removals(object: string, userId: string, skus: SubscribedSku[], assigned: { skuId: string; disabledPlans: string[] }[]): Change[] {
  return skus.flatMap((s) => {
    const disabled = assigned.find((l) => l.skuId === s.skuId)?.disabledPlans ?? [];
    return [
      change(object, `licence ${s.skuPartNumber}`, true, false, { objectId: userId }),
      ...(disabled.length ? [change(object, `licence ${s.skuPartNumber} disabled plans`, planNames(s, disabled), null, { objectId: userId })] : []),
    ];
  });
}

async function planLicenceAssign(input: InputOf<typeof c.licenceAssign>, { graph }: PlanContext): Promise<Change[]> {
  const skus = await subscribedSkus(graph);
  const wanted = input.licences.map((ref) => findSku(skus, ref));
  const user = await userOrLater(graph, input.user, LICENSED);
  if (isKnownAfterRun(user)) {
    requireFreeSeats(wanted);
    return wanted.map((s) => change(userLabel(user), `licence ${s.skuPartNumber}`, user, true, { note: freeNote(s) }));
  }
  const has = new Set((user.assignedLicenses ?? []).map((l) => l.skuId));
  const toAssign = wanted.filter((s) => !has.has(s.skuId));
  requireSeats(user.userPrincipalName, user['usageLocation'] as string | null, toAssign);
  return toAssign.map((s) => change(userObject(user), `licence ${s.skuPartNumber}`, false, true, { objectId: user.id, note: freeNote(s) }));
}

async function planLicenceUnassign(input: InputOf<typeof c.licenceUnassign>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user, LICENSED);
  const skus = await subscribedSkus(graph);
  const has = new Set((user.assignedLicenses ?? []).map((l) => l.skuId));
  const toRemove = input.licences.map((ref) => findSku(skus, ref)).filter((s) => has.has(s.skuId));
  return removals(userObject(user), user.id, toRemove, user.assignedLicenses ?? []);
}

async function planLicenceRemoveAll(input: InputOf<typeof c.licenceRemoveAll>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user, LICENSED);
  const skus = await subscribedSkus(graph);
  const toRemove = (user.assignedLicenses ?? []).map((l) => skus.find((s) => s.skuId === l.skuId) ?? ({ skuId: l.skuId, skuPartNumber: l.skuId, servicePlans: [] } as unknown as SubscribedSku));
  return removals(userObject(user), user.id, toRemove, user.assignedLicenses ?? []);
}

async function planLicenceSetServicePlans(input: InputOf<typeof c.licenceSetServicePlans>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user, LICENSED);
  const sku = findSku(await subscribedSkus(graph), input.licence);
  const assigned = user.assignedLicenses?.find((l) => l.skuId === sku.skuId);
  if (!assigned) throw new ActionError(`${user.userPrincipalName} does not have the licence ${sku.skuPartNumber}`, { code: 'LicenceNotAssigned', hint: 'assign the licence first' });
  const next = new Set(assigned.disabledPlans);
  for (const p of planIds(sku, input.enable)) next.delete(p);
  for (const p of planIds(sku, input.disable)) next.add(p);
  const before = planNames(sku, [...assigned.disabledPlans].sort());
  const after = planNames(sku, [...next].sort());
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [change(userObject(user), `licence ${sku.skuPartNumber} disabled plans`, before, after, { objectId: user.id })];
}
