import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { usageLocation } from '../fields.ts';

export const userCreate = defineAction({
  id: 'user.create',
  title: 'Create user',
  category: 'user',
  description:
    'Creates a Microsoft Entra ID user with a generated temporary password that must be changed at first sign-in. ' +
    'The password never leaves the worker.',
  input: z.strictObject({
    userPrincipalName: z.email().describe('Sign-in name, e.g. anna.lindqvist@contoso.com'),
    displayName: z.string().min(1).max(256).describe('Name shown in the address book'),
    givenName: z.string().max(64).optional().describe('First name'),
    surname: z.string().max(64).optional().describe('Last name'),
    mailNickname: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only')
      .max(64)
      .optional()
      .describe('Mail alias; defaults to the part of the UPN before @'),
    jobTitle: z.string().max(128).optional(),
    department: z.string().max(64).optional(),
    officeLocation: z.string().max(128).optional(),
    mobilePhone: z.string().max(64).optional(),
    usageLocation: usageLocation.optional(),
    accountEnabled: z.boolean().default(true).describe('Whether the user can sign in right away'),
  }),
  output: z.object({
    id: z.string().describe('Object id of the user'),
    userPrincipalName: z.string(),
    created: z.boolean().describe('false when an earlier attempt of this step had already created the user'),
  }),
  permissions: ['User.ReadWrite.All'],
  bulk: true,
  undo: 'user.delete',
});
