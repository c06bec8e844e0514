// Application actions: app registrations (create, update, delete and restore, secrets and
// certificates, expiring credentials, owners) and enterprise apps (the users and groups assigned).
import { z } from 'zod';
import { defineAction, type Change } from '../contract.ts';
import { applicationRef as appRef, deliverTo, groupRef, mailFrom, userRef } from '../fields.ts';
import { step, undoWith } from '../reversal.ts';

/** Notes of the plans' changes (worker/actions/apps.ts). */
export const APP_RESTORABLE_NOTE = 'kept in deleted applications for 30 days with its enterprise app, restorable';
export const SECRET_GONE = 'a removed client secret cannot come back: add a new one and give its value to the app';
export const CERTIFICATE_GONE = 'a removed certificate comes back only by uploading its .cer file again ("Add certificate")';
/** How a plan names the default access of an enterprise app without app roles. */
export const DEFAULT_ACCESS_ROLE = 'Default Access';

const existed = (changes: readonly Change[], before: boolean) => changes.some((c) => c.property === 'exists' && c.before === before);

/** "assignment anna@contoso.com as Reader" rows back: assigned again, or unassigned. */
function reverseAssignments(kind: 'User' | 'Group', output: { servicePrincipalId: string; principalId: string }, changes: readonly Change[]) {
  const field = kind === 'User' ? 'user' : 'group';
  return undoWith(
    ...changes.map((c) => {
      const role = c.property.slice(c.property.lastIndexOf(' as ') + 4);
      const appRole = role === DEFAULT_ACCESS_ROLE ? {} : { appRole: role };
      return step(c.before ? `app.assign${kind}` : `app.unassign${kind}`, { app: output.servicePrincipalId, [field]: output.principalId, ...appRole }, `${c.before ? 'assign' : 'unassign'} ${c.property.slice('assignment '.length)} again`);
    }),
  );
}

const enterpriseAppRef = z
  .string()
  .min(1)
  .describe('The enterprise app: display name, application (client) id or service principal id')
  .meta({ 'x-picker': 'enterpriseApplication' });

const appRole = z
  .string()
  .min(1)
  .optional()
  .describe('The app role to assign: its display name, value or id (default: the app\'s default access, for apps without roles)');

const redirectUri = z
  .url()
  .refine((u) => u.startsWith('https://') || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(u), 'https, or http only on localhost')
  .describe('A web redirect URI');

const APP_WRITE = ['Application.ReadWrite.All'];

const appSummary = z.object({
  id: z.string().describe('Object id of the app registration'),
  appId: z.string().describe('Application (client) id'),
  displayName: z.string(),
});

export const appFind = defineAction({
  id: 'app.find',
  readOnly: true,
  title: 'Find app registrations',
  category: 'application',
  description: 'Lists app registrations whose display name starts with the given text (all of them without one).',
  input: z.strictObject({
    nameStartsWith: z.string().optional().describe('Display name starts with'),
    max: z.number().int().min(1).max(5000).default(500).describe('Stop after this many apps'),
  }),
  output: z.object({ apps: z.array(appSummary.extend({ createdDateTime: z.string().nullable().optional(), signInAudience: z.string().nullable().optional() })), count: z.number(), truncated: z.boolean() }),
  permissions: ['Application.Read.All'],
  bulk: true,
});

export const appCreate = defineAction({
  id: 'app.create',
  title: 'Create app registration',
  category: 'application',
  description:
    'Registers an application in Microsoft Entra ID with its enterprise app (service principal), so it can be given secrets, ' +
    'certificates, permissions and users. A name that is taken fails the step (unless this step created it on an earlier attempt).',
  input: z.strictObject({
    displayName: z.string().min(1).max(256).describe('Name of the application'),
    signInAudience: z
      .enum(['AzureADMyOrg', 'AzureADMultipleOrgs', 'AzureADandPersonalMicrosoftAccount', 'PersonalMicrosoftAccount'])
      .default('AzureADMyOrg')
      .describe('Who can sign in: this organisation only (AzureADMyOrg), any organisation, or also personal Microsoft accounts'),
    redirectUris: z.array(redirectUri).default([]).describe('Web redirect URIs'),
    description: z.string().max(1024).optional().describe('What the application is for'),
    notes: z.string().max(1024).optional().describe('Notes for administrators'),
    owners: z.array(userRef).default([]).describe('Users who own the app registration (user principal names or object ids)'),
    createServicePrincipal: z.boolean().default(true).describe('Also create its enterprise app (needed to sign in, and to assign users)'),
  }),
  output: appSummary.extend({
    servicePrincipalId: z.string().nullable().describe('Object id of the enterprise app, if created'),
    created: z.boolean().describe('false when an earlier attempt of this step had already created it'),
  }),
  permissions: [...APP_WRITE, 'User.Read.All'],
  bulk: true,
  undo: 'app.delete',
  reverse: ({ output, changes }) => undoWith(existed(changes, false) && step('app.delete', { app: output.id }, `delete ${output.displayName}, created by the run (with its enterprise app)`)),
});

