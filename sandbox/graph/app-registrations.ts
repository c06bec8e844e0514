// App registrations: /applications list / get / POST / PATCH / DELETE (soft delete: 30 days in
// directory/deletedItems, restorable), addPassword / removePassword (a secret added here really
// signs in at the token endpoint once the app has a service principal), certificates as
// keyCredentials (PATCH replaces the list; `key` is the certificate, base64 DER, returned only with
// $select=keyCredentials on one application; a certificate registered here really signs in), and
// owners (/applications/{id}/owners, $ref add and remove). Unknown and read-only properties are
// refused with Graph's 400s.
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { badRequest, GraphError, notFound } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import { P } from '../permissions.ts';
import type { Ctx, Router } from '../runtime.ts';
import { certificatesOf, replaceCertificates, type AppCertificate } from '../oidc.ts';
import { randomSecret, type AppRegistration, type AppRole, type AppSecret, type TenantStore } from '../store.ts';
import { bodyObject, collection, entity, odataContext, refId, stringProp } from './common.ts';
import { directoryObjectView } from './views.ts';

const READ = ['Application.Read.All', 'Application.ReadWrite.All', ...P.directoryRead];
const WRITE = ['Application.ReadWrite.All'];

export const APP_TYPE: TypeInfo = {
  name: 'microsoft.graph.application',
  properties: new Set([
    'id', 'appId', 'displayName', 'createdDateTime', 'deletedDateTime', 'description', 'notes', 'signInAudience', 'publisherDomain', 'passwordCredentials',
    'keyCredentials', 'requiredResourceAccess', 'identifierUris', 'tags', 'web', 'appRoles',
  ]),
};

/** Properties a client may set on create and PATCH; the others of APP_TYPE are read-only. */
const WRITABLE = new Set(['displayName', 'description', 'notes', 'signInAudience', 'web', 'identifierUris', 'tags', 'appRoles', 'keyCredentials', 'requiredResourceAccess']);
const AUDIENCES = ['AzureADMyOrg', 'AzureADMultipleOrgs', 'AzureADandPersonalMicrosoftAccount', 'PersonalMicrosoftAccount'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TWO_YEARS_MS = 2 * 365 * 24 * 3600 * 1000;

interface ResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: 'Role' | 'Scope' }[];
}

/** requiredResourceAccess lives with the other Graph-set properties (not on the admin API's grant). */
const requested = (store: TenantStore): Record<string, ResourceAccess[]> => store.tenantState('appRequiredResourceAccess', () => ({}));

const passwordView = (s: AppSecret) => ({ customKeyIdentifier: null, displayName: s.displayName, endDateTime: s.endDateTime, hint: s.hint, keyId: s.keyId, secretText: null, startDateTime: s.startDateTime });

const keyView = (c: AppCertificate, withKey: boolean) => ({
  customKeyIdentifier: Buffer.from(c.thumbprint, 'hex').toString('base64'),
  displayName: c.displayName,
  endDateTime: c.endDateTime,
  key: withKey ? new X509Certificate(c.certificatePem).raw.toString('base64') : null,
  keyId: c.keyId,
  startDateTime: c.startDateTime,
  type: 'AsymmetricX509Cert',
  usage: 'Verify',
});

export function appView(store: TenantStore, app: AppRegistration, opts: { withKeys?: boolean; deletedDateTime?: string } = {}): Record<string, unknown> {
  return {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    createdDateTime: app.createdDateTime.replace(/\.\d{3}Z$/, 'Z'),
    deletedDateTime: opts.deletedDateTime ?? null,
    description: app.description ?? null,
    notes: app.notes ?? null,
    signInAudience: app.signInAudience ?? 'AzureADMyOrg',
    publisherDomain: store.info.initialDomain,
    passwordCredentials: app.secrets.map(passwordView),
    keyCredentials: certificatesOf(store, app.appId).map((c) => keyView(c, opts.withKeys === true)),
    requiredResourceAccess: requested(store)[app.appId] ?? [],
    identifierUris: app.identifierUris ?? [],
    tags: app.tags ?? [],
    web: app.web ?? { redirectUris: [], homePageUrl: null, logoutUrl: null },
    appRoles: app.appRoles ?? [],
  };
}

function requireApp(ctx: Ctx): AppRegistration {
  const id = ctx.params['id']!.toLowerCase();
  const app = [...ctx.store.apps.values()].find((a) => a.id === id);
  if (!app) throw notFound(id);
  return app;
}

