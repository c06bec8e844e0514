// Tenantflow's own tags on users ("pilot", "leaver-2025"): kept by Tenantflow, never written to
// Entra. The tags.* actions depend only on this interface; the worker gets an implementation
// injected (the control plane's database in production) and falls back to a JSON file.
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface TagChange {
  add?: string[];
  remove?: string[];
  /** Remove every tag first (flush), then apply `add`. */
  clear?: boolean;
}

export interface TagStore {
  /** The user's tags in that tenant connection, sorted; [] when none. */
  get(tenant: string, userId: string): Promise<string[]>;
  /** Applies a change atomically and returns the tags after it. Set semantics: safe to repeat. */
  update(tenant: string, userId: string, change: TagChange): Promise<string[]>;
  /** Object ids of the users carrying a tag (case-insensitive). */
  usersWithTag(tenant: string, tag: string): Promise<string[]>;
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

type TagFile = Record<string, Record<string, string[]>>;

/** A TagStore in one JSON file, written atomically after each change (one process at a time). */
export function fileTagStore(file: string): TagStore {
  let data: TagFile;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as TagFile;
  } catch {
    data = {};
  }
  let queue: Promise<unknown> = Promise.resolve();
  const persist = async (): Promise<void> => {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(data, null, 2));
    await rename(tmp, file);
  };
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    async get(tenant, userId) {
      return [...(data[tenant]?.[userId.toLowerCase()] ?? [])];
    },
    update(tenant, userId, change) {
      return serial(async () => {
        const users = (data[tenant] ??= {});
        const id = userId.toLowerCase();
        const after = applyTagChange(users[id] ?? [], change);
        if (after.length) users[id] = after;
        else delete users[id];
        await persist();
        return [...after];
      });
    },
    async usersWithTag(tenant, tag) {
      const key = tag.trim().toLowerCase();
      return Object.entries(data[tenant] ?? {})
        .filter(([, tags]) => tags.some((t) => t.toLowerCase() === key))
        .map(([id]) => id);
    },
  };
}

/** The default store: TENANTFLOW_TAGS_FILE, or tags.json in the data folder (TENANTFLOW_DATA, default ./data). */
export function defaultTagStore(env: NodeJS.ProcessEnv = process.env): TagStore {
  return fileTagStore(env.TENANTFLOW_TAGS_FILE ?? join(env.TENANTFLOW_DATA ?? 'data', 'tags.json'));
}
