// Handlers of the application actions (catalog/actions/apps.ts): app registrations and enterprise apps.
// Secrets: a client secret comes back sealed with the server's secret box (runbook/secrets.ts) and,
// when asked, is emailed; it is never in the step's output or in Temporal history in clear. Its
// description carries a short tag derived from the step's idempotency key, so a retry whose first
// attempt lost Microsoft's answer finds that secret (whose text it never saw), removes it and adds
// a fresh one: the step leaves exactly one secret behind.
import { createHash, X509Certificate } from 'node:crypto';
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/apps.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import type { Change } from '../../catalog/contract.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { change, creation, knownAfterRun, memberProperty, propertyChanges } from './changes.ts';
import { seal } from '../../runbook/secrets.ts';
import { afterCreate, createdByThisStep, deliverSecret, directoryObjectRef, findGroup, getUser, GUID, listAll, odataString, orNotFound, senderOf, unless404 } from './shared.ts';

interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  endDateTime: string;
  hint?: string | null;
}

interface KeyCredential {
  keyId: string;
  displayName: string | null;
  endDateTime: string;
  startDateTime?: string;
  key?: string | null;
  type: string;
  usage: string;
  customKeyIdentifier?: string | null;
}

interface App {
  id: string;
  appId: string;
  displayName: string;
  createdDateTime?: string;
  signInAudience?: string;
  description?: string | null;
  notes?: string | null;
  web?: { redirectUris?: string[] };
  passwordCredentials?: PasswordCredential[];
  keyCredentials?: KeyCredential[];
}

const APP_SELECT = 'id,appId,displayName,createdDateTime,signInAudience,description,notes,web,passwordCredentials';

const appMissing = (ref: string) =>
  new ActionError(`app registration "${ref}" does not exist`, {
    code: 'ResourceNotFound',
    hint: 'use its display name, application (client) id or object id as the Entra admin center shows them; a deleted app is under "Deleted applications"',
    status: 404,
  });

function ambiguous(what: string, ref: string, found: { id: string; appId?: string }[]): ActionError {
  return new ActionError(`${found.length} ${what}s are called "${ref}"`, { code: 'AmbiguousName', hint: `use the application (client) id instead: ${found.map((a) => a.appId ?? a.id).join(', ')}` });
}

async function findAppOrNone(graph: Client, ref: string, select = APP_SELECT): Promise<App | undefined> {
  if (GUID.test(ref)) {
    const byObjectId = await orNotFound(graph.api(`/applications/${ref}`).select(select).get() as Promise<App>);
    if (byObjectId) return byObjectId;
  }
  const prop = GUID.test(ref) ? 'appId' : 'displayName';
  const res = (await graph.api('/applications').filter(`${prop} eq ${odataString(ref)}`).select(select).get()) as { value: App[] };
  if (res.value.length > 1) throw ambiguous('app registration', ref, res.value);
  return res.value[0];
}

async function findApp(graph: Client, ref: string, select = APP_SELECT): Promise<App> {
  const app = await findAppOrNone(graph, ref, select);
  if (!app) throw appMissing(ref);
  return app;
}

async function findDeletedApp(graph: Client, ref: string): Promise<App | undefined> {
  const { items } = await listAll<App>(graph, '/directory/deletedItems/microsoft.graph.application');
  const key = ref.toLowerCase();
  const found = items.filter((a) => a.id === key || a.appId === key || a.displayName.toLowerCase() === key);
  if (found.length > 1) throw ambiguous('deleted app registration', ref, found);
  return found[0];
}

export const appFind = implement(c.appFind, async (input, { graph }) => {
  const { items, truncated } = await listAll<App>(graph, '/applications', {
    filter: input.nameStartsWith ? `startswith(displayName,${odataString(input.nameStartsWith)})` : undefined,
    select: 'id,appId,displayName,createdDateTime,signInAudience',
    max: input.max,
  });
  return { apps: items.map((a) => ({ id: a.id, appId: a.appId, displayName: a.displayName, createdDateTime: a.createdDateTime ?? null, signInAudience: a.signInAudience ?? null })), count: items.length, truncated };
});

