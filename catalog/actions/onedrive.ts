// OneDrive actions: pre-provisioning (SharePoint's profile loader queue), additional owners (site
// collection administrators of the user's OneDrive), quota, sharing with a colleague and shortcuts to
// SharePoint folders (Graph). The administration calls use SharePoint REST and need a tenant
// connection with a certificate.
import { z } from 'zod';
import { defineAction, type Change, type Reversal } from '../contract.ts';
import { step, undoWith } from '../reversal.ts';
import { oneDriveRef as oneDriveOf, siteRef, userRef } from '../fields.ts';
import { SHAREPOINT_ADMIN } from './sites.ts';
const url = z.string().describe('The OneDrive\'s address (https://{tenant}-my.sharepoint.com/personal/…)');

export const onedriveGet = defineAction({
  id: 'onedrive.get',
  readOnly: true,
  title: 'Get OneDrive',
  category: 'sharepoint',
  description: 'Reads whether a user has a OneDrive, its address and how much of its storage is used.',
  input: z.strictObject({ user: oneDriveOf }),
  output: z.object({
    found: z.boolean().describe('false when the user has no OneDrive (never provisioned, or no SharePoint licence)'),
    url: z.string().nullable(),
    driveId: z.string().nullable(),
    quota: z.object({ totalBytes: z.number(), usedBytes: z.number() }).nullable(),
  }),
  permissions: ['Files.Read.All', 'User.Read.All'],
  bulk: true,
});

