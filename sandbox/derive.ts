// Objects derived from a user's id (devices, sign-ins, drives): computed when asked for, never
// stored until changed, so a 100,000-user tenant costs nothing up front. Derived ids are the user's
// id XOR a mask, so an id leads back to its user without an index.
import { createRng, type Rng } from './prng.ts';

/** XORs every hex digit of a GUID with a 32-digit mask (version and variant digits masked with 0). */
export function maskGuid(id: string, mask: string): string {
  const hex = id.replace(/-/g, '').toLowerCase();
  let out = '';
  for (let i = 0; i < 32; i++) out += (parseInt(hex[i]!, 16) ^ parseInt(mask[i]!, 16)).toString(16);
  return `${out.slice(0, 8)}-${out.slice(8, 12)}-${out.slice(12, 16)}-${out.slice(16, 20)}-${out.slice(20)}`;
}

/** A byte (0-255) of an id, for cheap deterministic choices ("does this user have a Mac?"). */
export function idByte(id: string, index: number): number {
  const hex = id.replace(/-/g, '');
  return parseInt(hex.slice((index * 2) % 30, ((index * 2) % 30) + 2), 16);
}

/** A seeded random stream for one object, e.g. the sign-ins of one user. */
export function rngFor(id: string, salt: number): Rng {
  let h = salt >>> 0;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return createRng(h);
}

export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The user an id names when a `$filter` pins one (`userId eq '…'`, `userPrincipalName eq '…'`), so
 * collections derived per user do not walk the whole tenant for a one-user question.
 */
export function pinnedUserRef(filter: string | null, props: readonly string[]): string | undefined {
  // With an `or` (or a `not`) the pinned user is not the only answer.
  if (!filter || /\s(or|not)[\s(]/i.test(filter) || /^not[\s(]/i.test(filter)) return undefined;
  for (const prop of props) {
    const m = new RegExp(`(?:^|[\\s(])${prop.replace(/[/]/g, '\\/')}\\s+eq\\s+'([^']+)'`, 'i').exec(filter);
    if (m) return m[1]!.replace(/''/g, "'");
  }
  return undefined;
}
