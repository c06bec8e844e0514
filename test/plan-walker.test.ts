// The planner's walk of a runbook graph and the undo builder, with small test actions whose plans
// answer from their input (no tenant: what is tested is the walk, not Microsoft 365): an action
// without a plan is "changes not predicted", never left out; joins after undecided branches; what
// an approval gates; earlier changes as the before-values of later ones; and the undo rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAction, knownAfterRun, type ActionContract, type Change } from '../catalog/contract.ts';
import { catalog } from '../catalog/index.ts';
import { RunbookDefinition, type NodeState, type RunbookDefinitionInput } from '../runbook/definition.ts';
import { planText, type PlanRequest, type RunPlan } from '../runbook/plan.ts';
import { buildUndo, type UndoSourceStep } from '../runbook/undo.ts';
import { implement, type ActionImplementation, type PlanContext } from '../worker/implementation.ts';
import { planRunbook } from '../worker/plan-runbook.ts';

const input = z.strictObject({ user: z.string(), value: z.string().optional() });
const set = defineAction({ id: 'test.set', title: 'Set a value', category: 'user', description: '', input, output: z.object({ id: z.string() }), permissions: [], bulk: true });
const noPlan = defineAction({ id: 'test.noPlan', title: 'No plan', category: 'mailbox', description: '', input, output: z.object({}), permissions: [], bulk: true });
const read = defineAction({ id: 'test.read', title: 'Read', category: 'user', description: '', input, output: z.object({ department: z.string() }), permissions: [], bulk: true, readOnly: true });

/** "Set a value" changes user.value from "old" to the value asked (a user called "missing" does not exist). */
const actions = new Map<string, ActionImplementation>([
  [
    'test.set',
    implement(set, async () => ({ id: 'x' }), {
      plan: async (i) => {
        if (i.user === 'missing') throw Object.assign(new Error(`user ${i.user} does not exist`), { statusCode: 404, code: 'Request_ResourceNotFound' });
        return i.value === 'old' ? [] : [{ object: `user ${typeof i.user === 'string' ? i.user : 'later'}`, property: 'value', before: 'old', after: i.value ?? null }];
      },
      acceptsUnknown: ['user'],
    }),
  ],
  ['test.noPlan', implement(noPlan, async () => ({}))],
  ['test.read', implement(read, async () => ({ department: 'Sales' }))],
]);
const ctx = { heartbeat() {} } as unknown as PlanContext;

async function plan(def: RunbookDefinitionInput, extra: Partial<PlanRequest> = {}): Promise<RunPlan> {
  return planRunbook({ definition: RunbookDefinition.parse(def), inputs: {}, run: { startedBy: 'a@b.c', tenant: 't', runbookId: 'r', version: 1 }, ...extra }, { actions, ctx });
}
const step = (p: RunPlan, id: string) => p.steps.find((s) => s.nodeId === id)!;

