// User lifecycle actions: create, clone, edit, rename, sign-in, passwords, delete and restore, guests.
import { z } from 'zod';
import { defineAction, type Change } from '../contract.ts';
import { byObject, restoreProperties, step, undoWith } from '../reversal.ts';
import { contactShape, deliverTo, groupRef, mailFrom, skuRef, userProfileShape, userRef, userRefs } from '../fields.ts';

const upn = z.email().describe('Sign-in name, e.g. anna.lindqvist@contoso.com');
const mailNickname = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only')
  .max(64)
  .describe('Mail alias; defaults to the part of the sign-in name before @');
const userId = z.string().describe('Object id of the user');
const skipped = z
  .array(z.object({ group: z.string(), reason: z.string() }))
  .describe('Groups left alone, with the reason (dynamic membership, synchronised from on-premises, ...)');

export const userCreate = defineAction({
  id: 'user.create',
  title: 'Create user',
  category: 'user',
  description:
    'Creates a Microsoft Entra ID user with job and contact details, then assigns licences, adds groups and sets the manager. ' +
    'A temporary password is generated (it must be changed at first sign-in); when "send password to" is set it is emailed ' +
    'there from the service mailbox, and it never appears in the run.',
  input: z.strictObject({
    userPrincipalName: upn,
    mailNickname: mailNickname.optional(),
    ...userProfileShape,
    displayName: z.string().min(1).max(256).describe('Name shown in the address book'),
    accountEnabled: z.boolean().default(true).describe('Whether the user can sign in right away'),
    licences: z.array(skuRef).default([]).describe('Licences to assign (needs a usage location)'),
    groups: z.array(groupRef).default([]).describe('Groups to add the user to (security, Microsoft 365 or distribution)'),
    manager: userRef.optional().describe('The manager: user principal name or object id'),
    sendPasswordTo: deliverTo.optional(),
    mailFrom,
  }),
  output: z.object({
    id: userId,
    userPrincipalName: z.string(),
    created: z.boolean().describe('false when an earlier attempt of this step had already created the user'),
    licences: z.array(z.string()).describe('SKU part numbers the user has from this step'),
    groups: z.array(z.string()).describe('Object ids of the groups the user is a member of from this step'),
    managerId: z.string().nullable().describe('Object id of the manager, if one was set'),
    passwordSentTo: z.string().nullable().describe('Where the temporary password was emailed; null when it was not sent'),
  }),
  permissions: ['User.ReadWrite.All', 'LicenseAssignment.ReadWrite.All', 'Organization.Read.All', 'GroupMember.ReadWrite.All', 'Mail.Send'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: true,
  undo: 'user.delete',
  reverse: ({ output }) => ({
    steps: [step('user.delete', { user: output.id }, `delete ${output.userPrincipalName}, created by the run`)],
    ...(output.passwordSentTo ? { note: `the email with the temporary password (to ${output.passwordSentTo}) cannot be recalled` } : {}),
  }),
});

export const userClone = defineAction({
  id: 'user.clone',
  title: 'Clone user',
  category: 'user',
  description:
    'Creates a new user from an existing one: copies job, organisation and address properties, licences (with their disabled ' +
    'service plans), group memberships and the manager. Dynamic and on-premises groups are skipped and listed.',
  input: z.strictObject({
    source: userRef.describe('The user to copy: user principal name or object id'),
    userPrincipalName: upn,
    displayName: z.string().min(1).max(256).describe('Name shown in the address book'),
    givenName: z.string().max(64).optional().describe('First name'),
    surname: z.string().max(64).optional().describe('Last name'),
    mailNickname: mailNickname.optional(),
    copyProperties: z.boolean().default(true).describe('Copy job, organisation and address properties'),
    copyLicences: z.boolean().default(true).describe('Copy licences and their disabled service plans'),
    copyGroups: z.boolean().default(true).describe('Copy group memberships'),
    copyManager: z.boolean().default(true).describe('Give the new user the same manager'),
    accountEnabled: z.boolean().default(true).describe('Whether the user can sign in right away'),
    sendPasswordTo: deliverTo.optional(),
    mailFrom,
  }),
  output: z.object({
    id: userId,
    userPrincipalName: z.string(),
    created: z.boolean().describe('false when an earlier attempt of this step had already created the user'),
    copiedProperties: z.array(z.string()).describe('Properties copied from the source'),
    licences: z.array(z.string()).describe('SKU part numbers copied'),
    groups: z.array(z.string()).describe('Object ids of the groups joined'),
    skippedGroups: skipped,
    managerId: z.string().nullable(),
    passwordSentTo: z.string().nullable().describe('Where the temporary password was emailed; null when it was not sent'),
  }),
  permissions: ['User.ReadWrite.All', 'LicenseAssignment.ReadWrite.All', 'Organization.Read.All', 'GroupMember.ReadWrite.All', 'Mail.Send'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: true,
  undo: 'user.delete',
  reverse: ({ output }) => undoWith(step('user.delete', { user: output.id }, `delete ${output.userPrincipalName}, created by the run`)),
});

const profileOutput = z.object({
  userId,
  changed: z.array(z.string()).describe('Properties that changed (empty when everything already had these values)'),
});

const clearable = z
  .array(z.enum(Object.keys(userProfileShape) as [keyof typeof userProfileShape, ...(keyof typeof userProfileShape)[]]))
  .default([])
  .describe('Properties to empty');

export const userUpdate = defineAction({
  id: 'user.update',
  title: 'Edit user properties',
  category: 'user',
  description: 'Sets job, organisation and contact properties of a user. Properties left out keep their value; list a property under "clear" to empty it.',
  input: z.strictObject({ user: userRef, ...userProfileShape, clear: clearable }),
  output: profileOutput,
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ changes }) => undoWith(...[...byObject(changes)].map(([id, cs]) => profileBack(id, cs))),
});

