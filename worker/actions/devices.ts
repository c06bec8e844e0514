// Handlers of the device actions (catalog/actions/devices.ts): Intune managed devices, Windows
// Autopilot and Exchange ActiveSync mobile devices.
// Retries: a remote action is sent only when the device does not already show it (a wipe or retire
// pending or done, by anyone; any other action sent since this step began), and a retry of a retire
// that finds the device gone (it checked in and left Intune) is done; the Autopilot import
// names its rows with an import id derived from the step's idempotency key, so a retry finds the
// rows it already posted instead of posting them twice.
import { createHash } from 'node:crypto';
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/devices.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext, PlanDraft } from '../implementation.ts';
import { knownAfterRun, type Change } from '../../catalog/contract.ts';
import { GONE_NOTE } from '../../catalog/reversal.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { change, creation } from './changes.ts';
import { isExchangeError, NOT_FOUND } from '../../m365/exchange.ts';
import { createdByThisStep, getUser, graphRoot, GUID, listAll, odataString, orNotFound, unless404 } from './shared.ts';
import { exoDate } from './exchange-shared.ts';
import { pollUntil } from './waiting.ts';

// ---- Intune managed devices ----

interface ActionResult {
  actionName: string;
  actionState: string;
  startDateTime: string;
}

interface ManagedDevice {
  id: string;
  deviceName: string;
  operatingSystem: string;
  osVersion?: string;
  serialNumber?: string;
  userPrincipalName?: string;
  managedDeviceOwnerType?: string;
  complianceState?: string;
  managementState?: string;
  lastSyncDateTime?: string;
  deviceCategoryDisplayName?: string;
  deviceActionResults?: ActionResult[];
}

const DEVICES = '/deviceManagement/managedDevices';
const SUMMARY = 'id,deviceName,operatingSystem,osVersion,serialNumber,userPrincipalName,managedDeviceOwnerType,complianceState,managementState,lastSyncDateTime';
const DETAIL = `${SUMMARY},deviceCategoryDisplayName,deviceActionResults`;

const deviceMissing = (ref: string) =>
  new ActionError(`managed device "${ref}" does not exist in Intune`, {
    code: 'ResourceNotFound',
    hint: 'use the device id, its exact device name or its serial number as the Intune admin center shows them',
    status: 404,
  });

/** A managed device by id, exact device name or serial number; an ambiguous name is refused. */
async function findDevice(graph: Client, ref: string): Promise<ManagedDevice> {
  if (GUID.test(ref)) {
    const d = await orNotFound(graph.api(`${DEVICES}/${ref}`).select(DETAIL).get() as Promise<ManagedDevice>);
    if (!d) throw deviceMissing(ref);
    return d;
  }
  for (const prop of ['deviceName', 'serialNumber']) {
    const res = (await graph.api(DEVICES).filter(`${prop} eq ${odataString(ref)}`).select(DETAIL).top(5).get()) as { value: ManagedDevice[] };
    if (res.value.length > 1)
      throw new ActionError(`${res.value.length} managed devices are called "${ref}"`, {
        code: 'AmbiguousDevice',
        hint: `use the device id instead: ${res.value.map((d) => `${d.id} (${d.userPrincipalName ?? 'no user'})`).join(', ')}`,
      });
    if (res.value[0]) return res.value[0];
  }
  throw deviceMissing(ref);
}

/** Which platforms Microsoft documents each remote action for (the others refuse or ignore it). */
const PLATFORMS: Record<string, readonly string[] | undefined> = {
  shutDown: ['Windows', 'macOS', 'iOS'],
  resetPasscode: ['iOS', 'Android'],
  disableLostMode: ['iOS'],
  locateDevice: ['iOS', 'Android', 'Windows'],
  bypassActivationLock: ['iOS', 'macOS'],
  windowsDefenderScan: ['Windows'],
  windowsDefenderUpdateSignatures: ['Windows'],
  cleanWindowsDevice: ['Windows'],
};

/** Actions a device gets once: a pending or finished one (sent by anyone) is never sent again. */
const ONCE = new Set(['wipe', 'retire']);
const LIVE = new Set(['pending', 'active', 'done']);