describe('the plan walk', () => {
  it('plans an action without a plan as "plan not available" (saying what it will change), and an action this worker does not know the same way', async () => {
    const p = await plan({
      name: 'x',
      nodes: [
        { id: 'a', kind: 'action', action: 'test.noPlan', params: { user: 'u' } },
        { id: 'b', kind: 'action', action: 'mailbox.unknownToThisWorker', params: {} },
      ],
    });
    assert.deepEqual(step(p, 'a').plan, { outcome: 'not-predicted', reason: `plan not available: it will ${noPlan.title.charAt(0).toLowerCase()}${noPlan.title.slice(1)} (test.noPlan has no plan yet, so what it changes is not predicted or recorded)` });
    assert.deepEqual(step(p, 'b').plan, { outcome: 'not-predicted', reason: 'changes not predicted for mailbox.unknownToThisWorker: this worker does not know the action' });
    assert.equal(p.summary.notPredicted, 2);
    assert.match(planText(p), /plan not available: .*test\.noPlan has no plan yet/);
  });

  it('joins after an undecided condition: each branch, and the join, under the conditions it runs under', async () => {
    const p = await plan({
      name: 'join',
      nodes: [
        { id: 'first', kind: 'action', action: 'test.set', params: { user: 'u', value: 'one' } },
        { id: 'check', kind: 'condition', expression: "steps.first.output.id = 'x'" },
        { id: 'yes', kind: 'action', action: 'test.set', params: { user: 'u', value: 'two' } },
        { id: 'no', kind: 'action', action: 'test.noPlan', params: { user: 'u' } },
        { id: 'join', kind: 'action', action: 'test.set', params: { user: '{{ steps.first.output.id }}', value: 'three' } },
      ],
      edges: [
        { source: 'first', target: 'check' },
        { source: 'check', sourceHandle: 'true', target: 'yes' },
        { source: 'check', sourceHandle: 'false', target: 'no' },
        { source: 'yes', target: 'join' },
        { source: 'no', target: 'join' },
      ],
    });
    assert.deepEqual(step(p, 'yes').when, ["check: steps.first.output.id = 'x'"]);
    assert.deepEqual(step(p, 'no').when, ["check: not (steps.first.output.id = 'x')"]);
    assert.equal(step(p, 'join').runs, 'if', 'runs under either branch');
    assert.deepEqual(step(p, 'join').when, ["check: steps.first.output.id = 'x'", "check: not (steps.first.output.id = 'x')"]);
    assert.deepEqual(step(p, 'join').params, { user: { $knownAfterRun: 'steps.first.output.id' }, value: 'three' });
    assert.equal(step(p, 'join').plan?.outcome, 'changes', 'the plan copes with the user known after the run');
  });

  it('takes a later change\'s before-value from an earlier change of the same property, and drops what ends up the same', async () => {
    const p = await plan({
      name: 'overlay',
      nodes: [
        { id: 'one', kind: 'action', action: 'test.set', params: { user: 'u', value: 'new' } },
        { id: 'two', kind: 'action', action: 'test.set', params: { user: 'u', value: 'newer' } },
        { id: 'three', kind: 'action', action: 'test.set', params: { user: 'u', value: 'newer' } },
      ],
      edges: [
        { source: 'one', target: 'two' },
        { source: 'two', target: 'three' },
      ],
    });
    const rows = (id: string) => {
      const a = step(p, id).plan!;
      return a.outcome === 'changes' ? a.changes.map((c: Change) => `${c.before} -> ${c.after}`) : a.outcome;
    };
    assert.deepEqual(rows('one'), ['old -> new']);
    assert.deepEqual(rows('two'), ['new -> newer']);
    assert.equal(rows('three'), 'no-change');
  });

  it('ends the plan where a step would fail, with the reason; onError continue goes on', async () => {
    const p = await plan({
      name: 'fail',
      nodes: [
        { id: 'soft', kind: 'action', action: 'test.set', params: { user: 'missing', value: 'v' }, onError: 'continue' },
        { id: 'hard', kind: 'action', action: 'test.set', params: { user: 'missing', value: 'v' } },
        { id: 'after', kind: 'action', action: 'test.set', params: { user: 'u', value: 'v' } },
      ],
      edges: [
        { source: 'soft', target: 'hard' },
        { source: 'hard', target: 'after' },
      ],
    });
    assert.equal(step(p, 'soft').plan?.outcome, 'would-fail');
    assert.equal(step(p, 'hard').runs, 'yes');
    assert.equal(step(p, 'after').runs, 'no');
    assert.equal(step(p, 'after').why, 'the run ends before it: step hard would fail');
  });

  it('plans only what an approval gates, with the outputs of the steps already done', async () => {
    const p = await plan(
      {
        name: 'gate',
        nodes: [
          { id: 'read', kind: 'action', action: 'test.read', params: { user: 'u' } },
          { id: 'ok', kind: 'approval', approvers: { users: ['boss@x.y'] } },
          { id: 'set', kind: 'action', action: 'test.set', params: { user: 'u', value: "{{ steps.read.output.department & '!' }}" } },
          { id: 'no', kind: 'end' },
        ],
        edges: [
          { source: 'read', target: 'ok' },
          { source: 'ok', sourceHandle: 'approved', target: 'set' },
          { source: 'ok', sourceHandle: 'rejected', target: 'no' },
        ],
      },
      { done: { read: { status: 'succeeded', handle: 'out', output: { department: 'Finance' } }, ok: { status: 'running' } }, gate: 'ok' },
    );
    assert.deepEqual(p.steps.map((s) => [s.nodeId, s.runs]), [['set', 'yes']]);
    assert.deepEqual(step(p, 'set').params, { user: 'u', value: 'Finance!' });
  });

  it('plans a loop whose list is known only after the run as such', async () => {
    const p = await plan({
      name: 'later',
      nodes: [
        { id: 'find', kind: 'action', action: 'test.set', params: { user: 'u', value: 'v' } },
        { id: 'each', kind: 'forEach', items: 'steps.find.output.users', body: { nodes: [{ id: 'x', kind: 'action', action: 'test.set', params: { user: '{{ item }}' } }] } },
      ],
      edges: [{ source: 'find', target: 'each' }],
    });
    assert.deepEqual(step(p, 'each').loop, { total: null, offset: 0, items: [], more: 0, reason: 'the list comes from steps.find, known only after the run' });
  });
});

