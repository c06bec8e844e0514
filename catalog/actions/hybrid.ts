// Cloud actions that hybrid runbooks need: waiting for directory synchronisation to bring an
// on-premises change into Microsoft Entra ID, instead of sleeping for a guessed time.
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { userRef } from '../fields.ts';

export const userWaitUntilExists = defineAction({
  id: 'user.waitUntilExists',
  title: 'Wait until user exists',
  category: 'user',
  description:
    'Waits until a user is in Microsoft Entra ID, e.g. an account just created in on-premises AD that Entra Connect or ' +
    'Cloud Sync synchronises on its own schedule (Entra Connect every 30 minutes by default, sooner after ' +
    'Start-ADSyncSyncCycle -PolicyType Delta). Reads the user through Graph every poll interval, with heartbeats, until it ' +
    'is there (synchronised from on-premises, with the given anchor when one is given) or the timeout passes, counted ' +
    'from the step\'s first attempt. Give the step a timeout at least as long.',
  input: z.strictObject({
    user: userRef,
    immutableId: z.string().min(1).optional().describe('The on-premises anchor to match (onPremisesImmutableId, e.g. the immutableId output of ad.createUser)'),
    requireSynced: z.boolean().default(true).describe('Only a user synchronised from on-premises counts (onPremisesSyncEnabled)'),
    timeoutMinutes: z.number().int().min(1).max(1440).default(60).describe('Longest wait in minutes'),
    pollSeconds: z.number().int().min(1).max(600).default(30).describe('Seconds between two reads'),
  }),
  output: z.object({
    id: z.string().describe('Object id of the user in Entra ID'),
    userPrincipalName: z.string(),
    onPremisesSyncEnabled: z.boolean().nullable(),
    onPremisesImmutableId: z.string().nullable(),
    polls: z.number().describe('Reads made by the attempt that found it'),
    waitedSeconds: z.number().describe('Seconds since the step started'),
  }),
  permissions: ['User.Read.All'],
  bulk: true,
  // It changes nothing; its plan says whether it would wait, instead of waiting.
  readOnly: true,
});
