// Microsoft Teams actions (Graph): teams, channels, members and owners, archive, settings, and Teams
// administration through Graph's teamsAdministration APIs (policy assignment, phone numbers).
// Call queues, auto attendants, holidays, resource accounts and direct-routing number uploads have no
// documented REST API (Teams PowerShell only), so they are not here (see catalog/coverage/).
import { z } from 'zod';
import { defineAction, type Change, type InverseStep, type Reversal } from '../contract.ts';
import { byObject, step, undoWith } from '../reversal.ts';
import { channelRef, teamRef, userRef } from '../fields.ts';

const teamId = z.string().describe('Object id of the team (and of its Microsoft 365 group)');
const visibility = z.enum(['private', 'public']).describe('private: owners add people; public: anyone in the organisation can join');
const teamName = z.string().min(1).max(256).describe('Team name');
const description = z.string().max(1024).describe('What the team is for');
const channelName = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[^~#%&*{}+/\\:<>?|'".]+$/, "no ~ # % & * { } + / \\ : < > ? | ' \" or .")
  .refine((s) => !s.startsWith('_'), 'cannot start with an underscore')
  .describe('Channel name (at most 50 characters)');
const TEAMS_READ = ['Team.ReadBasic.All', 'TeamMember.Read.All', 'User.Read.All'];

export const teamsCreate = defineAction({
  id: 'teams.create',
  title: 'Create team',
  category: 'teams',
  description:
    'Creates a team (and its Microsoft 365 group) with an owner and members. Microsoft answers at once and provisions the team in ' +
    'the background: the step waits, heartbeating, until the team exists. A team of the same name created by an earlier attempt of ' +
    'this step is reused; another team of that name is a conflict.',
  input: z.strictObject({
    displayName: teamName,
    description: description.optional(),
    visibility: visibility.default('private'),
    owner: userRef.describe('The owner (a team created by an app must have one): user principal name or object id'),
    members: z.array(userRef).max(19).default([]).describe('Members besides the owner (more can be added afterwards)'),
  }),
  output: z.object({ id: teamId, displayName: z.string(), created: z.boolean().describe('false when an earlier attempt of this step had created it') }),
  permissions: ['Team.Create', 'Team.ReadBasic.All', 'Group.Read.All', 'User.Read.All'],
  bulk: true,
  undo: 'teams.delete',
  reverse: ({ output }) => undoWith(step('teams.delete', { team: output.id }, `delete ${output.displayName}, created by the run (its group stays restorable for 30 days)`)),
});

export const teamsCreateFromGroup = defineAction({
  id: 'teams.createFromGroup',
  title: 'Create team from Microsoft 365 group',
  category: 'teams',
  description:
    'Adds Teams to an existing Microsoft 365 group (its members and owners become the team\'s) and waits until the team is provisioned. ' +
    'A group that already has a team counts as done.',
  input: z.strictObject({ group: z.string().min(1).describe('The Microsoft 365 group: object id, display name or mail address').meta({ 'x-picker': 'group' }) }),
  output: z.object({ id: teamId, created: z.boolean().describe('false when the group already had a team') }),
  permissions: ['Team.Create', 'Team.ReadBasic.All', 'Group.Read.All'],
  bulk: true,
  irreversible: 'a team cannot be taken off its Microsoft 365 group ("Remove team" deletes the group with it)',
});

export const teamsGet = defineAction({
  id: 'teams.get',
  readOnly: true,
  title: 'Get team',
  category: 'teams',
  description: 'Reads a team: name, visibility, archived or not, its channels and its owners.',
  input: z.strictObject({ team: teamRef }),
  output: z.object({
    id: teamId,
    displayName: z.string(),
    description: z.string().nullable(),
    visibility: z.string().nullable(),
    isArchived: z.boolean(),
    webUrl: z.string().nullable(),
    channels: z.array(z.object({ id: z.string(), displayName: z.string(), membershipType: z.string() })),
    owners: z.array(z.object({ id: z.string(), displayName: z.string().nullable(), email: z.string().nullable() })),
    memberCount: z.number().int(),
  }),
  permissions: [...TEAMS_READ, 'Channel.ReadBasic.All', 'Group.Read.All'],
  bulk: true,
});

export const teamsUpdate = defineAction({
  id: 'teams.update',
  title: 'Edit team',
  category: 'teams',
  description: 'Changes a team\'s name, description or visibility (private / public). Give only what changes.',
  input: z.strictObject({ team: teamRef, displayName: teamName.optional(), description: description.optional(), visibility: visibility.optional() }),
  output: z.object({ id: teamId, changed: z.array(z.string()).describe('Properties that changed (empty when all were already so)') }),
  permissions: ['TeamSettings.ReadWrite.All', 'Team.ReadBasic.All', 'Group.Read.All'],
  bulk: true,
  reverse: ({ output, changes }) => {
    // Name and visibility always have a value; an empty description is set back as an empty string.
    const params = Object.fromEntries(changes.map((c) => [c.property, c.before ?? '']));
    return undoWith(changes.length > 0 && step('teams.update', { team: output.id, ...params }, `${changes.map((c) => c.property).join(', ')} of the team back`));
  },
});

const memberSettings = z.strictObject({
  allowCreateUpdateChannels: z.boolean().optional(),
  allowDeleteChannels: z.boolean().optional(),
  allowAddRemoveApps: z.boolean().optional(),
  allowCreateUpdateRemoveTabs: z.boolean().optional(),
  allowCreateUpdateRemoveConnectors: z.boolean().optional(),
  allowCreatePrivateChannels: z.boolean().optional(),
});
const guestSettings = z.strictObject({ allowCreateUpdateChannels: z.boolean().optional(), allowDeleteChannels: z.boolean().optional() });
const messagingSettings = z.strictObject({
  allowUserEditMessages: z.boolean().optional(),
  allowUserDeleteMessages: z.boolean().optional(),
  allowOwnerDeleteMessages: z.boolean().optional(),
  allowTeamMentions: z.boolean().optional(),
  allowChannelMentions: z.boolean().optional(),
});
const funSettings = z.strictObject({
  allowGiphy: z.boolean().optional(),
  giphyContentRating: z.enum(['strict', 'moderate']).optional(),
  allowStickersAndMemes: z.boolean().optional(),
  allowCustomMemes: z.boolean().optional(),
});

export const teamsSetSettings = defineAction({
  id: 'teams.setSettings',
  title: 'Set team settings',
  category: 'teams',
  description: 'Sets what members and guests may do in a team (channels, apps, tabs), messaging rules and fun settings. Give only the settings that change.',
  input: z.strictObject({
    team: teamRef,
    memberSettings: memberSettings.optional().describe('What members may do'),
    guestSettings: guestSettings.optional().describe('What guests may do'),
    messagingSettings: messagingSettings.optional().describe('Editing, deleting and mentions'),
    funSettings: funSettings.optional().describe('Giphy, stickers and memes'),
  }),
  output: z.object({ id: teamId, changed: z.array(z.string()).describe('Settings that changed, as group.setting') }),
  permissions: ['TeamSettings.ReadWrite.All', 'Team.ReadBasic.All', 'Group.Read.All'],
  bulk: true,
  reverse: ({ output, changes }) => {
    const params: Record<string, Record<string, unknown>> = {};
    const unknown: string[] = [];
    for (const c of changes) {
      const [group, key] = c.property.split('.') as [string, string];
      if (c.before === null) unknown.push(c.property);
      else (params[group] ??= {})[key] = c.before;
    }
    const steps = Object.keys(params).length ? [step('teams.setSettings', { team: output.id, ...params }, `${Object.keys(params).join(', ')} of the team back`)] : [];
    return { steps, ...(unknown.length ? { note: `${unknown.join(', ')} had no value before: check by hand` } : {}) };
  },
});

// ---- reverses from recorded changes (docs/plan.md) ----

/** Archiving goes back with its opposite when the step changed it. */
const reverseArchived = ({ input, changes }: { input: { team: string }; changes: readonly Change[] }): Reversal => {
  const c = changes.find((x) => x.property === 'archived');
  if (!c) return undoWith();
  return undoWith(step(c.before ? 'teams.archive' : 'teams.unarchive', { team: c.objectId ?? input.team }, `${c.before ? 'archive' : 'unarchive'} ${c.object} again`));
};

/** The step that puts a user's recorded role in a team back: owner, member, or out of the team. */
function roleBack(team: string, c: Change): InverseStep {
  const user = c.property.slice('role '.length);
  if (c.before === 'owner') return step('teams.addOwner', { team, user }, `${user} owner of ${c.object} again`);
  if (c.before === 'member') return c.after === 'owner' ? step('teams.removeOwner', { team, user, keepAsMember: true }, `${user} member of ${c.object} again`) : step('teams.addMember', { team, user }, `${user} back in ${c.object}`);
  return step('teams.removeMember', { team, user }, `${user} out of ${c.object} again`);
}

/** A user's role goes back to the recorded one. */
const reverseRole = ({ input, changes }: { input: { team: string; user: string }; changes: readonly Change[] }): Reversal => {
  const c = changes.find((x) => x.property.startsWith('role '));
  return c ? undoWith(roleBack(typeof c.objectId === 'string' ? c.objectId : input.team, c)) : undoWith();
};

/** A user's recorded role in a private or shared channel goes back (a channel owner made one is removed and added back as member). */
const reverseChannelRole = ({ output, changes }: { output: { teamId: string; channelId: string }; changes: readonly Change[] }): Reversal => {
  const c = changes.find((x) => x.property.startsWith('role '));
  if (!c) return undoWith();
  const at = { team: output.teamId, channel: output.channelId };
  const user = c.property.slice('role '.length);
  if (c.before === null) return undoWith(step('teams.removeChannelMember', { ...at, user }, `${user} out of ${c.object} again`));
  if (c.before === 'member' && c.after === 'owner')
    return undoWith(step('teams.removeChannelMember', { ...at, user }, `${user} out of ${c.object}, to come back as member`), step('teams.addChannelMember', { ...at, user, owner: false }, `${user} member of ${c.object} again`));
  return undoWith(step('teams.addChannelMember', { ...at, user, owner: c.before === 'owner' }, `${user} back in ${c.object} as ${String(c.before)}`));
};

export const teamsArchive = defineAction({
  id: 'teams.archive',
  title: 'Archive team',
  category: 'teams',
  description:
    'Archives a team: it becomes read-only and moves to the archived list. Waits until Microsoft has finished archiving. An archived team counts as done.',
  input: z.strictObject({
    team: teamRef,
    siteReadOnlyForMembers: z.boolean().default(false).describe('Also make the team\'s SharePoint site read-only for members'),
  }),
  output: z.object({ id: teamId, archived: z.boolean().describe('false when the team was already archived') }),
  permissions: ['TeamSettings.ReadWrite.All', 'Team.ReadBasic.All', 'Group.Read.All'],
  bulk: true,
  undo: 'teams.unarchive',
  reverse: reverseArchived,
});

export const teamsUnarchive = defineAction({
  id: 'teams.unarchive',
  title: 'Unarchive team',
  category: 'teams',
  description: 'Restores an archived team to active use and waits until Microsoft has finished. An active team counts as done.',
  input: z.strictObject({ team: teamRef }),
  output: z.object({ id: teamId, unarchived: z.boolean().describe('false when the team was not archived') }),
  permissions: ['TeamSettings.ReadWrite.All', 'Team.ReadBasic.All', 'Group.Read.All'],
  bulk: true,
  undo: 'teams.archive',
  reverse: reverseArchived,
});

export const teamsDelete = defineAction({
  id: 'teams.delete',
  title: 'Remove team',
  category: 'teams',
  description:
    'Deletes a team with its Microsoft 365 group, mailbox and site. The group stays restorable for 30 days ("Restore deleted group" brings the team back).',
  input: z.strictObject({ team: teamRef }),
  output: z.object({ id: teamId, deleted: z.boolean().describe('false when the team was already deleted') }),
  permissions: ['Group.ReadWrite.All'],
  bulk: true,
  undo: 'group.restore',
  reverse: ({ output, changes }) => undoWith(changes.some((c) => c.property === 'exists') && step('group.restore', { group: output.id }, 'restore the team\'s group (and the team) from deleted items')),
});

export const teamsAddChannel = defineAction({
  id: 'teams.addChannel',
  title: 'Create channel',
  category: 'teams',
  description:
    'Creates a standard, private or shared channel in a team. Private and shared channels need an owner. A channel of that name created ' +
    'by an earlier attempt of this step is reused; an older one is a conflict.',
  input: z.strictObject({
    team: teamRef,
    displayName: channelName,
    description: z.string().max(1024).optional().describe('What the channel is for'),
    membershipType: z.enum(['standard', 'private', 'shared']).default('standard').describe('standard: every team member; private / shared: only the channel\'s members'),
    owner: userRef.optional().describe('Owner of a private or shared channel (required for those)'),
  }),
  output: z.object({ teamId, channelId: z.string(), displayName: z.string(), created: z.boolean() }),
  permissions: ['Channel.Create', 'Channel.ReadBasic.All', 'Team.ReadBasic.All', 'Group.Read.All', 'User.Read.All'],
  bulk: true,
  undo: 'teams.removeChannel',
  reverse: ({ output }) => undoWith(step('teams.removeChannel', { team: output.teamId, channel: output.channelId }, `remove the channel ${output.displayName}, created by the run`)),
});

export const teamsUpdateChannel = defineAction({
  id: 'teams.updateChannel',
  title: 'Edit channel',
  category: 'teams',
  description: 'Renames a channel or changes its description (the General channel cannot be renamed).',
  input: z.strictObject({ team: teamRef, channel: channelRef, displayName: channelName.optional(), description: z.string().max(1024).optional().describe('New description') }),
  output: z.object({ teamId, channelId: z.string(), changed: z.array(z.string()) }),
  permissions: ['ChannelSettings.ReadWrite.All', 'Channel.ReadBasic.All', 'Team.ReadBasic.All', 'Group.Read.All'],
  bulk: true,
  // The recorded description is '' when it had none: "Edit channel" clears it with that.
  reverse: ({ output, changes }) =>
    undoWith(changes.length > 0 && step('teams.updateChannel', { team: output.teamId, channel: output.channelId, ...Object.fromEntries(changes.map((c) => [c.property, c.before ?? ''])) }, `${changes.map((c) => c.property).join(', ')} of the channel back`)),
});

export const teamsRemoveChannel = defineAction({
  id: 'teams.removeChannel',
  title: 'Remove channel',
  category: 'teams',
  description: 'Deletes a channel (not General). A channel that is already gone counts as done.',
  input: z.strictObject({ team: teamRef, channel: channelRef }),
  output: z.object({ teamId, channelId: z.string().nullable(), removed: z.boolean().describe('false when there was no such channel any more') }),
  permissions: ['Channel.Delete.All', 'Channel.ReadBasic.All', 'Team.ReadBasic.All', 'Group.Read.All'],
  bulk: true,
  irreversible: 'Microsoft Graph cannot restore a deleted channel: a team owner can, in Teams, for 30 days (Manage team > Channels > Deleted)',
});

const teamMemberOutput = z.object({ teamId, userId: z.string(), changed: z.boolean().describe('false when there was nothing to do') });

export const teamsAddMember = defineAction({
  id: 'teams.addMember',
  title: 'Add member to team',
  category: 'teams',
  description: 'Adds a user to a team as a member. A user who is already a member (or owner) counts as done.',
  input: z.strictObject({ team: teamRef, user: userRef }),
  output: teamMemberOutput,
  permissions: ['TeamMember.ReadWrite.All', ...TEAMS_READ, 'Group.Read.All'],
  bulk: true,
  undo: 'teams.removeMember',
  reverse: reverseRole,
});

export const teamsRemoveMember = defineAction({
  id: 'teams.removeMember',
  title: 'Remove member from team',
  category: 'teams',
  description: 'Removes a user from a team (as member and as owner). A team\'s last owner cannot be removed: add another owner first.',
  input: z.strictObject({ team: teamRef, user: userRef }),
  output: teamMemberOutput,
  permissions: ['TeamMember.ReadWrite.All', ...TEAMS_READ, 'Group.Read.All'],
  bulk: true,
  undo: 'teams.addMember',
  reverse: reverseRole,
});

export const teamsAddOwner = defineAction({
  id: 'teams.addOwner',
  title: 'Add owner to team',
  category: 'teams',
  description: 'Makes a user an owner of a team (adding them as a member first if needed). An existing owner counts as done.',
  input: z.strictObject({ team: teamRef, user: userRef }),
  output: teamMemberOutput,
  permissions: ['TeamMember.ReadWrite.All', ...TEAMS_READ, 'Group.Read.All'],
  bulk: true,
  undo: 'teams.removeOwner',
  reverse: reverseRole,
});

export const teamsRemoveOwner = defineAction({
  id: 'teams.removeOwner',
  title: 'Remove owner from team',
  category: 'teams',
  description: 'Demotes an owner to member (or removes them from the team). The last owner cannot be demoted: add another owner first.',
  input: z.strictObject({ team: teamRef, user: userRef, keepAsMember: z.boolean().default(true).describe('Keep the user in the team as a member') }),
  output: teamMemberOutput,
  permissions: ['TeamMember.ReadWrite.All', ...TEAMS_READ, 'Group.Read.All'],
  bulk: true,
  undo: 'teams.addOwner',
  reverse: reverseRole,
});

export const teamsTransferOwnership = defineAction({
  id: 'teams.transferOwnership',
  title: 'Hand over team ownership',
  category: 'teams',
  description:
    'Makes `to` an owner of a team -- or of every team `from` owns when no team is given -- and then demotes `from` to member or ' +
    'removes them. The offboarding step for a leaver\'s teams. Teams already handed over count as done.',
  input: z.strictObject({
    from: userRef.describe('The current owner (e.g. the leaver)'),
    to: userRef.describe('The new owner (e.g. the manager)'),
    team: teamRef.optional().describe('One team; without it, every team `from` owns'),
    previousOwner: z.enum(['member', 'remove', 'keepOwner']).default('member').describe('What becomes of `from`: demoted to member, removed from the team, or left an owner'),
  }),
  output: z.object({
    teams: z.array(z.object({ teamId: z.string(), displayName: z.string(), newOwnerAdded: z.boolean(), previousOwnerChanged: z.boolean() })),
  }),
  permissions: ['TeamMember.ReadWrite.All', ...TEAMS_READ, 'Group.Read.All'],
  bulk: true,
  // Per team, the previous owner's role first (so the team never lacks an owner), then the new owner's.
  reverse: ({ changes }) =>
    undoWith(
      ...[...byObject(changes)].flatMap(([team, cs]) => [...cs].sort((a, b) => Number(b.before === 'owner') - Number(a.before === 'owner')).map((c) => roleBack(team, c))),
    ),
});

export const teamsAddChannelMember = defineAction({
  id: 'teams.addChannelMember',
  title: 'Add member to private channel',
  category: 'teams',
  description: 'Adds a user to a private or shared channel (as member or owner). The user must be a member of the team. An existing channel member counts as done.',
  input: z.strictObject({ team: teamRef, channel: channelRef, user: userRef, owner: z.boolean().default(false).describe('Make the user an owner of the channel') }),
  output: z.object({ teamId, channelId: z.string(), userId: z.string(), changed: z.boolean() }),
  permissions: ['ChannelMember.ReadWrite.All', 'Channel.ReadBasic.All', ...TEAMS_READ, 'Group.Read.All'],
  bulk: true,
  undo: 'teams.removeChannelMember',
  reverse: reverseChannelRole,
});

export const teamsRemoveChannelMember = defineAction({
  id: 'teams.removeChannelMember',
  title: 'Remove member from private channel',
  category: 'teams',
  description: 'Removes a user from a private or shared channel. A user who is not a channel member counts as done.',
  input: z.strictObject({ team: teamRef, channel: channelRef, user: userRef }),
  output: z.object({ teamId, channelId: z.string(), userId: z.string(), changed: z.boolean() }),
  permissions: ['ChannelMember.ReadWrite.All', 'Channel.ReadBasic.All', ...TEAMS_READ, 'Group.Read.All'],
  bulk: true,
  undo: 'teams.addChannelMember',
  reverse: reverseChannelRole,
});

// ---- Teams administration (Graph teamsAdministration) ----

export const TEAMS_POLICY_TYPES = [
  'TeamsMeetingPolicy',
  'TeamsMessagingPolicy',
  'TeamsCallingPolicy',
  'TeamsAppSetupPolicy',
  'TeamsAppPermissionPolicy',
  'TeamsChannelsPolicy',
  'TeamsMeetingBroadcastPolicy',
  'TeamsUpdateManagementPolicy',
  'TeamsFeedbackPolicy',
  'TeamsLiveEventsPolicy',
  'TeamsEventsPolicy',
] as const;
const policyType = z.enum(TEAMS_POLICY_TYPES).describe('The kind of Teams policy');

/** A user's recorded direct assignment ("Teams policy <type>": its name, or null for none) goes back. */
const reversePolicy = ({ input, changes }: { input: { user: string; policyType: string }; changes: readonly Change[] }): Reversal =>
  undoWith(
    ...changes.map((c) => {
      const user = typeof c.objectId === 'string' ? c.objectId : input.user;
      return typeof c.before === 'string'
        ? step('teams.assignPolicy', { user, policyType: input.policyType, policyName: c.before }, `${input.policyType} ${c.before} again`)
        : step('teams.unassignPolicy', { user, policyType: input.policyType }, `no direct ${input.policyType} again`);
    }),
  );

export const teamsAssignPolicy = defineAction({
  id: 'teams.assignPolicy',
  title: 'Assign Teams policy',
  category: 'teams',
  description:
    'Assigns a Teams policy instance (by name, e.g. AllOn, or a custom policy\'s name) of a policy type directly to a user. A user who ' +
    'already has it counts as done. Assigning Global removes the direct assignment.',
  input: z.strictObject({ user: userRef, policyType, policyName: z.string().min(1).max(128).describe('The policy instance\'s name as the Teams admin center shows it (Tag: prefix optional)') }),
  output: z.object({ userId: z.string(), policyType: z.string(), policyId: z.string(), changed: z.boolean() }),
  permissions: ['TeamsPolicyUserAssign.ReadWrite.All', 'TeamsUserConfiguration.Read.All', 'User.Read.All'],
  bulk: true,
  undo: 'teams.unassignPolicy',
  reverse: reversePolicy,
});

export const teamsUnassignPolicy = defineAction({
  id: 'teams.unassignPolicy',
  title: 'Unassign Teams policy',
  category: 'teams',
  description: 'Removes a user\'s direct assignment of a Teams policy type, so the organisation-wide default (or a group assignment) applies again.',
  input: z.strictObject({ user: userRef, policyType }),
  output: z.object({ userId: z.string(), policyType: z.string(), changed: z.boolean().describe('false when the user had no direct assignment of that type') }),
  permissions: ['TeamsPolicyUserAssign.ReadWrite.All', 'TeamsUserConfiguration.Read.All', 'User.Read.All'],
  bulk: true,
  undo: 'teams.assignPolicy',
  reverse: reversePolicy,
});

const e164 = z
  .string()
  .regex(/^\+?[1-9]\d{3,14}$/, 'an E.164 number such as +14255550100')
  .describe('The phone number in E.164 form, e.g. +14255550100');
const numberType = z.enum(['callingPlan', 'directRouting', 'operatorConnect']).describe('Calling Plan, Direct Routing or Operator Connect number');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A user's recorded numbers ("phone number +1…": {numberType, category, locationId?} or null) go
 * back: numbers the step gave are taken back first, then numbers it took (or replaced) are given back.
 */
const reverseNumbers = ({ input, changes }: { input: { user: string }; changes: readonly Change[] }): Reversal => {
  const number = (c: Change) => c.property.slice('phone number '.length);
  const user = (c: Change) => (typeof c.objectId === 'string' ? c.objectId : input.user);
  const given = changes.filter((c) => c.before === null).map((c) => step('teams.unassignPhoneNumber', { user: user(c), phoneNumber: number(c) }, `take ${number(c)} back`));
  const taken = changes
    .filter((c) => c.before && typeof c.before === 'object')
    .map((c) => {
      const b = c.before as { numberType: string; category: string; locationId?: string };
      const location = b.locationId && GUID.test(b.locationId) ? { locationId: b.locationId } : {};
      return step('teams.assignPhoneNumber', { user: user(c), phoneNumber: number(c), numberType: b.numberType, category: b.category, ...location }, `${number(c)} back as ${b.category}`);
    });
  return undoWith(...given, ...taken);
};

export const teamsAssignPhoneNumber = defineAction({
  id: 'teams.assignPhoneNumber',
  title: 'Assign phone number',
  category: 'teams',
  description:
    'Assigns a Teams phone number to a user (Teams Phone licence needed): the given number, or the first free number of that type. ' +
    'Microsoft processes the order in the background: the step waits until it has succeeded. A user who already has that number (or, ' +
    'without a number given, a number of that category) counts as done.',
  input: z.strictObject({
    user: userRef,
    numberType,
    phoneNumber: e164.optional().describe('The number; without it the first free number of numberType that can be assigned to users'),
    category: z.enum(['primary', 'private', 'alternate']).default('primary').describe('Primary (the user\'s number), private (inbound only) or alternate'),
    locationId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a location id (GUID)').optional().describe('Emergency location id (Calling Plan numbers in some countries need one)'),
  }),
  output: z.object({ userId: z.string(), phoneNumber: z.string(), assigned: z.boolean().describe('false when the user already had it') }),
  permissions: ['TeamsTelephoneNumber.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  undo: 'teams.unassignPhoneNumber',
  reverse: reverseNumbers,
});

export const teamsUnassignPhoneNumber = defineAction({
  id: 'teams.unassignPhoneNumber',
  title: 'Unassign phone number',
  category: 'teams',
  description:
    'Takes a phone number from a user -- the given one, or every number the user has -- and waits until Microsoft has processed it. ' +
    'A user without the number counts as done.',
  input: z.strictObject({ user: userRef, phoneNumber: e164.optional().describe('The number; without it every number assigned to the user') }),
  output: z.object({ userId: z.string(), unassigned: z.array(z.string()).describe('Numbers taken from the user (empty when there were none)') }),
  permissions: ['TeamsTelephoneNumber.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  reverse: reverseNumbers,
});

export const teamsUpdatePhoneNumber = defineAction({
  id: 'teams.updatePhoneNumber',
  title: 'Edit phone number',
  category: 'teams',
  description:
    'Changes what Graph lets an administrator edit on a tenant phone number (e.g. a Direct Routing number): its emergency location, its ' +
    'network site, and whether internal calls to it skip Teams VoIP (reverse number lookup). Give only what changes; an empty string clears a value.',
  input: z.strictObject({
    phoneNumber: e164,
    emergencyLocationId: z.string().max(64).optional().describe('Emergency address (location) id; an empty string clears it'),
    networkSiteId: z.string().max(64).optional().describe('Network site id; an empty string clears it'),
    skipInternalVoip: z.boolean().optional().describe('Route internal calls to this number over the PSTN instead of Teams VoIP'),
  }),
  output: z.object({ phoneNumber: z.string(), changed: z.array(z.string()) }),
  permissions: ['TeamsTelephoneNumber.ReadWrite.All'],
  bulk: true,
  // Recorded before-values are the action's own parameters ('' for a value that was absent, which clears it).
  reverse: ({ output, changes }) =>
    undoWith(changes.length > 0 && step('teams.updatePhoneNumber', { phoneNumber: output.phoneNumber, ...Object.fromEntries(changes.map((c) => [c.property, c.before])) }, `${changes.map((c) => c.property).join(', ')} of ${output.phoneNumber} back`)),
});
