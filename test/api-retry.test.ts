// Recovering runs through the API: retry a failed run (the steps that succeeded are not run
// again), resume a step paused on error, and re-run with the same inputs.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let api: ApiServer;
before(async () => {
  env = await startTestEnv();
  api = await startApiServer(env);
});
after(async () => {
  await api?.close();
  await env?.close();
});

const onboardInto = (onError: 'fail' | 'pause') => ({
  name: `onboard into a team (${onError})`,
  inputs: [
    { name: 'upn', type: 'string', required: true },
    { name: 'team', type: 'string', required: true },
  ],
  nodes: [
    { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: '{{ inputs.upn }}', displayName: 'Retry Person' } },
    { id: 'add', kind: 'action', action: 'group.addMember', params: { group: '{{ inputs.team }}', user: '{{ steps.create.output.id }}' }, onError, retry: { maximumAttempts: 1 } },
  ],
  edges: [{ source: 'create', target: 'add' }],
});

async function publish(id: string, definition: unknown) {
  assert.equal((await api.admin.call('POST', '/api/runbooks', { id, definition })).status, 201);
  assert.equal((await api.admin.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
}

async function createGroup(name: string) {
  return env.graph.api('/groups').post({ displayName: name, mailEnabled: false, mailNickname: name.replace(/\W/g, ''), securityEnabled: true });
}

describe('recovering runs', () => {
  it('retrying a failed run reuses the steps that succeeded and redoes the failed one', async () => {
    const tag = randomUUID().slice(0, 6);
    const upn = `retry.${tag}@${env.sandbox.tenant.domain}`;
    const team = `Retry team ${tag}`;
    await publish(`retry-${tag}`, onboardInto('fail'));
    const first = await api.admin.call('POST', '/api/runs', { runbookId: `retry-${tag}`, inputs: { upn, team } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const failed = await pollApi(api.admin, `/api/runs/${first.body.id}`, (r) => r.status === 'failed');
    assert.match(failed.nodes.add.error.message, new RegExp(`group "${team}" does not exist`));

    await createGroup(team);
    const retried = await api.admin.call('POST', `/api/runs/${first.body.id}/retry`, {});
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.deepEqual(retried.body.reused, ['create']);
    const second = await pollApi(api.admin, `/api/runs/${retried.body.id}`, (r) => r.status === 'succeeded' || r.status === 'failed');
    assert.equal(second.status, 'succeeded', JSON.stringify(second.nodes));
    assert.equal(second.nodes.add.status, 'succeeded');

    const user = await env.graph.api(`/users/${upn}`).select('id').get();
    assert.deepEqual(env.sandbox.admin.mutationSummary({ objectId: user.id }), { 'user.create': 1, 'group.addMember': 1 });
  });

  it('resuming a paused step retries it in the same run', async () => {
    const tag = randomUUID().slice(0, 6);
    const upn = `resume.${tag}@${env.sandbox.tenant.domain}`;
    const team = `Resume team ${tag}`;
    await publish(`resume-${tag}`, onboardInto('pause'));
    const run = await api.admin.call('POST', '/api/runs', { runbookId: `resume-${tag}`, inputs: { upn, team } });
    const paused = await pollApi(api.admin, `/api/runs/${run.body.id}`, (r) => r.nodes?.add?.status === 'paused');
    assert.equal(paused.status, 'paused');

    const early = await api.admin.call('POST', `/api/runs/${run.body.id}/resume`, { nodeId: 'create', action: 'retry' });
    assert.equal(early.status, 409, 'only a paused step can be resumed');
    await createGroup(team);
    const resumed = await api.admin.call('POST', `/api/runs/${run.body.id}/resume`, { nodeId: 'add', action: 'retry' });
    assert.equal(resumed.status, 202, JSON.stringify(resumed.body));
    const done = await pollApi(api.admin, `/api/runs/${run.body.id}`, (r) => r.status === 'succeeded' || r.status === 'failed');
    assert.equal(done.status, 'succeeded');
    const members = (await env.graph.api(`/users/${upn}/memberOf`).get()).value as { displayName: string }[];
    assert.ok(members.some((g) => g.displayName === team));
  });

  it('re-running starts a new run with the same inputs', async () => {
    const tag = randomUUID().slice(0, 6);
    await publish(`rerun-${tag}`, {
      name: 'echo',
      inputs: [{ name: 'colour', type: 'string' }],
      nodes: [{ id: 'check', kind: 'condition', expression: "inputs.colour = 'blue'" }],
    });
    const run = await api.admin.call('POST', '/api/runs', { runbookId: `rerun-${tag}`, inputs: { colour: 'blue' } });
    await pollApi(api.admin, `/api/runs/${run.body.id}`, (r) => r.status === 'succeeded');
    const again = await api.admin.call('POST', `/api/runs/${run.body.id}/rerun`, {});
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.notEqual(again.body.id, run.body.id);
    const second = await pollApi(api.admin, `/api/runs/${again.body.id}`, (r) => r.status === 'succeeded');
    assert.deepEqual(second.nodes.check.output, { handle: 'true' });
  });
});
