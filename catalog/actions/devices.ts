// Device actions: Intune managed devices (remote actions, ownership, category, rename, delete),
// Windows Autopilot (import, group tag, assigned user, delete) and Exchange ActiveSync mobile devices
// (remove, wipe, allow or block a quarantined device).
import { z } from 'zod';
import { defineAction, type Change, type Reversal } from '../contract.ts';
import { step, undoWith } from '../reversal.ts';
import { deviceRef, mailboxRef as anyMailbox, userRef } from '../fields.ts';

const autopilotRef = z
  .string()
  .min(1)
  .describe('The Autopilot device: its serial number or Autopilot device identity id')
  .meta({ 'x-picker': 'autopilotDevice' });

const mobileDeviceRef = z
  .string()
  .min(1)
  .describe('The mobile device: its device id (as Get-MobileDevice shows it), its identity, or its GUID');

const mailboxRef = anyMailbox.describe('The mailbox the phone syncs with: user principal name, SMTP address or alias');

const PLATFORMS = ['Windows', 'macOS', 'iOS', 'Android'] as const;

const deviceSummary = z.object({
  id: z.string().describe('Intune managed device id'),
  deviceName: z.string(),
  operatingSystem: z.string(),
  osVersion: z.string().nullable().optional(),
  serialNumber: z.string().nullable().optional(),
  userPrincipalName: z.string().nullable().optional().describe('Primary user'),
  managedDeviceOwnerType: z.string().nullable().optional().describe('company or personal'),
  complianceState: z.string().nullable().optional(),
  managementState: z.string().nullable().optional(),
  lastSyncDateTime: z.string().nullable().optional(),
});

/** What every remote action answers: whether this step sent it, and the action's state on the device. */
const remoteOutput = z.object({
  deviceId: z.string(),
  deviceName: z.string(),
  operatingSystem: z.string(),
  sent: z.boolean().describe('false when the device already had this action pending or done (an earlier attempt of this step, or someone else), so it was not sent again'),
  actionState: z.string().describe('The action on the device as Intune reports it: pending until the device checks in, then done (or failed)'),
});

const DEVICE_ACTION = ['DeviceManagementManagedDevices.PrivilegedOperations.All', 'DeviceManagementManagedDevices.Read.All'];
const DEVICE_WRITE = ['DeviceManagementManagedDevices.ReadWrite.All'];

function remoteAction(opts: { id: string; title: string; description: string; input?: z.ZodRawShape; platforms?: readonly (typeof PLATFORMS)[number][] }) {
  const platforms = opts.platforms ? ` Supported on ${opts.platforms.join(', ')}; other platforms fail the step before anything is sent.` : '';
  return defineAction({
    id: opts.id,
    title: opts.title,
    category: 'device',
    description: `${opts.description}${platforms} The device carries it out when it next checks in with Intune.`,
    input: z.strictObject({ device: deviceRef, ...opts.input }),
    output: remoteOutput,
    permissions: DEVICE_ACTION,
    bulk: true,
  });
}

export const deviceFind = defineAction({
  id: 'device.find',
  readOnly: true,
  title: 'Find managed devices',
  category: 'device',
  description:
    'Lists Intune managed devices: a user\'s devices (for an offboarding loop: wipe or retire each), or every device matching ' +
    'the criteria. Criteria are combined with "and".',
  input: z.strictObject({
    user: userRef.optional().describe('Only this user\'s devices (user principal name or object id)'),
    operatingSystem: z.enum(PLATFORMS).optional().describe('Only this platform'),
    ownerType: z.enum(['company', 'personal']).optional().describe('Only company-owned or personal devices'),
    complianceState: z.enum(['compliant', 'noncompliant', 'inGracePeriod', 'unknown']).optional().describe('Only devices in this compliance state'),
    max: z.number().int().min(1).max(5000).default(500).describe('Stop after this many devices'),
  }),
  output: z.object({
    devices: z.array(deviceSummary),
    count: z.number(),
    truncated: z.boolean().describe('true when more devices matched than were returned'),
  }),
  permissions: ['DeviceManagementManagedDevices.Read.All', 'User.Read.All'],
  bulk: true,
});

