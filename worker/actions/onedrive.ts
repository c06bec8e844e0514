// Handlers of the OneDrive actions (catalog/actions/onedrive.ts): a user's OneDrive is found through
// Graph (GET /users/{id}/drive); its administration (owners, quota, provisioning) goes through SharePoint
// REST on the -admin host; sharing and shortcuts through Graph drives.
import * as c from '../../catalog/actions/onedrive.ts';
import { implement, type ActionContext } from '../activity.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { getUser, listAll, orNotFound, type GraphUser } from './shared.ts';
import { requireSite, setQuota, setSiteAdmin } from './sites.ts';
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

const driveOf = (ctx: ActionContext, userId: string): Promise<Drive | undefined> =>
  orNotFound(ctx.graph.api(`/users/${userId}/drive`).select('id,webUrl,quota').get() as Promise<Drive>);

/** The OneDrive's site address: the drive's webUrl without its library (…/personal/anna_contoso_com). */
const siteUrlOf = (drive: Drive): string => drive.webUrl.replace(/\/[^/]+\/?$/, '');

async function requireDrive(ctx: ActionContext, user: GraphUser): Promise<Drive> {
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

export const onedriveProvision = implement(c.onedriveProvision, async (input, ctx) => {
  const users: GraphUser[] = [];
  for (const ref of input.users) users.push(await getUser(ctx.graph, ref, 'id,userPrincipalName,assignedPlans,userType'));
  const skipped: { user: string; reason: string }[] = [];
  const already: string[] = [];
  const provisioned: { user: string; url: string }[] = [];
  const queue: GraphUser[] = [];
  for (const u of users) {
    const plans = (u['assignedPlans'] as { servicePlanId: string; capabilityStatus: string }[] | undefined) ?? [];
    if (!plans.some((p) => p.capabilityStatus === 'Enabled' && ONEDRIVE_PLANS.has(p.servicePlanId))) {
      skipped.push({ user: u.userPrincipalName, reason: 'no licence with SharePoint Online or OneDrive' });
      continue;
    }
    const d = await driveOf(ctx, u.id);
    if (d) {
      already.push(u.userPrincipalName);
      provisioned.push({ user: u.userPrincipalName, url: siteUrlOf(d) });
    } else queue.push(u);
  }
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
});

async function oneDriveSite(ctx: ActionContext, ref: string) {
  const user = await getUser(ctx.graph, ref);
  const drive = await requireDrive(ctx, user);
  return { user, drive, props: await requireSite(ctx, siteUrlOf(drive)) };
}

export const onedriveAddOwner = implement(c.onedriveAddOwner, async (input, ctx) => {
  const { props } = await oneDriveSite(ctx, input.user);
  const owner = await getUser(ctx.graph, input.owner);
  return { url: props.Url, owner: owner.userPrincipalName, changed: await setSiteAdmin(ctx, props.Url, owner, true) };
});

export const onedriveRemoveOwner = implement(c.onedriveRemoveOwner, async (input, ctx) => {
  const { user, props } = await oneDriveSite(ctx, input.user);
  const owner = await getUser(ctx.graph, input.owner);
  if (owner.id === user.id) throw new ActionError(`${user.userPrincipalName} owns this OneDrive and cannot be removed from it`, { code: 'InvalidInput', hint: 'name an additional owner' });
  return { url: props.Url, owner: owner.userPrincipalName, changed: await setSiteAdmin(ctx, props.Url, owner, false) };
});

export const onedriveSetQuota = implement(c.onedriveSetQuota, async (input, ctx) => {
  const { props } = await oneDriveSite(ctx, input.user);
  return setQuota(ctx, props, input.storageMaximumMB, input.storageWarningMB);
});

/** A folder of a drive by path (a/b/c, names compared as SharePoint does: case-insensitively), or the root. */
async function itemAt(ctx: ActionContext, driveId: string, path: string | undefined): Promise<{ id: string; name: string }> {
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

export const onedriveShareWith = implement(c.onedriveShareWith, async (input, ctx) => {
  const owner = await getUser(ctx.graph, input.user);
  const drive = await requireDrive(ctx, owner);
  const target = await getUser(ctx.graph, input.with);
  const item = await itemAt(ctx, drive.id, input.folder);
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
});

export const onedriveAddShortcut = implement(c.onedriveAddShortcut, async (input, ctx) => {
  const user = await getUser(ctx.graph, input.user);
  const drive = await requireDrive(ctx, user);
  const u = new URL(input.site);
  const site = await orNotFound(ctx.graph.api(`/sites/${u.host}:${u.pathname.replace(/\/+$/, '') || '/'}`).select('id,displayName').get() as Promise<{ id: string; displayName: string }>);
  if (!site) throw new ActionError(`there is no site at ${input.site}`, { code: 'SiteNotFound', status: 404 });
  const library = (await ctx.graph.api(`/sites/${site.id}/drive`).select('id').get()) as { id: string };
  const target = await itemAt(ctx, library.id, input.folder);
  const name = input.name ?? (input.folder ? target.name : site.displayName);
  const existing = async () => {
    const children = (await ctx.graph.api(`/drives/${drive.id}/root/children`).top(999).get()) as { value: { id: string; name: string; remoteItem?: { id: string; parentReference?: { driveId?: string } } }[] };
    return children.value.find((x) => x.remoteItem?.id === target.id && x.remoteItem.parentReference?.driveId === library.id);
  };
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
});
