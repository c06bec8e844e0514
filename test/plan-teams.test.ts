// Plans, recorded changes and undo of Teams membership, ownership and archiving (docs/plan.md): the
// plan shows before -> after and writes nothing, the step records the same, a second plan says "no
// change", and the inverse steps built from the record put the team back, read back through Graph.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';
import { planOf, roundTrip } from './plan-kit.ts';

let env: ActionsEnv;
let owner: { id: string; userPrincipalName: string };

before(async () => {
  env = await startActionsEnv();
  owner = await env.newUser('teamowner');
});
after(async () => env?.close());

async function newTeam(tag: string): Promise<{ id: string; name: string }> {
  const name = `Plan ${tag} ${randomUUID().slice(0, 6)}`;
  const r = await env.run('teams.create', { displayName: name, owner: owner.userPrincipalName });
  ok(r);
  return { id: r.output.id, name };
}
/** Each member's roles, as Graph lists them. */
const roster = (teamId: string) => async () =>
  ((await env.graph.api(`/teams/${teamId}/members`).get()).value as { userId: string; roles: string[] }[]).map((m) => `${m.userId}: ${[...m.roles].sort().join(',')}`).sort();

describe('plans and undo of Teams membership and archiving (one at a time: the mutation log is the whole sandbox)', () => {
  it('teams.addMember: out -> member, undone by removing them', async () => {
    const t = await newTeam('add');
    const u = await env.newUser('tmember');
    await roundTrip(env, 'teams.addMember', { team: t.id, user: u.userPrincipalName }, [`team ${t.name} | role ${u.userPrincipalName} | null -> "member"`], roster(t.id));
  });

  it('teams.addOwner: member -> owner, undone by making them a member again', async () => {
    const t = await newTeam('owner');
    const u = await env.newUser('towner');
    ok(await env.run('teams.addMember', { team: t.id, user: u.id }));
    await roundTrip(env, 'teams.addOwner', { team: t.name, user: u.id }, [`team ${t.name} | role ${u.userPrincipalName} | "member" -> "owner"`], roster(t.id));
  });

  it('teams.removeOwner (out of the team): owner -> out, undone by adding them as owner again', async () => {
    const t = await newTeam('drop');
    const u = await env.newUser('tdrop');
    ok(await env.run('teams.addOwner', { team: t.id, user: u.id }));
    await roundTrip(env, 'teams.removeOwner', { team: t.id, user: u.id, keepAsMember: false }, [`team ${t.name} | role ${u.userPrincipalName} | "owner" -> null`], roster(t.id));
  });

  it('teams.removeMember: member -> out, undone by adding them back', async () => {
    const t = await newTeam('rm');
    const u = await env.newUser('trm');
    ok(await env.run('teams.addMember', { team: t.id, user: u.id }));
    await roundTrip(env, 'teams.removeMember', { team: t.id, user: u.userPrincipalName }, [`team ${t.name} | role ${u.userPrincipalName} | "member" -> null`], roster(t.id));
  });

  it('teams.archive: undone by unarchiving', async () => {
    const t = await newTeam('arch');
    await roundTrip(env, 'teams.archive', { team: t.id }, [`team ${t.name} | archived | false -> true`], async () => (await env.graph.api(`/teams/${t.id}`).get()).isArchived);
  });

  it('removing the last owner would fail, and the plan says so', async () => {
    const t = await newTeam('last');
    const p = await planOf(env, 'teams.removeOwner', { team: t.id, user: owner.id, keepAsMember: true });
    assert.equal(p?.outcome, 'would-fail', JSON.stringify(p));
    assert.match(p?.outcome === 'would-fail' ? p.reason : '', /no owner left/);
  });
});
