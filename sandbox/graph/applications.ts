// App registrations (/applications, with addPassword / removePassword: a secret added here really
// signs in at the token endpoint), service principals (the tenant's own apps plus Microsoft and
// third-party ones), and delegated permission grants (/oauth2PermissionGrants: user and admin consents).
import { randomUUID } from 'node:crypto';
import { badRequest, GraphError, notFound } from '../errors.ts';
import { idByte, pinnedUserRef } from '../derive.ts';
import type { TypeInfo } from '../odata.ts';
import { P } from '../permissions.ts';
import type { Ctx, Router } from '../runtime.ts';
import { randomSecret, type AppRegistration, type AppSecret, type TenantStore, type User } from '../store.ts';
import { bodyObject, collection, entity, odataContext, requireUser, stringProp } from './common.ts';
import { looksCompromised } from './audit-logs.ts';

const READ = ['Application.Read.All', 'Application.ReadWrite.All', ...P.directoryRead];
const WRITE = ['Application.ReadWrite.All'];
const GRANT_READ = ['DelegatedPermissionGrant.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', ...P.directoryRead];
const GRANT_WRITE = ['DelegatedPermissionGrant.ReadWrite.All', ...P.directoryWrite];

/** Service principals of apps registered elsewhere (Microsoft's, and multi-tenant vendors'). */
interface ExternalSp {
  id: string;
  appId: string;
  displayName: string;
  publisherName: string;
  appOwnerOrganizationId: string;
  accountEnabled: boolean;
}

const MICROSOFT_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
const VENDOR_TENANT = '0c7f9d1e-2b3a-4c5d-8e6f-7a8b9c0d1e2f';

