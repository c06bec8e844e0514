// The batch workflow behind a CSV bulk run (docs/runs.md "Bulk runs"): the rows live in the
// control plane's database, never in this workflow's input or history. It asks the control plane's
// activities to work through the rows a slice at a time (each slice runs its rows' runs with
// bounded concurrency and writes every row's outcome to the database), and continues as new every
// SLICES_PER_RUN slices, so its history stays a few hundred events however many rows there are.
import { ActivityCancellationType, continueAsNew, proxyActivities } from '@temporalio/workflow';

export const BATCH_WORKFLOW_TYPE = 'batchWorkflow';
/** Rows one activity works through (with the batch's concurrency) before it reports back. */
export const SLICE_ROWS = 1000;
/** Slices per workflow run before it continues as new (each slice is 3 events, plus task events). */
export const SLICES_PER_RUN = 200;

export interface BatchWorkflowInput {
  batchId: string;
  /** The control plane's task queue: its activities read and write the rows in its database. */
  controlQueue: string;
  /** Which round of the batch (1, then one per "retry failed rows"): part of each row run's id. */
  round: number;
  /** Rows after this line are still to do (continue-as-new carries it). */
  afterLine?: number;
  /** Rows per slice; SLICE_ROWS unless a test wants it small. */
  sliceRows?: number;
}

export interface BatchSliceResult {
  /** The last line this slice handled; null when no row after `afterLine` was left to do. */
  lastLine: number | null;
}

export interface BatchActivities {
  /** Runs the next rows after `afterLine` that are still to do (pending, or running when a crash interrupted them). */
  runBatchSlice(input: { batchId: string; afterLine: number; limit: number }): Promise<BatchSliceResult>;
  /** Sets the batch's final status from its rows (partially failed when some failed). */
  finishBatch(input: { batchId: string; round: number }): Promise<string>;
}

export async function batchWorkflow(input: BatchWorkflowInput): Promise<string> {
  const acts = proxyActivities<BatchActivities>({
    taskQueue: input.controlQueue,
    // A slice waits for its rows' runs; it heartbeats while it does, so a lost control plane is
    // noticed within a minute and the slice runs again (row runs have fixed ids: none starts twice).
    startToCloseTimeout: '30 days',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1s', maximumInterval: '30s' },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  let after = input.afterLine ?? 0;
  for (let i = 0; i < SLICES_PER_RUN; i++) {
    const slice = await acts.runBatchSlice({ batchId: input.batchId, afterLine: after, limit: input.sliceRows ?? SLICE_ROWS });
    if (slice.lastLine === null) return acts.finishBatch({ batchId: input.batchId, round: input.round });
    after = slice.lastLine;
  }
  return continueAsNew<typeof batchWorkflow>({ ...input, afterLine: after });
}
