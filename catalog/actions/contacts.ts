// Mail contacts (people outside the organisation in the address book) and mail users (accounts of the
// organisation whose mail goes to an outside address), through the Exchange Online admin API; a mail
// user's account is created and edited through Microsoft Graph, as for any user.
import { z } from 'zod';
import { defineAction, type Change } from '../contract.ts';
import { related, step, undoWith } from '../reversal.ts';
import { deliverTo, mailFrom, userProfileShape } from '../fields.ts';

const EXO = ['Exchange.ManageAsApp'];

/** The parameters of "Edit mail contact" / "Edit mail user" that put the recorded before-values back: addresses added are removed and removed ones added; an empty detail is cleared (''). */
function recipientBack(changes: readonly Change[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of changes) if (!c.property.startsWith('address ')) out[c.property] = c.before ?? '';
  const addresses = related(changes, 'address ');
  const add = addresses.filter((x) => x.change.before === true).map((x) => x.name);
  const remove = addresses.filter((x) => x.change.before === false).map((x) => x.name);
  return { ...out, ...(add.length ? { addEmailAddresses: add } : {}), ...(remove.length ? { removeEmailAddresses: remove } : {}) };
}

export const contactRef = z
  .string()
  .min(1)
  .describe('The mail contact: external email address, name, alias or object id')
  .meta({ 'x-picker': 'contact' });

const text = (max: number, what: string) => z.string().max(max).optional().describe(what);

/** Set-Contact's properties, in the operator's words. */
export const contactDetailsShape = {
  firstName: text(64, 'First name'),
  lastName: text(64, 'Last name'),
  company: text(64, 'Company'),
  title: text(64, 'Job title'),
  department: text(64, 'Department'),
  phone: text(64, 'Business phone'),
  mobilePhone: text(64, 'Mobile phone'),
  office: text(128, 'Office'),
  streetAddress: text(1024, 'Street address'),
  city: text(128, 'City'),
  stateOrProvince: text(128, 'State or province'),
  postalCode: text(40, 'Postal code'),
  countryOrRegion: text(128, 'Country or region'),
};

const alias = z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only').max(64).describe('Mail alias; defaults to the name without spaces');
const created = z.boolean().describe('false when an earlier attempt of this step had already created it');
const contactOut = z.object({ id: z.string().describe('Object id'), name: z.string(), externalEmailAddress: z.string() });

