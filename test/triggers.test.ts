// Triggers on real Temporal: a webhook trigger verified by its HMAC secret starts exactly one run
// with inputs mapped from the body; replays, stale timestamps, wrong signatures, a paused trigger
// and a non-matching filter start none; the same event starts no second run even when the
// trigger's own record of it is lost (the workflow id is derived from the event).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';
import { webhookSignature } from '../server/triggers.ts';

let env: TestEnv;
let server: ApiServer;
let designer: Caller, viewer: Caller, operator: Caller;

const greet = {
  name: 'Greet',
  inputs: [
    { name: 'upn', type: 'string', required: true },
    { name: 'department', type: 'string' },
  ],
  nodes: [{ id: 'done', kind: 'end', status: 'succeeded', message: 'hello {{ inputs.upn }}' }],
  edges: [],
};

before(async () => {
  env = await startTestEnv();
  server = await startApiServer(env);
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  operator = await server.as('operator@contoso.test', [{ tenant: 'sandbox', role: 'operator' }]);
  viewer = await server.as('viewer@contoso.test', [{ tenant: 'sandbox', role: 'viewer' }]);
  assert.equal((await designer.call('POST', '/api/runbooks', { id: 'greet', definition: greet })).status, 201);
  assert.equal((await designer.call('POST', '/api/runbooks/greet/publish', {})).status, 201);
});
after(async () => {
  await server?.close();
  await env?.close();
});

