// Signals and queries of the runbook workflow, shared by the workflow, the server and tests.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Grant } from '../runbook/approvals.ts';
import type { ApprovalDecision, RunState } from '../runbook/definition.ts';

export interface ApprovalSignal {
  nodeId: string;
  decision: 'approve' | 'reject';
  by: string;
  comment?: string;
  /** The decider's Tenantflow roles on the run's tenant and groups (matched against role:/group: approvers). */
  roles?: string[];
  groups?: string[];
}

/**
 * An approve / reject decision sent as an Update. `roles` and `groups` are who the server says the
 * decider is: the server authenticates the caller and resolves them, and the workflow trusts them.
 * That is the trust boundary: anyone who can reach Temporal's frontend can send this Update naming
 * anyone, so production reaches the frontend only over mTLS (or with API keys on Temporal Cloud).
 */
export interface ApprovalUpdate {
  nodeId: string;
  decision: 'approve' | 'reject';
  by: string;
  roles: string[];
  groups: string[];
  comment?: string;
  /**
   * The decider's Tenantflow grants (tenant, role). When given, the workflow works out the roles
   * on its own tenant from them and refuses ("not-visible") a decider who cannot see the tenant,
   * so the server sends the decision without reading the run first.
   */
  grants?: Grant[];
}

/** What the approval Update answers: the decision as recorded, and what the server's audit and metrics need. */
export interface ApprovalAnswer extends ApprovalDecision {
  tenant?: string;
  runbook?: string;
  /** How long the step had waited when the decision was recorded. */
  waitedMs?: number;
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
/** Decides an approval step; refused by its validator with the reason, or answered with the decision as recorded. */
export const approvalUpdate = defineUpdate<ApprovalAnswer, [ApprovalUpdate]>('decideApproval');
export const resumeSignal = defineSignal<[ResumeSignal]>('resume');
export const runStateQuery = defineQuery<RunState>('runState');

export const TASK_QUEUE = 'tenantflow';
export const WORKFLOW_TYPE = 'runbookWorkflow';
