// Helpers for the `reverse` of action contracts: the undo steps built from what a step recorded.
import type { Change, InverseStep, Reversal } from './contract.ts';

export function undoWith(...steps: (InverseStep | undefined | false)[]): Reversal {
  return { steps: steps.filter((s): s is InverseStep => !!s) };
}

export function step(action: string, params: Record<string, unknown>, label?: string): InverseStep {
  return { action, params, ...(label ? { label } : {}) };
}

/** The recorded changes grouped by object id (changes without one are grouped by object name). */
export function byObject(changes: readonly Change[]): Map<string, Change[]> {
  const out = new Map<string, Change[]>();
  for (const c of changes) {
    const key = typeof c.objectId === 'string' ? c.objectId : c.object;
    out.set(key, [...(out.get(key) ?? []), c]);
  }
  return out;
}

/** The changes whose property starts with `prefix` ("member ", "licence "), with the rest of the property. */
export function related(changes: readonly Change[], prefix: string): { name: string; change: Change }[] {
  return changes.filter((c) => c.property.startsWith(prefix)).map((c) => ({ name: c.property.slice(prefix.length), change: c }));
}

/** Properties that had a value before (set back) and that were empty (cleared). */
export function restoreProperties(changes: readonly Change[], rename: Record<string, string> = {}): { set: Record<string, unknown>; clear: string[] } {
  const set: Record<string, unknown> = {};
  const clear: string[] = [];
  for (const c of changes) {
    const key = rename[c.property] ?? c.property;
    if (c.before === null || c.before === undefined || c.before === '') clear.push(key);
    else set[key] = c.before;
  }
  return { set, clear };
}

/** Notes of a deletion's change: whether deleted items keep the object (an undo can restore it). */
export const RESTORABLE_NOTE = 'kept in deleted items for 30 days, restorable';
export const GONE_NOTE = 'deleted for good: cannot be undone';
