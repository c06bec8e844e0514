// Domain actions: add a custom domain, read its verification records, verify it, make it the
// default or change its services, and remove it.
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { step, undoWith } from '../reversal.ts';
import { domainName, domainRef } from '../fields.ts';

const record = z.object({
  type: z.enum(['TXT', 'MX']),
  name: z.string().describe('Name (host) of the record: the domain itself'),
  value: z.string().describe('The TXT text, or the MX target'),
  ttl: z.number(),
  priority: z.number().nullable().describe('MX preference'),
});

const SERVICES = ['Email', 'Sharepoint', 'EmailInternalRelayOnly', 'OfficeCommunicationsOnline', 'SharePointDefaultDomain', 'FullRedelegation', 'SharePointPublic', 'OrgIdAuthentication', 'Yammer', 'Intune'] as const;

const domainOutput = z.object({
  id: z.string().describe('The domain name'),
  isVerified: z.boolean(),
  isDefault: z.boolean(),
  supportedServices: z.array(z.string()),
});

export const domainList = defineAction({
  id: 'domain.list',
  readOnly: true,
  title: 'List domains',
  category: 'directory',
  description: 'Lists the tenant\'s domains: verified or not, which is the default, and the services each is used for.',
  input: z.strictObject({ verifiedOnly: z.boolean().default(false).describe('Only verified domains') }),
  output: z.object({ domains: z.array(domainOutput), count: z.number() }),
  permissions: ['Domain.Read.All'],
  bulk: false,
});

export const domainAdd = defineAction({
  id: 'domain.add',
  title: 'Add domain',
  category: 'directory',
  description:
    'Adds a custom domain to the tenant, unverified, and returns the DNS record that proves ownership: add it at the domain\'s DNS ' +
    'host, then run "Verify domain". A domain the tenant already has counts as done (a subdomain of a verified domain is verified at once).',
  input: z.strictObject({ domain: domainName }),
  output: domainOutput.extend({
    created: z.boolean().describe('false when the tenant already had the domain'),
    verificationRecords: z.array(record).describe('Add one of these (the TXT record is usual) at the DNS host'),
  }),
  permissions: ['Domain.ReadWrite.All'],
  bulk: true,
  undo: 'domain.remove',
  reverse: ({ output, changes }) => undoWith((output.created || changes.some((c) => c.property === 'exists' && c.after === true)) && step('domain.remove', { domain: output.id }, `remove ${output.id}, added by the run`)),
});

export const domainVerificationRecords = defineAction({
  id: 'domain.verificationRecords',
  readOnly: true,
  title: 'Get domain verification records',
  category: 'directory',
  description: 'Reads the DNS records (TXT, or MX) that prove ownership of a domain, to hand to whoever manages its DNS.',
  input: z.strictObject({ domain: domainRef }),
  output: z.object({ domain: z.string(), isVerified: z.boolean(), verificationRecords: z.array(record) }),
  permissions: ['Domain.Read.All'],
  bulk: true,
});

export const domainVerify = defineAction({
  id: 'domain.verify',
  title: 'Verify domain',
  category: 'directory',
  description:
    'Asks Microsoft to check the domain\'s verification record in DNS. DNS changes take time to propagate: with "wait minutes" the ' +
    'step keeps checking (with heartbeats) until it succeeds or the time is up; then it fails naming the record to add.',
  input: z.strictObject({
    domain: domainRef,
    waitMinutes: z.number().int().min(0).max(240).default(0).describe('Keep checking this long while the record is not found yet'),
  }),
  output: domainOutput.extend({ verified: z.boolean().describe('false when the domain was already verified') }),
  permissions: ['Domain.ReadWrite.All'],
  bulk: true,
  irreversible: 'a verified domain stays verified: remove it to take it away',
});

export const domainUpdate = defineAction({
  id: 'domain.update',
  title: 'Update domain',
  category: 'directory',
  description: 'Makes a verified domain the tenant\'s default (new users and groups get addresses in it), or sets the services that use it.',
  input: z.strictObject({
    domain: domainRef,
    makeDefault: z.boolean().default(false).describe('Make it the default domain (it must be verified)'),
    supportedServices: z.array(z.enum(SERVICES)).optional().describe('The services that use the domain (replace the current ones), e.g. Email, Intune'),
  }),
  output: domainOutput.extend({ changed: z.array(z.string()), previousDefault: z.string().nullable().describe('The default domain before this step, when it changed') }),
  permissions: ['Domain.ReadWrite.All'],
  bulk: false,
  reverse: ({ input, changes }) =>
    undoWith(
      ...changes.map((c) =>
        c.property === 'isDefault' && c.before === true
          ? step('domain.update', { domain: c.objectId, makeDefault: true }, `make ${String(c.objectId)} the default domain again`)
          : c.property === 'supportedServices'
            ? step('domain.update', { domain: input.domain, supportedServices: c.before ?? [] }, `services of ${input.domain} back to ${JSON.stringify(c.before)}`)
            : undefined,
      ),
    ),
});

export const domainRemove = defineAction({
  id: 'domain.remove',
  title: 'Remove domain',
  category: 'directory',
  description:
    'Removes a domain from the tenant. A domain that users or groups still use is refused, unless "force" is set: then Microsoft ' +
    'renames them to the initial onmicrosoft.com domain (at most 1,000 objects; optionally disabling the renamed users) in a ' +
    'background operation that the step waits for. The default and initial domains cannot be removed. Cannot be undone.',
  input: z.strictObject({
    domain: domainRef,
    force: z.boolean().default(false).describe('Rename the users and groups that use it to the onmicrosoft.com domain, then remove it'),
    disableRenamedUsers: z.boolean().default(true).describe('With force: block sign-in for the renamed users'),
    waitMinutes: z.number().int().min(1).max(120).default(15).describe('With force: how long to wait for Microsoft to finish'),
  }),
  output: z.object({
    domain: z.string(),
    removed: z.boolean().describe('true when the domain is gone; false when a retried attempt found it already gone, or a forced removal is still running'),
    pending: z.boolean().describe('true when a forced removal was still running when the wait ended'),
  }),
  permissions: ['Domain.ReadWrite.All'],
  bulk: false,
  irreversible: 'a removed domain must be added and verified again at its DNS host (a forced removal also renamed its users and groups)',
});
