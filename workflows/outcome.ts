// How a run ended, in one word everyone uses: succeeded, succeeded with warnings, partially
// failed, failed, rejected, cancelled or timed out. A pure function of the graph and the node
// states, free of Temporal, so the interpreter and its unit tests (test/outcome.test.ts) share it.
import type { ItemResult, LoopProgress, NodeState, Outcome, RunbookEdge, RunbookNode } from '../runbook/definition.ts';

export interface Ending {
  /** The run was ended by a step (an end node, onError "fail", an abort) or by an unexpected error. */
  ended?: { status: 'succeeded' | 'failed'; message: string; nodeId?: string };
  unexpected?: string;
}

export interface RunOutcome {
  status: Outcome;
  message: string;
  warnings: string[];
}

/** Item warnings listed one by one before they are only counted. */
const ITEM_WARNINGS = 20;

export function outcomeOf(graph: { nodes: RunbookNode[]; edges: RunbookEdge[] }, states: Record<string, NodeState>, ending: Ending = {}): RunOutcome {
  const warnings = warningsOf(states);
  if (ending.unexpected !== undefined) return { status: 'failed', message: ending.unexpected, warnings };
  const { ended } = ending;
  if (ended?.status === 'failed') {
    const culprit = ended.nodeId ? states[ended.nodeId] : undefined;
    return { status: culprit?.error?.type === 'Timeout' ? 'timed-out' : 'failed', message: ended.message, warnings };
  }
  const base = ended?.message;

  const refusal = refusalOf(graph, states);
  if (refusal) {
    const out = refusal.output as { decidedBy?: string; comment?: string | null; timedOut?: boolean } | undefined;
    const head = out?.timedOut
      ? `nobody decided on ${refusal.id} in time`
      : `rejected at ${refusal.id}${out?.decidedBy ? ` by ${out.decidedBy}` : ''}${out?.comment ? `: “${out.comment}”` : ''}`;
    return { status: out?.timedOut ? 'timed-out' : 'rejected', message: base && base !== 'completed' ? `${head} (${base})` : head, warnings };
  }

  // A sub-runbook refused (its approval said no, or nobody decided in time) refuses this run too.
  const refusedChild = Object.values(states).find((n) => n.kind === 'subRunbook' && n.status === 'succeeded' && (n.child?.status === 'rejected' || n.child?.status === 'timed-out'));
  if (refusedChild) {
    const head = `sub-runbook ${refusedChild.child!.runbook} at ${refusedChild.id}: ${refusedChild.child!.message ?? refusedChild.child!.status}`;
    return { status: refusedChild.child!.status as 'rejected' | 'timed-out', message: head, warnings };
  }

  const loops = Object.values(states).filter((n) => n.kind === 'forEach' && (n.progress?.failed ?? 0) > 0);
  // A sub-runbook that partially failed leaves this run partially failed.
  const partial = Object.values(states).filter((n) => n.kind === 'subRunbook' && n.status === 'succeeded' && n.child?.status === 'partially-failed');
  if (loops.length || partial.length) {
    const head = [
      ...loops.map((n) => `${n.progress!.failed} of ${n.progress!.total} items of ${n.id} failed`),
      ...partial.map((n) => `sub-runbook ${n.child!.runbook} at ${n.id} partially failed: ${n.child!.message ?? ''}`.trimEnd()),
    ].join('; ');
    return { status: 'partially-failed', message: base && base !== 'completed' ? `${head} (${base})` : head, warnings };
  }
  if (warnings.length) {
    const head = `${base ?? 'completed'} with ${warnings.length} warning${warnings.length > 1 ? 's' : ''}`;
    return { status: 'succeeded-with-warnings', message: head, warnings };
  }
  return { status: 'succeeded', message: base ?? 'completed', warnings };
}

/** Every warning, step by step in the order they started: failures continued past or routed, skipped failures, actions' warnings, loop items. */
export function warningsOf(states: Record<string, NodeState>): string[] {
  const out: string[] = [];
  const ordered = Object.values(states).sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
  for (const n of ordered) {
    if (n.kind === 'forEach') {
      out.push(...loopWarnings(n));
    } else if (n.status === 'failed' && n.error) {
      out.push(`step ${n.id} failed and the run went on${n.handle === 'error' ? ' (error branch)' : ''}: ${n.error.message}`);
    } else if (n.status === 'skipped' && n.error) {
      out.push(`step ${n.id} failed and an operator skipped it: ${n.error.message}`);
    }
    for (const w of n.warnings ?? []) out.push(`step ${n.id}: ${w}`);
  }
  return out;
}

function loopWarnings(n: NodeState): string[] {
  const result = n.output as { items?: ItemResult[] } | undefined;
  const p: LoopProgress | undefined = n.progress;
  if (!p || n.status !== 'succeeded') return [];
  const notable = (result?.items ?? []).filter((i) => i.status !== 'succeeded' || (i.outcome && i.outcome !== 'succeeded'));
  const lines = notable.slice(0, ITEM_WARNINGS).map((i) => `step ${n.id}, item ${i.index + 1}: ${i.status === 'failed' ? `failed: ${i.error ?? 'no reason given'}` : (i.outcome ?? i.status).replace(/-/g, ' ')}`);
  const counted = p.failed + (p.warned ?? 0);
  if (counted > lines.length) lines.push(`step ${n.id}: ${counted - lines.length} more item(s) failed or ended with warnings (see the item list)`);
  return lines;
}

/**
 * The approval whose "no" (or timeout) the run ended on: it took its rejected / timeout handle,
 * nothing downstream of its approved handle ran, and no later approval on its path said yes.
 */
function refusalOf(graph: { nodes: RunbookNode[]; edges: RunbookEdge[] }, states: Record<string, NodeState>): NodeState | undefined {
  const ran = (id: string) => {
    const s = states[id]?.status;
    return s !== undefined && s !== 'pending' && s !== 'skipped';
  };
  const candidates = graph.nodes
    .filter((n) => n.kind === 'approval')
    .map((n) => states[n.id])
    .filter((s): s is NodeState => s?.status === 'succeeded' && (s.handle === 'rejected' || s.handle === 'timeout'))
    .sort((a, b) => (b.endedAt ?? '').localeCompare(a.endedAt ?? ''));
  for (const s of candidates) {
    const onYes = downstream(graph.edges, s.id, 'approved');
    if ([...onYes].some(ran)) continue;
    const onNo = downstream(graph.edges, s.id, s.handle!);
    const laterYes = [...onNo].some((id) => states[id]?.kind === 'approval' && states[id]?.handle === 'approved');
    if (!laterYes) return s;
  }
  return undefined;
}

/** Nodes reachable from `from` through the edges leaving its `handle`. */
function downstream(edges: RunbookEdge[], from: string, handle: string): Set<string> {
  const seen = new Set<string>();
  const queue = edges.filter((e) => e.source === from && e.sourceHandle === handle).map((e) => e.target);
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of edges) if (e.source === id) queue.push(e.target);
  }
  return seen;
}
