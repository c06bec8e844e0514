// Handlers of the OneDrive actions (catalog/actions/onedrive.ts): a user's OneDrive is found through
// Graph (GET /users/{id}/drive); its administration (owners, quota, provisioning) goes through SharePoint
// REST on the -admin host; sharing and shortcuts through Graph drives.
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/onedrive.ts';
import { knownAfterRun, type Change } from '../../catalog/contract.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext, PlanDraft } from '../implementation.ts';
import { readContext } from '../planning.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { change, creation } from './changes.ts';
import { getUser, listAll, orNotFound, type GraphUser } from './shared.ts';
import { requireSite, setQuota, setSiteAdmin, siteAdmins } from './sites.ts';
import { pollUntil } from './operations.ts';

interface Drive {
  id: string;
  webUrl: string;
  quota?: { total?: number; used?: number };
}

/** SharePoint Online plans that come with a OneDrive (Plan 1, Plan 2, Kiosk, OneDrive Plan 1 / 2). */
const ONEDRIVE_PLANS = new Set([
  'c7699d2e-19aa-44de-8edf-1736da088ca1', // SHAREPOINTSTANDARD
  '5dbe027f-2339-4123-9542-606e4d348a72', // SHAREPOINTENTERPRISE
  '902b47e5-dcb2-4fdc-858b-c63a90a2bdb9', // SHAREPOINTDESKLESS
  '13696edf-5a08-49f6-8134-03083ed8ba30', // ONEDRIVESTANDARD
  'afcafa6a-d966-4462-918c-ec0b4e0fe642', // ONEDRIVEENTERPRISE
]);

const driveOf = (ctx: Pick<PlanContext, 'graph'>, userId: string): Promise<Drive | undefined> =>
  orNotFound(ctx.graph.api(`/users/${userId}/drive`).select('id,webUrl,quota').get() as Promise<Drive>);

/** The OneDrive's site address: the drive's webUrl without its library (…/personal/anna_contoso_com). */
const siteUrlOf = (drive: Drive): string => drive.webUrl.replace(/\/[^/]+\/?$/, '');

async function requireDrive(ctx: Pick<PlanContext, 'graph'>, user: GraphUser): Promise<Drive> {
  const d = await driveOf(ctx, user.id);
  if (!d)
    throw new ActionError(`${user.userPrincipalName} has no OneDrive`, {
      code: 'OneDriveNotFound',
      hint: 'a OneDrive exists once the user has signed in or it was pre-provisioned ("Pre-provision OneDrive"); the user needs a SharePoint licence',
      status: 404,
    });
  return d;
}

export const onedriveGet = implement(c.onedriveGet, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const d = await driveOf(ctx, user.id);
  if (!d) return { found: false, url: null, driveId: null, quota: null };
  return { found: true, url: siteUrlOf(d), driveId: d.id, quota: d.quota ? { totalBytes: d.quota.total ?? 0, usedBytes: d.quota.used ?? 0 } : null };
});

const NO_LICENCE = 'no licence with SharePoint Online or OneDrive';
const oneDriveObject = (u: Pick<GraphUser, 'userPrincipalName'>) => `OneDrive of ${u.userPrincipalName}`;

/** The users of a provisioning, sorted: without a licence that gives a OneDrive, with one already (and its drive), and to queue. */
async function provisioning(graph: Client, refs: readonly string[]) {
  const skipped: GraphUser[] = [];
  const already: { user: GraphUser; drive: Drive }[] = [];
  const queue: GraphUser[] = [];
  for (const ref of refs) {
    const u = await getUser(graph, ref, 'id,userPrincipalName,assignedPlans,userType');
    const plans = (u['assignedPlans'] as { servicePlanId: string; capabilityStatus: string }[] | undefined) ?? [];
    if (!plans.some((p) => p.capabilityStatus === 'Enabled' && ONEDRIVE_PLANS.has(p.servicePlanId))) {
      skipped.push(u);
      continue;
    }
    const drive = await driveOf({ graph }, u.id);
    if (drive) already.push({ user: u, drive });
    else queue.push(u);
  }
  return { skipped, already, queue };
}