export const onedriveProvision = defineAction({
  id: 'onedrive.provision',
  title: 'Pre-provision OneDrive',
  category: 'sharepoint',
  description:
    'Creates the OneDrive of up to 200 users before they first sign in (e.g. before migrating files to it). SharePoint queues the request: ' +
    'the step waits, heartbeating, until every licensed user\'s OneDrive exists. Users without a SharePoint licence are reported as skipped; ' +
    'users who already have one count as done.',
  input: z.strictObject({ users: z.array(userRef).min(1).max(200).describe('The users: user principal names or object ids') }),
  output: z.object({
    provisioned: z.array(z.object({ user: z.string(), url: z.string() })).describe('OneDrives that exist now (new or already there)'),
    alreadyProvisioned: z.array(z.string()).describe('Users who had one before this step'),
    skipped: z.array(z.object({ user: z.string(), reason: z.string() })).describe('Users who cannot have a OneDrive'),
  }),
  permissions: ['Sites.Read.All', 'Files.Read.All', 'User.Read.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  irreversible: 'a OneDrive is not deleted on its own: it goes with its user (after the retention set for deleted users\' OneDrives)',
});

const ownerOutput = z.object({ url, owner: z.string().describe('User principal name of the additional owner'), changed: z.boolean() });

/** An additional owner recorded as given (false -> true) is taken back, one recorded as taken is given back. */
const reverseOwner = ({ input, changes }: { input: { user: string }; changes: readonly Change[] }): Reversal =>
  undoWith(
    ...changes
      .filter((c) => c.property.startsWith('owner '))
      .map((c) => {
        const owner = c.property.slice('owner '.length);
        return c.before ? step('onedrive.addOwner', { user: input.user, owner }, `${owner} owner of ${c.object} again`) : step('onedrive.removeOwner', { user: input.user, owner }, `${owner} no longer owner of ${c.object}`);
      }),
  );

export const onedriveAddOwner = defineAction({
  id: 'onedrive.addOwner',
  title: 'Add OneDrive owner',
  category: 'sharepoint',
  description:
    'Gives another user full control of a user\'s OneDrive as an additional site collection administrator -- e.g. the manager of a leaver. ' +
    'An existing owner counts as done.',
  input: z.strictObject({ user: oneDriveOf, owner: userRef.describe('Who gets access: user principal name or object id') }),
  output: ownerOutput,
  permissions: ['Files.Read.All', 'User.Read.All', 'Sites.Read.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'onedrive.removeOwner',
  reverse: reverseOwner,
});

export const onedriveRemoveOwner = defineAction({
  id: 'onedrive.removeOwner',
  title: 'Remove OneDrive owner',
  category: 'sharepoint',
  description: 'Removes an additional owner from a user\'s OneDrive (the user themselves stays). A user who is not an owner counts as done.',
  input: z.strictObject({ user: oneDriveOf, owner: userRef.describe('The additional owner to remove') }),
  output: ownerOutput,
  permissions: ['Files.Read.All', 'User.Read.All', 'Sites.Read.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'onedrive.addOwner',
  reverse: reverseOwner,
});

export const onedriveSetQuota = defineAction({
  id: 'onedrive.setQuota',
  title: 'Set OneDrive storage quota',
  category: 'sharepoint',
  description: 'Sets the storage maximum (and warning level) of a user\'s OneDrive, in megabytes, within what the user\'s licence allows.',
  input: z.strictObject({
    user: oneDriveOf,
    storageMaximumMB: z.number().int().positive().max(26_214_400).describe('Megabytes, e.g. 1048576 for 1 TB'),
    storageWarningMB: z.number().int().positive().max(26_214_400).optional().describe('Warning level in megabytes (default 90 % of the maximum)'),
  }),
  output: z.object({ url, storageMaximumMB: z.number(), storageWarningMB: z.number(), previous: z.object({ storageMaximumMB: z.number(), storageWarningMB: z.number() }) }),
  permissions: ['Files.Read.All', 'User.Read.All', 'Sites.Read.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  // A level the step did not change stays as the step set it.
  reverse: ({ input, output, changes }) => {
    const before = (p: string, now: number) => (changes.find((c) => c.property === p)?.before as number | undefined) ?? now;
    return undoWith(
      changes.length > 0 &&
        step('onedrive.setQuota', { user: input.user, storageMaximumMB: before('storageMaximumMB', output.storageMaximumMB), storageWarningMB: before('storageWarningMB', output.storageWarningMB) }, 'storage quota back'),
    );
  },
});

export const onedriveShareWith = defineAction({
  id: 'onedrive.shareWith',
  title: 'Share OneDrive with a colleague',
  category: 'sharepoint',
  description:
    'Gives someone read or edit access to a user\'s OneDrive (all of it, or one folder) without an invitation mail -- e.g. the manager of a ' +
    'leaver. Sharing again with the same person keeps one permission (and upgrades read to edit).',
  input: z.strictObject({
    user: oneDriveOf,
    with: userRef.describe('Who gets access: a user in the organisation'),
    role: z.enum(['read', 'write']).default('read').describe('read or write (edit)'),
    folder: z.string().max(400).optional().describe('A folder of the OneDrive, e.g. Projects/2025; without it the whole OneDrive'),
  }),
  output: z.object({ driveId: z.string(), itemId: z.string(), permissionId: z.string(), role: z.string() }),
  permissions: ['Files.ReadWrite.All', 'User.Read.All'],
  bulk: true,
});

export const onedriveAddShortcut = defineAction({
  id: 'onedrive.addShortcut',
  title: 'Add OneDrive shortcut',
  category: 'sharepoint',
  description:
    'Adds a shortcut to a SharePoint document library folder at the root of a user\'s OneDrive ("Add shortcut to My files"), so the folder ' +
    'shows up in OneDrive and File Explorer. The user needs access to the folder and a OneDrive. An existing shortcut to it counts as done.',
  input: z.strictObject({
    user: oneDriveOf,
    site: siteRef,
    folder: z.string().max(400).optional().describe('A folder of the site\'s document library, e.g. General; without it the whole library'),
    name: z.string().min(1).max(250).optional().describe('Name of the shortcut (default: the folder\'s, or the site\'s name)'),
  }),
  output: z.object({ shortcutId: z.string(), name: z.string(), added: z.boolean().describe('false when the shortcut already existed') }),
  permissions: ['Files.ReadWrite.All', 'Sites.Read.All', 'User.Read.All'],
  bulk: true,
});