async function ensureServicePrincipal(graph: Client, appId: string): Promise<string> {
  const res = (await graph.api('/servicePrincipals').filter(`appId eq ${odataString(appId)}`).select('id').get()) as { value: { id: string }[] };
  if (res.value[0]) return res.value[0].id;
  const sp = (await afterCreate('the enterprise app', graph.api('/servicePrincipals').post({ appId }))) as { id: string };
  return sp.id;
}

async function addAppOwner(ctx: Pick<ActionContext, 'graph' | 'tenant'>, app: App, userId: string): Promise<boolean> {
  try {
    await ctx.graph.api(`/applications/${app.id}/owners/$ref`).post(directoryObjectRef(ctx, userId));
    return true;
  } catch (err) {
    if (statusOf(err) === 400 && /already exist/i.test((err as Error).message)) return false;
    throw err;
  }
}

/** The app registration of that name, if any (several of them: the name is taken). */
function appNamed(graph: Client, name: string): Promise<App | undefined> {
  return findAppOrNone(graph, name).catch((err) => {
    if (err instanceof ActionError && err.code === 'AmbiguousName') throw new ActionError(`app registrations called "${name}" already exist`, { code: 'ObjectConflict', hint: 'pick another name' });
    throw err;
  });
}

const nameTaken = (app: App) =>
  new ActionError(`an app registration called "${app.displayName}" already exists (application id ${app.appId})`, {
    code: 'ObjectConflict',
    hint: 'pick another name, or use "Update app registration" to change the existing one',
  });

export const appCreate = implement(c.appCreate, async (input, ctx) => {
  const owners = [];
  for (const ref of input.owners) owners.push(await getUser(ctx.graph, ref));
  const existing = await appNamed(ctx.graph, input.displayName);
  if (existing && !createdByThisStep(ctx, existing.createdDateTime)) throw nameTaken(existing);
  const app =
    existing ??
    ((await ctx.graph.api('/applications').post({
      displayName: input.displayName,
      signInAudience: input.signInAudience,
      web: { redirectUris: input.redirectUris },
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.notes !== undefined ? { notes: input.notes } : {}),
    })) as App);
  const servicePrincipalId = input.createServicePrincipal ? await ensureServicePrincipal(ctx.graph, app.appId) : null;
  for (const u of owners) await afterCreate('the app registration', addAppOwner(ctx, app, u.id));
  return { id: app.id, appId: app.appId, displayName: app.displayName, servicePrincipalId, created: !existing };
}, planAppCreate);

export const appUpdate = implement(c.appUpdate, async (input, { graph }) => {
  const app = await findApp(graph, input.app);
  const patch: Record<string, unknown> = {};
  for (const k of ['displayName', 'description', 'notes', 'signInAudience'] as const) if (input[k] !== undefined && input[k] !== (app[k] ?? null)) patch[k] = input[k];
  if (input.redirectUris && JSON.stringify([...input.redirectUris].sort()) !== JSON.stringify([...(app.web?.redirectUris ?? [])].sort())) patch['web'] = { redirectUris: input.redirectUris };
  if (Object.keys(patch).length) await graph.api(`/applications/${app.id}`).patch(patch);
  return { id: app.id, appId: app.appId, displayName: (patch['displayName'] as string | undefined) ?? app.displayName, changed: Object.keys(patch).map((k) => (k === 'web' ? 'redirectUris' : k)) };
}, planAppUpdate);

export const appDelete = implement(c.appDelete, async (input, ctx) => {
  const app = await findAppOrNone(ctx.graph, input.app);
  if (!app) {
    // Already among the deleted ones (an earlier run, or a retry after a delete whose answer was lost).
    const gone = await findDeletedApp(ctx.graph, input.app);
    if (gone) return { id: gone.id, appId: gone.appId, deleted: false };
    throw appMissing(input.app);
  }
  return { id: app.id, appId: app.appId, deleted: await unless404(ctx.graph.api(`/applications/${app.id}`).delete()) };
}, planAppDelete);