interface Remote {
  /** Graph's action segment, e.g. rebootNow. */
  graphAction: string;
  body?: Record<string, unknown>;
  beta?: boolean;
}

/** The action result this step (or, for once-only actions, anyone) already caused on the device. */
function earlierResult(ctx: ActionContext, d: ManagedDevice, action: string): ActionResult | undefined {
  const result = d.deviceActionResults?.find((r) => r.actionName.toLowerCase() === action.toLowerCase());
  if (!result || !LIVE.has(result.actionState)) return undefined;
  if (ONCE.has(action)) return result;
  // Other actions may be repeated on purpose: only one sent since this step was scheduled is ours.
  return Date.parse(result.startDateTime) >= ctx.stepScheduledAt - 5_000 ? result : undefined;
}

async function sendRemote(ctx: ActionContext, d: ManagedDevice, r: Remote): Promise<{ deviceId: string; deviceName: string; operatingSystem: string; sent: boolean; actionState: string }> {
  const platforms = PLATFORMS[r.graphAction];
  if (platforms && !platforms.includes(d.operatingSystem))
    throw new ActionError(`this action is not available on ${d.operatingSystem} devices ("${d.deviceName}")`, {
      code: 'NotSupportedOnPlatform',
      hint: `Intune supports it on ${platforms.join(', ')}`,
    });
  const base = { deviceId: d.id, deviceName: d.deviceName, operatingSystem: d.operatingSystem };
  const earlier = earlierResult(ctx, d, r.graphAction);
  if (earlier) return { ...base, sent: false, actionState: earlier.actionState };
  const path = `${DEVICES}/${d.id}/${r.graphAction}`;
  await (r.beta ? ctx.graph.api(path).version('beta') : ctx.graph.api(path)).post(r.body ?? {});
  const after = (await ctx.graph.api(`${DEVICES}/${d.id}`).select('id,deviceActionResults').get()) as ManagedDevice;
  const state = after.deviceActionResults?.find((x) => x.actionName.toLowerCase() === r.graphAction.toLowerCase())?.actionState ?? 'pending';
  return { ...base, sent: true, actionState: state };
}

/** The handler of a remote action whose body does not depend on the input beyond the device. */
function remote(graphAction: string, body?: (input: Record<string, unknown>) => Record<string, unknown>) {
  return async (input: { device: string } & Record<string, unknown>, ctx: ActionContext) => sendRemote(ctx, await findDevice(ctx.graph, input.device), { graphAction, body: body?.(input) });
}

export const deviceFind = implement(c.deviceFind, async (input, { graph }) => {
  const clauses: string[] = [];
  if (input.user) clauses.push(`userId eq ${odataString((await getUser(graph, input.user)).id)}`);
  if (input.operatingSystem) clauses.push(`operatingSystem eq ${odataString(input.operatingSystem)}`);
  if (input.ownerType) clauses.push(`managedDeviceOwnerType eq ${odataString(input.ownerType)}`);
  if (input.complianceState) clauses.push(`complianceState eq ${odataString(input.complianceState)}`);
  const { items, truncated } = await listAll<ManagedDevice>(graph, DEVICES, { filter: clauses.join(' and ') || undefined, select: SUMMARY, max: input.max });
  return { devices: items, count: items.length, truncated };
});

export const deviceWipe = implement(c.deviceWipe, async (input, ctx) => {
  const d = await findDevice(ctx.graph, input.device);
  if (input.macOsUnlockCode && d.operatingSystem !== 'macOS')
    throw new ActionError('an unlock code applies to Macs only', { code: 'InvalidInput', hint: `"${d.deviceName}" is a ${d.operatingSystem} device: leave the unlock code empty` });
  return sendRemote(ctx, d, {
    graphAction: 'wipe',
    body: {
      keepEnrollmentData: input.keepEnrollmentData,
      keepUserData: input.keepUserData,
      ...(d.operatingSystem === 'iOS' ? { persistEsimDataPlan: input.persistEsimDataPlan } : {}),
      ...(input.macOsUnlockCode ? { macOsUnlockCode: input.macOsUnlockCode } : {}),
    },
  });
});

