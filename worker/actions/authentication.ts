// Handlers of the authentication and MFA actions (catalog/actions/authentication.ts).
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/authentication.ts';
import type { Change } from '../../catalog/contract.ts';
import { implement } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import { change, propertyChanges, userObject } from './changes.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { deliverSecret, diff, getUser, REVOKE_SELECT, revokeSessionsOnce, unless404 } from './shared.ts';

interface RawMethod {
  id: string;
  '@odata.type'?: string;
  phoneNumber?: string;
  phoneType?: string;
  emailAddress?: string;
  displayName?: string;
  model?: string;
}

/** "#microsoft.graph.phoneAuthenticationMethod" -> "phone" */
const typeOf = (m: RawMethod) => (m['@odata.type'] ?? '').replace('#microsoft.graph.', '').replace(/AuthenticationMethod$/, '');

const view = (m: RawMethod) => ({
  id: m.id,
  type: typeOf(m),
  detail: m.phoneNumber ? `${m.phoneType ?? 'phone'} ${m.phoneNumber}` : (m.emailAddress ?? m.displayName ?? m.model ?? null),
});

async function methodsOf(graph: Client, userId: string): Promise<RawMethod[]> {
  return ((await graph.api(`/users/${userId}/authentication/methods`).get()) as { value: RawMethod[] }).value;
}

/** Changes to per-user MFA and sign-in preferences exist only in Graph beta. */
const beta = (graph: Client, path: string) => graph.api(path).version('beta');

export const authSetMfaState = implement(c.authSetMfaState, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const path = `/users/${user.id}/authentication/requirements`;
  const current = ((await beta(graph, path).get()) as { perUserMfaState?: string }).perUserMfaState ?? null;
  // "enabled" becomes "enforced" once the user registers a method: asking for enabled then is already done.
  const done = current === input.state || (input.state === 'enabled' && current === 'enforced');
  if (!done) await beta(graph, path).patch({ perUserMfaState: input.state });
  return { userId: user.id, previousState: current, state: done ? current! : input.state, changed: !done };
}, planAuthSetMfaState);

export const authListMethods = implement(c.authListMethods, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const methods = (await methodsOf(graph, user.id)).map(view);
  return { userId: user.id, methods, mfaRegistered: methods.some((m) => m.type !== 'password') };
});

export const authRemoveMethods = implement(c.authRemoveMethods, async (input, ctx) => {
  const { graph, heartbeat } = ctx;
  const user = await getUser(graph, input.user, REVOKE_SELECT);
  const all = await methodsOf(graph, user.id);
  const wanted = (m: RawMethod) => typeOf(m) !== 'password' && (!input.types?.length || (input.types as readonly string[]).includes(typeOf(m)));
  // Entra refuses to delete the default method while others remain: phones and email go last.
  const last = (m: RawMethod) => (['phone', 'email'].includes(typeOf(m)) ? 1 : 0);
  const targets = all.filter(wanted).sort((a, b) => last(a) - last(b));
  const removed: ReturnType<typeof view>[] = [];
  for (const m of targets) {
    if (await unless404(graph.api(`/users/${user.id}/authentication/${typeOf(m)}Methods/${m.id}`).delete())) removed.push(view(m));
    heartbeat({ removed: removed.length });
  }
  // A retry after a revocation whose answer was lost does not revoke again.
  if (input.revokeSessions) await revokeSessionsOnce(ctx, user);
  return { userId: user.id, removed, kept: all.filter((m) => !wanted(m)).map(view) };
}, planAuthRemoveMethods);

export const authCreateTemporaryAccessPass = implement(c.authCreateTemporaryAccessPass, async (input, ctx) => {
  const { graph } = ctx;
  const user = await getUser(graph, input.user);
  const path = `/users/${user.id}/authentication/temporaryAccessPassMethods`;
  // One pass per user: a retry (whose first pass went unseen) or an old pass is replaced.
  for (const old of ((await graph.api(path).get()) as { value: { id: string }[] }).value) await unless404(graph.api(`${path}/${old.id}`).delete());
  let pass: { temporaryAccessPass?: string; startDateTime?: string | null; lifetimeInMinutes?: number; isUsableOnce?: boolean };
  try {
    pass = await graph.api(path).post({ lifetimeInMinutes: input.lifetimeMinutes, isUsableOnce: input.usableOnce, ...(input.startDateTime ? { startDateTime: input.startDateTime } : {}) });
  } catch (err) {
    if (statusOf(err) === 400 && /policy|not enabled|disabled/i.test((err as Error).message))
      throw new ActionError(`a temporary access pass cannot be created for ${user.userPrincipalName}: ${(err as Error).message}`, {
        code: 'TemporaryAccessPassDisabled',
        hint: 'enable Temporary Access Pass in the tenant\'s authentication methods policy (for this user) and check the lifetime limits',
        status: 400,
      });
    throw err;
  }
  if (!pass.temporaryAccessPass) throw new ActionError('Entra did not return the temporary access pass', { code: 'NoPass', retryable: true });
  const sentTo = await deliverSecret(ctx, {
    to: input.sendTo,
    from: input.mailFrom,
    subject: `Temporary access pass for ${user.userPrincipalName}`,
    intro: `A temporary access pass was created for ${user.userPrincipalName}. It is valid for ${pass.lifetimeInMinutes ?? input.lifetimeMinutes} minutes${(pass.isUsableOnce ?? input.usableOnce) ? ' and for one sign-in' : ''}:`,
    secret: pass.temporaryAccessPass,
  });
  return {
    userId: user.id,
    sentTo,
    startDateTime: pass.startDateTime ?? null,
    lifetimeMinutes: pass.lifetimeInMinutes ?? input.lifetimeMinutes,
    usableOnce: pass.isUsableOnce ?? input.usableOnce,
  };
}, planAuthCreateTemporaryAccessPass);

