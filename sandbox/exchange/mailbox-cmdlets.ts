// Mailbox cmdlets: Get/Set/New/Remove-Mailbox (type conversion, forwarding, hide from address lists,
// send on behalf, litigation hold, quotas, audit), archive, statistics, CAS settings, full access and
// send-as permissions, automatic replies, folder permissions, mobile devices.
import { randomUUID } from 'node:crypto';
import { createUnlicensedMailbox, formatSize, mailboxOf, type Mailbox, type MailboxType } from '../mailboxes.ts';
import { newUser } from '../seed.ts';
import type { User } from '../store.ts';
import { applyMulti, bool, ExoError, has, invalidParam, multi, notFoundExo, registerCmdlets, str, type CmdletParams, type ExoCtx } from './invoke.ts';
import { activeSyncListsView, setActiveSyncLists } from './mobile-device-cmdlets.ts';
import { names, primarySmtp, resolveMailbox, resolveRecipient, resolveSendAsTarget, resolveTrustee, recipientName } from './recipients.ts';

const TYPE_PARAM: Record<string, MailboxType> = { regular: 'UserMailbox', shared: 'SharedMailbox', room: 'RoomMailbox', equipment: 'EquipmentMailbox' };

export function mailboxView(ctx: ExoCtx, user: User, mbx: Mailbox): Record<string, unknown> {
  return {
    Identity: user.mailNickname,
    Id: user.mailNickname,
    Name: user.mailNickname,
    Alias: user.mailNickname,
    DisplayName: user.displayName,
    UserPrincipalName: user.userPrincipalName,
    PrimarySmtpAddress: primarySmtp(user.proxyAddresses, user.mail ?? user.userPrincipalName),
    EmailAddresses: user.proxyAddresses,
    RecipientType: 'UserMailbox',
    RecipientTypeDetails: mbx.type,
    ExternalDirectoryObjectId: user.id,
    ExchangeGuid: mbx.exchangeGuid,
    Guid: mbx.exchangeGuid,
    IsMailboxEnabled: true,
    AccountDisabled: !user.accountEnabled,
    WhenCreated: user.createdDateTime,
    WhenMailboxCreated: mbx.createdDateTime,
    HiddenFromAddressListsEnabled: mbx.hiddenFromAddressLists,
    ForwardingSmtpAddress: mbx.forwardingSmtpAddress ? `smtp:${mbx.forwardingSmtpAddress}` : null,
    ForwardingAddress: mbx.forwardingAddress,
    DeliverToMailboxAndForward: mbx.deliverToMailboxAndForward,
    GrantSendOnBehalfTo: names(ctx, mbx.grantSendOnBehalfTo),
    LitigationHoldEnabled: mbx.litigationHoldEnabled,
    LitigationHoldDuration: mbx.litigationHoldDuration,
    ArchiveStatus: mbx.archiveGuid ? 'Active' : 'None',
    ArchiveGuid: mbx.archiveGuid ?? '00000000-0000-0000-0000-000000000000',
    ArchiveName: mbx.archiveGuid ? [`In-Place Archive -${user.displayName}`] : [],
    IssueWarningQuota: mbx.quotas.issueWarningQuota,
    ProhibitSendQuota: mbx.quotas.prohibitSendQuota,
    ProhibitSendReceiveQuota: mbx.quotas.prohibitSendReceiveQuota,
    AuditEnabled: mbx.auditEnabled,
    UsageLocation: user.usageLocation,
  };
}

/** "50GB", "49.5 GB", "unlimited", bytes: Exchange's ByteQuantifiedSize. */
function parseQuota(name: string, v: string): string {
  if (/^unlimited$/i.test(v)) return 'Unlimited';
  const m = /^\s*([\d.]+)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(v);
  if (!m) throw invalidParam(name, `Cannot convert value "${v}" to type "Microsoft.Exchange.Data.Unlimited\`1[Microsoft.Exchange.Data.ByteQuantifiedSize]".`);
  const mult = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[(m[2] ?? 'B').toUpperCase() as 'B']!;
  const bytes = Math.round(Number(m[1]) * mult);
  if (bytes > 100 * 1024 ** 3) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `The value of ${name} exceeds the maximum mailbox size of 100 GB for this mailbox.`);
  return formatSize(bytes);
}

