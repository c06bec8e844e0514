// How directory objects look on the wire: property sets, default projections, @odata.type.
import type { TypeInfo } from '../odata.ts';
import { publicView, type Group, type TenantStore, type User } from '../store.ts';
import { assignedPlans } from '../licensing.ts';
import type { Expanders } from './common.ts';
import { userExtensionsView } from './extensions.ts';

export const USER_WRITABLE = new Set([
  'accountEnabled', 'ageGroup', 'businessPhones', 'city', 'companyName', 'country', 'department', 'displayName', 'employeeHireDate',
  'employeeLeaveDateTime', 'employeeId', 'employeeType', 'givenName', 'jobTitle', 'mail', 'mailNickname', 'mobilePhone', 'officeLocation',
  'onPremisesImmutableId', 'onPremisesExtensionAttributes', 'otherMails', 'passwordPolicies', 'passwordProfile', 'postalCode', 'preferredLanguage', 'state', 'streetAddress',
  'surname', 'usageLocation', 'userPrincipalName', 'userType',
]);
export const USER_READ_ONLY = new Set([
  'id', 'createdDateTime', 'deletedDateTime', 'assignedLicenses', 'assignedPlans', 'proxyAddresses', 'signInSessionsValidFromDateTime',
  'lastPasswordChangeDateTime', 'onPremisesSyncEnabled', 'onPremisesSamAccountName', 'onPremisesDistinguishedName', 'onPremisesDomainName',
  'onPremisesUserPrincipalName', 'onPremisesSecurityIdentifier', 'onPremisesLastSyncDateTime', 'externalUserState', 'externalUserStateChangeDateTime', 'creationType',
]);

export const USER_TYPE: TypeInfo = {
  name: 'microsoft.graph.user',
  properties: new Set([...USER_WRITABLE, ...USER_READ_ONLY]),
  defaults: ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'],
  advancedOnly: true,
};

export const GROUP_WRITABLE = new Set([
  'classification', 'description', 'displayName', 'groupTypes', 'isAssignableToRole', 'mailEnabled', 'mailNickname', 'membershipRule',
  'membershipRuleProcessingState', 'preferredLanguage', 'resourceBehaviorOptions', 'resourceProvisioningOptions', 'securityEnabled', 'theme', 'visibility',
]);
export const GROUP_READ_ONLY = new Set([
  'id', 'createdDateTime', 'deletedDateTime', 'expirationDateTime', 'mail', 'onPremisesSyncEnabled', 'onPremisesSamAccountName',
  'onPremisesDomainName', 'onPremisesNetBiosName', 'onPremisesSecurityIdentifier', 'onPremisesLastSyncDateTime', 'proxyAddresses', 'renewedDateTime', 'securityIdentifier',
]);

export const GROUP_TYPE: TypeInfo = {
  name: 'microsoft.graph.group',
  properties: new Set([...GROUP_WRITABLE, ...GROUP_READ_ONLY]),
  advancedOnly: true,
};

export const DIRECTORY_OBJECT_TYPE: TypeInfo = {
  name: 'microsoft.graph.directoryObject',
  properties: new Set(['@odata.type', ...USER_TYPE.properties, ...GROUP_TYPE.properties]),
  advancedOnly: true,
};

export const EXTENSION_ATTRIBUTES = Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`);

/** Graph always answers all fifteen, null when unset. */
function extensionAttributesView(user: User): Record<string, string | null> {
  return Object.fromEntries(EXTENSION_ATTRIBUTES.map((k) => [k, user._extensionAttributes?.[k] ?? null]));
}

/** Graph's onPremises* properties: null for a cloud-only object. */
function onPremisesView(o: User | Group, kind: 'user' | 'group'): Record<string, unknown> {
  const p = o._onPremises;
  return kind === 'user'
    ? {
        onPremisesSamAccountName: p?.samAccountName ?? null,
        onPremisesDistinguishedName: p?.distinguishedName ?? null,
        onPremisesDomainName: p?.domainName ?? null,
        onPremisesUserPrincipalName: p?.userPrincipalName ?? null,
        onPremisesSecurityIdentifier: p?.securityIdentifier ?? null,
        onPremisesLastSyncDateTime: p?.lastSyncDateTime ?? null,
      }
    : {
        onPremisesSamAccountName: p?.samAccountName ?? null,
        onPremisesDomainName: p?.domainName ?? null,
        onPremisesNetBiosName: p?.netBiosName ?? null,
        onPremisesSecurityIdentifier: p?.securityIdentifier ?? null,
        onPremisesLastSyncDateTime: p?.lastSyncDateTime ?? null,
      };
}

export function userView(_store: TenantStore, user: User): Record<string, unknown> {
  const v = { ...publicView(user), ...onPremisesView(user, 'user') };
  v['onPremisesExtensionAttributes'] = extensionAttributesView(user);
  v['assignedPlans'] = assignedPlans(user);
  v['passwordProfile'] = null;
  return v;
}

export function groupView(_store: TenantStore, group: Group): Record<string, unknown> {
  return { ...publicView(group), ...onPremisesView(group, 'group') };
}

export function defaultUserView(store: TenantStore, user: User): Record<string, unknown> {
  const v = userView(store, user);
  const out: Record<string, unknown> = {};
  for (const k of USER_TYPE.defaults!) out[k] = v[k] ?? null;
  return out;
}

/** A member of a mixed collection (members, memberOf, directReports): typed, default properties. */
export function directoryObjectView(store: TenantStore, obj: { kind: 'user'; object: User } | { kind: 'group'; object: Group }): Record<string, unknown> {
  if (obj.kind === 'user') return { '@odata.type': '#microsoft.graph.user', ...defaultUserView(store, obj.object) };
  return { '@odata.type': '#microsoft.graph.group', ...groupView(store, obj.object) };
}

/** $expand on users: manager, directReports, memberOf, extensions (open extensions). */
export function userExpanders(store: TenantStore): Expanders<User> {
  const asObj = (id: string) => store.directoryObject(id);
  return {
    manager: (u) => {
      const m = u._managerId ? store.userById(u._managerId) : undefined;
      return m ? directoryObjectView(store, { kind: 'user', object: m }) : null;
    },
    directReports: (u) => store.directReports(u.id).map((id) => directoryObjectView(store, asObj(id)!)),
    memberOf: (u) => store.memberOf(u.id).map((id) => directoryObjectView(store, asObj(id)!)),
    extensions: (u) => userExtensionsView(u),
  };
}

/** $expand on groups: members, owners, memberOf. */
export function groupExpanders(store: TenantStore): Expanders<Group> {
  const views = (ids: Iterable<string>) => [...ids].map((id) => store.directoryObject(id)).filter((o) => o !== undefined).map((o) => directoryObjectView(store, o));
  return {
    members: (g) => views(store.membersOf(g.id)),
    owners: (g) => views(store.ownersOf(g.id)),
    memberOf: (g) => views(store.memberOf(g.id)),
  };
}
