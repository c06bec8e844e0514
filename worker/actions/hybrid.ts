// Handlers of the hybrid cloud actions (catalog/actions/hybrid.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import * as c from '../../catalog/actions/hybrid.ts';
import { implement } from '../activity.ts';
import type { InputOf, PlanContext, PlanDraft } from '../implementation.ts';
import { isKnownAfterRun } from './changes.ts';
import { ActionError } from '../../m365/errors.ts';
import { orNotFound } from './shared.ts';

interface SyncedUser {
  id: string;
  userPrincipalName: string;
  onPremisesSyncEnabled?: boolean | null;
  onPremisesImmutableId?: string | null;
}

export const userWaitUntilExists = implement(c.userWaitUntilExists, async (input, ctx) => {
  // The deadline counts from the step's first attempt, so a retry does not extend the wait.
  const deadline = ctx.stepScheduledAt + input.timeoutMinutes * 60_000;
  let polls = 0;
  let last = 'not found';
  for (;;) {
    polls++;
    const u = (await orNotFound(
      ctx.graph.api(`/users/${encodeURIComponent(input.user)}`).select('id,userPrincipalName,onPremisesSyncEnabled,onPremisesImmutableId').get(),
    )) as SyncedUser | undefined;
    if (u) {
      const synced = !input.requireSynced || u.onPremisesSyncEnabled === true;
      const anchored = !input.immutableId || u.onPremisesImmutableId === input.immutableId;
      if (synced && anchored)
        return {
          id: u.id,
          userPrincipalName: u.userPrincipalName,
          onPremisesSyncEnabled: u.onPremisesSyncEnabled ?? null,
          onPremisesImmutableId: u.onPremisesImmutableId ?? null,
          polls,
          waitedSeconds: Math.round((Date.now() - ctx.stepScheduledAt) / 1000),
        };
      last = !synced ? 'found, but not synchronised from on-premises (a cloud-only user with that name?)' : `found with another anchor (${u.onPremisesImmutableId ?? 'none'})`;
    }
    ctx.heartbeat({ polls, last });
    const wait = Math.min(input.pollSeconds * 1000, deadline - Date.now());
    if (wait <= 0)
      throw new ActionError(`${input.user} did not appear in Entra ID within ${input.timeoutMinutes} minutes (${last})`, {
        code: 'NotSynchronised',
        hint: 'check directory synchronisation: the account\'s OU is in the sync scope, the sync cycle runs (Start-ADSyncSyncCycle -PolicyType Delta), and Entra Connect shows no export errors',
      });
    await sleep(wait, undefined, { signal: ctx.signal });
  }
}, { plan: planWaitUntilExists, acceptsUnknown: ['user', 'immutableId'] });

/** It changes nothing, and a plan must not wait: it says whether the user is there already. */
async function planWaitUntilExists(input: InputOf<typeof c.userWaitUntilExists>, { graph }: PlanContext): Promise<PlanDraft> {
  const waits = `waits up to ${input.timeoutMinutes} minutes for the user to appear in Entra ID${input.requireSynced ? ', synchronised from on-premises' : ''}`;
  if (isKnownAfterRun(input.user) || isKnownAfterRun(input.immutableId)) return { changes: [], notes: [`${waits} (an earlier step names it)`] };
  const u = (await orNotFound(graph.api(`/users/${encodeURIComponent(input.user)}`).select('id,onPremisesSyncEnabled,onPremisesImmutableId').get())) as SyncedUser | undefined;
  const there = !!u && (!input.requireSynced || u.onPremisesSyncEnabled === true) && (!input.immutableId || u.onPremisesImmutableId === input.immutableId);
  return { changes: [], notes: [there ? `${input.user} is there already: no wait` : `${waits}: ${input.user} is not there yet`] };
}