export const appUpdate = defineAction({
  id: 'app.update',
  title: 'Update app registration',
  category: 'application',
  description: 'Renames an app registration or changes its description, notes, sign-in audience or redirect URIs (the list given replaces the old one).',
  input: z.strictObject({
    app: appRef,
    displayName: z.string().min(1).max(256).optional().describe('New name'),
    description: z.string().max(1024).optional().describe('Description'),
    notes: z.string().max(1024).optional().describe('Notes for administrators'),
    signInAudience: z.enum(['AzureADMyOrg', 'AzureADMultipleOrgs', 'AzureADandPersonalMicrosoftAccount', 'PersonalMicrosoftAccount']).optional().describe('Who can sign in'),
    redirectUris: z.array(redirectUri).optional().describe('Web redirect URIs (replace the current ones)'),
  }),
  output: appSummary.extend({ changed: z.array(z.string()).describe('Properties that changed') }),
  permissions: APP_WRITE,
  bulk: true,
  // An empty description or notes comes back as an empty text (Graph stores it so).
  reverse: ({ output, changes }) =>
    undoWith(
      changes.length > 0 &&
        step('app.update', { app: output.id, ...Object.fromEntries(changes.map((c) => [c.property, c.before ?? (c.property === 'redirectUris' ? [] : '')])) }, `${changes.map((c) => c.property).join(', ')} of ${output.displayName} back`),
    ),
});

export const appDelete = defineAction({
  id: 'app.delete',
  title: 'Delete app registration',
  category: 'application',
  description:
    'Deletes an app registration and its enterprise app. It stays restorable for 30 days (deleted applications), then is gone for good. ' +
    'An app already in deleted applications counts as done.',
  input: z.strictObject({ app: appRef }),
  output: z.object({ id: z.string(), appId: z.string(), deleted: z.boolean().describe('false when it was already in deleted applications') }),
  permissions: APP_WRITE,
  bulk: true,
  undo: 'app.restore',
  reverse: ({ output, changes }) => undoWith(existed(changes, true) && step('app.restore', { app: output.id }, 'restore the app registration from deleted applications')),
});

export const appRestore = defineAction({
  id: 'app.restore',
  title: 'Restore app registration',
  category: 'application',
  description: 'Brings back an app registration deleted in the last 30 days, with its secrets, certificates and enterprise app.',
  input: z.strictObject({ app: z.string().min(1).describe('The deleted app registration: display name, application (client) id or object id') }),
  output: appSummary.extend({ restored: z.boolean().describe('false when it was not deleted (already restored)') }),
  permissions: APP_WRITE,
  bulk: true,
  undo: 'app.delete',
  reverse: ({ output, changes }) => undoWith(existed(changes, false) && step('app.delete', { app: output.id }, `delete ${output.displayName} again`)),
});

export const appAddSecret = defineAction({
  id: 'app.addSecret',
  title: 'Add client secret',
  category: 'application',
  description:
    'Adds a client secret to an app registration. Microsoft shows a secret only once: Tenantflow never puts it in the run in clear. ' +
    'It comes back sealed (encrypted with the server\'s secret key; only a Tenantflow worker can open it, when a later step passes ' +
    'it on), and with "send secret to" it is also emailed to that address. A retry whose first attempt lost Microsoft\'s answer ' +
    'removes the secret it cannot know and adds a new one, so the step leaves exactly one secret behind.',
  input: z.strictObject({
    app: appRef,
    displayName: z.string().min(1).max(100).describe('Description of the secret, e.g. "payroll sync"'),
    expiresInDays: z.number().int().min(1).max(730).default(180).describe('Days until it expires (Microsoft recommends less than 12 months)'),
    sendSecretTo: deliverTo.optional(),
    mailFrom,
  }),
  output: z.object({
    appId: z.string(),
    keyId: z.string().describe('Id of the new secret (for "Remove client secret")'),
    displayName: z.string(),
    hint: z.string().describe('The first characters of the secret, as the Entra admin center shows them'),
    endDateTime: z.string(),
    sealedSecret: z.object({ $sealed: z.string() }).nullable().describe('The secret, sealed with the server\'s key (shown as [secret]); null when the worker has no key and it was only emailed'),
    sentTo: z.string().nullable().describe('Where the secret was emailed'),
  }),
  permissions: [...APP_WRITE, 'Mail.Send'],
  bulk: false,
  undo: 'app.removeSecret',
  reverse: ({ output }) => undoWith(step('app.removeSecret', { app: output.appId, keyId: output.keyId }, `remove the secret ${output.displayName} added by the run`)),
});

