// Finding 1 of issue 16, for the remaining user, group, licence, auth, site, Teams, tag and
// notification actions (test/repeat-safety.test.ts has the rest and counts these through
// test/repeat-graph-ids.ts). Each action runs as one step twice on fresh fixtures: once cleanly,
// once with its first write's answer lost after the write took effect (Graph, SharePoint REST,
// Exchange or a webhook applies the request, then the connection drops). The retry must recognise
// its own earlier write: everything the sandbox logged as a write during the step (any object,
// so a second object created counts too) may be no more than on the clean run, and creations
// leave exactly one object, read back through the API.
//   Check that it catches a repeat: make auth.setPreferredMethod PATCH without reading first, or
//   notify.email skip its look in Sent Items, and run
//   `TENANTFLOW_REPEAT_ONLY=auth.setPreferredMethod,notify.email npm test -- repeat-safety-graph`.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ok, startActionsEnv, type ActionsEnv, type StepResult } from './actions-kit.ts';
import { catalog } from '../catalog/index.ts';
import { GRAPH_REPEAT_CASES, GRAPH_REPEAT_HARMLESS } from './repeat-graph-ids.ts';

let env: ActionsEnv;
let owner: { id: string; userPrincipalName: string };
let sender: string;
before(async () => {
  env = await startActionsEnv();
  owner = await env.newUser('repowner');
  sender = (await env.newUser('repsender', { licences: ['EXCHANGESTANDARD'] })).userPrincipalName;
});
after(async () => {
  env?.sandbox.admin.setFaults({});
  await env?.close();
});

const tag = () => randomUUID().slice(0, 8);
const GRAPH_WRITE = '^(POST|PATCH|PUT|DELETE) /(v1\\.0|beta)/';
const cert = 'sandbox-cert';

interface Case {
  params: Record<string, unknown>;
  /** Which request's answer is lost (default: the step's first Graph write). */
  lose?: string;
  /** A webhook whose first delivery's answer is lost instead. */
  hook?: string;
  tenant?: string;
  /** What the tenant shows afterwards (e.g. exactly one new object). */
  check?: (r: StepResult) => Promise<void>;
}

const user = async (extra: Record<string, unknown> = {}) => {
  const upn = `repg.${tag()}@${env.sandbox.tenant.domain}`;
  const u = await env.graph.api('/users').post({ accountEnabled: true, displayName: `Repeat ${upn.slice(5, 13)}`, mailNickname: upn.split('@')[0], userPrincipalName: upn, usageLocation: 'US', passwordProfile: { password: `Pw-${randomBytes(6).toString('hex')}!` }, ...extra });
  // Entra's timestamps have whole seconds: a step on an object made this very second cannot tell its own write from the creation.
  await new Promise((r) => setTimeout(r, 1100));
  return u as { id: string; userPrincipalName: string };
};
const unified = async () => {
  const nick = `repm365${tag()}`;
  return (await env.graph.api('/groups').post({ displayName: `Repeat ${nick}`, mailNickname: nick, groupTypes: ['Unified'], mailEnabled: true, securityEnabled: false })) as { id: string; displayName: string };
};
const team = async () => {
  const r = await env.run('teams.create', { displayName: `Repeat team ${tag()}`, owner: owner.userPrincipalName });
  ok(r);
  await new Promise((res) => setTimeout(res, 1100));
  return r.output as { id: string; displayName: string };
};
const tagged = async (tags: string[]) => {
  const u = await user();
  ok(await env.run('tags.add', { user: u.id, tags }));
  return u;
};
const one = async (path: string, filter: string, what: string) => {
  const found = (await env.graph.api(path).filter(filter).get()).value as unknown[];
  assert.equal(found.length, 1, `exactly one ${what}: ${JSON.stringify(found)}`);
};

