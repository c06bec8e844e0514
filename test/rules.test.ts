// The Microsoft 365 rules checker (runbook/rules.ts): each rule fires on a runbook that breaks it
// and stays silent on the correct order; fixes apply as graph edits; validation carries warnings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunbookDefinition, type RunbookDefinitionInput } from '../runbook/definition.ts';
import { applyFix, checkRules, RULES, type RuleId } from '../runbook/rules.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { catalog } from '../catalog/index.ts';

type Step = [string, Record<string, unknown>] | { condition: string };
const U = '{{ inputs.user }}';

/** A linear runbook: each step runs after the previous one (a condition continues on "true"). */
function chain(...steps: Step[]): RunbookDefinition {
  const nodes: RunbookDefinitionInput['nodes'] = steps.map((s, i) =>
    Array.isArray(s) ? { id: `s${i}`, kind: 'action', action: s[0], params: s[1] } : { id: `s${i}`, kind: 'condition', expression: s.condition },
  );
  const edges = nodes.slice(1).map((n, i) => ({ source: `s${i}`, sourceHandle: nodes[i]!.kind === 'condition' ? 'true' : 'out', target: n.id }));
  return RunbookDefinition.parse({ name: 'r', inputs: [{ name: 'user', type: 'user' }, { name: 'group', type: 'group' }, { name: 'device', type: 'string' }], nodes, edges });
}
const fired = (def: RunbookDefinition, rule: RuleId, actions?: Set<string>) =>
  checkRules(def, actions ? { actions } : {}).filter((w) => w.rule === rule);
const withExtra = (...ids: string[]) => new Set([...catalog.keys(), ...ids]);

