// Finding 1 of issue 16: every write action is safe to repeat. For each action below, the same
// step runs twice on fresh fixtures: once cleanly, once with its first write's answer lost after
// the write took effect (the sandbox applies the request, then drops the connection: what a worker
// killed mid-step or a Temporal restart looks like to the step). The retry (inside the attempt, as
// the next attempt) must recognise its own earlier write: the sandbox's mutation log may show no
// more writes than the clean run made. An action whose repeat is harmless says why in HARMLESS.
// Most write actions are proven by their plan test instead: test/plan-kit.ts's round trip repeats
// each step after a lost answer (assertRepeatSafe); test/repeat-coverage.ts lists which file proves
// which action, checked here against the files' calls. Write actions proven nowhere are listed in
// NOT_YET (the report counts them).
//   Check that it catches a re-post: comment out the guard in user.revokeSessions
//   (worker/actions/users.ts) and run `npm test -- repeat-safety`.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { catalog } from '../catalog/index.ts';
import { REPEATED_BY_PLAN_TESTS, repeatedIn } from './repeat-coverage.ts';
import { HARMLESS_AD, REPEATED_BY_AD_TESTS } from './repeat-coverage-ad.ts';
import { GRAPH_REPEAT_CASES, GRAPH_REPEAT_HARMLESS } from './repeat-graph-ids.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';
import { DEVICE_CASES, DEVICE_HARMLESS } from './repeat-devices-cases.ts';

let env: ActionsEnv;
let allCompany: string;
before(async () => {
  env = await startActionsEnv();
  allCompany = (await env.graph.api('/groups').filter("displayName eq 'All Company'").get()).value[0].id;
});
after(async () => {
  env?.sandbox.admin.setFaults({});
  await env?.close();
});

