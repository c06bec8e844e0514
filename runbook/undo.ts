// The undo runbook of a finished run (docs/plan.md): the inverse of each write step, in reverse
// order of completion, built from the action's `reverse` (or its `undo` action) and the
// before-values the step recorded. What cannot be undone is listed with the reason, in the draft's
// description and in the answer, never dropped. Pure: the server gathers the run's steps.
import type { z } from 'zod';
import { changesIn, CHANGES_TRUNCATED_KEY, type ActionContract, type InverseStep, type Reversal } from '../catalog/contract.ts';
import type { ApprovalNode, NodeState, RunbookDefinition, RunbookDefinitionInput } from './definition.ts';
import { isSealed } from './secrets.ts';

/** One step of the run (or of one item of a loop in it), as the run state has it. */
export interface UndoSourceStep {
  state: NodeState;
  /** The action, for action steps. */
  action?: string;
  /** The loop item it belongs to: the forEach step and the item's index. */
  item?: { loop: string; index: number };
}

export interface UndoSource {
  runId: string;
  definition: RunbookDefinition;
  steps: UndoSourceStep[];
  /** Loops whose items could not all be read, with why. */
  unreadItems?: { loop: string; reason: string }[];
}

export type UndoOutcome = 'undone' | 'nothing-to-undo' | 'irreversible' | 'not-recorded' | 'failed-step' | 'review';

export interface UndoEntry {
  /** The step of the original run (with the item for loop steps). */
  nodeId: string;
  item?: number;
  action: string;
  outcome: UndoOutcome;
  /** Why it is not (or not fully) undone, or what to check. */
  reason?: string;
  /** Ids of the undo runbook's steps that reverse it. */
  undoSteps: string[];
}

export interface UndoDraft {
  /** The draft runbook; undefined when nothing can be undone. */
  definition?: RunbookDefinitionInput;
  entries: UndoEntry[];
}

const WRITTEN = new Set(['succeeded']);

type Catalog = (id: string) => ActionContract | undefined;

/** The step's input as its action parsed it (defaults filled); the raw input when it does not parse (sealed secrets). */
function parsedInput(contract: ActionContract, input: unknown): unknown {
  const r = contract.input.safeParse(input);
  return r.success ? r.data : input;
}

/** The `undo` action called with the step's own parameters, where that action accepts them. */
function sameParams(contract: ActionContract, undo: ActionContract, input: unknown): Reversal {
  const shape = (undo.input as unknown as { shape?: Record<string, z.ZodType> }).shape;
  const given = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const params = shape ? Object.fromEntries(Object.entries(given).filter(([k, v]) => k in shape && !isSealed(v))) : given;
  const ok = undo.input.safeParse(params);
  if (!ok.success) return { irreversible: `its undo action ${undo.id} needs parameters that cannot be derived from the step (${ok.error.issues.map((i) => i.path.join('.') || i.message).join(', ')})` };
  return { steps: [{ action: undo.id, params, label: `${undo.title} (parameters of ${contract.id}: review)` }], note: 'review: the parameters are copied from the original step' };
}

function reversalOf(contract: ActionContract, catalog: Catalog, s: UndoSourceStep): { reversal?: Reversal; entry?: Omit<UndoEntry, 'nodeId' | 'action' | 'undoSteps'> } {
  const output = s.state.output;
  const recorded = changesIn(output);
  const truncated = (output as Record<string, unknown> | undefined)?.[CHANGES_TRUNCATED_KEY];
  if (recorded && recorded.length === 0) return { entry: { outcome: 'nothing-to-undo', reason: 'it changed nothing' } };
  if (contract.irreversible) return { entry: { outcome: 'irreversible', reason: contract.irreversible } };
  const input = parsedInput(contract, s.state.input);
  if (contract.reverse) {
    if (!recorded) return { entry: { outcome: 'not-recorded', reason: 'the step recorded no before-state, so what to put back is not known' } };
    const reversal = contract.reverse({ input, output, changes: recorded });
    if (typeof truncated === 'number' && 'steps' in reversal)
      return { reversal: { ...reversal, note: `${reversal.note ? `${reversal.note}; ` : ''}${truncated} more changes were not recorded and are not undone` } };
    return { reversal };
  }
  const undo = contract.undo ? catalog(contract.undo) : undefined;
  if (undo) return { reversal: sameParams(contract, undo, input) };
  return { entry: { outcome: 'irreversible', reason: `no undo is declared for ${contract.id}` } };
}

