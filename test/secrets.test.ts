// Secrets in runs: a secret run input and a secret step parameter reach the service they are
// meant for, while Temporal history and the run's state hold only ciphertext; and what the API
// shows of values inside a run (redact).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { catalog } from '../catalog/index.ts';
import { secretBox } from '../m365/secret-box.ts';
import { RunbookDefinition } from '../runbook/definition.ts';
import { isSealed, redact, redactInputs, seal, sealRunSecrets } from '../runbook/secrets.ts';
import { recordingEndpoint, startTestEnv, type TestEnv } from './harness.ts';

const box = secretBox(randomBytes(32));
let env: TestEnv;
let hook: Awaited<ReturnType<typeof recordingEndpoint>>;

before(async () => {
  env = await startTestEnv({ secrets: box });
  hook = await recordingEndpoint();
});
after(async () => {
  hook?.close();
  await env?.close();
});

describe('secrets in runs', () => {
  it('are opened only by the worker: the service gets them, history and run state do not', async () => {
    const definition = RunbookDefinition.parse({
      name: 'call a system with a key',
      inputs: [{ name: 'token', type: 'string', secret: true }],
      nodes: [
        {
          id: 'call',
          kind: 'action',
          action: 'notify.webhook',
          params: { url: hook.url, headers: { 'X-Api-Key': 'literal-key-4711' }, body: { token: '{{ inputs.token }}', who: 'anna' } },
        },
      ],
    });
    const sealed = sealRunSecrets(box, definition, { token: 'hunter2-secret' }, (id) => catalog.get(id)?.secretFields);
    assert.ok(isSealed(sealed.inputs.token));
    const h = await env.start(sealed.definition, sealed.inputs);
    const state = await h.result();
    assert.equal(state.nodes.call!.status, 'succeeded', JSON.stringify(state.nodes.call));

    assert.equal(hook.received.length, 1);
    assert.equal(hook.received[0]!.headers['x-api-key'], 'literal-key-4711');
    assert.deepEqual(JSON.parse(hook.received[0]!.body), { token: 'hunter2-secret', who: 'anna' });

    const history = JSON.stringify(await h.fetchHistory());
    const stateJson = JSON.stringify(state);
    for (const secret of ['literal-key-4711', 'hunter2-secret']) {
      assert.ok(!history.includes(secret) && !history.includes(Buffer.from(secret).toString('base64')), `${secret} is in the history`);
      assert.ok(!stateJson.includes(secret), `${secret} is in the run state`);
    }
  });

  it('a secret field holding an expression is resolved, then sealed (finding 6b): the service gets the value, not the expression', async () => {
    const definition = RunbookDefinition.parse({
      name: 'call a system with a key from an input',
      inputs: [{ name: 'apikey', type: 'string', secret: true }],
      nodes: [{ id: 'call', kind: 'action', action: 'notify.webhook', params: { url: hook.url, headers: { 'X-Api-Key': '{{ inputs.apikey }}', 'X-Tenant': 'contoso-7' } } }],
    });
    const sealed = sealRunSecrets(box, definition, { apikey: 'k-from-input-0815' }, (id) => catalog.get(id)?.secretFields);
    const headers = (sealed.definition.nodes[0] as unknown as { params: { headers: Record<string, unknown> } }).params.headers;
    assert.equal(headers['X-Api-Key'], '{{ inputs.apikey }}', 'the expression is left to resolve');
    assert.ok(isSealed(headers['X-Tenant']), 'a literal beside it is sealed');
    const before = hook.received.length;
    const h = await env.start(sealed.definition, sealed.inputs);
    const state = await h.result();
    assert.equal(state.nodes.call!.status, 'succeeded', JSON.stringify(state.nodes.call));
    assert.equal(hook.received.length, before + 1);
    assert.equal(hook.received.at(-1)!.headers['x-api-key'], 'k-from-input-0815');
    assert.equal(hook.received.at(-1)!.headers['x-tenant'], 'contoso-7');
    const history = JSON.stringify(await h.fetchHistory());
    for (const secret of ['k-from-input-0815', 'contoso-7']) assert.ok(!history.includes(secret) && !history.includes(Buffer.from(secret).toString('base64')), `${secret} is in the history`);
  });

  it('a worker without the key refuses a sealed parameter with a clear error', async () => {
    const other = await startTestEnv();
    try {
      const definition = RunbookDefinition.parse({
        name: 'no key',
        nodes: [{ id: 'call', kind: 'action', action: 'notify.webhook', params: { url: hook.url, headers: { 'X-Api-Key': 'k' } } }],
      });
      const sealed = sealRunSecrets(box, definition, {}, (id) => catalog.get(id)?.secretFields);
      const h = await other.start(sealed.definition, {});
      await assert.rejects(h.result());
      const s = await other.state(h);
      assert.match(s.nodes.call!.error!.message, /sealed secret.*no secret key/);
    } finally {
      await other.close();
    }
  });
});

describe('what a person sees of a run (redact)', () => {
  it('masks sealed values, the action\'s secret fields, and text under names that say secret', () => {
    const sealed = seal(box, 'hunter2');
    const shown = redact(
      { user: 'anna@contoso.com', password: 'Pa55!word', pin: sealed, webhookUrl: 'https://hooks.example/abc', headers: { 'X-Api-Key': 'k-1', accept: 'json' }, tokenCount: 3, nested: [{ clientSecret: 's' }] },
      ['webhookUrl'],
    );
    assert.deepEqual(shown, {
      user: 'anna@contoso.com',
      password: '[redacted]',
      pin: '[secret]',
      webhookUrl: '[redacted]',
      headers: { 'X-Api-Key': '[redacted]', accept: 'json' },
      tokenCount: 3,
      nested: [{ clientSecret: '[redacted]' }],
    });
    assert.equal(JSON.stringify(redact({ a: { b: { c: sealed } } })).includes(sealed.$sealed), false, 'sealed values are masked at any depth');
  });

  it('hides a run input whose name says secret whatever its type', () => {
    const def = { inputs: [{ name: 'user' }, { name: 'apiKey' }, { name: 'tokens' }] };
    assert.deepEqual(redactInputs(def, { user: 'anna', apiKey: 42, tokens: ['a', 'b'] }), { user: 'anna', apiKey: '[redacted]', tokens: '[redacted]' });
    assert.equal(redactInputs(undefined, undefined), undefined);
  });
});
