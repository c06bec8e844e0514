// The application actions against the sandbox tenant, as runbook steps on real Temporal through the
// real activity wrapper, read back through Graph (applications, servicePrincipals, owners, deleted
// items, keyCredentials, app role assignments). A client secret must work at the token endpoint and
// must not be in the step's output or the run's Temporal history in clear.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import { secretBox } from '../m365/secret-box.ts';
import { openSealed } from '../runbook/secrets.ts';
import { derBase64, makeCert } from './certs.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
const box = secretBox(randomBytes(32));
let sender: string;
let helpdesk: { id: string; userPrincipalName: string };

before(async () => {
  env = await startActionsEnv({ secrets: box });
  sender = (await env.newUser('appsender', { licences: ['EXCHANGESTANDARD'] })).userPrincipalName;
  helpdesk = await env.newUser('apphelpdesk', { licences: ['EXCHANGESTANDARD'] });
});
after(async () => env?.close());

const name = (tag: string) => `${tag} ${randomUUID().slice(0, 8)}`;
const appNamed = async (displayName: string) => (await env.graph.api('/applications').filter(`displayName eq '${displayName}'`).get()).value;
const readApp = (id: string, select?: string) => (select ? env.graph.api(`/applications/${id}`).select(select) : env.graph.api(`/applications/${id}`)).get();

/** A new app registration with an enterprise app, made through Graph directly (test setup). */
async function newApp(tag: string, body: Record<string, unknown> = {}): Promise<{ id: string; appId: string; displayName: string; spId: string }> {
  const app = await env.graph.api('/applications').post({ displayName: name(tag), ...body });
  const sp = await env.graph.api('/servicePrincipals').post({ appId: app.appId });
  return { id: app.id, appId: app.appId, displayName: app.displayName, spId: sp.id };
}

/** Does this secret sign in as the app? (what the app's developer would try next) */
async function signsIn(appId: string, secret: string): Promise<boolean> {
  env.sandbox.admin.setAppPermissions(appId, ['User.Read.All']);
  try {
    const cred = new ClientSecretCredential(env.sandbox.tenant.tenantId, appId, secret, { authorityHost: env.sandbox.url, disableInstanceDiscovery: true });
    return !!(await cred.getToken('https://graph.microsoft.com/.default')).token;
  } catch {
    return false;
  }
}