export const deviceRetire = implement(c.deviceRetire, async (input, ctx) => {
  let d: ManagedDevice;
  try {
    d = await findDevice(ctx.graph, input.device);
  } catch (err) {
    // A retired device leaves Intune at its next check-in: a retry that finds it gone after a retire
    // whose answer was lost has nothing left to send (the retire took effect).
    if (ctx.attempt > 1 && statusOf(err) === 404)
      return { deviceId: GUID.test(input.device) ? input.device.toLowerCase() : '', deviceName: GUID.test(input.device) ? '' : input.device, operatingSystem: 'unknown', sent: false, actionState: 'done' };
    throw err;
  }
  return sendRemote(ctx, d, { graphAction: 'retire' });
});
export const deviceSync = implement(c.deviceSync, remote('syncDevice'));
export const deviceRestart = implement(c.deviceRestart, remote('rebootNow'));
export const deviceShutDown = implement(c.deviceShutDown, remote('shutDown'));
export const deviceLock = implement(c.deviceLock, remote('remoteLock'));
export const deviceResetPasscode = implement(c.deviceResetPasscode, remote('resetPasscode'));
export const deviceDisableLostMode = implement(c.deviceDisableLostMode, remote('disableLostMode'));
export const deviceLocate = implement(c.deviceLocate, remote('locateDevice'));
export const deviceBypassActivationLock = implement(c.deviceBypassActivationLock, remote('bypassActivationLock'));
export const deviceScan = implement(c.deviceScan, remote('windowsDefenderScan', (i) => ({ quickScan: i['quick'] })));
export const deviceUpdateDefenderSignatures = implement(c.deviceUpdateDefenderSignatures, remote('windowsDefenderUpdateSignatures'));
export const deviceFreshStart = implement(c.deviceFreshStart, remote('cleanWindowsDevice', (i) => ({ keepUserData: i['keepUserData'] })));

export const deviceDelete = implement(c.deviceDelete, async (input, ctx) => {
  let d: ManagedDevice;
  try {
    d = await findDevice(ctx.graph, input.device);
  } catch (err) {
    // A retry after a delete whose answer was lost finds nothing: that was this step.
    if (ctx.attempt > 1 && statusOf(err) === 404) return { deviceId: GUID.test(input.device) ? input.device : '', deleted: false };
    throw err;
  }
  return { deviceId: d.id, deleted: await unless404(ctx.graph.api(`${DEVICES}/${d.id}`).delete()) };
});

export const deviceRename = implement(c.deviceRename, async (input, ctx) => {
  const d = await findDevice(ctx.graph, input.device);
  const base = { deviceId: d.id, deviceName: d.deviceName, operatingSystem: d.operatingSystem, previousName: d.deviceName };
  if (d.deviceName === input.deviceName) return { ...base, sent: false, actionState: 'done' };
  if (d.operatingSystem === 'Windows' && (input.deviceName.length > 15 || !/^[A-Za-z0-9-]+$/.test(input.deviceName) || /^\d+$/.test(input.deviceName)))
    throw new ActionError(`"${input.deviceName}" is not a valid Windows device name`, {
      code: 'InvalidInput',
      hint: 'a Windows name has at most 15 letters, digits and hyphens and is not only digits',
    });
  try {
    // setDeviceName exists only on Graph beta.
    return { ...(await sendRemote(ctx, d, { graphAction: 'setDeviceName', body: { deviceName: input.deviceName }, beta: true })), previousName: d.deviceName };
  } catch (err) {
    if (statusOf(err) === 400 && /deviceName/i.test((err as Error).message))
      throw new ActionError(`Intune refused the name "${input.deviceName}": ${(err as Error).message}`, { code: 'InvalidInput', status: 400 });
    throw err;
  }
});

export const deviceSetOwnership = implement(c.deviceSetOwnership, async (input, { graph }) => {
  const d = await findDevice(graph, input.device);
  const previous = d.managedDeviceOwnerType ?? 'unknown';
  const changed = previous !== input.ownerType;
  if (changed) await graph.api(`${DEVICES}/${d.id}`).patch({ managedDeviceOwnerType: input.ownerType });
  return { deviceId: d.id, ownerType: input.ownerType, previousOwnerType: previous, changed };
});

