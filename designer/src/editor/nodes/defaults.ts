// What a node of each kind starts as when it is dropped on the canvas or added to a loop
// (nodes/<kind>/defaults.ts); the store chooses its id.
import type { NodeKind } from '../../../../runbook/definition.ts';
import type { NodeDraft } from '../store.ts';
import { draft as action } from './action/defaults.ts';
import { draft as approval } from './approval/defaults.ts';
import { draft as condition } from './condition/defaults.ts';
import { draft as delay } from './delay/defaults.ts';
import { draft as end } from './end/defaults.ts';
import { draft as forEach } from './forEach/defaults.ts';
import { draft as subRunbook } from './subRunbook/defaults.ts';

const DRAFTS: Record<NodeKind, (action?: string) => NodeDraft> = { action, approval, condition, delay, end, forEach, subRunbook };

export function newNode(kind: NodeKind, action?: string): NodeDraft {
  return DRAFTS[kind](action);
}
