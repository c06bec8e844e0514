// Handlers of the distribution group actions (catalog/actions/distributionGroups.ts), through the
// Exchange Online admin API. Users are resolved through Graph first, so a typo reads
// "user x does not exist" rather than an Exchange exception.
import * as c from '../../catalog/actions/distributionGroups.ts';
import type { Change } from '../../catalog/contract.ts';
import { GONE_NOTE } from '../../catalog/reversal.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import { change, creation, knownAfterRun } from './changes.ts';
import { ActionError } from '../../m365/errors.ts';
import { isExchangeError, NOT_FOUND } from '../../m365/exchange.ts';
import { createdByThisStep, getUser, resolveUsers, type GraphUser } from './shared.ts';
import { exoDate, removeOnce } from './exchange-shared.ts';

interface ExoGroup {
  Identity?: string;
  Name: string;
  DisplayName?: string;
  Alias?: string;
  PrimarySmtpAddress: string;
  ExternalDirectoryObjectId?: string;
  ManagedBy?: string[];
  GrantSendOnBehalfTo?: string[];
  RequireSenderAuthenticationEnabled?: boolean;
  MemberJoinRestriction?: string;
  HiddenFromAddressListsEnabled?: boolean;
  WhenCreatedUTC?: string;
  WhenCreated?: string;
}

async function findExoGroup(ctx: PlanContext, ref: string): Promise<ExoGroup | undefined> {
  try {
    return (await ctx.exchange.invoke<ExoGroup>('Get-DistributionGroup', { Identity: ref }, ctx.signal))[0];
  } catch (err) {
    if (isExchangeError(err, ...NOT_FOUND)) return undefined;
    throw err;
  }
}

const groupNotFound = (ref: string) =>
  new ActionError(`distribution group ${ref} does not exist`, {
    code: 'ManagementObjectNotFoundException',
    hint: 'use the group\'s name, alias or email address; security and Microsoft 365 groups use the "group." actions',
    status: 404,
  });

async function getExoGroup(ctx: PlanContext, ref: string): Promise<ExoGroup> {
  const g = await findExoGroup(ctx, ref);
  if (!g) throw groupNotFound(ref);
  return g;
}

/** Names Exchange may use for a user in ManagedBy / GrantSendOnBehalfTo. */
const namesOf = (u: GraphUser) => [u.id, u.userPrincipalName, u.mail ?? '', u.displayName ?? '', u.userPrincipalName.split('@')[0]!].map((s) => s.toLowerCase());
const listed = (values: string[] | undefined, u: GraphUser) => (values ?? []).some((v) => namesOf(u).includes(v.toLowerCase()));

async function changeMember(ctx: ActionContext, g: ExoGroup, u: GraphUser, add: boolean): Promise<boolean> {
  try {
    await ctx.exchange.invoke(
      add ? 'Add-DistributionGroupMember' : 'Remove-DistributionGroupMember',
      { Identity: g.PrimarySmtpAddress, Member: u.userPrincipalName, BypassSecurityGroupManagerCheck: true, ...(add ? {} : { Confirm: false }) },
      ctx.signal,
    );
    return true;
  } catch (err) {
    if (isExchangeError(err, add ? 'MemberAlreadyExistsException' : 'MemberNotFoundException')) return false;
    throw err;
  }
}