export const appRestore = implement(c.appRestore, async (input, { graph }) => {
  const deleted = await findDeletedApp(graph, input.app);
  if (!deleted) {
    const live = await findAppOrNone(graph, input.app);
    if (live) return { id: live.id, appId: live.appId, displayName: live.displayName, restored: false };
    throw notDeleted(input.app);
  }
  await graph.api(`/directory/deletedItems/${deleted.id}/restore`).post({});
  return { id: deleted.id, appId: deleted.appId, displayName: deleted.displayName, restored: true };
}, planAppRestore);

const notDeleted = (ref: string) =>
  new ActionError(`"${ref}" is not among the applications deleted in the last 30 days`, { code: 'ResourceNotFound', hint: 'after 30 days a deleted app registration is gone for good', status: 404 });

// ---- secrets ----

/** The tag a secret of this step carries in its description, the same on every attempt. */
const stepTag = (ctx: Pick<ActionContext, 'idempotencyKey'>) => `tf-${createHash('sha256').update(ctx.idempotencyKey).digest('hex').slice(0, 8)}`;
const TAGGED = / \(tf-[0-9a-f]{8}\)$/;

const removePassword = (graph: Client, app: App, keyId: string): Promise<boolean> => unless404(graph.api(`/applications/${app.id}/removePassword`).post({ keyId }));

export const appAddSecret = implement(c.appAddSecret, async (input, ctx) => {
  if (!ctx.secrets && !input.sendSecretTo)
    throw new ActionError('this worker cannot seal the new secret, and no address to email it to was given', {
      code: 'NoSecretKey',
      hint: 'give the worker the same TENANTFLOW_SECRET_KEY (or data/secret.key) as the server, or set "send secret to"',
    });
  if (input.sendSecretTo) senderOf(ctx, input.mailFrom);
  const app = await findApp(ctx.graph, input.app);
  const name = `${input.displayName} (${stepTag(ctx)})`;
  // An earlier attempt's secret whose text this step never saw: replace it rather than add a second.
  for (const old of (app.passwordCredentials ?? []).filter((p) => p.displayName === name)) await removePassword(ctx.graph, app, old.keyId);
  const made = (await ctx.graph.api(`/applications/${app.id}/addPassword`).post({
    passwordCredential: { displayName: name, endDateTime: new Date(Date.now() + input.expiresInDays * 86_400_000).toISOString() },
  })) as PasswordCredential & { secretText: string };
  const sentTo = input.sendSecretTo
    ? await deliverSecret(ctx, {
        to: input.sendSecretTo,
        from: input.mailFrom,
        subject: `New client secret for ${app.displayName}`,
        intro: `A client secret "${input.displayName}" was added to the app registration ${app.displayName} (application id ${app.appId}); it expires on ${made.endDateTime.slice(0, 10)}. The secret is:`,
        secret: made.secretText,
      })
    : null;
  return {
    appId: app.appId,
    keyId: made.keyId,
    displayName: name,
    hint: made.hint ?? made.secretText.slice(0, 3),
    endDateTime: made.endDateTime,
    sealedSecret: ctx.secrets ? seal(ctx.secrets, made.secretText) : null,
    sentTo,
  };
}, planAppAddSecret);

/** The secrets "Remove client secret" removes: by key id, or every one with that description. */
const secretsMatching = (app: App, input: { keyId?: string; displayName?: string }) =>
  (app.passwordCredentials ?? []).filter((p) => (input.keyId ? p.keyId === input.keyId.toLowerCase() : p.displayName === input.displayName || p.displayName?.replace(TAGGED, '') === input.displayName));

export const appRemoveSecret = implement(c.appRemoveSecret, async (input, { graph }) => {
  const app = await findApp(graph, input.app);
  const removed: string[] = [];
  for (const p of secretsMatching(app, input)) if (await removePassword(graph, app, p.keyId)) removed.push(p.keyId);
  return { appId: app.appId, removed };
}, async (input, { graph }) => {
  const app = await findApp(graph, input.app);
  return secretsMatching(app, input).map((p) => credentialGone(app, 'client secret', p));
});