interface Made {
  ids: string[];
  params: Record<string, unknown>;
}
const user = async (extra: Record<string, unknown> = {}) => {
  const upn = `rep.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
  const u = await env.graph.api('/users').post({ accountEnabled: true, displayName: `Repeat ${upn.slice(4, 12)}`, mailNickname: upn.split('@')[0], userPrincipalName: upn, usageLocation: 'US', passwordProfile: { password: `Pw-${randomBytes(6).toString('hex')}!` }, ...extra });
  // Entra's timestamps have whole seconds: a step on a user made this very second cannot tell its own write from the creation.
  await new Promise((r) => setTimeout(r, 1100));
  return u as { id: string; userPrincipalName: string };
};
const group = async () => {
  const name = `Repeat ${randomUUID().slice(0, 8)}`;
  return (await env.graph.api('/groups').post({ displayName: name, mailEnabled: false, mailNickname: name.replace(/\W/g, ''), securityEnabled: true })) as { id: string; displayName: string };
};
const member = async (g: string, u: string) => env.graph.api(`/groups/${g}/members/$ref`).post({ '@odata.id': `${env.sandbox.url}/v1.0/directoryObjects/${u}` });

/** Fresh fixtures and the step's parameters; `ids` are the objects whose writes are counted. */
const CASES: Record<string, () => Promise<Made>> = {
  'user.create': async () => {
    const upn = `repnew.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    return { ids: [upn], params: { userPrincipalName: upn, displayName: 'Repeat New', usageLocation: 'US', licences: ['SPE_E3'], groups: [allCompany] } };
  },
  'user.update': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, jobTitle: 'Repeated' } }; },
  'user.setContactInfo': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, mobilePhone: '+1 555 0199' } }; },
  'user.disableSignIn': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id } }; },
  'user.enableSignIn': async () => { const u = await user({ accountEnabled: false }); return { ids: [u.id], params: { user: u.id } }; },
  'user.revokeSessions': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id } }; },
  'user.setManager': async () => { const [u, m] = [await user(), await user()]; return { ids: [u.id], params: { user: u.id, manager: m.id } }; },
  'user.delete': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id } }; },
  'group.addMember': async () => { const [u, g] = [await user(), await group()]; return { ids: [u.id, g.id], params: { user: u.id, group: g.id } }; },
  'group.removeMember': async () => { const [u, g] = [await user(), await group()]; await member(g.id, u.id); return { ids: [u.id, g.id], params: { user: u.id, group: g.id } }; },
  'group.addOwner': async () => { const [u, g] = [await user(), await group()]; return { ids: [u.id, g.id], params: { user: u.id, group: g.id } }; },
  'group.transferOwnership': async () => {
    const [from, to, g] = [await user(), await user(), await group()];
    await env.graph.api(`/groups/${g.id}/owners/$ref`).post({ '@odata.id': `${env.sandbox.url}/v1.0/directoryObjects/${from.id}` });
    return { ids: [g.id], params: { from: from.id, to: to.id } };
  },
  'group.createSecurity': async () => { const name = `Repeat new ${randomUUID().slice(0, 8)}`; return { ids: [name], params: { displayName: name } }; },
  'group.delete': async () => { const g = await group(); return { ids: [g.id], params: { group: g.id } }; },
  'licence.assign': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, licences: ['SPE_E3'] } }; },
  'user.removeManager': async () => { const [u, m] = [await user(), await user()]; await env.graph.api(`/users/${u.id}/manager/$ref`).put({ '@odata.id': `${env.sandbox.url}/v1.0/users/${m.id}` }); return { ids: [u.id], params: { user: u.id } }; },
  'user.setAttributes': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, attributes: { extensionAttribute1: 'Repeated' } } }; },
  'user.setPasswordNeverExpires': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, neverExpires: true } }; },
  'user.setAuthenticationContact': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, mobilePhone: '+1 2065550100' } }; },
  'user.removeFromAllGroups': async () => { const [u, g] = [await user(), await group()]; await member(g.id, u.id); return { ids: [u.id, g.id], params: { user: u.id, includeMailEnabled: false } }; },
  'auth.setMfaState': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, state: 'enforced' } }; },
  'group.update': async () => { const g = await group(); return { ids: [g.id], params: { group: g.id, description: 'Repeated' } }; },
  'group.addMembers': async () => { const [u, g] = [await user(), await group()]; return { ids: [u.id, g.id], params: { users: [u.id], groups: [g.id] } }; },
  'group.removeMembers': async () => { const [u, g] = [await user(), await group()]; await member(g.id, u.id); return { ids: [u.id, g.id], params: { users: [u.id], groups: [g.id] } }; },
  'licence.unassign': async () => { const u = await user(); ok(await env.run('licence.assign', { user: u.id, licences: ['SPE_E3'] })); return { ids: [u.id], params: { user: u.id, licences: ['SPE_E3'] } }; },
  'licence.removeAll': async () => { const u = await user(); ok(await env.run('licence.assign', { user: u.id, licences: ['SPE_E3'] })); return { ids: [u.id], params: { user: u.id } }; },
  'user.rename': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, userPrincipalName: `renamed.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`, displayName: 'Repeat Renamed' } }; },
  'user.restore': async () => { const u = await user(); await env.graph.api(`/users/${u.id}`).delete(); return { ids: [u.id], params: { user: u.id } }; },
  'user.permanentDelete': async () => { const u = await user(); await env.graph.api(`/users/${u.id}`).delete(); return { ids: [u.id], params: { user: u.id } }; },
  'group.removeOwner': async () => {
    const [u, other, g] = [await user(), await user(), await group()];
    for (const o of [u, other]) await env.graph.api(`/groups/${g.id}/owners/$ref`).post({ '@odata.id': `${env.sandbox.url}/v1.0/users/${o.id}` });
    return { ids: [u.id, g.id], params: { user: u.id, group: g.id } };
  },
  // A new user has only a password: the step's one write is the revocation, whose answer is lost.
  'auth.removeMethods': async () => { const u = await user(); return { ids: [u.id], params: { user: u.id, revokeSessions: true } }; },
};

/** Actions whose repeat changes nothing a person would see twice, and why. */
const HARMLESS: Record<string, string> = {
  'user.resetPassword': 'a repeat sets another temporary password; the step delivers and reports the one set last, and the first was never shown to anyone',
  'auth.createTemporaryAccessPass': 'a repeat issues another pass; the step reports the one issued last, and Entra allows one active pass per user (the earlier one is replaced)',
  ...HARMLESS_AD,
  ...GRAPH_REPEAT_HARMLESS,
};
// Device, Autopilot, app-registration, directory, domain and Conditional Access actions: driven by test/repeat-safety-devices.test.ts.
Object.assign(HARMLESS, DEVICE_HARMLESS);