export const appRemoveSecret = defineAction({
  id: 'app.removeSecret',
  title: 'Remove client secret',
  category: 'application',
  description: 'Removes client secrets from an app registration, by key id or by description. A secret that is not there counts as done.',
  input: z
    .strictObject({
      app: appRef,
      keyId: z.uuid().optional().describe('Key id of the secret'),
      displayName: z.string().min(1).optional().describe('Description of the secrets to remove (every secret with it)'),
    })
    .refine((v) => !!v.keyId !== !!v.displayName, { message: 'give either keyId or displayName', path: ['keyId'] }),
  output: z.object({ appId: z.string(), removed: z.array(z.string()).describe('Key ids removed') }),
  permissions: APP_WRITE,
  bulk: true,
  irreversible: SECRET_GONE,
});

export const appAddCertificate = defineAction({
  id: 'app.addCertificate',
  title: 'Add certificate',
  category: 'application',
  description:
    'Uploads a certificate (its public part only) to an app registration, so the app can sign in with the matching private key. ' +
    'The same certificate already there counts as done.',
  input: z.strictObject({
    app: appRef,
    certificate: z.string().min(100).describe('The certificate: PEM (-----BEGIN CERTIFICATE-----) or base64 DER; never the private key'),
    displayName: z.string().max(100).optional().describe('Description (default: the certificate\'s subject)'),
  }),
  output: z.object({ appId: z.string(), keyId: z.string(), thumbprint: z.string(), startDateTime: z.string(), endDateTime: z.string(), added: z.boolean() }),
  permissions: APP_WRITE,
  bulk: false,
  undo: 'app.removeCertificate',
  reverse: ({ output, changes }) => undoWith(changes.length > 0 && step('app.removeCertificate', { app: output.appId, certificate: output.thumbprint }, `remove the certificate ${output.thumbprint} added by the run`)),
});

export const appRemoveCertificate = defineAction({
  id: 'app.removeCertificate',
  title: 'Remove certificate',
  category: 'application',
  description: 'Removes a certificate from an app registration, by thumbprint or key id. A certificate that is not there counts as done.',
  input: z.strictObject({ app: appRef, certificate: z.string().min(1).describe('Thumbprint (hex, as the Entra admin center shows it) or key id of the certificate') }),
  output: z.object({ appId: z.string(), removed: z.boolean() }),
  permissions: APP_WRITE,
  bulk: true,
  irreversible: CERTIFICATE_GONE,
});

const credentialEntry = z.object({
  appId: z.string(),
  appObjectId: z.string(),
  appName: z.string(),
  kind: z.enum(['clientSecret', 'certificate']),
  keyId: z.string(),
  displayName: z.string().nullable(),
  endDateTime: z.string(),
  expired: z.boolean(),
  daysLeft: z.number().describe('Days until it expires (negative: days since it expired)'),
});

export const appExpiringCredentials = defineAction({
  id: 'app.expiringCredentials',
  readOnly: true,
  title: 'Report expiring app credentials',
  category: 'application',
  description:
    'Lists the client secrets and certificates of app registrations that expire within the given days (and, optionally, those ' +
    'already expired), soonest first: a loop can notify owners or remove expired ones.',
  input: z.strictObject({
    withinDays: z.number().int().min(0).max(3650).default(30).describe('Credentials that expire within this many days'),
    includeExpired: z.boolean().default(true).describe('Also list credentials that have already expired'),
    app: appRef.optional().describe('Only this app registration (default: every one)'),
  }),
  output: z.object({
    credentials: z.array(credentialEntry),
    count: z.number(),
    apps: z.array(z.string()).describe('Object ids of the apps concerned, once each (for a loop)'),
  }),
  permissions: ['Application.Read.All'],
  bulk: true,
});

export const appRemoveExpiredCredentials = defineAction({
  id: 'app.removeExpiredCredentials',
  title: 'Remove expired app credentials',
  category: 'application',
  description: 'Removes every client secret and certificate of an app registration that has already expired; valid ones are left alone.',
  input: z.strictObject({ app: appRef }),
  output: z.object({
    appId: z.string(),
    removedSecrets: z.array(z.string()).describe('Key ids of the secrets removed'),
    removedCertificates: z.array(z.string()).describe('Key ids of the certificates removed'),
  }),
  permissions: APP_WRITE,
  bulk: true,
  irreversible: `${SECRET_GONE}; ${CERTIFICATE_GONE.replace(/^a /, 'and a ')}`,
});

