// The action catalog: every contract, by id. The registry refuses duplicate ids.
import { z } from 'zod';
import * as ad from './actions/ad.ts';
import * as apps from './actions/apps.ts';
import { isOnPremisesAction, type ActionContract } from './contract.ts';
import * as authentication from './actions/authentication.ts';
import * as contacts from './actions/contacts.ts';
import * as devices from './actions/devices.ts';
import * as directory from './actions/directory.ts';
import * as distributionGroups from './actions/distributionGroups.ts';
import * as domains from './actions/domains.ts';
import * as groups from './actions/groups.ts';
import * as hybrid from './actions/hybrid.ts';
import * as investigation from './actions/investigation.ts';
import * as licences from './actions/licences.ts';
import * as mailbox from './actions/mailbox.ts';
import * as onedrive from './actions/onedrive.ts';
import * as sites from './actions/sites.ts';
import * as teams from './actions/teams.ts';
import * as notifications from './actions/notifications.ts';
import * as policies from './actions/policies.ts';
import * as reads from './actions/reads.ts';
import * as tags from './actions/tags.ts';
import * as users from './actions/users.ts';

const isContract = (v: unknown): v is ActionContract =>
  typeof v === 'object' && v !== null && 'id' in v && 'input' in v && 'output' in v && 'permissions' in v;

/** Every contract the modules of actions/ export, by area (then by export name). */
const all: ActionContract[] = [users, licences, groups, reads, authentication, directory, distributionGroups, mailbox, contacts, notifications, tags, investigation, devices, apps, domains, policies, teams, sites, onedrive, ad, hybrid].flatMap(
  (m) => Object.values(m).filter(isContract),
);

export function buildCatalog(actions: readonly ActionContract[]): ReadonlyMap<string, ActionContract> {
  const map = new Map<string, ActionContract>();
  for (const a of actions) {
    if (map.has(a.id)) throw new Error(`duplicate action id ${a.id}`);
    if ((a.category === 'ad') !== isOnPremisesAction(a.id)) throw new Error(`action ${a.id}: on-premises actions are exactly the category ad, with ids ad.*`);
    map.set(a.id, a);
  }
  for (const a of actions) {
    if (a.undo && !map.has(a.undo)) throw new Error(`action ${a.id} names an undo action ${a.undo} that does not exist`);
  }
  return map;
}

export const catalog: ReadonlyMap<string, ActionContract> = buildCatalog(all);

export function getAction(id: string): ActionContract | undefined {
  return catalog.get(id);
}

/** Every Graph application permission the whole catalog needs (for the README and tenant checks). */
export function requiredPermissions(): string[] {
  return [...new Set([...catalog.values()].flatMap((a) => [...a.permissions, ...(a.otherPermissions ?? [])]))].sort();
}

export interface PermissionEntry {
  /** e.g. User.ReadWrite.All */
  permission: string;
  /** The API that grants it, as the Entra portal names it under "API permissions". */
  api: 'Microsoft Graph' | 'Office 365 Exchange Online' | 'Office 365 SharePoint Online';
  /** Action ids that need it. */
  actions: string[];
}

const EXCHANGE_PERMISSIONS = new Set(['Exchange.ManageAsApp']);

/** SharePoint's own application permissions are written "SharePoint/Sites.FullControl.All" (Graph has a namesake). */
function apiOf(p: string): PermissionEntry['api'] {
  if (EXCHANGE_PERMISSIONS.has(p)) return 'Office 365 Exchange Online';
  if (p.startsWith('SharePoint/')) return 'Office 365 SharePoint Online';
  return 'Microsoft Graph';
}

/** The permission manifest: each application permission, the API it belongs to, and the actions needing it. */
export function permissionManifest(): PermissionEntry[] {
  const byPermission = new Map<string, PermissionEntry>();
  for (const a of catalog.values()) {
    for (const p of [...a.permissions, ...(a.otherPermissions ?? [])]) {
      const entry = byPermission.get(p) ?? { permission: p, api: apiOf(p), actions: [] };
      entry.actions.push(a.id);
      byPermission.set(p, entry);
    }
  }
  return [...byPermission.values()].sort((a, b) => a.api.localeCompare(b.api) || a.permission.localeCompare(b.permission));
}

export interface CatalogEntry {
  id: string;
  title: string;
  category: string;
  description: string;
  permissions: string[];
  otherPermissions: string[];
  bulk: boolean;
  undo: string | null;
  /** The action reads only: it needs no plan, and a plan runs it for real. */
  readOnly: boolean;
  /** An undo runbook can reverse it (from its `reverse`, or its `undo` action). */
  reversible: boolean;
  /** Why it can never be undone, if so. */
  irreversible: string | null;
  secretFields: string[];
  /** Rights the AD connection's bind account needs (on-premises actions). */
  adRights: string[];
  /** JSON Schema of the parameters (what a form submits: defaults make fields optional). */
  input: Record<string, unknown>;
  /** JSON Schema of the output (what steps.<id>.output holds). */
  output: Record<string, unknown>;
}

/** The catalog as JSON, for GET /api/actions and `tenantflow actions list --json`. */
export function catalogJson(): CatalogEntry[] {
  return [...catalog.values()].map((a) => ({
    id: a.id,
    title: a.title,
    category: a.category,
    description: a.description,
    permissions: a.permissions,
    otherPermissions: a.otherPermissions ?? [],
    bulk: a.bulk,
    undo: a.undo ?? null,
    readOnly: a.readOnly ?? false,
    reversible: !a.irreversible && !!(a.reverse ?? a.undo),
    irreversible: a.irreversible ?? null,
    secretFields: a.secretFields ?? [],
    adRights: a.adRights ?? [],
    input: z.toJSONSchema(a.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    output: z.toJSONSchema(a.output, { unrepresentable: 'any' }) as Record<string, unknown>,
  }));
}

export type { ActionContract } from './contract.ts';
