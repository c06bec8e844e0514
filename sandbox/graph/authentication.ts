// /users/{id}/authentication: methods (password, phone, email, Microsoft Authenticator, FIDO2,
// Temporary Access Pass), and per-user MFA state (beta /authentication/requirements).
import { randomUUID } from 'node:crypto';
import { badRequest, GraphError, notFound } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import type { Ctx, RouteDef, Router } from '../runtime.ts';
import type { User } from '../store.ts';
import { bodyObject, collection, odataContext, requireUser } from './common.ts';

const READ = ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'];
const WRITE = ['UserAuthenticationMethod.ReadWrite.All'];

export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
const PHONE_IDS: Record<string, string> = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
};
const EMAIL_METHOD_ID = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';

export interface AuthMethod {
  '@odata.type': string;
  id: string;
  [k: string]: unknown;
}

interface AuthState {
  methods: AuthMethod[];
  perUserMfaState: 'disabled' | 'enabled' | 'enforced';
  /** signInPreferences; absent = Microsoft-managed defaults (system-preferred on, default derived from the methods). */
  preferred?: string | null;
  systemPreferred?: boolean;
}

/** userDefaultAuthenticationMethodType values and the registered method each one needs. */
const PREFERRED_NEEDS: Record<string, (m: AuthMethod) => boolean> = {
  push: (m) => m['@odata.type'] === '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
  oath: (m) => m['@odata.type'] === '#microsoft.graph.softwareOathAuthenticationMethod' || m['@odata.type'] === '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
  sms: (m) => m['phoneType'] === 'mobile',
  voiceMobile: (m) => m['phoneType'] === 'mobile',
  voiceAlternateMobile: (m) => m['phoneType'] === 'alternateMobile',
  voiceOffice: (m) => m['phoneType'] === 'office',
};

/** The strongest registered second factor, as system-preferred MFA would pick it. */
function strongestMethod(state: AuthState): string | null {
  for (const kind of ['push', 'oath', 'voiceOffice', 'sms', 'voiceAlternateMobile']) if (state.methods.some(PREFERRED_NEEDS[kind]!)) return kind;
  return null;
}

function signInPreferencesView(state: AuthState): Record<string, unknown> {
  const preferred = state.preferred !== undefined ? state.preferred : strongestMethod(state);
  // A default whose method has since been removed is no longer usable.
  const usable = preferred && state.methods.some(PREFERRED_NEEDS[preferred]!) ? preferred : null;
  return {
    isSystemPreferredAuthenticationMethodEnabled: state.systemPreferred ?? true,
    userPreferredMethodForSecondaryAuthentication: usable,
    systemPreferredAuthenticationMethod: (state.systemPreferred ?? true) ? strongestMethod(state) : null,
  };
}