export const deviceSetCategory = implement(c.deviceSetCategory, async (input, ctx) => {
  const d = await findDevice(ctx.graph, input.device);
  const { items } = await listAll<{ id: string; displayName: string }>(ctx.graph, '/deviceManagement/deviceCategories');
  const category = items.find((x) => x.id === input.category.toLowerCase() || x.displayName.toLowerCase() === input.category.toLowerCase());
  if (!category)
    throw new ActionError(`device category "${input.category}" does not exist`, {
      code: 'ResourceNotFound',
      hint: `the tenant's categories: ${items.map((x) => x.displayName).join(', ') || 'none (create them in the Intune admin center)'}`,
      status: 404,
    });
  const previous = d.deviceCategoryDisplayName ?? 'Unknown';
  const changed = previous !== category.displayName;
  if (changed) await ctx.graph.api(`${DEVICES}/${d.id}/deviceCategory/$ref`).put({ '@odata.id': `${graphRoot(ctx)}/v1.0/deviceManagement/deviceCategories/${category.id}` });
  return { deviceId: d.id, category: category.displayName, previousCategory: previous, changed };
});

// ---- Windows Autopilot ----

interface AutopilotDevice {
  id: string;
  serialNumber: string;
  groupTag?: string | null;
  userPrincipalName?: string | null;
  enrollmentState?: string;
  model?: string;
}

const AUTOPILOT = '/deviceManagement/windowsAutopilotDeviceIdentities';
const IMPORTS = '/deviceManagement/importedWindowsAutopilotDeviceIdentities';

/** Autopilot devices whose serial number contains `serial` (Autopilot filters serials with contains()). */
async function autopilotBySerial(graph: Client, serial: string): Promise<AutopilotDevice[]> {
  const res = (await graph.api(AUTOPILOT).filter(`contains(serialNumber,${odataString(serial)})`).get()) as { value: AutopilotDevice[] };
  return res.value;
}

async function findAutopilot(graph: Client, ref: string, opts: { missingOk?: boolean } = {}): Promise<AutopilotDevice | undefined> {
  const found = GUID.test(ref) ? await orNotFound(graph.api(`${AUTOPILOT}/${ref}`).get() as Promise<AutopilotDevice>) : (await autopilotBySerial(graph, ref)).find((d) => d.serialNumber.toLowerCase() === ref.toLowerCase());
  if (!found && !opts.missingOk)
    throw new ActionError(`Autopilot device "${ref}" does not exist`, { code: 'ResourceNotFound', hint: 'use the serial number or the Autopilot device id; a device just imported appears once the import completes', status: 404 });
  return found;
}

export const autopilotFind = implement(c.autopilotFind, async (input, { graph }) => {
  const clauses: string[] = [];
  if (input.serialNumber) clauses.push(`contains(serialNumber,${odataString(input.serialNumber)})`);
  if (input.groupTag !== undefined) clauses.push(`groupTag eq ${odataString(input.groupTag)}`);
  if (input.user) clauses.push(`userPrincipalName eq ${odataString(input.user)}`);
  const { items, truncated } = await listAll<AutopilotDevice>(graph, AUTOPILOT, { filter: clauses.join(' and ') || undefined, max: input.max });
  return { devices: items.map((d) => ({ id: d.id, serialNumber: d.serialNumber, groupTag: d.groupTag ?? null, userPrincipalName: d.userPrincipalName || null, enrollmentState: d.enrollmentState ?? null, model: d.model || null })), count: items.length, truncated };
});

const autopilotProps = (ctx: ActionContext, d: AutopilotDevice, body: Record<string, unknown>) => ctx.graph.api(`${AUTOPILOT}/${d.id}/updateDeviceProperties`).post(body);

/** Plans of the Autopilot actions name a device by its serial number; its assigned user is "assignedUser" (a UPN, or null). */
const autopilotObject = (serial: string) => `Autopilot device ${serial}`;

