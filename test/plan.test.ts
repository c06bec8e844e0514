// Plans (docs/plan.md) on the real worker against the sandbox: the plan workflow walks a runbook
// and asks each step's plan what it would change; nothing changes in the tenant. Then each write
// action's plan against what it recorded when it ran (the same before -> after), and planning
// again afterwards says "no change"; the before-state survives a retry after a lost answer; an
// approval carries the plan of what it gates.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { changesIn, isKnownAfterRun, type Change } from '../catalog/contract.ts';
import { RunbookDefinition, type RunbookDefinitionInput } from '../runbook/definition.ts';
import { PLAN_WORKFLOW, type RunPlan, type StepPlan } from '../runbook/plan.ts';
import type { PlanJobResult } from '../workflows/plan.ts';
import { sandboxExchange } from '../sandbox/testing.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
const SEC = `Plan security ${randomUUID().slice(0, 6)}`;
let someone: { id: string; userPrincipalName: string };
let boss: { id: string; userPrincipalName: string };

before(async () => {
  env = await startActionsEnv();
  await env.graph.api('/groups').post({ displayName: SEC, mailEnabled: false, mailNickname: SEC.replace(/\W/g, ''), securityEnabled: true });
  [someone, boss] = (await env.graph.api('/users').filter("userType eq 'Member'").select('id,userPrincipalName').top(2).get()).value;
});
after(async () => env?.close());

const run = (extra: Record<string, unknown> = {}) => ({ startedBy: 'operator@tenantflow.test', tenant: 'sandbox', runbookId: 'test', version: 1, ...extra });

async function plan(def: RunbookDefinitionInput, inputs: Record<string, unknown> = {}, items?: { offset: number; limit: number }): Promise<RunPlan> {
  const definition = RunbookDefinition.parse(def);
  const res = (await env.client.workflow.execute(PLAN_WORKFLOW, {
    taskQueue: env.taskQueue,
    workflowId: `plan-${randomUUID()}`,
    args: [{ request: { definition, inputs, run: run(), ...(items ? { items } : {}) } }],
  })) as PlanJobResult;
  assert.ok('plan' in res);
  return res.plan;
}

const one = (action: string, params: Record<string, unknown>): RunbookDefinitionInput => ({ name: `plan ${action}`, nodes: [{ id: 'step', kind: 'action', action, params }] });
const stepOf = (p: RunPlan, id: string): StepPlan => {
  const s = p.steps.find((x) => x.nodeId === id);
  assert.ok(s, `no step ${id} in ${JSON.stringify(p.steps.map((x) => x.nodeId))}`);
  return s;
};
const changesOf = (s: StepPlan): Change[] => {
  assert.equal(s.plan?.outcome, 'changes', JSON.stringify(s.plan));
  return s.plan.outcome === 'changes' ? s.plan.changes : [];
};
const rows = (cs: Change[]) => cs.map((c) => `${c.object} | ${c.property} | ${JSON.stringify(isKnownAfterRun(c.before) ? 'later' : c.before)} -> ${JSON.stringify(isKnownAfterRun(c.after) ? 'later' : c.after)}`);

