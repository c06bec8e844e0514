// Tenantflow's own tags on users ("pilot", "leaver-2025"), kept in the tenant itself: an open
// extension named com.tenantflow.tags on the user (Microsoft Graph, User.ReadWrite.All), holding
// { tags: string[] }. Every worker process, and any other tool reading the tenant, sees the same
// tags; nothing about them lives on a worker's disk.
//
// Graph's rules for open extensions on directory objects shape this file: a PATCH replaces the whole
// extension (so the tags are always written as a whole list), an extension holds at most 2 KB, and
// extensions cannot be filtered on the server (finding users by tag reads every user's extensions
// with $expand=extensions and filters here). Two runs changing the same user's tags at the same
// instant write last-wins, as any read-modify-write of a Graph property does.
import type { Client } from '@microsoft/microsoft-graph-client';
import { ActionError, statusOf, type ServiceError } from '../m365/errors.ts';

export const TAGS_EXTENSION = 'com.tenantflow.tags';
/** Graph's limit for one open extension on a directory object, the definition included. */
const MAX_EXTENSION_BYTES = 2048;

export interface TagChange {
  add?: string[];
  remove?: string[];
  /** Remove every tag first (flush), then apply `add`. */
  clear?: boolean;
}

/** The tags of one tenant's users. */
export interface TagStore {
  /** The user's tags, sorted; [] when none. */
  get(userId: string): Promise<string[]>;
  /** Applies a change and returns the tags after it. Set semantics: safe to repeat. */
  update(userId: string, change: TagChange): Promise<string[]>;
  /** Object ids of the users carrying a tag (case-insensitive). */
  usersWithTag(tag: string): Promise<string[]>;
}

/** Tags compare case-insensitively and keep the spelling they were first given. */
export function applyTagChange(current: readonly string[], change: TagChange): string[] {
  const byKey = new Map<string, string>();
  if (!change.clear) for (const t of current) byKey.set(t.toLowerCase(), t);
  for (const t of change.remove ?? []) byKey.delete(t.trim().toLowerCase());
  for (const t of change.add ?? []) {
    const tag = t.trim();
    if (tag && !byKey.has(tag.toLowerCase())) byKey.set(tag.toLowerCase(), tag);
  }
  return [...byKey.values()].sort((a, b) => a.localeCompare(b));
}

interface Extension {
  id?: string;
  extensionName?: string;
  tags?: unknown;
}

const tagsOf = (ext: Extension | undefined): string[] => (Array.isArray(ext?.tags) ? ext.tags.filter((t): t is string => typeof t === 'string') : []);
const isTags = (ext: Extension) => (ext.id ?? ext.extensionName ?? '').toLowerCase() === TAGS_EXTENSION.toLowerCase();

/** The extension's body as Graph takes it on create and on (whole) update. */
function body(tags: string[]) {
  const b = { '@odata.type': '#microsoft.graph.openTypeExtension', extensionName: TAGS_EXTENSION, tags };
  if (Buffer.byteLength(JSON.stringify({ ...b, id: TAGS_EXTENSION })) > MAX_EXTENSION_BYTES)
    throw new ActionError(`these ${tags.length} tags do not fit in one user's tag extension (Microsoft Graph keeps at most 2 KB per open extension)`, {
      code: 'TooManyTags',
      hint: 'remove tags the user no longer needs, or use shorter tags',
    });
  return b;
}

/** Graph's answer when the extension exists already (another worker, or an earlier attempt, created it). */
const alreadyExists = (err: unknown) =>
  (statusOf(err) === 409 || statusOf(err) === 400) && /already exists/i.test((err as ServiceError).message ?? '');

/** The tags of the tenant `graph` is connected to, in each user's com.tenantflow.tags open extension. */
export function graphTagStore(graph: Client): TagStore {
  const path = (userId: string) => `/users/${encodeURIComponent(userId)}/extensions/${TAGS_EXTENSION}`;
  const read = async (userId: string): Promise<Extension | undefined> => {
    try {
      return (await graph.api(path(userId)).get()) as Extension;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };
  const write = async (userId: string, exists: boolean, tags: string[]): Promise<void> => {
    if (!exists) {
      try {
        await graph.api(`/users/${encodeURIComponent(userId)}/extensions`).post(body(tags));
        return;
      } catch (err) {
        if (!alreadyExists(err)) throw err;
      }
    }
    await graph.api(path(userId)).patch(body(tags));
  };
  return {
    async get(userId) {
      return [...tagsOf(await read(userId))].sort((a, b) => a.localeCompare(b));
    },
    async update(userId, change) {
      const ext = await read(userId);
      const before = tagsOf(ext);
      const after = applyTagChange(before, change);
      // Unchanged (a repeated step, or nothing to do): no write at all.
      if (JSON.stringify(after) === JSON.stringify([...before].sort((a, b) => a.localeCompare(b))) && (ext !== undefined || after.length === 0)) return after;
      if (after.length === 0) {
        try {
          await graph.api(path(userId)).delete();
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
        }
        return after;
      }
      await write(userId, ext !== undefined, after);
      return after;
    },
    async usersWithTag(tag) {
      const key = tag.trim().toLowerCase();
      const found: string[] = [];
      // Open extensions support no $filter: read every user's extensions and match here.
      let next: string | undefined = `/users?$select=id&$expand=extensions`;
      while (next) {
        const page = (await graph.api(next).get()) as { value: { id: string; extensions?: Extension[] }[]; '@odata.nextLink'?: string };
        for (const u of page.value) if (tagsOf(u.extensions?.find(isTags)).some((t) => t.toLowerCase() === key)) found.push(u.id);
        next = page['@odata.nextLink'];
      }
      return found;
    },
  };
}
