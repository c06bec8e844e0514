// Handlers of the directory actions (catalog/actions/directory.ts): role assignments, named locations.
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/directory.ts';
import type { Change } from '../../catalog/contract.ts';
import { implement } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import { change, creation, propertyChanges, userObject } from './changes.ts';
import { ActionError } from '../../m365/errors.ts';
import { getUser, GUID, odataString, orNotFound, unless404 } from './shared.ts';

interface RoleDefinition {
  id: string;
  displayName: string;
  templateId?: string;
}

async function findRole(graph: Client, ref: string): Promise<RoleDefinition> {
  const base = '/roleManagement/directory/roleDefinitions';
  const role = GUID.test(ref)
    ? await orNotFound(graph.api(`${base}/${ref}`).select('id,displayName,templateId').get() as Promise<RoleDefinition>)
    : ((await graph.api(base).filter(`displayName eq ${odataString(ref)}`).select('id,displayName,templateId').get()) as { value: RoleDefinition[] }).value[0];
  if (!role)
    throw new ActionError(`directory role "${ref}" does not exist`, {
      code: 'Request_ResourceNotFound',
      hint: 'use the role\'s display name as the Entra admin center shows it (e.g. Helpdesk Administrator) or its template id',
      status: 404,
    });
  return role;
}

async function tenantWideAssignment(graph: Client, userId: string, roleId: string): Promise<{ id: string } | undefined> {
  const res = (await graph
    .api('/roleManagement/directory/roleAssignments')
    .filter(`principalId eq ${odataString(userId)} and roleDefinitionId eq ${odataString(roleId)}`)
    .get()) as { value: { id: string; directoryScopeId?: string }[] };
  return res.value.find((a) => (a.directoryScopeId ?? '/') === '/');
}

export const directoryAssignRole = implement(c.directoryAssignRole, async (input, { graph }) => {
  const [user, role] = [await getUser(graph, input.user), await findRole(graph, input.role)];
  const existing = await tenantWideAssignment(graph, user.id, role.id);
  const assignment =
    existing ??
    ((await graph.api('/roleManagement/directory/roleAssignments').post({
      '@odata.type': '#microsoft.graph.unifiedRoleAssignment',
      principalId: user.id,
      roleDefinitionId: role.id,
      directoryScopeId: '/',
    })) as { id: string });
  return { userId: user.id, roleDefinitionId: role.id, role: role.displayName, assignmentId: assignment.id, assigned: !existing };
}, planDirectoryAssignRole);

export const directoryRemoveRole = implement(c.directoryRemoveRole, async (input, { graph }) => {
  const [user, role] = [await getUser(graph, input.user), await findRole(graph, input.role)];
  const existing = await tenantWideAssignment(graph, user.id, role.id);
  const removed = existing ? await unless404(graph.api(`/roleManagement/directory/roleAssignments/${existing.id}`).delete()) : false;
  return { userId: user.id, roleDefinitionId: role.id, removed };
}, planDirectoryRemoveRole);

interface NamedLocation {
  id: string;
  displayName: string;
  isTrusted?: boolean;
  ipRanges?: { cidrAddress: string }[];
}

const LOCATIONS = '/identity/conditionalAccess/namedLocations';

const rangeBody = (cidrs: string[]) =>
  cidrs.map((cidrAddress) => ({ '@odata.type': cidrAddress.includes(':') ? '#microsoft.graph.iPv6CidrRange' : '#microsoft.graph.iPv4CidrRange', cidrAddress }));

const locationView = (l: NamedLocation) => ({
  id: l.id,
  displayName: l.displayName,
  ipRanges: (l.ipRanges ?? []).map((r) => r.cidrAddress),
  isTrusted: l.isTrusted ?? false,
});

const sameRanges = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

async function findLocation(graph: Client, ref: string): Promise<NamedLocation | undefined> {
  if (GUID.test(ref)) return orNotFound(graph.api(`${LOCATIONS}/${ref}`).get() as Promise<NamedLocation>);
  const res = (await graph.api(LOCATIONS).filter(`displayName eq ${odataString(ref)}`).get()) as { value: NamedLocation[] };
  return res.value[0];
}

/** The ranges after an update: replaced, extended or cut; never none. */
function nextRanges(current: string[], input: { ipRanges?: string[]; rangesMode: 'replace' | 'add' | 'remove' }): string[] {
  if (!input.ipRanges) return current;
  const ranges =
    input.rangesMode === 'replace' ? input.ipRanges : input.rangesMode === 'add' ? [...new Set([...current, ...input.ipRanges])] : current.filter((r) => !input.ipRanges!.includes(r));
  if (ranges.length === 0) throw new ActionError('a named location needs at least one IP range', { code: 'InvalidInput', hint: 'delete the location instead' });
  return ranges;
}

const locationMissing = (ref: string) =>
  new ActionError(`named location "${ref}" does not exist`, { code: 'Request_ResourceNotFound', hint: 'use the location\'s exact name or id', status: 404 });

