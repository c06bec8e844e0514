// Undo (docs/plan.md) end to end through the API on the real engine and sandbox: run the example
// onboarding and mover runbooks, generate their undo runbooks, review their plans, publish and run
// them (approved like the originals), and compare the tenant read back through Graph with what it
// was before: no difference in any reversible property. Then what cannot be undone is listed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let server: ApiServer;
let operator: Caller;
let approver: Caller;
let designer: Caller;

before(async () => {
  env = await startTestEnv();
  server = await startApiServer(env);
  operator = await server.as('helpdesk@contoso.test', [{ tenant: 'sandbox', role: 'operator' }]);
  approver = await server.as('manager@contoso.test', [{ tenant: 'sandbox', role: 'approver' }]);
  designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
});
after(async () => {
  await server?.close();
  await env?.close();
});

const FINISHED = (r: { status: string }) => !['running', 'waiting-approval', 'paused'].includes(r.status);

/** Starts a run, approves its approval step as the approver, and waits for the end. */
async function runApproved(starter: Caller, body: Record<string, unknown>, approval: string): Promise<any> {
  const started = await starter.call('POST', '/api/runs', body);
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const id = started.body.id as string;
  await pollApi(starter, `/api/runs/${id}`, (r) => r.nodes?.[approval]?.status === 'waiting-approval');
  const ok = await approver.call('POST', `/api/runs/${id}/approvals/${approval}`, { decision: 'approve' });
  assert.equal(ok.status, 202, JSON.stringify(ok.body));
  const done = await pollApi(starter, `/api/runs/${id}`, FINISHED);
  assert.equal(done.status, 'succeeded', JSON.stringify(done, null, 2));
  return done;
}

/** Generates, reviews, publishes and runs the undo runbook of a run. */
async function undo(runId: string): Promise<{ generated: any; plan: any; run: any }> {
  const generated = await designer.call('POST', `/api/runs/${runId}/undo`);
  assert.equal(generated.status, 201, JSON.stringify(generated.body));
  const id = generated.body.runbookId as string;
  const published = await designer.call('POST', `/api/runbooks/${id}/publish`, { comment: 'reviewed' });
  assert.equal(published.status, 201, JSON.stringify(published.body));
  const plan = await designer.call('POST', '/api/runs/plan', { runbookId: id, inputs: {} });
  assert.equal(plan.status, 200, JSON.stringify(plan.body));
  const run = await runApproved(designer, { runbookId: id, inputs: {} }, 'approve_undo');
  return { generated: generated.body, plan: plan.body, run };
}

/** What a person could see of these users and groups through Graph: every property a run here can change. */
async function snapshot(upns: string[], groups: string[]) {
  const users: Record<string, unknown> = {};
  for (const upn of upns) {
    try {
      const u = await env.graph.api(`/users/${encodeURIComponent(upn)}`).select('id,userPrincipalName,displayName,givenName,surname,jobTitle,department,usageLocation,accountEnabled,assignedLicenses').get();
      const manager = await env.graph.api(`/users/${u.id}/manager`).select('id').get().then((m: { id: string }) => m.id, () => null);
      const memberOf = (await env.graph.api(`/users/${u.id}/memberOf`).select('id').top(999).get()).value.map((g: { id: string }) => g.id).sort();
      users[upn] = { ...u, manager, memberOf };
    } catch (err) {
      users[upn] = `absent (${(err as { statusCode?: number }).statusCode})`;
    }
  }
  const members: Record<string, string[]> = {};
  for (const g of groups) members[g] = (await env.graph.api(`/groups/${g}/members`).select('id').top(999).get()).value.map((m: { id: string }) => m.id).sort();
  const skus = (await env.graph.api('/subscribedSkus').get()).value.map((s: { skuPartNumber: string; consumedUnits: number }) => `${s.skuPartNumber}:${s.consumedUnits}`).sort();
  return { users, members, skus };
}