/** POSTs body to a webhook, signed with secret at the given time (Unix seconds). */
async function send(path: string, secret: string, body: unknown, opts: { at?: number; signature?: string; raw?: string } = {}) {
  const raw = opts.raw ?? JSON.stringify(body);
  const ts = String(opts.at ?? Math.floor(Date.now() / 1000));
  const res = await fetch(`${server.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenantflow-timestamp': ts, 'x-tenantflow-signature': opts.signature ?? webhookSignature(secret, ts, raw) },
    body: raw,
  });
  return { status: res.status, body: (await res.json()) as any, sent: { ts, raw } };
}

const runsOfGreet = async () => (await viewer.call('GET', '/api/runs?runbook=greet&pageSize=200')).body.runs as { id: string; status: string }[];

describe('webhook triggers', () => {
  it('a signed request starts exactly one run with inputs from the body; a replay starts none', async () => {
    const created = await designer.call('POST', '/api/triggers', {
      kind: 'webhook',
      name: 'HR hire',
      runbookId: 'greet',
      filter: "body.event = 'hired'",
      inputs: { upn: 'body.person.upn', department: '$uppercase(body.person.department)' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, url, secret } = created.body;
    assert.match(secret, /^whsec_/);
    assert.equal(url, `/api/hooks/${id}`);
    // The secret is shown once: never in the list or the trigger.
    assert.equal((await viewer.call('GET', `/api/triggers/${id}`)).body.secret, undefined);
    assert.ok(!JSON.stringify((await viewer.call('GET', '/api/triggers')).body).includes(secret));

    const hired = await send(url, secret, { event: 'hired', person: { upn: 'ada@contoso.test', department: 'sales' } });
    assert.equal(hired.status, 201, JSON.stringify(hired.body));
    assert.equal(hired.body.started, true);
    const runId = hired.body.runId as string;
    const run = await pollApi(viewer, `/api/runs/${runId}`, (r) => r.status === 'succeeded');
    assert.deepEqual(run.inputs, { upn: 'ada@contoso.test', department: 'SALES' });
    assert.equal(run.origin.trigger, id);

    // The same request again (same timestamp and signature): refused, no second run.
    const replay = await fetch(`${server.base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenantflow-timestamp': hired.sent.ts, 'x-tenantflow-signature': webhookSignature(secret, hired.sent.ts, hired.sent.raw) },
      body: hired.sent.raw,
    });
    assert.equal(replay.status, 409);
    assert.equal(((await replay.json()) as { runId: string }).runId, runId);

    // Even with the trigger's record of the event lost, Temporal refuses the event's workflow id.
    await server.db.query('delete from trigger_firings where trigger_id = $1', [id]);
    const again = await fetch(`${server.base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenantflow-timestamp': hired.sent.ts, 'x-tenantflow-signature': webhookSignature(secret, hired.sent.ts, hired.sent.raw) },
      body: hired.sent.raw,
    });
    assert.equal(again.status, 409, await again.text());

    // Stale, wrong, missing signatures and a tampered body: 401, nothing started.
    const stale = await send(url, secret, { event: 'hired', person: { upn: 'old@contoso.test' } }, { at: Math.floor(Date.now() / 1000) - 600 });
    assert.equal(stale.status, 401);
    assert.match(stale.body.error, /minutes/);
    const wrong = await send(url, 'whsec_not-the-secret', { event: 'hired', person: { upn: 'eve@contoso.test' } });
    assert.equal(wrong.status, 401);
    const ts = String(Math.floor(Date.now() / 1000));
    const tampered = await send(url, secret, undefined, { raw: JSON.stringify({ event: 'hired', person: { upn: 'mallory@contoso.test' } }), signature: webhookSignature(secret, ts, '{"event":"hired","person":{"upn":"bob@contoso.test"}}'), at: Number(ts) });
    assert.equal(tampered.status, 401);
    const unsigned = await fetch(`${server.base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(unsigned.status, 401);

    // The filter decides: another event type starts nothing.
    const other = await send(url, secret, { event: 'moved', person: { upn: 'ada@contoso.test' } });
    assert.equal(other.status, 200);
    assert.equal(other.body.started, false);

    // A body the mapping cannot satisfy: a 400 naming the input, nothing started.
    const noUpn = await send(url, secret, { event: 'hired', person: {} });
    assert.equal(noUpn.status, 400, JSON.stringify(noUpn.body));
    assert.equal(noUpn.body.problems[0].field, 'inputs.upn');

    // Paused: refused; resumed: a new event starts its one run.
    assert.equal((await operator.call('POST', `/api/triggers/${id}/pause`, {})).status, 403, 'operators do not change triggers');
    assert.equal((await designer.call('POST', `/api/triggers/${id}/pause`, { note: 'HR migration' })).body.paused, true);
    assert.equal((await send(url, secret, { event: 'hired', person: { upn: 'grace@contoso.test' } })).status, 409);
    assert.equal((await designer.call('POST', `/api/triggers/${id}/resume`, {})).body.paused, false);
    const grace = await send(url, secret, { event: 'hired', person: { upn: 'grace@contoso.test' } });
    assert.equal(grace.status, 201);

    await pollApi(viewer, `/api/runs/${grace.body.runId}`, (r) => r.status === 'succeeded');
    const runs = await runsOfGreet();
    assert.deepEqual(runs.map((r) => r.id).sort(), [runId, grace.body.runId].sort(), 'exactly one run per accepted event');
    const shown = await viewer.call('GET', `/api/triggers/${id}`);
    assert.equal(shown.body.fired, 2, 'two runs: the replayed event is recorded again against its one run');

    // Rotating the secret: the old one stops working at once.
    const rotated = await designer.call('POST', `/api/triggers/${id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, secret);
    assert.equal((await send(url, secret, { event: 'hired', person: { upn: 'x@contoso.test' } })).status, 401);

    // Audited.
    const audit = (await server.admin.call('GET', `/api/audit?target=${id}`)).body as { action: string }[];
    for (const a of ['trigger.created', 'trigger.fired', 'trigger.pause', 'trigger.resume', 'trigger.secret-rotated', 'trigger.refused']) assert.ok(audit.some((e) => e.action === a), `${a} in the audit log`);
    assert.ok(!JSON.stringify(audit).includes(secret), 'no secret in the audit log');

    assert.equal((await designer.call('DELETE', `/api/triggers/${id}`)).status, 200);
    assert.equal((await send(url, rotated.body.secret, { event: 'hired', person: { upn: 'y@contoso.test' } })).status, 404);
  });

  it('bad trigger definitions are 400s naming the field', async () => {
    const r = await designer.call('POST', '/api/triggers', { kind: 'webhook', runbookId: 'greet', inputs: { nope: 'body.x', upn: 'body.(' } });
    assert.equal(r.status, 400);
    const fields = r.body.problems.map((p: { field: string }) => p.field).sort();
    assert.deepEqual(fields, ['inputs.nope', 'inputs.upn']);
    assert.equal((await operator.call('POST', '/api/triggers', { kind: 'webhook', runbookId: 'greet' })).status, 403);
    assert.equal((await designer.call('POST', '/api/triggers', { kind: 'webhook', runbookId: 'missing' })).status, 404);
  });

  it('the CLI creates a webhook, lists, pauses and deletes it; the secret it prints starts a run', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) =>
        execFile(process.execPath, [fileURLToPath(new URL('../cli/main.ts', import.meta.url)), ...args], { env: { ...process.env, TENANTFLOW_URL: server.base, TENANTFLOW_TOKEN: designer.token, TENANTFLOW_CONFIG: '/nonexistent' } }, (err, out, errOut) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
        ),
      );
    const created = await cli('triggers', 'create-webhook', 'greet', '--input', 'upn=body.upn', '--json');
    assert.equal(created.code, 0, created.err);
    const t = JSON.parse(created.out);
    const sent = await send(t.url, t.secret, { upn: 'cli@contoso.test' });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    const listed = await cli('triggers', 'list');
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, new RegExp(t.id));
    assert.equal((await cli('triggers', 'pause', t.id)).code, 0);
    assert.equal((await viewer.call('GET', `/api/triggers/${t.id}`)).body.paused, true);
    const firings = await cli('triggers', 'firings', t.id, '--json');
    assert.equal(JSON.parse(firings.out)[0].runId, sent.body.runId);
    assert.equal((await cli('triggers', 'delete', t.id)).code, 0);
    assert.equal((await viewer.call('GET', `/api/triggers/${t.id}`)).status, 404);
  });
});
