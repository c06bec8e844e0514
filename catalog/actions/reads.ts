// Reads that runbooks branch and loop on. They change nothing.
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { groupRef, groupSummary, userRef, userSummary } from '../fields.ts';

export const userGet = defineAction({
  id: 'user.get',
  title: 'Get user',
  category: 'user',
  description:
    'Reads a user\'s properties. With "fail if missing" off, a missing user is not an error: found is false, so a ' +
    'condition can branch on steps.<id>.output.found.',
  input: z.strictObject({
    user: userRef,
    failIfMissing: z.boolean().default(true).describe('Fail the step when the user does not exist'),
  }),
  output: z.object({
    found: z.boolean(),
    user: userSummary
      .extend({
        givenName: z.string().nullable().optional(),
        surname: z.string().nullable().optional(),
        companyName: z.string().nullable().optional(),
        officeLocation: z.string().nullable().optional(),
        city: z.string().nullable().optional(),
        country: z.string().nullable().optional(),
        usageLocation: z.string().nullable().optional(),
        mobilePhone: z.string().nullable().optional(),
        employeeId: z.string().nullable().optional(),
        createdDateTime: z.string().nullable().optional(),
        onPremisesSyncEnabled: z.boolean().nullable().optional(),
        passwordPolicies: z.string().nullable().optional(),
      })
      .nullable()
      .describe('The user; null when not found'),
  }),
  permissions: ['User.Read.All'],
  bulk: true,
  readOnly: true,
});

export const userFind = defineAction({
  id: 'user.find',
  title: 'Find users',
  category: 'user',
  description:
    'Lists users matching simple criteria or an OData filter (e.g. department eq \'Sales\'), for a loop over them. ' +
    'Criteria are combined with "and".',
  input: z.strictObject({
    filter: z.string().max(2000).optional().describe('An OData $filter on users, e.g. startswith(displayName,\'Ann\')'),
    department: z.string().optional().describe('Department equals'),
    jobTitle: z.string().optional().describe('Job title equals'),
    city: z.string().optional().describe('City equals'),
    country: z.string().optional().describe('Country equals'),
    userType: z.enum(['Member', 'Guest']).optional().describe('Members or guests only'),
    accountEnabled: z.boolean().optional().describe('Only users who can (true) or cannot (false) sign in'),
    max: z.number().int().min(1).max(5000).default(500).describe('Stop after this many users'),
  }),
  output: z.object({
    users: z.array(userSummary),
    count: z.number().describe('How many users were returned'),
    truncated: z.boolean().describe('true when more users matched than "max"'),
  }),
  permissions: ['User.Read.All'],
  bulk: false,
  readOnly: true,
});

export const userListGroups = defineAction({
  id: 'user.listGroups',
  title: 'List user\'s groups',
  category: 'user',
  description: 'Lists the groups a user belongs to, directly or (optionally) through nested groups.',
  input: z.strictObject({
    user: userRef,
    transitive: z.boolean().default(false).describe('Include groups the user belongs to through other groups'),
  }),
  output: z.object({ userId: z.string(), groups: z.array(groupSummary), count: z.number() }),
  permissions: ['GroupMember.Read.All', 'User.Read.All'],
  bulk: true,
  readOnly: true,
});

export const groupListMembers = defineAction({
  id: 'group.listMembers',
  title: 'List group members',
  category: 'group',
  description: 'Lists the members of a group (users only by default), for a loop over them.',
  input: z.strictObject({
    group: groupRef,
    transitive: z.boolean().default(false).describe('Include members of nested groups'),
    usersOnly: z.boolean().default(true).describe('Leave out nested groups, devices and contacts'),
  }),
  output: z.object({
    groupId: z.string(),
    members: z.array(
      z.object({
        id: z.string(),
        type: z.string().describe('user, group, device, ...'),
        displayName: z.string().nullable().optional(),
        userPrincipalName: z.string().nullable().optional(),
        mail: z.string().nullable().optional(),
      }),
    ),
    count: z.number(),
  }),
  permissions: ['GroupMember.Read.All'],
  bulk: true,
  readOnly: true,
});

export const userGetLicences = defineAction({
  id: 'user.getLicences',
  title: 'Get user\'s licences',
  category: 'licence',
  description: 'Lists a user\'s licences with their service plans and which plans are switched off.',
  input: z.strictObject({ user: userRef }),
  output: z.object({
    userId: z.string(),
    licences: z.array(
      z.object({
        skuId: z.string(),
        skuPartNumber: z.string(),
        disabledPlans: z.array(z.string()).describe('Names of the service plans switched off'),
        enabledPlans: z.array(z.string()).describe('Names of the service plans switched on'),
      }),
    ),
    skuPartNumbers: z.array(z.string()).describe('Just the SKU part numbers, for conditions such as "SPE_E3" in ...'),
  }),
  permissions: ['User.Read.All'],
  bulk: true,
  readOnly: true,
});

export const userGetManager = defineAction({
  id: 'user.getManager',
  title: 'Get user\'s manager',
  category: 'user',
  description: 'Reads a user\'s manager; found is false when the user has none.',
  input: z.strictObject({ user: userRef }),
  output: z.object({ userId: z.string(), found: z.boolean(), manager: userSummary.nullable() }),
  permissions: ['User.Read.All'],
  bulk: true,
  readOnly: true,
});