export const GRAPH_SP_ID = '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e60';
const EXTERNAL: ExternalSp[] = [
  { id: GRAPH_SP_ID, appId: '00000003-0000-0000-c000-000000000000', displayName: 'Microsoft Graph', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e61', appId: '00000002-0000-0ff1-ce00-000000000000', displayName: 'Office 365 Exchange Online', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e62', appId: '00000003-0000-0ff1-ce00-000000000000', displayName: 'Office 365 SharePoint Online', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e63', appId: '1fec8e78-bce4-4aaf-ab1b-5451cc387264', displayName: 'Microsoft Teams', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e64', appId: 'de8bc8b5-d9f9-48b1-a8ad-b748da725064', displayName: 'Graph Explorer', publisherName: 'Microsoft Services', appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e65', appId: '7a1c3e5f-9b2d-4f6a-8c0e-2d4f6a8c0e13', displayName: 'Zoom for Outlook', publisherName: 'Zoom Video Communications, Inc.', appOwnerOrganizationId: VENDOR_TENANT, accountEnabled: true },
  { id: '6b7d2f1e-0c3a-4f5b-9d8e-1a2b3c4d5e66', appId: '3e9b1d7f-5a2c-4e8b-9f1a-6c3e8b1d7f24', displayName: 'Mail Organizer Pro', publisherName: 'Unverified', appOwnerOrganizationId: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', accountEnabled: true },
];

interface ConsentState {
  /** Ids of seeded (derived) grants that were revoked. */
  revoked: string[];
  /** Service principals of external apps that were disabled / removed. */
  externalDisabled: string[];
  externalRemoved: string[];
}

const consentState = (store: TenantStore): ConsentState => store.tenantState('consents', () => ({ revoked: [], externalDisabled: [], externalRemoved: [] }));

interface Grant {
  id: string;
  clientId: string;
  consentType: 'AllPrincipals' | 'Principal';
  principalId: string | null;
  resourceId: string;
  scope: string;
}

const grantId = (clientId: string, principalId: string | null): string => Buffer.from(`${clientId}|${principalId ?? 'all'}`).toString('base64url');

const EXTERNAL_BY_NAME = new Map(EXTERNAL.map((e) => [e.displayName, e]));
const ADMIN_CONSENTS: Grant[] = [
  { id: grantId(EXTERNAL_BY_NAME.get('Zoom for Outlook')!.id, null), clientId: EXTERNAL_BY_NAME.get('Zoom for Outlook')!.id, consentType: 'AllPrincipals', principalId: null, resourceId: GRAPH_SP_ID, scope: ' openid profile email User.Read Calendars.ReadWrite' },
];

/** A seeded user's own consents: Graph Explorer for some, a mail-reading app for the compromised few. */
function userGrants(user: User): Grant[] {
  if (user._password !== null || user.userType !== 'Member') return [];
  const out: Grant[] = [];
  if (idByte(user.id, 7) < 50) {
    const client = EXTERNAL_BY_NAME.get('Graph Explorer')!.id;
    out.push({ id: grantId(client, user.id), clientId: client, consentType: 'Principal', principalId: user.id, resourceId: GRAPH_SP_ID, scope: ' openid profile User.Read' });
  }
  if (looksCompromised(user)) {
    const client = EXTERNAL_BY_NAME.get('Mail Organizer Pro')!.id;
    out.push({ id: grantId(client, user.id), clientId: client, consentType: 'Principal', principalId: user.id, resourceId: GRAPH_SP_ID, scope: ' offline_access Mail.ReadWrite Mail.Send MailboxSettings.ReadWrite' });
  }
  return out;
}

function* allGrants(ctx: Ctx, users: Iterable<User>): Generator<Grant> {
  const revoked = new Set(consentState(ctx.store).revoked);
  for (const g of ADMIN_CONSENTS) if (!revoked.has(g.id)) yield g;
  for (const u of users) for (const g of userGrants(u)) if (!revoked.has(g.id)) yield g;
}

const GRANT_TYPE: TypeInfo = { name: 'microsoft.graph.oAuth2PermissionGrant', properties: new Set(['id', 'clientId', 'consentType', 'principalId', 'resourceId', 'scope']) };

function grantUsers(ctx: Ctx): Iterable<User> {
  const pinned = pinnedUserRef(ctx.query.get('$filter') ?? ctx.query.get('filter'), ['principalId']);
  if (!pinned) return ctx.store.users.values();
  const u = ctx.store.userById(pinned);
  return u ? [u] : [];
}

/** The grant an id names: ids encode client and principal, so seeded grants need no index. */
function findGrant(ctx: Ctx, id: string): Grant {
  let principal: string | undefined;
  try {
    principal = Buffer.from(id, 'base64url').toString().split('|')[1];
  } catch {
    principal = undefined;
  }
  const user = principal && principal !== 'all' ? ctx.store.userById(principal) : undefined;
  for (const g of allGrants(ctx, user ? [user] : [])) if (g.id === id) return g;
  throw notFound(id);
}

// ---- applications and service principals ----

const APP_TYPE: TypeInfo = {
  name: 'microsoft.graph.application',
  properties: new Set(['id', 'appId', 'displayName', 'createdDateTime', 'deletedDateTime', 'description', 'notes', 'signInAudience', 'publisherDomain', 'passwordCredentials', 'keyCredentials', 'requiredResourceAccess', 'identifierUris', 'tags', 'web']),
};
const SP_TYPE: TypeInfo = {
  name: 'microsoft.graph.servicePrincipal',
  properties: new Set(['id', 'appId', 'displayName', 'accountEnabled', 'servicePrincipalType', 'appOwnerOrganizationId', 'appRoleAssignmentRequired', 'servicePrincipalNames', 'tags', 'publisherName', 'signInAudience', 'passwordCredentials', 'keyCredentials', 'deletedDateTime']),
};

const passwordView = (s: AppSecret) => ({ customKeyIdentifier: null, displayName: s.displayName, endDateTime: s.endDateTime, hint: s.hint, keyId: s.keyId, secretText: null, startDateTime: s.startDateTime });

function appView(store: TenantStore, app: AppRegistration): Record<string, unknown> {
  return {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    createdDateTime: app.createdDateTime.replace(/\.\d{3}Z$/, 'Z'),
    deletedDateTime: null,
    description: null,
    notes: null,
    signInAudience: 'AzureADMyOrg',
    publisherDomain: store.info.initialDomain,
    passwordCredentials: app.secrets.map(passwordView),
    keyCredentials: [],
    requiredResourceAccess: [],
    identifierUris: [],
    tags: [],
    web: { redirectUris: [], homePageUrl: null, logoutUrl: null },
  };
}

interface SpView {
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
  [k: string]: unknown;
}

function spViews(store: TenantStore): SpView[] {
  const state = consentState(store);
  const own = [...store.apps.values()]
    .filter((a) => a.hasServicePrincipal !== false)
    .map((a) => ({ id: a.servicePrincipalId, appId: a.appId, displayName: a.displayName, accountEnabled: a.accountEnabled !== false, servicePrincipalType: 'Application', appOwnerOrganizationId: store.info.id, publisherName: store.info.displayName, signInAudience: 'AzureADMyOrg' }));
  const external = EXTERNAL.filter((e) => !state.externalRemoved.includes(e.id)).map((e) => ({ id: e.id, appId: e.appId, displayName: e.displayName, accountEnabled: e.accountEnabled && !state.externalDisabled.includes(e.id), servicePrincipalType: 'Application', appOwnerOrganizationId: e.appOwnerOrganizationId, publisherName: e.publisherName, signInAudience: 'AzureADMultipleOrgs' }));
  return [...own, ...external].map((sp) => ({ ...sp, appRoleAssignmentRequired: false, servicePrincipalNames: [sp.appId], tags: ['WindowsAzureActiveDirectoryIntegratedApp'], passwordCredentials: [], keyCredentials: [], deletedDateTime: null }));
}

function requireApp(ctx: Ctx): AppRegistration {
  const id = ctx.params['id']!.toLowerCase();
  const app = [...ctx.store.apps.values()].find((a) => a.id === id);
  if (!app) throw notFound(id);
  return app;
}

function requireSp(ctx: Ctx): SpView {
  const id = ctx.params['id']!.toLowerCase();
  const sp = spViews(ctx.store).find((s) => s.id === id);
  if (!sp) throw notFound(id);
  return sp;
}

const TWO_YEARS_MS = 2 * 365 * 24 * 3600 * 1000;

export function registerApplicationRoutes(router: Router): void {
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
      handler: (ctx) => entity(ctx, appView(ctx.store, requireApp(ctx)), APP_TYPE, 'applications/$entity'),
    },
    {
      method: 'POST',
      path: '/applications',
      permissions: WRITE,
      handler: (ctx) => {
        const body = bodyObject(ctx);
        const displayName = stringProp(body, 'displayName', 'Application', true)!;
        const app = ctx.store.createApp({ displayName, permissions: [], nowMs: ctx.nowMs, withSecret: false, withServicePrincipal: false });
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
        for (const k of Object.keys(body)) if (!APP_TYPE.properties.has(k) || ['id', 'appId', 'createdDateTime', 'passwordCredentials', 'publisherDomain'].includes(k)) throw badRequest(`Property '${k}' is read-only or does not exist on type 'microsoft.graph.application'.`);
        if ('displayName' in body) app.displayName = stringProp(body, 'displayName', 'Application', true)!;
        ctx.mutated('application.update', app.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/applications/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const app = requireApp(ctx);
        ctx.store.apps.delete(app.appId);
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
        const pc = (bodyObject(ctx)['passwordCredential'] ?? {}) as { displayName?: unknown; endDateTime?: unknown; startDateTime?: unknown };
        const start = typeof pc.startDateTime === 'string' ? Date.parse(pc.startDateTime) : ctx.nowMs;
        const end = typeof pc.endDateTime === 'string' ? Date.parse(pc.endDateTime) : ctx.nowMs + TWO_YEARS_MS;
        if (Number.isNaN(start) || Number.isNaN(end) || end <= start) throw badRequest("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.");
        const secretText = randomSecret();
        const secret: AppSecret = { keyId: randomUUID(), displayName: typeof pc.displayName === 'string' ? pc.displayName : '', secretText, hint: secretText.slice(0, 3), startDateTime: new Date(start).toISOString(), endDateTime: new Date(end).toISOString() };
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
        const keyId = String(bodyObject(ctx)['keyId'] ?? '').toLowerCase();
        if (!app.secrets.some((s) => s.keyId === keyId)) throw new GraphError(404, 'Request_ResourceNotFound', `No password credential with keyId '${keyId}' exists on the application.`);
        app.secrets = app.secrets.filter((s) => s.keyId !== keyId);
        ctx.mutated('application.removePassword', app.id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/servicePrincipals',
      permissions: READ,
      handler: (ctx) => collection(ctx, spViews(ctx.store), SP_TYPE, (s) => s, 'servicePrincipals'),
    },
    {
      method: 'GET',
      path: '/servicePrincipals/:id',
      permissions: READ,
      handler: (ctx) => entity(ctx, requireSp(ctx), SP_TYPE, 'servicePrincipals/$entity'),
    },
    {
      method: 'POST',
      path: '/servicePrincipals',
      permissions: WRITE,
      handler: (ctx) => {
        const appId = stringProp(bodyObject(ctx), 'appId', 'ServicePrincipal', true)!.toLowerCase();
        const app = ctx.store.appByClientId(appId);
        if (!app) throw badRequest(`The appId '${appId}' of the service principal does not reference a valid application object.`);
        if (app.hasServicePrincipal !== false) {
          throw badRequest('The service principal cannot be created, updated, or restored because the service principal name is already in use.', [{ code: 'ObjectConflict', message: 'servicePrincipalNames already in use', target: 'servicePrincipalNames' }]);
        }
        app.hasServicePrincipal = true;
        app.servicePrincipalId = randomUUID();
        ctx.mutated('servicePrincipal.create', app.servicePrincipalId);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'servicePrincipals/$entity'), ...spViews(ctx.store).find((s) => s.id === app.servicePrincipalId) } };
      },
    },
    {
      method: 'PATCH',
      path: '/servicePrincipals/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const sp = requireSp(ctx);
        const body = bodyObject(ctx);
        for (const k of Object.keys(body)) if (k !== 'accountEnabled' && k !== 'tags' && k !== 'appRoleAssignmentRequired') throw badRequest(`Property '${k}' is read-only or not supported by the sandbox on type 'microsoft.graph.servicePrincipal'.`);
        if ('accountEnabled' in body) {
          if (typeof body['accountEnabled'] !== 'boolean') throw badRequest("Invalid value specified for property 'accountEnabled'.");
          const own = [...ctx.store.apps.values()].find((a) => a.servicePrincipalId === sp.id);
          if (own) own.accountEnabled = body['accountEnabled'];
          else {
            const state = consentState(ctx.store);
            state.externalDisabled = state.externalDisabled.filter((x) => x !== sp.id);
            if (!body['accountEnabled']) state.externalDisabled.push(sp.id);
          }
        }
        ctx.mutated('servicePrincipal.update', sp.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/servicePrincipals/:id',
      permissions: WRITE,
      handler: (ctx) => {
        const sp = requireSp(ctx);
        const own = [...ctx.store.apps.values()].find((a) => a.servicePrincipalId === sp.id);
        if (own) own.hasServicePrincipal = false;
        else consentState(ctx.store).externalRemoved.push(sp.id);
        ctx.mutated('servicePrincipal.delete', sp.id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/oauth2PermissionGrants',
      permissions: GRANT_READ,
      handler: (ctx) => collection(ctx, allGrants(ctx, grantUsers(ctx)), GRANT_TYPE, (g) => ({ ...g }), 'oauth2PermissionGrants'),
    },
    {
      method: 'GET',
      path: '/oauth2PermissionGrants/:id',
      permissions: GRANT_READ,
      handler: (ctx) => entity(ctx, { ...findGrant(ctx, ctx.params['id']!) }, GRANT_TYPE, 'oauth2PermissionGrants/$entity'),
    },
    {
      method: 'DELETE',
      path: '/oauth2PermissionGrants/:id',
      permissions: GRANT_WRITE,
      handler: (ctx) => {
        const g = findGrant(ctx, ctx.params['id']!);
        consentState(ctx.store).revoked.push(g.id);
        ctx.mutated('oauth2PermissionGrant.delete', ...(g.principalId ? [g.principalId] : [g.clientId]));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/users/:id/oauth2PermissionGrants',
      permissions: GRANT_READ,
      handler: (ctx) => {
        const user = requireUser(ctx, ctx.params['id']!);
        const mine = [...allGrants(ctx, [user])].filter((g) => g.principalId === user.id);
        return collection(ctx, mine, GRANT_TYPE, (g) => ({ ...g }), 'oauth2PermissionGrants');
      },
    },
  );
}