export const userUpdateBulk = defineAction({
  id: 'user.updateBulk',
  title: 'Edit properties of many users',
  category: 'user',
  description:
    'Applies the same property changes to many users (e.g. move a team to a new department or office). Every user is tried; ' +
    'the step fails at the end, naming each user that could not be changed.',
  input: z.strictObject({ users: userRefs, ...userProfileShape, clear: clearable }),
  output: z.object({
    results: z.array(z.object({ user: z.string(), userId, changed: z.array(z.string()) })).describe('One entry per user'),
  }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ changes }) => undoWith(...[...byObject(changes)].map(([id, cs]) => profileBack(id, cs))),
});

export const userSetContactInfo = defineAction({
  id: 'user.setContactInfo',
  title: 'Change contact information',
  category: 'user',
  description: 'Changes a user\'s address, phone numbers and office. Fields left out keep their value.',
  input: z.strictObject({ user: userRef, ...contactShape }),
  output: profileOutput,
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ changes }) => undoWith(...[...byObject(changes)].map(([id, cs]) => profileBack(id, cs))),
});

export const userRename = defineAction({
  id: 'user.rename',
  title: 'Rename user',
  category: 'user',
  description:
    'Changes a user\'s sign-in name (UPN), first, last and display name. Give only what changes. A retry after a rename that ' +
    'succeeded finds the user under the new name.',
  input: z.strictObject({
    user: userRef,
    userPrincipalName: upn.optional().describe('New sign-in name'),
    givenName: z.string().max(64).optional().describe('New first name'),
    surname: z.string().max(64).optional().describe('New last name'),
    displayName: z.string().min(1).max(256).optional().describe('New display name'),
    mailNickname: mailNickname.optional().describe('New mail alias'),
  }),
  output: z.object({
    userId,
    previousUserPrincipalName: z.string(),
    userPrincipalName: z.string(),
    changed: z.array(z.string()),
  }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ output, changes }) => {
    const { set, clear } = restoreProperties(changes);
    return undoWith(
      Object.keys(set).length > 0 && step('user.rename', { user: output.userId, ...set }, `rename back to ${String(set['userPrincipalName'] ?? output.previousUserPrincipalName)}`),
      clear.length > 0 && step('user.update', { user: output.userId, clear }, `empty ${clear.join(', ')} again`),
    );
  },
});

