// A delay step: a durable timer for a duration or until a date an expression gives.
import { sleep } from '@temporalio/workflow';
import { hasPatch } from '../patches.ts';
import { durationMs, MAX_DURATION_MS } from '../../runbook/duration.ts';
import type { DelayNode, NodeState } from '../../runbook/definition.ts';
import { evaluate } from '../../runbook/expressions.ts';
import { RunEnded, type Execution } from './execution.ts';

export async function runDelay(x: Execution, node: DelayNode, ns: NodeState): Promise<string> {
  let ms = 0;
  if (node.duration !== undefined) ms = durationMs(node.duration);
  else if (node.until) {
    const at = await evaluate(node.until, x.expressions());
    const t = typeof at === 'number' ? at : Date.parse(String(at));
    if (Number.isNaN(t)) throw new RunEnded('failed', `Step ${node.id}: "until" gave ${JSON.stringify(at)}, not a date`);
    ms = t - Date.now();
    // A date further away than any runbook may wait is a mistake in the data: fail the step.
    if (ms > MAX_DURATION_MS && hasPatch('bounded-delay'))
      throw new RunEnded('failed', `Step ${node.id}: "until" gave ${new Date(t).toISOString()}, more than ten years away`);
  }
  ns.output = { until: new Date(Date.now() + Math.max(0, ms)).toISOString() };
  if (ms > 0) await sleep(ms);
  ns.status = 'succeeded';
  return 'out';
}