export const deviceWipe = defineAction({
  id: 'device.wipe',
  title: 'Wipe managed device',
  category: 'device',
  description:
    'Resets the device to factory settings. With "keep enrolment and user data" the user\'s data stays (Windows). A device that ' +
    'already has a wipe pending or done is not sent a second one. This cannot be undone.',
  input: z.strictObject({
    device: deviceRef,
    keepEnrollmentData: z.boolean().default(false).describe('Keep the enrolment state (the device stays enrolled after the wipe)'),
    keepUserData: z.boolean().default(false).describe('Keep the user\'s data and accounts (Windows)'),
    persistEsimDataPlan: z.boolean().default(false).describe('Keep the eSIM data plan (iOS)'),
    macOsUnlockCode: z.string().regex(/^\d{6}$/, 'six digits').optional().describe('Six-digit PIN that unlocks a wiped Mac (macOS only)'),
  }),
  output: remoteOutput,
  permissions: DEVICE_ACTION,
  bulk: true,
  secretFields: ['macOsUnlockCode'],
});

export const deviceRetire = defineAction({
  id: 'device.retire',
  title: 'Retire managed device',
  category: 'device',
  description:
    'Removes company data, apps, email profiles and settings that Intune put on the device, and takes it out of management at its ' +
    'next check-in; the user\'s personal data stays. A device already being retired is not sent a second retire, and a retry that ' +
    'finds the device gone (it checked in and left Intune) counts as done.',
  input: z.strictObject({ device: deviceRef }),
  output: remoteOutput,
  permissions: DEVICE_ACTION,
  bulk: true,
});

export const deviceDelete = defineAction({
  id: 'device.delete',
  title: 'Delete managed device',
  category: 'device',
  description: 'Deletes the device record from Intune (the device is retired when it next checks in). Cannot be undone: the device must enrol again.',
  input: z.strictObject({ device: deviceRef }),
  output: z.object({
    deviceId: z.string(),
    deleted: z.boolean().describe('false when a retried attempt found the device already gone (a device that never existed fails the step)'),
  }),
  permissions: DEVICE_WRITE,
  bulk: true,
});

export const deviceSync = remoteAction({ id: 'device.sync', title: 'Sync managed device', description: 'Makes the device check in now, so it gets pending actions, policies and apps.' });
export const deviceRestart = remoteAction({ id: 'device.restart', title: 'Restart managed device', description: 'Restarts the device.' });
export const deviceShutDown = remoteAction({ id: 'device.shutDown', title: 'Shut down managed device', description: 'Shuts the device down.', platforms: ['Windows', 'macOS', 'iOS'] });
export const deviceLock = remoteAction({ id: 'device.lock', title: 'Lock managed device', description: 'Locks the device; the user needs the passcode to unlock it.' });
export const deviceResetPasscode = remoteAction({
  id: 'device.resetPasscode',
  title: 'Reset managed device passcode',
  description: 'Removes the passcode (iOS/iPadOS) or replaces it with a temporary one shown in the Intune admin center (Android).',
  platforms: ['iOS', 'Android'],
});
export const deviceDisableLostMode = remoteAction({ id: 'device.disableLostMode', title: 'Disable lost mode', description: 'Ends lost mode so the user can use the device again.', platforms: ['iOS'] });
export const deviceLocate = remoteAction({ id: 'device.locate', title: 'Locate managed device', description: 'Asks the device for its location (shown in the Intune admin center).', platforms: ['iOS', 'Android', 'Windows'] });
export const deviceBypassActivationLock = remoteAction({
  id: 'device.bypassActivationLock',
  title: 'Bypass activation lock',
  description: 'Clears Activation Lock so a supervised Apple device can be reset and reused without the user\'s Apple ID.',
  platforms: ['iOS', 'macOS'],
});
export const deviceScan = remoteAction({
  id: 'device.scan',
  title: 'Antivirus scan',
  description: 'Runs a Microsoft Defender Antivirus scan: quick (recommended) or full.',
  input: { quick: z.boolean().default(true).describe('Quick scan (true) or full scan (false)') },
  platforms: ['Windows'],
});
export const deviceUpdateDefenderSignatures = remoteAction({
  id: 'device.updateDefenderSignatures',
  title: 'Update antivirus signatures',
  description: 'Makes Microsoft Defender Antivirus download its latest security intelligence.',
  platforms: ['Windows'],
});
export const deviceFreshStart = remoteAction({
  id: 'device.freshStart',
  title: 'Windows Fresh Start',
  description: 'Reinstalls Windows and removes the apps installed on the PC (Windows 10 1709 or later); optionally keeps the user\'s data.',
  input: { keepUserData: z.boolean().default(false).describe('Keep the user\'s files') },
  platforms: ['Windows'],
});