const invalid = (prop: string, why: string): GraphError => badRequest(`Invalid value specified for property '${prop}' of resource 'Application': ${why}`);

function stringList(v: unknown, prop: string, check?: (s: string) => boolean, why = 'a list of strings is expected'): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || (check && !check(x)))) throw invalid(prop, why);
  return [...new Set(v as string[])];
}

function isRedirectUri(u: string): boolean {
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
  } catch {
    return false;
  }
}

function webProp(v: unknown): NonNullable<AppRegistration['web']> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid('web', 'an object is expected');
  const w = v as Record<string, unknown>;
  for (const k of Object.keys(w)) if (!['redirectUris', 'homePageUrl', 'logoutUrl'].includes(k)) throw badRequest(`Property '${k}' does not exist as a declared property or extension property on type 'microsoft.graph.webApplication'.`);
  const url = (x: unknown, prop: string): string | null => {
    if (x === undefined || x === null) return null;
    if (typeof x !== 'string' || !isRedirectUri(x)) throw invalid(prop, 'an https URL is expected');
    return x;
  };
  return {
    redirectUris: w['redirectUris'] === undefined ? [] : stringList(w['redirectUris'], 'web.redirectUris', isRedirectUri, 'redirect URIs must be https (http only for localhost)'),
    homePageUrl: url(w['homePageUrl'], 'web.homePageUrl'),
    logoutUrl: url(w['logoutUrl'], 'web.logoutUrl'),
  };
}

function appRolesProp(v: unknown, current: AppRole[]): AppRole[] {
  if (!Array.isArray(v)) throw invalid('appRoles', 'a list of appRole objects is expected');
  const roles = v.map((raw): AppRole => {
    const r = (raw ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!['id', 'allowedMemberTypes', 'description', 'displayName', 'isEnabled', 'value', 'origin', '@odata.type'].includes(k)) throw badRequest(`Property '${k}' does not exist as a declared property or extension property on type 'microsoft.graph.appRole'.`);
    if (typeof r['id'] !== 'string' || !GUID.test(r['id'])) throw invalid('appRoles.id', 'each app role needs a GUID id');
    const types = stringList(r['allowedMemberTypes'], 'appRoles.allowedMemberTypes', (t) => t === 'User' || t === 'Application', 'User and/or Application');
    if (types.length === 0) throw invalid('appRoles.allowedMemberTypes', 'at least one member type is required');
    if (typeof r['displayName'] !== 'string' || !r['displayName']) throw invalid('appRoles.displayName', 'a display name is required');
    const value = r['value'] === undefined || r['value'] === null ? null : String(r['value']);
    if (value !== null && (/\s/.test(value) || value.startsWith('.'))) throw invalid('appRoles.value', 'a value has no spaces and does not start with a dot');
    return { id: r['id'].toLowerCase(), allowedMemberTypes: types, description: typeof r['description'] === 'string' ? r['description'] : '', displayName: r['displayName'], isEnabled: r['isEnabled'] !== false, value, origin: 'Application' };
  });
  const ids = roles.map((r) => r.id);
  if (new Set(ids).size !== ids.length) throw invalid('appRoles', 'app role ids must be unique');
  const values = roles.map((r) => r.value).filter((x) => x !== null);
  if (new Set(values).size !== values.length) throw invalid('appRoles', 'app role values must be unique');
  // Entra refuses to delete an enabled role: it must be disabled (isEnabled false) in an earlier update.
  for (const old of current) if (old.isEnabled && !ids.includes(old.id)) throw badRequest(`Property 'appRoles' is invalid: the app role '${old.displayName}' must be disabled before it is deleted.`);
  return roles;
}

function requiredAccessProp(v: unknown): ResourceAccess[] {
  if (!Array.isArray(v)) throw invalid('requiredResourceAccess', 'a list is expected');
  return v.map((raw) => {
    const r = (raw ?? {}) as Record<string, unknown>;
    if (typeof r['resourceAppId'] !== 'string' || !GUID.test(r['resourceAppId']) || !Array.isArray(r['resourceAccess'])) throw invalid('requiredResourceAccess', 'resourceAppId (a GUID) and resourceAccess are required');
    const access = (r['resourceAccess'] as Record<string, unknown>[]).map((a) => {
      if (typeof a?.['id'] !== 'string' || !GUID.test(a['id']) || (a['type'] !== 'Role' && a['type'] !== 'Scope')) throw invalid('requiredResourceAccess.resourceAccess', 'id (a GUID) and type Role or Scope are required');
      return { id: a['id'], type: a['type'] as 'Role' | 'Scope' };
    });
    return { resourceAppId: r['resourceAppId'], resourceAccess: access };
  });
}

