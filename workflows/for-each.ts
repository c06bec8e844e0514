// The loop behind a forEach step: one child run of the body per item, at most `concurrency` at a
// time. It continues as new every BATCH items so no history nears Temporal's limits however long
// the list, and reports progress to the parent run in a bounded number of signals.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import { hasPatch, startWithBaseline } from './patches.ts';
import { visibilityAtStart } from './search-attributes.ts';
import type { BatchActivities, StoredListRef } from './batch.ts';
import type { ItemResult, LoopProgress, RunbookDefinition, RunbookWorkflowInput, RunContext, RunState } from '../runbook/definition.ts';

/**
 * Items started per workflow run before it continues as new: about 3,400 history events, far below
 * 10,240. Each continue-as-new waits for the run's last items, so the writes pause for a second or
 * so; runs started before the `foreach-batch-1000` patch (and their replays) kept 500.
 */
export const BATCH = 1000;
const BATCH_BEFORE_PATCH = 500;
/** Item results kept in full; past this only failed items are kept, and counts for the rest. */
export const KEEP_RESULTS = 1000;
/**
 * Item outputs (as JSON text) a loop keeps over all its runs. The results travel in every
 * continue-as-new input, in the loop's result and in the parent run's state, each a payload that
 * Temporal refuses above 2 MB (and warns about above 512 KB): a thousand outputs of a few KB each
 * would fail the run. Past this, items are kept without their output (their own run has it).
 * Runs started before the `foreach-output-budget` patch keep every output.
 */
export const KEEP_OUTPUT_CHARS = 256 * 1024;

export interface ForEachInput {
  parentWorkflowId: string;
  nodeId: string;
  body: RunbookDefinition;
  inputs: Record<string, unknown>;
  run: RunContext;
  /** The items not yet started, and the index of the first of them in the whole list. */
  items: unknown[];
  /**
   * A list the control plane stores (then `items` is empty): each workflow run reads its batch of
   * items, from `offset`, through an activity instead of carrying the list.
   */
  list?: StoredListRef;
  offset: number;
  total: number;
  concurrency: number;
  onItemError: 'continue' | 'fail';
  /** Items per workflow run before continuing as new; BATCH unless a test wants it small. */
  batch?: number;
  /** KEEP_OUTPUT_CHARS unless a test wants it small. */
  outputBudget?: number;
  /** Carried across continue-as-new. */
  carried?: { progress: LoopProgress; results: ItemResult[]; outputChars?: number; outputsOmitted?: number };
}

export interface ForEachResult extends LoopProgress {
  items: ItemResult[];
  /** True when more items ran than `items` lists (only failures are kept past KEEP_RESULTS). */
  truncated: boolean;
  /** How many of `items` are listed without their output (past KEEP_OUTPUT_CHARS). */
  outputsOmitted?: number;
}

export const loopProgressSignal = defineSignal<[{ nodeId: string; progress: LoopProgress }]>('loopProgress');
export const loopProgressQuery = defineQuery<LoopProgress>('loopProgress');