export const userChangeUpnDomain = defineAction({
  id: 'user.changeUpnDomain',
  title: 'Change sign-in domain',
  category: 'user',
  description: 'Moves a user\'s sign-in name (UPN) to another verified domain of the tenant, keeping the part before @.',
  input: z.strictObject({
    user: userRef,
    domain: z
      .string()
      .regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'a domain such as contoso.com')
      .describe('A verified domain of the tenant, e.g. contoso.com')
      .meta({ 'x-picker': 'domain' }),
  }),
  output: z.object({ userId, previousUserPrincipalName: z.string(), userPrincipalName: z.string(), changed: z.array(z.string()) }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ output }) => undoWith(step('user.rename', { user: output.userId, userPrincipalName: output.previousUserPrincipalName }, `sign-in name back to ${output.previousUserPrincipalName}`)),
});

export const userSetManager = defineAction({
  id: 'user.setManager',
  title: 'Set manager',
  category: 'user',
  description: 'Sets a user\'s manager.',
  input: z.strictObject({ user: userRef, manager: userRef.describe('The manager: user principal name or object id') }),
  output: z.object({
    userId,
    managerId: z.string(),
    previousManagerId: z.string().nullable().describe('The manager before this step, if any'),
  }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  undo: 'user.removeManager',
  reverse: ({ output, changes }) => {
    const before = changes.find((c) => c.property === 'manager')?.before;
    return undoWith(
      before === null || before === undefined
        ? step('user.removeManager', { user: output.userId }, 'remove the manager again (there was none)')
        : step('user.setManager', { user: output.userId, manager: output.previousManagerId ?? before }, `manager back to ${String(before)}`),
    );
  },
});

export const userRemoveManager = defineAction({
  id: 'user.removeManager',
  title: 'Remove manager',
  category: 'user',
  description: 'Removes a user\'s manager. A user without a manager counts as done.',
  input: z.strictObject({ user: userRef }),
  output: z.object({ userId, removed: z.boolean().describe('false when the user had no manager') }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ output, changes }) => {
    const before = changes.find((c) => c.property === 'manager')?.before;
    return typeof before === 'string' ? undoWith(step('user.setManager', { user: output.userId, manager: before }, `manager back to ${before}`)) : undoWith();
  },
});