/** Fresh fixtures and the step's parameters, for each action. */
const CASES: Record<string, () => Promise<Case>> = {
  'user.changeUpnDomain': async () => {
    const u = await user();
    const initial = env.sandbox.admin.store.info.initialDomain;
    return { params: { user: u.id, domain: initial }, check: async () => assert.equal((await env.graph.api(`/users/${u.id}`).select('userPrincipalName').get()).userPrincipalName, `${u.userPrincipalName.split('@')[0]}@${initial}`) };
  },
  'user.clearImmutableId': async () => {
    const u = await user();
    await env.graph.api(`/users/${u.id}`).patch({ onPremisesImmutableId: `${tag()}==` });
    return { params: { user: u.id }, check: async () => assert.equal((await env.graph.api(`/users/${u.id}`).select('onPremisesImmutableId').get()).onPremisesImmutableId, null) };
  },
  'user.clone': async () => {
    const source = await user({ jobTitle: 'Analyst' });
    const upn = `repclone.${tag()}@${env.sandbox.tenant.domain}`;
    return { params: { source: source.id, userPrincipalName: upn, displayName: 'Repeat Clone' }, check: async () => one('/users', `displayName eq 'Repeat Clone' and userPrincipalName eq '${upn}'`, `user ${upn}`) };
  },
  'user.inviteGuest': async () => {
    const email = `guest.${tag()}@fabrikam.example`;
    return { params: { email, displayName: 'Repeat Guest', sendInvitation: false }, check: async () => one('/users', `mail eq '${email}'`, `guest ${email}`) };
  },
  'user.removeGuest': async () => {
    const inv = await env.graph.api('/invitations').post({ invitedUserEmailAddress: `gone.${tag()}@fabrikam.example`, inviteRedirectUrl: 'https://myapps.microsoft.com', sendInvitationMessage: false });
    return { params: { user: inv.invitedUser.id } };
  },
  'user.updateBulk': async () => {
    const [a, b] = [await user(), await user()];
    return { params: { users: [a.id, b.userPrincipalName], department: 'Repeated' } };
  },
  'group.createM365': async () => {
    const nick = `repnew${tag()}`;
    const member = await user();
    return { params: { displayName: `Repeat ${nick}`, mailNickname: nick, owners: [owner.id], members: [member.id] }, check: async () => one('/groups', `mailNickname eq '${nick}'`, `group ${nick}`) };
  },
  'group.manageM365Members': async () => {
    const [g, m, o] = [await unified(), await user(), await user()];
    return { params: { group: g.id, addMembers: [m.id, o.id], addOwners: [o.id] } };
  },
  'group.restore': async () => {
    const g = await unified();
    await env.graph.api(`/groups/${g.id}`).delete();
    return { params: { group: g.id } };
  },
  'licence.setServicePlans': async () => {
    const u = await user();
    ok(await env.run('licence.assign', { user: u.id, licences: ['EXCHANGESTANDARD'] }));
    const skus = (await env.graph.api('/subscribedSkus').get()).value as { skuPartNumber: string; servicePlans: { servicePlanName: string }[] }[];
    const plan = skus.find((s) => s.skuPartNumber === 'EXCHANGESTANDARD')!.servicePlans[0]!.servicePlanName;
    return { params: { user: u.id, licence: 'EXCHANGESTANDARD', disable: [plan] } };
  },
  'auth.setPreferredMethod': async () => {
    const u = await user();
    return { params: { user: u.id, systemPreferred: false }, check: async () => assert.equal((await env.graph.api(`/users/${u.id}/authentication/signInPreferences`).version('beta').get()).isSystemPreferredAuthenticationMethodEnabled, false) };
  },
  'site.create': async () => {
    const alias = `rep-${tag()}`;
    return {
      params: { title: `Repeat ${alias}`, alias, owner: owner.userPrincipalName },
      tenant: cert,
      lose: '^POST /_sharepoint/[^/]+/_api/SPSiteManager/create',
      check: async (r) => assert.match(r.output.url, new RegExp(`/sites/${alias}$`)),
    };
  },
  'site.purge': async () => {
    const alias = `rep-${tag()}`;
    const made = await env.run('site.create', { title: `Repeat ${alias}`, alias, owner: owner.userPrincipalName }, { tenant: cert });
    ok(made);
    ok(await env.run('site.delete', { site: made.output.url }, { tenant: cert }));
    return { params: { site: made.output.url }, tenant: cert, lose: '^POST /_sharepoint/[^/]+/_api/SPO\\.Tenant/RemoveDeletedSite' };
  },
  'teams.addChannel': async () => {
    const t = await team();
    const name = `Repeat ${tag()}`;
    return {
      params: { team: t.id, displayName: name },
      check: async () => assert.equal(((await env.graph.api(`/teams/${t.id}/channels`).get()).value as { displayName: string }[]).filter((c) => c.displayName === name).length, 1, `one channel ${name}`),
    };
  },
  'teams.create': async () => {
    const name = `Repeat team ${tag()}`;
    return { params: { displayName: name, owner: owner.userPrincipalName }, lose: '^POST /v1\\.0/teams$', check: async () => one('/groups', `displayName eq '${name}'`, `team ${name}`) };
  },
  'tags.add': async () => { const u = await user(); return { params: { user: u.id, tags: ['pilot', 'vip'] } }; },
  'tags.remove': async () => { const u = await tagged(['pilot', 'vip']); return { params: { user: u.id, tags: ['vip'] } }; },
  'tags.manage': async () => { const u = await tagged(['pilot']); return { params: { user: u.id, add: ['leaver'], remove: ['pilot'] } }; },
  'tags.flush': async () => { const u = await tagged(['pilot', 'vip']); return { params: { user: u.id } }; },
  'notify.email': async () => {
    const to = (await env.newUser('repto', { licences: ['EXCHANGESTANDARD'] })).userPrincipalName;
    const subject = `Repeat ${tag()}`;
    return {
      params: { to: [to], subject, body: 'Sent once', from: sender },
      check: async () => assert.equal(env.sandbox.admin.sentMail({ from: sender }).filter((m) => m.subject === subject).length, 1, 'one mail'),
    };
  },
  'notify.webhook': async () => {
    const hook = `rep-${tag()}`;
    return { params: { url: env.sandbox.admin.webhookUrl(hook), body: { user: 'anna' } }, hook };
  },
};