describe('the plan of a runbook', () => {
  it('plans the onboarding example: the approval gates changes, values from earlier steps are known after the run, nothing changes', async () => {
    const onboarding = JSON.parse(readFileSync(new URL('../server/examples/onboarding.json', import.meta.url), 'utf8'));
    const upn = env.upn('planned.hire');
    const writesBefore = env.sandbox.admin.mutationCount();
    const p = await plan(onboarding, { userPrincipalName: upn, givenName: 'Plan', surname: 'Ned', jobTitle: 'Analyst', department: 'Finance', usageLocation: 'US', licence: 'SPE_E3', group: 'All Company' });
    assert.equal(env.sandbox.admin.mutationCount(), writesBefore, 'planning wrote nothing');
    assert.equal((await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).get()).value.length, 0);

    const approve = stepOf(p, 'approve_request');
    assert.equal(approve.runs, 'yes');
    assert.match(approve.detail!, /waits for approval by role approver: "Create an account for Plan Ned \(Analyst, Finance\)\?"/);
    const create = stepOf(p, 'create_user');
    assert.equal(create.runs, 'if');
    assert.deepEqual(create.when, ['approve_request is approved']);
    const created = rows(changesOf(create));
    assert.ok(created.includes(`user ${upn} | exists | false -> true`), created.join('\n'));
    assert.ok(created.includes(`user ${upn} | jobTitle | null -> "Analyst"`), created.join('\n'));
    assert.ok(created.includes(`user ${upn} | usageLocation | null -> "US"`), created.join('\n'));
    const licence = stepOf(p, 'assign_licence');
    assert.deepEqual(licence.params, { user: { $knownAfterRun: 'steps.create_user.output.id' }, licences: ['SPE_E3'] });
    const licenceRows = changesOf(licence);
    assert.equal(licenceRows.length, 1);
    assert.equal(licenceRows[0]!.property, 'licence SPE_E3');
    assert.equal(licenceRows[0]!.after, true);
    assert.ok(isKnownAfterRun(licenceRows[0]!.before));
    assert.match(licenceRows[0]!.note!, /\d+ of \d+ free/);
    const member = changesOf(stepOf(p, 'add_to_group'));
    assert.equal(member[0]!.object, 'group All Company');
    assert.match(member[0]!.property, /^member \(steps\.create_user\.output\.id, known after the run\)$/);
    assert.deepEqual(stepOf(p, 'rejected').when, ['approve_request is rejected']);
    assert.equal(p.summary.changes, 3);
    assert.equal(p.summary.wouldFail, 0);
  });

  it('says what would fail and why: no licence seat free, a user that does not exist, a property owned on-premises', async () => {
    const synced = await env.newUser('synced');
    env.sandbox.admin.findUser(synced.id)!.onPremisesSyncEnabled = true;
    const E5 = (await env.graph.api('/subscribedSkus').get()).value.find((s: { skuPartNumber: string }) => s.skuPartNumber === 'SPE_E5');
    const sku = env.sandbox.admin.store.skus.get(E5.skuId)!;
    const enabled = sku.prepaidEnabled;
    sku.prepaidEnabled = env.sandbox.admin.store.consumedUnits(E5.skuId);
    try {
      const p = await plan({
        name: 'failing',
        nodes: [
          { id: 'licence', kind: 'action', action: 'licence.assign', params: { user: synced.userPrincipalName, licences: ['SPE_E5'] }, onError: 'continue' },
          { id: 'missing', kind: 'action', action: 'user.update', params: { user: `nobody.${randomUUID().slice(0, 6)}@${env.domain}`, department: 'X' }, onError: 'continue' },
          { id: 'onprem', kind: 'action', action: 'user.setAttributes', params: { user: synced.id, attributes: { extensionAttribute1: 'x' } } },
          { id: 'after', kind: 'action', action: 'user.disableSignIn', params: { user: synced.id } },
        ],
        edges: [
          { source: 'licence', target: 'missing' },
          { source: 'missing', target: 'onprem' },
          { source: 'onprem', target: 'after' },
        ],
      });
      const licence = stepOf(p, 'licence').plan!;
      assert.equal(licence.outcome, 'would-fail');
      assert.equal(licence.outcome === 'would-fail' && licence.code, 'LicenceUnavailable');
      assert.match(licence.outcome === 'would-fail' ? licence.reason : '', /no SPE_E5 licence is free/);
      const missing = stepOf(p, 'missing').plan!;
      assert.match(missing.outcome === 'would-fail' ? missing.reason : JSON.stringify(missing), /user nobody\..* does not exist/);
      const onprem = stepOf(p, 'onprem').plan!;
      assert.equal(onprem.outcome === 'would-fail' && onprem.code, 'SyncedObject');
      assert.match(onprem.outcome === 'would-fail' ? onprem.reason : '', /owned by Active Directory/);
      // onError "fail": the run would end there, so the step after it does not run.
      const next = stepOf(p, 'after');
      assert.equal(next.runs, 'no');
      assert.match(next.why!, /step onprem would fail/);
      assert.equal(p.summary.wouldFail, 3);
    } finally {
      sku.prepaidEnabled = enabled;
    }
  });

  it('decides conditions on what reads return, and plans both branches of one it cannot decide', async () => {
    const u = await env.newUser('branch', { department: 'Sales' });
    const p = await plan(
      {
        name: 'branches',
        inputs: [{ name: 'user', type: 'user', required: true }],
        nodes: [
          { id: 'read', kind: 'action', action: 'user.get', params: { user: '{{ inputs.user }}' } },
          { id: 'sales', kind: 'condition', expression: "steps.read.output.user.department = 'Sales'" },
          { id: 'move', kind: 'action', action: 'user.update', params: { user: '{{ inputs.user }}', department: 'Marketing' } },
          { id: 'other', kind: 'action', action: 'user.update', params: { user: '{{ inputs.user }}', department: 'Other' } },
          { id: 'block', kind: 'action', action: 'user.disableSignIn', params: { user: '{{ steps.move.output.userId }}' } },
          { id: 'changed', kind: 'condition', expression: '$count(steps.move.output.changed) > 0' },
          { id: 'tag', kind: 'action', action: 'tags.add', params: { user: '{{ inputs.user }}', tags: ['moved'] } },
        ],
        edges: [
          { source: 'read', target: 'sales' },
          { source: 'sales', sourceHandle: 'true', target: 'move' },
          { source: 'sales', sourceHandle: 'false', target: 'other' },
          { source: 'move', target: 'block' },
          { source: 'move', target: 'changed' },
          { source: 'changed', sourceHandle: 'true', target: 'tag' },
        ],
      },
      { user: u.userPrincipalName },
    );
    assert.equal(stepOf(p, 'read').plan?.outcome, 'read');
    assert.equal(stepOf(p, 'sales').decided, 'true');
    assert.deepEqual(rows(changesOf(stepOf(p, 'move'))), [`user ${u.userPrincipalName} | department | "Sales" -> "Marketing"`]);
    assert.equal(stepOf(p, 'other').runs, 'no');
    const block = stepOf(p, 'block');
    assert.equal(block.runs, 'yes');
    assert.equal(block.plan?.outcome, 'unknown');
    assert.deepEqual(block.plan?.outcome === 'unknown' && block.plan.dependsOn, ['steps.move.output.userId']);
    assert.match(stepOf(p, 'changed').detail!, /decided during the run/);
    const tag = stepOf(p, 'tag');
    assert.equal(tag.runs, 'if');
    assert.deepEqual(tag.when, ['changed: $count(steps.move.output.changed) > 0']);
    assert.deepEqual(rows(changesOf(tag)), [`user ${u.userPrincipalName} | tag moved | false -> true`]);
  });

  it('waits out a throttled read (Retry-After) through the tenant\'s throttle gate, and still plans', async () => {
    const u = await env.newUser('throttled', { department: 'Before' });
    env.sandbox.admin.failNext({ status: 429, count: 2, retryAfterSeconds: 1, match: `^GET /v1.0/users/${u.id}` });
    const p = await plan(one('user.update', { user: u.id, department: 'After' }));
    assert.deepEqual(rows(changesOf(stepOf(p, 'step'))), [`user ${u.userPrincipalName} | department | "Before" -> "After"`]);
    assert.equal(env.sandbox.admin.requestLog({ path: `/v1.0/users/${u.id}` }).filter((r) => r.status === 429).length, 2);
  });

  it('plans each item of a loop, a page at a time', async () => {
    const users = [await env.newUser('loop0'), await env.newUser('loop1'), await env.newUser('loop2'), await env.newUser('loop3'), await env.newUser('loop4')];
    const def: RunbookDefinitionInput = {
      name: 'loop',
      inputs: [{ name: 'users', type: 'list', required: true }],
      nodes: [{ id: 'each', kind: 'forEach', items: 'inputs.users', body: { nodes: [{ id: 'set', kind: 'action', action: 'user.update', params: { user: '{{ item }}', department: 'Looped' } }] } }],
    };
    const p = await plan(def, { users: users.map((u) => u.userPrincipalName) }, { offset: 2, limit: 2 });
    const loop = stepOf(p, 'each').loop!;
    assert.equal(loop.total, 5);
    assert.deepEqual(loop.items.map((i) => i.index), [2, 3]);
    assert.equal(loop.more, 1);
    assert.deepEqual(rows(changesOf(loop.items[0]!.steps[0]!)), [`user ${users[2]!.userPrincipalName} | department | null -> "Looped"`]);
    assert.equal(p.summary.changes, 2);
  });
});

