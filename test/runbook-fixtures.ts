// Runbooks the unit tests share: the bundled onboarding example, and an edited copy of it.
import { readFileSync } from 'node:fs';
import { RunbookDefinition } from '../runbook/definition.ts';

export const onboarding = RunbookDefinition.parse(JSON.parse(readFileSync(new URL('../server/examples/onboarding.json', import.meta.url), 'utf8')));

/** The onboarding example with add_to_group removed, create_user's department set, and an end step added. */
export function editedOnboarding(): RunbookDefinition {
  const changed = structuredClone(onboarding);
  changed.nodes = changed.nodes.filter((n) => n.id !== 'add_to_group');
  changed.edges = changed.edges.filter((e) => e.source !== 'add_to_group' && e.target !== 'add_to_group');
  const create = changed.nodes.find((n) => n.id === 'create_user')!;
  if (create.kind === 'action') create.params.department = 'IT';
  changed.nodes.push({ id: 'notify', kind: 'end', status: 'succeeded' });
  return changed;
}
