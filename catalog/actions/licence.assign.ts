import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { skuRef, userRef } from '../fields.ts';

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
    userId: z.string(),
    assigned: z.array(z.string()).describe('SKU part numbers newly assigned'),
    alreadyAssigned: z.array(z.string()).describe('SKU part numbers the user already had'),
  }),
  permissions: ['User.ReadWrite.All', 'Organization.Read.All'],
  bulk: true,
  undo: 'licence.unassign',
});