function setMailbox(ctx: ExoCtx, p: CmdletParams): void {
  const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
  const next: Mailbox = structuredClone(mbx);
  const ops: string[] = [];
  const type = str(p, 'Type');
  if (type !== undefined) {
    const t = TYPE_PARAM[type.toLowerCase()];
    if (!t) throw invalidParam('Type', `Cannot convert value "${type}" to type "Microsoft.Exchange.Management.RecipientTasks.ConvertibleMailboxSubType". Valid values: Regular, Shared, Room, Equipment.`);
    if (t === 'UserMailbox' && !user.assignedLicenses.length) ctx.warnings.push(`The mailbox ${user.mailNickname} is now a user mailbox without a licence. Assign a licence within 30 days or the mailbox will be disabled.`);
    if (t === mbx.type) ctx.warnings.push(`The command completed successfully but no settings of '${user.mailNickname}' have been modified.`);
    next.type = t;
    ops.push('mailbox.convert');
  }
  if (has(p, 'ForwardingSmtpAddress')) {
    const v = str(p, 'ForwardingSmtpAddress');
    if (v && !/^(smtp:)?[^@\s]+@[^@\s]+\.[^@\s]+$/i.test(v)) throw invalidParam('ForwardingSmtpAddress', `"${v}" is not a valid SMTP address.`);
    next.forwardingSmtpAddress = v ? v.replace(/^smtp:/i, '') : null;
    ops.push('mailbox.setForwarding');
  }
  if (has(p, 'ForwardingAddress')) {
    const v = str(p, 'ForwardingAddress');
    next.forwardingAddress = v ? recipientName(resolveRecipient(ctx, v)) : null;
    ops.push('mailbox.setForwarding');
  }
  const deliver = bool(p, 'DeliverToMailboxAndForward');
  if (deliver !== undefined) next.deliverToMailboxAndForward = deliver;
  const hidden = bool(p, 'HiddenFromAddressListsEnabled');
  if (hidden !== undefined) {
    next.hiddenFromAddressLists = hidden;
    ops.push('mailbox.setHiddenFromAddressLists');
  }
  const onBehalf = multi(p, 'GrantSendOnBehalfTo');
  if (onBehalf) {
    const ids = (xs: string[]) => xs.map((x) => resolveTrustee(ctx, x).id);
    next.grantSendOnBehalfTo = applyMulti(mbx.grantSendOnBehalfTo, { set: onBehalf.set && ids(onBehalf.set), add: ids(onBehalf.add), remove: ids(onBehalf.remove) });
    ops.push('mailbox.setSendOnBehalf');
  }
  const hold = bool(p, 'LitigationHoldEnabled');
  if (hold !== undefined) {
    if (hold && !user.assignedLicenses.length && mbx.type === 'UserMailbox') throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `Litigation hold requires an Exchange Online Plan 2 or equivalent licence for '${user.mailNickname}'.`);
    next.litigationHoldEnabled = hold;
    ops.push('mailbox.setLitigationHold');
  }
  const duration = str(p, 'LitigationHoldDuration');
  if (duration !== undefined) next.litigationHoldDuration = /^unlimited$/i.test(duration) ? 'Unlimited' : `${Number.parseInt(duration, 10)}.00:00:00`;
  for (const [param, key] of [['IssueWarningQuota', 'issueWarningQuota'], ['ProhibitSendQuota', 'prohibitSendQuota'], ['ProhibitSendReceiveQuota', 'prohibitSendReceiveQuota']] as const) {
    const v = str(p, param);
    if (v !== undefined) {
      next.quotas[key] = parseQuota(param, v);
      ops.push('mailbox.setQuota');
    }
  }
  const audit = bool(p, 'AuditEnabled');
  if (audit !== undefined) {
    next.auditEnabled = audit;
    ops.push('mailbox.setAudit');
  }
  const addresses = multi(p, 'EmailAddresses');
  if (addresses) {
    const norm = (a: string) => (/^smtp:/i.test(a) ? a : `smtp:${a}`);
    const proposed = applyMulti(user.proxyAddresses, { set: addresses.set?.map(norm), add: addresses.add.map(norm), remove: addresses.remove.map(norm) }, (a, b) => a.toLowerCase() === b.toLowerCase());
    for (const a of proposed) {
      const owner = ctx.store.addressOwner(a.replace(/^smtp:/i, ''));
      if (owner && owner !== user.id) throw new ExoError(400, 'Microsoft.Exchange.Data.ProxyAddressExistsException', `The proxy address "${a}" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address.`);
    }
    const before = { ...user };
    user.proxyAddresses = proposed;
    ctx.store.updateUser(user, before);
    ops.push('mailbox.setEmailAddresses');
  }
  const displayName = str(p, 'DisplayName');
  if (displayName !== undefined) {
    user.displayName = displayName;
    ops.push('mailbox.set');
  }
  Object.assign(mbx, next);
  for (const op of new Set(ops.length ? ops : ['mailbox.set'])) ctx.mutated(op, user.id);
}