// ---- certificates ----

/** A key credential as PATCH must send it back (the certificate itself included). */
const keyBody = (k: KeyCredential) => ({ keyId: k.keyId, type: k.type, usage: k.usage, key: k.key, displayName: k.displayName, startDateTime: k.startDateTime, endDateTime: k.endDateTime });

const thumbprintOf = (der: Buffer) => createHash('sha1').update(der).digest('hex').toUpperCase();

/** The app's certificates with their keys ($select=keyCredentials on one app is the only read that returns them). */
async function certificatesOf(graph: Client, app: App): Promise<(KeyCredential & { thumbprint: string | null })[]> {
  const read = (await graph.api(`/applications/${app.id}`).select('id,keyCredentials').get()) as App;
  return (read.keyCredentials ?? []).map((k) => ({ ...k, thumbprint: k.key ? thumbprintOf(Buffer.from(k.key, 'base64')) : null }));
}

function parseCertificate(text: string): X509Certificate {
  if (/PRIVATE KEY/.test(text))
    throw new ActionError('the certificate text contains a private key', { code: 'InvalidInput', hint: 'upload only the public certificate (-----BEGIN CERTIFICATE-----); the private key stays with the app that signs in' });
  try {
    return new X509Certificate(text.includes('BEGIN CERTIFICATE') ? text : Buffer.from(text.replace(/\s/g, ''), 'base64'));
  } catch {
    throw new ActionError('the certificate is not an X.509 certificate', { code: 'InvalidInput', hint: 'give a PEM (-----BEGIN CERTIFICATE-----) or base64 DER (.cer) certificate' });
  }
}

/** The certificate to upload: parsed, and not expired. */
function validCertificate(text: string): X509Certificate {
  const cert = parseCertificate(text);
  if (Date.parse(cert.validTo) <= Date.now())
    throw new ActionError(`the certificate expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}`, { code: 'InvalidInput', hint: 'create or renew the certificate first' });
  return cert;
}

const certificateName = (cert: X509Certificate, displayName: string | undefined) => displayName ?? cert.subject.split('\n').find((l) => l.startsWith('CN='))?.trim() ?? 'certificate';

export const appAddCertificate = implement(c.appAddCertificate, async (input, { graph }) => {
  const cert = validCertificate(input.certificate);
  const app = await findApp(graph, input.app);
  const thumbprint = thumbprintOf(cert.raw);
  const current = await certificatesOf(graph, app);
  const same = current.find((k) => k.thumbprint === thumbprint);
  const view = (k: KeyCredential, added: boolean) => ({ appId: app.appId, keyId: k.keyId, thumbprint, startDateTime: k.startDateTime ?? new Date(cert.validFrom).toISOString(), endDateTime: k.endDateTime, added });
  if (same) return view(same, false);
  await graph.api(`/applications/${app.id}`).patch({
    keyCredentials: [
      ...current.map(keyBody),
      { type: 'AsymmetricX509Cert', usage: 'Verify', key: cert.raw.toString('base64'), displayName: certificateName(cert, input.displayName) },
    ],
  });
  const added = (await certificatesOf(graph, app)).find((k) => k.thumbprint === thumbprint);
  if (!added) throw new ActionError('the certificate was sent but is not on the app registration', { code: 'CertificateNotAdded', retryable: true });
  return view(added, true);
}, planAppAddCertificate);

async function removeCertificates(graph: Client, app: App, drop: (k: KeyCredential & { thumbprint: string | null }) => boolean): Promise<string[]> {
  const current = await certificatesOf(graph, app);
  const gone = current.filter(drop);
  if (gone.length) await graph.api(`/applications/${app.id}`).patch({ keyCredentials: current.filter((k) => !gone.includes(k)).map(keyBody) });
  return gone.map((k) => k.keyId);
}

/** The certificate given by thumbprint or key id. */
const certificateIs = (given: string) => {
  const ref = given.replace(/[\s:]/g, '').toUpperCase();
  return (k: KeyCredential & { thumbprint: string | null }) => k.thumbprint === ref || k.keyId.toUpperCase() === ref;
};