export const deviceRename = defineAction({
  id: 'device.rename',
  title: 'Rename managed device',
  category: 'device',
  description:
    'Gives the device a new name (Intune\'s beta setDeviceName); the device takes it when it next checks in. Windows names have at ' +
    'most 15 letters, digits and hyphens. A device that already has the name, or a rename this step already sent, is left alone.',
  input: z.strictObject({ device: deviceRef, deviceName: z.string().min(1).max(255).describe('The new name') }),
  output: remoteOutput.extend({ previousName: z.string() }),
  permissions: DEVICE_ACTION,
  bulk: true,
});

export const deviceSetOwnership = defineAction({
  id: 'device.setOwnership',
  title: 'Set device ownership',
  category: 'device',
  description: 'Marks the device company-owned or personal; Intune applies different privacy rules and policies to each.',
  input: z.strictObject({ device: deviceRef, ownerType: z.enum(['company', 'personal']).describe('Who owns the device') }),
  output: z.object({ deviceId: z.string(), ownerType: z.string(), previousOwnerType: z.string(), changed: z.boolean() }),
  permissions: DEVICE_WRITE,
  bulk: true,
  undo: 'device.setOwnership',
});

export const deviceSetCategory = defineAction({
  id: 'device.setCategory',
  title: 'Set device category',
  category: 'device',
  description: 'Puts the device in one of the tenant\'s Intune device categories (which dynamic device groups and policies can use).',
  input: z.strictObject({ device: deviceRef, category: z.string().min(1).describe('The device category: its name (as in the Intune admin center) or id') }),
  output: z.object({ deviceId: z.string(), category: z.string(), previousCategory: z.string(), changed: z.boolean() }),
  permissions: DEVICE_WRITE,
  bulk: true,
  undo: 'device.setCategory',
});

// ---- Windows Autopilot ----

/** The recorded assigned user ("assignedUser": a UPN or null) goes back; the name shown at setup becomes the user's display name. */
function reverseAssignedUser({ output, changes }: { output: { autopilotDeviceId: string; serialNumber: string }; changes: readonly Change[] }): Reversal {
  const c = changes.find((x) => x.property === 'assignedUser');
  if (!c) return undoWith();
  return undoWith(
    typeof c.before === 'string' && c.before
      ? step('autopilot.assignUser', { device: output.autopilotDeviceId, user: c.before }, `${c.before} assigned to ${output.serialNumber} again`)
      : step('autopilot.unassignUser', { device: output.autopilotDeviceId }, `no user assigned to ${output.serialNumber} again`),
  );
}

const autopilotSummary = z.object({
  id: z.string().describe('Autopilot device identity id'),
  serialNumber: z.string(),
  groupTag: z.string().nullable().optional(),
  userPrincipalName: z.string().nullable().optional().describe('Assigned user'),
  enrollmentState: z.string().nullable().optional(),
  model: z.string().nullable().optional(),
});

export const autopilotImport = defineAction({
  id: 'autopilot.import',
  title: 'Add Windows Autopilot devices',
  category: 'device',
  description:
    'Registers devices with Windows Autopilot from their hardware hashes (the CSV that Get-WindowsAutopilotInfo writes: serial ' +
    'number, hardware hash, optional group tag and assigned user). The Autopilot service processes an import in the background, ' +
    'usually within minutes: the step waits for it (with heartbeats) up to "wait minutes" and then reports each device as ' +
    'imported, failed (with the service\'s error, e.g. ZtdDeviceAlreadyAssigned) or still pending. Any failed device fails the step.',
  input: z.strictObject({
    devices: z
      .array(
        z.strictObject({
          serialNumber: z.string().min(1).max(128).describe('Serial number'),
          hardwareHash: z.string().min(4).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'the base64 hardware hash from Get-WindowsAutopilotInfo').describe('Hardware hash (base64)'),
          groupTag: z.string().max(128).optional().describe('Group tag (order id) for dynamic Autopilot groups'),
          assignedUser: z.email().optional().describe('User principal name to pre-assign the device to'),
          productKey: z.string().max(64).optional().describe('Windows product key'),
        }),
      )
      .min(1)
      .max(500)
      .describe('The devices (at most 500, like the portal\'s CSV upload)'),
    waitMinutes: z.number().int().min(0).max(120).default(30).describe('How long to wait for the Autopilot service; 0 reports the import as pending at once'),
  }),
  output: z.object({
    importId: z.string().describe('The import batch id this step gave the devices'),
    complete: z.boolean().describe('false when some devices were still being processed when the wait ended'),
    imported: z.number(),
    failed: z.number(),
    pending: z.number(),
    devices: z.array(
      z.object({
        serialNumber: z.string(),
        status: z.enum(['imported', 'failed', 'pending']),
        autopilotDeviceId: z.string().nullable(),
        error: z.string().nullable().describe('The Autopilot service\'s error, e.g. 806 ZtdDeviceAlreadyAssigned'),
      }),
    ),
  }),
  permissions: ['DeviceManagementServiceConfig.ReadWrite.All'],
  bulk: false,
  undo: 'autopilot.delete',
  // Devices still pending when the step ended are deregistered by serial number too (once their import completes).
  reverse: ({ output }) =>
    undoWith(...output.devices.filter((d) => d.status !== 'failed').map((d) => step('autopilot.delete', { device: d.autopilotDeviceId ?? d.serialNumber }, `deregister ${d.serialNumber}, imported by the run`))),
});