/** Seeded users mostly have Authenticator and a mobile phone; derived from the id so it costs nothing until touched. */
function defaultState(user: User): AuthState {
  const methods: AuthMethod[] = [{ '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: user.createdDateTime }];
  const roll = parseInt(user.id.slice(0, 2), 16);
  if (user.userType === 'Member' && user._password === null && roll < 205) {
    methods.push({
      '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
      id: `${user.id.slice(0, 8)}-a0a0-4a0a-8a0a-${user.id.slice(-12)}`,
      displayName: roll % 2 ? 'iPhone 15' : 'Pixel 8',
      deviceTag: 'SoftwareTokenActivated',
      phoneAppVersion: '6.8.10',
      createdDateTime: user.createdDateTime,
    });
    if (user.mobilePhone) methods.push({ '@odata.type': '#microsoft.graph.phoneAuthenticationMethod', id: PHONE_IDS['mobile']!, phoneNumber: user.mobilePhone, phoneType: 'mobile', smsSignInState: 'notAllowedByPolicy' });
  }
  return { methods, perUserMfaState: 'disabled' };
}

export function authState(ctx: Ctx, user: User): AuthState {
  return ctx.store.userState(user.id, 'authentication', () => defaultState(user));
}

const METHOD_TYPE: TypeInfo = {
  name: 'microsoft.graph.authenticationMethod',
  properties: new Set(['id', '@odata.type', 'createdDateTime', 'phoneNumber', 'phoneType', 'smsSignInState', 'emailAddress', 'displayName', 'deviceTag', 'phoneAppVersion', 'model', 'aaGuid', 'attestationLevel', 'startDateTime', 'lifetimeInMinutes', 'isUsableOnce', 'isUsable', 'methodUsabilityReason', 'temporaryAccessPass', 'password']),
};

interface Kind {
  segment: string;
  odataType: string;
  create?: (ctx: Ctx, user: User, state: AuthState, body: Record<string, unknown>) => AuthMethod;
}

function tapView(m: AuthMethod, nowMs: number): AuthMethod {
  const start = Date.parse(String(m['startDateTime']));
  const end = start + Number(m['lifetimeInMinutes']) * 60_000;
  const usable = nowMs >= start && nowMs < end && !m['_used'];
  const { temporaryAccessPass: _secret, _used, ...rest } = m;
  // Graph keeps the property on reads, as null: the pass itself is shown only in the answer to POST.
  return { ...rest, temporaryAccessPass: null, isUsable: usable, methodUsabilityReason: usable ? 'EnabledByPolicy' : nowMs >= end ? 'Expired' : nowMs < start ? 'NotYetValid' : 'OneTimeUsed' };
}

const KINDS: Kind[] = [
  {
    segment: 'phoneMethods',
    odataType: '#microsoft.graph.phoneAuthenticationMethod',
    create: (_ctx, _user, state, body) => {
      const phoneType = String(body['phoneType'] ?? '');
      const phoneNumber = body['phoneNumber'];
      if (!PHONE_IDS[phoneType]) throw badRequest("Invalid value specified for property 'phoneType'.");
      if (typeof phoneNumber !== 'string' || !/^\+\d{1,3} \d{4,14}(x\d+)?$/.test(phoneNumber)) throw badRequest("Invalid value specified for property 'phoneNumber'. Expected format: +{country code} {number}x{extension}.");
      if (state.methods.some((m) => m.id === PHONE_IDS[phoneType])) throw new GraphError(409, 'conflict', `A phone method of type ${phoneType} already exists for this user.`);
      return { '@odata.type': '#microsoft.graph.phoneAuthenticationMethod', id: PHONE_IDS[phoneType]!, phoneNumber, phoneType, smsSignInState: 'notAllowedByPolicy' };
    },
  },
  {
    segment: 'emailMethods',
    odataType: '#microsoft.graph.emailAuthenticationMethod',
    create: (_ctx, _user, state, body) => {
      const emailAddress = body['emailAddress'];
      if (typeof emailAddress !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(emailAddress)) throw badRequest("Invalid value specified for property 'emailAddress'.");
      if (state.methods.some((m) => m.id === EMAIL_METHOD_ID)) throw new GraphError(409, 'conflict', 'An email method already exists for this user.');
      return { '@odata.type': '#microsoft.graph.emailAuthenticationMethod', id: EMAIL_METHOD_ID, emailAddress };
    },
  },
  { segment: 'microsoftAuthenticatorMethods', odataType: '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod' },
  { segment: 'fido2Methods', odataType: '#microsoft.graph.fido2AuthenticationMethod' },
  { segment: 'softwareOathMethods', odataType: '#microsoft.graph.softwareOathAuthenticationMethod' },
  { segment: 'windowsHelloForBusinessMethods', odataType: '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod' },
  {
    segment: 'temporaryAccessPassMethods',
    odataType: '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
    create: (ctx, _user, state, body) => {
      if (state.methods.some((m) => m['@odata.type'] === '#microsoft.graph.temporaryAccessPassAuthenticationMethod')) {
        throw badRequest('User already has a Temporary Access Pass. Delete it before creating a new one.');
      }
      const lifetime = body['lifetimeInMinutes'] ?? 60;
      if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 10 || lifetime > 43200) {
        throw badRequest('The lifetime of a Temporary Access Pass must be between 10 and 43200 minutes.');
      }
      const start = body['startDateTime'] === undefined ? ctx.nowIso : String(body['startDateTime']);
      if (Number.isNaN(Date.parse(start))) throw badRequest("Invalid value specified for property 'startDateTime'.");
      const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789@#$%&*+=?';
      const pass = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => alphabet[b % alphabet.length]).join('');
      return {
        '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
        id: randomUUID(),
        temporaryAccessPass: pass,
        createdDateTime: ctx.nowIso,
        startDateTime: new Date(start).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        lifetimeInMinutes: lifetime,
        isUsableOnce: body['isUsableOnce'] === true,
      };
    },
  },
];

const view = (ctx: Ctx, m: AuthMethod): Record<string, unknown> =>
  m['@odata.type'] === '#microsoft.graph.temporaryAccessPassAuthenticationMethod' ? tapView(m, ctx.nowMs) : m;