export const directoryCreateNamedLocation = implement(c.directoryCreateNamedLocation, async (input, { graph }) => {
  const existing = await findLocation(graph, input.displayName);
  if (existing) {
    const v = locationView(existing);
    if (sameRanges(v.ipRanges, input.ipRanges) && v.isTrusted === input.isTrusted) return { ...v, created: false };
    throw new ActionError(`a named location called "${input.displayName}" already exists with other settings`, {
      code: 'ObjectConflict',
      hint: 'use "Update trusted network" to change it, or pick another name',
    });
  }
  const made = (await graph.api(LOCATIONS).post({
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    displayName: input.displayName,
    isTrusted: input.isTrusted,
    ipRanges: rangeBody(input.ipRanges),
  })) as NamedLocation;
  return { ...locationView(made), created: true };
}, planDirectoryCreateNamedLocation);

export const directoryUpdateNamedLocation = implement(c.directoryUpdateNamedLocation, async (input, { graph }) => {
  const loc = await findLocation(graph, input.location);
  if (!loc) throw locationMissing(input.location);
  const current = locationView(loc);
  const ranges = nextRanges(current.ipRanges, input);
  const next = { displayName: input.displayName ?? current.displayName, ipRanges: ranges, isTrusted: input.isTrusted ?? current.isTrusted };
  const changed = next.displayName !== current.displayName || next.isTrusted !== current.isTrusted || !sameRanges(next.ipRanges, current.ipRanges);
  if (changed)
    await graph.api(`${LOCATIONS}/${loc.id}`).patch({ '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: next.displayName, isTrusted: next.isTrusted, ipRanges: rangeBody(next.ipRanges) });
  return { id: loc.id, ...next, changed };
}, planDirectoryUpdateNamedLocation);

export const directoryDeleteNamedLocation = implement(c.directoryDeleteNamedLocation, async (input, { graph, attempt }) => {
  const loc = await findLocation(graph, input.location);
  if (!loc) {
    if (attempt > 1) return { deleted: false };
    throw locationMissing(input.location);
  }
  return { deleted: await unless404(graph.api(`${LOCATIONS}/${loc.id}`).delete()) };
}, planDirectoryDeleteNamedLocation);

// ---- plans ----

async function planRole(input: { user: string; role: string }, graph: Client, assign: boolean): Promise<Change[]> {
  const [user, role] = [await getUser(graph, input.user), await findRole(graph, input.role)];
  const has = !!(await tenantWideAssignment(graph, user.id, role.id));
  return has === assign ? [] : [change(userObject(user), `role ${role.displayName}`, has, assign, { objectId: user.id })];
}

async function planDirectoryAssignRole(input: InputOf<typeof c.directoryAssignRole>, { graph }: PlanContext): Promise<Change[]> {
  return planRole(input, graph, true);
}

async function planDirectoryRemoveRole(input: InputOf<typeof c.directoryRemoveRole>, { graph }: PlanContext): Promise<Change[]> {
  return planRole(input, graph, false);
}

const locationObject = (name: string) => `named location ${name}`;

async function planDirectoryCreateNamedLocation(input: InputOf<typeof c.directoryCreateNamedLocation>, { graph }: PlanContext): Promise<Change[]> {
  const existing = await findLocation(graph, input.displayName);
  if (existing) {
    const v = locationView(existing);
    if (sameRanges(v.ipRanges, input.ipRanges) && v.isTrusted === input.isTrusted) return [];
    throw new ActionError(`a named location called "${input.displayName}" already exists with other settings`, { code: 'ObjectConflict', hint: 'use "Update trusted network" to change it, or pick another name' });
  }
  return creation(locationObject(input.displayName), { displayName: input.displayName, ipRanges: input.ipRanges, isTrusted: input.isTrusted });
}

async function planDirectoryUpdateNamedLocation(input: InputOf<typeof c.directoryUpdateNamedLocation>, { graph }: PlanContext): Promise<Change[]> {
  const loc = await findLocation(graph, input.location);
  if (!loc) throw locationMissing(input.location);
  const current = locationView(loc);
  const ranges = nextRanges(current.ipRanges, input);
  const object = locationObject(current.displayName);
  return [
    ...propertyChanges(object, loc.id, current, { displayName: input.displayName ?? current.displayName, isTrusted: input.isTrusted ?? current.isTrusted }),
    ...(sameRanges(ranges, current.ipRanges) ? [] : [change(object, 'ipRanges', current.ipRanges, ranges, { objectId: loc.id })]),
  ];
}

async function planDirectoryDeleteNamedLocation(input: InputOf<typeof c.directoryDeleteNamedLocation>, { graph }: PlanContext): Promise<Change[]> {
  const loc = await findLocation(graph, input.location);
  if (!loc) throw locationMissing(input.location);
  const v = locationView(loc);
  const object = locationObject(v.displayName);
  return [
    change(object, 'exists', true, false, { objectId: loc.id, note: 'an undo creates it again under a new id' }),
    change(object, 'displayName', v.displayName, null, { objectId: loc.id }),
    change(object, 'ipRanges', v.ipRanges, null, { objectId: loc.id }),
    change(object, 'isTrusted', v.isTrusted, null, { objectId: loc.id }),
  ];
}