/** What a step wrote: every write the sandbox logged since seq, or for a webhook the distinct Idempotency-Keys it received (what a receiver acts on). */
function writes(c: Case, since: number): number {
  if (c.hook) return new Set(env.sandbox.admin.webhooks(c.hook).map((d) => d.headers['idempotency-key'])).size;
  return env.sandbox.admin.mutations().filter((m) => m.seq > since).length;
}
const lastSeq = () => env.sandbox.admin.mutations().at(-1)?.seq ?? 0;

async function writesOfOneRun(action: string, lose: boolean): Promise<{ count: number; deliveries?: number }> {
  const c = await CASES[action]!();
  const since = lastSeq();
  if (lose && c.hook) env.sandbox.admin.scriptWebhook(c.hook, { status: 200, drop: true });
  else if (lose) env.sandbox.admin.failNext({ status: 'drop', afterEffect: true, match: c.lose ?? GRAPH_WRITE });
  let r: StepResult;
  try {
    r = await env.run(action, c.params, { maximumAttempts: 3, tenant: c.tenant });
  } finally {
    env.sandbox.admin.setFaults({});
  }
  ok(r);
  await c.check?.(r);
  return { count: writes(c, since), deliveries: c.hook ? env.sandbox.admin.webhooks(c.hook).length : undefined };
}

describe('the remaining user, group, licence, auth, site, Teams, tag and notification actions are safe to repeat', { concurrency: false }, () => {
  it('test/repeat-graph-ids.ts lists exactly the actions driven here, all write actions', () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...GRAPH_REPEAT_CASES].sort());
    for (const id of [...GRAPH_REPEAT_CASES, ...Object.keys(GRAPH_REPEAT_HARMLESS)]) assert.ok(catalog.get(id) && !catalog.get(id)!.readOnly, `${id} is a write action`);
    for (const id of Object.keys(GRAPH_REPEAT_HARMLESS)) assert.ok(!GRAPH_REPEAT_CASES.includes(id), `${id} is proven safe to repeat: it need not be declared harmless`);
  });

  for (const action of Object.keys(CASES).filter((a) => !process.env.TENANTFLOW_REPEAT_ONLY || process.env.TENANTFLOW_REPEAT_ONLY.split(',').includes(a)))
    it(`${action}: a retry after a lost answer writes no more than a clean run`, { timeout: 300_000 }, async () => {
      const clean = await writesOfOneRun(action, false);
      const lost = await writesOfOneRun(action, true);
      if (process.env.TENANTFLOW_REPEAT_ONLY) console.log(`${action}: ${clean.count} writes on a clean run, ${lost.count} after a lost answer${lost.deliveries ? ` (${lost.deliveries} deliveries)` : ''}`);
      assert.ok(clean.count > 0, `${action} wrote nothing on a clean run: the count would prove nothing`);
      assert.ok(lost.count <= clean.count, `${action} wrote ${lost.count} times after a lost answer, ${clean.count} on a clean run: it repeated its write`);
      // The lost answer really was lost: a webhook got the request a second time (same key).
      if (lost.deliveries !== undefined) assert.ok(lost.deliveries > clean.deliveries!, 'the retry reached the webhook again');
    });
});
