// Get/Add/Remove-UnifiedGroupLinks: members, owners and subscribers of a Microsoft 365 group as
// Exchange sees them. Members and owners are the directory's (the same ones Graph reads and writes);
// subscribers (who get the group's conversations and events in their own inbox) exist only in Exchange.
// EXO's rules: owners and subscribers must be members first, an owner is removed as owner before as
// member, and leaving the group ends the subscription.
import type { Group } from '../store.ts';
import { ExoError, invalidParam, multi, notFoundExo, registerCmdlets, str, type CmdletParams, type ExoCtx } from './invoke.ts';
import { recipientView, resolveRecipient, resolveTrustee } from './recipients.ts';

type LinkType = 'Members' | 'Owners' | 'Subscribers';
const LINK_TYPES: LinkType[] = ['Members', 'Owners', 'Subscribers'];

function unifiedGroup(ctx: ExoCtx, identity: unknown): Group {
  const r = resolveRecipient(ctx, identity);
  if (r.kind !== 'group' || !r.group.groupTypes.includes('Unified')) throw notFoundExo(identity, ctx);
  return r.group;
}

function linkType(p: CmdletParams): LinkType {
  const raw = str(p, 'LinkType', true)!;
  const t = LINK_TYPES.find((x) => x.toLowerCase() === raw.toLowerCase());
  if (!t) throw invalidParam('LinkType', `Cannot convert value "${raw}" to type LinkType. Valid values: ${LINK_TYPES.join(', ')}, Aggregators, EventSubscribers.`);
  return t;
}

const subscribersOf = (ctx: ExoCtx, group: Group): Set<string> =>
  new Set(ctx.store.tenantState<Record<string, string[]>>('exchange.groupSubscribers', () => ({}))[group.id] ?? []);

function setSubscribers(ctx: ExoCtx, group: Group, ids: Set<string>): void {
  ctx.store.tenantState<Record<string, string[]>>('exchange.groupSubscribers', () => ({}))[group.id] = [...ids];
}

/** Current links; a subscriber who has left the group (through Graph too) is no longer one. */
function links(ctx: ExoCtx, group: Group, type: LinkType): Set<string> {
  if (type === 'Members') return ctx.store.membersOf(group.id);
  if (type === 'Owners') return ctx.store.ownersOf(group.id);
  const members = ctx.store.membersOf(group.id);
  return new Set([...subscribersOf(ctx, group)].filter((id) => members.has(id)));
}

function linkIds(ctx: ExoCtx, p: CmdletParams): string[] {
  const raw = multi(p, 'Links');
  const refs = raw ? [...(raw.set ?? []), ...raw.add] : [];
  if (!refs.length) throw invalidParam('Links', "Cannot validate argument on parameter 'Links'. The argument is null or empty.");
  return refs.map((x) => resolveTrustee(ctx, x).id);
}

function notMembers(ctx: ExoCtx, group: Group, ids: string[], what: string): void {
  const members = ctx.store.membersOf(group.id);
  const outside = ids.filter((id) => !members.has(id)).map((id) => ctx.store.userById(id)?.userPrincipalName ?? id);
  if (outside.length)
    throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `Only members can be ${what} of the group "${group.displayName}". These are not members: ${outside.join(', ')}.`);
}

/** Adds (true) or removes (false) one link, with the directory's audit op. */
function change(ctx: ExoCtx, group: Group, type: LinkType, id: string, add: boolean): void {
  if (type === 'Subscribers') {
    const subs = links(ctx, group, type);
    if (add) subs.add(id);
    else subs.delete(id);
    setSubscribers(ctx, group, subs);
  } else if (type === 'Members') {
    if (add) ctx.store.addMember(group.id, id);
    else ctx.store.removeMember(group.id, id);
  } else if (add) ctx.store.addOwner(group.id, id);
  else ctx.store.removeOwner(group.id, id);
  ctx.mutated(`group.${add ? 'add' : 'remove'}${type.slice(0, -1)}`, group.id, id);
}

registerCmdlets({
  'Get-UnifiedGroupLinks': {
    params: ['Identity', 'LinkType', 'ResultSize'],
    run: (ctx, p) => {
      const group = unifiedGroup(ctx, str(p, 'Identity', true));
      return [...links(ctx, group, linkType(p))].map((id) => recipientView(ctx, resolveRecipient(ctx, id)));
    },
  },
  'Add-UnifiedGroupLinks': { params: ['Identity', 'LinkType', 'Links'], run: (ctx, p) => {
    const group = unifiedGroup(ctx, str(p, 'Identity', true));
    const type = linkType(p);
    const ids = linkIds(ctx, p);
    if (type !== 'Members') notMembers(ctx, group, ids, type.toLowerCase());
    const current = new Set(links(ctx, group, type));
    for (const id of ids) if (!current.has(id)) change(ctx, group, type, id, true);
  } },
  'Remove-UnifiedGroupLinks': { params: ['Identity', 'LinkType', 'Links'], run: (ctx, p) => {
    const group = unifiedGroup(ctx, str(p, 'Identity', true));
    const type = linkType(p);
    const ids = linkIds(ctx, p);
    if (type === 'Members') {
      const owners = ctx.store.ownersOf(group.id);
      const owning = ids.filter((id) => owners.has(id));
      if (owning.length)
        throw new ExoError(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', `Only members who are not owners can be removed from the group "${group.displayName}". Remove them as owners first: ${owning.map((id) => ctx.store.userById(id)?.userPrincipalName ?? id).join(', ')}.`);
    }
    const current = new Set(links(ctx, group, type));
    for (const id of ids) if (current.has(id)) change(ctx, group, type, id, false);
  } },
});