const state = (id: string, output: unknown, endedAt: string, extra: Partial<NodeState> = {}): NodeState => ({ id, kind: 'action', status: 'succeeded', attempts: 1, endedAt, output, ...extra });
const def = (nodes: RunbookDefinitionInput['nodes']) => RunbookDefinition.parse({ name: 'original', nodes });

describe('the undo builder', () => {
  const lookup = (extra: ActionContract[] = []) => (id: string) => extra.find((a) => a.id === id) ?? catalog.get(id);

  it('reverses in the opposite order of completion, and calls an `undo` action with the same parameters when there is no `reverse`', () => {
    const grant = defineAction({ id: 'test.grant', title: 'Grant', category: 'mailbox', description: '', input: z.strictObject({ mailbox: z.string(), user: z.string(), level: z.string() }), output: z.object({}), permissions: [], bulk: true, undo: 'test.revoke' });
    const revoke = defineAction({ id: 'test.revoke', title: 'Revoke', category: 'mailbox', description: '', input: z.strictObject({ mailbox: z.string(), user: z.string() }), output: z.object({}), permissions: [], bulk: true });
    const steps: UndoSourceStep[] = [
      { action: 'group.addMember', state: state('first', { groupId: 'g', userId: 'u', added: true, __changes: [{ object: 'group G', property: 'member u', before: false, after: true }] }, '2026-01-01T00:00:01Z') },
      { action: 'test.grant', state: state('second', {}, '2026-01-01T00:00:02Z', { input: { mailbox: 'm', user: 'u', level: 'full' } }) },
    ];
    const d = buildUndo({ runId: 'run-1', definition: def([{ id: 'first', kind: 'end' }]), steps }, lookup([grant, revoke]));
    assert.deepEqual(d.definition!.nodes!.map((n) => n.kind === 'action' && [n.id, n.action, n.params]), [
      ['undo_second', 'test.revoke', { mailbox: 'm', user: 'u' }],
      ['undo_first', 'group.removeMember', { group: 'g', user: 'u' }],
    ]);
    assert.equal(d.entries.find((e) => e.nodeId === 'second')!.outcome, 'review');
    assert.match(d.definition!.description!, /To review:\n- second \(test\.grant\): review: the parameters are copied from the original step/);
  });

  it('lists what it cannot undo and why: no undo declared, irreversible, not recorded, failed; and skips what changed nothing', () => {
    const mystery = defineAction({ id: 'test.mystery', title: 'Mystery', category: 'device', description: '', input: z.strictObject({}), output: z.object({}), permissions: [], bulk: true });
    const steps: UndoSourceStep[] = [
      { action: 'test.mystery', state: state('a', {}, '2026-01-01T00:00:05Z') },
      { action: 'user.permanentDelete', state: state('b', { userId: 'u', purged: true, __changes: [{ object: 'deleted user', property: 'in deleted items', before: true, after: false }] }, '2026-01-01T00:00:04Z') },
      { action: 'user.update', state: state('c', { userId: 'u', changed: ['department'] }, '2026-01-01T00:00:03Z') },
      { action: 'user.disableSignIn', state: state('d', undefined, '2026-01-01T00:00:02Z', { status: 'failed' }) },
      { action: 'user.enableSignIn', state: state('e', { userId: 'u', changed: false, __changes: [] }, '2026-01-01T00:00:01Z') },
      { action: 'user.get', state: state('f', { found: true }, '2026-01-01T00:00:00Z') },
    ];
    const d = buildUndo({ runId: 'run-2', definition: def([{ id: 'a', kind: 'end' }]), steps }, lookup([mystery]));
    assert.equal(d.definition, undefined, 'nothing can be undone: no runbook');
    assert.deepEqual(d.entries.map((e) => `${e.nodeId} ${e.outcome}: ${e.reason}`), [
      'a irreversible: no undo is declared for test.mystery',
      'b irreversible: a permanently deleted user is gone for good',
      'c not-recorded: the step recorded no before-state, so what to put back is not known',
      'd failed-step: the step failed; whatever it changed before failing was not recorded: check by hand',
      'e nothing-to-undo: it changed nothing',
    ]);
  });

  it('builds a runbook the validator accepts, from every identity action\'s reverse', async () => {
    const { validateRunbook } = await import('../runbook/validate.ts');
    const steps: UndoSourceStep[] = [
      { action: 'user.update', state: state('u1', { userId: 'u', changed: ['department', 'jobTitle'], __changes: [
        { object: 'user a', objectId: 'u', property: 'department', before: 'Sales', after: 'X' },
        { object: 'user a', objectId: 'u', property: 'jobTitle', before: null, after: 'Y' },
      ] }, '2026-01-01T00:00:01Z') },
      { action: 'licence.removeAll', state: state('l1', { userId: 'u', removed: ['SPE_E3'], __changes: [
        { object: 'user a', objectId: 'u', property: 'licence SPE_E3', before: true, after: false },
        { object: 'user a', objectId: 'u', property: 'licence SPE_E3 disabled plans', before: ['YAMMER_ENTERPRISE'], after: null },
      ] }, '2026-01-01T00:00:02Z') },
      { action: 'user.setManager', state: state('m1', { userId: 'u', managerId: 'm2', previousManagerId: null, __changes: [{ object: 'user a', property: 'manager', before: null, after: 'm2@x.y' }] }, '2026-01-01T00:00:03Z') },
    ];
    const d = buildUndo({ runId: 'run-3', definition: def([{ id: 'u1', kind: 'end' }]), steps }, lookup());
    const checked = validateRunbook(d.definition);
    assert.deepEqual(checked.problems, []);
    assert.deepEqual(d.definition!.nodes!.map((n) => n.kind === 'action' && [n.action, n.params]), [
      ['user.removeManager', { user: 'u' }],
      ['licence.assign', { user: 'u', licences: ['SPE_E3'], disabledPlans: ['YAMMER_ENTERPRISE'] }],
      ['user.update', { user: 'u', department: 'Sales', clear: ['jobTitle'] }],
    ]);
  });

  it('marks a value known after the run in plans, and fills it from the output when recorded', async () => {
    const { settle } = await import('../worker/planning.ts');
    assert.deepEqual(settle([{ object: 'user a', objectId: knownAfterRun('output.id'), property: 'exists', before: false, after: true }], { id: 'new-id' }), [
      { object: 'user a', objectId: 'new-id', property: 'exists', before: false, after: true },
    ]);
  });
});