export const appRemoveCertificate = implement(c.appRemoveCertificate, async (input, { graph }) => {
  const app = await findApp(graph, input.app);
  const removed = await removeCertificates(graph, app, certificateIs(input.certificate));
  return { appId: app.appId, removed: removed.length > 0 };
}, async (input, { graph }) => {
  const app = await findApp(graph, input.app);
  return (await certificatesOf(graph, app)).filter(certificateIs(input.certificate)).map((k) => credentialGone(app, 'certificate', k));
});

// ---- expiring credentials ----

const DAY = 86_400_000;

export const appExpiringCredentials = implement(c.appExpiringCredentials, async (input, { graph }) => {
  const select = 'id,appId,displayName,passwordCredentials,keyCredentials';
  const apps = input.app ? [await findApp(graph, input.app, select)] : (await listAll<App>(graph, '/applications', { select })).items;
  const now = Date.now();
  const credentials = apps
    .flatMap((a) => [
      ...(a.passwordCredentials ?? []).map((p) => ({ a, kind: 'clientSecret' as const, keyId: p.keyId, displayName: p.displayName, endDateTime: p.endDateTime })),
      ...(a.keyCredentials ?? []).map((k) => ({ a, kind: 'certificate' as const, keyId: k.keyId, displayName: k.displayName, endDateTime: k.endDateTime })),
    ])
    .map((x) => ({ ...x, left: (Date.parse(x.endDateTime) - now) / DAY }))
    .filter((x) => x.left <= input.withinDays && (input.includeExpired || x.left > 0))
    .sort((x, y) => x.left - y.left)
    .map((x) => ({
      appId: x.a.appId,
      appObjectId: x.a.id,
      appName: x.a.displayName,
      kind: x.kind,
      keyId: x.keyId,
      displayName: x.displayName ?? null,
      endDateTime: x.endDateTime,
      expired: x.left <= 0,
      daysLeft: Math.floor(x.left),
    }));
  return { credentials, count: credentials.length, apps: [...new Set(credentials.map((x) => x.appObjectId))] };
});

const expired = (end: string) => Date.parse(end) <= Date.now();

export const appRemoveExpiredCredentials = implement(c.appRemoveExpiredCredentials, async (input, { graph }) => {
  const app = await findApp(graph, input.app);
  const removedSecrets: string[] = [];
  for (const p of (app.passwordCredentials ?? []).filter((x) => expired(x.endDateTime))) if (await removePassword(graph, app, p.keyId)) removedSecrets.push(p.keyId);
  const removedCertificates = await removeCertificates(graph, app, (k) => expired(k.endDateTime));
  return { appId: app.appId, removedSecrets, removedCertificates };
}, async (input, { graph }) => {
  const app = await findApp(graph, input.app);
  return [
    ...(app.passwordCredentials ?? []).filter((p) => expired(p.endDateTime)).map((p) => credentialGone(app, 'client secret', p)),
    ...(await certificatesOf(graph, app)).filter((k) => expired(k.endDateTime)).map((k) => credentialGone(app, 'certificate', k)),
  ];
});

// ---- owners ----

export const appAddOwner = implement(c.appAddOwner, async (input, ctx) => {
  const [app, user] = [await findApp(ctx.graph, input.app), await getUser(ctx.graph, input.user)];
  return { appId: app.appId, userId: user.id, added: await addAppOwner(ctx, app, user.id) };
}, planAppOwner(true));

export const appRemoveOwner = implement(c.appRemoveOwner, async (input, { graph }) => {
  const [app, user] = [await findApp(graph, input.app), await getUser(graph, input.user)];
  return { appId: app.appId, userId: user.id, removed: await unless404(graph.api(`/applications/${app.id}/owners/${user.id}/$ref`).delete()) };
}, planAppOwner(false));

// ---- enterprise app assignments ----

interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  appRoles?: { id: string; displayName: string; value: string | null; isEnabled: boolean; allowedMemberTypes: string[] }[];
}

interface Assignment {
  id: string;
  appRoleId: string;
  principalId: string;
  resourceId: string;
}

