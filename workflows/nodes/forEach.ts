// A forEach step: the loop runs as a child workflow (workflows/for-each.ts) so no history grows
// with the list; its progress comes back by signal.
import { ApplicationFailure, ChildWorkflowFailure, executeChild, isCancellation } from '@temporalio/workflow';
import { hasPatch } from '../patches.ts';
import type { ForEachNode, NodeState } from '../../runbook/definition.ts';
import { evaluate, inputsForBody } from '../../runbook/expressions.ts';
import { isStoredList } from '../batch.ts';
import type { ForEachInput, ForEachResult } from '../for-each.ts';
import { errorMessage, RunEnded, type Execution } from './execution.ts';

export async function runForEach(x: Execution, node: ForEachNode, ns: NodeState): Promise<string> {
  const items = await evaluate(node.items, x.expressions());
  // A list the control plane stores (a long list input): the loop pages it, the list never travels.
  const stored = isStoredList(items) && hasPatch('foreach-stored-list') ? items : undefined;
  if (!stored && !Array.isArray(items))
    throw new RunEnded('failed', `Step ${node.id}: "items" gave ${JSON.stringify(items)?.slice(0, 100)}, not a list`);
  const total = stored ? stored.count : (items as unknown[]).length;
  // Items' runs get the inputs the body can read, not the list they came from (runs started before
  // the patch, and their replays, pass every input).
  const inputs = hasPatch('foreach-body-inputs') ? inputsForBody(node.body, x.input.inputs) : x.input.inputs;
  ns.input = { count: total };
  ns.progress = { total, done: 0, succeeded: 0, failed: 0 };
  const loop: ForEachInput = {
    parentWorkflowId: x.workflowId,
    nodeId: node.id,
    body: { ...x.input.definition, name: `${x.input.definition.name} / ${node.id}`, nodes: node.body.nodes, edges: node.body.edges },
    inputs,
    run: x.input.run,
    items: stored ? [] : (items as unknown[]),
    ...(stored ? { list: stored } : {}),
    offset: 0,
    total,
    concurrency: node.concurrency,
    onItemError: node.onItemError,
  };
  try {
    const result = await executeChild<(i: ForEachInput) => Promise<ForEachResult>>('forEachWorkflow', {
      workflowId: `${x.workflowId}.${node.id}`,
      args: [loop],
    });
    ns.progress = { total: result.total, done: result.done, succeeded: result.succeeded, failed: result.failed, ...(result.warned ? { warned: result.warned } : {}) };
    ns.output = result;
    ns.status = 'succeeded';
    return 'out';
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
    const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as ForEachResult | undefined) : undefined;
    if (details) {
      ns.output = details;
      ns.progress = { total: details.total, done: details.done, succeeded: details.succeeded, failed: details.failed };
    }
    ns.status = 'failed';
    ns.error = { message: errorMessage(cause) };
    throw new RunEnded('failed', `Step ${node.id} failed: ${errorMessage(cause)}`, node.id);
  }
}
