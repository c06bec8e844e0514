// A payload codec on the client and the worker (as an encryption codec would be): every payload
// in Temporal is then codec bytes, and the API still shows a run's inputs, runbook name, graph
// and step outputs, because the server reads them through the SDK's data converter.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { pollApi, startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const ENCODING = 'binary/x-tenantflow-test-reversed';
const text = new TextEncoder();

/** Reversible and obviously not JSON: the whole payload, protobuf-encoded, byte-reversed. */
const reversingCodec: PayloadCodec = {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => ({ metadata: { encoding: text.encode(ENCODING) }, data: proto.temporal.api.common.v1.Payload.encode(p).finish().slice().reverse() }));
  },
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (new TextDecoder().decode(p.metadata?.encoding ?? new Uint8Array()) !== ENCODING) return p;
      return proto.temporal.api.common.v1.Payload.decode(p.data!.slice().reverse()) as Payload;
    });
  },
};

let env: TestEnv;
let api: ApiServer;

before(async () => {
  env = await startTestEnv({ dataConverter: { payloadCodecs: [reversingCodec] } });
  api = await startApiServer(env);
});
after(async () => {
  await api?.close();
  await env?.close();
});

describe('runs with a payload codec on client and worker', () => {
  it('show their inputs, runbook name, graph and step output through the API, while Temporal holds only codec bytes', async () => {
    const who = [...env.sandbox.admin.store.users.values()].find((u) => u.accountEnabled && u.userType === 'Member')!;
    const definition = {
      name: 'Codec check',
      inputs: [
        { name: 'user', type: 'user', required: true },
        { name: 'note', type: 'string' },
      ],
      nodes: [
        { id: 'lookup', kind: 'action', action: 'user.get', params: { user: '{{ inputs.user }}' } },
        { id: 'done', kind: 'end', status: 'succeeded', message: 'looked up' },
      ],
      edges: [{ source: 'lookup', target: 'done' }],
    };
    const started = await api.admin.call('POST', '/api/runs', { definition, inputs: { user: who.userPrincipalName, note: 'looked up' } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id = started.body.id as string;

    // What Temporal stores: the start input and the memo are the codec's bytes, not JSON.
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    assert.equal(new TextDecoder().decode(input.metadata!.encoding!), ENCODING);
    assert.throws(() => JSON.parse(new TextDecoder().decode(input.data!)));

    const run = await pollApi(api.admin, `/api/runs/${id}`, (b) => b.status === 'succeeded');
    assert.deepEqual(run.inputs, { user: who.userPrincipalName, note: 'looked up' });
    assert.equal(run.runbookName, 'Codec check');
    assert.deepEqual(run.graph.nodes.map((n: { id: string }) => n.id), ['lookup', 'done']);
    assert.equal(run.nodes.lookup.output.user.userPrincipalName, who.userPrincipalName);
    assert.equal(run.message, 'looked up');

    const list = await pollApi(api.admin, '/api/runs?pageSize=50', (b) => b.runs?.some((r: { id: string; status: string }) => r.id === id && r.status === 'succeeded'));
    const item = list.runs.find((r: { id: string }) => r.id === id);
    assert.equal(item.runbookName, 'Codec check');
    assert.equal(item.startedBy, 'admin@tenantflow.test');
    assert.equal(item.tenant, 'sandbox');
  });
});
