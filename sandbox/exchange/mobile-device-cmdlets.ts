// Exchange ActiveSync mobile devices: Get-MobileDevice, Get-MobileDeviceStatistics, Remove-MobileDevice,
// Clear-MobileDevice, and
// the per-mailbox allow / block lists that Set-CASMailbox -ActiveSyncAllowedDeviceIDs /
// -ActiveSyncBlockedDeviceIDs write (Get-CASMailbox reads them). A device's access state is what
// Exchange computes: on the mailbox's blocked list Blocked, on its allowed list Allowed (reason
// Individual), else the organisation's verdict (a few seeded phones are Quarantined by the
// organisation's default access level; the rest Allowed, reason Global).
import { mailboxOf, type Mailbox, type MobileDevice } from '../mailboxes.ts';
import type { User } from '../store.ts';
import { applyMulti, bool, ExoError, multi, notFoundExo, registerCmdlets, str, type Cmdlet, type CmdletParams, type ExoCtx } from './invoke.ts';
import { resolveMailbox } from './recipients.ts';

interface ActiveSyncLists {
  allowed: string[];
  blocked: string[];
}

const listsOf = (ctx: ExoCtx, user: User): ActiveSyncLists => ctx.store.userState(user.id, 'activeSyncDevices', () => ({ allowed: [], blocked: [] }));

/** The ActiveSync device id a phone reports (Apple: "Appl" + serial-like; Android: "android" + hex), derived from the device's GUID. */
export function activeSyncDeviceId(d: MobileDevice): string {
  const hex = d.id.replace(/-/g, '').toUpperCase();
  return d.deviceType === 'Android' ? `androidc${hex.slice(-12).toLowerCase()}` : `Appl${hex.slice(-11)}`;
}

/** Seeded phones the organisation's default access level quarantined (about one in four). */
const quarantinedByOrg = (d: MobileDevice): boolean => parseInt(d.id.slice(-2), 16) % 4 === 0;

function accessOf(ctx: ExoCtx, user: User, d: MobileDevice): { state: string; reason: string } {
  const lists = listsOf(ctx, user);
  const id = activeSyncDeviceId(d).toLowerCase();
  if (lists.blocked.some((x) => x.toLowerCase() === id)) return { state: 'Blocked', reason: 'Individual' };
  if (lists.allowed.some((x) => x.toLowerCase() === id)) return { state: 'Allowed', reason: 'Individual' };
  return quarantinedByOrg(d) ? { state: 'Quarantined', reason: 'Global' } : { state: 'Allowed', reason: 'Global' };
}

function deviceView(ctx: ExoCtx, user: User, d: MobileDevice): Record<string, unknown> {
  const access = accessOf(ctx, user, d);
  return {
    Identity: `${user.mailNickname}\\ExchangeActiveSyncDevices\\${d.deviceType}§${d.id}`,
    Guid: d.id,
    DeviceId: activeSyncDeviceId(d),
    FriendlyName: d.friendlyName,
    DeviceModel: d.deviceModel,
    DeviceOS: d.deviceOS,
    DeviceType: d.deviceType,
    FirstSyncTime: d.firstSyncTime,
    DeviceAccessState: access.state,
    DeviceAccessStateReason: access.reason,
    DeviceWipeStatus: d.wipeStatus,
    UserDisplayName: user.displayName,
  };
}

function findDevice(ctx: ExoCtx, identity: string): { user: User; mbx: Mailbox; device: MobileDevice } {
  const guid = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(identity)?.[1]?.toLowerCase();
  const owner = /^([^\\]+)\\/.exec(identity)?.[1];
  const users = owner ? [resolveMailbox(ctx, owner).user] : ctx.store.users.values();
  for (const user of users) {
    const mbx = (ctx.store.perUser.get(user.id)?.['mailbox'] as Mailbox | undefined) ?? (owner ? mailboxOf(ctx.store, user) : undefined);
    const device = mbx?.mobileDevices.find((d) => d.id === guid);
    if (mbx && device) return { user, mbx, device };
  }
  throw notFoundExo(identity, ctx);
}

/** Get-CASMailbox's view of the mailbox's device lists. */
export function activeSyncListsView(ctx: ExoCtx, user: User): Record<string, string[]> {
  const lists = listsOf(ctx, user);
  return { ActiveSyncAllowedDeviceIDs: [...lists.allowed], ActiveSyncBlockedDeviceIDs: [...lists.blocked] };
}

