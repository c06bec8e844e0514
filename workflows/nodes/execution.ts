// What every node kind's executor gets from the run it belongs to. The interpreter owns the state
// and the scheduling; an executor does one step and returns the handle it took.
import { condition } from '@temporalio/workflow';
import type { ApprovalDecision, RunbookWorkflowInput, RunState } from '../../runbook/definition.ts';
import type { ExpressionContext } from '../../runbook/expressions.ts';
import type { ApprovalSignal, ResumeSignal } from '../messages.ts';

export interface Execution {
  input: RunbookWorkflowInput;
  workflowId: string;
  state: RunState;
  /** Decisions that arrived for steps waiting for them, in arrival order (an Update's waits to hear how it was recorded). */
  approvalInbox: InboxDecision[];
  resumeInbox: ResumeSignal[];
  /** The expression context as of now (inputs, run, item, steps so far). */
  expressions(): ExpressionContext;
  /** Pushes status, pending approvers and progress to visibility (only when they changed). */
  publish(): void;
  now(): string;
  /** Work a step started without waiting for it (an approval's request notice); the run awaits it before it ends. */
  inBackground(work: Promise<unknown>): void;
}

/** A decision waiting in the inbox; one sent as an Update is told how it was recorded. */
export type InboxDecision = ApprovalSignal & { recorded?: (d: ApprovalDecision) => void };

/** Raised inside node execution to end the whole run (onError=fail, abort, an end node). */
export class RunEnded extends Error {
  readonly status: 'succeeded' | 'failed';
  /** The step whose failure ended the run, when one did. */
  readonly nodeId?: string;
  constructor(status: 'succeeded' | 'failed', message: string, nodeId?: string) {
    super(message);
    this.status = status;
    this.nodeId = nodeId;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Waits for the first message for `nodeId` and takes it out of the inbox. */
export async function waitFor<T extends { nodeId: string }>(inbox: T[], nodeId: string): Promise<T> {
  await condition(() => inbox.some((s) => s.nodeId === nodeId));
  const i = inbox.findIndex((s) => s.nodeId === nodeId);
  return inbox.splice(i, 1)[0]!;
}
