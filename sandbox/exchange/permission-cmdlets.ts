// Who may do what in a mailbox: mailbox permissions (FullAccess with automapping, ExternalAccount,
// DeleteItem, ReadPermission, ChangePermission, ChangeOwner), Send As (RecipientPermission, on mailboxes
// and distribution groups), and folder permissions (calendar, contacts) with calendar delegates.
// Duplicate adds and absent removes of mailbox and recipient permissions are warnings, as in EXO.
import type { Mailbox } from '../mailboxes.ts';
import { mailboxOf } from '../mailboxes.ts';
import type { User } from '../store.ts';
import { ExoError, bool, invalidParam, multi, notFoundExo, registerCmdlets, str, type CmdletParams, type ExoCtx } from './invoke.ts';
import { dgStateOf, resolveMailbox, resolveSendAsTarget, resolveTrustee } from './recipients.ts';

const MAILBOX_RIGHTS = ['ChangeOwner', 'ChangePermission', 'DeleteItem', 'ExternalAccount', 'FullAccess', 'ReadPermission'];

function mailboxRights(p: CmdletParams): string[] {
  const raw = multi(p, 'AccessRights')?.set ?? [];
  if (!raw.length) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', "Cannot bind argument to parameter 'AccessRights' because it is null or empty.");
  return raw.map((r) => {
    const right = MAILBOX_RIGHTS.find((x) => x.toLowerCase() === r.toLowerCase());
    if (!right) throw invalidParam('AccessRights', `Cannot convert value "${r}" to type "Microsoft.Exchange.Management.RecipientTasks.MailboxRights". Valid values: ${MAILBOX_RIGHTS.join(', ')}.`);
    return right;
  });
}

/** The rights a trustee holds on a mailbox. */
function rightsOf(mbx: Mailbox, userId: string): string[] {
  return [...(mbx.fullAccess.some((f) => f.user === userId) ? ['FullAccess'] : []), ...(mbx.otherRights.find((r) => r.user === userId)?.rights ?? [])];
}

function setRights(mbx: Mailbox, userId: string, rights: string[], autoMapping: boolean | undefined): void {
  const hadFull = mbx.fullAccess.find((f) => f.user === userId);
  mbx.fullAccess = mbx.fullAccess.filter((f) => f.user !== userId);
  if (rights.includes('FullAccess')) mbx.fullAccess.push({ user: userId, autoMapping: hadFull ? hadFull.autoMapping : (autoMapping ?? true) });
  const others = rights.filter((r) => r !== 'FullAccess');
  mbx.otherRights = mbx.otherRights.filter((r) => r.user !== userId);
  if (others.length) mbx.otherRights.push({ user: userId, rights: MAILBOX_RIGHTS.filter((r) => others.includes(r)) });
}

function permissionView(identity: string, user: string, rights: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Identity: identity, User: user, AccessRights: rights, IsInherited: false, Deny: false, InheritanceType: 'All', ...extra };
}

const FOLDER_ROLES = ['None', 'Owner', 'PublishingEditor', 'Editor', 'PublishingAuthor', 'Author', 'NonEditingAuthor', 'Reviewer', 'Contributor', 'AvailabilityOnly', 'LimitedDetails'];
const FOLDER_PERMISSIONS = ['CreateItems', 'CreateSubfolders', 'DeleteAllItems', 'DeleteOwnedItems', 'EditAllItems', 'EditOwnedItems', 'FolderContact', 'FolderOwner', 'FolderVisible', 'ReadItems'];
const SHARING_FLAGS = ['None', 'Delegate', 'CanViewPrivateItems'];

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
  return rights.map((r) => {
    const known = [...FOLDER_ROLES, ...FOLDER_PERMISSIONS].find((x) => x.toLowerCase() === r.toLowerCase());
    if (!known) throw invalidParam('AccessRights', `"${r}" is not a valid MailboxFolderAccessRight.`);
    return known;
  });
}

