// Licence actions: assign, unassign, remove all, service plans, and free-seat counts to branch on.
import { z } from 'zod';
import { defineAction, type Change, type Reversal } from '../contract.ts';
import { related, step, undoWith } from '../reversal.ts';
import { skuRef, userRef } from '../fields.ts';

const userId = z.string().describe('Object id of the user');

export const licenceAssign = defineAction({
  id: 'licence.assign',
  title: 'Assign licences',
  category: 'licence',
  description:
    'Assigns one or more licences to a user. Licences the user already has are left as they are; ' +
    'fails with a clear message when no seat of a licence is free.',
  input: z.strictObject({
    user: userRef,
    licences: z.array(skuRef).min(1).describe('Licences to assign'),
    disabledPlans: z
      .array(z.string())
      .default([])
      .describe('Service plans to switch off inside the assigned licences (plan name or id)'),
  }),
  output: z.object({
    userId,
    assigned: z.array(z.string()).describe('SKU part numbers newly assigned'),
    alreadyAssigned: z.array(z.string()).describe('SKU part numbers the user already had'),
  }),
  permissions: ['LicenseAssignment.ReadWrite.All', 'User.Read.All', 'Organization.Read.All'],
  bulk: true,
  undo: 'licence.unassign',
  reverse: ({ output }) => undoWith(output.assigned.length > 0 && step('licence.unassign', { user: output.userId, licences: output.assigned }, `take back ${output.assigned.join(', ')}`)),
});

export const licenceUnassign = defineAction({
  id: 'licence.unassign',
  title: 'Unassign licences',
  category: 'licence',
  description: 'Removes one or more licences from a user. Licences the user does not have count as done, with a warning on the run ("no licence to remove").',
  input: z.strictObject({ user: userRef, licences: z.array(skuRef).min(1).describe('Licences to remove') }),
  output: z.object({
    userId,
    removed: z.array(z.string()).describe('SKU part numbers removed'),
    notAssigned: z.array(z.string()).describe('SKU part numbers the user did not have'),
  }),
  permissions: ['LicenseAssignment.ReadWrite.All', 'User.Read.All', 'Organization.Read.All'],
  bulk: true,
  undo: 'licence.assign',
  reverse: ({ output, changes }) => licencesBack(output.userId, changes),
});

export const licenceRemoveAll = defineAction({
  id: 'licence.removeAll',
  title: 'Remove all licences',
  category: 'licence',
  description: 'Removes every directly assigned licence from a user (licences inherited from a group stay until the user leaves the group).',
  input: z.strictObject({ user: userRef }),
  output: z.object({ userId, removed: z.array(z.string()).describe('SKU part numbers removed') }),
  permissions: ['LicenseAssignment.ReadWrite.All', 'User.Read.All', 'Organization.Read.All'],
  bulk: true,
  reverse: ({ output, changes }) => licencesBack(output.userId, changes),
});

export const licenceSetServicePlans = defineAction({
  id: 'licence.setServicePlans',
  title: 'Enable or disable service plans',
  category: 'licence',
  description:
    'Switches individual service plans (e.g. Exchange, Teams, Yammer) of one licence on or off for a user, keeping the licence. ' +
    'Use "*" to mean every plan of the licence.',
  input: z.strictObject({
    user: userRef,
    licence: skuRef,
    enable: z.array(z.string()).default([]).describe('Service plans to switch on (plan name, id or "*")'),
    disable: z.array(z.string()).default([]).describe('Service plans to switch off (plan name, id or "*")'),
  }),
  output: z.object({
    userId,
    licence: z.string().describe('SKU part number'),
    disabledPlans: z.array(z.string()).describe('Names of the plans switched off after the step'),
    changed: z.boolean(),
  }),
  permissions: ['LicenseAssignment.ReadWrite.All', 'User.Read.All', 'Organization.Read.All'],
  bulk: true,
  reverse: ({ output, changes }) => {
    const c = changes[0];
    if (!c) return undoWith();
    const before = (c.before as string[] | null) ?? [];
    const after = (c.after as string[] | null) ?? [];
    const enable = after.filter((p) => !before.includes(p));
    const disable = before.filter((p) => !after.includes(p));
    return undoWith(step('licence.setServicePlans', { user: output.userId, licence: output.licence, enable, disable }, `service plans of ${output.licence} back`));
  },
});

export const licenceGetAvailable = defineAction({
  id: 'licence.getAvailable',
  title: 'Get available licences',
  category: 'licence',
  description:
    'Reads how many seats of each licence are bought, used and free, so a runbook can branch when none are free ' +
    '(e.g. steps.check.output.available > 0).',
  input: z.strictObject({
    licences: z.array(skuRef).default([]).describe('Licences to read; empty for all subscribed licences'),
  }),
  output: z.object({
    licences: z.array(
      z.object({
        skuId: z.string(),
        skuPartNumber: z.string(),
        enabled: z.number().describe('Seats bought and active'),
        consumed: z.number().describe('Seats assigned'),
        available: z.number().describe('Seats free'),
      }),
    ),
    available: z.number().describe('Free seats of the licences read, added up'),
  }),
  permissions: ['Organization.Read.All'],
  bulk: false,
  readOnly: true,
});

/** Assigns the removed licences again, each with the service plans that were switched off in it. */
function licencesBack(userId: string, changes: Change[]): Reversal {
  const disabled = new Map(related(changes, 'licence ').filter((r) => r.name.endsWith(' disabled plans')).map((r) => [r.name.replace(/ disabled plans$/, ''), r.change.before as string[]]));
  const removed = related(changes, 'licence ').filter((r) => !r.name.endsWith(' disabled plans') && r.change.before === true).map((r) => r.name);
  return undoWith(...removed.map((sku) => step('licence.assign', { user: userId, licences: [sku], disabledPlans: disabled.get(sku) ?? [] }, `give back ${sku}`)));
}