/** Runs one action as a step and returns what it recorded. */
async function record(action: string, params: Record<string, unknown>): Promise<Change[]> {
  const r = await env.run(action, params);
  ok(r);
  const recorded = changesIn(r.output);
  assert.ok(recorded, `${action} recorded no changes: ${JSON.stringify(r.output)}`);
  return recorded;
}

describe('plans against what the step then did', () => {
  const cases: [string, () => Promise<[string, Record<string, unknown>]>][] = [
    ['user.update', async () => ['user.update', { user: (await env.newUser('upd', { jobTitle: 'Old' })).id, department: 'Planned', clear: ['jobTitle'] }]],
    ['user.setManager', async () => ['user.setManager', { user: (await env.newUser('mgr')).id, manager: boss.userPrincipalName }]],
    ['user.disableSignIn', async () => ['user.disableSignIn', { user: (await env.newUser('block')).id }]],
    ['user.setAttributes', async () => ['user.setAttributes', { user: (await env.newUser('attr')).id, attributes: { extensionAttribute3: 'Pilot' } }]],
    ['licence.assign', async () => ['licence.assign', { user: (await env.newUser('lic')).id, licences: ['FLOW_FREE'] }]],
    ['group.addMember', async () => ['group.addMember', { group: SEC, user: (await env.newUser('member')).id }]],
    ['tags.add', async () => ['tags.add', { user: (await env.newUser('tag')).id, tags: ['pilot', 'wave-1'] }]],
    ['directory.assignRole', async () => ['directory.assignRole', { user: (await env.newUser('role')).id, role: 'Helpdesk Administrator' }]],
    ['auth.setMfaState', async () => ['auth.setMfaState', { user: (await env.newUser('mfa')).id, state: 'enforced' }]],
    ['user.setAuthenticationContact', async () => ['user.setAuthenticationContact', { user: (await env.newUser('contact')).id, mobilePhone: '+1 2065550100' }]],
    ['domain.add', async () => ['domain.add', { domain: `plan-${randomUUID().slice(0, 8)}.example.com` }]],
    ['policy.setConditionalAccessState', async () => ['policy.setConditionalAccessState', { policy: await newPolicy('state'), state: 'enabledForReportingButNotEnforced' }]],
    ['mailbox.hideFromAddressList', async () => ['mailbox.hideFromAddressList', { mailbox: await sharedMailbox('hide'), hidden: true }]],
    ['mailbox.setClutter', async () => ['mailbox.setClutter', { mailbox: await sharedMailbox('clutter'), enabled: true }]],
    ['mailbox.setQuota', async () => ['mailbox.setQuota', { mailbox: await sharedMailbox('quota'), issueWarningQuota: '40GB', prohibitSendQuota: '45GB' }]],
    ['mailbox.setLitigationHold', async () => ['mailbox.setLitigationHold', { mailbox: await sharedMailbox('hold'), durationDays: 2555 }]],
    ['policy.updateConditionalAccess', async () => ['policy.updateConditionalAccess', { policy: await newPolicy('update'), excludeGroups: [SEC], grant: ['mfa', 'compliantDevice'], grantOperator: 'AND', signInFrequencyHours: 48 }]],
  ];
  /** A new shared mailbox (Exchange's New-Mailbox); its user principal name. */
  async function sharedMailbox(tag: string): Promise<string> {
    const alias = `plan${tag}${randomUUID().slice(0, 6)}`;
    return String((await sandboxExchange(env.sandbox)('New-Mailbox', { Shared: true, Name: alias, Alias: alias })).value[0]!['UserPrincipalName']);
  }
  /** A disabled Conditional Access policy, made by the action itself; its id. */
  async function newPolicy(tag: string): Promise<string> {
    const displayName = `Plan ${tag} ${randomUUID().slice(0, 6)}`;
    const created = await record('policy.createConditionalAccess', { displayName, includeUsers: ['None'], includeApplications: ['All'], grant: ['mfa'], state: 'disabled' });
    assert.deepEqual(rows(created), [`Conditional Access policy "${displayName}" | exists | false -> true`, `Conditional Access policy "${displayName}" | state | null -> "disabled"`]);
    return ((await env.graph.api('/identity/conditionalAccess/policies').filter(`displayName eq '${displayName}'`).get()).value[0] as { id: string }).id;
  }
  for (const [name, make] of cases) {
    it(`${name}: the recorded before -> after is what the plan said, and a second plan says no change`, async () => {
      const [action, params] = await make();
      const planned = changesOf(stepOf(await plan(one(action, params)), 'step'));
      const recorded = await record(action, params);
      assert.deepEqual(rows(recorded), rows(planned));
      assert.equal(stepOf(await plan(one(action, params)), 'step').plan?.outcome, 'no-change');
    });
  }

  it('user.create records the new object with the id it got', async () => {
    const upn = env.upn('recorded');
    const recorded = await record('user.create', { userPrincipalName: upn, displayName: 'Recorded', usageLocation: 'US' });
    const id = (await env.graph.api(`/users/${upn}`).select('id').get()).id as string;
    assert.deepEqual(recorded[0], { object: `user ${upn}`, objectId: id, property: 'exists', before: false, after: true });
    assert.ok(!recorded.some((c) => isKnownAfterRun(c.before) || isKnownAfterRun(c.after) || isKnownAfterRun(c.objectId)));
  });

  it('keeps the before-state of the first attempt when a retry follows a write whose answer was lost', async () => {
    const u = await env.newUser('lost', { department: 'Before' });
    env.sandbox.admin.failNext({ status: 504, afterEffect: true, match: `^PATCH /v1.0/users/${u.id}$` });
    const recorded = await record('user.update', { user: u.id, department: 'After' });
    assert.deepEqual(rows(recorded), [`user ${u.userPrincipalName} | department | "Before" -> "After"`]);
    assert.equal((await env.graph.api(`/users/${u.id}`).select('department').get()).department, 'After');
  });
});

