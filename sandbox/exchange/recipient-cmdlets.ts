// Distribution groups (and mail-enabled security groups) with members, mail contacts, mail users,
// and Get-Recipient. Groups created here are directory groups Graph can read (but not change).
import { randomUUID } from 'node:crypto';
import { newGroup, newUser } from '../seed.ts';
import type { Group } from '../store.ts';
import { passwordOk } from '../graph/users.ts';
import { applyMulti, bool, ExoError, multi, notFoundExo, registerCmdlets, str, type CmdletParams, type ExoCtx } from './invoke.ts';
import { contactsOf, dgStateOf, names, primarySmtp, recipientId, recipientView, resolveRecipient, resolveTrustee, type MailContact } from './recipients.ts';

const ALIAS_RE = /[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/g;

function addressTaken(ctx: ExoCtx, smtp: string): void {
  if (ctx.store.addressOwner(smtp) || ctx.store.upnTaken(smtp) || Object.values(contactsOf(ctx)).some((c) => c.externalEmailAddress.toLowerCase() === smtp.toLowerCase())) {
    throw new ExoError(400, 'Microsoft.Exchange.Data.ProxyAddressExistsException', `The proxy address "SMTP:${smtp}" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address.`);
  }
}

function resolveDistributionGroup(ctx: ExoCtx, identity: unknown): Group {
  const r = resolveRecipient(ctx, identity);
  if (r.kind !== 'group' || r.group.groupTypes.includes('Unified')) throw notFoundExo(identity, ctx);
  return r.group;
}

function groupView(ctx: ExoCtx, g: Group): Record<string, unknown> {
  const state = dgStateOf(ctx, g);
  return {
    ...recipientView(ctx, { kind: 'group', group: g }),
    GroupType: g.securityEnabled ? 'Universal, SecurityEnabled' : 'Universal',
    ManagedBy: names(ctx, state.managedBy),
    GrantSendOnBehalfTo: names(ctx, state.grantSendOnBehalfTo ?? []),
    RequireSenderAuthenticationEnabled: state.requireSenderAuthenticationEnabled,
    Description: g.description ? [g.description] : [],
  };
}

function memberIdOf(ctx: ExoCtx, identity: unknown): string {
  return recipientId(resolveRecipient(ctx, identity));
}

function contactView(ctx: ExoCtx, c: MailContact): Record<string, unknown> {
  return { ...recipientView(ctx, { kind: 'contact', contact: c }), ExternalEmailAddress: `SMTP:${c.externalEmailAddress}`, FirstName: c.firstName, LastName: c.lastName };
}

function newDistributionGroup(ctx: ExoCtx, p: CmdletParams): Record<string, unknown>[] {
  const name = str(p, 'Name', true)!;
  const alias = (str(p, 'Alias') ?? name).replace(ALIAS_RE, '');
  const smtp = str(p, 'PrimarySmtpAddress') ?? `${alias}@${ctx.store.info.defaultDomain}`;
  addressTaken(ctx, smtp);
  const type = (str(p, 'Type') ?? 'Distribution').toLowerCase();
  if (type !== 'distribution' && type !== 'security') throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `Cannot convert value "${type}" to type GroupType. Valid values: Distribution, Security.`);
  const members = (multi(p, 'Members')?.set ?? []).map((m) => memberIdOf(ctx, m));
  const managedBy = (multi(p, 'ManagedBy')?.set ?? []).map((m) => resolveTrustee(ctx, m).id);
  const group = newGroup(
    {
      id: randomUUID(),
      displayName: str(p, 'DisplayName') ?? name,
      mailNickname: alias,
      mail: smtp,
      mailEnabled: true,
      securityEnabled: type === 'security',
      proxyAddresses: [`SMTP:${smtp}`],
      description: str(p, 'Notes') ?? null,
    },
    ctx.nowMs,
  );
  ctx.store.addGroup(group);
  for (const m of members) ctx.store.addMember(group.id, m);
  const state = dgStateOf(ctx, group);
  state.managedBy = managedBy.length ? managedBy : [];
  state.requireSenderAuthenticationEnabled = bool(p, 'RequireSenderAuthenticationEnabled') ?? true;
  ctx.mutated('distributionGroup.create', group.id);
  return [groupView(ctx, group)];
}