export const distributionGroupCreate = implement(c.distributionGroupCreate, async (input, ctx) => {
  const owners = await resolveUsers(ctx.graph, input.owners);
  const members = await resolveUsers(ctx.graph, input.members);
  let group = await findExoGroup(ctx, input.alias);
  const created = !group;
  if (group && !createdByThisStep(ctx, exoDate(group.WhenCreatedUTC ?? group.WhenCreated)))
    throw new ActionError(`a group with the alias ${input.alias} already exists (${group.PrimarySmtpAddress})`, {
      code: 'ObjectConflict',
      hint: 'pick another alias, or use "Edit distribution group"',
    });
  group ??= (
    await ctx.exchange.invoke<ExoGroup>(
      'New-DistributionGroup',
      {
        Name: input.name,
        DisplayName: input.displayName ?? input.name,
        Alias: input.alias,
        ...(input.primarySmtpAddress ? { PrimarySmtpAddress: input.primarySmtpAddress } : {}),
        Type: input.type,
        ...(owners.length ? { ManagedBy: owners.map((o) => o.userPrincipalName) } : {}),
        RequireSenderAuthenticationEnabled: input.requireSenderAuthentication,
        MemberJoinRestriction: input.memberJoinRestriction,
      },
      ctx.signal,
    )
  )[0]!;
  for (const m of members) await changeMember(ctx, group, m, true);
  return { identity: group.PrimarySmtpAddress, name: group.Name, primarySmtpAddress: group.PrimarySmtpAddress, created };
}, planDistributionGroupCreate);

export const distributionGroupUpdate = implement(c.distributionGroupUpdate, async (input, ctx) => {
  const g = await getExoGroup(ctx, input.group);
  const owners = input.owners ? await resolveUsers(ctx.graph, input.owners) : undefined;
  const desired: Record<string, unknown> = {};
  const changed: string[] = [];
  const set = (field: string, param: string, value: unknown, same: boolean) => {
    if (value === undefined || same) return;
    desired[param] = value;
    changed.push(field);
  };
  set('displayName', 'DisplayName', input.displayName, input.displayName === g.DisplayName);
  set('primarySmtpAddress', 'PrimarySmtpAddress', input.primarySmtpAddress, input.primarySmtpAddress?.toLowerCase() === g.PrimarySmtpAddress.toLowerCase());
  set('owners', 'ManagedBy', owners?.map((o) => o.userPrincipalName), !!owners && owners.length === (g.ManagedBy ?? []).length && owners.every((o) => listed(g.ManagedBy, o)));
  set('requireSenderAuthentication', 'RequireSenderAuthenticationEnabled', input.requireSenderAuthentication, input.requireSenderAuthentication === g.RequireSenderAuthenticationEnabled);
  set('memberJoinRestriction', 'MemberJoinRestriction', input.memberJoinRestriction, input.memberJoinRestriction === g.MemberJoinRestriction);
  set('hiddenFromAddressLists', 'HiddenFromAddressListsEnabled', input.hiddenFromAddressLists, input.hiddenFromAddressLists === g.HiddenFromAddressListsEnabled);
  if (changed.length) await ctx.exchange.invoke('Set-DistributionGroup', { Identity: g.PrimarySmtpAddress, BypassSecurityGroupManagerCheck: true, ...desired }, ctx.signal);
  return { identity: input.primarySmtpAddress ?? g.PrimarySmtpAddress, changed };
}, planDistributionGroupUpdate);

export const distributionGroupDelete = implement(
  c.distributionGroupDelete,
  async (input, ctx) =>
    removeOnce(ctx, await findExoGroup(ctx, input.group), () => groupNotFound(input.group), (g) =>
      ctx.exchange.invoke('Remove-DistributionGroup', { Identity: g.PrimarySmtpAddress, BypassSecurityGroupManagerCheck: true, Confirm: false }, ctx.signal),
    ),
  planDistributionGroupDelete,
);

const members = (add: boolean) => async (input: { group: string; members: string[] }, ctx: ActionContext) => {
  const g = await getExoGroup(ctx, input.group);
  const results: { member: string; changed: boolean }[] = [];
  for (const ref of input.members) {
    const u = await getUser(ctx.graph, ref);
    results.push({ member: u.userPrincipalName, changed: await changeMember(ctx, g, u, add) });
    ctx.heartbeat({ done: results.length });
  }
  return { identity: g.PrimarySmtpAddress, results };
};
export const distributionGroupAddMembers = implement(c.distributionGroupAddMembers, members(true), planMembers(true));
export const distributionGroupRemoveMembers = implement(c.distributionGroupRemoveMembers, members(false), planMembers(false));