export const onedriveProvision = implement(c.onedriveProvision, async (input, ctx) => {
  const sorted = await provisioning(ctx.graph, input.users);
  const skipped = sorted.skipped.map((u) => ({ user: u.userPrincipalName, reason: NO_LICENCE }));
  const already = sorted.already.map((a) => a.user.userPrincipalName);
  const provisioned = sorted.already.map((a) => ({ user: a.user.userPrincipalName, url: siteUrlOf(a.drive) }));
  const queue = sorted.queue;
  if (queue.length) {
    // Queuing again is harmless: SharePoint creates one OneDrive per user.
    await ctx.sharepoint.admin('POST', 'SP.UserProfiles.ProfileLoader.GetProfileLoader/CreatePersonalSiteEnqueueBulk', { emailIDs: queue.map((u) => u.userPrincipalName) }, ctx.signal);
    let waiting = queue;
    await pollUntil(
      ctx,
      `OneDrive of ${queue.length} user(s) to be provisioned`,
      async () => {
        const still: GraphUser[] = [];
        for (const u of waiting) {
          const d = await driveOf(ctx, u.id);
          if (d) provisioned.push({ user: u.userPrincipalName, url: siteUrlOf(d) });
          else still.push(u);
        }
        waiting = still;
        return waiting.length ? undefined : true;
      },
      { firstMs: 2000, maxMs: 30_000 },
    );
  }
  return { provisioned, alreadyProvisioned: already, skipped };
}, async (input, { graph }): Promise<PlanDraft> => {
  // Users without a licence are skipped, not a failure; a OneDrive is not removed on its own (it goes with its user).
  const { skipped, queue } = await provisioning(graph, input.users);
  return {
    changes: queue.map((u) => change(oneDriveObject(u), 'exists', false, true)),
    notes: skipped.map((u) => `${u.userPrincipalName} is skipped: ${NO_LICENCE}`),
  };
});

/** The user's OneDrive and its site properties (SharePoint REST; plans read them through a read-only context). */
async function oneDriveSite(ctx: ActionContext, ref: string) {
  const user = await getUser(ctx.graph, ref);
  const drive = await requireDrive(ctx, user);
  return { user, drive, props: await requireSite(ctx, siteUrlOf(drive)) };
}

/** Plan of giving or taking an additional owner: "owner manager@contoso.com" false -> true, read from the site's administrators. */
async function planOwner(input: { user: string; owner: string }, ctx: PlanContext, add: boolean): Promise<Change[]> {
  const read = readContext(ctx);
  const { user, drive, props } = await oneDriveSite(read, input.user);
  const owner = await getUser(ctx.graph, input.owner);
  if (!add) refuseSelf(user, owner);
  const has = (await siteAdmins(read, props.Url)).includes(owner.userPrincipalName.toLowerCase());
  return has === add ? [] : [change(oneDriveObject(user), `owner ${owner.userPrincipalName}`, has, add, { objectId: drive.id })];
}

function refuseSelf(user: GraphUser, owner: GraphUser): void {
  if (owner.id === user.id) throw new ActionError(`${user.userPrincipalName} owns this OneDrive and cannot be removed from it`, { code: 'InvalidInput', hint: 'name an additional owner' });
}

export const onedriveAddOwner = implement(
  c.onedriveAddOwner,
  async (input, ctx) => {
    const { props } = await oneDriveSite(ctx, input.user);
    const owner = await getUser(ctx.graph, input.owner);
    return { url: props.Url, owner: owner.userPrincipalName, changed: await setSiteAdmin(ctx, props.Url, owner, true) };
  },
  (input, ctx) => planOwner(input, ctx, true),
);