export const contactList = defineAction({
  id: 'contact.list',
  readOnly: true,
  title: 'List mail contacts',
  category: 'mailbox',
  description: 'Lists the organisation\'s mail contacts (Get-MailContact). Feeds pickers and for-each loops.',
  input: z.strictObject({ max: z.number().int().min(1).max(10_000).default(1000).describe('At most this many') }),
  output: z.object({ contacts: z.array(contactOut.extend({ displayName: z.string(), hiddenFromAddressLists: z.boolean() })) }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
});

export const contactCreate = defineAction({
  id: 'contact.create',
  title: 'Create mail contact',
  category: 'mailbox',
  description:
    'Adds a person outside the organisation to the address book (New-MailContact), with contact details (Set-Contact) and more ' +
    'addresses. A contact with that address counts as done when an earlier attempt of this step created it.',
  input: z.strictObject({
    name: z.string().min(1).max(64).describe('Unique name'),
    displayName: z.string().max(256).optional().describe('Name shown in the address book; defaults to the name'),
    externalEmailAddress: z.email().describe('The contact\'s email address outside the organisation'),
    alias: alias.optional(),
    emailAddresses: z.array(z.email()).default([]).describe('More addresses of the contact'),
    hiddenFromAddressLists: z.boolean().default(false).describe('Hide the contact from the address book'),
    ...contactDetailsShape,
  }),
  output: contactOut.extend({ created }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'contact.delete',
  reverse: ({ output }) => undoWith(step('contact.delete', { contact: output.id }, `remove ${output.externalEmailAddress}, created by the run`)),
});

export const contactUpdate = defineAction({
  id: 'contact.update',
  title: 'Edit mail contact',
  category: 'mailbox',
  description:
    'Changes a mail contact: its external address, display name, address book visibility, addresses to add or remove, and contact ' +
    'details (Set-MailContact, Set-Contact). Give only what changes; an empty string clears a detail.',
  input: z.strictObject({
    contact: contactRef,
    displayName: z.string().min(1).max(256).optional().describe('New display name'),
    externalEmailAddress: z.email().optional().describe('New external address'),
    hiddenFromAddressLists: z.boolean().optional().describe('Hide the contact from the address book'),
    addEmailAddresses: z.array(z.email()).default([]).describe('Addresses to add'),
    removeEmailAddresses: z.array(z.email()).default([]).describe('Addresses to remove'),
    ...contactDetailsShape,
  }),
  output: z.object({ id: z.string(), changed: z.array(z.string()) }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ output, changes }) => undoWith(changes.length > 0 && step('contact.update', { contact: output.id, ...recipientBack(changes) }, 'the contact as it was')),
});

export const contactDelete = defineAction({
  id: 'contact.delete',
  title: 'Remove mail contact',
  category: 'mailbox',
  description: 'Deletes a mail contact (Remove-MailContact), also from the distribution groups it was in. This cannot be undone; a contact already gone counts as done on a retry.',
  input: z.strictObject({ contact: contactRef }),
  output: z.object({ deleted: z.boolean().describe('false when the contact did not exist (any more)') }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  irreversible: 'a removed mail contact is gone for good, also from its distribution groups',
});

// ---- mail users ----

const upn = z.email().describe('Sign-in name of the account, in a verified domain, e.g. partner.jane@contoso.com');
const mailUserOut = z.object({ id: z.string().describe('Object id'), userPrincipalName: z.string(), externalEmailAddress: z.string() });

export const mailUserCreate = defineAction({
  id: 'mailUser.create',
  title: 'Create mail user',
  category: 'mailbox',
  description:
    'Creates a mail user: an account of the organisation (it can sign in) whose mail goes to an outside address. The account is ' +
    'created in Microsoft Entra ID with a generated temporary password (emailed to "send password to" when set, never shown in the ' +
    'run), then mail-enabled in Exchange (Enable-MailUser) with its addresses. A retry after a lost answer finds the account and ' +
    'mail user this step made; with "send password to" it cannot tell whether the password mail went out, so it sets and mails a new ' +
    'temporary password (a mail sent before holds one that no longer works).',
  input: z.strictObject({
    userPrincipalName: upn,
    displayName: z.string().min(1).max(256).describe('Name shown in the address book'),
    externalEmailAddress: z.email().describe('Where the user\'s mail is delivered, outside the organisation'),
    givenName: userProfileShape.givenName,
    surname: userProfileShape.surname,
    emailAddresses: z.array(z.email()).default([]).describe('More addresses in the organisation\'s domains'),
    sendPasswordTo: deliverTo.optional(),
    mailFrom,
  }),
  output: mailUserOut.extend({ created, passwordSentTo: z.string().nullable().describe('Where the temporary password was emailed; null when it was not sent') }),
  permissions: ['User.ReadWrite.All', 'Mail.Send'],
  otherPermissions: EXO,
  bulk: true,
  undo: 'mailUser.delete',
  reverse: ({ output }) => undoWith(step('mailUser.delete', { mailUser: output.id }, `remove ${output.userPrincipalName}, created by the run`)),
});

export const mailUserUpdate = defineAction({
  id: 'mailUser.update',
  title: 'Edit mail user',
  category: 'mailbox',
  description:
    'Changes a mail user: external address, display name, address book visibility and addresses (Set-MailUser), and job and contact ' +
    'details of the account (Microsoft Graph). Give only what changes.',
  input: z.strictObject({
    mailUser: z.string().min(1).describe('The mail user: user principal name, address or object id').meta({ 'x-picker': 'user' }),
    externalEmailAddress: z.email().optional().describe('New external address'),
    displayName: z.string().min(1).max(256).optional().describe('New display name'),
    hiddenFromAddressLists: z.boolean().optional().describe('Hide the mail user from the address book'),
    addEmailAddresses: z.array(z.email()).default([]).describe('Addresses to add'),
    removeEmailAddresses: z.array(z.email()).default([]).describe('Addresses to remove'),
    givenName: userProfileShape.givenName,
    surname: userProfileShape.surname,
    jobTitle: userProfileShape.jobTitle,
    department: userProfileShape.department,
    companyName: userProfileShape.companyName,
    businessPhone: userProfileShape.businessPhone,
    mobilePhone: userProfileShape.mobilePhone,
  }),
  output: z.object({ id: z.string(), changed: z.array(z.string()) }),
  permissions: ['User.ReadWrite.All'],
  otherPermissions: EXO,
  bulk: true,
  reverse: ({ output, changes }) => undoWith(changes.length > 0 && step('mailUser.update', { mailUser: output.id, ...recipientBack(changes) }, 'the mail user as it was')),
});

export const mailUserDelete = defineAction({
  id: 'mailUser.delete',
  title: 'Remove mail user',
  category: 'mailbox',
  description: 'Deletes a mail user and its account (Remove-MailUser); the account stays restorable with "Restore user" for 30 days. A mail user already gone counts as done on a retry.',
  input: z.strictObject({ mailUser: z.string().min(1).describe('The mail user: user principal name, address or object id').meta({ 'x-picker': 'user' }) }),
  output: z.object({ deleted: z.boolean().describe('false when the mail user did not exist (any more)') }),
  permissions: [],
  otherPermissions: EXO,
  bulk: true,
  undo: 'user.restore',
  reverse: ({ changes }) => {
    const gone = changes.find((c) => c.property === 'exists' && typeof c.objectId === 'string');
    return gone ? undoWith(step('user.restore', { user: gone.objectId }, `restore ${gone.object} with its account`)) : undoWith();
  },
});
