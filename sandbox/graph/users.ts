// /users: create, read (by id or UPN), update, delete, list with OData, manager and direct reports,
// memberOf / transitiveMemberOf, revokeSignInSessions.
import { randomUUID } from 'node:crypto';
import { GraphError, badRequest, invalidProperty, objectConflict, insufficientPrivileges, notFound } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import { P } from '../permissions.ts';
import type { Ctx, Router } from '../runtime.ts';
import type { User } from '../store.ts';
import { newUser } from '../seed.ts';
import { memberOfRoutes } from './directory.ts';
import { bodyObject, checkWritable, collection, countReply, entity, odataContext, refId, replicated, requireDirectoryObject, requireUser, stringProp, boolProp } from './common.ts';
import { directoryObjectView, DIRECTORY_OBJECT_TYPE, EXTENSION_ATTRIBUTES, USER_READ_ONLY, USER_TYPE, USER_WRITABLE, userExpanders, userView } from './views.ts';

/** Entra's default password policy: 8-256 characters, three of lower, upper, digit, symbol. */
export function passwordOk(pw: string): boolean {
  if (pw.length < 8 || pw.length > 256) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(pw)).length;
  return classes >= 3;
}

const passwordComplexity = (): GraphError =>
  badRequest('The specified password does not comply with password complexity requirements. Please provide a different password.');

