// The server's side of Temporal: starting runs with their search attributes, reading their
// state, signalling decisions, and registering search attributes on an external cluster.
import { randomUUID } from 'node:crypto';
import { Client, WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import type { RunbookDefinition, RunContext, RunState } from '../workflows/definition.ts';
import { approvalSignal, runStateQuery, WORKFLOW_TYPE, type ApprovalSignal } from '../workflows/messages.ts';
import { SA, SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts';

export interface RunStarter {
  definition: RunbookDefinition;
  inputs: Record<string, unknown>;
  run: RunContext;
}

export class Runs {
  readonly client: Client;
  readonly taskQueue: string;
  readonly webUiUrl?: string;
  constructor(client: Client, taskQueue: string, webUiUrl?: string) {
    this.client = client;
    this.taskQueue = taskQueue;
    this.webUiUrl = webUiUrl;
  }

  async start({ definition, inputs, run }: RunStarter): Promise<string> {
    const workflowId = `run-${randomUUID()}`;
    await this.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: this.taskQueue,
      workflowId,
      args: [{ definition, inputs, run }],
      typedSearchAttributes: [
        { key: SA.status, value: 'running' },
        { key: SA.runbook, value: run.runbookId },
        { key: SA.version, value: run.version },
        { key: SA.tenant, value: run.tenant },
        { key: SA.requester, value: run.startedBy },
      ],
      memo: { runbookName: definition.name },
    });
    return workflowId;
  }

  webUiLink(workflowId: string, runId?: string): string | undefined {
    if (!this.webUiUrl) return undefined;
    const ns = encodeURIComponent(this.client.options.namespace);
    return `${this.webUiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}/history`;
  }

  /** The run's node states, or undefined when no such run exists. */
  async get(workflowId: string): Promise<{ state?: RunState; description: WorkflowExecutionDescription } | undefined> {
    const handle = this.client.workflow.getHandle(workflowId);
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    let state: RunState | undefined;
    try {
      state = await handle.query(runStateQuery);
    } catch {
      // No worker has picked the run up yet: there is no state to read so far.
    }
    return { state, description };
  }

  async signalApproval(workflowId: string, decision: ApprovalSignal): Promise<void> {
    await this.client.workflow.getHandle(workflowId).signal(approvalSignal, decision);
  }

  async cancel(workflowId: string): Promise<void> {
    await this.client.workflow.getHandle(workflowId).cancel();
  }
}

/** Registers the project's search attributes (needed on clusters other than the dev server). */
export async function ensureSearchAttributes(client: Client): Promise<void> {
  const namespace = client.options.namespace;
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set(Object.keys(existing.customAttributes ?? {}));
  const typeIds: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !have.has(name));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, typeIds[type]!])),
  });
}