describe('an approval', () => {
  it('carries the plan of the steps it gates, made with the outputs of the steps before it', async () => {
    const u = await env.newUser('gated', { department: 'Before' });
    const h = await env.start(
      {
        name: 'gated',
        inputs: [{ name: 'user', type: 'user', required: true }],
        nodes: [
          { id: 'read', kind: 'action', action: 'user.get', params: { user: '{{ inputs.user }}' } },
          { id: 'ok', kind: 'approval', approvers: { users: ['boss@contoso.test'] } },
          { id: 'move', kind: 'action', action: 'user.update', params: { user: '{{ steps.read.output.user.id }}', department: 'Gated' } },
          { id: 'no', kind: 'end', status: 'succeeded' },
        ],
        edges: [
          { source: 'read', target: 'ok' },
          { source: 'ok', sourceHandle: 'approved', target: 'move' },
          { source: 'ok', sourceHandle: 'rejected', target: 'no' },
        ],
      },
      { user: u.userPrincipalName },
    );
    const state = await env.waitFor(h, (s) => s.nodes['ok']?.status === 'waiting-approval');
    const gatePlan = state.nodes['ok']!.approval!.plan!;
    assert.equal(gatePlan.gate, 'ok');
    assert.deepEqual(gatePlan.steps.map((s) => s.nodeId), ['move']);
    assert.equal(gatePlan.steps[0]!.runs, 'yes');
    assert.deepEqual(rows(changesOf(gatePlan.steps[0]!)), [`user ${u.userPrincipalName} | department | "Before" -> "Gated"`]);
    await h.cancel();
  });
});
