// Hand-written Temporal workflows, the baselines of bench/api.ts: what a developer would write by
// hand for the same work, calling the same activity as the interpreter's steps (on its task queue).
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

type Read = (input: { tenant: string; params: unknown }) => Promise<unknown>;
/** Same name as the interpreter's approval signal: the same message reaches either workflow. */
const approval = defineSignal<[unknown]>('approval');

const acts = (taskQueue: string) =>
  proxyActivities<Record<string, Read>>({ taskQueue, startToCloseTimeout: '5m', heartbeatTimeout: '10s', retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } });

/** `steps` sequential calls of the activity, as a chain of action steps makes them. */
export async function handSequence(steps: number, taskQueue: string, action: string, input: { tenant: string; params: unknown }): Promise<void> {
  const a = acts(taskQueue);
  for (let i = 0; i < steps; i++) await a[action]!(input);
}

/** Waits for one signal, then calls the activity once: an approval step followed by one action. */
export async function handApproval(taskQueue: string, action: string, input: { tenant: string; params: unknown }): Promise<void> {
  let go = false;
  setHandler(approval, () => {
    go = true;
  });
  await condition(() => go);
  await acts(taskQueue)[action]!(input);
}

/**
 * `action` for each user principal name, at most `concurrency` at once, all on `taskQueue`: a bulk
 * with the least workflow work per item (one workflow, no child per item), so bench/throttle.ts can
 * measure a tenant's budget queue where the engine is not what limits the rate.
 */
export async function handBulk(upns: string[], concurrency: number, taskQueue: string, action: string, tenant: string): Promise<number> {
  const a = proxyActivities<Record<string, Read>>({ taskQueue, startToCloseTimeout: '5m', heartbeatTimeout: '10s', retry: { maximumAttempts: 50, initialInterval: '200ms', maximumInterval: '5s' } });
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < upns.length) {
      const upn = upns[next++]!;
      await a[action]!({ tenant, params: { userPrincipalName: upn, displayName: upn } });
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return done;
}