/** keyCredentials replace the app's certificates: existing ones must be sent again (with their key). */
function keyCredentialsProp(store: TenantStore, app: AppRegistration, v: unknown): AppCertificate[] {
  if (!Array.isArray(v)) throw invalid('keyCredentials', 'a list of keyCredential objects is expected');
  const existing = certificatesOf(store, app.appId);
  const out = v.map((raw): AppCertificate => {
    const k = (raw ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(k)) if (!['customKeyIdentifier', 'displayName', 'endDateTime', 'key', 'keyId', 'startDateTime', 'type', 'usage', '@odata.type'].includes(key)) throw badRequest(`Property '${key}' does not exist as a declared property or extension property on type 'microsoft.graph.keyCredential'.`);
    if (k['type'] !== 'AsymmetricX509Cert') throw invalid('keyCredentials.type', "the sandbox emulates certificates only: 'AsymmetricX509Cert'");
    if (k['usage'] !== 'Verify') throw invalid('keyCredentials.usage', "a certificate credential has usage 'Verify'");
    if (typeof k['key'] !== 'string' || !k['key']) throw invalid('keyCredentials.key', 'the certificate (base64 DER) is required for every key credential, including the ones already on the application');
    let x: X509Certificate;
    try {
      x = new X509Certificate(Buffer.from(k['key'], 'base64'));
    } catch {
      throw invalid('keyCredentials.key', 'not an X.509 certificate (base64 DER)');
    }
    if (k['keyId'] !== undefined && (typeof k['keyId'] !== 'string' || !GUID.test(k['keyId']))) throw invalid('keyCredentials.keyId', 'a GUID is expected');
    const validFrom = Date.parse(x.validFrom);
    const validTo = Date.parse(x.validTo);
    const start = typeof k['startDateTime'] === 'string' ? Date.parse(k['startDateTime']) : validFrom;
    const end = typeof k['endDateTime'] === 'string' ? Date.parse(k['endDateTime']) : validTo;
    if (Number.isNaN(start) || Number.isNaN(end) || start < validFrom - 1000 || end > validTo + 1000 || end <= start)
      throw invalid('keyCredentials.endDateTime', "the key credential's dates must lie within the certificate's validity");
    const sha1 = createHash('sha1').update(x.raw).digest();
    const thumbprint = sha1.toString('hex').toUpperCase();
    const keyId = typeof k['keyId'] === 'string' ? k['keyId'].toLowerCase() : (existing.find((c) => c.thumbprint === thumbprint)?.keyId ?? randomUUID());
    return {
      keyId,
      displayName: typeof k['displayName'] === 'string' ? k['displayName'] : `CN=${/CN=([^\n,]+)/.exec(x.subject)?.[1] ?? x.subject}`,
      certificatePem: x.toString(),
      thumbprint,
      x5t: sha1.toString('base64url'),
      x5tS256: createHash('sha256').update(x.raw).digest('base64url'),
      startDateTime: new Date(start).toISOString(),
      endDateTime: new Date(end).toISOString(),
    };
  });
  const prints = out.map((c) => c.thumbprint);
  if (new Set(prints).size !== prints.length) throw badRequest('Property keyCredentials has duplicate certificates: the same certificate is listed twice.');
  const keyIds = out.map((c) => c.keyId);
  if (new Set(keyIds).size !== keyIds.length) throw badRequest('Property keyCredentials has duplicate keyIds.');
  return out;
}

