import { randomInt } from 'node:crypto';
import { userCreate } from '../../catalog/actions/user.create.ts';
import { implement } from '../activity.ts';
import { ActionError, statusOf } from '../errors.ts';
import type { GraphUser } from '../graph.ts';

/** A temporary password that meets Entra's complexity rules; it never leaves the worker. */
export function generatePassword(length = 16): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!#$%&*+-=?@'];
  const all = sets.join('');
  const chars = sets.map((s) => s[randomInt(s.length)]!);
  while (chars.length < length) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

export default implement(userCreate, async (input, { graph, attempt }) => {
  const upn = input.userPrincipalName;
  const existing = await graph
    .api(`/users/${encodeURIComponent(upn)}`)
    .select('id,userPrincipalName,displayName')
    .get()
    .then((u: GraphUser) => u)
    .catch((err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    });
  if (existing) {
    // A retry after an attempt that created the user but never reported back finds its own user.
    if (attempt > 1 && existing.displayName === input.displayName)
      return { id: existing.id, userPrincipalName: existing.userPrincipalName, created: false };
    throw new ActionError(`user ${upn} already exists`, {
      code: 'ObjectConflict',
      hint: 'pick another user principal name, or use "Edit user" to change the existing user',
      status: 400,
    });
  }
  const body = {
    accountEnabled: input.accountEnabled,
    userPrincipalName: upn,
    displayName: input.displayName,
    mailNickname: input.mailNickname ?? upn.split('@')[0]!.replace(/[^A-Za-z0-9._-]/g, ''),
    givenName: input.givenName,
    surname: input.surname,
    jobTitle: input.jobTitle,
    department: input.department,
    officeLocation: input.officeLocation,
    mobilePhone: input.mobilePhone,
    usageLocation: input.usageLocation,
    passwordProfile: { forceChangePasswordNextSignIn: true, password: generatePassword() },
  };
  try {
    const created = (await graph.api('/users').post(body)) as GraphUser;
    return { id: created.id, userPrincipalName: created.userPrincipalName, created: true };
  } catch (err) {
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode === 400 && /already exists|ObjectConflict/i.test(e.message ?? ''))
      throw new ActionError(`user ${upn} already exists`, { code: 'ObjectConflict', status: 400 });
    throw err;
  }
});
