// Mailbox cmdlets: Get/Set/New/Remove-Mailbox (type conversion, forwarding, hide from address lists,
// send on behalf, litigation hold, quotas, auditing, archive name, retention and address book policies,
// mail tip, custom attributes, resource capacity, email addresses), archive, statistics, CAS settings,
// automatic replies, regional settings, mobile devices. Permissions are in permission-cmdlets.ts,
// policies and booking in policy-cmdlets.ts.
import { randomUUID } from 'node:crypto';
import { createUnlicensedMailbox, formatSize, mailboxOf, type Mailbox, type MailboxType } from '../mailboxes.ts';
import { newUser } from '../seed.ts';
import type { User } from '../store.ts';
import { applyMulti, bool, ExoError, has, int, invalidParam, multi, notFoundExo, registerCmdlets, resultSize, str, type CmdletParams, type ExoCtx } from './invoke.ts';
import { activeSyncListsView, setActiveSyncLists } from './mobile-device-cmdlets.ts';
import { names, primarySmtp, resolveMailbox, resolveRecipient, resolveTrustee, recipientName } from './recipients.ts';
import { addressBookPolicyNamed, retentionPolicyNamed } from './policy-cmdlets.ts';

const TYPE_PARAM: Record<string, MailboxType> = { regular: 'UserMailbox', shared: 'SharedMailbox', room: 'RoomMailbox', equipment: 'EquipmentMailbox' };
const CUSTOM_ATTRIBUTES = Array.from({ length: 15 }, (_, i) => `CustomAttribute${i + 1}`);
const isResource = (t: MailboxType): boolean => t === 'RoomMailbox' || t === 'EquipmentMailbox';

export const defaultArchiveName = (user: User): string => `In-Place Archive -${user.displayName}`;

export function mailboxView(ctx: ExoCtx, user: User, mbx: Mailbox): Record<string, unknown> {
  const attrs = user._extensionAttributes ?? {};
  return {
    Identity: user.mailNickname,
    Id: user.mailNickname,
    Name: user.mailNickname,
    Alias: user.mailNickname,
    DisplayName: user.displayName,
    UserPrincipalName: user.userPrincipalName,
    PrimarySmtpAddress: primarySmtp(user.proxyAddresses, user.mail ?? user.userPrincipalName),
    WindowsEmailAddress: primarySmtp(user.proxyAddresses, user.mail ?? user.userPrincipalName),
    EmailAddresses: user.proxyAddresses,
    RecipientType: 'UserMailbox',
    RecipientTypeDetails: mbx.type,
    IsResource: isResource(mbx.type),
    IsShared: mbx.type === 'SharedMailbox',
    ResourceType: mbx.type === 'RoomMailbox' ? 'Room' : mbx.type === 'EquipmentMailbox' ? 'Equipment' : null,
    ResourceCapacity: mbx.resourceCapacity,
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
    ArchiveName: mbx.archiveGuid || mbx.archiveName ? [mbx.archiveName ?? defaultArchiveName(user)] : [],
    RetentionPolicy: mbx.retentionPolicy,
    AddressBookPolicy: mbx.addressBookPolicy,
    MailTip: mbx.mailTip,
    IssueWarningQuota: mbx.quotas.issueWarningQuota,
    ProhibitSendQuota: mbx.quotas.prohibitSendQuota,
    ProhibitSendReceiveQuota: mbx.quotas.prohibitSendReceiveQuota,
    AuditEnabled: mbx.auditEnabled,
    AuditLogAgeLimit: mbx.auditLogAgeLimit,
    UsageLocation: user.usageLocation,
    ...Object.fromEntries(CUSTOM_ATTRIBUTES.map((a, i) => [a, attrs[`extensionAttribute${i + 1}`] ?? ''])),
  };
}

const GB = 1024 ** 3;
const bytesOf = (formatted: string): number => (/^unlimited$/i.test(formatted) ? Infinity : Number(/\(([\d,]+) bytes\)/.exec(formatted)?.[1]?.replace(/,/g, '') ?? 0));