/** Applies a create or PATCH body to a copy; nothing changes unless every property is valid. */
function applyBody(ctx: Ctx, app: AppRegistration, body: Record<string, unknown>): { next: AppRegistration; certs?: AppCertificate[]; access?: ResourceAccess[] } {
  for (const k of Object.keys(body)) {
    if (k.startsWith('@odata.')) continue;
    if (APP_TYPE.properties.has(k) && !WRITABLE.has(k)) throw badRequest(`Property '${k}' is read-only and cannot be set.${k === 'passwordCredentials' ? ' Use addPassword and removePassword.' : ''}`);
    if (!WRITABLE.has(k)) throw badRequest(`Property '${k}' does not exist as a declared property or extension property.`);
  }
  const next: AppRegistration = structuredClone(app);
  if ('displayName' in body) {
    const name = stringProp(body, 'displayName', 'Application', true)!;
    if (name.length > 256) throw invalid('displayName', 'at most 256 characters');
    next.displayName = name;
  }
  for (const k of ['description', 'notes'] as const) {
    if (!(k in body)) continue;
    const v = body[k];
    if (v !== null && typeof v !== 'string') throw invalid(k, 'a string is expected');
    if (typeof v === 'string' && v.length > (k === 'notes' ? 1024 : 1024)) throw invalid(k, 'at most 1024 characters');
    next[k] = v as string | null;
  }
  if ('signInAudience' in body) {
    if (!AUDIENCES.includes(body['signInAudience'] as string)) throw invalid('signInAudience', `one of ${AUDIENCES.join(', ')}`);
    next.signInAudience = body['signInAudience'] as string;
  }
  if ('web' in body) next.web = webProp(body['web']);
  if ('identifierUris' in body) next.identifierUris = stringList(body['identifierUris'], 'identifierUris', (u) => /^(api:\/\/|https:\/\/|urn:)\S+$/.test(u), 'identifier URIs start with api://, https:// or urn:');
  if ('tags' in body) next.tags = stringList(body['tags'], 'tags', (t) => t.length <= 256);
  if ('appRoles' in body) next.appRoles = appRolesProp(body['appRoles'], app.appRoles ?? []);
  return {
    next,
    certs: 'keyCredentials' in body ? keyCredentialsProp(ctx.store, app, body['keyCredentials']) : undefined,
    access: 'requiredResourceAccess' in body ? requiredAccessProp(body['requiredResourceAccess']) : undefined,
  };
}

function commit(ctx: Ctx, app: AppRegistration, change: ReturnType<typeof applyBody>): void {
  Object.assign(app, change.next);
  if (change.certs) replaceCertificates(ctx.store, app.appId, change.certs);
  if (change.access) requested(ctx.store)[app.appId] = change.access;
}

/** $select=keyCredentials on one application is the only read that returns the certificates themselves. */
const selectsKeys = (ctx: Ctx): boolean => (ctx.query.get('$select') ?? '').split(',').some((s) => s.trim() === 'keyCredentials');

function ownerView(ctx: Ctx, id: string): Record<string, unknown> | undefined {
  const o = ctx.store.directoryObject(id);
  if (o) return directoryObjectView(ctx.store, o);
  const sp = [...ctx.store.apps.values()].find((a) => a.servicePrincipalId === id && a.hasServicePrincipal !== false);
  return sp ? { '@odata.type': '#microsoft.graph.servicePrincipal', id, appId: sp.appId, displayName: sp.displayName } : undefined;
}