const writes = [...catalog.values()].filter((a) => !a.readOnly).map((a) => a.id).sort();
const BY_PLAN_TESTS = new Set(Object.values(REPEATED_BY_PLAN_TESTS).flat());
// test/repeat-safety-graph.test.ts drives GRAPH_REPEAT_CASES (its own file, its own sandbox); test/repeat-safety-ad.test.ts the ad.* actions on the real DC.
const PROVEN = new Set([...Object.keys(CASES), ...BY_PLAN_TESTS, ...Object.keys(DEVICE_CASES), ...REPEATED_BY_AD_TESTS, ...GRAPH_REPEAT_CASES]);
/** Write actions proven safe to repeat nowhere yet and not declared harmless. */
const NOT_YET = writes.filter((id) => !PROVEN.has(id) && !(id in HARMLESS));

/** Writes the sandbox logged since seq for any of the ids (an id, or a name in the request path). */
function writesFor(since: number, ids: string[]): number {
  return env.sandbox.admin.mutations().filter((m) => m.seq > since && ids.some((id) => m.objectIds.includes(id) || decodeURIComponent(m.path).includes(id))).length;
}
const lastSeq = () => env.sandbox.admin.mutations().at(-1)?.seq ?? 0;

async function writesOfOneRun(action: string, lose: boolean): Promise<number> {
  const made = await CASES[action]!();
  const since = lastSeq();
  // The first write of the step takes effect and its answer is lost.
  if (lose) env.sandbox.admin.failNext({ status: 'drop', afterEffect: true, match: '^(POST|PATCH|PUT|DELETE) /(v1\\.0|beta)/' });
  const r = await env.run(action, made.params, { maximumAttempts: 3 });
  env.sandbox.admin.setFaults({});
  ok(r);
  const ids = [...made.ids, ...(typeof (r.output as { id?: unknown })?.id === 'string' ? [(r.output as { id: string }).id] : [])];
  return writesFor(since, ids);
}

describe('every write action is safe to repeat', { concurrency: false }, () => {
  it('each write action is driven here, declared harmless, or listed as not yet driven', () => {
    for (const id of Object.keys(CASES)) assert.ok(catalog.get(id) && !catalog.get(id)!.readOnly, `${id} is a write action`);
    for (const id of Object.keys(HARMLESS)) assert.ok(catalog.get(id) && !catalog.get(id)!.readOnly, `${id} is a write action`);
    for (const id of BY_PLAN_TESTS) assert.ok(catalog.get(id) && !catalog.get(id)!.readOnly, `${id} is a write action`);
    for (const id of Object.keys(HARMLESS)) assert.ok(!PROVEN.has(id), `${id} is proven safe to repeat: it need not be declared harmless`);
    for (const [file, actions] of Object.entries(REPEATED_BY_PLAN_TESTS))
      assert.deepEqual([...actions].sort(), repeatedIn(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')), `test/repeat-coverage.ts lists what ${file} repeats`);
    console.log(
      `repeat safety: ${PROVEN.size} of ${writes.length} write actions proven safe to repeat (${Object.keys(CASES).length} here, ${BY_PLAN_TESTS.size} by their plan tests and the Exchange suite, ${Object.keys(DEVICE_CASES).length} by the devices suite, ${GRAPH_REPEAT_CASES.length} by the Graph suite, ${REPEATED_BY_AD_TESTS.length} by the AD suite on the real DC), ` +
        `${Object.keys(HARMLESS).length} declared harmless, ${NOT_YET.length} not yet proven: ${NOT_YET.join(', ')}`,
    );
  });

  // TENANTFLOW_REPEAT_ONLY=user.revokeSessions (or a comma-separated list) runs only those actions' checks.
  for (const action of Object.keys(CASES).filter((a) => !process.env.TENANTFLOW_REPEAT_ONLY || process.env.TENANTFLOW_REPEAT_ONLY.split(',').includes(a)))
    it(`${action}: a retry after a lost answer writes no more than a clean run`, { timeout: 180_000 }, async () => {
      const clean = await writesOfOneRun(action, false);
      const lost = await writesOfOneRun(action, true);
      if (process.env.TENANTFLOW_REPEAT_ONLY) console.log(`${action}: ${clean} writes on a clean run, ${lost} after a lost answer`);
      assert.ok(clean > 0, `${action} wrote nothing on a clean run: the count would prove nothing`);
      assert.ok(lost <= clean, `${action} wrote ${lost} times after a lost answer, ${clean} on a clean run: it repeated its write`);
    });
});
