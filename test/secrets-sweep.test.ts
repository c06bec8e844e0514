// The secrets sweep (issue 16): a run that carries a secret input, a literal secret parameter and a
// secret inside an object, started, approved and finished through the API on the real server,
// worker, Temporal and sandbox; then every place a secret could leak is read back and searched for
// the plaintext (and its base64): every Temporal history, everything the server and worker logged,
// every API answer a person can read about the run, the runbook and the audit, every row of every
// table of the control plane's database, and every file of its data folder.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { secretBox } from '../m365/secret-box.ts';
import { startApiServer, type ApiServer } from './api-harness.ts';
import { recordingEndpoint, startTestEnv, type TestEnv } from './harness.ts';

const SECRETS = {
  password: `Pw!${randomBytes(9).toString('hex')}`,
  apikey: `key-${randomBytes(9).toString('hex')}`,
  literal: `lit-${randomBytes(9).toString('hex')}`,
};
const forms = (s: string) => [s, Buffer.from(s).toString('base64'), Buffer.from(JSON.stringify(s)).toString('base64')];

let env: TestEnv;
let api: ApiServer;
let dataDir: string;
const logged: string[] = [];
let hook: Awaited<ReturnType<typeof recordingEndpoint>>;
const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

before(async () => {
  // Everything written to stdout / stderr from here on (server, worker, SDK logs) is kept for the sweep.
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => (logged.push(String(chunk)), writes.out(chunk as never, ...(rest as [])))) as never;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => (logged.push(String(chunk)), writes.err(chunk as never, ...(rest as [])))) as never;
  dataDir = mkdtempSync(join(tmpdir(), 'tenantflow-sweep-'));
  const box = secretBox(randomBytes(32));
  env = await startTestEnv({ secrets: box });
  api = await startApiServer(env, { dataDir, secretBox: box });
  hook = await recordingEndpoint();
});
after(async () => {
  process.stdout.write = writes.out as never;
  process.stderr.write = writes.err as never;
  hook?.close();
  await api?.close();
  await env?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('secrets sweep', () => {
  it('no plaintext secret in any history, log, API answer, database row or data file', async () => {
    const upn = `sweep.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
        const definition = {
      name: 'Reset and tell the ticket system',
      inputs: [
        { name: 'upn', type: 'string', required: true },
        { name: 'password', type: 'string', secret: true, required: true },
        { name: 'apikey', type: 'string', secret: true, required: true },
      ],
      nodes: [
        { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Sweep test', usageLocation: 'US' } },
        { id: 'ask', kind: 'approval', approvers: { roles: ['approver'] }, message: 'Reset the password of {{ inputs.upn }}?' },
        { id: 'reset', kind: 'action', action: 'user.resetPassword', params: { user: '{{ steps.create.output.id }}', password: '{{ inputs.password }}' } },
        {
          id: 'tell',
          kind: 'action',
          action: 'notify.webhook',
          params: { url: hook.url, headers: { 'X-Api-Key': '{{ inputs.apikey }}', 'X-Static': SECRETS.literal }, body: { user: '{{ inputs.upn }}', done: true } },
        },
      ],
      edges: [
        { source: 'create', target: 'ask' },
        { source: 'ask', sourceHandle: 'approved', target: 'reset' },
        { source: 'reset', target: 'tell' },
      ],
    };
    const id = `sweep-${randomUUID().slice(0, 6)}`;
    const created = await api.admin.call('POST', '/api/runbooks', { id, definition });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await api.admin.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
    const started = await api.admin.call('POST', '/api/runs', { runbookId: id, inputs: { upn, password: SECRETS.password, apikey: SECRETS.apikey }, reason: 'sweep' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const runId: string = started.body.id;

    const approver = await api.as('sweep.approver@tenantflow.test', [{ tenant: 'sandbox', role: 'approver' }]);
    for (let i = 0; ; i++) {
      const r = await approver.call('POST', `/api/runs/${runId}/approvals/ask`, { decision: 'approve', comment: 'ok' });
      if (r.status === 202) break;
      assert.ok(i < 300, `could not approve: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    let run: { status: string } | undefined;
    for (let i = 0; i < 600; i++) {
      run = (await api.admin.call('GET', `/api/runs/${runId}`)).body;
      if (run && !['running', 'waiting'].includes(run.status)) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(run?.status, 'succeeded', JSON.stringify(run));

    // The secrets did their work: the service got the key, the user's password was set.
    assert.equal(hook.received.at(-1)!.headers['x-api-key'], SECRETS.apikey);
    assert.equal(hook.received.at(-1)!.headers['x-static'], SECRETS.literal);
    assert.equal(env.sandbox.admin.findUser(upn)?._password, SECRETS.password, 'the password reached the tenant');

    // Wait for the run record to be complete, then sweep.
    for (let i = 0; i < 100; i++) {
      const rec = await api.db.one<{ status: string }>('SELECT status FROM run_records WHERE workflow_id = $1 AND final', [runId]).catch(() => undefined);
      if (rec && rec.status === 'succeeded') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const places: [string, string][] = [];
    // Every execution on the server, read raw (other test files share it, some with codecs this client lacks).
    let pageToken: Uint8Array | undefined;
    do {
      const page = await env.client.workflowService.listWorkflowExecutions({ namespace: env.client.options.namespace, pageSize: 500, nextPageToken: pageToken });
      for (const e of page.executions) {
        const { workflowId, runId } = e.execution!;
        places.push([`history of ${workflowId}`, JSON.stringify(await env.client.workflow.getHandle(workflowId!, runId!).fetchHistory())]);
      }
      pageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (pageToken);
    assert.ok(places.some(([p]) => p.includes(runId)), 'the run\'s history was read');
    for (const path of [
      `/api/runs/${runId}`,
      `/api/runs/${runId}/evidence`,
      `/api/runs/${runId}/evidence?format=html`,
      `/api/runs?runbook=${id}`,
      '/api/runs',
      '/api/approvals',
      `/api/runbooks/${id}`,
      `/api/runbooks/${id}/versions`,
      `/api/runbooks/${id}/versions/1`,
      `/api/runbooks/${id}/export`,
      '/api/audit',
      '/api/audit/chain',
    ]) {
      const r = await api.admin.call('GET', path);
      assert.ok(r.status < 400, `${path}: ${r.status}`);
      places.push([`GET ${path}`, typeof r.body === 'string' ? r.body : JSON.stringify(r.body)]);
    }
    const tables = await api.db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    assert.ok(tables.length > 5);
    for (const { tablename } of tables) {
      const rows = await api.db.query<{ row: string }>(`SELECT t::text AS row FROM "${tablename}" t`);
      places.push([`table ${tablename}`, rows.map((r) => r.row).join('\n')]);
    }
    for (const f of files(dataDir)) places.push([`file ${f}`, readFileSync(f).toString('latin1')]);
    places.push(['logs', logged.join('')]);

    for (const [name, secret] of Object.entries(SECRETS))
      for (const form of forms(secret))
        for (const [place, text] of places) assert.ok(!text.includes(form), `the ${name} secret (as ${form === secret ? 'plain text' : 'base64'}) is in ${place}`);
  });
});
