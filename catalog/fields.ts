// Field schemas many actions share, described once so every form and doc says the same thing.
// `x-picker` tells the designer which picker feeds a field.
import { z } from 'zod';

export const userRef = z
  .string()
  .min(1)
  .describe('The user: user principal name (anna@contoso.com) or object id')
  .meta({ 'x-picker': 'user' });

export const userRefs = z.array(userRef).min(1).describe('The users: user principal names or object ids');

export const groupRef = z
  .string()
  .min(1)
  .describe('The group: object id, display name or mail address')
  .meta({ 'x-picker': 'group' });

export const groupRefs = z.array(groupRef).min(1).describe('The groups: object ids, display names or mail addresses');

export const skuRef = z
  .string()
  .min(1)
  .describe('A licence: SKU part number (e.g. SPE_E3) or SKU id')
  .meta({ 'x-picker': 'licence' });

/**
 * The pickers the designer offers, each fed by one tenant lookup route (GET /api/tenants/:name/...).
 * A field names its kind with `x-picker`; `channel` depends on the `team` field beside it.
 */
export const PICKER_KINDS = ['user', 'group', 'licence', 'mailbox', 'sharedMailbox', 'device', 'team', 'channel', 'site', 'oneDrive', 'application', 'domain'] as const;
export type PickerKind = (typeof PICKER_KINDS)[number];

const picked = (kind: PickerKind, what: string) => z.string().min(1).describe(what).meta({ 'x-picker': kind });

export const mailboxRef = picked('mailbox', 'The mailbox: primary SMTP address, user principal name, alias or object id');
export const sharedMailboxRef = picked('sharedMailbox', 'The shared mailbox: primary SMTP address, user principal name, alias or object id');
export const deviceRef = picked('device', 'The managed device: Intune device id, device name (e.g. CONTOSO-ANNA-1A2B) or serial number');
export const teamRef = picked('team', 'The team: its group object id or its exact display name');
/** Picked among the channels of the team named by the `team` field of the same step. */
export const channelRef = picked('channel', 'The channel: its id (19:…@thread.tacv2) or its display name');
export const siteRef = z
  .string()
  .regex(/^https:\/\/[^/]+\.sharepoint\.[a-z.]+(\/.*)?$/i, 'the site\'s address, e.g. https://contoso.sharepoint.com/sites/projects')
  .describe('The site: its full address, e.g. https://contoso.sharepoint.com/sites/projects')
  .meta({ 'x-picker': 'site' });
export const oneDriveRef = picked('oneDrive', 'Whose OneDrive: user principal name or object id');
export const applicationRef = picked('application', 'The app registration: display name, application (client) id or object id');
/** A domain name (a new one, for adding). */
export const domainName = z
  .string()
  .min(3)
  .max(253)
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'a domain name such as fabrikam.com')
  .describe('The domain name, e.g. fabrikam.com');
/** An existing domain of the tenant. */
export const domainRef = domainName.meta({ 'x-picker': 'domain' });

export const usageLocation = z
  .string()
  .regex(/^[A-Z]{2}$/, 'a two-letter country code such as US or GB')
  .describe('Two-letter country code; required before a licence can be assigned');

export const recipientRef = z
  .string()
  .min(1)
  .describe('The Exchange group: name, alias, primary SMTP address or object id');

/** Where a generated secret (temporary password, access pass) is sent; the secret itself is never returned. */
export const deliverTo = z
  .email()
  .describe('Email address that receives the secret (e.g. the manager); it is sent from the tenant\'s service mailbox and never stored');

export const mailFrom = z
  .email()
  .optional()
  .describe('Service mailbox that sends the email; defaults to the tenant connection\'s configured sender');

const text = (max: number, what: string) => z.string().max(max).describe(what);

/** The directory properties operators edit: job, organisation and contact information. */
export const userProfileShape = {
  givenName: text(64, 'First name').optional(),
  surname: text(64, 'Last name').optional(),
  displayName: text(256, 'Name shown in the address book').min(1).optional(),
  jobTitle: text(128, 'Job title').optional(),
  department: text(64, 'Department').optional(),
  companyName: text(64, 'Company name').optional(),
  officeLocation: text(128, 'Office location').optional(),
  employeeId: text(16, 'Employee id from HR').optional(),
  employeeType: text(64, 'Employee type, e.g. Employee, Contractor').optional(),
  employeeHireDate: z.iso.datetime({ offset: true }).optional().describe('Hire date (ISO 8601, e.g. 2025-03-01T00:00:00Z)'),
  streetAddress: text(1024, 'Street address').optional(),
  city: text(128, 'City').optional(),
  state: text(128, 'State or province').optional(),
  postalCode: text(40, 'Postal code').optional(),
  country: text(128, 'Country or region').optional(),
  businessPhone: text(64, 'Business phone number').optional(),
  mobilePhone: text(64, 'Mobile phone number').optional(),
  usageLocation: usageLocation.optional(),
  preferredLanguage: z
    .string()
    .regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'a language tag such as en-US')
    .optional()
    .describe('Preferred language, e.g. en-US'),
};

export const userProfile = z.strictObject(userProfileShape);
export type UserProfile = z.infer<typeof userProfile>;

/** Contact fields only (a narrower form for "change contact information"). */
export const contactShape = {
  streetAddress: userProfileShape.streetAddress,
  city: userProfileShape.city,
  state: userProfileShape.state,
  postalCode: userProfileShape.postalCode,
  country: userProfileShape.country,
  businessPhone: userProfileShape.businessPhone,
  mobilePhone: userProfileShape.mobilePhone,
  officeLocation: userProfileShape.officeLocation,
};

/** What reads return about a user. */
export const userSummary = z.object({
  id: z.string().describe('Object id'),
  userPrincipalName: z.string(),
  displayName: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  accountEnabled: z.boolean().nullable().optional(),
  userType: z.string().nullable().optional().describe('Member or Guest'),
  jobTitle: z.string().nullable().optional(),
  department: z.string().nullable().optional(),
});

export const groupSummary = z.object({
  id: z.string().describe('Object id'),
  displayName: z.string(),
  mail: z.string().nullable().optional(),
  kind: z.enum(['security', 'microsoft365', 'distribution', 'mailEnabledSecurity']).describe('What kind of group it is'),
});
