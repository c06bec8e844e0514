// Investigation: a read-only "is this account compromised?" report that runbooks branch on.
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { userRef } from '../fields.ts';

const section = <T extends z.ZodType>(item: T) =>
  z.object({
    available: z.boolean().describe('false when this part could not be read (see reason)'),
    reason: z.string().nullable().describe('Why the part is missing, e.g. the permission to grant'),
    items: z.array(item),
  });

export const investigateCompromisedAccount = defineAction({
  id: 'investigation.compromisedAccount',
  title: 'Research compromised account',
  category: 'investigation',
  description:
    'Collects the usual indicators of a compromised account into one report: recent sign-ins (failures, countries, risky ' +
    'ones), inbox rules that forward, redirect or delete mail, mailbox forwarding, authentication method changes, and app ' +
    'consents. It changes nothing. Parts it cannot read are marked unavailable with the reason, and "indicators" lists what ' +
    'looks suspicious, so a condition can branch on steps.<id>.output.suspicious.',
  input: z.strictObject({
    user: userRef,
    days: z.number().int().min(1).max(30).default(7).describe('How many days back to look'),
    trustedCountries: z.array(z.string().length(2)).default([]).describe('Two-letter country codes that are normal for this user'),
  }),
  output: z.object({
    userId: z.string(),
    userPrincipalName: z.string(),
    accountEnabled: z.boolean().nullable(),
    suspicious: z.boolean().describe('true when at least one indicator was found'),
    indicators: z.array(z.string()).describe('What looks suspicious, in words'),
    signIns: section(
      z.object({
        createdDateTime: z.string(),
        appDisplayName: z.string().nullable(),
        ipAddress: z.string().nullable(),
        country: z.string().nullable(),
        succeeded: z.boolean(),
        riskLevel: z.string().nullable(),
      }),
    ),
    inboxRules: section(
      z.object({ name: z.string(), enabled: z.boolean(), forwardsTo: z.array(z.string()), deletes: z.boolean(), movesTo: z.string().nullable() }),
    ),
    forwarding: section(z.object({ forwardingSmtpAddress: z.string().nullable(), forwardingAddress: z.string().nullable(), keepsCopy: z.boolean() })),
    methodChanges: section(z.object({ activityDateTime: z.string(), activity: z.string(), initiatedBy: z.string().nullable() })),
    appConsents: section(z.object({ clientId: z.string(), scope: z.string(), consentType: z.string() })),
  }),
  permissions: ['User.Read.All', 'AuditLog.Read.All', 'MailboxSettings.Read', 'Directory.Read.All'],
  otherPermissions: ['Exchange.ManageAsApp'],
  bulk: true,
  readOnly: true,
});