const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';
const SP_SELECT = 'id,appId,displayName,appRoles';

async function findServicePrincipal(graph: Client, ref: string): Promise<ServicePrincipal> {
  if (GUID.test(ref)) {
    const byId = await orNotFound(graph.api(`/servicePrincipals/${ref}`).select(SP_SELECT).get() as Promise<ServicePrincipal>);
    if (byId) return byId;
  }
  const res = (await graph.api('/servicePrincipals').filter(`${GUID.test(ref) ? 'appId' : 'displayName'} eq ${odataString(ref)}`).select(SP_SELECT).get()) as { value: ServicePrincipal[] };
  if (res.value.length > 1) throw ambiguous('enterprise app', ref, res.value);
  if (!res.value[0])
    throw new ActionError(`enterprise app "${ref}" does not exist`, {
      code: 'ResourceNotFound',
      hint: 'use the name shown under Enterprise applications, or the application (client) id; an app registration without an enterprise app needs one first',
      status: 404,
    });
  return res.value[0];
}

/** The app role to assign to users and groups: the one named, else default access (apps without roles). */
function roleFor(sp: ServicePrincipal, ref: string | undefined): string {
  const userRoles = (sp.appRoles ?? []).filter((r) => r.isEnabled && r.allowedMemberTypes.includes('User'));
  if (!ref) {
    if (userRoles.length === 0) return DEFAULT_ACCESS;
    throw new ActionError(`the enterprise app "${sp.displayName}" has app roles: choose one`, { code: 'AppRoleRequired', hint: `its roles: ${userRoles.map((r) => r.displayName).join(', ')}` });
  }
  const key = ref.toLowerCase();
  const role = userRoles.find((r) => r.id === key || r.displayName.toLowerCase() === key || r.value?.toLowerCase() === key);
  if (!role)
    throw new ActionError(`the enterprise app "${sp.displayName}" has no app role "${ref}" for users and groups`, {
      code: 'AppRoleNotFound',
      hint: userRoles.length ? `its roles: ${userRoles.map((r) => r.displayName).join(', ')}` : 'it has no app roles: leave the role empty for default access',
    });
  return role.id;
}

async function assignmentsOf(graph: Client, kind: 'users' | 'groups', principalId: string, spId: string): Promise<Assignment[]> {
  const { items } = await listAll<Assignment>(graph, `/${kind}/${principalId}/appRoleAssignments`);
  return items.filter((a) => a.resourceId === spId);
}

async function assign(ctx: ActionContext, kind: 'users' | 'groups', principalId: string, appRef: string, roleRef: string | undefined) {
  const sp = await findServicePrincipal(ctx.graph, appRef);
  const appRoleId = roleFor(sp, roleRef);
  const existing = (await assignmentsOf(ctx.graph, kind, principalId, sp.id)).find((a) => a.appRoleId === appRoleId);
  const base = { servicePrincipalId: sp.id, principalId, appRoleId };
  if (existing) return { ...base, assignmentId: existing.id, assigned: false };
  try {
    const made = (await ctx.graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).post({ principalId, resourceId: sp.id, appRoleId })) as Assignment;
    return { ...base, assignmentId: made.id, assigned: true };
  } catch (err) {
    if (statusOf(err) === 400 && /already exists/i.test((err as Error).message)) return { ...base, assignmentId: null, assigned: false };
    throw err;
  }
}