export const autopilotSetGroupTag = implement(
  c.autopilotSetGroupTag,
  async (input, ctx) => {
    const d = (await findAutopilot(ctx.graph, input.device))!;
    const previous = d.groupTag ?? '';
    const changed = previous !== input.groupTag;
    if (changed) await autopilotProps(ctx, d, { groupTag: input.groupTag });
    return { autopilotDeviceId: d.id, serialNumber: d.serialNumber, groupTag: input.groupTag, previousGroupTag: previous, changed };
  },
  async (input, { graph }) => {
    const d = (await findAutopilot(graph, input.device))!;
    // An absent tag is '' here, as the action's parameter clears it.
    const previous = d.groupTag ?? '';
    return previous === input.groupTag ? [] : [change(autopilotObject(d.serialNumber), 'groupTag', previous, input.groupTag, { objectId: d.id })];
  },
);

/** Plan of an assigned-user change: "assignedUser" before -> after. */
async function planAssignedUser(graph: Client, ref: string, next: () => Promise<string | null>): Promise<Change[]> {
  const d = (await findAutopilot(graph, ref))!;
  const previous = d.userPrincipalName || null;
  const after = await next();
  return previous?.toLowerCase() === after?.toLowerCase() ? [] : [change(autopilotObject(d.serialNumber), 'assignedUser', previous, after, { objectId: d.id })];
}

export const autopilotAssignUser = implement(
  c.autopilotAssignUser,
  async (input, ctx) => {
    const [d, user] = [(await findAutopilot(ctx.graph, input.device))!, await getUser(ctx.graph, input.user)];
    const previous = d.userPrincipalName || null;
    const changed = previous?.toLowerCase() !== user.userPrincipalName.toLowerCase();
    if (changed)
      await ctx.graph.api(`${AUTOPILOT}/${d.id}/assignUserToDevice`).post({ userPrincipalName: user.userPrincipalName, addressableUserName: input.displayName ?? user.displayName ?? user.userPrincipalName });
    return { autopilotDeviceId: d.id, serialNumber: d.serialNumber, userPrincipalName: user.userPrincipalName, previousUser: previous, changed };
  },
  (input, { graph }) => planAssignedUser(graph, input.device, async () => (await getUser(graph, input.user)).userPrincipalName),
);

export const autopilotUnassignUser = implement(
  c.autopilotUnassignUser,
  async (input, ctx) => {
    const d = (await findAutopilot(ctx.graph, input.device))!;
    const previous = d.userPrincipalName || null;
    if (previous) await ctx.graph.api(`${AUTOPILOT}/${d.id}/unassignUserFromDevice`).post({});
    return { autopilotDeviceId: d.id, serialNumber: d.serialNumber, previousUser: previous, changed: !!previous };
  },
  (input, { graph }) => planAssignedUser(graph, input.device, async () => null),
);

export const autopilotDelete = implement(
  c.autopilotDelete,
  async (input, ctx) => {
    const d = await findAutopilot(ctx.graph, input.device, { missingOk: ctx.attempt > 1 });
    if (!d) return { autopilotDeviceId: null, deleted: false };
    return { autopilotDeviceId: d.id, deleted: await unless404(ctx.graph.api(`${AUTOPILOT}/${d.id}`).delete()) };
  },
  async (input, { graph }) => {
    const d = (await findAutopilot(graph, input.device))!;
    return [change(autopilotObject(d.serialNumber), 'exists', true, false, { objectId: d.id, note: `${GONE_NOTE}: registering it again needs its hardware hash` })];
  },
);

interface ImportedIdentity {
  id: string;
  serialNumber: string;
  importId?: string;
  state: { deviceImportStatus: string; deviceErrorCode?: number; deviceErrorName?: string };
}

const importDone = (i: ImportedIdentity) => ['complete', 'error'].includes(i.state.deviceImportStatus);

function refuseDuplicates(devices: InputOf<typeof c.autopilotImport>['devices']): void {
  const serials = devices.map((d) => d.serialNumber.toLowerCase());
  const dup = serials.find((s, i) => serials.indexOf(s) !== i);
  if (dup) throw new ActionError(`serial number ${dup} is listed twice`, { code: 'InvalidInput', hint: 'list each device once' });
}

/**
 * Plan of an import: each device comes to exist in Autopilot with its group tag and assigned user
 * (its id known after the run); a serial number Autopilot has already would fail (806
 * ZtdDeviceAlreadyAssigned), and so would the step.
 */