export const onedriveRemoveOwner = implement(
  c.onedriveRemoveOwner,
  async (input, ctx) => {
    const { user, props } = await oneDriveSite(ctx, input.user);
    const owner = await getUser(ctx.graph, input.owner);
    refuseSelf(user, owner);
    return { url: props.Url, owner: owner.userPrincipalName, changed: await setSiteAdmin(ctx, props.Url, owner, false) };
  },
  (input, ctx) => planOwner(input, ctx, false),
);

export const onedriveSetQuota = implement(
  c.onedriveSetQuota,
  async (input, ctx) => {
    const { props } = await oneDriveSite(ctx, input.user);
    return setQuota(ctx, props, input.storageMaximumMB, input.storageWarningMB);
  },
  async (input, ctx) => {
    const { user, drive, props } = await oneDriveSite(readContext(ctx), input.user);
    // setQuota's rule: the warning level defaults to 90 % of the maximum and may not exceed it.
    const warning = input.storageWarningMB ?? Math.floor(input.storageMaximumMB * 0.9);
    if (warning > input.storageMaximumMB) throw new ActionError(`the warning level (${warning} MB) is above the maximum (${input.storageMaximumMB} MB)`, { code: 'InvalidInput', hint: 'give a warning level at or below the maximum' });
    const rows: [string, number, number][] = [['storageMaximumMB', props.StorageMaximumLevel, input.storageMaximumMB], ['storageWarningMB', props.StorageWarningLevel, warning]];
    return rows.filter(([, before, after]) => before !== after).map(([property, before, after]) => change(oneDriveObject(user), property, before, after, { objectId: drive.id }));
  },
);

/** A folder of a drive by path (a/b/c, names compared as SharePoint does: case-insensitively), or the root. */
async function itemAt(ctx: Pick<PlanContext, 'graph'>, driveId: string, path: string | undefined): Promise<{ id: string; name: string }> {
  const parts = (path ?? '').split('/').filter(Boolean);
  let item = (await ctx.graph.api(`/drives/${driveId}/root`).select('id,name').get()) as { id: string; name: string; folder?: unknown };
  for (let i = 0; i < parts.length; i++) {
    const { items } = await listAll<{ id: string; name: string; folder?: unknown }>(ctx.graph, `/drives/${driveId}/items/${item.id}/children`, { select: 'id,name,folder', top: 200 });
    const next = items.find((x) => x.name.toLowerCase() === parts[i]!.toLowerCase());
    if (!next) throw new ActionError(`there is no folder "${parts.slice(0, i + 1).join('/')}"`, { code: 'ItemNotFound', hint: 'give the folder\'s path from the library root, e.g. Projects/2025', status: 404 });
    if (!next.folder) throw new ActionError(`"${parts.slice(0, i + 1).join('/')}" is a file, not a folder`, { code: 'InvalidInput' });
    item = next;
  }
  return item;
}

/** What a share reaches: the OneDrive's owner, the drive, the colleague, the item (the root or a folder). */
async function shareTarget(graph: Client, input: InputOf<typeof c.onedriveShareWith>) {
  const owner = await getUser(graph, input.user);
  const drive = await requireDrive({ graph }, owner);
  const target = await getUser(graph, input.with);
  return { owner, drive, target, item: await itemAt({ graph }, drive.id, input.folder) };
}

