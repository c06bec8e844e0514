// Sub-runbooks through the API: publishing pins each child (the latest published then), a new
// version of the child leaves the published parent as it was, publishing refuses an archived
// child and a call back to itself (naming node and field), and an operator who may run a parent
// (a custom action) runs its child as part of it without gaining the right to start the child.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let server: ApiServer;
let designer: Caller, operator: Caller;
before(async () => {
  env = await startTestEnv();
  server = await startApiServer(env);
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  operator = await server.as('operator@contoso.test', [{ tenant: 'sandbox', role: 'operator' }]);
});
after(async () => {
  await server?.close();
  await env?.close();
});

const child = (department: string) => ({
  name: 'Set the department',
  inputs: [{ name: 'upn', type: 'user', required: true }],
  nodes: [{ id: 'dept', kind: 'action', action: 'user.update', params: { user: '{{ inputs.upn }}', department }, retry: { maximumAttempts: 1 } }],
});

describe('sub-runbooks through the API', () => {
  it('pins the child at publish, refuses an archived child and a cycle, and runs the child for an operator of the parent only', async () => {
    const ok = (r: { status: number; body: unknown }, status: number) => assert.equal(r.status, status, JSON.stringify(r.body));
    ok(await designer.call('POST', '/api/runbooks', { id: 'set-dept', definition: child('Pinned') }), 201);
    ok(await designer.call('POST', '/api/runbooks/set-dept/publish', {}), 201);
    const parentDef = {
      name: 'Move to a department',
      inputs: [{ name: 'who', type: 'user', required: true }],
      nodes: [{ id: 'move', kind: 'subRunbook', runbook: 'set-dept', inputs: { upn: '{{ inputs.who }}' } }],
    };
    ok(await designer.call('POST', '/api/runbooks', { id: 'sub-mover', definition: parentDef, customAction: true }), 201);
    const published = await designer.call('POST', '/api/runbooks/sub-mover/publish', {});
    ok(published, 201);
    assert.equal(published.body.definition.nodes[0].pinned.version, 1);
    // A later version of the child does not change the published parent.
    ok(await designer.call('PUT', '/api/runbooks/set-dept/draft', { definition: child('Changed later') }), 200);
    ok(await designer.call('POST', '/api/runbooks/set-dept/publish', {}), 201);

    // The operator runs the parent (a custom action); the child (not one) runs as part of it.
    const users = (await env.graph.api('/users').select('userPrincipalName').top(5).get()).value as { userPrincipalName: string }[];
    const who = users[0]!.userPrincipalName;
    const started = await operator.call('POST', '/api/runs', { runbookId: 'sub-mover', inputs: { who }, test: true });
    ok(started, 201);
    const done = await pollApi(operator, `/api/runs/${started.body.id}`, (b) => b.status !== 'running');
    assert.equal(done.status, 'succeeded', done.message);
    assert.equal(done.nodes.move.child.runId, `${started.body.id}.move`);
    const childRun = await operator.call('GET', `/api/runs/${encodeURIComponent(done.nodes.move.child.runId)}`);
    ok(childRun, 200);
    assert.equal(childRun.body.runbook, 'set-dept');
    assert.equal(childRun.body.version, 1);
    const user = await env.graph.api(`/users/${encodeURIComponent(who)}`).select('department').get();
    assert.equal(user.department, 'Pinned', 'the pinned version 1 ran, not version 2');
    // Nobody gains a right through a child: the operator may not start the child on its own.
    ok(await operator.call('POST', '/api/runs', { runbookId: 'set-dept', inputs: { upn: who }, test: true }), 403);

    // A call back to the parent through the child is refused, naming the node and the field.
    ok(await designer.call('PUT', '/api/runbooks/set-dept/draft', { definition: { name: 'Loops', nodes: [{ id: 'back', kind: 'subRunbook', runbook: 'sub-mover', inputs: { who } }] } }), 200);
    const cycle = await designer.call('POST', '/api/runbooks/set-dept/publish', {});
    ok(cycle, 422);
    assert.deepEqual(cycle.body.problems.map((p: { nodeId: string; field: string }) => [p.nodeId, p.field]), [['back', 'runbook']]);
    assert.match(cycle.body.problems[0].message, /set-dept → sub-mover → set-dept/);

    // An archived child is refused.
    ok(await designer.call('POST', '/api/runbooks', { id: 'old-child', definition: child('Old') }), 201);
    ok(await designer.call('POST', '/api/runbooks/old-child/publish', {}), 201);
    ok(await designer.call('PATCH', '/api/runbooks/old-child', { archived: true }), 200);
    ok(await designer.call('POST', '/api/runbooks', { id: `uses-old-${randomUUID().slice(0, 4)}`, definition: { name: 'Uses old', nodes: [{ id: 'o', kind: 'subRunbook', runbook: 'old-child', inputs: { upn: who } }] } }), 201);
    const list = (await designer.call('GET', '/api/runbooks')).body as { id: string }[];
    const usesOld = list.find((r) => r.id.startsWith('uses-old-'))!.id;
    const archived = await designer.call('POST', `/api/runbooks/${usesOld}/publish`, {});
    ok(archived, 422);
    assert.deepEqual(archived.body.problems.map((p: { nodeId: string; field: string; message: string }) => [p.nodeId, p.field]), [['o', 'runbook']]);
    assert.match(archived.body.problems[0].message, /archived/);
  });
});