export const autopilotFind = defineAction({
  id: 'autopilot.find',
  readOnly: true,
  title: 'Find Autopilot devices',
  category: 'device',
  description: 'Lists Windows Autopilot devices, by serial number (part of it), group tag or assigned user.',
  input: z.strictObject({
    serialNumber: z.string().min(1).optional().describe('Serial number contains'),
    groupTag: z.string().optional().describe('Group tag equals'),
    user: z.string().optional().describe('Assigned user principal name equals'),
    max: z.number().int().min(1).max(5000).default(500).describe('Stop after this many devices'),
  }),
  output: z.object({ devices: z.array(autopilotSummary), count: z.number(), truncated: z.boolean() }),
  permissions: ['DeviceManagementServiceConfig.Read.All'],
  bulk: true,
});

export const autopilotSetGroupTag = defineAction({
  id: 'autopilot.setGroupTag',
  title: 'Set Autopilot group tag',
  category: 'device',
  description: 'Sets (or clears, with an empty tag) the Autopilot group tag that dynamic device groups and deployment profiles use.',
  input: z.strictObject({ device: autopilotRef, groupTag: z.string().max(128).describe('The group tag; empty clears it') }),
  output: z.object({ autopilotDeviceId: z.string(), serialNumber: z.string(), groupTag: z.string(), previousGroupTag: z.string(), changed: z.boolean() }),
  permissions: ['DeviceManagementServiceConfig.ReadWrite.All'],
  bulk: true,
  undo: 'autopilot.setGroupTag',
  reverse: ({ output, changes }) =>
    undoWith(...changes.filter((c) => c.property === 'groupTag').map((c) => step('autopilot.setGroupTag', { device: output.autopilotDeviceId, groupTag: String(c.before ?? '') }, `group tag of ${output.serialNumber} back to "${String(c.before ?? '')}"`))),
});

export const autopilotAssignUser = defineAction({
  id: 'autopilot.assignUser',
  title: 'Assign user to Autopilot device',
  category: 'device',
  description: 'Pre-assigns a user to an Autopilot device: the out-of-box experience greets them by name and fills in their sign-in name.',
  input: z.strictObject({
    device: autopilotRef,
    user: userRef,
    displayName: z.string().max(256).optional().describe('Name shown at setup (default: the user\'s display name)'),
  }),
  output: z.object({ autopilotDeviceId: z.string(), serialNumber: z.string(), userPrincipalName: z.string(), previousUser: z.string().nullable(), changed: z.boolean() }),
  permissions: ['DeviceManagementServiceConfig.ReadWrite.All', 'User.Read.All'],
  bulk: true,
  undo: 'autopilot.unassignUser',
  reverse: (done) => reverseAssignedUser(done),
});

export const autopilotUnassignUser = defineAction({
  id: 'autopilot.unassignUser',
  title: 'Unassign user from Autopilot device',
  category: 'device',
  description: 'Removes the pre-assigned user from an Autopilot device.',
  input: z.strictObject({ device: autopilotRef }),
  output: z.object({ autopilotDeviceId: z.string(), serialNumber: z.string(), previousUser: z.string().nullable(), changed: z.boolean() }),
  permissions: ['DeviceManagementServiceConfig.ReadWrite.All'],
  bulk: true,
  undo: 'autopilot.assignUser',
  reverse: (done) => reverseAssignedUser(done),
});