export async function forEachWorkflow(input: ForEachInput): Promise<ForEachResult> {
  // A baseline loop starts its items' runs with their visibility set (running, no step done), so
  // they publish nothing in their first task; older loops started them bare.
  const atStart = startWithBaseline() ? { typedSearchAttributes: [...visibilityAtStart(input.body.nodes.length)] } : {};
  const progress: LoopProgress = input.carried?.progress ?? { total: input.total, done: 0, succeeded: 0, failed: 0 };
  const results: ItemResult[] = input.carried?.results ?? [];
  // Decided once, before the loop starts anything, so a replay meets the marker where it was made.
  const budgeted = hasPatch('foreach-output-budget');
  let outputChars = input.carried?.outputChars ?? 0;
  let outputsOmitted = input.carried?.outputsOmitted ?? 0;
  const budget = input.outputBudget ?? KEEP_OUTPUT_CHARS;
  /** The result as kept: without its output once the outputs kept so far fill the budget. */
  const kept = (r: ItemResult): ItemResult => {
    if (!budgeted || r.output === undefined) return r;
    const chars = JSON.stringify(r.output)?.length ?? 0;
    if (outputChars + chars <= budget) {
      outputChars += chars;
      return r;
    }
    outputsOmitted++;
    const { output: _omitted, ...rest } = r;
    return rest;
  };
  setHandler(loopProgressQuery, () => progress);

  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  // About 50 progress reports over the whole list, whatever its length.
  const reportEvery = Math.max(1, Math.ceil(input.total / 50));
  let lastReported = progress.done;
  const report = async (force = false) => {
    if (!force && progress.done - lastReported < reportEvery) return;
    lastReported = progress.done;
    await parent.signal(loopProgressSignal, { nodeId: input.nodeId, progress: { ...progress } }).catch(() => undefined);
  };

  const record = (r: ItemResult) => {
    progress.done++;
    if (r.status === 'succeeded') progress.succeeded++;
    else progress.failed++;
    if (r.outcome) progress.warned = (progress.warned ?? 0) + 1;
    // A loop over a stored list keeps only the failed and warned items (their count bounded): the
    // results travel in each continue-as-new input and the step's output, so they must not grow
    // with the list (a thousand user objects are a megabyte).
    if (input.list && r.status === 'succeeded' && !r.outcome) return;
    if (results.length < KEEP_RESULTS || r.status !== 'succeeded' || r.outcome) {
      if (results.length >= KEEP_RESULTS * (input.list ? 1 : 2)) return;
      results.push(kept(r));
    }
  };

  let running = 0;
  let stop: string | undefined;
  const size = input.batch ?? (hasPatch('foreach-batch-1000') ? BATCH : BATCH_BEFORE_PATCH);
  const batch = input.list ? await readPage(input.list, input.offset, Math.min(size, input.total - input.offset)) : input.items.slice(0, size);
  for (let i = 0; i < batch.length && !stop; i++) {
    await condition(() => running < input.concurrency || stop !== undefined);
    if (stop) break;
    const index = input.offset + i;
    const runId = `${input.parentWorkflowId}.${input.nodeId}.${index}`;
    const child: RunbookWorkflowInput = {
      definition: input.body,
      inputs: input.inputs,
      run: input.run,
      item: { value: batch[i], index },
    };
    running++;
    void executeChild<(i: RunbookWorkflowInput) => Promise<RunState>>('runbookWorkflow', { workflowId: runId, args: [child], ...atStart })
      .then((state) => record({ index, status: 'succeeded', runId, output: lastOutput(state), ...(state.status !== 'succeeded' ? { outcome: state.status } : {}) }))
      .catch((err: unknown) => {
        const message = causeMessage(err);
        record({ index, status: 'failed', runId, error: message });
        if (input.onItemError === 'fail') stop ??= `item ${index} failed: ${message}`;
      })
      .finally(() => {
        running--;
        void report();
      });
  }
  await condition(() => running === 0);

  results.sort((a, b) => a.index - b.index);
  const omitted = outputsOmitted ? { outputsOmitted } : {};
  if (stop) {
    await report(true);
    throw ApplicationFailure.nonRetryable(stop, 'ItemFailed', { ...progress, items: results, truncated: progress.done > results.length, ...omitted });
  }
  if (input.list ? input.offset + size < input.total : input.items.length > size) {
    await report(true);
    await continueAsNew<typeof forEachWorkflow>({
      ...input,
      items: input.items.slice(size),
      offset: input.offset + size,
      carried: { progress, results, ...(budgeted ? { outputChars, outputsOmitted } : {}) },
    });
  }
  await report(true);
  return { ...progress, items: results, truncated: progress.done > results.length, ...omitted };
}

/** One batch of a stored list, read by the control plane (retried while it is away). */
async function readPage(list: StoredListRef, offset: number, limit: number): Promise<unknown[]> {
  if (limit <= 0) return [];
  const { readListPage } = proxyActivities<BatchActivities>({
    taskQueue: list.queue,
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', maximumInterval: '30s' },
  });
  const page = await readListPage({ list: list.$storedList, offset, limit });
  if (page.length !== limit) throw ApplicationFailure.nonRetryable(`stored list ${list.$storedList} has ${offset + page.length} items, not ${list.count}`, 'StoredListChanged');
  return page;
}

/** The output of the body's last succeeded step, as the item's result. */
function lastOutput(state: RunState): unknown {
  const done = Object.values(state.nodes)
    .filter((n) => n.status === 'succeeded' && n.output !== undefined && n.endedAt)
    .sort((a, b) => Date.parse(a.endedAt!) - Date.parse(b.endedAt!));
  return done.at(-1)?.output;
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
