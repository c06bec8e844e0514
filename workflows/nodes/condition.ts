// A condition step: the first case whose expression holds (or true / false) names the branch.
import type { ConditionNode, NodeState } from '../../runbook/definition.ts';
import { evaluate } from '../../runbook/expressions.ts';
import type { Execution } from './execution.ts';

export async function runCondition(x: Execution, node: ConditionNode, ns: NodeState): Promise<string> {
  let handle: string;
  if (node.cases) {
    handle = 'default';
    for (const c of node.cases) {
      if (truthy(await evaluate(c.expression, x.expressions()))) {
        handle = c.handle;
        break;
      }
    }
  } else {
    handle = truthy(await evaluate(node.expression ?? 'false', x.expressions())) ? 'true' : 'false';
  }
  ns.status = 'succeeded';
  ns.output = { handle };
  return handle;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}
