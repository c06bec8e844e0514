// Conditional Access policy actions (the "login policies" of the identity service's log): list,
// create, update, turn on / off / report-only, delete. Users, groups, roles, named locations and
// apps are given by name and resolved to the ids Entra stores.
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { step, undoWith } from '../reversal.ts';

/** Fields an update may set to an empty list (the others need at least one value, or cannot be cleared). */
const REVERSIBLE_TO_EMPTY = new Set(['excludeUsers', 'includeGroups', 'excludeGroups', 'includeRoles', 'excludeRoles', 'excludeApplications', 'excludePlatforms', 'signInRiskLevels', 'userRiskLevels']);

const policyRef = z
  .string()
  .min(1)
  .describe('The Conditional Access policy: its display name or id')
  .meta({ 'x-picker': 'conditionalAccessPolicy' });

const STATE = z
  .enum(['enabled', 'disabled', 'enabledForReportingButNotEnforced'])
  .describe('On (enabled), off (disabled), or report-only (enabledForReportingButNotEnforced: logs what it would do)');

const GRANTS = ['block', 'mfa', 'compliantDevice', 'domainJoinedDevice', 'approvedApplication', 'compliantApplication', 'passwordChange'] as const;
const PLATFORMS = ['android', 'iOS', 'windows', 'windowsPhone', 'macOS', 'linux', 'all'] as const;
const CLIENT_APPS = ['all', 'browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'other'] as const;
const RISK = ['low', 'medium', 'high', 'none'] as const;

const names = (what: string) => z.array(z.string().min(1)).describe(what);

/** Who, what, where and how: the parts of a policy, each optional (an update changes only those given). */
const policyShape = {
  includeUsers: names('Users it applies to: user principal names or ids, or All, or GuestsOrExternalUsers').optional(),
  excludeUsers: names('Users it never applies to (e.g. break-glass accounts): user principal names or ids').optional(),
  includeGroups: names('Groups it applies to: names, mail addresses or ids').optional(),
  excludeGroups: names('Groups it never applies to').optional(),
  includeRoles: names('Directory roles it applies to: role names (e.g. Global Administrator) or template ids').optional(),
  excludeRoles: names('Directory roles it never applies to').optional(),
  includeApplications: names('Cloud apps it applies to: All, Office365, MicrosoftAdminPortals, or enterprise app names or application ids').optional(),
  excludeApplications: names('Cloud apps it never applies to').optional(),
  clientAppTypes: z.array(z.enum(CLIENT_APPS)).min(1).optional().describe('Client apps: all, browser, mobileAppsAndDesktopClients, or legacy exchangeActiveSync / other'),
  includePlatforms: z.array(z.enum(PLATFORMS)).min(1).optional().describe('Device platforms it applies to'),
  excludePlatforms: z.array(z.enum(PLATFORMS)).optional().describe('Device platforms it never applies to'),
  includeLocations: names('Locations it applies to: All, AllTrusted, or named location names').optional(),
  excludeLocations: names('Locations it never applies to: AllTrusted, or named location names (e.g. the office)').optional(),
  signInRiskLevels: z.array(z.enum(RISK)).optional().describe('Sign-in risk levels it applies to (Entra ID P2)'),
  userRiskLevels: z.array(z.enum(RISK)).optional().describe('User risk levels it applies to (Entra ID P2)'),
  grant: z.array(z.enum(GRANTS)).min(1).optional().describe('What to require: block, or mfa, compliantDevice, domainJoinedDevice, approvedApplication, compliantApplication, passwordChange'),
  grantOperator: z.enum(['OR', 'AND']).optional().describe('Require one (OR) or all (AND) of the grant controls'),
  signInFrequencyHours: z.number().int().min(1).max(8760).optional().describe('Make users sign in again after this many hours'),
};

/** The parts of a policy as a handler receives them. */
export type PolicyParts = z.output<z.ZodObject<typeof policyShape>>;

const policyOutput = z.object({
  id: z.string(),
  displayName: z.string(),
  state: z.string(),
});

const PERMS = ['Policy.ReadWrite.ConditionalAccess', 'Policy.Read.All', 'User.Read.All', 'Group.Read.All', 'Application.Read.All', 'RoleManagement.Read.Directory'];

export const policyListConditionalAccess = defineAction({
  id: 'policy.listConditionalAccess',
  readOnly: true,
  title: 'List Conditional Access policies',
  category: 'directory',
  description: 'Lists the tenant\'s Conditional Access policies with their state and what they require.',
  input: z.strictObject({ state: STATE.optional().describe('Only policies in this state') }),
  output: z.object({
    policies: z.array(policyOutput.extend({ grant: z.array(z.string()), modifiedDateTime: z.string().nullable() })),
    count: z.number(),
  }),
  permissions: ['Policy.Read.All'],
  bulk: false,
});

export const policyCreateConditionalAccess = defineAction({
  id: 'policy.createConditionalAccess',
  title: 'Create Conditional Access policy',
  category: 'directory',
  description:
    'Creates a Conditional Access policy: who (users, groups, roles), which apps, from where and on what, and what to require ' +
    '(MFA, a compliant device, block, ...). It starts report-only unless another state is given. A policy that would block every ' +
    'user with no one excluded is refused (it would lock out the administrators too). A policy of that name counts as a conflict ' +
    'unless this step created it on an earlier attempt.',
  input: z.strictObject({
    displayName: z.string().min(1).max(256).describe('Name of the policy'),
    state: STATE.default('enabledForReportingButNotEnforced'),
    ...policyShape,
    includeApplications: policyShape.includeApplications.default(['All']),
    clientAppTypes: policyShape.clientAppTypes.default(['all']),
    grant: policyShape.grant.default(['mfa']),
    grantOperator: z.enum(['OR', 'AND']).default('OR').describe('Require one (OR) or all (AND) of the grant controls'),
  }),
  output: policyOutput.extend({ created: z.boolean().describe('false when an earlier attempt of this step had already created it') }),
  permissions: PERMS,
  bulk: false,
  undo: 'policy.deleteConditionalAccess',
  reverse: ({ output, changes }) => undoWith((output.created || changes.some((c) => c.property === 'exists' && c.after === true)) && step('policy.deleteConditionalAccess', { policy: output.id }, `delete ${output.displayName}, created by the run`)),
});

export const policyUpdateConditionalAccess = defineAction({
  id: 'policy.updateConditionalAccess',
  title: 'Update Conditional Access policy',
  category: 'directory',
  description: 'Changes the parts of a Conditional Access policy that are given (each list replaces the old one); the rest stays as it is.',
  input: z.strictObject({ policy: policyRef, displayName: z.string().min(1).max(256).optional().describe('New name'), ...policyShape }),
  output: policyOutput.extend({ changed: z.array(z.string()).describe('Parts that changed') }),
  permissions: PERMS,
  bulk: false,
  reverse: ({ output, changes }) => {
    // Each recorded property is an input field of this action, its before-value in the ids Entra keeps (accepted as input).
    const params: Record<string, unknown> = { policy: output.id };
    const cannot: string[] = [];
    for (const c of changes) {
      const empty = c.before === null || (Array.isArray(c.before) && c.before.length === 0);
      if (empty && !REVERSIBLE_TO_EMPTY.has(c.property)) cannot.push(c.property);
      else params[c.property] = c.before;
    }
    if (Object.keys(params).length === 1) return cannot.length ? { irreversible: `${cannot.join(', ')} cannot be set back to empty by an update` } : undoWith();
    return { steps: [step('policy.updateConditionalAccess', params, `${output.displayName} back as it was`)], ...(cannot.length ? { note: `${cannot.join(', ')} cannot be set back to empty by an update: check by hand` } : {}) };
  },
});

export const policySetConditionalAccessState = defineAction({
  id: 'policy.setConditionalAccessState',
  title: 'Turn Conditional Access policy on or off',
  category: 'directory',
  description: 'Turns a Conditional Access policy on, off or to report-only.',
  input: z.strictObject({ policy: policyRef, state: STATE }),
  output: policyOutput.extend({ previousState: z.string(), changed: z.boolean() }),
  permissions: ['Policy.ReadWrite.ConditionalAccess', 'Policy.Read.All'],
  bulk: true,
  undo: 'policy.setConditionalAccessState',
  reverse: ({ output, changes }) => undoWith(...changes.filter((c) => c.property === 'state').map((c) => step('policy.setConditionalAccessState', { policy: output.id, state: c.before }, `state of ${output.displayName} back to ${String(c.before)}`))),
});

export const policyDeleteConditionalAccess = defineAction({
  id: 'policy.deleteConditionalAccess',
  title: 'Delete Conditional Access policy',
  category: 'directory',
  description: 'Deletes a Conditional Access policy. Consider turning it off instead: a deleted policy cannot be restored.',
  input: z.strictObject({ policy: policyRef }),
  output: z.object({ id: z.string().nullable(), deleted: z.boolean().describe('false when a retried attempt found it already gone') }),
  permissions: ['Policy.ReadWrite.ConditionalAccess', 'Policy.Read.All'],
  bulk: true,
  irreversible: 'Graph cannot restore a deleted Conditional Access policy for Tenantflow: recreate it (the step\'s plan recorded its name and state)',
});
