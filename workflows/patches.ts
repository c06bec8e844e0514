// The workflow code's patches, each recorded once per run at most. Every `patched('x')` a live run
// asks records a marker event, and the SDK adds an upsert of the TemporalChangeVersion search
// attribute for it: one more visibility write for the Temporal server each time. A run started
// now takes the new branch of every patch below, so it records one marker for all of them,
// BASELINE, asked first thing in the run; its later `hasPatch('x')` for those answer true without
// a marker of their own. Runs started before the baseline (no BASELINE marker in their history)
// ask each patch where they always did, so their replays meet the markers they recorded.
// A patch added after the baseline is asked with `hasPatch` like the others and records its own
// marker until a later baseline includes it (docs/workflow-changes.md).
import { patched } from '@temporalio/workflow';

export const BASELINE = 'baseline-2026-12';

/** Every patch of the workflow code when BASELINE was made. Never change this list: make a new baseline. */
export const IN_BASELINE: ReadonlySet<string> = new Set([
  'bounded-delay',
  'approval-eligibility',
  'approval-plan',
  'approver-expressions',
  'approval-entra-groups',
  'approval-notify',
  'approval-request-concurrent',
  'notify-requester',
  'requester-notice-local',
  'requester-notice-server',
  'ad-task-queue',
  'tenant-task-queues',
  'sub-runbook',
  'foreach-stored-list',
  'foreach-body-inputs',
  'foreach-output-budget',
  'foreach-batch-1000',
]);

// Per run: Temporal evaluates the workflow modules anew for every run it executes.
let baseline = false;

/**
 * Asks for the baseline: call it once, before anything else in a workflow function, so a new run
 * records its marker first and a replay meets it there. True when the run has the baseline.
 */
export function startWithBaseline(): boolean {
  baseline = patched(BASELINE);
  return baseline;
}

/** Whether this run takes the new branch of patch `id`: `patched(id)`, answered without a marker in a baseline run. */
export function hasPatch(id: string): boolean {
  return (baseline && IN_BASELINE.has(id)) || patched(id);
}

/** Whether a history that recorded these patch markers took the new branch of `id` (for the control plane). */
export function recordedPatch(markers: readonly string[], id: string): boolean {
  return markers.includes(id) || (IN_BASELINE.has(id) && markers.includes(BASELINE));
}
