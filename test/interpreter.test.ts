// The interpreter's semantics on the real Temporal dev server, with a real worker calling the
// sandbox tenant through the real Graph client: parallel branches and joins, conditions and
// skip propagation, approvals, retries, failures, error handling, cancellation and delays.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { RunbookDefinitionInput, RunState } from '../runbook/definition.ts';
import { approvalSignal, resumeSignal } from '../workflows/messages.ts';
import { executeApprovalUpdate, patchMarkers } from '../server/temporal.ts';
import { BASELINE } from '../workflows/patches.ts';
import { startTestEnv, statuses, type TestEnv } from './harness.ts';

let env: TestEnv;
let domain: string;
const GROUP = `Interpreter tests ${randomUUID().slice(0, 8)}`;

before(async () => {
  env = await startTestEnv();
  domain = env.sandbox.tenant.domain;
  await env.graph.api('/groups').post({
    displayName: GROUP,
    mailEnabled: false,
    mailNickname: GROUP.replace(/\W/g, ''),
    securityEnabled: true,
  });
});
after(async () => env?.close());

const upn = (tag: string) => `${tag}.${randomUUID().slice(0, 8)}@${domain}`;
const createUser = (id: string, userPrincipalName: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'action' as const,
  action: 'user.create',
  params: { userPrincipalName, displayName: `Test ${userPrincipalName}`, usageLocation: 'US' },
  retry: { initialInterval: '100ms', maximumAttempts: 4 },
  ...extra,
});
const noop = (id: string) => ({ id, kind: 'delay' as const, duration: '0s' });
const def = (nodes: unknown[], edges: unknown[], inputs: unknown[] = []): RunbookDefinitionInput =>
  ({ name: 'interpreter test', inputs, nodes, edges }) as RunbookDefinitionInput;
const done = (s: RunState) => !['running', 'waiting-approval', 'paused'].includes(s.status);