export const autopilotDelete = defineAction({
  id: 'autopilot.delete',
  title: 'Deregister Autopilot device',
  category: 'device',
  description: 'Removes a device from Windows Autopilot (it no longer gets the organisation\'s setup at reset). Delete it from Intune first if it is enrolled.',
  input: z.strictObject({ device: autopilotRef }),
  output: z.object({ autopilotDeviceId: z.string().nullable(), deleted: z.boolean().describe('false when a retried attempt found it already gone') }),
  permissions: ['DeviceManagementServiceConfig.ReadWrite.All'],
  bulk: true,
  irreversible: 'a deregistered device must be imported again with its hardware hash (Get-WindowsAutopilotInfo on the device)',
});

// ---- Exchange ActiveSync mobile devices ----

const mobileSummary = z.object({
  identity: z.string().describe('The device\'s Exchange identity'),
  deviceId: z.string().describe('ActiveSync device id'),
  friendlyName: z.string().nullable().optional(),
  deviceModel: z.string().nullable().optional(),
  deviceOS: z.string().nullable().optional(),
  deviceAccessState: z.string().nullable().optional().describe('Allowed, Blocked, Quarantined or DeviceDiscovery'),
  deviceWipeStatus: z.string().nullable().optional(),
  firstSyncTime: z.string().nullable().optional(),
});

const EXCHANGE = ['Exchange.ManageAsApp'];

export const mobileDeviceFind = defineAction({
  id: 'mobileDevice.find',
  readOnly: true,
  title: 'List mobile devices of a mailbox',
  category: 'device',
  description: 'Lists the phones and tablets that sync with a mailbox over Exchange ActiveSync, with their access state (allowed, blocked, quarantined).',
  input: z.strictObject({ mailbox: mailboxRef, accessState: z.enum(['Allowed', 'Blocked', 'Quarantined', 'DeviceDiscovery']).optional().describe('Only devices in this access state') }),
  output: z.object({ devices: z.array(mobileSummary), count: z.number() }),
  permissions: [],
  otherPermissions: EXCHANGE,
  bulk: true,
});

export const mobileDeviceRemove = defineAction({
  id: 'mobileDevice.remove',
  title: 'Remove mobile device',
  category: 'device',
  description: 'Removes a device\'s ActiveSync partnership with the mailbox (it must set up the account again to sync). A device already removed counts as done on a retry.',
  input: z.strictObject({ mailbox: mailboxRef, device: mobileDeviceRef }),
  output: z.object({ deviceId: z.string(), removed: z.boolean() }),
  permissions: [],
  otherPermissions: EXCHANGE,
  bulk: true,
});

export const mobileDeviceWipe = defineAction({
  id: 'mobileDevice.wipe',
  title: 'Wipe mobile device',
  category: 'device',
  description:
    'Sends an Exchange ActiveSync remote wipe: the whole device goes back to factory settings, or with "account only" just the ' +
    'mailbox data. The wipe runs when the device next syncs; a device with a wipe already pending is not sent another. Cannot be undone.',
  input: z.strictObject({ mailbox: mailboxRef, device: mobileDeviceRef, accountOnly: z.boolean().default(false).describe('Remove only the mailbox data, not the whole device') }),
  output: z.object({
    deviceId: z.string(),
    sent: z.boolean().describe('true when this step sent the wipe (an earlier attempt of it included); false when one was already pending or done'),
    deviceWipeStatus: z.string().nullable(),
  }),
  permissions: [],
  otherPermissions: EXCHANGE,
  bulk: true,
});

export const mobileDeviceAllow = defineAction({
  id: 'mobileDevice.allow',
  title: 'Allow quarantined mobile device',
  category: 'device',
  description: 'Lets a quarantined (or blocked) device sync with the mailbox: adds its device id to the mailbox\'s allowed ActiveSync devices.',
  input: z.strictObject({ mailbox: mailboxRef, device: mobileDeviceRef }),
  output: z.object({ deviceId: z.string(), deviceAccessState: z.string(), changed: z.boolean() }),
  permissions: [],
  otherPermissions: EXCHANGE,
  bulk: true,
  undo: 'mobileDevice.block',
});

export const mobileDeviceBlock = defineAction({
  id: 'mobileDevice.block',
  title: 'Block mobile device',
  category: 'device',
  description: 'Stops a device from syncing with the mailbox: adds its device id to the mailbox\'s blocked ActiveSync devices.',
  input: z.strictObject({ mailbox: mailboxRef, device: mobileDeviceRef }),
  output: z.object({ deviceId: z.string(), deviceAccessState: z.string(), changed: z.boolean() }),
  permissions: [],
  otherPermissions: EXCHANGE,
  bulk: true,
  undo: 'mobileDevice.allow',
});
