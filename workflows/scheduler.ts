// When a step may run: the scheduler of the runbook graph, apart from what each step does. A node
// runs once every incoming edge is decided and at least one was taken; it is skipped (and passes
// the skip on) when every incoming edge was decided and none was, so joins after a condition never
// wait forever. Deterministic and free of Temporal: unit-tested in test/scheduler.test.ts.
import type { RunbookEdge } from '../runbook/definition.ts';

export type Readiness = 'waiting' | 'run' | 'skip';

/** The decision for one node from its incoming edges and which of them were taken so far. */
export function readiness(incoming: readonly RunbookEdge[], taken: ReadonlyMap<RunbookEdge, boolean>): Readiness {
  if (incoming.some((e) => !taken.has(e))) return 'waiting';
  return incoming.length === 0 || incoming.some((e) => taken.get(e)) ? 'run' : 'skip';
}

export interface SchedulerHooks {
  /** Is the node still pending (not started, skipped or finished)? */
  pending(id: string): boolean;
  /** The run has ended: nothing more is started. */
  halted(): boolean;
  /**
   * Start the node. Return the handle it took when it finished at once (a step carried over from
   * an earlier run), so its successors are considered right away; undefined while it runs.
   */
  run(id: string): string | undefined;
  /** Mark the node skipped. */
  skip(id: string): void;
}

export class Scheduler {
  private readonly incoming = new Map<string, RunbookEdge[]>();
  private readonly outgoing = new Map<string, RunbookEdge[]>();
  private readonly taken = new Map<RunbookEdge, boolean>();
  private readonly nodeIds: string[];
  private readonly hooks: SchedulerHooks;

  constructor(nodeIds: readonly string[], edges: readonly RunbookEdge[], hooks: SchedulerHooks) {
    this.nodeIds = [...nodeIds];
    this.hooks = hooks;
    for (const e of edges) {
      this.incoming.set(e.target, [...(this.incoming.get(e.target) ?? []), e]);
      this.outgoing.set(e.source, [...(this.outgoing.get(e.source) ?? []), e]);
    }
  }

  /** Considers every node in definition order: the entry nodes start. */
  start(): void {
    for (const id of this.nodeIds) this.consider(id);
  }

  /** A node finished and took `handle` (null: it was skipped); its successors are considered. */
  settle(id: string, handle: string | null): void {
    const outs = this.outgoing.get(id) ?? [];
    for (const e of outs) this.taken.set(e, handle !== null && e.sourceHandle === handle);
    for (const target of new Set(outs.map((e) => e.target))) this.consider(target);
  }

  private consider(id: string): void {
    if (!this.hooks.pending(id) || this.hooks.halted()) return;
    const decision = readiness(this.incoming.get(id) ?? [], this.taken);
    if (decision === 'run') {
      const handle = this.hooks.run(id);
      if (handle !== undefined) this.settle(id, handle);
    } else if (decision === 'skip') {
      this.hooks.skip(id);
      this.settle(id, null);
    }
  }
}