function kindRoutes(kind: Kind): RouteDef[] {
  const base = `/users/:id/authentication/${kind.segment}`;
  const find = (ctx: Ctx) => {
    const user = requireUser(ctx, ctx.params['id']!);
    const state = authState(ctx, user);
    const method = state.methods.find((m) => m['@odata.type'] === kind.odataType && m.id === ctx.params['methodId']!.toLowerCase());
    if (!method) throw notFound(ctx.params['methodId']!);
    return { user, state, method };
  };
  const routes: RouteDef[] = [
    {
      method: 'GET',
      path: base,
      permissions: READ,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const methods = authState(ctx, user).methods.filter((m) => m['@odata.type'] === kind.odataType);
        return collection(ctx, methods, METHOD_TYPE, (m) => view(ctx, m), `users('${user.id}')/authentication/${kind.segment}`);
      },
    },
    {
      method: 'GET',
      path: `${base}/:methodId`,
      permissions: READ,
      handler: (ctx) => ({ status: 200, body: { '@odata.context': odataContext(ctx, `users('${ctx.params['id']}')/authentication/${kind.segment}/$entity`), ...view(ctx, find(ctx).method) } }),
    },
    {
      method: 'DELETE',
      path: `${base}/:methodId`,
      permissions: WRITE,
      handler: (ctx) => {
        const { user, state, method } = find(ctx);
        state.methods = state.methods.filter((m) => m !== method);
        ctx.mutated('user.deleteAuthenticationMethod', user.id);
        return { status: 204 };
      },
    },
  ];
  if (kind.create) {
    const create = kind.create;
    routes.push({
      method: 'POST',
      path: base,
      permissions: WRITE,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const state = authState(ctx, user);
        const method = create(ctx, user, state, bodyObject(ctx));
        state.methods.push(method);
        ctx.mutated(`user.add${kind.segment[0]!.toUpperCase()}${kind.segment.slice(1, -1)}`, user.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, `users('${user.id}')/authentication/${kind.segment}/$entity`), ...method } };
      },
    });
  }
  return routes;
}

export function registerAuthenticationRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/users/:id/authentication/methods',
      permissions: READ,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        return collection(ctx, authState(ctx, user).methods, METHOD_TYPE, (m) => view(ctx, m), `users('${user.id}')/authentication/methods`);
      },
    },
    ...KINDS.flatMap(kindRoutes),
    {
      method: 'GET',
      path: '/users/:id/authentication/signInPreferences',
      permissions: READ,
      betaOnly: true,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        return { status: 200, body: { '@odata.context': odataContext(ctx, `users('${user.id}')/authentication/signInPreferences`), ...signInPreferencesView(authState(ctx, user)) } };
      },
    },
    {
      method: 'PATCH',
      path: '/users/:id/authentication/signInPreferences',
      permissions: WRITE,
      betaOnly: true,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const state = authState(ctx, user);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body))
          if (k !== 'userPreferredMethodForSecondaryAuthentication' && k !== 'isSystemPreferredAuthenticationMethodEnabled')
            throw badRequest(`The property '${k}' does not exist on type 'microsoft.graph.signInPreferences'. Make sure to only use property names that are defined by the type.`);
        const system = body['isSystemPreferredAuthenticationMethodEnabled'];
        if (system !== undefined && typeof system !== 'boolean') throw badRequest("Invalid value specified for property 'isSystemPreferredAuthenticationMethodEnabled'.");
        const method = body['userPreferredMethodForSecondaryAuthentication'];
        if (method !== undefined) {
          if (typeof method !== 'string' || !(method in PREFERRED_NEEDS)) throw badRequest("Invalid value specified for property 'userPreferredMethodForSecondaryAuthentication'.");
          // Entra refuses a default the user has not registered (the exact message is a sandbox choice).
          if (!state.methods.some(PREFERRED_NEEDS[method]!)) throw badRequest(`The user does not have a registered authentication method for '${method}'.`);
          state.preferred = method;
        }
        if (typeof system === 'boolean') state.systemPreferred = system;
        ctx.mutated('user.setSignInPreferences', user.id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/authentication/requirements',
      permissions: ['Policy.ReadWrite.AuthenticationMethod', ...READ],
      betaOnly: true,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        return { status: 200, body: { '@odata.context': odataContext(ctx, `users('${user.id}')/authentication/requirements/$entity`), perUserMfaState: authState(ctx, user).perUserMfaState } };
      },
    },
    {
      method: 'PATCH',
      path: '/users/:id/authentication/requirements',
      permissions: ['Policy.ReadWrite.AuthenticationMethod'],
      betaOnly: true,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const value = bodyObject(ctx)['perUserMfaState'];
        if (value !== 'disabled' && value !== 'enabled' && value !== 'enforced') throw badRequest("Invalid value specified for property 'perUserMfaState'.");
        authState(ctx, user).perUserMfaState = value;
        ctx.mutated('user.setPerUserMfaState', user.id);
        return { status: 204 };
      },
    },
  );
}