export function registerAppRegistrationRoutes(router: Router): void {
  router.add(
    {
      method: 'GET',
      path: '/applications',
      permissions: READ,
      handler: (ctx) => collection(ctx, [...ctx.store.apps.values()], APP_TYPE, (a) => appView(ctx.store, a), 'applications'),
    },
    {
      method: 'GET',
      path: '/applications/:id',
      permissions: READ,
      handler: (ctx) => entity(ctx, appView(ctx.store, requireApp(ctx), { withKeys: selectsKeys(ctx) }), APP_TYPE, 'applications/$entity'),
    },
    {
      method: 'POST',
      path: '/applications',
      permissions: WRITE,
      handler: (ctx) => {
        const body = bodyObject(ctx);
        stringProp(body, 'displayName', 'Application', true);
        // Validate against a blank registration first, so a refused body creates nothing.
        const blank: AppRegistration = { id: '', appId: '', servicePrincipalId: '', displayName: '', secrets: [], permissions: [], createdDateTime: ctx.nowIso, _createdMs: ctx.nowMs };
        const change = applyBody(ctx, blank, body);
        const app = ctx.store.createApp({ displayName: change.next.displayName, permissions: [], nowMs: ctx.nowMs, withSecret: false, withServicePrincipal: false });
        const { id: _id, appId: _appId, servicePrincipalId: _sp, createdDateTime: _c, _createdMs: _m, secrets: _s, permissions: _p, ...props } = change.next;
        commit(ctx, app, { ...change, next: { ...app, ...props } });
        ctx.mutated('application.create', app.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'applications/$entity'), ...appView(ctx.store, app) } };
      },
    },
    {
      method: 'PATCH',
      path: '/applications/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const app = requireApp(ctx);
        const body = bodyObject(ctx);
        commit(ctx, app, applyBody(ctx, app, body));
        ctx.mutated('keyCredentials' in body ? 'application.updateKeyCredentials' : 'application.update', app.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/applications/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const app = requireApp(ctx);
        ctx.store.softDeleteApp(app, ctx.nowMs);
        ctx.mutated('application.delete', app.id);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/applications/:id/addPassword',
      permissions: WRITE,
      handler: (ctx) => {
        const app = requireApp(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'passwordCredential') throw badRequest(`The parameter '${k}' is not a valid parameter of addPassword.`);
        const pc = (body['passwordCredential'] ?? {}) as Record<string, unknown>;
        for (const k of Object.keys(pc)) if (!['displayName', 'endDateTime', 'startDateTime', 'customKeyIdentifier', '@odata.type'].includes(k)) throw badRequest(`Property '${k}' of passwordCredential cannot be set: only displayName, startDateTime and endDateTime can.`);
        const start = typeof pc['startDateTime'] === 'string' ? Date.parse(pc['startDateTime']) : ctx.nowMs;
        const end = typeof pc['endDateTime'] === 'string' ? Date.parse(pc['endDateTime']) : ctx.nowMs + TWO_YEARS_MS;
        if (Number.isNaN(start) || Number.isNaN(end) || end <= start) throw badRequest("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.");
        if (pc['displayName'] !== undefined && typeof pc['displayName'] !== 'string') throw badRequest("Invalid value specified for property 'displayName' of resource 'PasswordCredential'.");
        const secretText = randomSecret();
        const secret: AppSecret = { keyId: randomUUID(), displayName: (pc['displayName'] as string | undefined) ?? '', secretText, hint: secretText.slice(0, 3), startDateTime: new Date(start).toISOString(), endDateTime: new Date(end).toISOString() };
        app.secrets.push(secret);
        ctx.mutated('application.addPassword', app.id);
        return { status: 200, body: { '@odata.context': odataContext(ctx, 'microsoft.graph.passwordCredential'), ...passwordView(secret), secretText } };
      },
    },
    {
      method: 'POST',
      path: '/applications/:id/removePassword',
      permissions: WRITE,
      handler: (ctx) => {
        const app = requireApp(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'keyId') throw badRequest(`The parameter '${k}' is not a valid parameter of removePassword.`);
        const keyId = String(body['keyId'] ?? '').toLowerCase();
        if (!GUID.test(keyId)) throw badRequest("Invalid value specified for property 'keyId': a GUID is expected.");
        if (!app.secrets.some((s) => s.keyId === keyId)) throw new GraphError(404, 'Request_ResourceNotFound', `No password credential with keyId '${keyId}' exists on the application.`);
        app.secrets = app.secrets.filter((s) => s.keyId !== keyId);
        ctx.mutated('application.removePassword', app.id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/applications/:id/owners',
      permissions: READ,
      handler: (ctx) => {
        const app = requireApp(ctx);
        const owners = (app.owners ?? []).map((id) => ownerView(ctx, id)).filter((o) => o !== undefined);
        return collection(ctx, owners, { name: 'microsoft.graph.directoryObject', properties: new Set(['@odata.type', 'id', 'displayName', 'userPrincipalName', 'mail', 'appId', 'givenName', 'surname', 'jobTitle', 'businessPhones', 'mobilePhone', 'officeLocation', 'preferredLanguage']) }, (o) => o, 'directoryObjects');
      },
    },
    {
      method: 'POST',
      path: '/applications/:id/owners/$ref',
      permissions: WRITE,
      handler: (ctx) => {
        const app = requireApp(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== '@odata.id') throw badRequest(`Property '${k}' is not valid in a reference; only '@odata.id' is.`);
        const id = refId(body['@odata.id']);
        if (!ownerView(ctx, id) || ctx.store.groupById(id)) throw notFound(id);
        if ((app.owners ?? []).includes(id)) throw badRequest("One or more added object references already exist for the following modified properties: 'owners'.");
        app.owners = [...(app.owners ?? []), id];
        ctx.mutated('application.addOwner', app.id, id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/applications/:id/owners/:ownerId/$ref',
      permissions: WRITE,
      handler: (ctx) => {
        const app = requireApp(ctx);
        const id = ctx.params['ownerId']!.toLowerCase();
        if (!(app.owners ?? []).includes(id)) throw notFound(id);
        app.owners = app.owners!.filter((o) => o !== id);
        ctx.mutated('application.removeOwner', app.id, id);
        return { status: 204 };
      },
    },
  );
}