describe('reverses of the domain, Conditional Access and mailbox actions', () => {
  /** The inverse steps of one finished step; each one's parameters parse as its action's input. */
  const inverse = (action: string, input: unknown, output: unknown, changes: Change[]) => {
    const c = catalog.get(action)!;
    const r = c.reverse!({ input: c.input.parse(input), output, changes });
    if ('irreversible' in r) return r;
    for (const st of r.steps) assert.ok(catalog.get(st.action)!.input.safeParse(st.params).success, `${st.action} ${JSON.stringify(st.params)}`);
    return r;
  };
  const ch = (property: string, before: unknown, after: unknown, objectId?: string): Change => ({ object: 'x', ...(objectId ? { objectId } : {}), property, before, after });

  it('a Conditional Access update goes back field by field, and says what an update cannot empty', () => {
    const r = inverse('policy.updateConditionalAccess', { policy: 'P' }, { id: 'pid', displayName: 'P', state: 'enabled', changed: [] }, [
      ch('excludeGroups', [], ['g1']),
      ch('grant', ['mfa'], ['mfa', 'compliantDevice']),
      ch('signInFrequencyHours', null, 48),
    ]);
    assert.ok('steps' in r);
    assert.deepEqual(r.steps[0]!.params, { policy: 'pid', excludeGroups: [], grant: ['mfa'] });
    assert.match(r.note!, /signInFrequencyHours cannot be set back to empty/);
    const created = inverse('policy.createConditionalAccess', { displayName: 'P' }, { id: 'pid', displayName: 'P', state: 'disabled', created: false }, [ch('exists', false, true)]);
    assert.deepEqual('steps' in created && created.steps.map((x) => [x.action, x.params]), [['policy.deleteConditionalAccess', { policy: 'pid' }]], 'created on an earlier attempt: still deleted');
    const state = inverse('policy.setConditionalAccessState', { policy: 'P', state: 'enabled' }, { id: 'pid', displayName: 'P', state: 'enabled', previousState: 'disabled', changed: true }, [ch('state', 'disabled', 'enabled')]);
    assert.deepEqual('steps' in state && state.steps[0]!.params, { policy: 'pid', state: 'disabled' });
  });

  it('a domain update puts the previous default and the services back', () => {
    const r = inverse('domain.update', { domain: 'new.example.com', makeDefault: true, supportedServices: ['Email'] }, { id: 'new.example.com', isVerified: true, isDefault: true, supportedServices: ['Email'], changed: [], previousDefault: 'old.example.com' }, [
      ch('isDefault', true, false, 'old.example.com'),
      ch('isDefault', false, true, 'new.example.com'),
      ch('supportedServices', [], ['Email'], 'new.example.com'),
    ]);
    assert.deepEqual('steps' in r && r.steps.map((x) => x.params), [{ domain: 'old.example.com', makeDefault: true }, { domain: 'new.example.com', supportedServices: [] }]);
  });

  it('mailbox properties go back to their recorded values', () => {
    const quota = inverse('mailbox.setQuota', { mailbox: 'm@x.y', issueWarningQuota: '40GB' }, { identity: 'm@x.y', changed: ['issueWarningQuota'] }, [ch('issueWarningQuota', '49 GB (52,613,349,376 bytes)', '40GB')]);
    assert.deepEqual('steps' in quota && quota.steps[0]!.params, { mailbox: 'm@x.y', issueWarningQuota: '52613349376B' });
    const hold = inverse('mailbox.setLitigationHold', { mailbox: 'm@x.y', durationDays: 2555 }, { identity: 'm@x.y', changed: true, duration: '2555.00:00:00' }, [ch('litigationHold', false, true), ch('litigationHoldDuration', 'Unlimited', '2555.00:00:00')]);
    assert.deepEqual('steps' in hold && hold.steps[0]!.params, { mailbox: 'm@x.y', enabled: false });
    const hidden = inverse('mailbox.hideFromAddressList', { mailbox: 'm@x.y', hidden: true }, { identity: 'm@x.y', changed: true }, [ch('hiddenFromAddressLists', false, true)]);
    assert.deepEqual('steps' in hidden && hidden.steps[0]!.params, { mailbox: 'm@x.y', hidden: false });
    assert.deepEqual(inverse('mailbox.setClutter', { mailbox: 'm@x.y', enabled: true }, { identity: 'm@x.y', changed: false }, []), { steps: [] });
  });
});

describe('the identity actions', () => {
  it('every write action has a plan, and a reverse or the reason it cannot be undone', async () => {
    const { implementations } = await import('../worker/actions/index.ts');
    const identity = new Set(['user', 'licence', 'group', 'authentication', 'directory', 'notification', 'tags', 'investigation']);
    const writes = implementations.filter((i) => identity.has(i.contract.category) && !i.contract.readOnly);
    assert.ok(writes.length >= 60, `${writes.length} write actions`);
    assert.deepEqual(writes.filter((i) => !i.plan).map((i) => i.contract.id), [], 'write actions without a plan');
    assert.deepEqual(writes.filter((i) => !i.contract.reverse && !i.contract.irreversible).map((i) => i.contract.id), [], 'write actions neither reversible nor said to be irreversible');
  });
});
