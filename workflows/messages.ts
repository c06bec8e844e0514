// Signals and queries of the runbook workflow, shared by the workflow, the server and tests.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunState } from '../runbook/definition.ts';

export interface ApprovalSignal {
  nodeId: string;
  decision: 'approve' | 'reject';
  by: string;
  comment?: string;
}

export interface ResumeSignal {
  nodeId: string;
  action: 'retry' | 'skip' | 'abort';
  by: string;
}

/** A step that succeeded in an earlier run, carried into a retry of that run instead of running again. */
export interface CarriedStep {
  output: unknown;
  /** The handle it took (out, approved, true, ...). */
  handle: string;
  /** The run it succeeded in. */
  from: string;
}

export const approvalSignal = defineSignal<[ApprovalSignal]>('approval');
export const resumeSignal = defineSignal<[ResumeSignal]>('resume');
export const runStateQuery = defineQuery<RunState>('runState');

export const TASK_QUEUE = 'tenantflow';
export const WORKFLOW_TYPE = 'runbookWorkflow';