async function planAutopilotImport(input: InputOf<typeof c.autopilotImport>, { graph }: PlanContext): Promise<PlanDraft> {
  refuseDuplicates(input.devices);
  const changes: Change[] = [];
  const registered: string[] = [];
  for (const [i, d] of input.devices.entries()) {
    if ((await autopilotBySerial(graph, d.serialNumber)).some((x) => x.serialNumber.toLowerCase() === d.serialNumber.toLowerCase())) registered.push(d.serialNumber);
    else changes.push(...creation(autopilotObject(d.serialNumber), { serialNumber: d.serialNumber, groupTag: d.groupTag, assignedUser: d.assignedUser }, knownAfterRun(`output.devices.${i}.autopilotDeviceId`)));
  }
  if (!registered.length) return { changes };
  return {
    changes,
    fails: { reason: `${registered.length} of ${input.devices.length} devices are registered with Autopilot already: ${registered.join(', ')}`, code: 'AutopilotImportFailed', hint: '806 ZtdDeviceAlreadyAssigned: leave them out, or deregister them first' },
  };
}

export const autopilotImport = implement(c.autopilotImport, async (input, ctx) => {
  refuseDuplicates(input.devices);
  // The same id on every attempt of this step: a retry recognises the rows it already posted.
  const importId = `tenantflow-${createHash('sha256').update(ctx.idempotencyKey).digest('hex').slice(0, 16)}`;
  const rows = new Map<string, ImportedIdentity>();
  if (ctx.attempt > 1) {
    const { items } = await listAll<ImportedIdentity>(ctx.graph, IMPORTS);
    for (const i of items) if (i.importId === importId) rows.set(i.serialNumber.toLowerCase(), i);
  }
  const missing = input.devices.filter((d) => !rows.has(d.serialNumber.toLowerCase()));
  if (missing.length) {
    const res = (await ctx.graph.api(`${IMPORTS}/import`).post({
      importedWindowsAutopilotDeviceIdentities: missing.map((d) => ({
        '@odata.type': '#microsoft.graph.importedWindowsAutopilotDeviceIdentity',
        serialNumber: d.serialNumber,
        hardwareIdentifier: d.hardwareHash,
        importId,
        ...(d.groupTag ? { groupTag: d.groupTag } : {}),
        ...(d.productKey ? { productKey: d.productKey } : {}),
        ...(d.assignedUser ? { assignedUserPrincipalName: d.assignedUser } : {}),
      })),
    })) as { value: ImportedIdentity[] };
    for (const i of res.value) rows.set(i.serialNumber.toLowerCase(), i);
  }
  // The Autopilot service processes the rows in the background: poll each until it is done.
  const refresh = async () => {
    for (const [key, row] of rows) if (!importDone(row)) rows.set(key, (await ctx.graph.api(`${IMPORTS}/${row.id}`).get()) as ImportedIdentity);
    return [...rows.values()].every(importDone) ? true : undefined;
  };
  const complete =
    input.waitMinutes > 0
      ? (await pollUntil(ctx, refresh, { maxWaitMs: input.waitMinutes * 60_000, progress: () => ({ done: [...rows.values()].filter(importDone).length, of: rows.size }) })) === true
      : [...rows.values()].every(importDone);
  const devices: { serialNumber: string; status: 'imported' | 'failed' | 'pending'; autopilotDeviceId: string | null; error: string | null }[] = [];
  for (const d of input.devices) {
    const row = rows.get(d.serialNumber.toLowerCase())!;
    if (row.state.deviceImportStatus === 'complete') {
      const made = (await autopilotBySerial(ctx.graph, d.serialNumber)).find((x) => x.serialNumber.toLowerCase() === d.serialNumber.toLowerCase());
      devices.push({ serialNumber: d.serialNumber, status: 'imported', autopilotDeviceId: made?.id ?? null, error: null });
    } else if (row.state.deviceImportStatus === 'error')
      devices.push({ serialNumber: d.serialNumber, status: 'failed', autopilotDeviceId: null, error: `${row.state.deviceErrorCode ?? ''} ${row.state.deviceErrorName ?? 'unknown error'}`.trim() });
    else devices.push({ serialNumber: d.serialNumber, status: 'pending', autopilotDeviceId: null, error: null });
  }
  const failed = devices.filter((d) => d.status === 'failed');
  if (failed.length)
    throw new ActionError(`${failed.length} of ${devices.length} devices could not be added to Autopilot: ${failed.map((d) => `${d.serialNumber} (${d.error})`).join(', ')}`, {
      code: 'AutopilotImportFailed',
      hint: '806 ZtdDeviceAlreadyAssigned: the device is already registered (in this or another tenant: 808); 802 InvalidZtdHardwareHash: collect the hash again with Get-WindowsAutopilotInfo',
    });
  const count = (s: string) => devices.filter((d) => d.status === s).length;
  return { importId, complete, imported: count('imported'), failed: 0, pending: count('pending'), devices };
}, planAutopilotImport);