registerCmdlets({
  'Get-Recipient': (ctx, p) => {
    const identity = str(p, 'Identity');
    if (identity) return [recipientView(ctx, resolveRecipient(ctx, identity))];
    throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', 'The sandbox answers Get-Recipient for one -Identity.');
  },
  'New-DistributionGroup': newDistributionGroup,
  'Get-DistributionGroup': (ctx, p) => {
    const identity = str(p, 'Identity');
    if (identity) return [groupView(ctx, resolveDistributionGroup(ctx, identity))];
    return [...ctx.store.groups.values()].filter((g) => g.mailEnabled && !g.groupTypes.includes('Unified')).map((g) => groupView(ctx, g));
  },
  'Set-DistributionGroup': (ctx, p) => {
    const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
    const state = dgStateOf(ctx, group);
    const before = { mail: group.mail, proxyAddresses: [...group.proxyAddresses] };
    const displayName = str(p, 'DisplayName');
    if (displayName) group.displayName = displayName;
    const hidden = bool(p, 'HiddenFromAddressListsEnabled');
    if (hidden !== undefined) state.hiddenFromAddressLists = hidden;
    const auth = bool(p, 'RequireSenderAuthenticationEnabled');
    if (auth !== undefined) state.requireSenderAuthenticationEnabled = auth;
    const ids = (xs: string[]) => xs.map((x) => resolveTrustee(ctx, x).id);
    const managedBy = multi(p, 'ManagedBy');
    if (managedBy) state.managedBy = applyMulti(state.managedBy, { set: managedBy.set && ids(managedBy.set), add: ids(managedBy.add), remove: ids(managedBy.remove) });
    const onBehalf = multi(p, 'GrantSendOnBehalfTo');
    if (onBehalf) state.grantSendOnBehalfTo = applyMulti(state.grantSendOnBehalfTo ?? [], { set: onBehalf.set && ids(onBehalf.set), add: ids(onBehalf.add), remove: ids(onBehalf.remove) });
    const smtp = str(p, 'PrimarySmtpAddress');
    if (smtp && smtp.toLowerCase() !== group.mail?.toLowerCase()) {
      addressTaken(ctx, smtp);
      group.proxyAddresses = [`SMTP:${smtp}`, ...group.proxyAddresses.map((a) => a.replace(/^SMTP:/, 'smtp:'))];
      group.mail = smtp;
    }
    ctx.store.updateGroup(group, before);
    ctx.mutated('distributionGroup.update', group.id);
  },
  'Remove-DistributionGroup': (ctx, p) => {
    const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
    ctx.store.softDeleteGroup(group, ctx.nowIso, ctx.nowMs);
    ctx.mutated('distributionGroup.delete', group.id);
  },
  'Get-DistributionGroupMember': (ctx, p) => {
    const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
    return [...ctx.store.membersOf(group.id)].map((id) => recipientView(ctx, resolveRecipient(ctx, id)));
  },
  'Add-DistributionGroupMember': (ctx, p) => {
    const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
    const memberParam = str(p, 'Member', true)!;
    const member = memberIdOf(ctx, memberParam);
    if (ctx.store.isMember(group.id, member)) {
      throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException', `The recipient "${memberParam}" is already a member of the group "${group.displayName}".`);
    }
    ctx.store.addMember(group.id, member);
    ctx.mutated('distributionGroup.addMember', group.id, member);
  },
  'Remove-DistributionGroupMember': (ctx, p) => {
    const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
    const memberParam = str(p, 'Member', true)!;
    const member = memberIdOf(ctx, memberParam);
    if (!ctx.store.isMember(group.id, member)) {
      throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.MemberNotFoundException', `The recipient "${memberParam}" isn't a member of the group "${group.displayName}".`);
    }
    ctx.store.removeMember(group.id, member);
    ctx.mutated('distributionGroup.removeMember', group.id, member);
  },
  'New-MailContact': (ctx, p) => {
    const name = str(p, 'Name', true)!;
    const external = str(p, 'ExternalEmailAddress', true)!.replace(/^smtp:/i, '');
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(external)) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `"${external}" is not a valid SMTP address.`);
    addressTaken(ctx, external);
    const contact: MailContact = {
      id: randomUUID(),
      name,
      displayName: str(p, 'DisplayName') ?? name,
      alias: (str(p, 'Alias') ?? name).replace(ALIAS_RE, ''),
      externalEmailAddress: external,
      firstName: str(p, 'FirstName') ?? null,
      lastName: str(p, 'LastName') ?? null,
      hiddenFromAddressLists: false,
      createdDateTime: ctx.nowIso,
    };
    contactsOf(ctx)[contact.id] = contact;
    ctx.mutated('mailContact.create', contact.id);
    return [contactView(ctx, contact)];
  },
  'Get-MailContact': (ctx, p) => {
    const identity = str(p, 'Identity');
    if (identity) {
      const r = resolveRecipient(ctx, identity);
      if (r.kind !== 'contact') throw notFoundExo(identity, ctx);
      return [contactView(ctx, r.contact)];
    }
    return Object.values(contactsOf(ctx)).map((c) => contactView(ctx, c));
  },
  'Set-MailContact': (ctx, p) => {
    const r = resolveRecipient(ctx, str(p, 'Identity', true));
    if (r.kind !== 'contact') throw notFoundExo(str(p, 'Identity'), ctx);
    const displayName = str(p, 'DisplayName');
    if (displayName) r.contact.displayName = displayName;
    const hidden = bool(p, 'HiddenFromAddressListsEnabled');
    if (hidden !== undefined) r.contact.hiddenFromAddressLists = hidden;
    const external = str(p, 'ExternalEmailAddress');
    if (external) r.contact.externalEmailAddress = external.replace(/^smtp:/i, '');
    ctx.mutated('mailContact.update', r.contact.id);
  },
  'Remove-MailContact': (ctx, p) => {
    const r = resolveRecipient(ctx, str(p, 'Identity', true));
    if (r.kind !== 'contact') throw notFoundExo(str(p, 'Identity'), ctx);
    delete contactsOf(ctx)[r.contact.id];
    for (const g of ctx.store.memberOf(r.contact.id)) ctx.store.removeMember(g, r.contact.id);
    ctx.mutated('mailContact.delete', r.contact.id);
  },
  'New-MailUser': (ctx, p) => {
    const name = str(p, 'Name', true)!;
    const external = str(p, 'ExternalEmailAddress', true)!.replace(/^smtp:/i, '');
    const upn = str(p, 'MicrosoftOnlineServicesID', true)!;
    const password = str(p, 'Password', true)!;
    if (!ctx.store.info.verifiedDomains.includes(upn.split('@')[1]?.toLowerCase() ?? '')) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `The domain of '${upn}' is not an accepted domain of this organization.`);
    if (!passwordOk(password)) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', 'The password does not meet the password complexity requirements.');
    addressTaken(ctx, upn);
    const alias = (str(p, 'Alias') ?? upn.split('@')[0]!).replace(ALIAS_RE, '');
    const user = newUser({ id: randomUUID(), userPrincipalName: upn, displayName: str(p, 'DisplayName') ?? name, mailNickname: alias, mail: external, proxyAddresses: [`SMTP:${upn}`], _password: password }, ctx.nowMs);
    user.createdDateTime = ctx.nowIso;
    ctx.store.addUser(user);
    ctx.store.userState(user.id, 'mailUser', () => ({ externalEmailAddress: external }));
    ctx.mutated('mailUser.create', user.id);
    return [{ ...recipientView(ctx, resolveRecipient(ctx, user.id)), ExternalEmailAddress: `SMTP:${external}`, UserPrincipalName: upn, PrimarySmtpAddress: primarySmtp(user.proxyAddresses, upn) }];
  },
  'Get-MailUser': (ctx, p) => {
    const r = resolveRecipient(ctx, str(p, 'Identity', true));
    if (r.kind !== 'mailUser') throw notFoundExo(str(p, 'Identity'), ctx);
    return [{ ...recipientView(ctx, r), ExternalEmailAddress: `SMTP:${r.mu.externalEmailAddress}`, UserPrincipalName: r.user.userPrincipalName }];
  },
  'Remove-MailUser': (ctx, p) => {
    const r = resolveRecipient(ctx, str(p, 'Identity', true));
    if (r.kind !== 'mailUser') throw notFoundExo(str(p, 'Identity'), ctx);
    ctx.store.softDeleteUser(r.user, ctx.nowIso, ctx.nowMs);
    ctx.mutated('mailUser.delete', r.user.id);
  },
});
