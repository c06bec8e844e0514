// Application permissions (app roles) the sandbox knows. Graph permissions are plain names; other
// resources' roles carry their resource prefix so one list can describe an app's whole grant.

export const RESOURCES = {
  graph: 'https://graph.microsoft.com',
  exchange: 'https://outlook.office365.com',
  /** SharePoint's resource is the tenant's own host, e.g. https://contoso-admin.sharepoint.com. */
  sharepoint: 'sharepoint',
} as const;

export type ResourceName = keyof typeof RESOURCES;

export const GRAPH_PERMISSIONS = [
  'User.Read.All',
  'User.ReadWrite.All',
  'User.Invite.All',
  'User.EnableDisableAccount.All',
  'User.RevokeSessions.All',
  'User-PasswordProfile.ReadWrite.All',
  'User-LifeCycleInfo.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Group.Create',
  'GroupMember.Read.All',
  'GroupMember.ReadWrite.All',
  'LicenseAssignment.Read.All',
  'LicenseAssignment.ReadWrite.All',
  'Organization.Read.All',
  'UserAuthenticationMethod.Read.All',
  'UserAuthenticationMethod.ReadWrite.All',
  'Policy.ReadWrite.AuthenticationMethod',
  'MailboxSettings.Read',
  'MailboxSettings.ReadWrite',
  'Mail.Send',
  'Mail.ReadBasic.All',
  'Mail.Read',
  'Mail.ReadWrite',
  'Calendars.ReadWrite',
  'DeviceManagementManagedDevices.Read.All',
  'DeviceManagementManagedDevices.ReadWrite.All',
  'DeviceManagementManagedDevices.PrivilegedOperations.All',
  'DeviceManagementServiceConfig.Read.All',
  'DeviceManagementServiceConfig.ReadWrite.All',
  'DeviceManagementConfiguration.Read.All',
  'Team.Create',
  'Team.ReadBasic.All',
  'TeamSettings.ReadWrite.All',
  'TeamMember.Read.All',
  'TeamMember.ReadWrite.All',
  'Channel.Create',
  'Channel.ReadBasic.All',
  'ChannelMember.Read.All',
  'ChannelMember.ReadWrite.All',
  'Channel.Delete.All',
  'ChannelSettings.Read.All',
  'ChannelSettings.ReadWrite.All',
  'ChannelMessage.Read.All',
  'Teamwork.Migrate.All',
  'TeamsPolicyUserAssign.ReadWrite.All',
  'TeamsTelephoneNumber.Read.All',
  'TeamsTelephoneNumber.ReadWrite.All',
  'TeamsUserConfiguration.Read.All',
  'Sites.Read.All',
  'Sites.ReadWrite.All',
  'Sites.FullControl.All',
  'Sites.Manage.All',
  'Files.Read.All',
  'Files.ReadWrite.All',
  'Application.Read.All',
  'Application.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
  'RoleManagement.Read.Directory',
  'RoleManagement.ReadWrite.Directory',
  'AuditLog.Read.All',
  'Policy.Read.All',
  'Policy.ReadWrite.ConditionalAccess',
  'DelegatedPermissionGrant.Read.All',
  'DelegatedPermissionGrant.ReadWrite.All',
  'Domain.Read.All',
  'Domain.ReadWrite.All',
] as const;

export const EXCHANGE_PERMISSIONS = ['Exchange/Exchange.ManageAsApp'] as const;
export const SHAREPOINT_PERMISSIONS = ['SharePoint/Sites.FullControl.All', 'SharePoint/Sites.Manage.All', 'SharePoint/Sites.ReadWrite.All', 'SharePoint/Sites.Read.All'] as const;

/** Everything the action catalog needs: the demo app gets all of it. */
export const ALL_PERMISSIONS: string[] = [...GRAPH_PERMISSIONS, ...EXCHANGE_PERMISSIONS, ...SHAREPOINT_PERMISSIONS];

/** The roles a token for `resource` carries, given an app's full grant. */
export function rolesFor(resource: ResourceName, permissions: readonly string[]): string[] {
  if (resource === 'graph') return permissions.filter((p) => !p.includes('/'));
  const prefix = resource === 'exchange' ? 'Exchange/' : 'SharePoint/';
  return permissions.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
}

// Permission sets per operation, least privileged first, as Microsoft documents them: any one grants access.
export const P = {
  userRead: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  userWrite: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  userManage: ['User.ReadWrite.All', 'Directory.ReadWrite.All', 'User.EnableDisableAccount.All', 'User-PasswordProfile.ReadWrite.All', 'User-LifeCycleInfo.ReadWrite.All'],
  userInvite: ['User.Invite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  userRevoke: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  license: ['LicenseAssignment.ReadWrite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  licenseRead: ['LicenseAssignment.Read.All', 'Organization.Read.All', 'Directory.Read.All', 'LicenseAssignment.ReadWrite.All', 'Directory.ReadWrite.All'],
  groupRead: ['GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  groupCreate: ['Group.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  groupWrite: ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  memberWrite: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  memberOfRead: ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  directoryRead: ['Directory.Read.All', 'Directory.ReadWrite.All'],
  directoryWrite: ['Directory.ReadWrite.All'],
  orgRead: ['Organization.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
} as const;