function newMailbox(ctx: ExoCtx, p: CmdletParams): Record<string, unknown>[] {
  const type: MailboxType = bool(p, 'Shared') ? 'SharedMailbox' : bool(p, 'Room') ? 'RoomMailbox' : bool(p, 'Equipment') ? 'EquipmentMailbox' : 'UserMailbox';
  if (type === 'UserMailbox') throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', 'The sandbox creates user mailboxes by licensing a user in Microsoft Graph; New-Mailbox supports -Shared, -Room and -Equipment.');
  const name = str(p, 'Name', true)!;
  const alias = (str(p, 'Alias') ?? name).replace(/[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/g, '');
  const smtp = str(p, 'PrimarySmtpAddress') ?? `${alias}@${ctx.store.info.defaultDomain}`;
  if (ctx.store.upnTaken(smtp) || ctx.store.addressOwner(smtp)) throw new ExoError(400, 'Microsoft.Exchange.Data.ProxyAddressExistsException', `The proxy address "SMTP:${smtp}" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address.`);
  const user = newUser(
    {
      id: randomUUID(),
      userPrincipalName: smtp,
      displayName: str(p, 'DisplayName') ?? name,
      mailNickname: alias,
      mail: smtp,
      proxyAddresses: [`SMTP:${smtp}`, `smtp:${alias}@${ctx.store.info.initialDomain}`],
      accountEnabled: false,
    },
    ctx.nowMs,
  );
  user.createdDateTime = ctx.nowIso;
  ctx.store.addUser(user);
  const mbx = createUnlicensedMailbox(ctx.store, user, type);
  ctx.mutated('mailbox.create', user.id);
  return [mailboxView(ctx, user, mbx)];
}

function permissionView(identity: string, user: string, rights: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Identity: identity, User: user, AccessRights: rights, IsInherited: false, Deny: false, InheritanceType: 'All', ...extra };
}

const FOLDER_RIGHTS = new Set(['None', 'Owner', 'PublishingEditor', 'Editor', 'PublishingAuthor', 'Author', 'NonEditingAuthor', 'Reviewer', 'Contributor', 'AvailabilityOnly', 'LimitedDetails']);

function folderOf(ctx: ExoCtx, identity: string | undefined): { user: User; mbx: Mailbox; folder: string; entries: Mailbox['folderPermissions'][string] } {
  const m = /^(.+?):\\?(.+)$/.exec(identity ?? '');
  if (!m) throw invalidParam('Identity', `"${identity ?? ''}" is not a mailbox folder identity such as user@contoso.com:\\Calendar.`);
  const { user, mbx } = resolveMailbox(ctx, m[1]);
  const folder = m[2]!.replace(/^\\/, '');
  const key = Object.keys(mbx.folderPermissions).find((k) => k.toLowerCase() === folder.toLowerCase());
  if (!key) throw notFoundExo(identity, ctx);
  return { user, mbx, folder: key, entries: mbx.folderPermissions[key]! };
}

function folderRights(p: CmdletParams): string[] {
  const rights = multi(p, 'AccessRights')?.set ?? [];
  if (!rights.length) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', "Cannot bind argument to parameter 'AccessRights' because it is null or empty.");
  for (const r of rights) if (!FOLDER_RIGHTS.has(r)) throw invalidParam('AccessRights', `"${r}" is not a valid MailboxFolderAccessRight.`);
  return rights;
}

function folderUserKey(ctx: ExoCtx, userParam: string | undefined): string {
  if (!userParam) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', "Cannot bind argument to parameter 'User' because it is null or empty.");
  if (/^(default|anonymous)$/i.test(userParam)) return userParam[0]!.toUpperCase() + userParam.slice(1).toLowerCase();
  return resolveTrustee(ctx, userParam).id;
}

const folderEntryName = (ctx: ExoCtx, key: string): string => (key === 'Default' || key === 'Anonymous' ? key : (ctx.store.userById(key)?.displayName ?? key));

