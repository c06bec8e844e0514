// The Conditional Access policy actions against the sandbox tenant, as runbook steps on real
// Temporal, read back through Graph /identity/conditionalAccess/policies: names resolved to the ids
// Entra stores, updates that change only the parts given, state changes, deletion, and the refusal
// of a policy that would lock everyone out.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
let breakGlass: { id: string; userPrincipalName: string };
const BASE = '/identity/conditionalAccess/policies';

before(async () => {
  env = await startActionsEnv();
  breakGlass = await env.newUser('breakglass');
});
after(async () => env?.close());

const name = (tag: string) => `${tag} ${randomUUID().slice(0, 8)}`;
const byName = async (displayName: string) => (await env.graph.api(BASE).filter(`displayName eq '${displayName}'`).get()).value;
const read = (id: string) => env.graph.api(`${BASE}/${id}`).get();

describe('Conditional Access policies', { concurrency: true }, () => {
  it('policy.createConditionalAccess resolves users, groups, roles, apps and locations to ids, and starts report-only', async () => {
    const displayName = name('MFA outside the office');
    const group = await env.graph.api('/groups').post({ displayName: name('CA pilot'), mailEnabled: false, mailNickname: `ca${randomUUID().slice(0, 6)}`, securityEnabled: true });
    const r = await env.run('policy.createConditionalAccess', {
      displayName,
      includeGroups: [group.displayName],
      includeRoles: ['Global Administrator'],
      excludeUsers: [breakGlass.userPrincipalName],
      includeApplications: ['Office365', 'Microsoft Teams'],
      includeLocations: ['All'],
      excludeLocations: ['Corporate offices'],
      grant: ['mfa', 'compliantDevice'],
      grantOperator: 'AND',
      signInFrequencyHours: 48,
    });
    ok(r);
    assert.deepEqual([r.output.created, r.output.state], [true, 'enabledForReportingButNotEnforced']);
    const p = await read(r.output.id);
    assert.deepEqual(p.conditions.users.includeGroups, [group.id]);
    assert.deepEqual(p.conditions.users.includeRoles, ['62e90394-69f5-4237-9190-012177145e10']);
    assert.deepEqual(p.conditions.users.excludeUsers, [breakGlass.id]);
    assert.deepEqual(p.conditions.applications.includeApplications, ['Office365', '1fec8e78-bce4-4aaf-ab1b-5451cc387264']);
    assert.deepEqual(p.conditions.locations, { includeLocations: ['All'], excludeLocations: ['0a8a6b7e-4c3f-4f7a-9a1e-3c2b1d0e9f01'] });
    assert.deepEqual([p.grantControls.operator, p.grantControls.builtInControls], ['AND', ['mfa', 'compliantDevice']]);
    assert.deepEqual([p.sessionControls.signInFrequency.value, p.sessionControls.signInFrequency.type], [2, 'days']);
    const again = await env.run('policy.createConditionalAccess', { displayName, includeUsers: ['All'], excludeUsers: [breakGlass.id] });
    assert.equal(again.error?.code, 'ObjectConflict');
    assert.equal((await byName(displayName)).length, 1);
  });

  it('a name that does not resolve fails the step, and nothing is created', async () => {
    const displayName = name('Typo');
    const r = await env.run('policy.createConditionalAccess', { displayName, includeUsers: ['All'], excludeLocations: ['Head offfice'] });
    assert.equal(r.status, 'failed');
    assert.match(r.error!.message, /Head offfice/);
    assert.deepEqual(await byName(displayName), []);
  });

  it('a policy that would block everyone with no one excluded is refused', async () => {
    const displayName = name('Block all');
    const r = await env.run('policy.createConditionalAccess', { displayName, state: 'enabled', includeUsers: ['All'], grant: ['block'] });
    assert.equal(r.error?.code, 'PolicyWouldLockOut');
    assert.deepEqual(await byName(displayName), []);
    const safe = await env.run('policy.createConditionalAccess', { displayName, state: 'enabled', includeUsers: ['All'], excludeUsers: [breakGlass.id], grant: ['block'], clientAppTypes: ['exchangeActiveSync', 'other'] });
    ok(safe);
    assert.equal((await read(safe.output.id)).state, 'enabled');
  });

  it('policy.updateConditionalAccess changes only the parts given', async () => {
    const made = await env.run('policy.createConditionalAccess', { displayName: name('Update me'), includeUsers: ['All'], excludeUsers: [breakGlass.id] });
    ok(made);
    const r = await env.run('policy.updateConditionalAccess', { policy: made.output.displayName, signInRiskLevels: ['high', 'medium'], includePlatforms: ['android', 'iOS'] });
    ok(r);
    assert.deepEqual(r.output.changed.sort(), ['platforms', 'signInRiskLevels']);
    const p = await read(made.output.id);
    assert.deepEqual([p.conditions.signInRiskLevels, p.conditions.platforms.includePlatforms, p.conditions.users.excludeUsers, p.grantControls.builtInControls], [['high', 'medium'], ['android', 'iOS'], [breakGlass.id], ['mfa']]);
    const again = await env.run('policy.updateConditionalAccess', { policy: made.output.id, signInRiskLevels: ['medium', 'high'] });
    assert.deepEqual(again.output.changed, []);
  });

  it('policy.setConditionalAccessState turns a policy on and off', async () => {
    const made = await env.run('policy.createConditionalAccess', { displayName: name('Toggle'), includeUsers: ['All'], excludeUsers: [breakGlass.id] });
    const on = await env.run('policy.setConditionalAccessState', { policy: made.output.id, state: 'enabled' });
    ok(on);
    assert.deepEqual([on.output.previousState, on.output.changed], ['enabledForReportingButNotEnforced', true]);
    assert.equal((await read(made.output.id)).state, 'enabled');
    ok(await env.run('policy.setConditionalAccessState', { policy: made.output.displayName, state: 'disabled' }));
    assert.equal((await read(made.output.id)).state, 'disabled');
    assert.equal((await env.run('policy.setConditionalAccessState', { policy: made.output.id, state: 'disabled' })).output.changed, false);
  });

  it('policy.deleteConditionalAccess deletes the policy; an unknown one fails', async () => {
    const made = await env.run('policy.createConditionalAccess', { displayName: name('Delete me'), includeUsers: ['All'], excludeUsers: [breakGlass.id] });
    const r = await env.run('policy.deleteConditionalAccess', { policy: made.output.displayName });
    ok(r);
    assert.equal(r.output.deleted, true);
    await assert.rejects(read(made.output.id), (e: { statusCode?: number }) => e.statusCode === 404);
    const missing = await env.run('policy.deleteConditionalAccess', { policy: 'No such policy' });
    assert.equal(missing.error?.code, 'ResourceNotFound');
  });

  it('policy.listConditionalAccess lists the policies with what they require', async () => {
    const r = await env.run('policy.listConditionalAccess', { state: 'enabled' });
    ok(r);
    const legacy = r.output.policies.find((p: { displayName: string }) => p.displayName === 'Block legacy authentication');
    assert.deepEqual(legacy.grant, ['block']);
  });
});

// A scripted fault on POST .../policies would hit the other tests' creations: this one runs alone.
describe('policy.createConditionalAccess after a lost answer', () => {
  it('finds its own policy instead of failing or creating a second one', async () => {
    const displayName = name('Lost');
    env.sandbox.admin.failNext({ status: 504, match: '^POST /v1\\.0/identity/conditionalAccess/policies$', afterEffect: true });
    const r = await env.run('policy.createConditionalAccess', { displayName, includeUsers: ['All'], excludeUsers: [breakGlass.id] });
    ok(r);
    assert.deepEqual([r.attempts, r.output.created], [2, false]);
    assert.equal((await byName(displayName)).length, 1);
  });
});
