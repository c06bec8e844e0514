// The action catalog: every contract, by id. The registry refuses duplicate ids.
import type { ActionContract } from './contract.ts';
import { groupAddMember } from './actions/group.addMember.ts';
import { licenceAssign } from './actions/licence.assign.ts';
import { userCreate } from './actions/user.create.ts';

const all: ActionContract[] = [userCreate, licenceAssign, groupAddMember];

export const catalog: ReadonlyMap<string, ActionContract> = (() => {
  const map = new Map<string, ActionContract>();
  for (const a of all) {
    if (map.has(a.id)) throw new Error(`duplicate action id ${a.id}`);
    map.set(a.id, a);
  }
  return map;
})();

export function getAction(id: string): ActionContract | undefined {
  return catalog.get(id);
}

/** Every Graph application permission the whole catalog needs (for the README and tenant checks). */
export function requiredPermissions(): string[] {
  return [...new Set([...catalog.values()].flatMap((a) => [...a.permissions, ...(a.otherPermissions ?? [])]))].sort();
}

export type { ActionContract } from './contract.ts';
