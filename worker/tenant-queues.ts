// One throttle budget per tenant and service across every worker (docs/architecture.md): steps
// that draw from a rate-limited write budget (catalog/budgets.ts) run on their tenant's queue for
// it, and every worker polls each such queue with Temporal's task-queue-wide activity rate
// (`maxTaskQueueActivitiesPerSecond`), which the Temporal server enforces across all the workers
// polling it. The rate is a constant of the code (budgetDispatchRate), so every worker of a build
// gives the same one. The worker learns about tenants added after it started by listing its tenant
// directory again every `refreshMs` (the control plane's database or its sealed mirror file).
// A step such a queue dispatched had its turn: its first write of the budget skips the throttle
// gate's spacing (m365/throttle.ts, runOnQueueTurn), so the gate does not pace it a second time.
import { NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkerOptions as TemporalWorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { budgetDispatchRate, budgetTaskQueue, WRITE_BUDGET_CEILINGS, type WriteBudget } from '../catalog/contract.ts';
import type { TenantDirectory } from '../m365/tenants.ts';
import { runOnQueueTurn } from '../m365/throttle.ts';

const BUDGETS = Object.keys(WRITE_BUDGET_CEILINGS) as WriteBudget[];

/** The throttle gate's budget (m365/throttle.ts, graphBudget) each write budget's queue paces. */
export const GATE_BUDGET: Record<WriteBudget, string> = { 'directory-write': 'directory:write', 'intune-write': 'intune:write' };

/** Runs each attempt a budget queue dispatched on that queue's turn (its first write of the budget). */
function onQueueTurn(budget: WriteBudget): ActivityInterceptorsFactory {
  const rate = budgetDispatchRate(budget);
  return () => ({ inbound: { execute: (input, next) => runOnQueueTurn(GATE_BUDGET[budget], rate, () => next(input)) } });
}

/** How often a worker lists its tenants again (a tenant added meanwhile gets its queues polled). */
export const TENANT_REFRESH_MS = 15_000;

/**
 * Pollers per budget queue and worker: the dispatch rate, not the pollers, sets the pace, and a
 * worker serves a queue per (tenant, budget), so each gets few.
 */
export const BUDGET_QUEUE_POLLERS = 2;

export interface TenantQueueOptions {
  connection: NativeConnection;
  namespace: string;
  /** The deployment's task queue (the runs'): the budget queues are named after it. */
  mainQueue: string;
  tenants: TenantDirectory;
  /** The action activities (the same objects the main queue serves). */
  activities: object;
  interceptors?: TemporalWorkerOptions['interceptors'];
  dataConverter?: DataConverter;
  identity?: string;
  maxConcurrentActivities: number;
  refreshMs?: number;
  /** Called for each queue this worker starts polling (metrics). */
  onQueue?: (worker: Worker, queue: string) => void;
}

interface Entry {
  worker: Worker;
  running?: Promise<void>;
}

/** The budget queues of every tenant this worker knows: one Temporal worker (activities only) each. */
export class TenantQueueWorkers {
  private readonly opts: TenantQueueOptions;
  private readonly entries = new Map<string, Entry>();
  private started = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private refreshing: Promise<void> = Promise.resolve();
  private settle?: (err: unknown) => void;

  constructor(opts: TenantQueueOptions) {
    this.opts = opts;
  }

  /** The queues polled so far. */
  queues(): string[] {
    return [...this.entries.keys()];
  }

  /** Lists the tenants again and polls the budget queues of any it has none for yet (one refresh at a time). */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(() => this.addNew());
    return this.refreshing;
  }

  private async addNew(): Promise<void> {
    let names: string[];
    try {
      names = await this.opts.tenants.list();
    } catch (err) {
      // The directory is unreachable (database down): the queues known so far keep running; next time.
      console.warn(`worker: could not list the tenants for their budget queues: ${(err as Error).message}`);
      return;
    }
    for (const tenant of names) {
      for (const budget of BUDGETS) {
        const queue = budgetTaskQueue(this.opts.mainQueue, tenant, budget);
        if (this.stopped || this.entries.has(queue)) continue;
        const worker = await Worker.create({
          connection: this.opts.connection,
          namespace: this.opts.namespace,
          taskQueue: queue,
          dataConverter: this.opts.dataConverter,
          ...(this.opts.identity ? { identity: this.opts.identity } : {}),
          activities: this.opts.activities,
          interceptors: { ...this.opts.interceptors, activity: [...(this.opts.interceptors?.activity ?? []), onQueueTurn(budget)] },
          maxConcurrentActivityTaskExecutions: this.opts.maxConcurrentActivities,
          maxConcurrentActivityTaskPolls: BUDGET_QUEUE_POLLERS,
          // Enforced by the Temporal server across every worker polling the queue.
          maxTaskQueueActivitiesPerSecond: budgetDispatchRate(budget),
          maxHeartbeatThrottleInterval: '2s',
        });
        const entry: Entry = { worker };
        this.entries.set(queue, entry);
        this.opts.onQueue?.(worker, queue);
        if (this.started) this.runOne(entry);
      }
    }
  }

  private runOne(entry: Entry): void {
    entry.running = entry.worker.run().catch((err: unknown) => this.settle?.(err));
  }

  /**
   * Polls every queue known and those of tenants added later: resolves after stop(), rejects as soon
   * as one of its workers fails (the caller then stops the rest).
   */
  run(): Promise<void> {
    this.started = true;
    const done = new Promise<void>((resolve, reject) => (this.settle = (err) => (err === undefined ? resolve() : reject(err))));
    for (const e of this.entries.values()) this.runOne(e);
    const tick = () => {
      this.timer = setTimeout(() => void this.refresh().finally(() => !this.stopped && tick()), this.opts.refreshMs ?? TENANT_REFRESH_MS);
    };
    tick();
    return done;
  }

  /** Stops every queue's worker and waits for them (their running steps finish or are cancelled first). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.refreshing;
    for (const { worker } of this.entries.values()) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all([...this.entries.values()].map((e) => e.running));
    this.settle?.(undefined);
  }
}