// ---- Exchange ActiveSync mobile devices ----

interface MobileDevice {
  Identity: string;
  Guid?: string;
  DeviceId: string;
  FriendlyName?: string | null;
  DeviceModel?: string | null;
  DeviceOS?: string | null;
  DeviceAccessState?: string | null;
  DeviceWipeStatus?: string | null;
  FirstSyncTime?: string | null;
}

async function mobileDevices(ctx: ActionContext, mailbox: string): Promise<MobileDevice[]> {
  try {
    return await ctx.exchange.invoke<MobileDevice>('Get-MobileDevice', { Mailbox: mailbox }, ctx.signal);
  } catch (err) {
    if (isExchangeError(err, ...NOT_FOUND)) throw new ActionError(`mailbox ${mailbox} does not exist`, { code: 'MailboxNotFound', hint: 'use the user principal name or SMTP address of a mailbox', status: 404 });
    throw err;
  }
}

const matches = (d: MobileDevice, ref: string) => [d.DeviceId, d.Identity, d.Guid].some((x) => x?.toLowerCase() === ref.toLowerCase());

async function findMobile(ctx: ActionContext, mailbox: string, ref: string, opts: { missingOk?: boolean } = {}): Promise<MobileDevice | undefined> {
  const all = await mobileDevices(ctx, mailbox);
  const d = all.find((x) => matches(x, ref));
  if (!d && !opts.missingOk)
    throw new ActionError(`mailbox ${mailbox} has no mobile device "${ref}"`, {
      code: 'MobileDeviceNotFound',
      hint: all.length ? `its devices: ${all.map((x) => `${x.DeviceId} (${x.FriendlyName ?? x.DeviceModel ?? 'unnamed'})`).join(', ')}` : 'the mailbox has no ActiveSync devices',
      status: 404,
    });
  return d;
}

const mobileView = (d: MobileDevice) => ({
  identity: d.Identity,
  deviceId: d.DeviceId,
  friendlyName: d.FriendlyName ?? null,
  deviceModel: d.DeviceModel ?? null,
  deviceOS: d.DeviceOS ?? null,
  deviceAccessState: d.DeviceAccessState ?? null,
  deviceWipeStatus: d.DeviceWipeStatus ?? null,
  firstSyncTime: d.FirstSyncTime ?? null,
});

export const mobileDeviceFind = implement(c.mobileDeviceFind, async (input, ctx) => {
  const devices = (await mobileDevices(ctx, input.mailbox)).filter((d) => !input.accessState || d.DeviceAccessState === input.accessState).map(mobileView);
  return { devices, count: devices.length };
});

export const mobileDeviceRemove = implement(c.mobileDeviceRemove, async (input, ctx) => {
  const d = await findMobile(ctx, input.mailbox, input.device, { missingOk: ctx.attempt > 1 });
  if (!d) return { deviceId: input.device, removed: false };
  try {
    await ctx.exchange.invoke('Remove-MobileDevice', { Identity: d.Identity, Confirm: false }, ctx.signal);
  } catch (err) {
    if (!isExchangeError(err, ...NOT_FOUND)) throw err;
    return { deviceId: d.DeviceId, removed: false };
  }
  return { deviceId: d.DeviceId, removed: true };
});