export const onedriveShareWith = implement(c.onedriveShareWith, async (input, ctx) => {
  const { drive, target, item } = await shareTarget(ctx.graph, input);
  // Inviting the same person again returns the same permission: a retry is harmless.
  const r = (await ctx.graph.api(`/drives/${drive.id}/items/${item.id}/invite`).post({
    recipients: [{ email: target.mail ?? target.userPrincipalName }],
    roles: [input.role],
    requireSignIn: true,
    sendInvitation: false,
  })) as { value: { id: string; roles: string[] }[] };
  const p = r.value[0];
  if (!p) throw new ActionError('OneDrive granted no permission', { code: 'NoPermission', retryable: true });
  return { driveId: drive.id, itemId: item.id, permissionId: p.id, role: p.roles.includes('write') ? 'write' : p.roles[0] ?? input.role };
}, async (input, { graph }) => {
  // "access colleague@contoso.com": the role the colleague's own permission on the item gives (null: none); sharing again only upgrades read to write.
  const { owner, drive, target, item } = await shareTarget(graph, input);
  const { items } = await listAll<{ roles: string[]; inheritedFrom?: unknown; grantedToV2?: { user?: { id?: string } }; grantedTo?: { user?: { id?: string } } }>(graph, `/drives/${drive.id}/items/${item.id}/permissions`);
  const own = items.filter((p) => !p.inheritedFrom && (p.grantedToV2?.user?.id ?? p.grantedTo?.user?.id) === target.id);
  const before = own.some((p) => p.roles.includes('write')) ? 'write' : own.some((p) => p.roles.includes('read')) ? 'read' : null;
  const after = before === 'write' ? 'write' : input.role === 'write' ? 'write' : (before ?? 'read');
  const object = `${oneDriveObject(owner)}${input.folder ? ` folder ${input.folder}` : ''}`;
  return before === after ? [] : [change(object, `access ${target.userPrincipalName}`, before, after, { objectId: item.id })];
});

/** A shortcut to add: the user, their drive, the site library's folder, the shortcut's name, and a lookup of a shortcut to it at the OneDrive's root. */
async function shortcutTo(graph: Client, input: InputOf<typeof c.onedriveAddShortcut>) {
  const user = await getUser(graph, input.user);
  const drive = await requireDrive({ graph }, user);
  const u = new URL(input.site);
  const site = await orNotFound(graph.api(`/sites/${u.host}:${u.pathname.replace(/\/+$/, '') || '/'}`).select('id,displayName').get() as Promise<{ id: string; displayName: string }>);
  if (!site) throw new ActionError(`there is no site at ${input.site}`, { code: 'SiteNotFound', status: 404 });
  const library = (await graph.api(`/sites/${site.id}/drive`).select('id').get()) as { id: string };
  const target = await itemAt({ graph }, library.id, input.folder);
  const name = input.name ?? (input.folder ? target.name : site.displayName);
  const existing = async () => {
    const children = (await graph.api(`/drives/${drive.id}/root/children`).top(999).get()) as { value: { id: string; name: string; remoteItem?: { id: string; parentReference?: { driveId?: string } } }[] };
    return children.value.find((x) => x.remoteItem?.id === target.id && x.remoteItem.parentReference?.driveId === library.id);
  };
  return { user, drive, library, target, name, existing };
}

export const onedriveAddShortcut = implement(c.onedriveAddShortcut, async (input, ctx) => {
  const { drive, library, target, name, existing } = await shortcutTo(ctx.graph, input);
  const had = await existing();
  if (had) return { shortcutId: had.id, name: had.name, added: false };
  try {
    const made = (await ctx.graph.api(`/drives/${drive.id}/root/children`).post({
      name,
      remoteItem: { id: target.id, parentReference: { driveId: library.id } },
      '@microsoft.graph.conflictBehavior': 'rename',
    })) as { id: string; name: string };
    return { shortcutId: made.id, name: made.name, added: true };
  } catch (err) {
    // An earlier attempt may have made it after we looked.
    if (statusOf(err) !== 409) throw err;
    const again = await existing();
    if (!again) throw err;
    return { shortcutId: again.id, name: again.name, added: false };
  }
}, async (input, { graph }) => {
  const { user, name, existing } = await shortcutTo(graph, input);
  if (await existing()) return [];
  const target = `${input.site.replace(/\/+$/, '')}${input.folder ? `/${input.folder}` : ''}`;
  return creation(`shortcut ${name} in ${oneDriveObject(user)}`, { name, target }, knownAfterRun('output.shortcutId'));
});