const groupId = async (name: string) => (await env.graph.api('/groups').filter(`displayName eq '${name}'`).select('id').get()).value[0].id as string;

describe('undo runbooks', () => {
  it('onboarding: the undo runbook deletes the user it created, with its licence and membership, and the tenant is as it was', async () => {
    const upn = `undo.hire.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    const allCompany = await groupId('All Company');
    const before = await snapshot([upn], [allCompany]);
    const run = await runApproved(operator, { runbookId: 'onboarding', inputs: { userPrincipalName: upn, givenName: 'Undo', surname: 'Hire', jobTitle: 'Analyst', department: 'Finance' } }, 'approve_request');
    assert.deepEqual(run.nodes.create_user.changes[0], { object: `user ${upn}`, objectId: run.nodes.create_user.output.id, property: 'exists', before: false, after: true });
    assert.notDeepEqual(await snapshot([upn], [allCompany]), before, 'the run changed the tenant');

    const { generated, plan, run: undone } = await undo(run.id);
    assert.deepEqual(
      generated.entries.map((e: { nodeId: string; outcome: string }) => `${e.nodeId}: ${e.outcome}`).sort(),
      ['add_to_group: undone', 'assign_licence: undone', 'create_user: undone'],
    );
    assert.deepEqual(generated.notUndone, []);
    const order = generated.definition.nodes.map((n: { id: string; action?: string }) => n.action ?? n.id);
    assert.equal(order[0], 'approve_undo');
    assert.equal(order.at(-1), 'user.delete', 'the user is deleted last, after its licence and membership');
    const deletion = plan.steps.find((s: { action?: string }) => s.action === 'user.delete');
    assert.deepEqual(deletion.plan.changes[0], { object: `user ${upn}`, objectId: run.nodes.create_user.output.id, property: 'exists', before: true, after: false, note: 'kept in deleted items for 30 days, restorable' });
    assert.equal(undone.status, 'succeeded');
    assert.deepEqual(await snapshot([upn], [allCompany]), before);
  });

  it('mover: the undo runbook puts department, title, manager, the licences and both memberships back', async () => {
    const skus = (await env.graph.api('/subscribedSkus').get()).value as { skuId: string; skuPartNumber: string }[];
    const [e3, e5] = ['SPE_E3', 'SPE_E5'].map((part) => skus.find((x) => x.skuPartNumber === part)!.skuId);
    const seeded = (await env.graph.api('/users').filter("userType eq 'Member'").select('id,userPrincipalName,assignedLicenses').top(60).get()).value as { id: string; userPrincipalName: string; assignedLicenses: { skuId: string }[] }[];
    // Someone with Microsoft 365 E3 only: the move swaps it for E5.
    const mover = seeded.slice(5).find((u) => u.assignedLicenses.length === 1 && u.assignedLicenses[0]!.skuId === e3)!;
    const newManager = seeded.find((u) => u.id !== mover.id && u !== seeded[0])!;
    const group = async (name: string) => (await env.graph.api('/groups').post({ displayName: name, mailEnabled: false, mailNickname: name.replace(/\W/g, ''), securityEnabled: true })).id as string;
    const from = { id: await group(`Undo source ${randomUUID().slice(0, 6)}`) };
    const to = await group(`Undo target ${randomUUID().slice(0, 6)}`);
    await env.graph.api(`/groups/${from.id}/members/$ref`).post({ '@odata.id': `${env.sandbox.url}/v1.0/directoryObjects/${mover.id}` });
    const before = await snapshot([mover.userPrincipalName], [from.id, to]);

    const run = await runApproved(
      operator,
      { runbookId: 'mover', inputs: { user: mover.userPrincipalName, department: 'Undo Department', jobTitle: 'Undo Title', manager: newManager.userPrincipalName, fromLicence: 'SPE_E3', toLicence: 'SPE_E5', fromGroup: from.id, toGroup: to } },
      'approve_move',
    );
    const moved = await snapshot([mover.userPrincipalName], [from.id, to]);
    assert.equal((moved.users[mover.userPrincipalName] as { department: string }).department, 'Undo Department');
    assert.ok(moved.members[to]!.includes(mover.id) && !moved.members[from.id]!.includes(mover.id));
    const licensed = (moved.users[mover.userPrincipalName] as { assignedLicenses: { skuId: string }[] }).assignedLicenses.map((l) => l.skuId);
    assert.deepEqual(licensed, [e5], 'the licences were swapped');

    const { generated, plan, run: undone } = await undo(run.id);
    assert.deepEqual(
      generated.entries.map((e: { nodeId: string; outcome: string }) => `${e.nodeId}: ${e.outcome}`).sort(),
      ['add_licence: undone', 'drop_licence: undone', 'join_group: undone', 'leave_group: undone', 'set_manager: undone', 'update_job: undone'],
    );
    const back = plan.steps.find((s: { action?: string }) => s.action === 'user.update');
    assert.deepEqual(back.plan.changes.map((c: { property: string; before: unknown; after: unknown }) => [c.property, c.before, c.after]).sort(), [
      ['department', 'Undo Department', (before.users[mover.userPrincipalName] as { department: string | null }).department],
      ['jobTitle', 'Undo Title', (before.users[mover.userPrincipalName] as { jobTitle: string | null }).jobTitle],
    ].sort());
    assert.equal(undone.status, 'succeeded');
    assert.deepEqual(await snapshot([mover.userPrincipalName], [from.id, to]), before);
  });

  it('undoes a run Temporal no longer keeps, from its run record', async () => {
    const u = ((await env.graph.api('/users').filter("userType eq 'Member'").select('id,userPrincipalName').top(15).get()).value as { id: string; userPrincipalName: string }[])[14]!;
    const before = await snapshot([u.userPrincipalName], []);
    const started = await designer.call('POST', '/api/runs', {
      test: true,
      definition: { name: 'forgotten', nodes: [{ id: 'move', kind: 'action', action: 'user.update', params: { user: u.id, department: 'Forgotten', jobTitle: 'Forgotten title' } }] },
      inputs: {},
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id = started.body.id as string;
    assert.equal((await pollApi(designer, `/api/runs/${id}`, FINISHED)).status, 'succeeded');
    // Temporal forgets the run (as its retention would); the run record keeps it.
    const handle = env.client.workflow.getHandle(id);
    await env.client.workflowService.deleteWorkflowExecution({ namespace: env.namespace, workflowExecution: { workflowId: id, runId: (await handle.describe()).runId } });
    await pollApi(designer, `/api/runs/${id}`, (r) => r.record?.inTemporal === false, 90_000);
    const generated = await designer.call('POST', `/api/runs/${id}/undo`);
    assert.equal(generated.status, 201, JSON.stringify(generated.body));
    assert.deepEqual(generated.body.entries.map((e: { nodeId: string; outcome: string }) => `${e.nodeId}: ${e.outcome}`), ['move: undone']);
    const undoId = generated.body.runbookId as string;
    assert.equal((await designer.call('POST', `/api/runbooks/${undoId}/publish`, {})).status, 201);
    const undone = await designer.call('POST', '/api/runs', { runbookId: undoId, inputs: {}, test: true });
    assert.equal((await pollApi(designer, `/api/runs/${undone.body.id}`, FINISHED)).status, 'succeeded');
    assert.deepEqual(await snapshot([u.userPrincipalName], []), before);
  });

  it('undoes each item of a loop', async () => {
    const users = ((await env.graph.api('/users').filter("userType eq 'Member'").select('id,userPrincipalName').top(12).get()).value as { id: string; userPrincipalName: string }[]).slice(10, 12);
    const before = await snapshot(users.map((u) => u.userPrincipalName), []);
    const started = await designer.call('POST', '/api/runs', {
      test: true,
      definition: {
        name: 'loop titles',
        inputs: [{ name: 'users', type: 'list', required: true }],
        nodes: [{ id: 'each', kind: 'forEach', items: 'inputs.users', body: { nodes: [{ id: 'title', kind: 'action', action: 'user.update', params: { user: '{{ item }}', jobTitle: 'Looped title', department: 'Looped' } }] } }],
      },
      inputs: { users: users.map((u) => u.userPrincipalName) },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal((await pollApi(designer, `/api/runs/${started.body.id}`, FINISHED)).status, 'succeeded');
    const generated = await designer.call('POST', `/api/runs/${started.body.id}/undo`);
    assert.equal(generated.status, 201, JSON.stringify(generated.body));
    assert.deepEqual(generated.body.entries.map((e: { nodeId: string; item: number; outcome: string }) => `${e.nodeId} ${e.item}: ${e.outcome}`).sort(), ['title 0: undone', 'title 1: undone']);
    const id = generated.body.runbookId as string;
    assert.equal((await designer.call('POST', `/api/runbooks/${id}/publish`, {})).status, 201);
    const undone = await designer.call('POST', '/api/runs', { runbookId: id, inputs: {}, test: true });
    assert.equal((await pollApi(designer, `/api/runs/${undone.body.id}`, FINISHED)).status, 'succeeded');
    assert.deepEqual(await snapshot(users.map((u) => u.userPrincipalName), []), before);
  });

  it('lists what cannot be undone, and says so when a run changed nothing', async () => {
    const u = (await env.graph.api('/users').filter("userType eq 'Member'").select('id,userPrincipalName').top(3).get()).value[2] as { id: string; userPrincipalName: string };
    const started = await designer.call('POST', '/api/runs', {
      test: true,
      definition: {
        name: 'irreversible',
        nodes: [
          { id: 'revoke', kind: 'action', action: 'user.revokeSessions', params: { user: u.id } },
          { id: 'title', kind: 'action', action: 'user.update', params: { user: u.id, jobTitle: 'Irreversible test' } },
        ],
        edges: [{ source: 'revoke', target: 'title' }],
      },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    await pollApi(designer, `/api/runs/${started.body.id}`, FINISHED);
    const generated = await designer.call('POST', `/api/runs/${started.body.id}/undo`);
    assert.equal(generated.status, 201, JSON.stringify(generated.body));
    assert.deepEqual(generated.body.notUndone.map((e: { nodeId: string; reason: string }) => `${e.nodeId}: ${e.reason}`), ['revoke: revoked sessions cannot be restored: the user signs in again']);
    assert.match(generated.body.definition.description, /Not undone by this runbook:\n- revoke \(user\.revokeSessions\): revoked sessions cannot be restored/);
    assert.deepEqual(generated.body.definition.nodes.map((n: { action: string }) => n.action), ['user.update']);
    const draft = await designer.call('GET', `/api/runbooks/${generated.body.runbookId}`);
    assert.equal(draft.status, 200);
    assert.equal(draft.body.latestVersion, undefined, 'a draft: reviewed and published like any other runbook');

    // Run the same again: the title is already set, so nothing changed and nothing needs undoing.
    const again = await designer.call('POST', `/api/runs/${started.body.id}/rerun`, {});
    await pollApi(designer, `/api/runs/${again.body.id}`, FINISHED);
    const nothing = await designer.call('POST', `/api/runs/${again.body.id}/undo`);
    assert.equal(nothing.status, 200, JSON.stringify(nothing.body));
    assert.equal(nothing.body.runbookId, null);
    assert.deepEqual(nothing.body.entries.map((e: { nodeId: string; outcome: string }) => `${e.nodeId}: ${e.outcome}`), ['title: nothing-to-undo', 'revoke: irreversible']);

    assert.equal((await operator.call('POST', `/api/runs/${started.body.id}/undo`)).status, 403, 'only designers create runbooks');
    assert.equal((await designer.call('POST', '/api/runs/run-nope/undo')).status, 404);
  });
});