/** Get-MobileDeviceStatistics' record of the last remote wipe asked for (full or account only). */
interface WipeStatistics {
  DeviceWipeRequestTime?: string | null;
  DeviceWipeAckTime?: string | null;
  AccountOnlyDeviceWipeRequestTime?: string | null;
  AccountOnlyDeviceWipeAckTime?: string | null;
}

/** When a wipe of the device was last asked for (pending, or done once the device acknowledged it), or undefined. */
async function wipeRequested(ctx: ActionContext, d: MobileDevice): Promise<string | undefined> {
  const [s] = await ctx.exchange.invoke<WipeStatistics>('Get-MobileDeviceStatistics', { Identity: d.Identity }, ctx.signal);
  return [s?.DeviceWipeRequestTime, s?.AccountOnlyDeviceWipeRequestTime].map(exoDate).filter((t): t is string => !!t).sort().at(-1);
}

export const mobileDeviceWipe = implement(c.mobileDeviceWipe, async (input, ctx) => {
  const d = (await findMobile(ctx, input.mailbox, input.device))!;
  // A wipe is sent once: a device with a wipe asked for (pending or done) gets no second one. When this
  // step's earlier attempt asked for it (its answer was lost), the step did send it.
  const requested = await wipeRequested(ctx, d);
  if (requested || (d.DeviceWipeStatus && /Pending|Wiped|Succeeded/i.test(d.DeviceWipeStatus)))
    return { deviceId: d.DeviceId, sent: createdByThisStep(ctx, requested), deviceWipeStatus: d.DeviceWipeStatus ?? null };
  await ctx.exchange.invoke('Clear-MobileDevice', { Identity: d.Identity, AccountOnly: input.accountOnly, Confirm: false }, ctx.signal);
  const after = await findMobile(ctx, input.mailbox, d.DeviceId, { missingOk: true });
  return { deviceId: d.DeviceId, sent: true, deviceWipeStatus: after?.DeviceWipeStatus ?? null };
});

/** Puts the device on the mailbox's allowed or blocked ActiveSync list (and off the other one). */
async function setAccess(ctx: ActionContext, mailbox: string, ref: string, to: 'Allowed' | 'Blocked') {
  const d = (await findMobile(ctx, mailbox, ref))!;
  const [cas] = await ctx.exchange.invoke<{ ActiveSyncAllowedDeviceIDs?: string[]; ActiveSyncBlockedDeviceIDs?: string[] }>('Get-CASMailbox', { Identity: mailbox }, ctx.signal);
  const has = (list: string[] | undefined) => (list ?? []).some((x) => x.toLowerCase() === d.DeviceId.toLowerCase());
  const [own, other] = to === 'Allowed' ? [cas?.ActiveSyncAllowedDeviceIDs, cas?.ActiveSyncBlockedDeviceIDs] : [cas?.ActiveSyncBlockedDeviceIDs, cas?.ActiveSyncAllowedDeviceIDs];
  if (has(own) && !has(other)) return { deviceId: d.DeviceId, deviceAccessState: d.DeviceAccessState ?? to, changed: false };
  const [ownParam, otherParam] = to === 'Allowed' ? ['ActiveSyncAllowedDeviceIDs', 'ActiveSyncBlockedDeviceIDs'] : ['ActiveSyncBlockedDeviceIDs', 'ActiveSyncAllowedDeviceIDs'];
  await ctx.exchange.invoke('Set-CASMailbox', { Identity: mailbox, [ownParam]: { Add: [d.DeviceId] }, ...(has(other) ? { [otherParam]: { Remove: [d.DeviceId] } } : {}) }, ctx.signal);
  const after = await findMobile(ctx, mailbox, d.DeviceId);
  return { deviceId: d.DeviceId, deviceAccessState: after!.DeviceAccessState ?? to, changed: true };
}

export const mobileDeviceAllow = implement(c.mobileDeviceAllow, (input, ctx) => setAccess(ctx, input.mailbox, input.device, 'Allowed'));
export const mobileDeviceBlock = implement(c.mobileDeviceBlock, (input, ctx) => setAccess(ctx, input.mailbox, input.device, 'Blocked'));
