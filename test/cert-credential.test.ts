// Certificate credentials for tenant connections, end to end: the sandbox's token endpoint checks
// client assertions against certificates uploaded to the app (x5t#S256 / x5t, signature, iss/sub,
// aud, lifetime, jti) and answers Entra's AADSTS errors; the control plane stores a certificate
// connection, "test connection" signs in with it, and a real worker on real Temporal runs a
// runbook through it (ClientCertificateCredential) that writes and reads the tenant.
import assert from 'node:assert/strict';
import { createHash, randomUUID, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import forge from 'node-forge';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ClientCertificateCredential } from '@azure/identity';
import type { AppCredentials } from '../sandbox/index.ts';
import type { TenantDirectory } from '../m365/tenants.ts';
import { UnknownTenantError } from '../m365/tenants.ts';
import { createWorker } from '../worker/worker.ts';
import { pollApi, startApiServer, type ApiServer } from './api-harness.ts';
import { sharedWorkflowBundle, startTestEnv, type TestEnv } from './harness.ts';
import { makeCert, type TestCert } from './certs.ts';

let env: TestEnv;
let api: ApiServer;
let worker: Worker | undefined;
let workerRun: Promise<void> | undefined;
let native: NativeConnection | undefined;
let app: AppCredentials;
let cert: TestCert;

before(async () => {
  env = await startTestEnv({ worker: false });
  api = await startApiServer(env);
  app = env.sandbox.admin.createApp({ displayName: 'Tenantflow (certificate)', permissions: ['User.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.Read.All'] });
  cert = makeCert('tenantflow-cert-test');
  // A real worker on the test's task queue that resolves connections from the control plane.
  const tenants: TenantDirectory = {
    async get(name) {
      const c = await api.services.tenants.connection(name);
      if (!c) throw new UnknownTenantError(`tenant connection "${name}" does not exist`);
      return c;
    },
    async list() {
      return (await api.services.tenants.list()).map((t) => t.name);
    },
  };
  native = await NativeConnection.connect({ address: env.address });
  worker = await createWorker({ connection: native, namespace: env.namespace, taskQueue: env.taskQueue, tenants, workflowBundle: sharedWorkflowBundle() });
  workerRun = worker.run();
});
after(async () => {
  worker?.shutdown();
  await workerRun;
  await native?.close();
  await api?.close();
  await env?.close();
});

const tokenUrl = () => `${env.sandbox.url}/${app.tenantId}/oauth2/v2.0/token`;

/** A hand-made client assertion (the sandbox's checks, one at a time). */
function assertion(c: TestCert, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(c.certPem))).getBytes(), 'binary');
  const now = Math.floor(Date.now() / 1000);
  const h = { alg: 'RS256', typ: 'JWT', 'x5t#S256': createHash('sha256').update(der).digest('base64url'), ...header };
  const p = { aud: tokenUrl(), iss: app.clientId, sub: app.clientId, jti: randomUUID(), nbf: now, iat: now, exp: now + 600, ...claims };
  const body = `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from(JSON.stringify(p)).toString('base64url')}`;
  return `${body}.${sign('sha256', Buffer.from(body), c.keyPem).toString('base64url')}`;
}

async function tokenWith(clientAssertion: string, clientId = app.clientId) {
  const res = await fetch(tokenUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      scope: 'https://graph.microsoft.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
    }),
  });
  return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string; error_codes?: number[]; error_description?: string } };
}