/** -SharingPermissionFlags: Exchange Online, calendar folders, Editor only; CanViewPrivateItems needs Delegate. */
function sharingFlags(p: CmdletParams, folder: string, rights: string[] | undefined): string[] | undefined {
  const raw = multi(p, 'SharingPermissionFlags')?.set;
  if (!raw) return undefined;
  const flags = raw.flatMap((r) => r.split(',')).map((r) => {
    const f = SHARING_FLAGS.find((x) => x.toLowerCase() === r.trim().toLowerCase());
    if (!f) throw invalidParam('SharingPermissionFlags', `Cannot convert value "${r}" to type "MailboxFolderPermissionFlags". Valid values: ${SHARING_FLAGS.join(', ')}.`);
    return f;
  }).filter((f) => f !== 'None');
  if (!flags.length) return [];
  if (folder.toLowerCase() !== 'calendar' || !rights?.includes('Editor'))
    throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', 'SharingPermissionFlags can only be used on calendar folders together with the Editor access right.');
  if (flags.includes('CanViewPrivateItems') && !flags.includes('Delegate'))
    throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.ThrowTerminatingErrorException', 'The CanViewPrivateItems sharing permission flag must be used together with Delegate.');
  return SHARING_FLAGS.filter((f) => flags.includes(f));
}

function folderUserKey(ctx: ExoCtx, userParam: string | undefined): string {
  if (!userParam) throw new ExoError(400, 'System.Management.Automation.ParameterBindingException', "Cannot bind argument to parameter 'User' because it is null or empty.");
  if (/^(default|anonymous)$/i.test(userParam)) return userParam[0]!.toUpperCase() + userParam.slice(1).toLowerCase();
  return resolveTrustee(ctx, userParam).id;
}

const folderEntryName = (ctx: ExoCtx, key: string): string => (key === 'Default' || key === 'Anonymous' ? key : (ctx.store.userById(key)?.displayName ?? key));

const folderEntryView = (ctx: ExoCtx, user: User, folder: string, e: Mailbox['folderPermissions'][string][number]) => ({
  Identity: `${user.mailNickname}:\\${folder}`,
  FolderName: folder,
  User: folderEntryName(ctx, e.user),
  AccessRights: e.accessRights,
  SharingPermissionFlags: e.sharingPermissionFlags?.length ? e.sharingPermissionFlags.join(', ') : null,
});

const sendAsRow = (identity: string, trustee: string) => ({ Identity: identity, Trustee: trustee, AccessControlType: 'Allow', AccessRights: ['SendAs'], IsInherited: false, InheritanceType: 'None' });