export const appAddOwner = defineAction({
  id: 'app.addOwner',
  title: 'Add app registration owner',
  category: 'application',
  description: 'Makes a user an owner of an app registration (owners can manage its settings and credentials). An existing owner counts as done.',
  input: z.strictObject({ app: appRef, user: userRef }),
  output: z.object({ appId: z.string(), userId: z.string(), added: z.boolean() }),
  permissions: [...APP_WRITE, 'User.Read.All'],
  bulk: true,
  undo: 'app.removeOwner',
  reverse: ({ output, changes }) => undoWith(changes.length > 0 && step('app.removeOwner', { app: output.appId, user: output.userId }, 'remove the owner again')),
});

export const appRemoveOwner = defineAction({
  id: 'app.removeOwner',
  title: 'Remove app registration owner',
  category: 'application',
  description: 'Removes a user from the owners of an app registration. A user who is not an owner counts as done.',
  input: z.strictObject({ app: appRef, user: userRef }),
  output: z.object({ appId: z.string(), userId: z.string(), removed: z.boolean() }),
  permissions: [...APP_WRITE, 'User.Read.All'],
  bulk: true,
  undo: 'app.addOwner',
  reverse: ({ output, changes }) => undoWith(changes.length > 0 && step('app.addOwner', { app: output.appId, user: output.userId }, 'make the user an owner again')),
});

const assignmentOutput = z.object({
  servicePrincipalId: z.string(),
  principalId: z.string(),
  appRoleId: z.string(),
  assignmentId: z.string().nullable(),
});

const ASSIGN = ['AppRoleAssignment.ReadWrite.All', 'Application.Read.All'];

export const appAssignUser = defineAction({
  id: 'app.assignUser',
  title: 'Assign user to enterprise app',
  category: 'application',
  description: 'Assigns a user to an enterprise app (with one of its app roles), so they see it in My Apps and can sign in when assignment is required. An existing assignment counts as done.',
  input: z.strictObject({ app: enterpriseAppRef, user: userRef, appRole }),
  output: assignmentOutput.extend({ assigned: z.boolean() }),
  permissions: [...ASSIGN, 'User.Read.All'],
  bulk: true,
  undo: 'app.unassignUser',
  reverse: ({ output, changes }) => reverseAssignments('User', output, changes),
});

export const appUnassignUser = defineAction({
  id: 'app.unassignUser',
  title: 'Unassign user from enterprise app',
  category: 'application',
  description: 'Removes a user\'s assignment to an enterprise app (the given role, or every role). A user without one counts as done.',
  input: z.strictObject({ app: enterpriseAppRef, user: userRef, appRole }),
  output: z.object({ servicePrincipalId: z.string(), principalId: z.string(), removed: z.number().describe('Assignments removed') }),
  permissions: [...ASSIGN, 'User.Read.All'],
  bulk: true,
  undo: 'app.assignUser',
  reverse: ({ output, changes }) => reverseAssignments('User', output, changes),
});

export const appAssignGroup = defineAction({
  id: 'app.assignGroup',
  title: 'Assign group to enterprise app',
  category: 'application',
  description: 'Assigns a group to an enterprise app (with one of its app roles): its direct members get access. An existing assignment counts as done.',
  input: z.strictObject({ app: enterpriseAppRef, group: groupRef, appRole }),
  output: assignmentOutput.extend({ assigned: z.boolean() }),
  permissions: [...ASSIGN, 'Group.Read.All'],
  bulk: true,
  undo: 'app.unassignGroup',
  reverse: ({ output, changes }) => reverseAssignments('Group', output, changes),
});

export const appUnassignGroup = defineAction({
  id: 'app.unassignGroup',
  title: 'Unassign group from enterprise app',
  category: 'application',
  description: 'Removes a group\'s assignment to an enterprise app (the given role, or every role). A group without one counts as done.',
  input: z.strictObject({ app: enterpriseAppRef, group: groupRef, appRole }),
  output: z.object({ servicePrincipalId: z.string(), principalId: z.string(), removed: z.number().describe('Assignments removed') }),
  permissions: [...ASSIGN, 'Group.Read.All'],
  bulk: true,
  undo: 'app.assignGroup',
  reverse: ({ output, changes }) => reverseAssignments('Group', output, changes),
});
