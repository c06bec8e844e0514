// Handlers of the read actions (catalog/actions/reads.ts). They change nothing.
import * as c from '../../catalog/actions/reads.ts';
import { implement } from '../activity.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { getGroup, getUser, groupSummaryOf, listAll, odataString, orNotFound, subscribedSkus, type GraphGroup } from './shared.ts';

const SUMMARY = 'id,userPrincipalName,displayName,mail,accountEnabled,userType,jobTitle,department';
const DETAIL = `${SUMMARY},givenName,surname,companyName,officeLocation,city,country,usageLocation,mobilePhone,employeeId,createdDateTime,onPremisesSyncEnabled,passwordPolicies`;

export const userGet = implement(c.userGet, async (input, { graph }) => {
  if (input.failIfMissing) return { found: true, user: await getUser(graph, input.user, DETAIL) };
  const user = await orNotFound(graph.api(`/users/${encodeURIComponent(input.user)}`).select(DETAIL).get());
  return { found: !!user, user: user ?? null };
});

export const userFind = implement(c.userFind, async (input, { graph }) => {
  const clauses: string[] = [];
  for (const key of ['department', 'jobTitle', 'city', 'country', 'userType'] as const) {
    const v = input[key];
    if (v !== undefined) clauses.push(`${key} eq ${odataString(v)}`);
  }
  if (input.accountEnabled !== undefined) clauses.push(`accountEnabled eq ${input.accountEnabled}`);
  if (input.filter) clauses.push(`(${input.filter})`);
  try {
    const { items, truncated } = await listAll<Record<string, unknown>>(graph, '/users', {
      filter: clauses.join(' and ') || undefined,
      select: SUMMARY,
      max: input.max,
      // Filters on department, jobTitle, ... are "advanced queries" in Entra.
      eventual: clauses.length > 0,
    });
    return { users: items as never, count: items.length, truncated };
  } catch (err) {
    if (statusOf(err) === 400)
      throw new ActionError(`the user filter was refused: ${(err as Error).message}`, {
        code: 'InvalidFilter',
        hint: 'check the OData syntax, e.g. department eq \'Sales\' and startswith(displayName,\'A\')',
        status: 400,
      });
    throw err;
  }
});

export const userListGroups = implement(c.userListGroups, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const { items } = await listAll<GraphGroup & { '@odata.type'?: string }>(graph, `/users/${user.id}/${input.transitive ? 'transitiveMemberOf' : 'memberOf'}`);
  const groups = items.filter((o) => o['@odata.type'] === '#microsoft.graph.group').map(groupSummaryOf);
  return { userId: user.id, groups, count: groups.length };
});

export const groupListMembers = implement(c.groupListMembers, async (input, { graph }) => {
  const g = await getGroup(graph, input.group);
  const { items } = await listAll<{ id: string; '@odata.type'?: string; displayName?: string; userPrincipalName?: string; mail?: string }>(
    graph,
    `/groups/${g.id}/${input.transitive ? 'transitiveMembers' : 'members'}`,
  );
  const members = items
    .map((m) => ({
      id: m.id,
      type: (m['@odata.type'] ?? '#microsoft.graph.directoryObject').replace('#microsoft.graph.', ''),
      displayName: m.displayName ?? null,
      userPrincipalName: m.userPrincipalName ?? null,
      mail: m.mail ?? null,
    }))
    .filter((m) => !input.usersOnly || m.type === 'user');
  return { groupId: g.id, members, count: members.length };
});

export const userGetLicences = implement(c.userGetLicences, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const details = (
    (await graph.api(`/users/${user.id}/licenseDetails`).get()) as {
      value: { skuId: string; skuPartNumber: string | null; servicePlans: { servicePlanName: string; provisioningStatus: string }[] }[];
    }
  ).value;
  // licenseDetails may lack the part number for retired SKUs; subscribedSkus knows it when the tenant still has them.
  const skus = details.some((d) => !d.skuPartNumber) ? await subscribedSkus(graph) : [];
  const licences = details.map((d) => ({
    skuId: d.skuId,
    skuPartNumber: d.skuPartNumber ?? skus.find((s) => s.skuId === d.skuId)?.skuPartNumber ?? d.skuId,
    disabledPlans: d.servicePlans.filter((p) => p.provisioningStatus === 'Disabled').map((p) => p.servicePlanName),
    enabledPlans: d.servicePlans.filter((p) => p.provisioningStatus !== 'Disabled').map((p) => p.servicePlanName),
  }));
  return { userId: user.id, licences, skuPartNumbers: licences.map((l) => l.skuPartNumber) };
});

export const userGetManager = implement(c.userGetManager, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const manager = await orNotFound(graph.api(`/users/${user.id}/manager`).select(SUMMARY).get());
  return { userId: user.id, found: !!manager, manager: manager ?? null };
});
