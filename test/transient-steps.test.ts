// Finding 12 of issue 16: throttled and transient answers do not use up a step's attempts the way
// a real error does (each step here has ONE Temporal attempt), and a step that ends failed where
// its write may have happened re-reads the tenant and says what is actually there. Tenant state is
// read back through Graph, the write counted in the sandbox's mutation log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
before(async () => {
  env = await startActionsEnv();
});
after(async () => {
  delete process.env.TENANTFLOW_STEP_RERUNS;
  env?.sandbox.admin.setFaults({});
  await env?.close();
});

const jobTitle = async (id: string) => (await env.graph.api(`/users/${id}`).select('jobTitle').get()).jobTitle;
const injected = (id: string, method: string) =>
  env.sandbox.admin.requestLog({ method }).filter((e) => e.path.includes(id) && e.injected).map((e) => e.injected);
const patches = (id: string) => env.sandbox.admin.mutations({ objectId: id }).filter((m) => m.method === 'PATCH').length;

describe('transient answers inside one attempt', { concurrency: false }, () => {
  it('three 429s on the write: the step succeeds on its one attempt, writing once', async () => {
    const u = await env.newUser('throttled');
    env.sandbox.admin.failNext({ status: 429, count: 3, retryAfterSeconds: 1, match: `^PATCH /v1\\.0/users/${u.id}$` });
    const r = await env.run('user.update', { user: u.id, jobTitle: 'Throttled Analyst' }, { maximumAttempts: 1 });
    ok(r);
    assert.equal(r.attempts, 1, 'sent again in place: no attempt used');
    assert.deepEqual(injected(u.id, 'PATCH'), ['scripted:429', 'scripted:429', 'scripted:429']);
    assert.equal(await jobTitle(u.id), 'Throttled Analyst');
    assert.equal(patches(u.id), 1);
  });

  it('503s on a write: the handler runs again inside the attempt and the member is added once', async () => {
    const u = await env.newUser('unavailable');
    const group = (await env.graph.api('/groups').filter("displayName eq 'All Company'").get()).value[0];
    env.sandbox.admin.failNext({ status: 503, count: 2, retryAfterSeconds: 1, match: `^POST /v1\\.0/groups/${group.id}/members/\\$ref$` });
    const r = await env.run('group.addMember', { user: u.id, group: group.id }, { maximumAttempts: 1 });
    ok(r);
    assert.equal(r.attempts, 3, 'three runs of the handler within the one attempt');
    const members = (await env.graph.api(`/users/${u.id}/memberOf`).get()).value.map((g: { id: string }) => g.id);
    assert.ok(members.includes(group.id));
    assert.equal(env.sandbox.admin.mutations({ objectId: u.id }).filter((m) => m.path.includes('/members/')).length, 1);
  });

  it('a lost answer after the write took effect: the next run finds its own write, nothing is written twice', async () => {
    const u = await env.newUser('lostanswer');
    env.sandbox.admin.failNext({ status: 'drop', afterEffect: true, match: `^PATCH /v1\\.0/users/${u.id}$` });
    const r = await env.run('user.update', { user: u.id, jobTitle: 'Lost Answer Analyst' }, { maximumAttempts: 1 });
    ok(r);
    assert.equal(await jobTitle(u.id), 'Lost Answer Analyst');
    assert.equal(patches(u.id), 1);
  });
});

describe('a step that ends failed re-reads the tenant', { concurrency: false }, () => {
  it('the last answer lost although the write took effect: the failure says the write is in the tenant', async () => {
    process.env.TENANTFLOW_STEP_RERUNS = '0';
    try {
      const u = await env.newUser('rereadin');
      env.sandbox.admin.failNext({ status: 504, afterEffect: true, match: `^PATCH /v1\\.0/users/${u.id}$` });
      const r = await env.run('user.update', { user: u.id, jobTitle: 'Reread Analyst' }, { maximumAttempts: 1 });
      assert.equal(r.status, 'failed');
      assert.match(r.error!.message, /every change of this step is in the tenant \(the write took effect although its last answer was lost\)/);
      assert.equal(await jobTitle(u.id), 'Reread Analyst', 'and so it is');
    } finally {
      delete process.env.TENANTFLOW_STEP_RERUNS;
    }
  });

  it('a write refused for good by a transient answer: the failure says none of it is in the tenant', async () => {
    process.env.TENANTFLOW_STEP_RERUNS = '0';
    try {
      const u = await env.newUser('rereadout');
      env.sandbox.admin.failNext({ status: 502, match: `^PATCH /v1\\.0/users/${u.id}$` });
      const r = await env.run('user.update', { user: u.id, jobTitle: 'Never Written' }, { maximumAttempts: 1 });
      assert.equal(r.status, 'failed');
      assert.match(r.error!.message, /none of this step's changes is in the tenant/);
      assert.notEqual(await jobTitle(u.id), 'Never Written');
    } finally {
      delete process.env.TENANTFLOW_STEP_RERUNS;
    }
  });
});
