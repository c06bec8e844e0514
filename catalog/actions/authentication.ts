// Authentication and MFA: per-user MFA state, methods (list, remove = reset MFA), temporary access
// pass, preferred method, and the authentication contact info (phone, alternate email).
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { step, undoWith } from '../reversal.ts';
import { deliverTo, mailFrom, userRef } from '../fields.ts';

const userId = z.string().describe('Object id of the user');

export const METHOD_TYPES = [
  'phone',
  'email',
  'microsoftAuthenticator',
  'fido2',
  'softwareOath',
  'windowsHelloForBusiness',
  'temporaryAccessPass',
  'platformCredential',
] as const;

const method = z.object({
  id: z.string(),
  type: z.string().describe('phone, email, microsoftAuthenticator, fido2, softwareOath, windowsHelloForBusiness, temporaryAccessPass, password, ...'),
  detail: z.string().nullable().describe('A readable detail: the phone number, device name, address ...'),
});

export const authSetMfaState = defineAction({
  id: 'auth.setMfaState',
  title: 'Set per-user MFA',
  category: 'authentication',
  description:
    'Sets a user\'s per-user MFA state: enabled, enforced or disabled (Graph beta). "Enabled" turns into "enforced" by itself ' +
    'once the user has registered a method. Prefer Conditional Access where the tenant has it.',
  input: z.strictObject({
    user: userRef,
    state: z.enum(['enabled', 'enforced', 'disabled']).describe('The per-user MFA state'),
  }),
  output: z.object({ userId, previousState: z.string().nullable(), state: z.string(), changed: z.boolean() }),
  permissions: ['Policy.ReadWrite.AuthenticationMethod', 'User.Read.All'],
  bulk: true,
  undo: 'auth.setMfaState',
  reverse: ({ output }) => undoWith(step('auth.setMfaState', { user: output.userId, state: output.previousState ?? 'disabled' }, `per-user MFA back to ${output.previousState ?? 'disabled'}`)),
});

export const authListMethods = defineAction({
  id: 'auth.listMethods',
  title: 'List authentication methods',
  category: 'authentication',
  description: 'Lists the authentication methods a user has registered (phone, Authenticator, FIDO2 key, ...).',
  input: z.strictObject({ user: userRef }),
  output: z.object({
    userId,
    methods: z.array(method),
    mfaRegistered: z.boolean().describe('true when the user has at least one method besides the password'),
  }),
  permissions: ['UserAuthenticationMethod.Read.All', 'User.Read.All'],
  bulk: true,
  readOnly: true,
});

export const authRemoveMethods = defineAction({
  id: 'auth.removeMethods',
  title: 'Reset MFA (remove authentication methods)',
  category: 'authentication',
  description:
    'Removes a user\'s authentication methods, all of them except the password by default, so the user must register MFA ' +
    'again at next sign-in ("re-require MFA registration"). Methods already gone count as done, and a retry after a revocation ' +
    'whose answer was lost recognises it and does not revoke again.',
  input: z.strictObject({
    user: userRef,
    types: z.array(z.enum(METHOD_TYPES)).optional().describe('Only these kinds of methods; all but the password when empty'),
    revokeSessions: z.boolean().default(true).describe('Also revoke sessions so the user signs in (and registers) again now'),
  }),
  output: z.object({ userId, removed: z.array(method), kept: z.array(method).describe('Methods left, e.g. the password') }),
  permissions: ['UserAuthenticationMethod.ReadWrite.All', 'User.RevokeSessions.All', 'User.Read.All'],
  bulk: true,
  irreversible: 'removed authentication methods cannot be put back: the user registers them again',
});

export const authCreateTemporaryAccessPass = defineAction({
  id: 'auth.createTemporaryAccessPass',
  title: 'Create temporary access pass',
  category: 'authentication',
  description:
    'Creates a temporary access pass (a time-limited passcode for signing in and registering passwordless methods) and ' +
    'emails it to a named recipient from the service mailbox. The pass never appears in the run. A user has at most one ' +
    'pass: an existing one is replaced.',
  input: z.strictObject({
    user: userRef,
    sendTo: deliverTo,
    lifetimeMinutes: z.number().int().min(10).max(43200).default(60).describe('How long the pass is valid (10 minutes to 30 days)'),
    usableOnce: z.boolean().default(true).describe('The pass works for one sign-in only'),
    startDateTime: z.iso.datetime({ offset: true }).optional().describe('When the pass becomes valid; now when empty'),
    mailFrom,
  }),
  output: z.object({
    userId,
    sentTo: z.string().describe('Where the pass was emailed'),
    startDateTime: z.string().nullable(),
    lifetimeMinutes: z.number(),
    usableOnce: z.boolean(),
  }),
  permissions: ['UserAuthenticationMethod.ReadWrite.All', 'User.Read.All', 'Mail.Send'],
  bulk: true,
  irreversible: 'the pass was emailed; it expires by itself',
});

export const authSetPreferredMethod = defineAction({
  id: 'auth.setPreferredMethod',
  title: 'Set default MFA method',
  category: 'authentication',
  description:
    'Sets the user\'s default second-factor method and whether system-preferred MFA picks the strongest method instead ' +
    '(Graph beta signInPreferences). Which methods a user may use at all is set tenant-wide by the authentication methods policy.',
  input: z.strictObject({
    user: userRef,
    method: z
      .enum(['push', 'oath', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice', 'sms'])
      .optional()
      .describe('Default second factor: push (Authenticator), oath (code), sms, voice call ...'),
    systemPreferred: z.boolean().optional().describe('Let Entra choose the strongest registered method'),
  }),
  output: z.object({ userId, method: z.string().nullable(), systemPreferred: z.boolean().nullable() }),
  permissions: ['UserAuthenticationMethod.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  reverse: ({ output, changes }) => {
    const before = Object.fromEntries(changes.map((c) => [c.property, c.before]));
    if (before['method'] === null) return { irreversible: 'the user had no default method before, and a default cannot be unset' };
    return undoWith(step('auth.setPreferredMethod', { user: output.userId, ...before }, `default method back: ${changes.map((c) => `${c.property} ${String(c.before)}`).join(', ')}`));
  },
});

const phone = z
  .string()
  .regex(/^\+\d{1,3} ?\d[\d ]{3,20}(x\d+)?$/, 'international format, e.g. +1 2065555555')
  .describe('Phone number in international format, e.g. +1 2065555555');

export const userSetAuthenticationContact = defineAction({
  id: 'user.setAuthenticationContact',
  title: 'Change authentication contact info',
  category: 'authentication',
  description:
    'Sets the phone numbers and alternate email address a user proves their identity with (MFA and self-service password ' +
    'reset). A null value removes that method.',
  input: z.strictObject({
    user: userRef,
    mobilePhone: phone.nullable().optional().describe('Authentication mobile phone; null removes it'),
    alternateMobilePhone: phone.nullable().optional().describe('Alternate authentication mobile phone; null removes it'),
    officePhone: phone.nullable().optional().describe('Authentication office phone; null removes it'),
    email: z.email().nullable().optional().describe('Alternate email for password reset; null removes it'),
  }),
  output: z.object({ userId, changed: z.array(z.string()) }),
  permissions: ['UserAuthenticationMethod.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  reverse: ({ output, changes }) =>
    undoWith(step('user.setAuthenticationContact', { user: output.userId, ...Object.fromEntries(changes.map((c) => [c.property, c.before ?? null])) }, `authentication contact back: ${changes.map((c) => c.property).join(', ')}`)),
});
