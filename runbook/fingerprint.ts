// Fingerprints that people can recompute: the hash of a runbook version (which exact definition a
// run ran) and the links of the audit log's hash chain. Canonical JSON (keys sorted, undefined
// left out) so the same value always hashes the same, in the server, the CLI and a script.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level; undefined members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** "sha256:<hex>" of a runbook definition: the same version always gives the same hash. */
export function definitionHash(definition: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(definition))}`;
}

/** The previous hash of the first entry of the chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an audit entry that its hash covers (null and absent are the same). */
export interface ChainedFields {
  id: number;
  at: string;
  actor: string;
  action: string;
  target?: string | null;
  tenant?: string | null;
  detail?: unknown;
  ip?: string | null;
  userAgent?: string | null;
}

/** hash(n) = sha256(hash(n-1) + "\n" + canonical JSON of entry n). */
export function auditEntryHash(prevHash: string, e: ChainedFields): string {
  const fields = {
    id: e.id,
    at: new Date(e.at).toISOString(),
    actor: e.actor,
    action: e.action,
    target: e.target ?? undefined,
    tenant: e.tenant ?? undefined,
    detail: e.detail ?? undefined,
    ip: e.ip ?? undefined,
    userAgent: e.userAgent ?? undefined,
  };
  return sha256Hex(`${prevHash}\n${canonicalJson(fields)}`);
}

export interface ChainedEntry extends ChainedFields {
  prevHash?: string | null;
  hash?: string | null;
}

export type ChainCheck =
  | { ok: true; entries: number; head: string; firstId?: number; lastId?: number }
  | { ok: false; entries: number; brokenAt: number; reason: string; expected?: string; found?: string | null };

/**
 * Checks entries in id order, starting after `prevHash` (the genesis, or the hash of the entry
 * before the first one given): each must name its predecessor's hash and hash to its own.
 */
export function verifyChain(entries: ChainedEntry[], prevHash = GENESIS_HASH, counted = 0): ChainCheck {
  let prev = prevHash;
  let n = counted;
  for (const e of entries) {
    n++;
    if (e.prevHash !== prev)
      return { ok: false, entries: n, brokenAt: e.id, reason: `entry ${e.id} does not follow the entry before it (a removed, inserted or reordered entry)`, expected: prev, found: e.prevHash ?? null };
    const hash = auditEntryHash(prev, e);
    if (e.hash !== hash) return { ok: false, entries: n, brokenAt: e.id, reason: `entry ${e.id} was changed after it was written`, expected: hash, found: e.hash ?? null };
    prev = hash;
  }
  return { ok: true, entries: n, head: prev, firstId: entries[0]?.id, lastId: entries.at(-1)?.id };
}