describe('sandbox token endpoint: certificate client assertions', () => {
  it('refuses a certificate that is not registered on the app (AADSTS700027, key not found)', async () => {
    const r = await tokenWith(assertion(cert));
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
    assert.deepEqual(r.body.error_codes, [700027]);
    assert.match(r.body.error_description!, /The key was not found/);
  });

  it('registers a certificate on the app through the admin API, with its thumbprints', async () => {
    const res = await fetch(`${env.sandbox.url}/_admin/apps/${app.clientId}/certificates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ certificate: cert.pem }),
    });
    assert.equal(res.status, 201);
    const view = (await res.json()) as { thumbprint: string; x5t: string; x5tS256: string; keyId: string; certificatePem?: string };
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(cert.certPem))).getBytes(), 'binary');
    assert.equal(view.thumbprint, createHash('sha1').update(der).digest('hex').toUpperCase());
    assert.equal(view.x5tS256, createHash('sha256').update(der).digest('base64url'));
    assert.equal(view.certificatePem, undefined, 'the admin view carries no key material');
    // The private key in the uploaded PEM is not kept: only the certificate.
    assert.equal(JSON.stringify(env.sandbox.admin.exportState()).includes('PRIVATE KEY'), false);
    assert.equal(env.sandbox.admin.appCertificates(app.clientId).length, 1);
  });

  it('issues an app token for a valid assertion (RS256 with x5t#S256, and with the SHA-1 x5t)', async () => {
    const a = await tokenWith(assertion(cert));
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const claims = JSON.parse(Buffer.from(a.body.access_token!.split('.')[1]!, 'base64url').toString()) as { appid: string; roles: string[] };
    assert.equal(claims.appid, app.clientId);
    assert.ok(claims.roles.includes('User.ReadWrite.All'));
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(cert.certPem))).getBytes(), 'binary');
    const sha1 = await tokenWith(assertion(cert, {}, { 'x5t#S256': undefined, x5t: createHash('sha1').update(der).digest('base64url') }));
    assert.equal(sha1.status, 200, JSON.stringify(sha1.body));
  });

  it('refuses a bad signature, another audience, an expired assertion, a missing jti, and iss/sub not the client', async () => {
    const other = makeCert('not-registered');
    // Registered certificate's thumbprint, signed with another key.
    const forged = await tokenWith(assertion({ ...cert, keyPem: other.keyPem }));
    assert.deepEqual([forged.status, forged.body.error_codes], [401, [700027]]);
    assert.match(forged.body.error_description!, /signature validation/);
    const aud = await tokenWith(assertion(cert, { aud: `${env.sandbox.url}/common/oauth2/v2.0/token` }));
    assert.deepEqual([aud.status, aud.body.error_codes], [401, [50027]]);
    const old = Math.floor(Date.now() / 1000) - 3600;
    const expired = await tokenWith(assertion(cert, { nbf: old - 600, iat: old - 600, exp: old }));
    assert.deepEqual([expired.status, expired.body.error_codes], [401, [700024]]);
    const noJti = await tokenWith(assertion(cert, { jti: undefined }));
    assert.deepEqual([noJti.status, noJti.body.error_codes], [401, [50027]]);
    const mismatch = await tokenWith(assertion(cert, { sub: randomUUID() }));
    assert.deepEqual([mismatch.status, mismatch.body.error_codes], [401, [50048]]);
    const otherClient = await tokenWith(assertion(cert, { iss: env.sandbox.tenant.clientId, sub: env.sandbox.tenant.clientId }));
    assert.deepEqual([otherClient.status, otherClient.body.error_codes], [401, [700021]]);
  });

  it('signs @azure/identity ClientCertificateCredential in (its PS256 / x5t#S256 assertion), and refuses an unregistered certificate', async () => {
    const ok = new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: cert.pem }, { authorityHost: env.sandbox.url, disableInstanceDiscovery: true });
    const t = await ok.getToken('https://graph.microsoft.com/.default');
    assert.ok(t?.token);
    const bad = new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: makeCert('stranger').pem }, { authorityHost: env.sandbox.url, disableInstanceDiscovery: true });
    await assert.rejects(bad.getToken('https://graph.microsoft.com/.default'), /AADSTS700027/);
  });
});

describe('a certificate tenant connection, end to end', () => {
  const conn = 'contoso-cert';
  it('is stored with its certificate sealed, shown as credential "certificate", and "test connection" signs in with it', async () => {
    const r = await api.admin.call('POST', '/api/tenants', {
      name: conn,
      tenantId: app.tenantId,
      clientId: app.clientId,
      certificate: cert.pem,
      authorityHost: env.sandbox.url,
      graphUrl: env.sandbox.url,
      caPem: env.sandbox.caPem,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const shown = await api.admin.call('GET', `/api/tenants/${conn}`);
    assert.equal(shown.body.credential, 'certificate');
    assert.equal(JSON.stringify(shown.body).includes('PRIVATE KEY'), false);
    const row = await api.db.one<{ certificate_enc: string }>('select certificate_enc from tenants where name = $1', [conn]);
    assert.equal(row!.certificate_enc.includes('PRIVATE KEY'), false, 'sealed at rest');
    const t = await api.admin.call('POST', `/api/tenants/${conn}/test`);
    assert.equal(t.status, 200);
    assert.equal(t.body.tokenAcquired, true, JSON.stringify(t.body));
    assert.ok(t.body.granted.includes('User.ReadWrite.All'));
  });

  it('"test connection" reports the AADSTS error of a certificate the app does not know', async () => {
    const r = await api.admin.call('POST', '/api/tenants', {
      name: 'contoso-stranger',
      tenantId: app.tenantId,
      clientId: app.clientId,
      certificate: makeCert('stranger').pem,
      authorityHost: env.sandbox.url,
      graphUrl: env.sandbox.url,
      caPem: env.sandbox.caPem,
    });
    assert.equal(r.status, 201);
    const t = await api.admin.call('POST', '/api/tenants/contoso-stranger/test');
    assert.equal(t.body.tokenAcquired, false);
    assert.match(t.body.error, /AADSTS700027/);
  });

  it('runs a runbook on a real worker through the certificate connection: a user is created and read back through Graph', async () => {
    const upn = `cert.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    const since = env.sandbox.admin.requestLog().at(-1)?.seq ?? 0;
    const start = await api.admin.call('POST', '/api/runs', {
      tenant: conn,
      definition: {
        name: 'create and read back (certificate connection)',
        inputs: [{ name: 'upn', type: 'string', required: true }],
        nodes: [
          { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Certificate Person', department: 'Finance' } },
          { id: 'read', kind: 'action', action: 'user.get', params: { user: '{{ steps.create.output.id }}' } },
        ],
        edges: [{ source: 'create', target: 'read' }],
      },
      inputs: { upn },
    });
    assert.equal(start.status, 201, JSON.stringify(start.body));
    const run = await pollApi(api.admin, `/api/runs/${start.body.id}`, (b) => ['succeeded', 'failed'].includes(b.status), 60_000);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.nodes, null, 2));
    const read = Object.values(run.nodes as Record<string, { id: string; output?: any }>).find((n) => n.id === 'read')!;
    assert.equal(read.output.found, true);
    assert.equal(read.output.user.userPrincipalName, upn);

    // The tenant, read back through Graph with the demo app's own credential.
    const u = await env.graph.api(`/users/${upn}`).select('id,displayName,department').get();
    assert.equal(u.department, 'Finance');

    // The sandbox saw the certificate app (not the demo app) sign in and write.
    const log = env.sandbox.admin.requestLog({ since });
    assert.ok(log.some((e) => e.surface === 'token' && e.status === 200 && e.appId === app.clientId), 'a token was issued to the certificate app');
    const write = log.find((e) => e.surface === 'graph' && e.method === 'POST' && /\/users$/.test(e.path) && e.status === 201);
    assert.equal(write?.appId, app.clientId);
    // No client secret was involved: the connection has none.
    assert.equal((await api.services.tenants.connection(conn))!.clientSecret, '');
  });
});