registerCmdlets({
  'Get-MailboxPermission': {
    params: ['Identity', 'User', 'ResultSize'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const only = str(p, 'User');
      const onlyId = only ? resolveTrustee(ctx, only).id : undefined;
      const rows = onlyId ? [] : [permissionView(user.mailNickname, 'NT AUTHORITY\\SELF', ['FullAccess', 'ReadPermission'])];
      const trustees = new Set([...mbx.fullAccess.map((f) => f.user), ...mbx.otherRights.map((r) => r.user)]);
      for (const id of trustees) {
        if (onlyId && id !== onlyId) continue;
        rows.push(permissionView(user.mailNickname, ctx.store.userById(id)?.userPrincipalName ?? id, rightsOf(mbx, id)));
      }
      return rows;
    },
  },
  'Add-MailboxPermission': {
    params: ['Identity', 'User', 'AccessRights', 'AutoMapping'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const trustee = resolveTrustee(ctx, str(p, 'User', true));
      const rights = mailboxRights(p);
      const autoMapping = bool(p, 'AutoMapping');
      const had = rightsOf(mbx, trustee.id);
      if (rights.every((r) => had.includes(r))) {
        ctx.warnings.push(`The appropriate access control entry is already present on the object "${user.mailNickname}" for account "${trustee.userPrincipalName}".`);
        return [];
      }
      setRights(mbx, trustee.id, [...new Set([...had, ...rights])], autoMapping);
      if (rights.includes('FullAccess')) ctx.mutated('mailbox.addFullAccess', user.id, trustee.id);
      if (rights.some((r) => r !== 'FullAccess')) ctx.mutated('mailbox.addPermission', user.id, trustee.id);
      return [permissionView(user.mailNickname, trustee.userPrincipalName, rights)];
    },
  },
  'Remove-MailboxPermission': {
    params: ['Identity', 'User', 'AccessRights'],
    run: (ctx, p) => {
      const { user, mbx } = resolveMailbox(ctx, str(p, 'Identity', true));
      const trustee = resolveTrustee(ctx, str(p, 'User', true));
      const rights = mailboxRights(p);
      const had = rightsOf(mbx, trustee.id);
      if (!rights.some((r) => had.includes(r))) {
        ctx.warnings.push(`Can't remove the access control entry on the object "${user.mailNickname}" for account "${trustee.userPrincipalName}" because the ACE doesn't exist on the object.`);
        return;
      }
      setRights(mbx, trustee.id, had.filter((r) => !rights.includes(r)), undefined);
      if (rights.includes('FullAccess') && had.includes('FullAccess')) ctx.mutated('mailbox.removeFullAccess', user.id, trustee.id);
      if (rights.some((r) => r !== 'FullAccess' && had.includes(r))) ctx.mutated('mailbox.removePermission', user.id, trustee.id);
    },
  },
  'Get-RecipientPermission': {
    params: ['Identity', 'Trustee', 'AccessRights', 'ResultSize'],
    run: (ctx, p) => {
      const rights = multi(p, 'AccessRights')?.set;
      if (rights && rights.some((r) => r.toLowerCase() !== 'sendas')) throw invalidParam('AccessRights', 'Valid values: SendAs.');
      const trusteeParam = str(p, 'Trustee');
      const trustee = trusteeParam ? resolveTrustee(ctx, trusteeParam) : undefined;
      const identity = str(p, 'Identity');
      if (!identity) {
        // Every Send As grant of one trustee (or all of them) across mailboxes and groups.
        const rows: Record<string, unknown>[] = [];
        for (const u of ctx.store.users.values()) {
          const mbx = (ctx.store.perUser.get(u.id)?.['mailbox'] as Mailbox | undefined) && mailboxOf(ctx.store, u);
          for (const id of mbx?.sendAs ?? []) if (!trustee || id === trustee.id) rows.push(sendAsRow(u.mailNickname, ctx.store.userById(id)?.userPrincipalName ?? id));
        }
        for (const g of ctx.store.groups.values()) {
          if (!g.mailEnabled || g.groupTypes.includes('Unified')) continue;
          for (const id of dgStateOf(ctx, g).sendAs ?? []) if (!trustee || id === trustee.id) rows.push(sendAsRow(g.mailNickname, ctx.store.userById(id)?.userPrincipalName ?? id));
        }
        return rows;
      }
      const target = resolveSendAsTarget(ctx, identity);
      const rows = [sendAsRow(target.name, 'NT AUTHORITY\\SELF'), ...target.sendAs.map((id) => sendAsRow(target.name, ctx.store.userById(id)?.userPrincipalName ?? id))];
      return trustee ? rows.filter((r) => r.Trustee === trustee.userPrincipalName) : rows;
    },
  },
  'Add-RecipientPermission': {
    params: ['Identity', 'Trustee', 'AccessRights'],
    run: (ctx, p) => {
      const target = resolveSendAsTarget(ctx, str(p, 'Identity', true));
      const trustee = resolveTrustee(ctx, str(p, 'Trustee', true));
      if ((multi(p, 'AccessRights')?.set ?? []).some((r) => r.toLowerCase() !== 'sendas')) throw invalidParam('AccessRights', 'Valid values: SendAs.');
      if (target.sendAs.includes(trustee.id)) {
        ctx.warnings.push(`The appropriate access control entry is already present on the object "${target.name}" for account "${trustee.userPrincipalName}".`);
        return [];
      }
      target.set([...target.sendAs, trustee.id]);
      ctx.mutated('mailbox.addSendAs', target.id, trustee.id);
      return [sendAsRow(target.name, trustee.userPrincipalName)];
    },
  },
  'Remove-RecipientPermission': {
    params: ['Identity', 'Trustee', 'AccessRights'],
    run: (ctx, p) => {
      const target = resolveSendAsTarget(ctx, str(p, 'Identity', true));
      const trustee = resolveTrustee(ctx, str(p, 'Trustee', true));
      if ((multi(p, 'AccessRights')?.set ?? []).some((r) => r.toLowerCase() !== 'sendas')) throw invalidParam('AccessRights', 'Valid values: SendAs.');
      if (!target.sendAs.includes(trustee.id)) {
        ctx.warnings.push(`Can't remove the access control entry on the object "${target.name}" for account "${trustee.userPrincipalName}" because the ACE doesn't exist on the object.`);
        return;
      }
      target.set(target.sendAs.filter((id) => id !== trustee.id));
      ctx.mutated('mailbox.removeSendAs', target.id, trustee.id);
    },
  },
  'Get-MailboxFolderPermission': {
    params: ['Identity', 'User'],
    run: (ctx, p) => {
      const { user, folder, entries } = folderOf(ctx, str(p, 'Identity', true));
      const only = str(p, 'User');
      if (!only) return entries.map((e) => folderEntryView(ctx, user, folder, e));
      const key = folderUserKey(ctx, only);
      const entry = entries.find((e) => e.user === key);
      if (!entry) throw new ExoError(404, 'Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException', `There is no existing permission entry found for user: ${folderEntryName(ctx, key)}.`);
      return [folderEntryView(ctx, user, folder, entry)];
    },
  },
  'Add-MailboxFolderPermission': {
    params: ['Identity', 'User', 'AccessRights', 'SharingPermissionFlags'],
    run: (ctx, p) => {
      const { user, folder, entries } = folderOf(ctx, str(p, 'Identity', true));
      const key = folderUserKey(ctx, str(p, 'User'));
      const rights = folderRights(p);
      const flags = sharingFlags(p, folder, rights);
      if (entries.some((e) => e.user === key)) throw new ExoError(400, 'Microsoft.Exchange.Management.StoreTasks.UserAlreadyExistsInPermissionEntryException', `An existing permission entry was found for user: ${folderEntryName(ctx, key)}.`);
      const entry = { user: key, accessRights: rights, ...(flags?.length ? { sharingPermissionFlags: flags } : {}) };
      entries.push(entry);
      ctx.mutated('mailbox.addFolderPermission', user.id, key);
      return [folderEntryView(ctx, user, folder, entry)];
    },
  },
  'Set-MailboxFolderPermission': {
    params: ['Identity', 'User', 'AccessRights', 'SharingPermissionFlags'],
    run: (ctx, p) => {
      const { user, folder, entries } = folderOf(ctx, str(p, 'Identity', true));
      const key = folderUserKey(ctx, str(p, 'User'));
      const entry = entries.find((e) => e.user === key);
      if (!entry) throw new ExoError(400, 'Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException', `There is no existing permission entry found for user: ${folderEntryName(ctx, key)}.`);
      const rights = folderRights(p);
      const flags = sharingFlags(p, folder, rights);
      entry.accessRights = rights;
      if (flags !== undefined) entry.sharingPermissionFlags = flags;
      else if (!rights.includes('Editor')) delete entry.sharingPermissionFlags;
      ctx.mutated('mailbox.setFolderPermission', user.id, key);
    },
  },
  'Remove-MailboxFolderPermission': {
    params: ['Identity', 'User', 'Force'],
    run: (ctx, p) => {
      const { user, mbx, folder, entries } = folderOf(ctx, str(p, 'Identity', true));
      const key = folderUserKey(ctx, str(p, 'User'));
      if (key === 'Default' || key === 'Anonymous') throw new ExoError(400, 'Microsoft.Exchange.Management.StoreTasks.CannotRemoveSpecialMailboxFolderPermissionException', `The permission entry for ${key} can't be removed; set it to None instead.`);
      if (!entries.some((e) => e.user === key)) throw new ExoError(400, 'Microsoft.Exchange.Management.StoreTasks.UserNotFoundInPermissionEntryException', `There is no existing permission entry found for user: ${folderEntryName(ctx, key)}.`);
      mbx.folderPermissions[folder] = entries.filter((e) => e.user !== key);
      ctx.mutated('mailbox.removeFolderPermission', user.id, key);
    },
  },
});