/** A search attribute as visibility shows it, once it has `length` values (visibility may lag a moment). */
async function visible(h: { describe(): Promise<{ searchAttributes: Record<string, unknown> }> }, name: string, length: number): Promise<unknown> {
  for (let i = 0; ; i++) {
    const v = (await h.describe()).searchAttributes[name] as unknown[] | undefined;
    if ((v?.length ?? 0) >= length || i > 50) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** TenantflowStatus as visibility shows it once the run has ended there. */
async function finalStatus(h: { describe(): Promise<{ searchAttributes: Record<string, unknown> }> }): Promise<unknown> {
  for (let i = 0; ; i++) {
    const v = (await h.describe()).searchAttributes.TenantflowStatus as string[] | undefined;
    if ((v && !['running', 'waiting-approval', 'paused'].includes(v[0]!)) || i > 50) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function userCount(userPrincipalName: string): Promise<number> {
  const res = await env.graph.api('/users').filter(`userPrincipalName eq '${userPrincipalName}'`).get();
  return res.value.length;
}

describe('interpreter on real Temporal', { concurrency: true }, () => {
  it('runs parallel branches and joins them', async () => {
    const who = upn('parallel');
    const h = await env.start(
      def(
        [
          createUser('create', who),
          { id: 'licence', kind: 'action', action: 'licence.assign', params: { user: '{{ steps.create.output.id }}', licences: ['SPE_E3'] } },
          { id: 'group', kind: 'action', action: 'group.addMember', params: { user: '{{ steps.create.output.id }}', group: GROUP } },
          { id: 'join', kind: 'delay', duration: '0s' },
          { id: 'end', kind: 'end' },
        ],
        [
          { source: 'create', target: 'licence' },
          { source: 'create', target: 'group' },
          { source: 'licence', target: 'join' },
          { source: 'group', target: 'join' },
          { source: 'join', target: 'end' },
        ],
      ),
    );
    const final = await h.result();
    assert.equal(final.status, 'succeeded');
    assert.deepEqual(statuses(final), { create: 'succeeded', licence: 'succeeded', group: 'succeeded', join: 'succeeded', end: 'succeeded' });
    assert.deepEqual((await h.describe()).searchAttributes.TenantflowProgress, ['5/5'], 'the task board reads progress from visibility');
    const joinStart = Date.parse(final.nodes.join!.startedAt!);
    assert.ok(joinStart >= Date.parse(final.nodes.licence!.endedAt!) && joinStart >= Date.parse(final.nodes.group!.endedAt!), 'the join waits for both branches');
    const user = await env.graph.api(`/users/${who}`).select('id,assignedLicenses').get();
    assert.equal(user.assignedLicenses.length, 1);
    const groups = await env.graph.api(`/users/${user.id}/memberOf`).get();
    assert.ok(groups.value.some((g: { displayName: string }) => g.displayName === GROUP));
  });

  it('takes one branch of a condition and propagates the skip through the other', async () => {
    const graph = def(
      [
        { id: 'check', kind: 'condition', expression: "inputs.kind = 'employee'" },
        noop('employee1'),
        noop('employee2'),
        noop('contractor'),
        noop('join'),
        { id: 'end', kind: 'end' },
      ],
      [
        { source: 'check', sourceHandle: 'true', target: 'employee1' },
        { source: 'employee1', target: 'employee2' },
        { source: 'check', sourceHandle: 'false', target: 'contractor' },
        { source: 'employee2', target: 'join' },
        { source: 'contractor', target: 'join' },
        { source: 'join', target: 'end' },
      ],
      [{ name: 'kind', type: 'string' }],
    );
    const contractor = await (await env.start(graph, { kind: 'contractor' })).result();
    assert.deepEqual(statuses(contractor), {
      check: 'succeeded',
      employee1: 'skipped',
      employee2: 'skipped',
      contractor: 'succeeded',
      join: 'succeeded',
      end: 'succeeded',
    });
    const employee = await (await env.start(graph, { kind: 'employee' })).result();
    assert.equal(employee.nodes.contractor!.status, 'skipped');
    assert.equal(employee.nodes.employee2!.status, 'succeeded');
    assert.equal(employee.nodes.join!.status, 'succeeded');
  });

  const approvalGraph = (extra: Record<string, unknown> = {}) =>
    def(
      [
        { id: 'ask', kind: 'approval', approvers: { users: ['boss@contoso.com', 'deputy@contoso.com'] }, message: 'Go ahead?', ...extra },
        noop('yes'),
        noop('no'),
        ...(extra.onTimeout === 'route' ? [noop('late')] : []),
      ],
      [
        { source: 'ask', sourceHandle: 'approved', target: 'yes' },
        { source: 'ask', sourceHandle: 'rejected', target: 'no' },
        ...(extra.onTimeout === 'route' ? [{ source: 'ask', sourceHandle: 'timeout', target: 'late' }] : []),
      ],
    );

  it('waits for approval, refuses self-approval, and continues on approve', async () => {
    // The requester is one of the approvers: only the self-approval rule refuses them.
    const h = await env.start(approvalGraph({ approvers: { users: ['boss@contoso.com', 'requester@contoso.com'] } }), {}, { startedBy: 'requester@contoso.com' });
    const waiting = await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    assert.equal(waiting.status, 'waiting-approval');
    assert.deepEqual(waiting.nodes.ask!.approval!.pendingApprovers, ['boss@contoso.com', 'requester@contoso.com']);
    const described = await h.describe();
    assert.deepEqual(described.searchAttributes.TenantflowPendingApprovers, ['boss@contoso.com', 'requester@contoso.com']);

    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'requester@contoso.com' });
    const refused = await env.waitFor(h, (s) => (s.nodes.ask?.approval?.decisions.length ?? 0) > 0);
    assert.match(refused.nodes.ask!.approval!.decisions[0]!.refused ?? '', /started the run/);
    assert.equal(refused.nodes.ask!.status, 'waiting-approval');

    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'Boss@contoso.com', comment: 'fine by me' });
    const final = await h.result();
    assert.equal(final.status, 'succeeded');
    assert.deepEqual(statuses(final), { ask: 'succeeded', yes: 'succeeded', no: 'skipped' });
    assert.deepEqual(final.nodes.ask!.output, { decision: 'approved', decidedBy: 'boss@contoso.com', comment: 'fine by me', approvers: ['boss@contoso.com'] });
  });

  it('names an approver by an expression (the manager input), resolved when the step starts', async () => {
    const graph = approvalGraph({ approvers: { users: ['{{ inputs.manager }}'], roles: [] } });
    const h = await env.start({ ...graph, inputs: [{ name: 'manager', type: 'string' }] }, { manager: 'Manager@contoso.com' }, { startedBy: 'requester@contoso.com' });
    const waiting = await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval' && !s.nodes.ask.approval!.pendingApprovers.some((k) => k.includes('{{')));
    assert.deepEqual(waiting.nodes.ask!.approval!.pendingApprovers, ['manager@contoso.com']);
    const outsider = await executeApprovalUpdate(h, { nodeId: 'ask', decision: 'approve', by: 'boss@contoso.com', roles: [], groups: [] }).catch((e: unknown) => e);
    assert.match(String((outsider as { cause?: { message?: string } }).cause?.message ?? outsider), /not an approver/);
    await executeApprovalUpdate(h, { nodeId: 'ask', decision: 'approve', by: 'manager@contoso.com', roles: [], groups: [] });
    const final = await h.result();
    assert.deepEqual(statuses(final), { ask: 'succeeded', yes: 'succeeded', no: 'skipped' });
  });

  // Sent straight to Temporal, not through the API: the workflow itself enforces who may decide.
  it('refuses an approval Update from an outsider, the requester or a repeat with the reason, and takes an approver\'s', async () => {
    const h = await env.start(approvalGraph({ approvers: { users: ['boss@contoso.com'], groups: ['HR Leads'] }, quorum: { count: 2 } }), {}, { startedBy: 'requester@contoso.com' });
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    const refused = async (by: string, groups: string[], type: string, reason: RegExp) => {
      const err = await executeApprovalUpdate(h, { nodeId: 'ask', decision: 'approve', by, roles: ['admin'], groups }).then(
        () => assert.fail(`${by}'s decision was accepted`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
      assert.equal((err.cause as { type?: string }).type, type);
      assert.match(err.cause!.message, reason);
    };
    await refused('mallory@contoso.com', ['Finance'], 'not-approver', /mallory@contoso\.com is not an approver of step "ask" \(approvers: boss@contoso\.com, group:HR Leads\)/);
    await refused('requester@contoso.com', ['HR Leads'], 'self-approval', /you started this run/);
    const nothing = await executeApprovalUpdate(h, { nodeId: 'nope', decision: 'approve', by: 'boss@contoso.com', roles: [], groups: [] }).catch((e: unknown) => e);
    assert.equal(((nothing as WorkflowUpdateFailedError).cause as { type?: string }).type, 'not-waiting');
    // Refused by the validator: nothing was written to the run.
    assert.deepEqual((await env.state(h)).nodes.ask!.approval!.decisions, []);

    const recorded = await executeApprovalUpdate(h, { nodeId: 'ask', decision: 'approve', by: 'Boss@contoso.com', roles: [], groups: [], comment: 'ok' });
    assert.equal(recorded.by, 'boss@contoso.com');
    assert.equal(recorded.comment, 'ok');
    assert.equal(recorded.refused, undefined);
    await refused('boss@contoso.com', [], 'already-decided', /boss@contoso\.com has already decided on step "ask"/);
    assert.equal((await env.state(h)).nodes.ask!.status, 'waiting-approval', 'one of two approvals is not enough');

    const byGroup = await executeApprovalUpdate(h, { nodeId: 'ask', decision: 'approve', by: 'hr.lead@contoso.com', roles: [], groups: ['HR Leads'] });
    assert.equal(byGroup.refused, undefined);
    const final = await h.result();
    assert.deepEqual(statuses(final), { ask: 'succeeded', yes: 'succeeded', no: 'skipped' });
    assert.deepEqual(final.nodes.ask!.output, { decision: 'approved', decidedBy: 'hr.lead@contoso.com', comment: null, approvers: ['boss@contoso.com', 'hr.lead@contoso.com'] });
  });

  it('records an approval signal from an outsider as refused, and it does not count', async () => {
    const h = await env.start(approvalGraph());
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'mallory@contoso.com' });
    const refused = await env.waitFor(h, (s) => (s.nodes.ask?.approval?.decisions.length ?? 0) > 0);
    assert.equal(refused.nodes.ask!.approval!.decisions[0]!.refused, 'not an approver of this step');
    assert.equal(refused.nodes.ask!.status, 'waiting-approval');
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'reject', by: 'deputy@contoso.com' });
    assert.equal((await h.result()).nodes.no!.status, 'succeeded');
  });

  it('takes the rejected branch on reject', async () => {
    const h = await env.start(approvalGraph());
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'reject', by: 'deputy@contoso.com', comment: 'not this week' });
    const final = await h.result();
    assert.deepEqual(statuses(final), { ask: 'succeeded', yes: 'skipped', no: 'succeeded' });
    assert.equal(final.nodes.ask!.approval!.decisions[0]!.comment, 'not this week');
    assert.equal(final.status, 'rejected', 'an approval said no and the run ended on that path');
    assert.equal(final.message, 'rejected at ask by deputy@contoso.com: “not this week”');
    assert.deepEqual(await finalStatus(h), ['rejected']);
  });

  it('needs every listed approver with quorum "all"', async () => {
    const h = await env.start(approvalGraph({ quorum: 'all' }));
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'boss@contoso.com' });
    const one = await env.waitFor(h, (s) => (s.nodes.ask?.approval?.decisions.length ?? 0) === 1);
    assert.equal(one.nodes.ask!.status, 'waiting-approval', 'one of two approvals is not enough');
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'deputy@contoso.com' });
    assert.equal((await h.result()).nodes.yes!.status, 'succeeded');
  });

  it('escalates to another approver group when nobody decides in time', async () => {
    const h = await env.start(approvalGraph({ escalation: { after: '1s', approvers: { groups: ['IT Managers'] } } }));
    const escalated = await env.waitFor(h, (s) => s.nodes.ask?.approval?.pendingApprovers.includes('group:IT Managers') ?? false);
    assert.deepEqual(escalated.nodes.ask!.approval!.pendingApprovers, ['boss@contoso.com', 'deputy@contoso.com', 'group:IT Managers']);
    assert.deepEqual(await visible(h, 'TenantflowPendingApprovers', 3), ['boss@contoso.com', 'deputy@contoso.com', 'group:IT Managers']);
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'it.manager@contoso.com', groups: ['IT Managers'], comment: 'escalated and approved' });
    assert.equal((await h.result()).nodes.yes!.status, 'succeeded');
  });

  it('applies the configured outcome when an approval times out', async () => {
    const rejected = await (await env.start(approvalGraph({ timeout: '1s' }))).result();
    assert.deepEqual(statuses(rejected), { ask: 'succeeded', yes: 'skipped', no: 'succeeded' });
    assert.equal(rejected.nodes.ask!.approval!.decisions[0]!.comment, 'timed out');
    assert.equal(rejected.status, 'timed-out', 'nobody decided in time');
    const routed = await (await env.start(approvalGraph({ timeout: '1s', onTimeout: 'route' }))).result();
    assert.deepEqual(statuses(routed), { ask: 'succeeded', yes: 'skipped', no: 'skipped', late: 'succeeded' });
    assert.equal(routed.status, 'timed-out');
  });

  it('fails the run on a non-retryable error without retrying', async () => {
    const h = await env.start(
      def(
        [{ id: 'add', kind: 'action', action: 'group.addMember', params: { group: 'No Such Group', user: 'nobody@contoso.com' } }, noop('next')],
        [{ source: 'add', target: 'next' }],
      ),
    );
    await assert.rejects(h.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      return true;
    });
    const s = await env.state(h);
    assert.equal(s.status, 'failed');
    assert.equal(s.nodes.add!.status, 'failed');
    assert.equal(s.nodes.add!.attempts, 1);
    assert.match(s.nodes.add!.error!.message, /does not exist/);
    assert.equal(s.nodes.next!.status, 'skipped');
  });

  it('continues past a failed step with onError "continue" and routes with "route"', async () => {
    const failing = (id: string, onError: string) => ({
      id,
      kind: 'action',
      action: 'group.addMember',
      params: { group: GROUP, user: `ghost.${id}@${domain}` },
      onError,
    });
    const cont = await (
      await env.start(def([failing('add', 'continue'), noop('next')], [{ source: 'add', target: 'next' }]))
    ).result();
    // A failed step the run went past is not a success: the run says so, and names it.
    assert.equal(cont.status, 'succeeded-with-warnings');
    assert.deepEqual(statuses(cont), { add: 'failed', next: 'succeeded' });
    assert.match(cont.nodes.add!.error!.message, /user ghost\.add@.* does not exist/);
    assert.equal(cont.message, 'completed with 1 warning');
    assert.match(cont.warnings![0]!, /^step add failed and the run went on: .*ghost\.add@.* does not exist/);

    const routed = await (
      await env.start(
        def(
          [failing('add', 'route'), noop('happy'), noop('handler')],
          [
            { source: 'add', target: 'happy' },
            { source: 'add', sourceHandle: 'error', target: 'handler' },
          ],
        ),
      )
    ).result();
    assert.deepEqual(statuses(routed), { add: 'failed', happy: 'skipped', handler: 'succeeded' });
    assert.equal(routed.status, 'succeeded-with-warnings');
    assert.match(routed.warnings![0]!, /^step add failed and the run went on \(error branch\)/);
  });

  it("shows an action's own warning and ends succeeded with warnings", async () => {
    const who = upn('nolicence');
    const h = await env.start(
      def(
        [createUser('create', who), { id: 'unassign', kind: 'action', action: 'licence.unassign', params: { user: who, licences: ['SPE_E5'] } }],
        [{ source: 'create', target: 'unassign' }],
      ),
    );
    const final = await h.result();
    assert.deepEqual(statuses(final), { create: 'succeeded', unassign: 'succeeded' });
    assert.deepEqual(final.nodes.unassign!.warnings, [`no licence to remove: ${who} did not have SPE_E5`]);
    assert.equal(final.status, 'succeeded-with-warnings');
    assert.deepEqual(final.warnings, [`step unassign: no licence to remove: ${who} did not have SPE_E5`]);
    assert.deepEqual(await finalStatus(h), ['succeeded-with-warnings']);
  });

  it('pauses a failed step for an operator, who can skip it', async () => {
    const h = await env.start(
      def(
        [{ id: 'add', kind: 'action', action: 'group.addMember', params: { group: GROUP, user: `ghost@${domain}` }, onError: 'pause' }, noop('next')],
        [{ source: 'add', target: 'next' }],
      ),
    );
    const paused = await env.waitFor(h, (s) => s.nodes.add?.status === 'paused');
    assert.equal(paused.status, 'paused');
    await h.signal(resumeSignal, { nodeId: 'add', action: 'skip', by: 'operator@contoso.com' });
    const final = await h.result();
    assert.deepEqual(statuses(final), { add: 'skipped', next: 'succeeded' });
    assert.equal(final.status, 'succeeded-with-warnings');
    assert.match(final.warnings![0]!, /^step add failed and an operator skipped it/);
  });

  it('cancels a run waiting on a timer: nothing after it runs', async () => {
    const who = upn('cancel');
    const h = await env.start(
      def(
        [noop('first'), { id: 'wait', kind: 'delay', duration: '1h' }, createUser('create', who)],
        [
          { source: 'first', target: 'wait' },
          { source: 'wait', target: 'create' },
        ],
      ),
    );
    await env.waitFor(h, (s) => s.nodes.wait?.status === 'running');
    await h.cancel();
    const s = await env.waitFor(h, done);
    assert.deepEqual(statuses(s), { first: 'succeeded', wait: 'cancelled', create: 'skipped' });
    assert.equal(s.status, 'cancelled');
    assert.equal((await h.describe()).status.name, 'CANCELLED');
    assert.equal(await userCount(who), 0);
  });

  it('waits for a duration and until a date', async () => {
    const at = new Date(Date.now() + 2500).toISOString();
    const h = await env.start(
      def(
        [
          { id: 'short', kind: 'delay', duration: '1s' },
          { id: 'until', kind: 'delay', until: 'inputs.at' },
        ],
        [{ source: 'short', target: 'until' }],
        [{ name: 'at', type: 'date' }],
      ),
      { at },
    );
    const s = await h.result();
    const took = Date.parse(s.nodes.short!.endedAt!) - Date.parse(s.nodes.short!.startedAt!);
    assert.ok(took >= 1000, `waited ${took} ms`);
    assert.ok(Date.parse(s.nodes.until!.endedAt!) >= Date.parse(at), 'waited until the date');
  });
});

