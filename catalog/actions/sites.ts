// SharePoint site actions: modern site creation (SPSiteManager), site collection administrators and
// owners, quota, sharing, lock, primary admin, delete / restore / purge (SharePoint REST on the tenant's
// -admin host). SharePoint REST accepts app-only tokens only from a certificate: these actions need a
// tenant connection with a certificate.
import { z } from 'zod';
import { defineAction, type Change, type Reversal } from '../contract.ts';
import { siteRef, userRef } from '../fields.ts';
import { step, undoWith } from '../reversal.ts';

/** Note of a site deletion's change: the deleted sites keep it (an undo restores it). */
export const SITE_RESTORABLE_NOTE = 'kept in the deleted sites for 93 days, restorable';

/** What SharePoint administration needs besides Graph: the SharePoint application permission (certificate connection). */
export const SHAREPOINT_ADMIN = 'SharePoint/Sites.FullControl.All';
/** The actions read the tenant's SharePoint address from Graph's root site. */
const FIND_HOSTS = 'Sites.Read.All';

const siteUrl = z.string().describe('The site\'s address');
const sharing = z
  .enum(['Disabled', 'ExistingExternalUserSharingOnly', 'ExternalUserSharingOnly', 'ExternalUserAndGuestSharing'])
  .describe('Who content can be shared with: Disabled (only people in the organisation), ExistingExternalUserSharingOnly (guests already in the directory), ExternalUserSharingOnly (new and existing guests, signed in), ExternalUserAndGuestSharing (anyone, including anonymous links)');

// ---- reverses from recorded changes (docs/plan.md) ----

type Done = { input: { site: string }; output: { url: string }; changes: readonly Change[] };

/** "admin anna@contoso.com" and "owner anna@contoso.com" rows back to what they were. */
function reverseRelations({ input, changes }: Done): Reversal {
  const steps = changes.flatMap((c) => {
    const [rel, ...rest] = c.property.split(' ');
    const user = rest.join(' ');
    if (rel === 'admin') return [step(c.before ? 'site.addAdmin' : 'site.removeAdmin', { site: input.site, user }, `${user} ${c.before ? 'back as' : 'no longer'} administrator of ${c.object}`)];
    if (rel === 'owner') return [step(c.before ? 'site.addOwner' : 'site.removeOwner', { site: input.site, user }, `${user} ${c.before ? 'back as' : 'no longer'} owner of ${c.object}`)];
    // A group-connected site's new owner also joined the group as a member.
    if (rel === 'member' && c.before === false && typeof c.objectId === 'string') return [step('group.removeMember', { group: c.objectId, user }, `${user} out of ${c.object} again`)];
    return [];
  });
  return undoWith(...steps);
}

const existed = (changes: readonly Change[], before: boolean) => changes.some((c) => c.property === 'exists' && c.before === before);

export const siteCreate = defineAction({
  id: 'site.create',
  title: 'Create SharePoint site',
  category: 'sharepoint',
  description:
    'Creates a modern communication site, or a team site without a Microsoft 365 group, at https://{tenant}.sharepoint.com/sites/{alias}. ' +
    'SharePoint provisions it in the background: the step waits, heartbeating, until the site is ready. A site created by an earlier attempt ' +
    'of this step is reused; any other site at that address is a conflict. (A team site with a group: "Create Microsoft 365 group".)',
  input: z.strictObject({
    title: z.string().min(1).max(255).describe('Site name'),
    alias: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,80}$/, 'letters, digits, dash and underscore only')
      .describe('The last part of the address: https://{tenant}.sharepoint.com/sites/{alias}'),
    template: z.enum(['communication', 'team']).default('communication').describe('communication (SITEPAGEPUBLISHING#0) or team site without a group (STS#3)'),
    owner: userRef.describe('The site owner (primary site collection administrator)'),
    description: z.string().max(1000).optional().describe('What the site is for'),
    language: z.number().int().positive().default(1033).describe('Language as an LCID, e.g. 1033 English, 1031 German, 1036 French'),
    sensitivityLabel: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a sensitivity label id (GUID)').optional().describe('Sensitivity label id to apply'),
    classification: z.string().max(100).optional().describe('Site classification, e.g. Confidential'),
    managedPath: z.enum(['sites', 'teams']).default('sites').describe('The managed path: /sites/ or /teams/'),
  }),
  output: z.object({ siteId: z.string(), url: siteUrl, created: z.boolean().describe('false when an earlier attempt of this step had created it') }),
  permissions: [FIND_HOSTS, 'User.Read.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.delete',
  reverse: ({ output, changes }) =>
    undoWith(existed(changes, false) && step('site.delete', { site: output.url }, `delete ${output.url}, created by the run (kept in the deleted sites for 93 days)`)),
});