export const authSetPreferredMethod = implement(c.authSetPreferredMethod, async (input, { graph }) => {
  if (input.method === undefined && input.systemPreferred === undefined) throw new ActionError('give a method or "system preferred"', { code: 'InvalidInput' });
  const user = await getUser(graph, input.user);
  const desired: Record<string, unknown> = {
    ...(input.method ? { userPreferredMethodForSecondaryAuthentication: input.method } : {}),
    ...(input.systemPreferred !== undefined ? { isSystemPreferredAuthenticationMethodEnabled: input.systemPreferred } : {}),
  };
  // Only what differs is written: a repeat (an earlier attempt's answer was lost) finds it set and writes nothing.
  const body = diff({ ...(await signInPreferences(graph, user.id)) }, desired);
  try {
    if (Object.keys(body).length) await beta(graph, `/users/${user.id}/authentication/signInPreferences`).patch(body);
  } catch (err) {
    if (statusOf(err) === 400 && input.method)
      throw new ActionError(`${input.method} cannot be the default method of ${user.userPrincipalName}: ${(err as Error).message}`, {
        code: 'MethodNotRegistered',
        hint: 'the user must have registered that method first (see "List authentication methods")',
        status: 400,
      });
    throw err;
  }
  return { userId: user.id, method: input.method ?? null, systemPreferred: input.systemPreferred ?? null };
}, planAuthSetPreferredMethod);

/** Entra's fixed ids of the three phone slots and the email method. */
const PHONE_SLOTS = {
  mobilePhone: { id: '3179e48a-750b-4051-897c-87b9720928f7', phoneType: 'mobile' },
  alternateMobilePhone: { id: 'b6332ec1-7057-4abe-9331-3d72feddfe41', phoneType: 'alternateMobile' },
  officePhone: { id: 'e37fc753-ff3b-4958-9484-eaa9425c82bc', phoneType: 'office' },
} as const;

export const userSetAuthenticationContact = implement(c.userSetAuthenticationContact, async (input, { graph }) => {
  const user = await getUser(graph, input.user);
  const base = `/users/${user.id}/authentication`;
  const changed: string[] = [];
  const phones = ((await graph.api(`${base}/phoneMethods`).get()) as { value: RawMethod[] }).value;
  for (const [key, slot] of Object.entries(PHONE_SLOTS) as [keyof typeof PHONE_SLOTS, (typeof PHONE_SLOTS)[keyof typeof PHONE_SLOTS]][]) {
    const want = input[key];
    if (want === undefined) continue;
    const have = phones.find((p) => p.id === slot.id || p.phoneType === slot.phoneType);
    if (want === null) {
      if (have && (await unless404(graph.api(`${base}/phoneMethods/${have.id}`).delete()))) changed.push(key);
    } else if (!have) {
      await graph.api(`${base}/phoneMethods`).post({ phoneNumber: want, phoneType: slot.phoneType });
      changed.push(key);
    } else if (have.phoneNumber?.replace(/\s/g, '') !== want.replace(/\s/g, '')) {
      await graph.api(`${base}/phoneMethods/${have.id}`).patch({ phoneNumber: want, phoneType: slot.phoneType });
      changed.push(key);
    }
  }
  if (input.email !== undefined) {
    const emails = ((await graph.api(`${base}/emailMethods`).get()) as { value: RawMethod[] }).value;
    const have = emails[0];
    if (input.email === null) {
      if (have && (await unless404(graph.api(`${base}/emailMethods/${have.id}`).delete()))) changed.push('email');
    } else if (!have) {
      await graph.api(`${base}/emailMethods`).post({ emailAddress: input.email });
      changed.push('email');
    } else if (have.emailAddress?.toLowerCase() !== input.email.toLowerCase()) {
      await graph.api(`${base}/emailMethods/${have.id}`).patch({ emailAddress: input.email });
      changed.push('email');
    }
  }
  return { userId: user.id, changed };
}, planUserSetAuthenticationContact);

