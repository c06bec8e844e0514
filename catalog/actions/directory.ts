// Directory actions: admin role assignments and trusted networks (Conditional Access named locations).
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { step, undoWith } from '../reversal.ts';
import { userRef } from '../fields.ts';

const roleRef = z
  .string()
  .min(1)
  .describe('The directory role: display name (e.g. User Administrator) or role template id');

const locationRef = z.string().min(1).describe('The named location: display name or id');

const cidr = z
  .string()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9A-Fa-f:]+\/\d{1,3})$/, 'an IPv4 or IPv6 range in CIDR notation, e.g. 203.0.113.0/24')
  .describe('IP range in CIDR notation, e.g. 203.0.113.0/24');

export const directoryAssignRole = defineAction({
  id: 'directory.assignRole',
  title: 'Grant admin role',
  category: 'directory',
  description: 'Assigns a Microsoft Entra directory role (e.g. Helpdesk Administrator) to a user, tenant-wide. An existing assignment counts as done.',
  input: z.strictObject({ user: userRef, role: roleRef }),
  output: z.object({
    userId: z.string(),
    roleDefinitionId: z.string(),
    role: z.string().describe('Role display name'),
    assignmentId: z.string(),
    assigned: z.boolean().describe('false when the user already had the role'),
  }),
  permissions: ['RoleManagement.ReadWrite.Directory', 'User.Read.All'],
  bulk: true,
  undo: 'directory.removeRole',
  reverse: ({ output }) => undoWith(step('directory.removeRole', { user: output.userId, role: output.roleDefinitionId }, `take ${output.role} back`)),
});

export const directoryRemoveRole = defineAction({
  id: 'directory.removeRole',
  title: 'Revoke admin role',
  category: 'directory',
  description: 'Removes a user\'s tenant-wide assignment of a directory role. A user without the role counts as done.',
  input: z.strictObject({ user: userRef, role: roleRef }),
  output: z.object({ userId: z.string(), roleDefinitionId: z.string(), removed: z.boolean() }),
  permissions: ['RoleManagement.ReadWrite.Directory', 'User.Read.All'],
  bulk: true,
  undo: 'directory.assignRole',
  reverse: ({ output }) => undoWith(step('directory.assignRole', { user: output.userId, role: output.roleDefinitionId }, 'give the role back')),
});

const locationOutput = z.object({
  id: z.string(),
  displayName: z.string(),
  ipRanges: z.array(z.string()),
  isTrusted: z.boolean(),
});

export const directoryCreateNamedLocation = defineAction({
  id: 'directory.createNamedLocation',
  title: 'Create trusted network',
  category: 'directory',
  description:
    'Creates a Conditional Access named location from IP ranges, marked trusted by default. A location of that name with ' +
    'the same ranges counts as done; with other ranges it is a conflict (use "Update trusted network").',
  input: z.strictObject({
    displayName: z.string().min(1).max(256).describe('Name of the location, e.g. Head office'),
    ipRanges: z.array(cidr).min(1).describe('The network\'s IP ranges'),
    isTrusted: z.boolean().default(true).describe('Treat sign-ins from here as from a trusted location'),
  }),
  output: locationOutput.extend({ created: z.boolean() }),
  permissions: ['Policy.ReadWrite.ConditionalAccess', 'Policy.Read.All'],
  bulk: false,
  undo: 'directory.deleteNamedLocation',
  // A location that existed already (same name and ranges: "done") is not the run's to delete; one an earlier attempt of the step created is (its plan recorded the creation).
  reverse: ({ output, changes }) =>
    undoWith((output.created || changes.some((c) => c.property === 'exists' && c.after === true)) && step('directory.deleteNamedLocation', { location: output.id }, `delete ${output.displayName}, created by the run`)),
});

export const directoryUpdateNamedLocation = defineAction({
  id: 'directory.updateNamedLocation',
  title: 'Update trusted network',
  category: 'directory',
  description: 'Renames a named location, replaces or extends its IP ranges, or changes whether it is trusted.',
  input: z.strictObject({
    location: locationRef,
    displayName: z.string().min(1).max(256).optional().describe('New name'),
    ipRanges: z.array(cidr).min(1).optional().describe('IP ranges'),
    rangesMode: z.enum(['replace', 'add', 'remove']).default('replace').describe('Replace the ranges, add these to them, or remove these from them'),
    isTrusted: z.boolean().optional().describe('Whether the location is trusted'),
  }),
  output: locationOutput.extend({ changed: z.boolean() }),
  permissions: ['Policy.ReadWrite.ConditionalAccess', 'Policy.Read.All'],
  bulk: false,
  reverse: ({ output, changes }) => {
    const before = Object.fromEntries(changes.map((c) => [c.property, c.before]));
    return undoWith(step('directory.updateNamedLocation', { location: output.id, ...before, ...(before['ipRanges'] ? { rangesMode: 'replace' } : {}) }, `${changes.map((c) => c.property).join(', ')} back`));
  },
});

export const directoryDeleteNamedLocation = defineAction({
  id: 'directory.deleteNamedLocation',
  title: 'Delete trusted network',
  category: 'directory',
  description: 'Deletes a named location. Conditional Access policies that still use it must be changed first.',
  input: z.strictObject({ location: locationRef }),
  output: z.object({ deleted: z.boolean().describe('false when a retried attempt found the location already gone (a name that never existed fails the step)') }),
  permissions: ['Policy.ReadWrite.ConditionalAccess', 'Policy.Read.All'],
  bulk: false,
  reverse: ({ changes }) => {
    const before = Object.fromEntries(changes.map((c) => [c.property, c.before]));
    if (typeof before['displayName'] !== 'string') return { irreversible: 'the location\'s settings were not recorded' };
    return {
      steps: [step('directory.createNamedLocation', { displayName: before['displayName'], ipRanges: before['ipRanges'], isTrusted: before['isTrusted'] }, `create ${before['displayName']} again`)],
      note: 'the location comes back under a new id',
    };
  },
});