describe('app registrations', { concurrency: true }, () => {
  it('app.create registers the app with its enterprise app, redirect URIs and owners; the same name again fails', async () => {
    const displayName = name('Payroll');
    const owner = await env.newUser('appowner');
    const r = await env.run('app.create', { displayName, redirectUris: ['https://payroll.contoso.com/auth'], notes: 'HR system', owners: [owner.userPrincipalName] });
    ok(r);
    assert.equal(r.output.created, true);
    const app = await readApp(r.output.id);
    assert.deepEqual([app.displayName, app.signInAudience, app.notes, app.web.redirectUris], [displayName, 'AzureADMyOrg', 'HR system', ['https://payroll.contoso.com/auth']]);
    const sp = (await env.graph.api('/servicePrincipals').filter(`appId eq '${app.appId}'`).get()).value;
    assert.deepEqual(sp.map((s: { id: string }) => s.id), [r.output.servicePrincipalId]);
    assert.deepEqual((await env.graph.api(`/applications/${app.id}/owners`).get()).value.map((o: { id: string }) => o.id), [owner.id]);
    const again = await env.run('app.create', { displayName });
    assert.equal(again.status, 'failed');
    assert.equal(again.error?.code, 'ObjectConflict');
    assert.equal((await appNamed(displayName)).length, 1);
  });

  it('app.update changes name, notes and redirect URIs; a second run changes nothing', async () => {
    const a = await newApp('Update');
    const displayName = name('Renamed');
    const r = await env.run('app.update', { app: a.appId, displayName, notes: 'moved', redirectUris: ['https://new.contoso.com/cb'] });
    ok(r);
    assert.deepEqual(r.output.changed.sort(), ['displayName', 'notes', 'redirectUris']);
    const app = await readApp(a.id);
    assert.deepEqual([app.displayName, app.notes, app.web.redirectUris], [displayName, 'moved', ['https://new.contoso.com/cb']]);
    assert.deepEqual((await env.run('app.update', { app: displayName, notes: 'moved' })).output.changed, []);
  });

  it('app.delete moves the app to deleted applications; app.restore brings it back', async () => {
    const a = await newApp('Delete');
    const r = await env.run('app.delete', { app: a.displayName });
    ok(r);
    assert.equal(r.output.deleted, true);
    await assert.rejects(readApp(a.id), (e: { statusCode?: number }) => e.statusCode === 404);
    const deleted = (await env.graph.api('/directory/deletedItems/microsoft.graph.application').get()).value;
    assert.ok(deleted.some((x: { id: string }) => x.id === a.id));
    const back = await env.run('app.restore', { app: a.appId });
    ok(back);
    assert.equal(back.output.restored, true);
    assert.equal((await readApp(a.id)).displayName, a.displayName);
    assert.equal((await env.run('app.restore', { app: a.appId })).output.restored, false);
  });

  it('app.delete retried after a lost answer counts the deleted app as done', async () => {
    const a = await newApp('LostDelete');
    env.sandbox.admin.failNext({ status: 504, match: `^DELETE /v1\\.0/applications/${a.id}$`, afterEffect: true });
    const r = await env.run('app.delete', { app: a.id });
    ok(r);
    assert.deepEqual([r.attempts, r.output.deleted], [2, false]);
  });

  it('app.addSecret returns the secret sealed: it opens to a secret that signs in, and the run\'s history never holds it in clear', async () => {
    const a = await newApp('Secret');
    const r = await env.run('app.addSecret', { app: a.appId, displayName: 'sync job', expiresInDays: 90 });
    ok(r);
    assert.equal(r.output.sentTo, null);
    const secret = openSealed(box, r.output.sealedSecret) as string;
    assert.ok(await signsIn(a.appId, secret), 'the sealed secret signs in');
    const creds = (await readApp(a.id)).passwordCredentials;
    assert.equal(creds.length, 1);
    assert.equal(creds[0].keyId, r.output.keyId);
    assert.match(creds[0].displayName, /^sync job \(tf-[0-9a-f]{8}\)$/);
    assert.ok(Math.abs(Date.parse(creds[0].endDateTime) - (Date.now() + 90 * 86_400_000)) < 3_600_000, 'expires in 90 days');
    const history = await r.history();
    assert.ok(history.includes(r.output.keyId), 'the history is readable (sanity)');
    assert.ok(!history.includes(secret) && !history.includes(Buffer.from(secret).toString('base64')), 'the secret is in the Temporal history');
  });

  it('app.addSecret emails the secret when asked; the mailed secret signs in', async () => {
    const a = await newApp('Mailed');
    const r = await env.run('app.addSecret', { app: a.id, displayName: 'vendor', sendSecretTo: helpdesk.userPrincipalName, mailFrom: sender });
    ok(r);
    assert.equal(r.output.sentTo, helpdesk.userPrincipalName);
    const inbox = (await env.graph.api(`/users/${helpdesk.id}/mailFolders/inbox/messages`).top(50).get()).value as { subject: string; body: { content: string } }[];
    const mail = inbox.find((m) => m.subject.includes(a.displayName));
    assert.ok(mail, 'the secret was mailed');
    const mailed = /\n {4}(\S+)\n/.exec(mail.body.content)![1]!;
    assert.ok(await signsIn(a.appId, mailed));
    assert.equal(openSealed(box, r.output.sealedSecret), mailed);
  });

  it('app.addSecret retried after a lost answer leaves exactly one secret, the one it returns', async () => {
    const a = await newApp('LostSecret');
    env.sandbox.admin.failNext({ status: 504, match: `^POST /v1\\.0/applications/${a.id}/addPassword$`, afterEffect: true });
    const r = await env.run('app.addSecret', { app: a.id, displayName: 'retry' });
    ok(r);
    assert.equal(r.attempts, 2);
    const creds = (await readApp(a.id)).passwordCredentials;
    assert.deepEqual(creds.map((c: { keyId: string }) => c.keyId), [r.output.keyId], 'one secret, not two');
    assert.ok(await signsIn(a.appId, openSealed(box, r.output.sealedSecret) as string));
  });

  it('app.removeSecret removes a secret by its description', async () => {
    const a = await newApp('RemoveSecret');
    ok(await env.run('app.addSecret', { app: a.id, displayName: 'old' }));
    const keep = await env.graph.api(`/applications/${a.id}/addPassword`).post({ passwordCredential: { displayName: 'keep' } });
    const r = await env.run('app.removeSecret', { app: a.id, displayName: 'old' });
    ok(r);
    assert.equal(r.output.removed.length, 1);
    assert.deepEqual((await readApp(a.id)).passwordCredentials.map((c: { keyId: string }) => c.keyId), [keep.keyId]);
    assert.deepEqual((await env.run('app.removeSecret', { app: a.id, displayName: 'old' })).output.removed, []);
  });

  it('app.addCertificate uploads a certificate that signs in; the same one again is done; a private key is refused', async () => {
    const a = await newApp('Cert');
    const cert = makeCert('tenantflow-app-cert');
    const r = await env.run('app.addCertificate', { app: a.id, certificate: cert.certPem, displayName: 'CN=tenantflow-app-cert' });
    ok(r);
    assert.equal(r.output.added, true);
    const keys = (await readApp(a.id, 'keyCredentials')).keyCredentials;
    assert.deepEqual(keys.map((k: { keyId: string; key: string }) => [k.keyId, k.key]), [[r.output.keyId, derBase64(cert.certPem)]]);
    env.sandbox.admin.setAppPermissions(a.appId, ['User.Read.All']);
    const cred = new ClientCertificateCredential(env.sandbox.tenant.tenantId, a.appId, { certificate: cert.pem }, { authorityHost: env.sandbox.url, disableInstanceDiscovery: true });
    assert.ok((await cred.getToken('https://graph.microsoft.com/.default')).token);
    assert.equal((await env.run('app.addCertificate', { app: a.id, certificate: derBase64(cert.certPem) })).output.added, false);
    const secretKey = await env.run('app.addCertificate', { app: a.id, certificate: cert.pem });
    assert.equal(secretKey.status, 'failed');
    assert.match(secretKey.error!.message, /private key/);
  });

  it('app.removeCertificate removes a certificate by thumbprint and keeps the others', async () => {
    const a = await newApp('RemoveCert');
    const [one, two] = [makeCert('one'), makeCert('two')];
    const first = await env.run('app.addCertificate', { app: a.id, certificate: one.certPem });
    ok(first);
    ok(await env.run('app.addCertificate', { app: a.id, certificate: two.certPem }));
    const r = await env.run('app.removeCertificate', { app: a.id, certificate: first.output.thumbprint.match(/../g).join(':').toLowerCase() });
    ok(r);
    assert.equal(r.output.removed, true);
    const keys = (await readApp(a.id, 'keyCredentials')).keyCredentials;
    assert.deepEqual(keys.map((k: { key: string }) => k.key), [derBase64(two.certPem)]);
  });

  it('app.expiringCredentials reports expiring and expired credentials; app.removeExpiredCredentials removes only the expired', async () => {
    const a = await newApp('Expiring');
    const day = 86_400_000;
    const soon = await env.graph.api(`/applications/${a.id}/addPassword`).post({ passwordCredential: { displayName: 'soon', endDateTime: new Date(Date.now() + 5 * day).toISOString() } });
    const expired = await env.graph.api(`/applications/${a.id}/addPassword`).post({ passwordCredential: { displayName: 'expired', startDateTime: new Date(Date.now() - 30 * day).toISOString(), endDateTime: new Date(Date.now() - day).toISOString() } });
    await env.graph.api(`/applications/${a.id}/addPassword`).post({ passwordCredential: { displayName: 'later', endDateTime: new Date(Date.now() + 300 * day).toISOString() } });
    const oldCert = makeCert('expired-cert', { notBefore: new Date(Date.now() - 60 * day), notAfter: new Date(Date.now() - 2 * day) });
    await env.graph.api(`/applications/${a.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: derBase64(oldCert.certPem) }] });
    const report = await env.run('app.expiringCredentials', { app: a.id, withinDays: 30 });
    ok(report);
    assert.deepEqual(
      report.output.credentials.map((x: { displayName: string; kind: string; expired: boolean }) => [x.kind, x.expired]),
      [['certificate', true], ['clientSecret', true], ['clientSecret', false]],
    );
    assert.deepEqual(report.output.apps, [a.id]);
    const all = await env.run('app.expiringCredentials', { withinDays: 30 });
    assert.ok(all.output.credentials.some((x: { keyId: string }) => x.keyId === soon.keyId));
    const r = await env.run('app.removeExpiredCredentials', { app: a.id });
    ok(r);
    assert.deepEqual([r.output.removedSecrets, r.output.removedCertificates.length], [[expired.keyId], 1]);
    const app = await readApp(a.id);
    assert.deepEqual(app.passwordCredentials.map((c: { displayName: string }) => c.displayName).sort(), ['later', 'soon']);
    assert.equal(app.keyCredentials.length, 0);
  });

  it('app.addOwner and app.removeOwner', async () => {
    const a = await newApp('Owners');
    const u = await env.newUser('appowner2');
    const r = await env.run('app.addOwner', { app: a.displayName, user: u.userPrincipalName });
    ok(r);
    assert.equal(r.output.added, true);
    assert.deepEqual((await env.graph.api(`/applications/${a.id}/owners`).get()).value.map((o: { id: string }) => o.id), [u.id]);
    assert.equal((await env.run('app.addOwner', { app: a.id, user: u.id })).output.added, false);
    ok(await env.run('app.removeOwner', { app: a.id, user: u.id }));
    assert.equal((await env.graph.api(`/applications/${a.id}/owners`).get()).value.length, 0);
    assert.equal((await env.run('app.removeOwner', { app: a.id, user: u.id })).output.removed, false);
  });

  it('app.find lists apps by the start of their name', async () => {
    const a = await newApp('Findable');
    const r = await env.run('app.find', { nameStartsWith: a.displayName });
    ok(r);
    assert.deepEqual(r.output.apps.map((x: { appId: string }) => x.appId), [a.appId]);
  });

  it('a missing app fails with what to use instead', async () => {
    const r = await env.run('app.update', { app: 'No such app', notes: 'x' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'ResourceNotFound');
    assert.match(r.error!.hint!, /application \(client\) id/);
  });
});

describe('enterprise app assignments', { concurrency: true }, () => {
  const roleId = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';

  it('app.assignUser with a role, read back from the user; app.unassignUser removes it', async () => {
    const a = await newApp('Assign', { appRoles: [{ id: roleId, allowedMemberTypes: ['User'], displayName: 'Approver', value: 'Approver', isEnabled: true }] });
    const u = await env.newUser('assignee');
    const noRole = await env.run('app.assignUser', { app: a.displayName, user: u.id });
    assert.equal(noRole.status, 'failed');
    assert.equal(noRole.error?.code, 'AppRoleRequired');
    const r = await env.run('app.assignUser', { app: a.displayName, user: u.userPrincipalName, appRole: 'approver' });
    ok(r);
    assert.deepEqual([r.output.assigned, r.output.appRoleId, r.output.servicePrincipalId], [true, roleId, a.spId]);
    const mine = (await env.graph.api(`/users/${u.id}/appRoleAssignments`).get()).value;
    assert.deepEqual(mine.map((x: { resourceId: string; appRoleId: string }) => [x.resourceId, x.appRoleId]), [[a.spId, roleId]]);
    assert.equal((await env.run('app.assignUser', { app: a.appId, user: u.id, appRole: roleId })).output.assigned, false);
    const un = await env.run('app.unassignUser', { app: a.spId, user: u.id });
    ok(un);
    assert.equal(un.output.removed, 1);
    assert.equal((await env.graph.api(`/users/${u.id}/appRoleAssignments`).get()).value.length, 0);
  });

  it('app.assignGroup with default access, read back on the enterprise app; app.unassignGroup', async () => {
    const a = await newApp('AssignGroup');
    const g = await env.graph.api('/groups').post({ displayName: name('App users'), mailEnabled: false, mailNickname: `appusers${randomUUID().slice(0, 6)}`, securityEnabled: true });
    const r = await env.run('app.assignGroup', { app: a.appId, group: g.id });
    ok(r);
    assert.equal(r.output.appRoleId, '00000000-0000-0000-0000-000000000000');
    const assigned = (await env.graph.api(`/servicePrincipals/${a.spId}/appRoleAssignedTo`).get()).value;
    assert.deepEqual(assigned.map((x: { principalId: string; principalType: string }) => [x.principalId, x.principalType]), [[g.id, 'Group']]);
    ok(await env.run('app.unassignGroup', { app: a.appId, group: g.displayName }));
    assert.equal((await env.graph.api(`/servicePrincipals/${a.spId}/appRoleAssignedTo`).get()).value.length, 0);
  });

  it('assigning to an app role that does not exist fails naming the roles', async () => {
    const a = await newApp('Roles', { appRoles: [{ id: roleId, allowedMemberTypes: ['User'], displayName: 'Viewer', value: 'Viewer', isEnabled: true }] });
    const u = await env.newUser('norole');
    const r = await env.run('app.assignUser', { app: a.appId, user: u.id, appRole: 'Admin' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'AppRoleNotFound');
    assert.match(r.error!.hint!, /Viewer/);
  });
});

// A scripted fault on POST /applications would hit the other tests' app creations: this one runs alone.
describe('app.create after a lost answer', () => {
  it('app.create retried after a lost answer finds its own app instead of failing or making a second one', async () => {
    const displayName = name('Lost');
    env.sandbox.admin.failNext({ status: 504, match: '^POST /v1\\.0/applications$', afterEffect: true });
    const r = await env.run('app.create', { displayName });
    ok(r);
    assert.deepEqual([r.attempts, r.output.created], [2, false]);
    assert.equal((await appNamed(displayName)).length, 1);
    assert.ok(r.output.servicePrincipalId);
  });
});

describe('app.addSecret on a worker without the secret key', () => {
  let bare: ActionsEnv;
  before(async () => {
    bare = await startActionsEnv();
  });
  after(async () => bare?.close());

  it('refuses to create a secret it could neither seal nor send, before touching the app', async () => {
    const app = await bare.graph.api('/applications').post({ displayName: name('No key') });
    const r = await bare.run('app.addSecret', { app: app.id, displayName: 'nowhere' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.code, 'NoSecretKey');
    assert.match(r.error!.hint!, /TENANTFLOW_SECRET_KEY|send secret to/);
    assert.deepEqual((await bare.graph.api(`/applications/${app.id}`).get()).passwordCredentials, []);
  });
});
