// The control plane's activity worker for bulk batches (server/batches.ts, workflows/batch.ts):
// it works through a batch's rows a slice at a time, starting each row's run under its fixed id,
// waiting for it to end and writing the row's outcome, in this process, next to its database.
import { Context } from '@temporalio/activity';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { RowProblem } from '../runbook/csv.ts';
import type { RunState } from '../runbook/definition.ts';
import type { BatchActivities } from '../workflows/batch.ts';
import { WORKFLOW_TYPE } from '../workflows/messages.ts';
import { RunAccess } from './access.ts';
import { controlQueueOf, rowRunId, startBatchWorkflow, type BatchRecord, type RowStatus } from './batches.ts';
import type { Principal } from './people.ts';
import type { Services } from './services.ts';
import { isTemporalDown } from './temporal-deadline.ts';
import { controlActivityTracing } from './tracing.ts';

/** How often the batch worker starts batches whose workflow did not start (Temporal was down). */
export const RECOVER_MS = 30_000;

/** The control plane's side of the batch workflow: it reads and writes the rows in this database. */
export function batchActivities(s: Services, client: Client): BatchActivities {
  const access = new RunAccess(s);
  const batches = s.batches;

  /** What only the tenant can say about a row: users that do not exist, targets outside the starter's operator scope. */
  const tenantProblems = async (b: BatchRecord, inputs: Record<string, unknown>, cache: Map<string, Promise<unknown>>): Promise<RowProblem[]> => {
    const problems: RowProblem[] = [];
    for (const input of b.definition.inputs.filter((i) => i.type === 'user')) {
      const ref = inputs[input.name];
      if (typeof ref !== 'string' || !ref) continue;
      const k = `${b.tenant}|${ref.toLowerCase()}`;
      if (!cache.has(k)) cache.set(k, access.lookupUser(b.tenant, ref));
      if ((await cache.get(k)) === null) problems.push({ field: input.name, kind: 'unknown-user', message: `${ref} is not a user of tenant ${b.tenant}` });
    }
    if (problems.length) return problems;
    return access.scopeProblems({ ...b.principal, via: 'token' } as Principal, b.tenant, b.definition, inputs, cache);
  };

  /** Waits for the row's run to end, riding out Temporal restarts; its outcome as a row status. */
  const outcome = async (runId: string): Promise<{ status: RowStatus; error?: string }> => {
    for (;;) {
      try {
        // A slice waits for its rows' runs; when the server stops, the wait ends (the activity is
        // cancelled after the worker's grace time) and the slice runs again after the restart.
        // The cancellation also aborts the wait's long poll to Temporal: left running, it outlived
        // the activity, and a retry of it after the connection closed threw from a timer.
        const ctx = Context.current();
        const state = (await Promise.race([client.withAbortSignal(ctx.cancellationSignal, () => client.workflow.getHandle(runId).result()), ctx.cancelled])) as RunState;
        if (state.status === 'succeeded') return state.warnings?.length ? { status: 'succeeded-with-warnings', error: state.warnings.join('; ') } : { status: 'succeeded' };
        if (state.status === 'succeeded-with-warnings') return { status: 'succeeded-with-warnings', error: state.warnings?.join('; ') || state.message };
        return { status: 'failed', error: state.message ?? state.status };
      } catch (err) {
        if (err instanceof WorkflowFailedError) return { status: 'failed', error: causeMessage(err) };
        if (!isTemporalDown(err)) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };

  return {
    async runBatchSlice({ batchId, afterLine, limit }) {
      const b = await batches.get(batchId);
      if (!b) return { lastLine: null };
      const rows = await batches.todo(batchId, afterLine, limit);
      if (!rows.length) return { lastLine: null };
      const ctx = Context.current();
      let done = 0;
      const beat = setInterval(() => ctx.heartbeat({ afterLine, done }), 5000);
      const cache = new Map<string, Promise<unknown>>();
      let next = 0;
      const one = async (row: (typeof rows)[number]) => {
        const runId = rowRunId(b.id, row.line, row.attempt);
        if (row.status === 'pending') {
          const problems = await tenantProblems(b, row.inputs, cache);
          if (problems.length) return batches.setRow(b.id, row.line, { status: 'skipped', problems, error: problems.map((p) => p.message).join('; ') });
          // Written before the start: a crash after it finds the row running and its run (started or not) by id.
          await batches.setRow(b.id, row.line, { status: 'running', runId });
        }
        try {
          await client.workflow.start(WORKFLOW_TYPE, {
            ...s.runs.startOptions({ definition: b.definition, inputs: row.inputs, run: b.run, origin: { bulk: b.id, line: row.line, attempt: row.attempt } }),
            workflowId: runId,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          } as never);
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        const end = await outcome(runId);
        await batches.setRow(b.id, row.line, { status: end.status, error: end.error });
      };
      const lane = async () => {
        while (next < rows.length && !ctx.cancellationSignal.aborted) {
          const row = rows[next++]!;
          await one(row);
          done++;
          ctx.heartbeat({ afterLine, done });
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(b.concurrency, rows.length) }, lane));
      } finally {
        clearInterval(beat);
      }
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      return { lastLine: rows.at(-1)!.line };
    },
    async finishBatch({ batchId }) {
      return batches.settle(batchId);
    },
    async readListPage({ list, offset, limit }) {
      return s.lists.page(list, offset, limit);
    },
  };
}

function causeMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  let message = e?.message ?? String(err);
  while (e?.cause) {
    e = e.cause as { message?: string; cause?: unknown };
    if (e.message) message = e.message;
  }
  return message;
}

/**
 * The control plane's activity worker (no workflows): it serves the batch workflows' activities on
 * `<task queue>-control`. `client` must not carry the API's short call deadlines (it waits for row
 * runs to end). On start it also starts the workflow of any batch stored but not yet started.
 */
export async function startBatchWorker(s: Services, opts: { connection: NativeConnection; namespace: string; client: Client }): Promise<{ stop(): Promise<void> }> {
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: controlQueueOf(s.runs.taskQueue),
    dataConverter: opts.client.options.dataConverter,
    activities: batchActivities(s, opts.client),
    // Traced when tracing is on: each slice's span, and its rows' runs under it (`client` should
    // carry temporalClientTracing, as server/main.ts's does).
    interceptors: { activity: controlActivityTracing() },
    maxConcurrentActivityTaskExecutions: 20,
    // A slice can wait for rows that wait for people: stopping cancels it after this long.
    shutdownGraceTime: '3s',
  });
  const running = worker.run();
  // Batches stored but not started (the server stopped in between, or Temporal was down): started
  // now and every RECOVER_MS; a batch whose workflow exists is left alone (its id is fixed).
  let stopped = false;
  const recover = async () => {
    for (const b of await s.batches.open().catch(() => [])) {
      if (stopped) return;
      await startBatchWorkflow(opts.client, s.runs.taskQueue, b).catch(() => undefined);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    await recover();
    if (!stopped) timer = setTimeout(() => void loop(), RECOVER_MS);
  };
  await loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      worker.shutdown();
      await running;
    },
  };
}