const sendPermission = (grant: boolean) => async (input: { group: string; users: string[]; permission: 'SendAs' | 'SendOnBehalf' }, ctx: ActionContext) => {
  const g = await getExoGroup(ctx, input.group);
  const users = await resolveUsers(ctx.graph, input.users, 'id,userPrincipalName,mail,displayName');
  const identity = g.PrimarySmtpAddress;
  const results: { user: string; changed: boolean }[] = [];
  for (const u of users) {
    let has: boolean;
    if (input.permission === 'SendAs') {
      const perms = await ctx.exchange.invoke<{ Trustee?: string; AccessRights?: string[] }>('Get-RecipientPermission', { Identity: identity, Trustee: u.userPrincipalName }, ctx.signal);
      has = perms.some((p) => (p.AccessRights ?? []).includes('SendAs'));
    } else has = listed(g.GrantSendOnBehalfTo, u);
    const needed = has !== grant;
    if (needed && input.permission === 'SendAs')
      await ctx.exchange.invoke(grant ? 'Add-RecipientPermission' : 'Remove-RecipientPermission', { Identity: identity, Trustee: u.userPrincipalName, AccessRights: ['SendAs'], Confirm: false }, ctx.signal);
    if (needed && input.permission === 'SendOnBehalf')
      await ctx.exchange.invoke(
        'Set-DistributionGroup',
        { Identity: identity, BypassSecurityGroupManagerCheck: true, GrantSendOnBehalfTo: { '@odata.type': '#Exchange.GenericHashTable', [grant ? 'add' : 'remove']: [u.userPrincipalName] } },
        ctx.signal,
      );
    results.push({ user: u.userPrincipalName, changed: needed });
  }
  return { identity, results };
};
export const distributionGroupGrantSendPermission = implement(c.distributionGroupGrantSendPermission, sendPermission(true), planSendPermission(true));
export const distributionGroupRemoveSendPermission = implement(c.distributionGroupRemoveSendPermission, sendPermission(false), planSendPermission(false));

// ---- plans ----

const dlObject = (g: Pick<ExoGroup, 'PrimarySmtpAddress'>) => `distribution group ${g.PrimarySmtpAddress}`;

interface ExoRecipient {
  ExternalDirectoryObjectId?: string;
  PrimarySmtpAddress?: string;
  Name?: string;
  Alias?: string;
}

async function membersOf(ctx: PlanContext, g: ExoGroup): Promise<ExoRecipient[]> {
  return ctx.exchange.invoke<ExoRecipient>('Get-DistributionGroupMember', { Identity: g.PrimarySmtpAddress }, ctx.signal);
}

const isMember = (members: ExoRecipient[], u: GraphUser) =>
  members.some((m) => [m.ExternalDirectoryObjectId, m.PrimarySmtpAddress, m.Name, m.Alias].some((v) => !!v && namesOf(u).includes(v.toLowerCase())));

async function planDistributionGroupCreate(input: InputOf<typeof c.distributionGroupCreate>, ctx: PlanContext): Promise<Change[]> {
  const owners = await resolveUsers(ctx.graph, input.owners);
  const members = await resolveUsers(ctx.graph, input.members);
  const existing = await findExoGroup(ctx, input.alias);
  if (existing) throw new ActionError(`a group with the alias ${input.alias} already exists (${existing.PrimarySmtpAddress})`, { code: 'ObjectConflict', hint: 'pick another alias, or use "Edit distribution group"' });
  const object = `distribution group ${input.primarySmtpAddress ?? input.alias}`;
  return [
    ...creation(object, { name: input.name, displayName: input.displayName ?? input.name, alias: input.alias, type: input.type, owners: owners.map((o) => o.userPrincipalName), requireSenderAuthentication: input.requireSenderAuthentication, memberJoinRestriction: input.memberJoinRestriction }, knownAfterRun('output.identity')),
    ...members.map((m) => change(object, `member ${m.userPrincipalName}`, false, true)),
  ];
}