/** "50GB", "49.5 GB", "unlimited", bytes: Exchange's ByteQuantifiedSize. */
function parseQuota(name: string, v: string): string {
  if (/^unlimited$/i.test(v)) return 'Unlimited';
  const m = /^\s*([\d.]+)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(v);
  if (!m) throw invalidParam(name, `Cannot convert value "${v}" to type "Microsoft.Exchange.Data.Unlimited\`1[Microsoft.Exchange.Data.ByteQuantifiedSize]".`);
  const mult = { B: 1, KB: 1024, MB: 1024 ** 2, GB, TB: 1024 ** 4 }[(m[2] ?? 'B').toUpperCase() as 'B']!;
  const bytes = Math.round(Number(m[1]) * mult);
  if (bytes > 100 * GB) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', `The value of ${name} exceeds the maximum mailbox size of 100 GB for this mailbox.`);
  return formatSize(bytes);
}

function smtpAddress(name: string, v: string): string {
  const a = v.replace(/^smtp:/i, '');
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a)) throw invalidParam(name, `"${v}" is not a valid SMTP address.`);
  return a;
}

function setMailbox(ctx: ExoCtx, p: CmdletParams): void {
  const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
  // Everything is checked before anything is written: a refused call changes nothing.
  const next: Mailbox = structuredClone(mbx);
  const nextUser = { ...user, proxyAddresses: [...user.proxyAddresses], _extensionAttributes: { ...(user._extensionAttributes ?? {}) } };
  const ops: string[] = [];
  const type = str(p, 'Type');
  if (type !== undefined) {
    const t = TYPE_PARAM[type.toLowerCase()];
    if (!t) throw invalidParam('Type', `Cannot convert value "${type}" to type "Microsoft.Exchange.Management.RecipientTasks.ConvertibleMailboxSubType". Valid values: Regular, Shared, Room, Equipment.`);
    if (t === 'UserMailbox' && !user.assignedLicenses.length) ctx.warnings.push(`The mailbox ${user.mailNickname} is now a user mailbox without a licence. Assign a licence within 30 days or the mailbox will be disabled.`);
    if (t === mbx.type) ctx.warnings.push(`The command completed successfully but no settings of '${user.mailNickname}' have been modified.`);
    if (isResource(t) !== isResource(mbx.type)) next.calendarProcessing.automateProcessing = isResource(t) ? 'AutoAccept' : 'AutoUpdate';
    next.type = t;
    ops.push('mailbox.convert');
  }
  if (has(p, 'ForwardingSmtpAddress')) {
    const v = str(p, 'ForwardingSmtpAddress');
    next.forwardingSmtpAddress = v ? smtpAddress('ForwardingSmtpAddress', v) : null;
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
    if (user.onPremisesSyncEnabled)
      throw new ExoError(400, 'Microsoft.Exchange.Configuration.Tasks.TaskException', `The operation on mailbox "${user.mailNickname}" failed because it's out of the current user's write scope. The action 'Set-Mailbox', 'HiddenFromAddressListsEnabled', can't be performed on the object '${user.mailNickname}' because the object is being synchronized from your on-premises organization. This action should be performed on the object in your on-premises organization.`);
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
  if (duration !== undefined) {
    if (!/^(unlimited|\d+)$/i.test(duration)) throw invalidParam('LitigationHoldDuration', `Cannot convert value "${duration}" to type "Microsoft.Exchange.Data.Unlimited\`1[Microsoft.Exchange.Data.EnhancedTimeSpan]".`);
    next.litigationHoldDuration = /^unlimited$/i.test(duration) ? 'Unlimited' : `${Number.parseInt(duration, 10)}.00:00:00`;
    ops.push('mailbox.setLitigationHold');
  }
  for (const [param, key] of [['IssueWarningQuota', 'issueWarningQuota'], ['ProhibitSendQuota', 'prohibitSendQuota'], ['ProhibitSendReceiveQuota', 'prohibitSendReceiveQuota']] as const) {
    const v = str(p, param);
    if (v === undefined) continue;
    next.quotas[key] = parseQuota(param, v);
    ops.push('mailbox.setQuota');
  }
  const q = next.quotas;
  // As documented: IssueWarningQuota and ProhibitSendQuota must each be <= ProhibitSendReceiveQuota.
  for (const [param, value] of [['IssueWarningQuota', q.issueWarningQuota], ['ProhibitSendQuota', q.prohibitSendQuota]] as const)
    if (bytesOf(value) > bytesOf(q.prohibitSendReceiveQuota))
      throw new ExoError(400, 'Microsoft.Exchange.Data.DataValidationException', `The value of ${param} (${value}) must be less than or equal to the value of ProhibitSendReceiveQuota (${q.prohibitSendReceiveQuota}).`);
  const audit = bool(p, 'AuditEnabled');
  if (audit !== undefined) {
    next.auditEnabled = audit;
    ops.push('mailbox.setAudit');
  }
  const ageLimit = str(p, 'AuditLogAgeLimit');
  if (ageLimit !== undefined) {
    const m = /^(\d+)(?:\.(\d\d:\d\d:\d\d))?$/.exec(ageLimit);
    if (!m || Number(m[1]) > 24855) throw invalidParam('AuditLogAgeLimit', `Cannot convert value "${ageLimit}" to type "Microsoft.Exchange.Data.EnhancedTimeSpan" (use dd.hh:mm:ss, e.g. 180.00:00:00).`);
    next.auditLogAgeLimit = `${m[1]}.${m[2] ?? '00:00:00'}`;
    ops.push('mailbox.setAudit');
  }
  if (has(p, 'ArchiveName')) {
    const v = multi(p, 'ArchiveName');
    const name = v?.set?.[0] ?? v?.add[0];
    if (name !== undefined && name.length > 64) throw invalidParam('ArchiveName', 'The length of the property is too long. The maximum length is 64 and the length of the value provided is ' + name.length + '.');
    next.archiveName = name ?? null;
    ops.push('mailbox.setArchiveName');
  }
  if (has(p, 'RetentionPolicy')) {
    const v = str(p, 'RetentionPolicy');
    next.retentionPolicy = v ? retentionPolicyNamed(ctx, v).name : null;
    ops.push('mailbox.setRetentionPolicy');
  }
  if (has(p, 'AddressBookPolicy')) {
    const v = str(p, 'AddressBookPolicy');
    next.addressBookPolicy = v ? addressBookPolicyNamed(ctx, v).name : null;
    ops.push('mailbox.setAddressBookPolicy');
  }
  if (has(p, 'MailTip')) {
    const v = str(p, 'MailTip');
    if (v && v.length > 175) throw invalidParam('MailTip', `The MailTip can be at most 175 characters; it has ${v.length}.`);
    next.mailTip = v ?? null;
    ops.push('mailbox.set');
  }
  if (has(p, 'ResourceCapacity')) {
    if (!isResource(next.type)) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `ResourceCapacity can only be set on a room or equipment mailbox; '${user.mailNickname}' is a ${next.type}.`);
    const v = int(p, 'ResourceCapacity');
    if (v !== undefined && v < 0) throw invalidParam('ResourceCapacity', `The value "${v}" must be 0 or more.`);
    next.resourceCapacity = v ?? null;
    ops.push('mailbox.set');
  }
  for (const [i, attr] of CUSTOM_ATTRIBUTES.entries()) {
    if (!has(p, attr)) continue;
    const v = str(p, attr);
    if (v && v.length > 1024) throw invalidParam(attr, `The length of the property is too long. The maximum length is 1024 and the length of the value provided is ${v.length}.`);
    if (v) nextUser._extensionAttributes[`extensionAttribute${i + 1}`] = v;
    else delete nextUser._extensionAttributes[`extensionAttribute${i + 1}`];
    ops.push('mailbox.set');
  }
  const addresses = multi(p, 'EmailAddresses');
  if (addresses) {
    const norm = (a: string) => (/^smtp:/i.test(a) ? a : `smtp:${a}`);
    nextUser.proxyAddresses = applyMulti(user.proxyAddresses, { set: addresses.set?.map(norm), add: addresses.add.map(norm), remove: addresses.remove.map(norm) }, (a, b) => a.toLowerCase() === b.toLowerCase());
    for (const a of nextUser.proxyAddresses) smtpAddress('EmailAddresses', a);
    ops.push('mailbox.setEmailAddresses');
  }
  const windows = str(p, 'WindowsEmailAddress');
  if (windows !== undefined) {
    const a = smtpAddress('WindowsEmailAddress', windows);
    nextUser.proxyAddresses = [`SMTP:${a}`, ...nextUser.proxyAddresses.filter((x) => x.replace(/^smtp:/i, '').toLowerCase() !== a.toLowerCase()).map((x) => x.replace(/^SMTP:/, 'smtp:'))];
    ops.push('mailbox.setEmailAddresses');
  }
  if (addresses || windows !== undefined) {
    const primaries = nextUser.proxyAddresses.filter((a) => a.startsWith('SMTP:'));
    if (primaries.length !== 1) throw new ExoError(400, 'Microsoft.Exchange.Data.DataValidationException', `The EmailAddresses of '${user.mailNickname}' must contain exactly one primary SMTP address (SMTP:); it has ${primaries.length}.`);
    for (const a of nextUser.proxyAddresses) {
      const bare = a.replace(/^smtp:/i, '');
      const owner = ctx.store.addressOwner(bare);
      if ((owner && owner !== user.id) || (ctx.store.upnTaken(bare) && ctx.store.findUser(bare)?.id !== user.id))
        throw new ExoError(400, 'Microsoft.Exchange.Data.ProxyAddressExistsException', `The proxy address "${a}" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address.`);
      if (!ctx.store.info.verifiedDomains.includes(bare.split('@')[1]!.toLowerCase()))
        throw new ExoError(400, 'Microsoft.Exchange.Data.DataValidationException', `The domain of "${a}" isn't an accepted domain of this organization. Add it as an accepted domain, or use one of: ${ctx.store.info.verifiedDomains.join(', ')}.`);
    }
    nextUser.mail = primaries[0]!.slice(5);
  }
  const displayName = str(p, 'DisplayName');
  if (displayName !== undefined) {
    nextUser.displayName = displayName;
    ops.push('mailbox.set');
  }
  // Commit.
  if (addresses || windows !== undefined || displayName !== undefined || CUSTOM_ATTRIBUTES.some((a) => has(p, a))) {
    const before = { ...user };
    Object.assign(user, nextUser);
    if (!Object.keys(user._extensionAttributes ?? {}).length) delete user._extensionAttributes;
    ctx.store.updateUser(user, before);
  }
  Object.assign(mbx, next);
  for (const op of new Set(ops.length ? ops : ['mailbox.set'])) ctx.mutated(op, user.id);
}