const safeId = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

export function buildUndo(src: UndoSource, catalog: Catalog): UndoDraft {
  const entries: UndoEntry[] = [];
  const nodes: NonNullable<RunbookDefinitionInput['nodes']> = [];
  const writes = src.steps
    .filter((s) => s.state.kind === 'action' && s.action)
    .sort((a, b) => Date.parse(b.state.endedAt ?? '') - Date.parse(a.state.endedAt ?? '') || (b.item?.index ?? 0) - (a.item?.index ?? 0));
  for (const s of writes) {
    const contract = catalog(s.action!);
    if (!contract || contract.readOnly) continue;
    const base = { nodeId: s.state.id, ...(s.item ? { item: s.item.index } : {}), action: contract.id, undoSteps: [] as string[] };
    if (!WRITTEN.has(s.state.status)) {
      if (s.state.status === 'failed')
        entries.push({ ...base, outcome: 'failed-step', reason: 'the step failed; whatever it changed before failing was not recorded: check by hand' });
      continue;
    }
    const { reversal, entry } = reversalOf(contract, catalog, s);
    if (entry) {
      entries.push({ ...base, ...entry });
      continue;
    }
    if (!reversal || 'irreversible' in reversal) {
      entries.push({ ...base, outcome: 'irreversible', reason: reversal?.irreversible });
      continue;
    }
    if (reversal.steps.length === 0) {
      entries.push({ ...base, outcome: 'nothing-to-undo', reason: 'nothing it changed needs putting back' });
      continue;
    }
    const prefix = `undo_${safeId(s.state.id)}${s.item ? `_${s.item.index}` : ''}`;
    reversal.steps.forEach((step: InverseStep, i) => {
      const id = reversal.steps.length > 1 ? `${prefix}_${i + 1}` : prefix;
      base.undoSteps.push(id);
      nodes.push({
        id,
        kind: 'action',
        action: step.action,
        params: step.params,
        label: step.label ? step.label[0]!.toUpperCase() + step.label.slice(1) : `Undo ${s.state.id}`,
        description: `Undoes step ${s.state.id}${s.item ? ` (item ${s.item.index + 1} of loop ${s.item.loop})` : ''} of run ${src.runId} (${contract.id})`,
      });
    });
    const review = reversal.note?.startsWith('review');
    entries.push({ ...base, outcome: review ? 'review' : 'undone', ...(reversal.note ? { reason: reversal.note } : {}) });
  }
  for (const u of src.unreadItems ?? []) entries.push({ nodeId: u.loop, action: 'forEach', outcome: 'not-recorded', reason: u.reason, undoSteps: [] });
  if (nodes.length === 0) return { entries };

  // Undoing what needed an approval needs one too: the first approval's approvers decide.
  const approval = src.definition.nodes.find((n): n is ApprovalNode => n.kind === 'approval');
  const chain = [...(approval ? ['approve_undo'] : []), ...nodes.map((n) => n.id)];
  if (approval)
    nodes.unshift({
      id: 'approve_undo',
      kind: 'approval',
      label: 'Approve the undo',
      approvers: approval.approvers,
      message: `Undo run ${src.runId} of "${src.definition.name}": ${nodes.length} step(s) put back what it changed.`,
    });
  const notUndone = entries.filter((e) => e.outcome === 'irreversible' || e.outcome === 'not-recorded' || e.outcome === 'failed-step');
  const review = entries.filter((e) => e.outcome === 'review' || (e.outcome === 'undone' && e.reason));
  const line = (e: UndoEntry) => `- ${e.nodeId}${e.item !== undefined ? ` (item ${e.item + 1})` : ''} (${e.action}): ${e.reason}`;
  const description = [
    `Generated from run ${src.runId} of "${src.definition.name}": the inverse of each change it made, newest first. Review it, publish it, then run it (it has its own plan).`,
    ...(notUndone.length ? ['Not undone by this runbook:', ...notUndone.map(line)] : []),
    ...(review.length ? ['To review:', ...review.map(line)] : []),
  ].join('\n');
  return {
    definition: {
      schemaVersion: 1,
      name: `Undo: ${src.definition.name} (${src.runId})`.slice(0, 200),
      description,
      inputs: [],
      nodes,
      edges: chain.slice(1).map((target, i) => ({ source: chain[i]!, sourceHandle: i === 0 && approval ? 'approved' : 'out', target })),
    },
    entries,
  };
}