// ---- plans ----

async function mfaState(graph: Client, userId: string): Promise<string | null> {
  return ((await beta(graph, `/users/${userId}/authentication/requirements`).get()) as { perUserMfaState?: string }).perUserMfaState ?? null;
}

async function planAuthSetMfaState(input: InputOf<typeof c.authSetMfaState>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user);
  const current = await mfaState(graph, user.id);
  const done = current === input.state || (input.state === 'enabled' && current === 'enforced');
  return done ? [] : [change(userObject(user), 'perUserMfaState', current, input.state, { objectId: user.id })];
}

async function planAuthRemoveMethods(input: InputOf<typeof c.authRemoveMethods>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user);
  const wanted = (m: RawMethod) => typeOf(m) !== 'password' && (!input.types?.length || (input.types as readonly string[]).includes(typeOf(m)));
  const targets = (await methodsOf(graph, user.id)).filter(wanted).map(view);
  const object = userObject(user);
  return [
    ...targets.map((m) => change(object, `method ${m.type}${m.detail ? ` ${m.detail}` : ''}`, true, false, { objectId: user.id, note: 'the user must register it again' })),
    ...(input.revokeSessions && targets.length ? [change(object, 'sign-in sessions', 'valid', 'revoked', { objectId: user.id })] : []),
  ];
}

async function planAuthCreateTemporaryAccessPass(input: InputOf<typeof c.authCreateTemporaryAccessPass>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user);
  const existing = ((await graph.api(`/users/${user.id}/authentication/temporaryAccessPassMethods`).get()) as { value: unknown[] }).value.length;
  return [
    change(userObject(user), 'temporary access pass', existing ? 'an existing pass (replaced)' : null, `valid ${input.lifetimeMinutes} minutes${input.usableOnce ? ', once' : ''}, sent to ${input.sendTo}`, {
      objectId: user.id,
      note: 'the pass is emailed, never shown',
    }),
  ];
}

interface SignInPreferences {
  userPreferredMethodForSecondaryAuthentication?: string | null;
  isSystemPreferredAuthenticationMethodEnabled?: boolean | null;
}

/** The user's sign-in preferences (beta GET /users/{id}/authentication/signInPreferences). */
async function signInPreferences(graph: Client, userId: string): Promise<SignInPreferences> {
  return (await beta(graph, `/users/${userId}/authentication/signInPreferences`).get()) as SignInPreferences;
}

async function planAuthSetPreferredMethod(input: InputOf<typeof c.authSetPreferredMethod>, { graph }: PlanContext): Promise<Change[]> {
  if (input.method === undefined && input.systemPreferred === undefined) throw new ActionError('give a method or "system preferred"', { code: 'InvalidInput' });
  const user = await getUser(graph, input.user);
  const prefs = await signInPreferences(graph, user.id);
  return propertyChanges(userObject(user), user.id, { method: prefs.userPreferredMethodForSecondaryAuthentication ?? null, systemPreferred: prefs.isSystemPreferredAuthenticationMethodEnabled ?? null }, {
    ...(input.method !== undefined ? { method: input.method } : {}),
    ...(input.systemPreferred !== undefined ? { systemPreferred: input.systemPreferred } : {}),
  });
}

async function planUserSetAuthenticationContact(input: InputOf<typeof c.userSetAuthenticationContact>, { graph }: PlanContext): Promise<Change[]> {
  const user = await getUser(graph, input.user);
  const base = `/users/${user.id}/authentication`;
  const current: Record<string, string | null> = {};
  const phones = ((await graph.api(`${base}/phoneMethods`).get()) as { value: RawMethod[] }).value;
  const digits = (s: string | null | undefined) => s?.replace(/\s/g, '') ?? null;
  const desired: Record<string, unknown> = {};
  for (const [key, slot] of Object.entries(PHONE_SLOTS) as [keyof typeof PHONE_SLOTS, (typeof PHONE_SLOTS)[keyof typeof PHONE_SLOTS]][]) {
    if (input[key] === undefined) continue;
    const have = phones.find((p) => p.id === slot.id || p.phoneType === slot.phoneType)?.phoneNumber ?? null;
    current[key] = have;
    if (digits(have) !== digits(input[key])) desired[key] = input[key];
  }
  if (input.email !== undefined) {
    const have = ((await graph.api(`${base}/emailMethods`).get()) as { value: RawMethod[] }).value[0]?.emailAddress ?? null;
    current['email'] = have;
    if (have?.toLowerCase() !== input.email?.toLowerCase()) desired['email'] = input.email;
  }
  return Object.entries(desired).map(([k, v]) => change(userObject(user), k, current[k], v, { objectId: user.id }));
}