async function unassign(ctx: ActionContext, kind: 'users' | 'groups', principalId: string, appRef: string, roleRef: string | undefined) {
  const sp = await findServicePrincipal(ctx.graph, appRef);
  const roleId = roleRef ? roleFor(sp, roleRef) : undefined;
  let removed = 0;
  for (const a of await assignmentsOf(ctx.graph, kind, principalId, sp.id)) {
    if (roleId && a.appRoleId !== roleId) continue;
    if (await unless404(ctx.graph.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo/${a.id}`).delete())) removed++;
  }
  return { servicePrincipalId: sp.id, principalId, removed };
}

const userPrincipal = async (graph: Client, ref: string): Promise<Principal> => {
  const u = await getUser(graph, ref);
  return { kind: 'users', id: u.id, name: u.userPrincipalName };
};
const groupPrincipal = async (graph: Client, ref: string): Promise<Principal> => {
  const g = await findGroup(graph, ref);
  return { kind: 'groups', id: g.id, name: g.displayName };
};

export const appAssignUser = implement(
  c.appAssignUser,
  async (input, ctx) => assign(ctx, 'users', (await getUser(ctx.graph, input.user)).id, input.app, input.appRole),
  async (input, { graph }) => planAssignment(graph, await userPrincipal(graph, input.user), input.app, input.appRole, true),
);
export const appUnassignUser = implement(
  c.appUnassignUser,
  async (input, ctx) => unassign(ctx, 'users', (await getUser(ctx.graph, input.user)).id, input.app, input.appRole),
  async (input, { graph }) => planAssignment(graph, await userPrincipal(graph, input.user), input.app, input.appRole, false),
);
export const appAssignGroup = implement(
  c.appAssignGroup,
  async (input, ctx) => assign(ctx, 'groups', (await findGroup(ctx.graph, input.group)).id, input.app, input.appRole),
  async (input, { graph }) => planAssignment(graph, await groupPrincipal(graph, input.group), input.app, input.appRole, true),
);
export const appUnassignGroup = implement(
  c.appUnassignGroup,
  async (input, ctx) => unassign(ctx, 'groups', (await findGroup(ctx.graph, input.group)).id, input.app, input.appRole),
  async (input, { graph }) => planAssignment(graph, await groupPrincipal(graph, input.group), input.app, input.appRole, false),
);

// ---- plans (docs/plan.md): read through the same Graph calls as the handlers ----

const appObject = (a: { displayName: string }): string => `app registration ${a.displayName}`;

async function planAppCreate(input: InputOf<typeof c.appCreate>, { graph }: PlanContext): Promise<Change[]> {
  const owners = [];
  for (const ref of input.owners) owners.push(await getUser(graph, ref));
  const existing = await appNamed(graph, input.displayName);
  if (existing) throw nameTaken(existing);
  const object = appObject(input);
  const { displayName, signInAudience, redirectUris, description, notes } = input;
  return [
    ...creation(object, { displayName, signInAudience, redirectUris, description, notes }),
    ...owners.map((u) => change(object, memberProperty('owner', u), false, true, { objectId: knownAfterRun('output.id') })),
    ...(input.createServicePrincipal ? [change(`enterprise app ${input.displayName}`, 'exists', false, true, { objectId: knownAfterRun('output.servicePrincipalId') })] : []),
  ];
}

async function planAppUpdate({ app: ref, ...fields }: InputOf<typeof c.appUpdate>, { graph }: PlanContext): Promise<Change[]> {
  const app = await findApp(graph, ref);
  const current = { displayName: app.displayName, description: app.description ?? null, notes: app.notes ?? null, signInAudience: app.signInAudience ?? null, redirectUris: [...(app.web?.redirectUris ?? [])].sort() };
  const desired: Record<string, unknown> = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (fields.redirectUris) desired['redirectUris'] = [...fields.redirectUris].sort();
  return propertyChanges(appObject(app), app.id, current, desired);
}

async function planAppDelete(input: InputOf<typeof c.appDelete>, { graph }: PlanContext): Promise<Change[]> {
  const app = await findAppOrNone(graph, input.app);
  if (!app) {
    if (await findDeletedApp(graph, input.app)) return [];
    throw appMissing(input.app);
  }
  return [change(appObject(app), 'exists', true, false, { objectId: app.id, note: c.APP_RESTORABLE_NOTE })];
}

async function planAppRestore(input: InputOf<typeof c.appRestore>, { graph }: PlanContext): Promise<Change[]> {
  const deleted = await findDeletedApp(graph, input.app);
  if (deleted) return [change(appObject(deleted), 'exists', false, true, { objectId: deleted.id, note: 'restored from deleted applications with its secrets, certificates and enterprise app' })];
  if (await findAppOrNone(graph, input.app)) return [];
  throw notDeleted(input.app);
}

/**
 * A new secret: its key id, description and expiry once it exists, never its value (which
 * Microsoft shows only to the step, and the step only seals).
 */
async function planAppAddSecret(input: InputOf<typeof c.appAddSecret>, ctx: PlanContext): Promise<Change[]> {
  if (input.sendSecretTo) senderOf(ctx, input.mailFrom);
  const app = await findApp(ctx.graph, input.app);
  const after = { keyId: knownAfterRun('output.keyId'), displayName: knownAfterRun('output.displayName'), endDateTime: knownAfterRun('output.endDateTime') };
  return [change(appObject(app), `client secret ${input.displayName}`, null, after, { objectId: app.id, note: `expires after ${input.expiresInDays} days; its value is never in a plan or a record` })];
}

/** A credential that goes: what identifies it (never a secret's value, which Graph never returns again). */
function credentialGone(app: App, kind: 'client secret' | 'certificate', k: (PasswordCredential | KeyCredential) & { thumbprint?: string | null }): Change {
  const before = { keyId: k.keyId, displayName: k.displayName ?? null, endDateTime: k.endDateTime, ...(k.thumbprint ? { thumbprint: k.thumbprint } : {}) };
  const note = kind === 'client secret' ? c.SECRET_GONE : c.CERTIFICATE_GONE;
  return change(appObject(app), `${kind} ${k.thumbprint ?? k.displayName ?? k.keyId}`, before, null, { objectId: app.id, note });
}

async function planAppAddCertificate(input: InputOf<typeof c.appAddCertificate>, { graph }: PlanContext): Promise<Change[]> {
  const cert = validCertificate(input.certificate);
  const app = await findApp(graph, input.app);
  const thumbprint = thumbprintOf(cert.raw);
  if ((await certificatesOf(graph, app)).some((k) => k.thumbprint === thumbprint)) return [];
  const after = { keyId: knownAfterRun('output.keyId'), displayName: certificateName(cert, input.displayName), startDateTime: new Date(cert.validFrom).toISOString(), endDateTime: new Date(cert.validTo).toISOString() };
  return [change(appObject(app), `certificate ${thumbprint}`, null, after, { objectId: app.id })];
}

function planAppOwner(add: boolean) {
  return async (input: { app: string; user: string }, { graph }: PlanContext): Promise<Change[]> => {
    const [app, user] = [await findApp(graph, input.app), await getUser(graph, input.user)];
    const { items } = await listAll<{ id: string }>(graph, `/applications/${app.id}/owners`, { select: 'id' });
    const has = items.some((o) => o.id.toLowerCase() === user.id.toLowerCase());
    return has === add ? [] : [change(appObject(app), memberProperty('owner', user), has, add, { objectId: app.id })];
  };
}

interface Principal {
  kind: 'users' | 'groups';
  id: string;
  name: string;
}

const roleName = (sp: ServicePrincipal, roleId: string): string => (roleId === DEFAULT_ACCESS ? c.DEFAULT_ACCESS_ROLE : (sp.appRoles ?? []).find((r) => r.id === roleId)?.displayName ?? roleId);

/** "assignment anna@contoso.com as Reader" on the enterprise app, read from the principal's appRoleAssignments. */
async function planAssignment(graph: Client, who: Principal, appRef: string, roleRef: string | undefined, add: boolean): Promise<Change[]> {
  const sp = await findServicePrincipal(graph, appRef);
  const roleId = add || roleRef ? roleFor(sp, roleRef) : undefined;
  const current = await assignmentsOf(graph, who.kind, who.id, sp.id);
  const object = `enterprise app ${sp.displayName}`;
  const row = (appRoleId: string) => change(object, `assignment ${who.name} as ${roleName(sp, appRoleId)}`, !add, add, { objectId: sp.id });
  if (add) return current.some((a) => a.appRoleId === roleId) ? [] : [row(roleId!)];
  return current.filter((a) => !roleId || a.appRoleId === roleId).map((a) => row(a.appRoleId));
}
