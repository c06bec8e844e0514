// An end step: ends the whole run at once, succeeded or failed, with its message.
import type { EndNode, NodeState } from '../../runbook/definition.ts';
import { RunEnded, type Execution } from './execution.ts';

export async function runEnd(x: Execution, node: EndNode, ns: NodeState): Promise<string> {
  ns.status = 'succeeded';
  ns.endedAt = x.now();
  throw new RunEnded(node.status, node.message ?? (node.status === 'failed' ? `ended at ${node.id}` : 'completed'));
}
