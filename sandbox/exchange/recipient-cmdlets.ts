// Distribution groups (and mail-enabled security groups) with members, mail contacts, mail users,
// and Get-Recipient. Groups created here are directory groups Graph can read (but not change).
import { randomUUID } from 'node:crypto';
import { newGroup, newUser } from '../seed.ts';
import type { Group } from '../store.ts';
import { passwordOk } from '../graph/users.ts';
import { applyMulti, bool, ExoError, has, invalidParam, multi, notFoundExo, registerCmdlets, str, type CmdletParams, type ExoCtx } from './invoke.ts';
import type { User } from '../store.ts';
import { contactAddresses, contactsOf, dgStateOf, mailUserOf, names, primarySmtp, recipientId, recipientView, resolveRecipient, resolveTrustee, type MailContact } from './recipients.ts';

const ALIAS_RE = /[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/g;

/** Refuses an address another recipient has (`self`: the recipient being changed, which may keep its own). */
function addressTaken(ctx: ExoCtx, smtp: string, self?: string): void {
  const lower = smtp.replace(/^smtp:/i, '').toLowerCase();
  const owner = ctx.store.addressOwner(lower) ?? (ctx.store.upnTaken(lower) ? ctx.store.findUser(lower)?.id : undefined);
  const contact = Object.values(contactsOf(ctx)).find((c) => contactAddresses(c).some((a) => a.replace(/^smtp:/i, '').toLowerCase() === lower));
  if ((owner && owner !== self) || (contact && contact.id !== self)) {
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
    MemberJoinRestriction: state.memberJoinRestriction ?? 'Closed',
    Description: g.description ? [g.description] : [],
  };
}

function memberIdOf(ctx: ExoCtx, identity: unknown): string {
  return recipientId(resolveRecipient(ctx, identity));
}

function contactView(ctx: ExoCtx, c: MailContact): Record<string, unknown> {
  return { ...recipientView(ctx, { kind: 'contact', contact: c }), ExternalEmailAddress: `SMTP:${c.externalEmailAddress}`, FirstName: c.firstName, LastName: c.lastName };
}

/** Set-Contact's properties (Get-Contact shows them), by parameter name. */
const CONTACT_DETAILS = ['Company', 'Title', 'Department', 'Phone', 'MobilePhone', 'Office', 'StreetAddress', 'City', 'StateOrProvince', 'PostalCode', 'CountryOrRegion'];

function contactDetailsView(ctx: ExoCtx, c: MailContact): Record<string, unknown> {
  return {
    Identity: c.name,
    Name: c.name,
    DisplayName: c.displayName,
    FirstName: c.firstName,
    LastName: c.lastName,
    RecipientTypeDetails: 'MailContact',
    WindowsEmailAddress: c.externalEmailAddress,
    ExternalDirectoryObjectId: c.id,
    ...Object.fromEntries(CONTACT_DETAILS.map((k) => [k, c.details?.[k] ?? ''])),
  };
}

const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
function address(name: string, v: string): string {
  const a = v.replace(/^smtp:/i, '');
  if (!ADDRESS.test(a)) throw invalidParam(name, `"${v}" is not a valid SMTP address.`);
  return a;
}

/** -EmailAddresses on a contact or mail user: a list or {Add, Remove}; the external address stays the primary. */
function nextAddresses(current: string[], p: CmdletParams, primary: string): string[] {
  const change = multi(p, 'EmailAddresses');
  if (!change) return current;
  const norm = (a: string) => (/^smtp:/i.test(a) ? a : `smtp:${address('EmailAddresses', a)}`);
  const list = applyMulti(current, { set: change.set?.map(norm), add: change.add.map(norm), remove: change.remove.map(norm) });
  for (const a of list) address('EmailAddresses', a);
  if (!list.some((a) => a.replace(/^smtp:/i, '').toLowerCase() === primary.toLowerCase()))
    throw new ExoError(400, 'Microsoft.Exchange.Data.DataValidationException', `The EmailAddresses must keep the external address ${primary}.`);
  return list;
}

function resolveContact(ctx: ExoCtx, identity: unknown): MailContact {
  const r = resolveRecipient(ctx, identity);
  if (r.kind !== 'contact') throw notFoundExo(identity, ctx);
  return r.contact;
}

function resolveMailUser(ctx: ExoCtx, identity: unknown): { user: User; mu: NonNullable<ReturnType<typeof mailUserOf>> } {
  const r = resolveRecipient(ctx, identity);
  if (r.kind !== 'mailUser') throw notFoundExo(identity, ctx);
  return { user: r.user, mu: r.mu };
}

function mailUserView(ctx: ExoCtx, user: User): Record<string, unknown> {
  const r = resolveRecipient(ctx, user.id);
  const mu = r.kind === 'mailUser' ? r.mu : undefined;
  return { ...recipientView(ctx, r), ExternalEmailAddress: mu ? `SMTP:${mu.externalEmailAddress}` : null, UserPrincipalName: user.userPrincipalName, MicrosoftOnlineServicesID: user.userPrincipalName, PrimarySmtpAddress: primarySmtp(user.proxyAddresses, user.userPrincipalName) };
}

const JOIN_RESTRICTIONS = ['Open', 'Closed', 'ApprovalRequired'];
function joinRestriction(p: CmdletParams): string | undefined {
  const v = str(p, 'MemberJoinRestriction');
  if (v === undefined) return undefined;
  const hit = JOIN_RESTRICTIONS.find((x) => x.toLowerCase() === v.toLowerCase());
  if (!hit) throw invalidParam('MemberJoinRestriction', `Cannot convert value "${v}" to type "Microsoft.Exchange.Data.Directory.Recipient.MemberUpdateType". Valid values: ${JOIN_RESTRICTIONS.join(', ')}.`);
  return hit;
}

function newDistributionGroup(ctx: ExoCtx, p: CmdletParams): Record<string, unknown>[] {
  const name = str(p, 'Name', true)!;
  const alias = (str(p, 'Alias') ?? name).replace(ALIAS_RE, '');
  const smtp = str(p, 'PrimarySmtpAddress') ?? `${alias}@${ctx.store.info.defaultDomain}`;
  addressTaken(ctx, smtp);
  joinRestriction(p);
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
  state.memberJoinRestriction = joinRestriction(p) ?? 'Closed';
  ctx.mutated('distributionGroup.create', group.id);
  return [groupView(ctx, group)];
}

registerCmdlets({
  'Get-Recipient': {
    params: ['Identity'],
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      if (identity) return [recipientView(ctx, resolveRecipient(ctx, identity))];
      throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', 'The sandbox answers Get-Recipient for one -Identity.');
    },
  },
  'New-DistributionGroup': {
    params: ['Name', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'Type', 'Members', 'ManagedBy', 'RequireSenderAuthenticationEnabled', 'MemberJoinRestriction', 'Notes'],
    run: newDistributionGroup,
  },
  'Get-DistributionGroup': {
    params: ['Identity', 'ResultSize'],
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      if (identity) return [groupView(ctx, resolveDistributionGroup(ctx, identity))];
      return [...ctx.store.groups.values()].filter((g) => g.mailEnabled && !g.groupTypes.includes('Unified')).map((g) => groupView(ctx, g));
    },
  },
  'Set-DistributionGroup': {
    params: ['Identity', 'DisplayName', 'HiddenFromAddressListsEnabled', 'RequireSenderAuthenticationEnabled', 'ManagedBy', 'GrantSendOnBehalfTo', 'PrimarySmtpAddress', 'MemberJoinRestriction', 'BypassSecurityGroupManagerCheck'],
    run: (ctx, p) => {
      const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
      const state = dgStateOf(ctx, group);
      const ids = (xs: string[]) => xs.map((x) => resolveTrustee(ctx, x).id);
      const managedBy = multi(p, 'ManagedBy');
      const onBehalf = multi(p, 'GrantSendOnBehalfTo');
      const nextManagedBy = managedBy && applyMulti(state.managedBy, { set: managedBy.set && ids(managedBy.set), add: ids(managedBy.add), remove: ids(managedBy.remove) });
      const nextOnBehalf = onBehalf && applyMulti(state.grantSendOnBehalfTo ?? [], { set: onBehalf.set && ids(onBehalf.set), add: ids(onBehalf.add), remove: ids(onBehalf.remove) });
      const join = joinRestriction(p);
      const hidden = bool(p, 'HiddenFromAddressListsEnabled');
      const auth = bool(p, 'RequireSenderAuthenticationEnabled');
      bool(p, 'BypassSecurityGroupManagerCheck');
      const smtp = str(p, 'PrimarySmtpAddress');
      const changeSmtp = smtp !== undefined && smtp.toLowerCase() !== group.mail?.toLowerCase();
      if (changeSmtp) addressTaken(ctx, address('PrimarySmtpAddress', smtp), group.id);
      const before = { mail: group.mail, proxyAddresses: [...group.proxyAddresses] };
      const displayName = str(p, 'DisplayName');
      if (displayName) group.displayName = displayName;
      if (hidden !== undefined) state.hiddenFromAddressLists = hidden;
      if (auth !== undefined) state.requireSenderAuthenticationEnabled = auth;
      if (nextManagedBy) state.managedBy = nextManagedBy;
      if (nextOnBehalf) state.grantSendOnBehalfTo = nextOnBehalf;
      if (join) state.memberJoinRestriction = join;
      if (changeSmtp) {
        group.proxyAddresses = [`SMTP:${smtp}`, ...group.proxyAddresses.map((a) => a.replace(/^SMTP:/, 'smtp:'))];
        group.mail = smtp;
      }
      ctx.store.updateGroup(group, before);
      ctx.mutated('distributionGroup.update', group.id);
    },
  },
  'Remove-DistributionGroup': {
    params: ['Identity', 'BypassSecurityGroupManagerCheck'],
    run: (ctx, p) => {
      const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
      ctx.store.softDeleteGroup(group, ctx.nowIso, ctx.nowMs);
      ctx.mutated('distributionGroup.delete', group.id);
    },
  },
  'Get-DistributionGroupMember': {
    params: ['Identity', 'ResultSize'],
    run: (ctx, p) => {
      const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
      return [...ctx.store.membersOf(group.id)].map((id) => recipientView(ctx, resolveRecipient(ctx, id)));
    },
  },
  'Add-DistributionGroupMember': {
    params: ['Identity', 'Member', 'BypassSecurityGroupManagerCheck'],
    run: (ctx, p) => {
      const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
      const memberParam = str(p, 'Member', true)!;
      const member = memberIdOf(ctx, memberParam);
      if (ctx.store.isMember(group.id, member)) {
        throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException', `The recipient "${memberParam}" is already a member of the group "${group.displayName}".`);
      }
      ctx.store.addMember(group.id, member);
      ctx.mutated('distributionGroup.addMember', group.id, member);
    },
  },
  'Remove-DistributionGroupMember': {
    params: ['Identity', 'Member', 'BypassSecurityGroupManagerCheck'],
    run: (ctx, p) => {
      const group = resolveDistributionGroup(ctx, str(p, 'Identity', true));
      const memberParam = str(p, 'Member', true)!;
      const member = memberIdOf(ctx, memberParam);
      if (!ctx.store.isMember(group.id, member)) {
        throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.MemberNotFoundException', `The recipient "${memberParam}" isn't a member of the group "${group.displayName}".`);
      }
      ctx.store.removeMember(group.id, member);
      ctx.mutated('distributionGroup.removeMember', group.id, member);
    },
  },
  'New-MailContact': {
    params: ['Name', 'ExternalEmailAddress', 'DisplayName', 'Alias', 'FirstName', 'LastName'],
    run: (ctx, p) => {
      const name = str(p, 'Name', true)!;
      if (name.length > 64) throw invalidParam('Name', `The length of the property is too long. The maximum length is 64 and the length of the value provided is ${name.length}.`);
      const external = str(p, 'ExternalEmailAddress', true)!.replace(/^smtp:/i, '');
      if (!ADDRESS.test(external)) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `"${external}" is not a valid SMTP address.`);
      addressTaken(ctx, external);
      if (Object.values(contactsOf(ctx)).some((c) => c.name.toLowerCase() === name.toLowerCase()))
        throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ObjectAlreadyExistsException', `The name "${name}" is being used. Please choose another name.`);
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
        emailAddresses: [`SMTP:${external}`],
      };
      contactsOf(ctx)[contact.id] = contact;
      ctx.mutated('mailContact.create', contact.id);
      return [contactView(ctx, contact)];
    },
  },
  'Get-MailContact': {
    params: ['Identity', 'ResultSize'],
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      if (identity) return [contactView(ctx, resolveContact(ctx, identity))];
      return Object.values(contactsOf(ctx)).map((c) => contactView(ctx, c));
    },
  },
  'Set-MailContact': {
    params: ['Identity', 'Name', 'DisplayName', 'Alias', 'ExternalEmailAddress', 'EmailAddresses', 'HiddenFromAddressListsEnabled'],
    run: (ctx, p) => {
      const c = resolveContact(ctx, str(p, 'Identity', true));
      const externalParam = str(p, 'ExternalEmailAddress');
      const external = externalParam === undefined ? c.externalEmailAddress : address('ExternalEmailAddress', externalParam);
      let addresses = contactAddresses(c);
      if (external !== c.externalEmailAddress) {
        addressTaken(ctx, external, c.id);
        addresses = [`SMTP:${external}`, ...addresses.filter((a) => a.replace(/^smtp:/i, '').toLowerCase() !== c.externalEmailAddress.toLowerCase() && a.replace(/^smtp:/i, '').toLowerCase() !== external.toLowerCase())];
      }
      addresses = nextAddresses(addresses, p, external);
      for (const a of addresses) addressTaken(ctx, a, c.id);
      const name = str(p, 'Name');
      if (name !== undefined && Object.values(contactsOf(ctx)).some((x) => x.id !== c.id && x.name.toLowerCase() === name.toLowerCase()))
        throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ObjectAlreadyExistsException', `The name "${name}" is being used. Please choose another name.`);
      const alias = str(p, 'Alias');
      const hidden = bool(p, 'HiddenFromAddressListsEnabled');
      const displayName = str(p, 'DisplayName');
      if (name) c.name = name;
      if (displayName) c.displayName = displayName;
      if (alias) c.alias = alias.replace(ALIAS_RE, '');
      if (hidden !== undefined) c.hiddenFromAddressLists = hidden;
      c.externalEmailAddress = external;
      c.emailAddresses = addresses.map((a) => (a.replace(/^smtp:/i, '').toLowerCase() === external.toLowerCase() ? `SMTP:${external}` : a.replace(/^SMTP:/, 'smtp:')));
      ctx.mutated('mailContact.update', c.id);
    },
  },
  'Remove-MailContact': {
    params: ['Identity'],
    run: (ctx, p) => {
      const c = resolveContact(ctx, str(p, 'Identity', true));
      delete contactsOf(ctx)[c.id];
      for (const g of ctx.store.memberOf(c.id)) ctx.store.removeMember(g, c.id);
      ctx.mutated('mailContact.delete', c.id);
    },
  },
  'Get-Contact': {
    params: ['Identity'],
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      if (identity) return [contactDetailsView(ctx, resolveContact(ctx, identity))];
      return Object.values(contactsOf(ctx)).map((c) => contactDetailsView(ctx, c));
    },
  },
  'Set-Contact': {
    params: ['Identity', 'FirstName', 'LastName', 'DisplayName', ...CONTACT_DETAILS],
    run: (ctx, p) => {
      const c = resolveContact(ctx, str(p, 'Identity', true));
      const details = { ...(c.details ?? {}) };
      for (const k of CONTACT_DETAILS) {
        if (!has(p, k)) continue;
        const v = str(p, k);
        if (v && v.length > 256) throw invalidParam(k, `The length of the property is too long. The maximum length is 256 and the length of the value provided is ${v.length}.`);
        if (v) details[k] = v;
        else delete details[k];
      }
      if (has(p, 'FirstName')) c.firstName = str(p, 'FirstName') ?? null;
      if (has(p, 'LastName')) c.lastName = str(p, 'LastName') ?? null;
      const displayName = str(p, 'DisplayName');
      if (displayName) c.displayName = displayName;
      c.details = details;
      ctx.mutated('mailContact.update', c.id);
    },
  },
  'New-MailUser': {
    params: ['Name', 'ExternalEmailAddress', 'MicrosoftOnlineServicesID', 'Password', 'DisplayName', 'Alias', 'FirstName', 'LastName', 'ResetPasswordOnNextLogon'],
    run: (ctx, p) => {
      const name = str(p, 'Name', true)!;
      const external = address('ExternalEmailAddress', str(p, 'ExternalEmailAddress', true)!);
      const upn = str(p, 'MicrosoftOnlineServicesID', true)!;
      const password = str(p, 'Password', true)!;
      if (!ctx.store.info.verifiedDomains.includes(upn.split('@')[1]?.toLowerCase() ?? '')) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `The domain of '${upn}' is not an accepted domain of this organization.`);
      if (!passwordOk(password)) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', 'The password does not meet the password complexity requirements.');
      addressTaken(ctx, upn);
      addressTaken(ctx, external);
      const alias = (str(p, 'Alias') ?? upn.split('@')[0]!).replace(ALIAS_RE, '');
      const user = newUser({ id: randomUUID(), userPrincipalName: upn, displayName: str(p, 'DisplayName') ?? name, mailNickname: alias, mail: external, givenName: str(p, 'FirstName') ?? null, surname: str(p, 'LastName') ?? null, proxyAddresses: [`SMTP:${upn}`], _password: password, _forceChangePasswordNextSignIn: bool(p, 'ResetPasswordOnNextLogon') ?? false }, ctx.nowMs);
      user.createdDateTime = ctx.nowIso;
      ctx.store.addUser(user);
      ctx.store.userState(user.id, 'mailUser', () => ({ externalEmailAddress: external }));
      ctx.mutated('mailUser.create', user.id);
      return [mailUserView(ctx, user)];
    },
  },
  'Enable-MailUser': {
    params: ['Identity', 'ExternalEmailAddress'],
    run: (ctx, p) => {
      const r = resolveRecipient(ctx, str(p, 'Identity', true));
      if (r.kind === 'group' || r.kind === 'contact') throw notFoundExo(str(p, 'Identity'), ctx);
      if (r.kind !== 'user') throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `The user '${r.user.userPrincipalName}' is already mail-enabled (${r.kind === 'mailbox' ? 'it has a mailbox' : 'it is a mail user'}).`);
      const external = address('ExternalEmailAddress', str(p, 'ExternalEmailAddress', true)!);
      addressTaken(ctx, external, r.user.id);
      const before = { ...r.user };
      r.user.mail = external;
      if (!r.user.proxyAddresses.some((a) => a.startsWith('SMTP:'))) r.user.proxyAddresses = [`SMTP:${r.user.userPrincipalName}`, ...r.user.proxyAddresses];
      ctx.store.updateUser(r.user, before);
      ctx.store.userState(r.user.id, 'mailUser', () => ({ externalEmailAddress: external }));
      ctx.mutated('mailUser.create', r.user.id);
      return [mailUserView(ctx, r.user)];
    },
  },
  'Get-MailUser': {
    params: ['Identity', 'ResultSize'],
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      if (identity) return [mailUserView(ctx, resolveMailUser(ctx, identity).user)];
      return [...ctx.store.users.values()].filter((u) => mailUserOf(ctx, u)).map((u) => mailUserView(ctx, u));
    },
  },
  'Set-MailUser': {
    params: ['Identity', 'DisplayName', 'ExternalEmailAddress', 'EmailAddresses', 'HiddenFromAddressListsEnabled'],
    run: (ctx, p) => {
      const { user, mu } = resolveMailUser(ctx, str(p, 'Identity', true));
      const externalParam = str(p, 'ExternalEmailAddress');
      const external = externalParam === undefined ? mu.externalEmailAddress : address('ExternalEmailAddress', externalParam);
      if (external.toLowerCase() !== mu.externalEmailAddress.toLowerCase()) addressTaken(ctx, external, user.id);
      const change = multi(p, 'EmailAddresses');
      let proxies = user.proxyAddresses;
      if (change) {
        const norm = (a: string) => (/^smtp:/i.test(a) ? a : `smtp:${address('EmailAddresses', a)}`);
        proxies = applyMulti(user.proxyAddresses, { set: change.set?.map(norm), add: change.add.map(norm), remove: change.remove.map(norm) });
        for (const a of proxies) addressTaken(ctx, address('EmailAddresses', a), user.id);
        if (proxies.filter((a) => a.startsWith('SMTP:')).length !== 1) throw new ExoError(400, 'Microsoft.Exchange.Data.DataValidationException', `The EmailAddresses of '${user.mailNickname}' must contain exactly one primary SMTP address (SMTP:).`);
      }
      const hidden = bool(p, 'HiddenFromAddressListsEnabled');
      const displayName = str(p, 'DisplayName');
      const before = { ...user };
      if (displayName) user.displayName = displayName;
      user.proxyAddresses = proxies;
      user.mail = external;
      ctx.store.updateUser(user, before);
      mu.externalEmailAddress = external;
      if (hidden !== undefined) mu.hiddenFromAddressLists = hidden;
      ctx.mutated('mailUser.update', user.id);
    },
  },
  'Remove-MailUser': {
    params: ['Identity'],
    run: (ctx, p) => {
      const { user } = resolveMailUser(ctx, str(p, 'Identity', true));
      ctx.store.softDeleteUser(user, ctx.nowIso, ctx.nowMs);
      ctx.mutated('mailUser.delete', user.id);
    },
  },
});