const extensionAttributeKeys = Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`) as [string, ...string[]];

export const userSetAttributes = defineAction({
  id: 'user.setAttributes',
  title: 'Set extension attributes',
  category: 'user',
  description:
    'Sets or clears the custom attributes extensionAttribute1 to extensionAttribute15 of a cloud user (Exchange custom ' +
    'attributes). A null value clears the attribute. Users synchronised from on-premises are changed there instead.',
  input: z.strictObject({
    user: userRef,
    attributes: z
      // partialRecord: zod 4's record over an enum demands every key.
      .partialRecord(z.enum(extensionAttributeKeys), z.string().max(1024).nullable())
      .refine((r) => Object.keys(r).length > 0, 'give at least one attribute')
      .describe('Attributes to set, e.g. {"extensionAttribute1": "Pilot"}; null clears one'),
  }),
  output: z.object({ userId, changed: z.array(z.string()) }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  reverse: ({ output, changes }) =>
    undoWith(step('user.setAttributes', { user: output.userId, attributes: Object.fromEntries(changes.map((c) => [c.property, c.before ?? null])) }, `attributes back: ${changes.map((c) => c.property).join(', ')}`)),
});

const signInOutput = z.object({ userId, changed: z.boolean().describe('false when the user was already in that state') });

export const userDisableSignIn = defineAction({
  id: 'user.disableSignIn',
  title: 'Block sign-in',
  category: 'user',
  description: 'Blocks a user from signing in (accountEnabled = false). Existing sessions stay valid until revoked: pair with "Revoke sessions".',
  input: z.strictObject({ user: userRef }),
  output: signInOutput,
  permissions: ['User.EnableDisableAccount.All', 'User.Read.All'],
  bulk: true,
  undo: 'user.enableSignIn',
  reverse: ({ output }) => undoWith(step('user.enableSignIn', { user: output.userId }, 'unblock sign-in again')),
});

export const userEnableSignIn = defineAction({
  id: 'user.enableSignIn',
  title: 'Unblock sign-in',
  category: 'user',
  description: 'Lets a blocked user sign in again (accountEnabled = true).',
  input: z.strictObject({ user: userRef }),
  output: signInOutput,
  permissions: ['User.EnableDisableAccount.All', 'User.Read.All'],
  bulk: true,
  undo: 'user.disableSignIn',
  reverse: ({ output }) => undoWith(step('user.disableSignIn', { user: output.userId }, 'block sign-in again')),
});

export const userRevokeSessions = defineAction({
  id: 'user.revokeSessions',
  title: 'Revoke sessions',
  category: 'user',
  description:
    'Invalidates the user\'s refresh tokens and session cookies, so every app and device must sign in again. A retry after a ' +
    'revocation whose answer was lost recognises it (sessions already valid only from after the step began) and does not revoke again.',
  input: z.strictObject({ user: userRef }),
  output: z.object({ userId, revoked: z.boolean().describe('false when an earlier attempt of this step had already revoked the sessions') }),
  permissions: ['User.RevokeSessions.All', 'User.Read.All'],
  bulk: true,
  irreversible: 'revoked sessions cannot be restored: the user signs in again',
});

export const userResetPassword = defineAction({
  id: 'user.resetPassword',
  title: 'Reset password',
  category: 'user',
  description:
    'Sets a new password. Either give one (it is redacted wherever the run is shown) or let Tenantflow generate one and email ' +
    'it to a named recipient from the service mailbox; a generated password never appears in the run. By default the user ' +
    'must change it at next sign-in.',
  input: z
    .strictObject({
      user: userRef,
      password: z.string().min(8).max(256).optional().describe('The new password; leave empty to generate one'),
      sendPasswordTo: deliverTo.optional(),
      forceChangeAtNextSignIn: z.boolean().default(true).describe('The user must choose a new password at next sign-in'),
      mailFrom,
    })
    .refine((v) => (v.password === undefined) !== (v.sendPasswordTo === undefined), {
      message: 'give either a password or "send password to" (for a generated one), not both',
      path: ['sendPasswordTo'],
    }),
  output: z.object({
    userId,
    generated: z.boolean().describe('Whether the password was generated'),
    passwordSentTo: z.string().nullable().describe('Where the generated password was emailed'),
    forceChangeAtNextSignIn: z.boolean(),
  }),
  permissions: ['User-PasswordProfile.ReadWrite.All', 'User.Read.All', 'Mail.Send'],
  bulk: true,
  secretFields: ['password'],
  irreversible: 'the old password cannot be restored',
});

export const userSetPasswordNeverExpires = defineAction({
  id: 'user.setPasswordNeverExpires',
  title: 'Password never expires',
  category: 'user',
  description: 'Turns "password never expires" on or off for a user (passwordPolicies DisablePasswordExpiration).',
  input: z.strictObject({
    user: userRef,
    neverExpires: z.boolean().describe('true: the password never expires; false: the tenant\'s expiry policy applies'),
  }),
  output: z.object({ userId, passwordPolicies: z.string().describe('The user\'s password policies after the step'), changed: z.boolean() }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  undo: 'user.setPasswordNeverExpires',
  reverse: ({ output, input }) => undoWith(step('user.setPasswordNeverExpires', { user: output.userId, neverExpires: !input.neverExpires }, `password never expires: back to ${!input.neverExpires}`)),
});

export const userDelete = defineAction({
  id: 'user.delete',
  title: 'Remove user',
  category: 'user',
  description: 'Deletes a user. The user stays in deleted items for 30 days and can be restored with "Restore user".',
  input: z.strictObject({ user: userRef }),
  output: z.object({ userId, userPrincipalName: z.string(), deleted: z.boolean().describe('false when the user was already in deleted items before this step (true when an earlier attempt of this step deleted it)') }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  undo: 'user.restore',
  reverse: ({ output }) => undoWith(step('user.restore', { user: output.userId }, `restore ${output.userPrincipalName} from deleted items`)),
});

const deletedUserRef = z
  .string()
  .min(1)
  .describe('The deleted user: object id, or the user principal name it had before deletion');

export const userRestore = defineAction({
  id: 'user.restore',
  title: 'Restore user',
  category: 'user',
  description: 'Restores a deleted user from deleted items, with its licences and group memberships.',
  input: z.strictObject({ user: deletedUserRef }),
  output: z.object({ userId, userPrincipalName: z.string(), restored: z.boolean().describe('false when the user was already active') }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  undo: 'user.delete',
  reverse: ({ output }) => undoWith(step('user.delete', { user: output.userId }, `delete ${output.userPrincipalName} again`)),
});

export const userPermanentDelete = defineAction({
  id: 'user.permanentDelete',
  title: 'Permanently delete user',
  category: 'user',
  description: 'Removes a deleted user from deleted items for good. This cannot be undone. The user must be deleted first.',
  input: z.strictObject({ user: deletedUserRef }),
  output: z.object({ userId, purged: z.boolean() }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  irreversible: 'a permanently deleted user is gone for good',
});

export const userRemoveFromAllGroups = defineAction({
  id: 'user.removeFromAllGroups',
  title: 'Remove user from all groups',
  category: 'user',
  description:
    'Removes a user from every group it is a direct member of: security and Microsoft 365 groups through Graph, distribution ' +
    'lists and mail-enabled security groups through Exchange. Dynamic groups and groups synchronised from on-premises cannot ' +
    'be changed here and are listed as skipped.',
  input: z.strictObject({
    user: userRef,
    includeMailEnabled: z.boolean().default(true).describe('Also leave distribution lists and mail-enabled security groups (Exchange)'),
  }),
  output: z.object({
    userId,
    removed: z.array(z.object({ id: z.string(), displayName: z.string() })).describe('Groups the user left'),
    skipped,
  }),
  permissions: ['GroupMember.ReadWrite.All', 'User.Read.All'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: true,
  reverse: ({ output }) => undoWith(...output.removed.map((g) => step('group.addMember', { group: g.id, user: output.userId }, `back into ${g.displayName}`))),
});

export const userInviteGuest = defineAction({
  id: 'user.inviteGuest',
  title: 'Invite guest user',
  category: 'user',
  description:
    'Invites an external person as a guest. The guest account appears in the directory at once; an invitation email is sent ' +
    'unless turned off. Inviting someone who is already a guest counts as done.',
  input: z.strictObject({
    email: z.email().describe('The guest\'s email address'),
    displayName: z.string().max(256).optional().describe('Name shown in the address book'),
    redirectUrl: z.url().default('https://myapps.microsoft.com').describe('Where the guest lands after accepting'),
    sendInvitation: z.boolean().default(true).describe('Send Microsoft\'s invitation email'),
    message: z.string().max(1000).optional().describe('Personal message in the invitation email'),
  }),
  output: z.object({
    userId,
    userPrincipalName: z.string(),
    invited: z.boolean().describe('false when the guest already existed before this step (true when an earlier attempt of this step invited them)'),
    status: z.string().nullable().describe('Invitation status, e.g. PendingAcceptance'),
  }),
  permissions: ['User.Invite.All', 'User.Read.All'],
  bulk: true,
  undo: 'user.removeGuest',
  reverse: ({ input, output }) => ({
    steps: [step('user.removeGuest', { user: output.userId }, `remove the guest ${input.email}`)],
    ...(input.sendInvitation ? { note: 'the invitation email cannot be recalled' } : {}),
  }),
});

export const userRemoveGuest = defineAction({
  id: 'user.removeGuest',
  title: 'Remove guest user',
  category: 'user',
  description: 'Deletes a guest user (refuses members, so a typo cannot delete an employee). Restorable for 30 days.',
  input: z.strictObject({ user: userRef.describe('The guest: user principal name, mail or object id') }),
  output: z.object({ userId, deleted: z.boolean().describe('false when the guest was already deleted before this step (true when an earlier attempt of this step deleted it)') }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  undo: 'user.restore',
  reverse: ({ output }) => undoWith(step('user.restore', { user: output.userId }, 'restore the guest from deleted items')),
});

export const userClearImmutableId = defineAction({
  id: 'user.clearImmutableId',
  title: 'Clear on-premises immutable id',
  category: 'user',
  description:
    'Empties onPremisesImmutableId so the cloud account is no longer matched to an on-premises account (e.g. before a ' +
    'hard match to a new one). Only cloud-managed users can be changed.',
  input: z.strictObject({ user: userRef }),
  output: z.object({ userId, previousImmutableId: z.string().nullable(), cleared: z.boolean() }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  irreversible: 'no action sets an on-premises immutable id back (the recorded before-value shows what it was)',
});

/** user.update back to the recorded before-values of one user's properties. */
function profileBack(userId: string, changes: Change[]) {
  const { set, clear } = restoreProperties(changes);
  return step('user.update', { user: userId, ...set, ...(clear.length ? { clear } : {}) }, `${changes[0]!.object}: ${changes.map((c) => c.property).join(', ')} back`);
}