function newMailbox(ctx: ExoCtx, p: CmdletParams): Record<string, unknown>[] {
  const kinds = (['Shared', 'Room', 'Equipment'] as const).filter((k) => bool(p, k));
  if (kinds.length > 1) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', 'Parameter set cannot be resolved using the specified named parameters.');
  const type: MailboxType = kinds[0] === 'Shared' ? 'SharedMailbox' : kinds[0] === 'Room' ? 'RoomMailbox' : kinds[0] === 'Equipment' ? 'EquipmentMailbox' : 'UserMailbox';
  if (type === 'UserMailbox') throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', 'The sandbox creates user mailboxes by licensing a user in Microsoft Graph; New-Mailbox supports -Shared, -Room and -Equipment.');
  const name = str(p, 'Name', true)!;
  const alias = (str(p, 'Alias') ?? name).replace(/[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/g, '');
  const smtp = smtpAddress('PrimarySmtpAddress', str(p, 'PrimarySmtpAddress') ?? `${alias}@${ctx.store.info.defaultDomain}`);
  if (!ctx.store.info.verifiedDomains.includes(smtp.split('@')[1]!.toLowerCase()))
    throw new ExoError(400, 'Microsoft.Exchange.Data.DataValidationException', `The domain of "${smtp}" isn't an accepted domain of this organization.`);
  if (ctx.store.upnTaken(smtp) || ctx.store.addressOwner(smtp)) throw new ExoError(400, 'Microsoft.Exchange.Data.ProxyAddressExistsException', `The proxy address "SMTP:${smtp}" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address.`);
  const capacity = int(p, 'ResourceCapacity');
  if (capacity !== undefined && !isResource(type)) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', 'ResourceCapacity can only be set on a room or equipment mailbox.');
  const user = newUser(
    {
      id: randomUUID(),
      userPrincipalName: smtp,
      displayName: str(p, 'DisplayName') ?? name,
      mailNickname: alias,
      mail: smtp,
      proxyAddresses: [`SMTP:${smtp}`, `smtp:${alias}@${ctx.store.info.initialDomain}`],
      accountEnabled: false,
      // The account of a shared or resource mailbox has a random password nobody knows (and a null
      // password marks seeded demo users, which come with rules, devices and sign-ins).
      _password: randomUUID(),
    },
    ctx.nowMs,
  );
  user.createdDateTime = ctx.nowIso;
  ctx.store.addUser(user);
  const mbx = createUnlicensedMailbox(ctx.store, user, type);
  if (capacity !== undefined) mbx.resourceCapacity = capacity;
  ctx.mutated('mailbox.create', user.id);
  return [mailboxView(ctx, user, mbx)];
}

/** Windows time zone ids Exchange accepts (the ones the seeded offices use and the common others). */
const TIME_ZONES = new Set([
  'Dateline Standard Time', 'UTC', 'Hawaiian Standard Time', 'Alaskan Standard Time', 'Pacific Standard Time', 'Mountain Standard Time', 'US Mountain Standard Time',
  'Central Standard Time', 'Eastern Standard Time', 'Atlantic Standard Time', 'E. South America Standard Time', 'Greenwich Standard Time', 'GMT Standard Time',
  'W. Europe Standard Time', 'Romance Standard Time', 'Central Europe Standard Time', 'Central European Standard Time', 'E. Europe Standard Time', 'FLE Standard Time',
  'GTB Standard Time', 'Russian Standard Time', 'Arabian Standard Time', 'India Standard Time', 'China Standard Time', 'Singapore Standard Time', 'Tokyo Standard Time',
  'Korea Standard Time', 'AUS Eastern Standard Time', 'New Zealand Standard Time', 'South Africa Standard Time', 'Israel Standard Time', 'Turkey Standard Time',
]);

/** The formats a language uses when DateFormat / TimeFormat are reset ($null). */
function languageFormats(language: string): { dateFormat: string; timeFormat: string } {
  if (language === 'en-US') return { dateFormat: 'M/d/yyyy', timeFormat: 'h:mm tt' };
  if (/^(de|fi|nb|da|ru|pl|cs)-/.test(language)) return { dateFormat: 'dd.MM.yyyy', timeFormat: 'HH:mm' };
  if (/^(ja|zh|ko)-/.test(language)) return { dateFormat: 'yyyy/MM/dd', timeFormat: 'H:mm' };
  return { dateFormat: 'dd/MM/yyyy', timeFormat: 'HH:mm' };
}

/**
 * -Anr: ambiguous name resolution, as Active Directory does it: the text starts the common name,
 * display name, first name, last name or alias (case-insensitive); "first last" (either order)
 * matches the first and last names.
 */
function anrMatches(user: User, anr: string): boolean {
  const term = anr.trim().toLowerCase();
  const starts = (v: string | null | undefined, t: string) => !!v && v.toLowerCase().startsWith(t);
  if ([user.mailNickname, user.displayName, user.givenName, user.surname].some((v) => starts(v, term))) return true;
  const parts = term.split(/\s+/);
  if (parts.length !== 2) return false;
  const [a, b] = parts as [string, string];
  return (starts(user.givenName, a) && starts(user.surname, b)) || (starts(user.surname, a) && starts(user.givenName, b));
}

function regionalView(user: User, mbx: Mailbox): Record<string, unknown> {
  return { Identity: user.mailNickname, Language: mbx.settings.language, TimeZone: mbx.settings.timeZone, DateFormat: mbx.settings.dateFormat, TimeFormat: mbx.settings.timeFormat };
}

registerCmdlets({
  'Get-Mailbox': {
    params: ['Identity', 'Anr', 'RecipientTypeDetails', 'ResultSize'],
    run: (ctx, p) => {
      const identity = str(p, 'Identity');
      const anr = str(p, 'Anr');
      // Identity and Anr belong to different parameter sets.
      if (identity && anr) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', 'Parameter set cannot be resolved using the specified named parameters.');
      if (identity) {
        const { user, mbx } = resolveMailbox(ctx, identity);
        return [mailboxView(ctx, user, mbx)];
      }
      const wanted = multi(p, 'RecipientTypeDetails')?.set?.map((t) => t.toLowerCase());
      const sizeParam = str(p, 'ResultSize');
      const limit = sizeParam === undefined ? 1000 : resultSize(p);
      const out: Record<string, unknown>[] = [];
      let more = false;
      for (const user of ctx.store.users.values()) {
        const mbx = mailboxOf(ctx.store, user, false);
        if (!mbx || (wanted && !wanted.includes(mbx.type.toLowerCase())) || (anr && !anrMatches(user, anr))) continue;
        if (out.length >= limit) {
          more = true;
          break;
        }
        out.push(mailboxView(ctx, user, mbx));
      }
      if (more && sizeParam === undefined) ctx.warnings.push('By default, only the first 1000 items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify "-ResultSize Unlimited".');
      return out;
    },
  },
  'Set-Mailbox': {
    params: [
      'Identity', 'Type', 'ForwardingSmtpAddress', 'ForwardingAddress', 'DeliverToMailboxAndForward', 'HiddenFromAddressListsEnabled', 'GrantSendOnBehalfTo',
      'LitigationHoldEnabled', 'LitigationHoldDuration', 'IssueWarningQuota', 'ProhibitSendQuota', 'ProhibitSendReceiveQuota', 'AuditEnabled', 'AuditLogAgeLimit',
      'ArchiveName', 'RetentionPolicy', 'AddressBookPolicy', 'MailTip', 'ResourceCapacity', 'EmailAddresses', 'WindowsEmailAddress', 'DisplayName', 'Force',
      ...CUSTOM_ATTRIBUTES,
    ],
    // Litigation hold is the Legal Hold role's, auditing the Audit Logs role's: not Recipient Management's.
    privileged: ['LitigationHoldEnabled', 'LitigationHoldDuration', 'AuditEnabled', 'AuditLogAgeLimit'],
    run: setMailbox,
  },
  'New-Mailbox': { params: ['Name', 'Shared', 'Room', 'Equipment', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'ResourceCapacity'], run: newMailbox },
  'Remove-Mailbox': {
    params: ['Identity', 'Force'],
    run: (ctx, p) => {
      const { user } = resolveMailbox(ctx, str(p, 'Identity', true));
      ctx.store.softDeleteUser(user, ctx.nowIso, ctx.nowMs);
      ctx.mutated('mailbox.remove', user.id);
    },
  },
  'Enable-Mailbox': {
    params: ['Identity', 'Archive', 'ArchiveName'],
    run: (ctx, p) => {
      if (!bool(p, 'Archive')) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', 'The sandbox supports Enable-Mailbox -Archive only; license a user in Microsoft Graph to give them a mailbox.');
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      if (mbx.archiveGuid) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `The mailbox '${user.mailNickname}' already has an archive.`);
      const archiveName = multi(p, 'ArchiveName')?.set?.[0];
      mbx.archiveGuid = randomUUID();
      if (archiveName) mbx.archiveName = archiveName;
      ctx.mutated('mailbox.enableArchive', user.id);
      return [mailboxView(ctx, user, mbx)];
    },
  },
  'Disable-Mailbox': {
    params: ['Identity', 'Archive'],
    run: (ctx, p) => {
      if (!bool(p, 'Archive')) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', 'The sandbox supports Disable-Mailbox -Archive only.');
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      if (!mbx.archiveGuid) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `The mailbox '${user.mailNickname}' doesn't have an archive.`);
      mbx.archiveGuid = null;
      ctx.mutated('mailbox.disableArchive', user.id);
    },
  },
  'Get-MailboxStatistics': {
    params: ['Identity'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const bytes = mbx.totalItemSizeMB * 1024 * 1024;
      return [{ DisplayName: user.displayName, MailboxGuid: mbx.exchangeGuid, ItemCount: mbx.itemCount, DeletedItemCount: Math.floor(mbx.itemCount / 20), TotalItemSize: `${(mbx.totalItemSizeMB / 1024).toFixed(2)} GB (${bytes.toLocaleString('en-US')} bytes)`, LastLogonTime: user.signInSessionsValidFromDateTime, MailboxTypeDetail: mbx.type, StorageLimitStatus: 'BelowLimit' }];
    },
  },
  'Get-CASMailbox': {
    params: ['Identity'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const c = mbx.cas;
      return [{ Identity: user.mailNickname, Name: user.mailNickname, PrimarySmtpAddress: user.mail, OWAEnabled: c.owaEnabled, ActiveSyncEnabled: c.activeSyncEnabled, PopEnabled: c.popEnabled, ImapEnabled: c.imapEnabled, MAPIEnabled: c.mapiEnabled, EwsEnabled: c.ewsEnabled, SmtpClientAuthenticationDisabled: c.smtpClientAuthenticationDisabled, ...activeSyncListsView(ctx, user), ExternalDirectoryObjectId: user.id }];
    },
  },
  'Set-CASMailbox': {
    params: ['Identity', 'OWAEnabled', 'ActiveSyncEnabled', 'PopEnabled', 'ImapEnabled', 'MAPIEnabled', 'EwsEnabled', 'SmtpClientAuthenticationDisabled', 'ActiveSyncAllowedDeviceIDs', 'ActiveSyncBlockedDeviceIDs'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const map = { OWAEnabled: 'owaEnabled', ActiveSyncEnabled: 'activeSyncEnabled', PopEnabled: 'popEnabled', ImapEnabled: 'imapEnabled', MAPIEnabled: 'mapiEnabled', EwsEnabled: 'ewsEnabled', SmtpClientAuthenticationDisabled: 'smtpClientAuthenticationDisabled' } as const;
      const next = { ...mbx.cas };
      for (const [param, key] of Object.entries(map)) {
        const v = bool(p, param);
        if (v !== undefined) next[key] = v;
      }
      setActiveSyncLists(ctx, user, p);
      mbx.cas = next;
      ctx.mutated('mailbox.setClientAccess', user.id);
    },
  },
  'Get-MailboxAutoReplyConfiguration': {
    params: ['Identity'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const a = mbx.autoReply;
      return [{ Identity: user.mailNickname, MailboxOwnerId: user.mailNickname, AutoReplyState: a.state, InternalMessage: a.internalMessage, ExternalMessage: a.externalMessage, ExternalAudience: a.externalAudience, StartTime: a.startTime, EndTime: a.endTime }];
    },
  },
  'Set-MailboxAutoReplyConfiguration': {
    params: ['Identity', 'AutoReplyState', 'InternalMessage', 'ExternalMessage', 'ExternalAudience', 'StartTime', 'EndTime'],
    run: (ctx, p) => {
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
      if (has(p, 'InternalMessage')) next.internalMessage = str(p, 'InternalMessage') ?? '';
      if (has(p, 'ExternalMessage')) next.externalMessage = str(p, 'ExternalMessage') ?? '';
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
  },
  'Get-MailboxRegionalConfiguration': {
    params: ['Identity'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      return [regionalView(user, mbx)];
    },
  },
  'Set-MailboxRegionalConfiguration': {
    params: ['Identity', 'Language', 'TimeZone', 'DateFormat', 'TimeFormat'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const next = { ...mbx.settings };
      const language = str(p, 'Language');
      if (language !== undefined) {
        if (!/^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?$/.test(language)) throw invalidParam('Language', `Cannot convert value "${language}" to type "System.Globalization.CultureInfo".`);
        next.language = language;
      }
      const tz = str(p, 'TimeZone');
      if (tz !== undefined) {
        if (!TIME_ZONES.has(tz)) throw invalidParam('TimeZone', `The time zone "${tz}" isn't a valid Windows time zone id (e.g. "W. Europe Standard Time").`);
        next.timeZone = tz;
      }
      // $null resets a format to the language's default.
      if (has(p, 'DateFormat')) next.dateFormat = str(p, 'DateFormat') ?? languageFormats(next.language).dateFormat;
      if (has(p, 'TimeFormat')) next.timeFormat = str(p, 'TimeFormat') ?? languageFormats(next.language).timeFormat;
      mbx.settings = next;
      ctx.mutated('mailbox.setRegionalSettings', user.id);
    },
  },
  'Get-Clutter': {
    params: ['Identity'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      return [{ Identity: user.mailNickname, MailboxIdentity: user.mailNickname, IsEnabled: mbx.clutterEnabled }];
    },
  },
  'Set-Clutter': {
    params: ['Identity', 'Enable'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const enable = bool(p, 'Enable');
      if (enable === undefined) return;
      mbx.clutterEnabled = enable;
      ctx.mutated('mailbox.setClutter', user.id);
    },
  },
  'Get-MailboxFolderStatistics': {
    params: ['Identity', 'FolderScope'],
    run: (ctx, p) => {
      const { mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const scope = str(p, 'FolderScope') ?? 'All';
      const scopes = ['All', 'Calendar', 'Contacts'];
      const hit = scopes.find((x) => x.toLowerCase() === scope.toLowerCase());
      if (!hit) throw invalidParam('FolderScope', `The sandbox emulates -FolderScope ${scopes.join(', ')}.`);
      return Object.keys(mbx.folderPermissions)
        .filter((f) => hit === 'All' || f === hit)
        .map((f) => ({ Name: f, FolderPath: `/${f}`, FolderType: f, ItemsInFolder: 0, FolderSize: '0 B (0 bytes)' }));
    },
  },
});