/** Set-CASMailbox -ActiveSyncAllowedDeviceIDs / -ActiveSyncBlockedDeviceIDs (a list, or @{Add=…; Remove=…}). */
export function setActiveSyncLists(ctx: ExoCtx, user: User, p: CmdletParams): boolean {
  const allowed = multi(p, 'ActiveSyncAllowedDeviceIDs');
  const blocked = multi(p, 'ActiveSyncBlockedDeviceIDs');
  if (!allowed && !blocked) return false;
  const lists = listsOf(ctx, user);
  if (allowed) lists.allowed = applyMulti(lists.allowed, allowed);
  if (blocked) lists.blocked = applyMulti(lists.blocked, blocked);
  const both = lists.allowed.filter((a) => lists.blocked.some((b) => b.toLowerCase() === a.toLowerCase()));
  if (both.length) throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `The device ID '${both[0]}' can't be both allowed and blocked for the same mailbox.`);
  ctx.mutated('mailbox.setActiveSyncDevices', user.id);
  return true;
}

/**
 * Get-MobileDeviceStatistics' view: the wipe a Clear-MobileDevice asked for, by its request time (full or
 * account only). Sandbox phones never sync again, so a wipe is never sent or acknowledged (those times stay
 * empty) and stays pending until Clear-MobileDevice -Cancel.
 */
function statisticsView(ctx: ExoCtx, user: User, d: MobileDevice): Record<string, unknown> {
  const accountOnly = d.wipeStatus === 'AccountOnlyWipePending';
  const requested = d.wipeStatus ? (d.wipeRequestTime ?? null) : null;
  const v = deviceView(ctx, user, d);
  return {
    Identity: v['Identity'],
    Guid: v['Guid'],
    DeviceID: v['DeviceId'],
    DeviceType: v['DeviceType'],
    DeviceModel: v['DeviceModel'],
    DeviceOS: v['DeviceOS'],
    DeviceFriendlyName: d.friendlyName,
    FirstSyncTime: d.firstSyncTime,
    LastSuccessSync: d.firstSyncTime,
    DeviceAccessState: v['DeviceAccessState'],
    DeviceAccessStateReason: v['DeviceAccessStateReason'],
    DeviceWipeRequestTime: accountOnly ? null : requested,
    DeviceWipeSentTime: null,
    DeviceWipeAckTime: null,
    AccountOnlyDeviceWipeRequestTime: accountOnly ? requested : null,
    AccountOnlyDeviceWipeSentTime: null,
    AccountOnlyDeviceWipeAckTime: null,
    // Exchange derives Status (DeviceOk, DeviceBlocked, DeviceWipePending, DeviceWipeSucceeded) from the full wipe's times only.
    Status: requested && !accountOnly ? 'DeviceWipePending' : 'DeviceOk',
  };
}

/** The devices of -Mailbox, or the one device of -Identity (Get-MobileDevice and Get-MobileDeviceStatistics). */
function devicesOf(ctx: ExoCtx, p: CmdletParams, view: (ctx: ExoCtx, user: User, d: MobileDevice) => Record<string, unknown>): Record<string, unknown>[] {
  const identity = str(p, 'Identity');
  if (identity && !str(p, 'Mailbox') && /\\|[0-9a-f]{8}-/i.test(identity)) {
    const { user, device } = findDevice(ctx, identity);
    return [view(ctx, user, device)];
  }
  const { user, mbx } = resolveMailbox(ctx, str(p, 'Mailbox') ?? str(p, 'Identity', true));
  return mbx.mobileDevices.map((d) => view(ctx, user, d));
}

registerCmdlets({
  'Get-MobileDeviceStatistics': {
    // -GetMailboxLog and -NotificationEmailAddresses (mailing the device log) are not emulated, so they are refused.
    params: ['Mailbox', 'Identity', 'ActiveSync', 'OWAforDevices', 'RestApi', 'UniversalOutlook', 'ShowRecoveryPassword', 'UseCustomRouting'],
    run: (ctx, p) => devicesOf(ctx, p, statisticsView),
  },
  'Get-MobileDevice': {
    params: ['Mailbox', 'Identity', 'ResultSize'],
    run: (ctx, p) => devicesOf(ctx, p, deviceView),
  },
  'Remove-MobileDevice': {
    params: ['Identity'],
    run: (ctx, p) => {
      const { user, mbx, device } = findDevice(ctx, str(p, 'Identity', true)!);
      mbx.mobileDevices = mbx.mobileDevices.filter((d) => d !== device);
      ctx.mutated('mailbox.removeMobileDevice', user.id, device.id);
    },
  },
  'Clear-MobileDevice': {
    params: ['Identity', 'AccountOnly', 'NotificationEmailAddresses', 'Cancel'],
    run: (ctx, p) => {
      const { user, device } = findDevice(ctx, str(p, 'Identity', true)!);
      device.wipeStatus = bool(p, 'Cancel') ? null : bool(p, 'AccountOnly') ? 'AccountOnlyWipePending' : 'WipePending';
      device.wipeRequestTime = device.wipeStatus ? ctx.nowIso : null;
      ctx.mutated(bool(p, 'Cancel') ? 'mailbox.cancelMobileDeviceWipe' : 'mailbox.wipeMobileDevice', user.id, device.id);
    },
  },
} satisfies Record<string, Cmdlet>);