describe('rules checker', () => {
  it('every rule has a reason, a Microsoft link and a severity', () => {
    for (const [id, r] of Object.entries(RULES)) {
      assert.match(r.link, /^https:\/\/learn\.microsoft\.com\//, id);
      assert.ok(r.reason.endsWith('.'), id);
      assert.ok(['high', 'medium', 'low'].includes(r.severity), id);
    }
  });

  it('licence-before-shared-mailbox: fires, offers a fix that silences it, silent when converted first', () => {
    const bad = chain(['licence.removeAll', { user: U }]);
    const [w] = fired(bad, 'licence-before-shared-mailbox');
    assert.equal(w?.nodeId, 's0');
    assert.deepEqual(w?.fix && { kind: w.fix.kind, action: w.fix.action, params: w.fix.params }, { kind: 'insertBefore', action: 'mailbox.convertToShared', params: { mailbox: U } });
    const fixed = applyFix(bad, w!.fix!);
    assert.equal(validateRunbook(fixed).ok, true, JSON.stringify(validateRunbook(fixed).problems));
    assert.deepEqual(fired(fixed, 'licence-before-shared-mailbox'), []);
    assert.deepEqual(fired(chain(['mailbox.convertToShared', { mailbox: U }], ['licence.unassign', { user: U, licences: ['ENTERPRISEPACK'] }]), 'licence-before-shared-mailbox'), []);
    // converted after the removal is still wrong
    assert.equal(fired(chain(['licence.removeAll', { user: U }], ['mailbox.convertToShared', { mailbox: U }]), 'licence-before-shared-mailbox').length, 1);
    // a swap (a mover): a new licence assigned to the same user first keeps the mailbox licensed
    assert.deepEqual(fired(chain(['licence.assign', { user: U, licences: ['SPE_E3'] }], ['licence.unassign', { user: U, licences: ['SPE_F1'] }]), 'licence-before-shared-mailbox'), []);
    // ... but not a licence assigned to someone else, nor one assigned after the removal, nor removing them all
    assert.equal(fired(chain(['licence.assign', { user: '{{ inputs.other }}', licences: ['SPE_E3'] }], ['licence.unassign', { user: U, licences: ['SPE_F1'] }]), 'licence-before-shared-mailbox').length, 1);
    assert.equal(fired(chain(['licence.unassign', { user: U, licences: ['SPE_F1'] }], ['licence.assign', { user: U, licences: ['SPE_E3'] }]), 'licence-before-shared-mailbox').length, 1);
    assert.equal(fired(chain(['licence.assign', { user: U, licences: ['SPE_E3'] }], ['licence.removeAll', { user: U }]), 'licence-before-shared-mailbox').length, 1);
  });

  it('shared-mailbox-needs-licence: fires without a size/archive/hold check or with an archive; silent when a condition reads mailbox.get', () => {
    assert.equal(fired(chain(['mailbox.convertToShared', { mailbox: U }], ['licence.removeAll', { user: U }]), 'shared-mailbox-needs-licence').length, 1);
    const archived = chain(['mailbox.enableArchive', { mailbox: U }], ['mailbox.convertToShared', { mailbox: U }], ['mailbox.get', { mailbox: U }], { condition: 'steps.s2.output.archiveStatus = "None"' }, ['licence.removeAll', { user: U }]);
    assert.match(fired(archived, 'shared-mailbox-needs-licence')[0]?.message ?? '', /archive or litigation hold/);
    const good = chain(['mailbox.convertToShared', { mailbox: U }], ['mailbox.get', { mailbox: U }], { condition: 'steps.s1.output.litigationHoldEnabled = false' }, ['licence.removeAll', { user: U }]);
    assert.deepEqual(fired(good, 'shared-mailbox-needs-licence'), []);
  });

  it('delete-before-handover: fires on delete without mailbox (and, once onedrive.* exists, OneDrive) handover; silent after', () => {
    // The catalog has onedrive.* actions now: a bare delete misses both handovers.
    assert.equal(fired(chain(['user.delete', { user: U }]), 'delete-before-handover').length, 2);
    assert.equal(fired(chain(['mailbox.grantManagerFullAccess', { mailbox: U }], ['user.delete', { user: U }]), 'delete-before-handover').length, 1);
    assert.deepEqual(fired(chain(['mailbox.grantManagerFullAccess', { mailbox: U }], ['onedrive.addOwner', { user: U }], ['user.delete', { user: U }]), 'delete-before-handover'), []);
    const od = withExtra('onedrive.addOwner');
    assert.equal(fired(chain(['mailbox.convertToShared', { mailbox: U }], ['user.delete', { user: U }]), 'delete-before-handover', od).length, 1);
    assert.deepEqual(fired(chain(['mailbox.convertToShared', { mailbox: U }], ['onedrive.addOwner', { user: U }], ['user.delete', { user: U }]), 'delete-before-handover', od), []);
  });

  it('licence-without-usage-location: fires for a new user without usage location; silent when set on the path', () => {
    const created = ['user.create', { userPrincipalName: U, displayName: 'A', mailNickname: 'a' }] as Step;
    assert.equal(fired(chain(created, ['licence.assign', { user: U, licences: ['ENTERPRISEPACK'] }]), 'licence-without-usage-location').length, 1);
    assert.equal(fired(chain(['user.create', { userPrincipalName: U, displayName: 'A', mailNickname: 'a', licences: ['ENTERPRISEPACK'] }]), 'licence-without-usage-location').length, 1);
    assert.deepEqual(fired(chain(created, ['user.update', { user: U, usageLocation: 'GB' }], ['licence.assign', { user: U, licences: ['ENTERPRISEPACK'] }]), 'licence-without-usage-location'), []);
    assert.deepEqual(fired(chain(['user.create', { userPrincipalName: U, displayName: 'A', mailNickname: 'a', usageLocation: 'GB', licences: ['ENTERPRISEPACK'] }]), 'licence-without-usage-location'), []);
  });

  it('revoke-before-block: fires when sign-in is blocked after the revoke; the fix revokes again after', () => {
    const bad = chain(['user.revokeSessions', { user: U }], ['user.disableSignIn', { user: U }], ['user.resetPassword', { user: U }]);
    const [w] = fired(bad, 'revoke-before-block');
    assert.equal(w?.nodeId, 's0');
    assert.equal(w?.fix?.kind, 'insertAfter');
    assert.equal(w?.fix?.nodeId, 's2');
    assert.deepEqual(fired(applyFix(bad, w!.fix!), 'revoke-before-block'), []);
    assert.deepEqual(fired(chain(['user.disableSignIn', { user: U }], ['user.resetPassword', { user: U }], ['user.revokeSessions', { user: U }]), 'revoke-before-block'), []);
  });

  it('step-after-delete: fires on a step targeting the deleted user; silent before the delete or for another user', () => {
    const w = fired(chain(['user.delete', { user: U }], ['mailbox.setAutoReply', { mailbox: U, internalMessage: 'x' }]), 'step-after-delete');
    assert.equal(w[0]?.nodeId, 's1');
    assert.deepEqual(fired(chain(['mailbox.setAutoReply', { mailbox: U, internalMessage: 'x' }], ['mailbox.convertToShared', { mailbox: U }], ['user.delete', { user: U }]), 'step-after-delete'), []);
    assert.deepEqual(fired(chain(['user.delete', { user: U }], ['user.disableSignIn', { user: 'other@contoso.com' }]), 'step-after-delete'), []);
  });

  it('last-owner-removed: fires for group and teams owner removal with no owner added first', () => {
    const G = '{{ inputs.group }}';
    assert.equal(fired(chain(['group.removeOwner', { group: G, user: U }]), 'last-owner-removed').length, 1);
    assert.equal(fired(chain(['teams.removeOwner', { team: G, user: U }]), 'last-owner-removed', withExtra('teams.removeOwner')).length, 1);
    assert.deepEqual(fired(chain(['group.addOwner', { group: G, user: 'mgr@contoso.com' }], ['group.removeOwner', { group: G, user: U }]), 'last-owner-removed'), []);
  });

  it('synced-object-changed-in-cloud: fires on an unchecked cloud change of an existing user; silent when routed on onPremisesSyncEnabled', () => {
    assert.equal(fired(chain(['user.update', { user: U, department: 'Sales' }]), 'synced-object-changed-in-cloud').length, 1);
    assert.deepEqual(fired(chain(['user.get', { user: U }], { condition: 'steps.s0.output.onPremisesSyncEnabled != true' }, ['user.update', { user: U, department: 'Sales' }]), 'synced-object-changed-in-cloud'), []);
    assert.deepEqual(fired(chain(['user.create', { userPrincipalName: U, displayName: 'A', mailNickname: 'a' }], ['user.update', { user: U, department: 'Sales' }]), 'synced-object-changed-in-cloud'), []);
  });

  it('wipe-after-licence-removal: fires on device.wipe/retire after licence removal; silent when wiped first', () => {
    const dev = withExtra('device.wipe', 'device.retire');
    assert.equal(fired(chain(['mailbox.convertToShared', { mailbox: U }], ['licence.removeAll', { user: U }], ['device.wipe', { user: U }]), 'wipe-after-licence-removal', dev).length, 1);
    assert.equal(fired(chain(['licence.removeAll', { user: U }], ['device.retire', { device: '{{ inputs.device }}' }]), 'wipe-after-licence-removal', dev).length, 1);
    assert.deepEqual(fired(chain(['device.wipe', { user: U }], ['mailbox.convertToShared', { mailbox: U }], ['licence.removeAll', { user: U }]), 'wipe-after-licence-removal', dev), []);
  });

  it('"before" means upstream on a path: not a parallel branch; the nearest of two named; a cycle still checked', () => {
    type Node = RunbookDefinitionInput['nodes'][number];
    const graph = (nodes: Node[], edges: [string, string][]) =>
      RunbookDefinition.parse({ name: 'r', inputs: [{ name: 'user', type: 'user' }], nodes, edges: edges.map(([source, target]) => ({ source, target })) });
    const step = (id: string, action: string, params: Record<string, unknown>): Node => ({ id, kind: 'action', action, params });
    const create = step('create', 'user.create', { userPrincipalName: U, displayName: 'New' });
    const locate = step('locate', 'user.update', { user: U, usageLocation: 'GB' });
    const assign = step('assign', 'licence.assign', { user: U, licences: ['SPE_E3'] });
    // The usage location set on a branch beside the licence does not run before it.
    const beside = graph([create, locate, assign], [['create', 'locate'], ['create', 'assign']]);
    assert.deepEqual(fired(beside, 'licence-without-usage-location').map((w) => w.nodeId), ['assign']);
    const between = graph([create, locate, assign], [['create', 'locate'], ['locate', 'assign']]);
    assert.deepEqual(fired(between, 'licence-without-usage-location'), []);
    // Two deletes upstream: the warning names the nearer one.
    const twice = graph(
      [step('first', 'user.delete', { user: U }), step('again', 'user.delete', { user: U }), step('reply', 'mailbox.setAutoReply', { mailbox: U, internalMessage: 'x' })],
      [['first', 'again'], ['again', 'reply']],
    );
    assert.deepEqual(fired(twice, 'step-after-delete').map((w) => /"(\w+)" deletes the user/.exec(w.message)?.[1]), ['again']);
    // A cycle (the validator refuses it) does not stop the rules: the licence still comes after the new user.
    const loop = graph([create, assign], [['create', 'assign'], ['assign', 'create']]);
    assert.deepEqual(fired(loop, 'licence-without-usage-location').map((w) => w.nodeId), ['assign']);
  });

  it('checks forEach bodies, and validation returns warnings apart from problems', () => {
    const def = {
      name: 'r',
      inputs: [{ name: 'users', type: 'list' }],
      nodes: [{ id: 'loop', kind: 'forEach', items: 'inputs.users', body: { nodes: [{ id: 'strip', kind: 'action', action: 'licence.removeAll', params: { user: '{{ item }}' } }] } }],
    };
    const r = validateRunbook(def);
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.deepEqual(r.warnings.map((w) => `${w.rule}@${w.nodeId}`), ['licence-before-shared-mailbox@loop.strip']);
    const fixed = applyFix(r.definition!, r.warnings[0]!.fix!);
    const again = validateRunbook(fixed);
    assert.equal(again.ok, true, JSON.stringify(again.problems));
    assert.deepEqual(again.warnings.filter((w) => w.rule === 'licence-before-shared-mailbox'), []);
  });
});