registerCmdlets({
  'Get-Mailbox': (ctx, p) => {
    const identity = str(p, 'Identity');
    if (identity) {
      const { user, mbx } = resolveMailbox(ctx, identity);
      return [mailboxView(ctx, user, mbx)];
    }
    const wanted = multi(p, 'RecipientTypeDetails')?.set?.map((t) => t.toLowerCase());
    const sizeParam = str(p, 'ResultSize');
    const limit = sizeParam === undefined ? 1000 : /^unlimited$/i.test(sizeParam) ? Infinity : Number(sizeParam);
    const out: Record<string, unknown>[] = [];
    let more = false;
    for (const user of ctx.store.users.values()) {
      const mbx = mailboxOf(ctx.store, user, false);
      if (!mbx || (wanted && !wanted.includes(mbx.type.toLowerCase()))) continue;
      if (out.length >= limit) {
        more = true;
        break;
      }
      out.push(mailboxView(ctx, user, mbx));
    }
    if (more && sizeParam === undefined) ctx.warnings.push('By default, only the first 1000 items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify "-ResultSize Unlimited".');
    return out;
  },
  'Set-Mailbox': setMailbox,
  'New-Mailbox': newMailbox,
  'Remove-Mailbox': (ctx, p) => {
    const { user } = resolveMailbox(ctx, str(p, 'Identity', true));
    ctx.store.softDeleteUser(user, ctx.nowIso, ctx.nowMs);
    ctx.mutated('mailbox.remove', user.id);
  },
  'Enable-Mailbox': (ctx, p) => {
    if (!bool(p, 'Archive')) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', 'The sandbox supports Enable-Mailbox -Archive only; license a user in Microsoft Graph to give them a mailbox.');
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    if (mbx.archiveGuid) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `The mailbox '${user.mailNickname}' already has an archive.`);
    mbx.archiveGuid = randomUUID();
    ctx.mutated('mailbox.enableArchive', user.id);
    return [mailboxView(ctx, user, mbx)];
  },
  'Disable-Mailbox': (ctx, p) => {
    if (!bool(p, 'Archive')) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', 'The sandbox supports Disable-Mailbox -Archive only.');
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    if (!mbx.archiveGuid) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `The mailbox '${user.mailNickname}' doesn't have an archive.`);
    mbx.archiveGuid = null;
    ctx.mutated('mailbox.disableArchive', user.id);
  },
  'Get-MailboxStatistics': (ctx, p) => {
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    const bytes = mbx.totalItemSizeMB * 1024 * 1024;
    return [{ DisplayName: user.displayName, MailboxGuid: mbx.exchangeGuid, ItemCount: mbx.itemCount, DeletedItemCount: Math.floor(mbx.itemCount / 20), TotalItemSize: `${(mbx.totalItemSizeMB / 1024).toFixed(2)} GB (${bytes.toLocaleString('en-US')} bytes)`, LastLogonTime: user.signInSessionsValidFromDateTime, MailboxTypeDetail: mbx.type, StorageLimitStatus: 'BelowLimit' }];
  },
  'Get-CASMailbox': (ctx, p) => {
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    const c = mbx.cas;
    return [{ Identity: user.mailNickname, Name: user.mailNickname, PrimarySmtpAddress: user.mail, OWAEnabled: c.owaEnabled, ActiveSyncEnabled: c.activeSyncEnabled, PopEnabled: c.popEnabled, ImapEnabled: c.imapEnabled, MAPIEnabled: c.mapiEnabled, EwsEnabled: c.ewsEnabled, SmtpClientAuthenticationDisabled: c.smtpClientAuthenticationDisabled, ...activeSyncListsView(ctx, user), ExternalDirectoryObjectId: user.id }];
  },
  'Set-CASMailbox': (ctx, p) => {
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    const map = { OWAEnabled: 'owaEnabled', ActiveSyncEnabled: 'activeSyncEnabled', PopEnabled: 'popEnabled', ImapEnabled: 'imapEnabled', MAPIEnabled: 'mapiEnabled', EwsEnabled: 'ewsEnabled', SmtpClientAuthenticationDisabled: 'smtpClientAuthenticationDisabled' } as const;
    for (const [param, key] of Object.entries(map)) {
      const v = bool(p, param);
      if (v !== undefined) mbx.cas[key] = v;
    }
    setActiveSyncLists(ctx, user, p);
    ctx.mutated('mailbox.setClientAccess', user.id);
  },
  'Get-MailboxPermission': (ctx, p) => {
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    const only = str(p, 'User');
    const onlyId = only ? resolveTrustee(ctx, only).id : undefined;
    const rows = [permissionView(user.mailNickname, 'NT AUTHORITY\\SELF', ['FullAccess', 'ReadPermission'], { IsInherited: false })];
    for (const fa of mbx.fullAccess) rows.push(permissionView(user.mailNickname, ctx.store.userById(fa.user)?.userPrincipalName ?? fa.user, ['FullAccess']));
    return onlyId ? rows.filter((r) => r['User'] === ctx.store.userById(onlyId)?.userPrincipalName) : rows;
  },
  'Add-MailboxPermission': (ctx, p) => {
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    const trustee = resolveTrustee(ctx, str(p, 'User', true));
    const rights = multi(p, 'AccessRights')?.set ?? [];
    if (!rights.some((r) => r.toLowerCase() === 'fullaccess')) throw invalidParam('AccessRights', 'The sandbox supports FullAccess mailbox permissions.');
    if (mbx.fullAccess.some((f) => f.user === trustee.id)) {
      ctx.warnings.push(`The appropriate access control entry is already present on the object "${user.mailNickname}" for account "${trustee.userPrincipalName}".`);
      return [];
    }
    mbx.fullAccess.push({ user: trustee.id, autoMapping: bool(p, 'AutoMapping') ?? true });
    ctx.mutated('mailbox.addFullAccess', user.id, trustee.id);
    return [permissionView(user.mailNickname, trustee.userPrincipalName, ['FullAccess'])];
  },
  'Remove-MailboxPermission': (ctx, p) => {
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    const trustee = resolveTrustee(ctx, str(p, 'User', true));
    if (!mbx.fullAccess.some((f) => f.user === trustee.id)) {
      ctx.warnings.push(`Can't remove the access control entry on the object "${user.mailNickname}" for account "${trustee.userPrincipalName}" because the ACE doesn't exist on the object.`);
      return;
    }
    mbx.fullAccess = mbx.fullAccess.filter((f) => f.user !== trustee.id);
    ctx.mutated('mailbox.removeFullAccess', user.id, trustee.id);
  },
  'Get-RecipientPermission': (ctx, p) => {
    const target = resolveSendAsTarget(ctx, str(p, 'Identity', true));
    const row = (trustee: string) => ({ Identity: target.name, Trustee: trustee, AccessControlType: 'Allow', AccessRights: ['SendAs'], IsInherited: false, InheritanceType: 'None' });
    const rows = [row('NT AUTHORITY\\SELF'), ...target.sendAs.map((id) => row(ctx.store.userById(id)?.userPrincipalName ?? id))];
    const trustee = str(p, 'Trustee');
    return trustee ? rows.filter((r) => r.Trustee === resolveTrustee(ctx, trustee).userPrincipalName) : rows;
  },
  'Add-RecipientPermission': (ctx, p) => {
    const target = resolveSendAsTarget(ctx, str(p, 'Identity', true));
    const trustee = resolveTrustee(ctx, str(p, 'Trustee', true));
    if (target.sendAs.includes(trustee.id)) {
      ctx.warnings.push(`The appropriate access control entry is already present on the object "${target.name}" for account "${trustee.userPrincipalName}".`);
      return [];
    }
    target.set([...target.sendAs, trustee.id]);
    ctx.mutated('mailbox.addSendAs', target.id, trustee.id);
    return [{ Identity: target.name, Trustee: trustee.userPrincipalName, AccessControlType: 'Allow', AccessRights: ['SendAs'], IsInherited: false, InheritanceType: 'None' }];
  },
  'Remove-RecipientPermission': (ctx, p) => {
    const target = resolveSendAsTarget(ctx, str(p, 'Identity', true));
    const trustee = resolveTrustee(ctx, str(p, 'Trustee', true));
    if (!target.sendAs.includes(trustee.id)) {
      ctx.warnings.push(`Can't remove the access control entry on the object "${target.name}" for account "${trustee.userPrincipalName}" because the ACE doesn't exist on the object.`);
      return;
    }
    target.set(target.sendAs.filter((id) => id !== trustee.id));
    ctx.mutated('mailbox.removeSendAs', target.id, trustee.id);
  },
  'Get-MailboxAutoReplyConfiguration': (ctx, p) => {
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    const a = mbx.autoReply;
    return [{ Identity: user.mailNickname, MailboxOwnerId: user.mailNickname, AutoReplyState: a.state, InternalMessage: a.internalMessage, ExternalMessage: a.externalMessage, ExternalAudience: a.externalAudience, StartTime: a.startTime, EndTime: a.endTime }];
  },
  'Set-MailboxAutoReplyConfiguration': (ctx, p) => {
    const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
    const next = { ...mbx.autoReply };
    const state = str(p, 'AutoReplyState');
    if (state !== undefined) {
      const s = ['Disabled', 'Enabled', 'Scheduled'].find((x) => x.toLowerCase() === state.toLowerCase());
      if (!s) throw invalidParam('AutoReplyState', `Cannot convert value "${state}". Valid values: Disabled, Enabled, Scheduled.`);
      next.state = s as typeof next.state;
    }
    const audience = str(p, 'ExternalAudience');
    if (audience !== undefined) {
      const a = ['None', 'Known', 'All'].find((x) => x.toLowerCase() === audience.toLowerCase());
      if (!a) throw invalidParam('ExternalAudience', `Cannot convert value "${audience}". Valid values: None, Known, All.`);
      next.externalAudience = a as typeof next.externalAudience;
    }
    const internal = str(p, 'InternalMessage');
    if (internal !== undefined) next.internalMessage = internal;
    const external = str(p, 'ExternalMessage');
    if (external !== undefined) next.externalMessage = external;
    for (const [param, key] of [['StartTime', 'startTime'], ['EndTime', 'endTime']] as const) {
      const v = str(p, param);
      if (v === undefined) continue;
      const ms = Date.parse(v);
      if (Number.isNaN(ms)) throw invalidParam(param, `Cannot convert value "${v}" to type "System.DateTime".`);
      next[key] = new Date(ms).toISOString();
    }
    if (next.state === 'Scheduled' && (!next.startTime || !next.endTime || next.endTime <= next.startTime)) {
      throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', 'The StartTime must be earlier than the EndTime of a scheduled automatic reply.');
    }
    mbx.autoReply = next;
    ctx.mutated('mailbox.setAutoReply', user.id);
  },
  'Get-MailboxFolderPermission': (ctx, p) => {
    const { user, folder, entries } = folderOf(ctx, str(p, 'Identity', true));
    return entries.map((e) => ({ Identity: `${user.mailNickname}:\\${folder}`, FolderName: folder, User: folderEntryName(ctx, e.user), AccessRights: e.accessRights, SharingPermissionFlags: null }));
  },
  'Add-MailboxFolderPermission': (ctx, p) => {
    const { user, folder, entries } = folderOf(ctx, str(p, 'Identity', true));
    const key = folderUserKey(ctx, str(p, 'User'));
    const rights = folderRights(p);
    if (entries.some((e) => e.user === key)) throw new ExoError(400, 'Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException', `An existing permission entry was found for user: ${folderEntryName(ctx, key)}.`);
    entries.push({ user: key, accessRights: rights });
    ctx.mutated('mailbox.addFolderPermission', user.id, key);
    return [{ Identity: `${user.mailNickname}:\\${folder}`, FolderName: folder, User: folderEntryName(ctx, key), AccessRights: rights }];
  },
  'Set-MailboxFolderPermission': (ctx, p) => {
    const { user, entries } = folderOf(ctx, str(p, 'Identity', true));
    const key = folderUserKey(ctx, str(p, 'User'));
    const entry = entries.find((e) => e.user === key);
    if (!entry) throw new ExoError(400, 'Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException', `There is no existing permission entry found for user: ${folderEntryName(ctx, key)}.`);
    entry.accessRights = folderRights(p);
    ctx.mutated('mailbox.setFolderPermission', user.id, key);
  },
  'Remove-MailboxFolderPermission': (ctx, p) => {
    const { user, mbx, folder, entries } = folderOf(ctx, str(p, 'Identity', true));
    const key = folderUserKey(ctx, str(p, 'User'));
    if (key === 'Default' || key === 'Anonymous') throw new ExoError(400, 'Microsoft.Exchange.Management.StoreTasks.CannotRemoveSpecialMailboxFolderPermissionException', `The permission entry for ${key} can't be removed; set it to None instead.`);
    if (!entries.some((e) => e.user === key)) throw new ExoError(400, 'Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException', `There is no existing permission entry found for user: ${folderEntryName(ctx, key)}.`);
    mbx.folderPermissions[folder] = entries.filter((e) => e.user !== key);
    ctx.mutated('mailbox.removeFolderPermission', user.id, key);
  },
});
