// On-premises Active Directory actions (category `ad`): users, groups, memberships and the Exchange
// hybrid recipient attributes, written over LDAPS by the on-premises worker of the tenant's AD
// connection (docs/hybrid.md). Changes reach Microsoft Entra ID through Entra Connect / Cloud Sync.
import { z } from 'zod';
import { defineAction } from '../contract.ts';

export const adUserRef = z
  .string()
  .min(1)
  .describe('The AD account: sAMAccountName (anna.lindqvist), user principal name, distinguished name or objectGUID');

export const adGroupRef = z
  .string()
  .min(1)
  .describe('The AD group: name (cn or sAMAccountName), distinguished name, mail address or objectGUID');

const ouDn = z
  .string()
  .regex(/^(OU|CN|DC)=.+/i, 'a distinguished name such as OU=Staff,DC=corp,DC=contoso,DC=com')
  .describe('Organisational unit (distinguished name), e.g. OU=Staff,DC=corp,DC=contoso,DC=com');

const samAccountName = z
  .string()
  .regex(/^[^"/\\[\]:;|=,+*?<>@\s]{1,20}$/, 'up to 20 characters, none of " / \\ [ ] : ; | = , + * ? < > @ or spaces')
  .describe('Pre-Windows 2000 logon name (sAMAccountName), up to 20 characters');

const secretPassword = z.string().min(1).max(256).describe('The password (a secret input: sealed in the run, never shown)');

const text = (max: number, what: string) => z.string().max(max).describe(what);

/** Person attributes as operators name them, each written to its AD attribute (docs/hybrid.md lists the mapping). */
const adProfileShape = {
  givenName: text(64, 'First name (givenName)').optional(),
  surname: text(64, 'Last name (sn)').optional(),
  displayName: text(256, 'Display name').min(1).optional(),
  description: text(1024, 'Description').optional(),
  jobTitle: text(128, 'Job title (title)').optional(),
  department: text(64, 'Department').optional(),
  companyName: text(64, 'Company (company)').optional(),
  officeLocation: text(128, 'Office (physicalDeliveryOfficeName)').optional(),
  employeeId: text(16, 'Employee id (employeeID)').optional(),
  employeeType: text(64, 'Employee type, e.g. Employee, Contractor').optional(),
  streetAddress: text(1024, 'Street address').optional(),
  city: text(128, 'City (l)').optional(),
  state: text(128, 'State or province (st)').optional(),
  postalCode: text(40, 'Postal code').optional(),
  countryCode: z
    .string()
    .regex(/^[A-Z]{2}$/, 'a two-letter country code such as US or SE')
    .optional()
    .describe('Two-letter country code (c); Entra Connect makes it the usage location'),
  country: text(128, 'Country name (co)').optional(),
  businessPhone: text(64, 'Business phone (telephoneNumber)').optional(),
  mobilePhone: text(64, 'Mobile phone (mobile)').optional(),
  mail: z.email().optional().describe('Email address (mail)'),
};

const userOut = z.object({
  dn: z.string().describe('Distinguished name'),
  objectGuid: z.string().describe('objectGUID'),
  sAMAccountName: z.string(),
  userPrincipalName: z.string().nullable(),
  immutableId: z.string().describe('The sync anchor as Entra ID shows it (onPremisesImmutableId: base64 of the anchor attribute)'),
});

const changed = z.boolean().describe('false when the account already was that way (nothing written)');

/** What creating an account answers ("Create AD user", "Clone AD user"), and the rights it needs. */
const newUserOut = userOut.extend({
  created: z.boolean().describe('false when an earlier attempt of this step had already created the account'),
  groups: z.array(z.string()).describe('Distinguished names of the groups the account was added to'),
});
const NEW_USER_RIGHTS = ['Create User objects (OU)', 'Reset password', 'Write all properties', 'Write members (groups)'];

export const adCreateUser = defineAction({
  id: 'ad.createUser',
  title: 'Create AD user',
  category: 'ad',
  description:
    'Creates a user account in on-premises Active Directory in an OU (the connection\'s default when none is given), with ' +
    'job, organisation and contact attributes, manager, groups and an initial password set over the encrypted connection ' +
    '(must be changed at next logon unless told otherwise). Entra Connect then synchronises it to Microsoft Entra ID: wait ' +
    'for it with user.waitUntilExists. A repeat of the step finds the account it created.',
  input: z.strictObject({
    sAMAccountName: samAccountName,
    userPrincipalName: z.email().describe('User principal name; its suffix must be a UPN suffix of the forest and a verified domain of the tenant'),
    ...adProfileShape,
    displayName: z.string().min(1).max(256).describe('Display name (also the object\'s name, cn)'),
    ou: ouDn.optional(),
    manager: adUserRef.optional().describe('The manager\'s AD account'),
    groups: z.array(adGroupRef).default([]).describe('AD groups to add the account to'),
    password: secretPassword.optional().describe('Initial password (a secret input); a random one nobody sees when absent (hand out a Temporary Access Pass in the cloud instead)'),
    mustChangePassword: z.boolean().default(true).describe('User must change the password at next logon'),
    enabled: z.boolean().default(true).describe('Whether the account can sign in right away'),
    accountExpires: z.iso.datetime({ offset: true }).optional().describe('When the account expires (ISO 8601); never when absent'),
  }),
  output: newUserOut,
  permissions: [],
  adRights: NEW_USER_RIGHTS,
  bulk: true,
  undo: 'ad.deleteUser',
  secretFields: ['password'],
});

export const adCloneUser = defineAction({
  id: 'ad.cloneUser',
  title: 'Clone AD user',
  category: 'ad',
  description:
    'Creates a new AD account from an existing one: copies job, organisation and address attributes (title, department, ' +
    'company, office, address, country), the manager, the OU and the group memberships; the new person\'s names come from ' +
    'the parameters. The password is set as for "Create AD user".',
  input: z.strictObject({
    source: adUserRef.describe('The AD account to copy'),
    sAMAccountName: samAccountName,
    userPrincipalName: z.email().describe('User principal name of the new account'),
    givenName: adProfileShape.givenName,
    surname: adProfileShape.surname,
    displayName: z.string().min(1).max(256).describe('Display name of the new account'),
    mail: adProfileShape.mail,
    employeeId: adProfileShape.employeeId,
    ou: ouDn.optional().describe('OU of the new account; the source\'s OU when absent'),
    copyGroups: z.boolean().default(true).describe('Add the new account to the source\'s groups'),
    copyManager: z.boolean().default(true).describe('Give the new account the source\'s manager'),
    password: secretPassword.optional().describe('Initial password (a secret input); a random one nobody sees when absent'),
    mustChangePassword: z.boolean().default(true).describe('User must change the password at next logon'),
  }),
  output: newUserOut.extend({ copied: z.array(z.string()).describe('Attributes copied from the source') }),
  permissions: [],
  adRights: NEW_USER_RIGHTS,
  bulk: true,
  undo: 'ad.deleteUser',
  secretFields: ['password'],
});

export const adUpdateUser = defineAction({
  id: 'ad.updateUser',
  title: 'Edit AD user',
  category: 'ad',
  description:
    'Changes an AD account\'s attributes: names, job, organisation, contact and address, user principal name. Only the ' +
    'parameters given change; an empty string clears an attribute. Entra Connect carries the change to the cloud, where ' +
    'these attributes of a synchronised user cannot be edited.',
  input: z.strictObject({
    user: adUserRef,
    userPrincipalName: z.email().optional().describe('New user principal name'),
    ...adProfileShape,
    mail: z.union([z.email(), z.literal('')]).optional().describe('Email address (mail); empty clears it'),
    countryCode: z.union([z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code such as US or SE'), z.literal('')]).optional().describe('Two-letter country code (c); empty clears it'),
  }),
  output: userOut.extend({ changed: z.array(z.string()).describe('AD attributes written (empty when everything already matched)') }),
  permissions: [],
  adRights: ['Write all properties'],
  bulk: true,
});

const userOnly = z.strictObject({ user: adUserRef });
const accountState = userOut.extend({ changed, enabled: z.boolean() });

export const adEnableUser = defineAction({
  id: 'ad.enableUser',
  title: 'Enable AD account',
  category: 'ad',
  description: 'Enables an AD account (clears ACCOUNTDISABLE in userAccountControl); Entra Connect enables the synchronised user.',
  input: userOnly,
  output: accountState,
  permissions: [],
  adRights: ['Write userAccountControl'],
  bulk: true,
  undo: 'ad.disableUser',
});

export const adDisableUser = defineAction({
  id: 'ad.disableUser',
  title: 'Disable AD account',
  category: 'ad',
  description: 'Disables an AD account (sets ACCOUNTDISABLE in userAccountControl): no more domain sign-ins; Entra Connect blocks the synchronised user\'s cloud sign-in.',
  input: userOnly,
  output: accountState,
  permissions: [],
  adRights: ['Write userAccountControl'],
  bulk: true,
  undo: 'ad.enableUser',
});

export const adUnlockUser = defineAction({
  id: 'ad.unlockUser',
  title: 'Unlock AD account',
  category: 'ad',
  description: 'Unlocks an AD account locked out after too many wrong passwords (lockoutTime = 0). An account that is not locked is left alone.',
  input: userOnly,
  output: userOut.extend({ changed, wasLocked: z.boolean() }),
  permissions: [],
  adRights: ['Write lockoutTime'],
  bulk: true,
});

export const adResetPassword = defineAction({
  id: 'ad.resetPassword',
  title: 'Reset AD password',
  category: 'ad',
  description:
    'Sets a synchronised user\'s password in AD (an administrator reset over the encrypted connection), optionally to be ' +
    'changed at next logon, unlocks the account, then checks the new password by signing in as the user. With password ' +
    'hash sync or pass-through authentication the new password also works in the cloud.',
  input: z.strictObject({
    user: adUserRef,
    password: secretPassword.describe('The new password (a secret input)'),
    mustChangePassword: z.boolean().default(true).describe('User must change the password at next logon'),
    unlock: z.boolean().default(true).describe('Also unlock the account if it is locked out'),
  }),
  output: userOut.extend({
    verified: z.boolean().describe('A sign-in as the user with the new password was accepted (or answered "must change password")'),
    mustChangePassword: z.boolean(),
  }),
  permissions: [],
  adRights: ['Reset password', 'Write pwdLastSet', 'Write lockoutTime'],
  bulk: true,
  secretFields: ['password'],
});

export const adMoveUser = defineAction({
  id: 'ad.moveUser',
  title: 'Move AD user to OU',
  category: 'ad',
  description: 'Moves an AD account to another OU (e.g. a leavers OU that Entra Connect does not synchronise). An account already there is left alone.',
  input: z.strictObject({ user: adUserRef, ou: ouDn.optional().describe('The OU to move to (distinguished name); the AD connection\'s leavers OU when absent') }),
  output: userOut.extend({ changed, from: z.string().describe('The OU it was in') }),
  permissions: [],
  adRights: ['Delete User objects (source OU)', 'Create User objects (target OU)'],
  bulk: true,
});

export const adSetManager = defineAction({
  id: 'ad.setManager',
  title: 'Set AD manager',
  category: 'ad',
  description: 'Sets (or, with no manager, clears) an AD account\'s manager; Entra Connect synchronises it to the cloud user\'s manager.',
  input: z.strictObject({ user: adUserRef, manager: adUserRef.nullable().describe('The manager\'s AD account; null clears it') }),
  output: userOut.extend({ changed, manager: z.string().nullable().describe('Distinguished name of the manager') }),
  permissions: [],
  adRights: ['Write manager'],
  bulk: true,
});

export const adSetExpiry = defineAction({
  id: 'ad.setExpiry',
  title: 'Set AD account expiry',
  category: 'ad',
  description: 'Sets the date an AD account expires (accountExpires), or clears it so the account never expires.',
  input: z.strictObject({
    user: adUserRef,
    expires: z.iso.datetime({ offset: true }).nullable().describe('When the account expires (ISO 8601); null = never'),
  }),
  output: userOut.extend({ changed, expires: z.string().nullable() }),
  permissions: [],
  adRights: ['Write accountExpires'],
  bulk: true,
});

export const adDeleteUser = defineAction({
  id: 'ad.deleteUser',
  title: 'Delete AD user',
  category: 'ad',
  description:
    'Deletes an AD account (to the AD recycle bin where it is enabled). Entra Connect then soft-deletes the synchronised ' +
    'user in the cloud. An account that is already gone is reported, not an error.',
  input: userOnly,
  output: z.object({ deleted: z.boolean().describe('false when the account did not exist (already deleted)'), dn: z.string().nullable() }),
  permissions: [],
  adRights: ['Delete User objects'],
  bulk: true,
});

export const adGetUser = defineAction({
  id: 'ad.getUser',
  readOnly: true,
  title: 'Get AD user',
  category: 'ad',
  description: 'Reads an AD account: names, user principal name, OU, state (enabled, locked out, expiry), manager, mail attributes and the sync anchor.',
  input: userOnly,
  output: userOut.extend({
    displayName: z.string().nullable(),
    mail: z.string().nullable(),
    ou: z.string(),
    enabled: z.boolean(),
    lockedOut: z.boolean(),
    expires: z.string().nullable(),
    manager: z.string().nullable(),
    department: z.string().nullable(),
    jobTitle: z.string().nullable(),
    proxyAddresses: z.array(z.string()),
    targetAddress: z.string().nullable(),
    hiddenFromAddressLists: z.boolean(),
  }),
  permissions: [],
  adRights: ['Read (Authenticated Users by default)'],
  bulk: true,
});

export const adListUserGroups = defineAction({
  id: 'ad.listUserGroups',
  readOnly: true,
  title: 'List AD user\'s groups',
  category: 'ad',
  description: 'Lists the AD groups an account is a member of: directly, or also through nested groups (transitive).',
  input: z.strictObject({ user: adUserRef, transitive: z.boolean().default(false).describe('Include groups reached through nested groups') }),
  output: z.object({
    groups: z.array(z.object({ dn: z.string(), name: z.string(), scope: z.string(), category: z.string(), mail: z.string().nullable() })),
    count: z.number(),
  }),
  permissions: [],
  adRights: ['Read (Authenticated Users by default)'],
  bulk: true,
});

export const adRemoveUserFromAllGroups = defineAction({
  id: 'ad.removeUserFromAllGroups',
  title: 'Remove AD user from all groups',
  category: 'ad',
  description:
    'Removes an AD account from every group it is a direct member of (its primary group, usually Domain Users, stays: AD ' +
    'does not allow removing it). Lists what was removed, for the record and an undo.',
  input: z.strictObject({ user: adUserRef, keep: z.array(adGroupRef).default([]).describe('Groups to leave alone') }),
  output: z.object({ removed: z.array(z.string()).describe('Distinguished names of the groups left'), kept: z.array(z.string()) }),
  permissions: [],
  adRights: ['Write members (each group)'],
  bulk: true,
});

const GROUP_SCOPES = ['global', 'domainLocal', 'universal'] as const;
const groupOut = z.object({
  dn: z.string(),
  objectGuid: z.string(),
  name: z.string(),
  sAMAccountName: z.string(),
  scope: z.enum(GROUP_SCOPES),
  category: z.enum(['security', 'distribution']),
  mail: z.string().nullable(),
});

export const adCreateGroup = defineAction({
  id: 'ad.createGroup',
  title: 'Create AD group',
  category: 'ad',
  description:
    'Creates an on-premises security or distribution group with its scope (global, domain local, universal), OU, manager ' +
    '(managedBy), description, mail attributes and first members. Entra Connect synchronises it; mail-enabled groups ' +
    'become distribution lists or mail-enabled security groups in Exchange Online.',
  input: z.strictObject({
    name: z.string().min(1).max(64).describe('Group name (cn and, unless given, sAMAccountName)'),
    sAMAccountName: z.string().regex(/^[^"/\\[\]:;|=,+*?<>@]{1,256}$/).optional().describe('Pre-Windows 2000 group name'),
    category: z.enum(['security', 'distribution']).default('security').describe('Security groups grant access; distribution groups only deliver mail'),
    scope: z.enum(GROUP_SCOPES).default('global').describe('Group scope'),
    ou: ouDn.optional(),
    description: text(1024, 'Description').optional(),
    mail: z.email().optional().describe('Email address (mail); with mailNickname it makes the group mail-enabled'),
    mailNickname: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional().describe('Mail alias (mailNickname, an Exchange attribute)'),
    managedBy: adUserRef.optional().describe('The manager (managedBy)'),
    members: z.array(z.string().min(1)).default([]).describe('Members: AD accounts or AD groups (nested)'),
  }),
  output: groupOut.extend({ created: z.boolean().describe('false when an earlier attempt of this step had already created it'), members: z.array(z.string()) }),
  permissions: [],
  adRights: ['Create Group objects (OU)', 'Write all properties'],
  bulk: true,
  undo: 'ad.deleteGroup',
});

export const adUpdateGroup = defineAction({
  id: 'ad.updateGroup',
  title: 'Edit AD group',
  category: 'ad',
  description:
    'Changes an on-premises group: description, mail attributes, manager, scope (AD allows global ↔ universal ↔ domain local ' +
    'only through universal) and category. Only the parameters given change.',
  input: z.strictObject({
    group: adGroupRef,
    displayName: text(256, 'Display name').optional(),
    description: text(1024, 'Description').optional(),
    mail: z.union([z.email(), z.literal('')]).optional().describe('Email address; empty clears it'),
    mailNickname: z.union([z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), z.literal('')]).optional().describe('Mail alias; empty clears it'),
    managedBy: adUserRef.nullable().optional().describe('The manager (managedBy); null clears it'),
    scope: z.enum(GROUP_SCOPES).optional().describe('New group scope'),
    category: z.enum(['security', 'distribution']).optional().describe('New group category'),
  }),
  output: groupOut.extend({ changed: z.array(z.string()).describe('AD attributes written') }),
  permissions: [],
  adRights: ['Write all properties'],
  bulk: true,
});

export const adDeleteGroup = defineAction({
  id: 'ad.deleteGroup',
  title: 'Delete AD group',
  category: 'ad',
  description: 'Deletes an on-premises group; Entra Connect deletes the synchronised group in the cloud. A group that is already gone is reported, not an error.',
  input: z.strictObject({ group: adGroupRef }),
  output: z.object({ deleted: z.boolean().describe('false when the group did not exist'), dn: z.string().nullable() }),
  permissions: [],
  adRights: ['Delete Group objects'],
  bulk: true,
});

const membership = z.strictObject({
  group: adGroupRef,
  members: z.array(z.string().min(1)).min(1).describe('AD accounts or AD groups (nested): sAMAccountName, UPN, name, DN or objectGUID'),
});

export const adAddGroupMember = defineAction({
  id: 'ad.addGroupMember',
  title: 'Add to AD group',
  category: 'ad',
  description: 'Adds AD accounts or groups (nesting) to an on-premises security or distribution group. Members already in it are listed, not an error.',
  input: membership,
  output: z.object({ group: z.string(), added: z.array(z.string()), alreadyMembers: z.array(z.string()) }),
  permissions: [],
  adRights: ['Write members'],
  bulk: true,
  undo: 'ad.removeGroupMember',
});

export const adRemoveGroupMember = defineAction({
  id: 'ad.removeGroupMember',
  title: 'Remove from AD group',
  category: 'ad',
  description: 'Removes AD accounts or groups from an on-premises group. Objects that are not members are listed, not an error.',
  input: membership,
  output: z.object({ group: z.string(), removed: z.array(z.string()), notMembers: z.array(z.string()) }),
  permissions: [],
  adRights: ['Write members'],
  bulk: true,
  undo: 'ad.addGroupMember',
});

export const REMOTE_MAILBOX_TYPES = ['user', 'shared', 'room', 'equipment'] as const;

export const adEnableRemoteMailbox = defineAction({
  id: 'ad.enableRemoteMailbox',
  title: 'Enable remote mailbox',
  category: 'ad',
  description:
    'Does in AD what Exchange\'s Enable-RemoteMailbox does for an existing on-premises user: marks the account as a mailbox ' +
    'in Exchange Online so that, once Entra Connect synchronises it and a licence is assigned, Exchange Online creates the ' +
    'mailbox. Writes mailNickname, mail, proxyAddresses (primary SMTP address and the remote routing address), targetAddress ' +
    '(SMTP:<remote routing address>), msExchRecipientTypeDetails (remote user / shared / room / equipment mailbox), ' +
    'msExchRemoteRecipientType (provision mailbox) and msExchRecipientDisplayType. Needs the Exchange schema extension in the ' +
    'forest; see docs/hybrid.md for what Exchange\'s own cmdlet writes besides.',
  input: z.strictObject({
    user: adUserRef,
    remoteRoutingAddress: z.email().describe('Remote routing address in the tenant\'s mail routing domain, e.g. anna@contoso.mail.onmicrosoft.com'),
    alias: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional().describe('Mail alias (mailNickname); the sAMAccountName when absent'),
    primarySmtpAddress: z.email().optional().describe('Primary SMTP address; the user principal name when absent'),
    type: z.enum(REMOTE_MAILBOX_TYPES).default('user').describe('Mailbox type'),
  }),
  output: userOut.extend({ changed: z.array(z.string()).describe('AD attributes written'), primarySmtpAddress: z.string(), proxyAddresses: z.array(z.string()) }),
  permissions: [],
  adRights: ['Write mail, proxyAddresses and the Exchange recipient attributes (Exchange Recipient Management, or delegated)'],
  bulk: true,
});

export const adHideFromAddressList = defineAction({
  id: 'ad.hideFromAddressList',
  title: 'Hide from address lists (AD)',
  category: 'ad',
  description:
    'Hides (or shows again) a synchronised user in the global address list by setting msExchHideFromAddressLists in AD: for a ' +
    'user synchronised from AD the cloud refuses the change, Entra Connect carries it to Exchange Online.',
  input: z.strictObject({ user: adUserRef, hidden: z.boolean().default(true).describe('true hides, false shows') }),
  output: userOut.extend({ changed, hidden: z.boolean() }),
  permissions: [],
  adRights: ['Write msExchHideFromAddressLists'],
  bulk: true,
});
