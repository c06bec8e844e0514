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

/**
 * A list the control plane stores instead of carrying it in a run's input (a list input of more
 * than STORED_LIST_MIN items): a forEach over it pages the items through `readListPage` on `queue`
 * (the control plane's task queue), one page per loop batch, so neither the list nor any large
 * part of it is ever in a workflow input or history.
 */
export interface StoredListRef {
  $storedList: string;
  count: number;
  queue: string;
}
/** List inputs longer than this are stored by the control plane and passed by reference. */
export const STORED_LIST_MIN = 1000;

export function isStoredList(v: unknown): v is StoredListRef {
  return typeof v === 'object' && v !== null && typeof (v as StoredListRef).$storedList === 'string' && typeof (v as StoredListRef).count === 'number';
}

export interface BatchActivities {
  /** Items [offset, offset + limit) of a stored list. */
  readListPage(input: { list: string; offset: number; limit: number }): Promise<unknown[]>;
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