// Scripted faults apply to the whole sandbox, so this runs on its own.
describe('interpreter under faults', () => {
  it('retries a throttled step until it succeeds, honouring Retry-After, and writes once', async () => {
    const who = upn('retry');
    env.sandbox.admin.setFaults({
      scripted: [{ status: 503, count: 2, match: `^POST /v1\\.0/users$`, retryAfterSeconds: 1 }],
    });
    const h = await env.start(def([createUser('create', who)], []));
    const final = await h.result();
    assert.equal(final.nodes.create!.status, 'succeeded');
    assert.equal(final.nodes.create!.attempts, 3);
    const gap = Date.parse(final.nodes.create!.endedAt!) - Date.parse(final.nodes.create!.startedAt!);
    assert.ok(gap >= 2000, `two Retry-After waits of 1 s, got ${gap} ms`);
    assert.equal(await userCount(who), 1);
  });


  it('a step out of time on its last attempt times the run out', async () => {
    env.sandbox.admin.setFaults({ latencyMs: 1500 });
    try {
      const h = await env.start(def([createUser('create', upn('slow'), { timeout: '300ms', retry: { maximumAttempts: 1 } })], []));
      await assert.rejects(h.result(), WorkflowFailedError);
      const s = await env.state(h);
      assert.equal(s.nodes.create!.error!.type, 'Timeout');
      assert.equal(s.status, 'timed-out');
      assert.deepEqual(await finalStatus(h), ['timed-out']);
    } finally {
      env.sandbox.admin.setFaults({});
    }
  });

  it('records one patch marker (the baseline) and publishes to visibility only what changed', async () => {
    type Events = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>;
    const upserts = (events: Events) => events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).map((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes!.searchAttributes!.indexedFields!).sort());
    const h = await env.start(def([{ id: 'ask', kind: 'approval', approvers: { users: ['boss@contoso.com'] } }, noop('next')], [{ source: 'ask', sourceHandle: 'approved', target: 'next' }]));
    // The start itself says "running, 0 of 2 steps": the run publishes nothing until it has news.
    assert.deepEqual((await h.describe()).searchAttributes.TenantflowProgress, ['0/2']);
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    assert.deepEqual(await visible(h, 'TenantflowPendingApprovers', 1), ['boss@contoso.com'], 'the approvals inbox reads who is asked from visibility');
    await h.signal(approvalSignal, { nodeId: 'ask', decision: 'approve', by: 'boss@contoso.com' });
    assert.equal((await h.result()).status, 'succeeded');
    const events = (await h.fetchHistory()).events ?? [];
    // approval-eligibility, approval-plan, approval-notify, approval-request-concurrent,
    // notify-requester and requester-notice-server were one marker and one upsert each.
    assert.deepEqual(patchMarkers(events), [BASELINE]);
    const decided = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
    assert.deepEqual(
      upserts(events.slice(decided)),
      [
        ['TenantflowPendingApprovers', 'TenantflowProgress', 'TenantflowStatus'],
        ['TenantflowPendingApprovers', 'TenantflowProgress', 'TenantflowStatus'],
      ],
      'after the decision: the step done and the approver gone, then the run ended (its last step publishes nothing of its own)',
    );
    assert.deepEqual(await finalStatus(h), ['succeeded']);
    const sa = (await h.describe()).searchAttributes;
    assert.deepEqual([sa.TenantflowProgress, sa.TenantflowPendingApprovers ?? []], [['2/2'], []]);

    // A loop's items start with what their visibility says; each item's run upserts the baseline
    // (the SDK's TemporalChangeVersion) and its end, where it upserted four times.
    const loop = await env.start(def([{ id: 'each', kind: 'forEach', items: 'inputs.n', concurrency: 2, body: { nodes: [noop('wait')] } }], [], [{ name: 'n', type: 'list' }]), { n: [1, 2] });
    assert.equal((await loop.result()).status, 'succeeded');
    const item = env.client.workflow.getHandle(`${loop.workflowId}.each.0`);
    const itemEvents = (await item.fetchHistory()).events ?? [];
    const started = itemEvents[0]!.workflowExecutionStartedEventAttributes!.searchAttributes!.indexedFields!;
    assert.deepEqual(Object.keys(started).sort(), ['TenantflowProgress', 'TenantflowStatus']);
    assert.deepEqual(patchMarkers(itemEvents), [BASELINE]);
    assert.deepEqual(upserts(itemEvents), [['TemporalChangeVersion'], ['TenantflowPendingApprovers', 'TenantflowProgress', 'TenantflowStatus']]);
    assert.deepEqual(await finalStatus(item), ['succeeded']);
    assert.deepEqual((await item.describe()).searchAttributes.TenantflowProgress, ['1/1']);
  });

  it('cancelling a run stops the step in flight and runs nothing after it', async () => {
    const who = upn('inflight');
    env.sandbox.admin.setFaults({ latencyMs: 1500 });
    try {
      const h = await env.start(
        def(
          [createUser('create', who), { id: 'licence', kind: 'action', action: 'licence.assign', params: { user: who, licences: ['SPE_E3'] } }],
          [{ source: 'create', target: 'licence' }],
        ),
      );
      await env.waitFor(h, (s) => s.nodes.create?.status === 'running');
      await new Promise((r) => setTimeout(r, 300));
      await h.cancel();
      const s = await env.waitFor(h, done);
      assert.equal(s.status, 'cancelled');
      assert.deepEqual(statuses(s), { create: 'cancelled', licence: 'skipped' });
    } finally {
      env.sandbox.admin.setFaults({});
    }
  });
});