export const siteGet = defineAction({
  id: 'site.get',
  readOnly: true,
  title: 'Get SharePoint site',
  category: 'sharepoint',
  description: 'Reads a site\'s properties as the SharePoint admin center shows them: owner, storage, sharing, lock state.',
  input: z.strictObject({ site: siteRef }),
  output: z.object({
    found: z.boolean(),
    site: z
      .object({
        siteId: z.string(),
        url: z.string(),
        title: z.string(),
        template: z.string(),
        owner: z.string().describe('Primary admin (user principal name)'),
        groupId: z.string().nullable().describe('The Microsoft 365 group of a group-connected site'),
        storageMaximumMB: z.number(),
        storageWarningMB: z.number(),
        storageUsedMB: z.number(),
        sharing: z.string(),
        lockState: z.string(),
      })
      .nullable(),
  }),
  permissions: [FIND_HOSTS],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
});

const adminOutput = z.object({ url: siteUrl, user: z.string().describe('User principal name'), changed: z.boolean().describe('false when there was nothing to do') });

export const siteAddAdmin = defineAction({
  id: 'site.addAdmin',
  title: 'Add site collection administrator',
  category: 'sharepoint',
  description: 'Makes a user a site collection administrator of a site. An existing administrator counts as done.',
  input: z.strictObject({ site: siteRef, user: userRef }),
  output: adminOutput,
  permissions: [FIND_HOSTS, 'User.Read.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.removeAdmin',
  reverse: reverseRelations,
});

export const siteRemoveAdmin = defineAction({
  id: 'site.removeAdmin',
  title: 'Remove site collection administrator',
  category: 'sharepoint',
  description: 'Removes a site collection administrator (not the primary one: change the owner first). A user who is not one counts as done.',
  input: z.strictObject({ site: siteRef, user: userRef }),
  output: adminOutput,
  permissions: [FIND_HOSTS, 'User.Read.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.addAdmin',
  reverse: reverseRelations,
});

export const siteAddOwner = defineAction({
  id: 'site.addOwner',
  title: 'Add site owner',
  category: 'sharepoint',
  description:
    'Adds a user to a site\'s owners: the Owners group of the site, or -- for a site connected to a Microsoft 365 group -- the group\'s owners. ' +
    'An existing owner counts as done.',
  input: z.strictObject({ site: siteRef, user: userRef }),
  output: adminOutput,
  permissions: [FIND_HOSTS, 'User.Read.All', 'GroupMember.ReadWrite.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.removeOwner',
  reverse: reverseRelations,
});

export const siteRemoveOwner = defineAction({
  id: 'site.removeOwner',
  title: 'Remove site owner',
  category: 'sharepoint',
  description: 'Removes a user from a site\'s owners (the site\'s Owners group, or a group-connected site\'s group owners). A user who is not an owner counts as done.',
  input: z.strictObject({ site: siteRef, user: userRef }),
  output: adminOutput,
  permissions: [FIND_HOSTS, 'User.Read.All', 'GroupMember.ReadWrite.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.addOwner',
  reverse: reverseRelations,
});

const megabytes = z.number().int().positive().max(26_214_400).describe('Megabytes (at most 25 TB = 26214400 MB)');

export const siteSetQuota = defineAction({
  id: 'site.setQuota',
  title: 'Set site storage quota',
  category: 'sharepoint',
  description:
    'Sets a site\'s storage maximum and warning level (megabytes). Applies when the tenant manages site storage manually. User-code quotas ' +
    'applied to sandboxed solutions with code, which SharePoint Online no longer runs, so they are not offered.',
  input: z.strictObject({
    site: siteRef,
    storageMaximumMB: megabytes,
    storageWarningMB: megabytes.optional().describe('Warning level in megabytes (default 90 % of the maximum)'),
  }),
  output: z.object({ url: siteUrl, storageMaximumMB: z.number(), storageWarningMB: z.number(), previous: z.object({ storageMaximumMB: z.number(), storageWarningMB: z.number() }) }),
  permissions: [FIND_HOSTS],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  reverse: ({ output, changes }) => {
    if (!changes.length) return undoWith();
    const before = (k: 'storageMaximumMB' | 'storageWarningMB') => (changes.find((c) => c.property === k)?.before as number | undefined) ?? output[k];
    const [max, warn] = [before('storageMaximumMB'), before('storageWarningMB')];
    return undoWith(step('site.setQuota', { site: output.url, storageMaximumMB: max, storageWarningMB: warn }, `storage of ${output.url} back to ${max} MB (warning at ${warn} MB)`));
  },
});

export const siteSetSharing = defineAction({
  id: 'site.setSharing',
  title: 'Set site external sharing',
  category: 'sharepoint',
  description:
    'Sets who a site\'s content can be shared with (within what the organisation allows), the default sharing link type and permission, and ' +
    'how long guests keep access. Give only what changes.',
  input: z.strictObject({
    site: siteRef,
    sharing: sharing.optional(),
    defaultLinkType: z.enum(['tenantDefault', 'specificPeople', 'organization', 'anyone']).optional().describe('The link the Share dialog offers first'),
    defaultLinkPermission: z.enum(['tenantDefault', 'view', 'edit']).optional().describe('View or edit for the default link'),
    guestAccessExpiresAfterDays: z.number().int().min(0).max(730).optional().describe('Guests lose access after this many days (0: the organisation\'s setting applies)'),
  }),
  output: z.object({ url: siteUrl, changed: z.array(z.string()) }),
  permissions: [FIND_HOSTS],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  reverse: ({ output, changes }) =>
    undoWith(changes.length > 0 && step('site.setSharing', { site: output.url, ...Object.fromEntries(changes.map((c) => [c.property, c.before])) }, `sharing of ${output.url} back (${changes.map((c) => c.property).join(', ')})`)),
});

/** The lock state back to the recorded one. */
function reverseLock({ output, changes }: { output: { url: string }; changes: readonly Change[] }): Reversal {
  const c = changes.find((x) => x.property === 'lockState');
  if (!c) return undoWith();
  return undoWith(c.before === 'Unlock' ? step('site.unlock', { site: output.url }, `unlock ${output.url} again`) : step('site.lock', { site: output.url, lockState: c.before }, `lock ${output.url} again (${String(c.before)})`));
}

export const siteLock = defineAction({
  id: 'site.lock',
  title: 'Lock site',
  category: 'sharepoint',
  description: 'Locks a site: read-only (no changes) or no access (nobody can open it). A site already in that state counts as done.',
  input: z.strictObject({ site: siteRef, lockState: z.enum(['ReadOnly', 'NoAccess']).default('ReadOnly').describe('ReadOnly or NoAccess') }),
  output: z.object({ url: siteUrl, lockState: z.string(), previous: z.string() }),
  permissions: [FIND_HOSTS],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.unlock',
  reverse: reverseLock,
});

export const siteUnlock = defineAction({
  id: 'site.unlock',
  title: 'Unlock site',
  category: 'sharepoint',
  description: 'Removes a site\'s lock so people can use it again. An unlocked site counts as done.',
  input: z.strictObject({ site: siteRef }),
  output: z.object({ url: siteUrl, lockState: z.string(), previous: z.string() }),
  permissions: [FIND_HOSTS],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.lock',
  reverse: reverseLock,
});

export const siteSetOwner = defineAction({
  id: 'site.setOwner',
  title: 'Change site owner',
  category: 'sharepoint',
  description: 'Makes a user the primary site collection administrator of a site (the previous one stays an administrator).',
  input: z.strictObject({ site: siteRef, user: userRef }),
  output: z.object({ url: siteUrl, owner: z.string(), previousOwner: z.string(), changed: z.boolean() }),
  permissions: [FIND_HOSTS, 'User.Read.All'],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  // The previous owner first (the new one is then no longer the primary admin), then the admin right the new owner gained.
  reverse: ({ output, changes }) =>
    undoWith(
      ...changes.map((c) =>
        c.property === 'owner'
          ? step('site.setOwner', { site: output.url, user: c.before }, `${String(c.before)} owner of ${output.url} again`)
          : c.property.startsWith('admin ') && c.before === false
            ? step('site.removeAdmin', { site: output.url, user: c.property.slice('admin '.length) }, `${c.property.slice('admin '.length)} no longer administrator of ${output.url}`)
            : undefined,
      ),
    ),
});

export const siteDelete = defineAction({
  id: 'site.delete',
  title: 'Delete SharePoint site',
  category: 'sharepoint',
  description:
    'Moves a site to the deleted sites (restorable for 93 days). A site connected to a Microsoft 365 group is deleted with its group ' +
    '("Remove group"). A site already deleted counts as done.',
  input: z.strictObject({ site: siteRef }),
  output: z.object({ url: siteUrl, deleted: z.boolean().describe('false when the site was already deleted') }),
  permissions: [FIND_HOSTS],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.restore',
  reverse: ({ output, changes }) => undoWith(existed(changes, true) && step('site.restore', { site: output.url }, `restore ${output.url} from the deleted sites`)),
});

export const siteRestore = defineAction({
  id: 'site.restore',
  title: 'Restore deleted SharePoint site',
  category: 'sharepoint',
  description: 'Restores a site from the deleted sites. A site that is already active counts as done.',
  input: z.strictObject({ site: siteRef }),
  output: z.object({ url: siteUrl, restored: z.boolean().describe('false when the site was already active') }),
  permissions: [FIND_HOSTS],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  undo: 'site.delete',
  reverse: ({ output, changes }) => undoWith(existed(changes, false) && step('site.delete', { site: output.url }, `delete ${output.url} again`)),
});

export const sitePurge = defineAction({
  id: 'site.purge',
  title: 'Remove site from recycle bin',
  category: 'sharepoint',
  description: 'Permanently deletes a site that is in the deleted sites: it cannot be restored afterwards. A site that is already gone counts as done.',
  input: z.strictObject({ site: siteRef }),
  output: z.object({ url: siteUrl, purged: z.boolean().describe('false when the site was already gone') }),
  permissions: [FIND_HOSTS],
  otherPermissions: [SHAREPOINT_ADMIN],
  bulk: true,
  irreversible: 'a site removed from the deleted sites is gone for good: it cannot be restored',
});