function checkUpn(ctx: Ctx, upn: string): void {
  const m = /^([A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+)@([A-Za-z0-9.-]+)$/.exec(upn);
  if (!m || m[1]!.startsWith('.') || m[1]!.endsWith('.') || m[1]!.length > 64) throw invalidProperty('userPrincipalName', 'User');
  if (!ctx.store.info.verifiedDomains.includes(m[2]!.toLowerCase())) {
    const message = 'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.';
    throw badRequest(message, [{ code: 'InvalidValue', message, target: 'userPrincipalName' }]);
  }
}

function checkMailNickname(nick: string): void {
  if (!/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$/.test(nick)) throw invalidProperty('mailNickname', 'User');
}

const STRING_FIELDS = [
  'givenName', 'surname', 'jobTitle', 'department', 'companyName', 'officeLocation', 'employeeId', 'employeeType', 'city', 'state', 'country',
  'streetAddress', 'postalCode', 'usageLocation', 'preferredLanguage', 'mobilePhone', 'passwordPolicies', 'ageGroup', 'onPremisesImmutableId',
  'employeeHireDate', 'employeeLeaveDateTime',
] as const;

/**
 * onPremisesExtensionAttributes merges: only the attributes named change, null clears one. Entra refuses
 * them on a user synchronised from on-premises AD (they are mastered there).
 */
function copyExtensionAttributes(user: User, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidProperty('onPremisesExtensionAttributes', 'User');
  if (user.onPremisesSyncEnabled)
    throw badRequest('Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.');
  const next = { ...user._extensionAttributes };
  for (const [k, v] of Object.entries(value)) {
    if (!EXTENSION_ATTRIBUTES.includes(k))
      throw badRequest(`Property '${k}' does not exist as a declared property or extension property.`);
    if (v !== null && (typeof v !== 'string' || v.length > 1024)) throw invalidProperty(`onPremisesExtensionAttributes.${k}`, 'User');
    if (v === null || v === '') delete next[k];
    else next[k] = v;
  }
  user._extensionAttributes = next;
}

/** Copies the plain writable fields of a create / update body onto a user, validating types. */
function copyFields(user: User, body: Record<string, unknown>): void {
  for (const key of STRING_FIELDS) {
    if (!(key in body)) continue;
    const v = body[key];
    if (v !== null && typeof v !== 'string') throw invalidProperty(key, 'User');
    if (key === 'usageLocation' && typeof v === 'string' && !/^[A-Za-z]{2}$/.test(v)) throw invalidProperty(key, 'User');
    (user as unknown as Record<string, unknown>)[key] = key === 'usageLocation' && typeof v === 'string' ? v.toUpperCase() : v;
  }
  for (const key of ['businessPhones', 'otherMails'] as const) {
    if (!(key in body)) continue;
    const v = body[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidProperty(key, 'User');
    if (key === 'businessPhones' && v.length > 1) throw badRequest("Invalid value specified for property 'businessPhones' of resource 'User'. Only one business phone is supported.");
    user[key] = v as string[];
  }
  if ('onPremisesExtensionAttributes' in body) copyExtensionAttributes(user, body['onPremisesExtensionAttributes']);
  if ('userType' in body) {
    if (body['userType'] !== 'Member' && body['userType'] !== 'Guest') throw invalidProperty('userType', 'User');
    user.userType = body['userType'];
  }
}

function passwordProfileOf(body: Record<string, unknown>, required: boolean): { password?: string; force?: boolean } | undefined {
  const pp = body['passwordProfile'];
  if (pp === undefined || pp === null) {
    if (required) throw badRequest("A value is required for property 'passwordProfile' of resource 'User'.");
    return undefined;
  }
  if (typeof pp !== 'object') throw invalidProperty('passwordProfile', 'User');
  const rec = pp as Record<string, unknown>;
  const password = rec['password'];
  if (required && (typeof password !== 'string' || !password)) throw badRequest("A value is required for property 'passwordProfile.password' of resource 'User'.");
  if (password !== undefined && (typeof password !== 'string' || !passwordOk(password))) throw passwordComplexity();
  const force = rec['forceChangePasswordNextSignIn'];
  return { password: password as string | undefined, force: typeof force === 'boolean' ? force : undefined };
}

function createUser(ctx: Ctx): User {
  const body = bodyObject(ctx);
  checkWritable(body, USER_WRITABLE, USER_READ_ONLY);
  const accountEnabled = boolProp(body, 'accountEnabled', 'User', true)!;
  const displayName = stringProp(body, 'displayName', 'User', true)!;
  const mailNickname = stringProp(body, 'mailNickname', 'User', true)!;
  const upn = stringProp(body, 'userPrincipalName', 'User', true)!;
  const pw = passwordProfileOf(body, true)!;
  checkMailNickname(mailNickname);
  checkUpn(ctx, upn);
  if (ctx.store.upnTaken(upn)) throw objectConflict('userPrincipalName');
  const mail = stringProp(body, 'mail', 'User', false);
  if (mail && ctx.store.addressOwner(mail)) throw objectConflict('proxyAddresses');
  const user = newUser(
    {
      id: randomUUID(),
      userPrincipalName: upn,
      displayName,
      mailNickname,
      accountEnabled,
      mail: mail ?? null,
      proxyAddresses: mail ? [`SMTP:${mail}`] : [],
      _password: pw.password!,
      _forceChangePasswordNextSignIn: pw.force ?? true,
    },
    ctx.nowMs,
  );
  user.createdDateTime = ctx.nowIso;
  copyFields(user, body);
  ctx.store.addUser(user);
  return user;
}

/** Some properties have their own narrower permission (e.g. accountEnabled: User.EnableDisableAccount.All). */
function checkUpdatePermission(ctx: Ctx, body: Record<string, unknown>): void {
  const roles = ctx.caller.roles;
  if (P.userWrite.some((r) => roles.has(r))) return;
  const allowed = new Set<string>();
  if (roles.has('User.EnableDisableAccount.All')) allowed.add('accountEnabled');
  if (roles.has('User-PasswordProfile.ReadWrite.All')) allowed.add('passwordProfile');
  if (roles.has('User-LifeCycleInfo.ReadWrite.All')) for (const k of ['employeeHireDate', 'employeeLeaveDateTime']) allowed.add(k);
  if (Object.keys(body).some((k) => !allowed.has(k))) throw insufficientPrivileges();
}

/** What directory synchronisation masters for a synced user: Entra ID refuses cloud writes to them. */
const SYNC_MASTERED = new Set([
  'accountEnabled', 'businessPhones', 'city', 'companyName', 'country', 'department', 'displayName', 'employeeId', 'employeeType', 'givenName',
  'jobTitle', 'mail', 'mailNickname', 'mobilePhone', 'officeLocation', 'onPremisesImmutableId', 'postalCode', 'state', 'streetAddress', 'surname',
  'userPrincipalName',
]);

function updateUser(ctx: Ctx, user: User): void {
  const body = bodyObject(ctx);
  checkWritable(body, USER_WRITABLE, USER_READ_ONLY);
  checkUpdatePermission(ctx, body);
  if (user.onPremisesSyncEnabled && Object.keys(body).some((k) => SYNC_MASTERED.has(k)))
    throw badRequest('Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.');
  const before = { ...user };
  const next: User = { ...user };
  if ('userPrincipalName' in body) {
    const upn = stringProp(body, 'userPrincipalName', 'User', true)!;
    checkUpn(ctx, upn);
    if (upn.toLowerCase() !== user.userPrincipalName.toLowerCase() && ctx.store.upnTaken(upn)) throw objectConflict('userPrincipalName');
    next.userPrincipalName = upn;
  }
  if ('displayName' in body) next.displayName = stringProp(body, 'displayName', 'User', true)!;
  if ('mailNickname' in body) {
    next.mailNickname = stringProp(body, 'mailNickname', 'User', true)!;
    checkMailNickname(next.mailNickname);
  }
  if ('accountEnabled' in body) next.accountEnabled = boolProp(body, 'accountEnabled', 'User', true)!;
  if ('mail' in body) {
    const mail = stringProp(body, 'mail', 'User', false) ?? null;
    const owner = mail ? ctx.store.addressOwner(mail) : undefined;
    if (owner && owner !== user.id) throw objectConflict('proxyAddresses');
    next.mail = mail;
    if (mail && !next.proxyAddresses.some((p) => p.replace(/^smtp:/i, '').toLowerCase() === mail.toLowerCase())) next.proxyAddresses = [`SMTP:${mail}`, ...next.proxyAddresses.map((p) => p.replace(/^SMTP:/, 'smtp:'))];
  }
  const pw = passwordProfileOf(body, false);
  if (pw?.password) {
    next._password = pw.password;
    next.lastPasswordChangeDateTime = ctx.nowIso;
  }
  if (pw?.force !== undefined) next._forceChangePasswordNextSignIn = pw.force;
  copyFields(next, body);
  Object.assign(user, next);
  ctx.store.updateUser(user, before);
}

export function registerUserRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/me',
      permissions: [],
      handler: () => {
        throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
      },
    },
    {
      method: 'GET',
      path: '/users',
      permissions: P.userRead,
      handler: (ctx) => {
        const users = [...ctx.store.users.values()].filter((u) => replicated(ctx, u));
        return collection(ctx, users, USER_TYPE, (u) => userView(ctx.store, u), 'users', undefined, userExpanders(ctx.store));
      },
    },
    {
      method: 'GET',
      path: '/users/$count',
      permissions: P.userRead,
      handler: (ctx) => countReply(ctx, ctx.store.users.size),
    },
    {
      method: 'POST',
      path: '/users',
      permissions: P.userWrite,
      handler: (ctx) => {
        const user = createUser(ctx);
        ctx.mutated('user.create', user.id);
        const view = userView(ctx.store, user);
        const body: Record<string, unknown> = { '@odata.context': odataContext(ctx, 'users/$entity') };
        for (const k of USER_TYPE.defaults!) body[k] = view[k] ?? null;
        return { status: 201, body, headers: { location: `${ctx.serviceRoot}/directoryObjects/${user.id}/Microsoft.DirectoryServices.User` } };
      },
    },
    {
      method: 'GET',
      path: '/users/:id',
      permissions: P.userRead,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        return entity(ctx, userView(ctx.store, user), USER_TYPE, 'users/$entity', user, userExpanders(ctx.store));
      },
    },
    {
      method: 'PATCH',
      path: '/users/:id',
      permissions: P.userManage,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        updateUser(ctx, user);
        ctx.mutated('user.update', user.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/users/:id',
      permissions: P.userWrite,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        ctx.store.softDeleteUser(user, ctx.nowIso, ctx.nowMs);
        ctx.mutated('user.delete', user.id);
        return { status: 204 };
      },
    },
    ...memberOfRoutes('users', requireUser),
    {
      method: 'GET',
      path: '/users/:id/manager',
      permissions: P.userRead,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const manager = user._managerId ? ctx.store.userById(user._managerId) : undefined;
        if (!manager) throw notFound('manager');
        return entity(ctx, { '@odata.type': '#microsoft.graph.user', ...userView(ctx.store, manager) }, USER_TYPE, 'directoryObjects/$entity');
      },
    },
    {
      method: 'PUT',
      path: '/users/:id/manager/$ref',
      permissions: P.userWrite,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const managerId = refId(bodyObject(ctx)['@odata.id']);
        const manager = requireDirectoryObject(ctx, managerId);
        if (manager.kind !== 'user') throw badRequest('Invalid object identifier for manager.');
        if (manager.object.id === user.id) throw badRequest('The manager cannot be the user itself.');
        ctx.store.setManager(user, manager.object.id);
        ctx.mutated('user.setManager', user.id, manager.object.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/users/:id/manager/$ref',
      permissions: P.userWrite,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        if (!user._managerId) throw notFound('manager');
        ctx.store.setManager(user, null);
        ctx.mutated('user.removeManager', user.id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/directReports',
      permissions: P.userRead,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const reports = ctx.store.directReports(user.id).map((id) => ctx.store.userById(id)!);
        return collection(ctx, reports, DIRECTORY_OBJECT_TYPE, (u) => directoryObjectView(ctx.store, { kind: 'user', object: u }), 'directoryObjects');
      },
    },
    {
      method: 'POST',
      path: '/users/:id/revokeSignInSessions',
      permissions: P.userRevoke,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        user.signInSessionsValidFromDateTime = ctx.nowIso;
        ctx.mutated('user.revokeSignInSessions', user.id);
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'Edm.Boolean'), value: true } };
      },
    },
  );
}