async function planDistributionGroupUpdate(input: InputOf<typeof c.distributionGroupUpdate>, ctx: PlanContext): Promise<Change[]> {
  const g = await getExoGroup(ctx, input.group);
  const owners = input.owners ? await resolveUsers(ctx.graph, input.owners) : undefined;
  const object = dlObject(g);
  const rows: Change[] = [];
  const row = (property: string, before: unknown, after: unknown, same: boolean) => {
    if (after !== undefined && !same) rows.push(change(object, property, before, after, { objectId: g.ExternalDirectoryObjectId }));
  };
  row('displayName', g.DisplayName, input.displayName, input.displayName === g.DisplayName);
  row('primarySmtpAddress', g.PrimarySmtpAddress, input.primarySmtpAddress, input.primarySmtpAddress?.toLowerCase() === g.PrimarySmtpAddress.toLowerCase());
  row('owners', g.ManagedBy ?? [], owners?.map((o) => o.userPrincipalName), !!owners && owners.length === (g.ManagedBy ?? []).length && owners.every((o) => listed(g.ManagedBy, o)));
  row('requireSenderAuthentication', g.RequireSenderAuthenticationEnabled, input.requireSenderAuthentication, input.requireSenderAuthentication === g.RequireSenderAuthenticationEnabled);
  row('memberJoinRestriction', g.MemberJoinRestriction, input.memberJoinRestriction, input.memberJoinRestriction === g.MemberJoinRestriction);
  row('hiddenFromAddressLists', g.HiddenFromAddressListsEnabled, input.hiddenFromAddressLists, input.hiddenFromAddressLists === g.HiddenFromAddressListsEnabled);
  return rows;
}

async function planDistributionGroupDelete(input: InputOf<typeof c.distributionGroupDelete>, ctx: PlanContext): Promise<Change[]> {
  const g = await getExoGroup(ctx, input.group);
  return [change(dlObject(g), 'exists', true, false, { objectId: g.ExternalDirectoryObjectId, note: GONE_NOTE })];
}

function planMembers(add: boolean) {
  return async (input: { group: string; members: string[] }, ctx: PlanContext): Promise<Change[]> => {
    const g = await getExoGroup(ctx, input.group);
    const current = await membersOf(ctx, g);
    const changes: Change[] = [];
    for (const ref of input.members) {
      const u = await getUser(ctx.graph, ref);
      if (isMember(current, u) !== add) changes.push(change(dlObject(g), `member ${u.userPrincipalName}`, !add, add, { objectId: g.ExternalDirectoryObjectId }));
    }
    return changes;
  };
}

function planSendPermission(grant: boolean) {
  return async (input: { group: string; users: string[]; permission: 'SendAs' | 'SendOnBehalf' }, ctx: PlanContext): Promise<Change[]> => {
    const g = await getExoGroup(ctx, input.group);
    const users = await resolveUsers(ctx.graph, input.users, 'id,userPrincipalName,mail,displayName');
    const changes: Change[] = [];
    for (const u of users) {
      const has =
        input.permission === 'SendAs'
          ? (await ctx.exchange.invoke<{ AccessRights?: string[] }>('Get-RecipientPermission', { Identity: g.PrimarySmtpAddress, Trustee: u.userPrincipalName }, ctx.signal)).some((p) => (p.AccessRights ?? []).includes('SendAs'))
          : listed(g.GrantSendOnBehalfTo, u);
      if (has !== grant) changes.push(change(dlObject(g), `${input.permission} ${u.userPrincipalName}`, has, grant, { objectId: g.ExternalDirectoryObjectId }));
    }
    return changes;
  };
}
