// Actions that mail a secret (generated passwords, temporary access passes) or a notification, post to
// Teams, manage directory roles and named locations, and research a compromised account, against the
// sandbox through the real wrapper. Secrets are read back from the recipient's mailbox and searched for
// in the step output and the run's Temporal history.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { looksCompromised } from '../sandbox/graph/audit-logs.ts';
import { catalog } from '../catalog/index.ts';
import { changesIn } from '../catalog/contract.ts';
import { ok, startActionsEnv, type ActionsEnv, type StepResult } from './actions-kit.ts';

let env: ActionsEnv;
let sender: string;
let helpdesk: { id: string; userPrincipalName: string };
const newUser = (tag: string, extra: Record<string, unknown> = {}) => env.newUser(tag, extra);

before(async () => {
  env = await startActionsEnv();
  sender = (await newUser('service', { licences: ['EXCHANGESTANDARD'] })).userPrincipalName;
  helpdesk = await newUser('helpdesk', { licences: ['EXCHANGESTANDARD'] });
});
after(async () => env?.close());

interface Message {
  subject: string;
  body: { content: string };
  from: { emailAddress: { address: string } };
}

/** The newest message in the recipient's inbox whose subject mentions `about`. */
async function mailAbout(recipient: string, about: string): Promise<Message> {
  const inbox = (await env.graph.api(`/users/${recipient}/mailFolders/inbox/messages`).top(50).get()).value as Message[];
  const m = inbox.find((x) => x.subject.includes(about));
  assert.ok(m, `no mail about ${about} in ${recipient}'s inbox: ${inbox.map((x) => x.subject).join(' | ')}`);
  return m;
}

/** The secret Tenantflow put on its own indented line of the mail. */
const secretIn = (m: Message): string => /\n {4}(\S+)\n/.exec(m.body.content)?.[1] ?? assert.fail(`no secret line in: ${m.body.content}`);

/** The secret reached the mailbox and is in neither the step's output nor the run's history. */
async function assertOnlyMailed(r: StepResult, secret: string): Promise<void> {
  assert.ok(secret.length >= 8, secret);
  assert.ok(!JSON.stringify({ output: r.output, error: r.error }).includes(secret), 'the secret is in the step output');
  const history = await r.history();
  assert.ok(history.includes(r.output.userId ?? r.output.id), 'the history is readable (sanity)');
  assert.ok(!history.includes(secret) && !history.includes(Buffer.from(secret).toString('base64')), 'the secret is in the Temporal history');
}

describe('secrets by mail', { concurrency: true }, () => {
  it('user.create emails a generated password to the named recipient only', async () => {
    const upn = env.upn('pw');
    const r = await env.run('user.create', { userPrincipalName: upn, displayName: 'PW', sendPasswordTo: helpdesk.userPrincipalName, mailFrom: sender });
    ok(r);
    assert.equal(r.output.passwordSentTo, helpdesk.userPrincipalName);
    const mail = await mailAbout(helpdesk.id, upn);
    assert.equal(mail.from.emailAddress.address.toLowerCase(), sender.toLowerCase());
    await assertOnlyMailed(r, secretIn(mail));
    const log = env.sandbox.admin.sentMail({ from: sender }).filter((m) => m.subject.includes(upn));
    assert.equal(log.length, 1, 'one mail');
    assert.deepEqual([log[0]!.toRecipients, log[0]!.ccRecipients, log[0]!.bccRecipients], [[helpdesk.userPrincipalName], [], []]);
  });

  it('user.clone emails the new user\'s generated password', async () => {
    const source = await newUser('source', { jobTitle: 'Analyst' });
    const upn = env.upn('clone');
    const r = await env.run('user.clone', { source: source.id, userPrincipalName: upn, displayName: 'Clone', sendPasswordTo: helpdesk.userPrincipalName, mailFrom: sender });
    ok(r);
    await assertOnlyMailed(r, secretIn(await mailAbout(helpdesk.id, upn)));
  });

  it('user.resetPassword with a generated password: mailed, forced to change, nowhere in history', async () => {
    const u = await newUser('reset');
    const r = await env.run('user.resetPassword', { user: u.id, sendPasswordTo: helpdesk.userPrincipalName, mailFrom: sender });
    ok(r);
    assert.equal(r.output.generated, true);
    const password = secretIn(await mailAbout(helpdesk.id, u.userPrincipalName));
    await assertOnlyMailed(r, password);
    assert.equal(env.sandbox.admin.findUser(u.id)?._password, password, 'the mailed password is the one Entra has');
  });

  it('auth.createTemporaryAccessPass mails a pass that Entra holds, and replaces it on a second run', async () => {
    const u = await newUser('tap');
    const r = await env.run('auth.createTemporaryAccessPass', { user: u.id, sendTo: helpdesk.userPrincipalName, mailFrom: sender, lifetimeMinutes: 60 });
    ok(r);
    assert.deepEqual([r.output.sentTo, r.output.lifetimeMinutes], [helpdesk.userPrincipalName, 60]);
    const pass = secretIn(await mailAbout(helpdesk.id, `Temporary access pass for ${u.userPrincipalName}`));
    await assertOnlyMailed(r, pass);
    const methods = (await env.graph.api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).get()).value;
    assert.equal(methods.length, 1);
    assert.equal(methods[0].lifetimeInMinutes, 60);
    assert.equal(methods[0].temporaryAccessPass, null, 'Entra shows the pass only on create');
    ok(await env.run('auth.createTemporaryAccessPass', { user: u.id, sendTo: helpdesk.userPrincipalName, mailFrom: sender }));
    assert.equal((await env.graph.api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).get()).value.length, 1, 'one pass per user');
  });

  it('a sender without a mailbox is named in the error', async () => {
    const noMailbox = await newUser('nobox');
    const r = await env.run('notify.email', { to: [helpdesk.userPrincipalName], subject: 'x', body: 'y', from: noMailbox.userPrincipalName });
    assert.equal(r.error?.code, 'MailboxNotFound');
    assert.match(r.error!.message, new RegExp(`service mailbox ${noMailbox.userPrincipalName.replace('.', '\\.')} does not exist or has no mailbox`));
  });
});

describe('notifications', { concurrency: true }, () => {
  it('notify.email delivers to tenant mailboxes and records outside addresses', async () => {
    const subject = `Hello ${randomUUID().slice(0, 6)}`;
    const r = await env.run('notify.email', { to: [helpdesk.userPrincipalName, 'ops@fabrikam.example'], subject, body: 'World', from: sender, saveToSentItems: false });
    ok(r);
    assert.deepEqual([r.output.sent, r.output.from], [true, sender]);
    assert.equal((await mailAbout(helpdesk.id, subject)).body.content, 'World');
    const logged = env.sandbox.admin.sentMail({ to: 'ops@fabrikam.example' }).filter((m) => JSON.stringify(m).includes(subject));
    assert.equal(logged.length, 1);
    const sent = (await env.graph.api(`/users/${sender}/mailFolders/sentitems/messages`).top(50).get()).value as Message[];
    assert.ok(!sent.some((m) => m.subject === subject), 'saveToSentItems: false keeps no copy');
  });

  it('notify.teams posts an adaptive card to the webhook; a throttled webhook is retried after Retry-After', async () => {
    const name = `teams-${randomUUID().slice(0, 6)}`;
    const url = env.sandbox.admin.webhookUrl(name);
    env.sandbox.admin.scriptWebhook(name, { status: 429, headers: { 'retry-after': '0' }, times: 1 });
    const r = await env.run('notify.teams', { webhookUrl: url, title: 'Leaver', text: 'Anna left', facts: { Manager: 'Bo' } });
    ok(r);
    assert.deepEqual([r.output.status, r.attempts], [200, 2]);
    const deliveries = env.sandbox.admin.webhooks(name);
    assert.deepEqual(deliveries.map((d) => d.status), [429, 200]);
    const card = deliveries[1]!.body as { type: string; attachments: { contentType: string; content: { body: { text?: string; facts?: unknown[] }[] } }[] };
    assert.equal(card.type, 'message');
    assert.equal(card.attachments[0]!.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.deepEqual(card.attachments[0]!.content.body.map((b) => b.text ?? b.facts), ['Leaver', 'Anna left', [{ title: 'Manager', value: 'Bo' }]]);
  });
});

describe('directory roles and named locations', { concurrency: true }, () => {
  it('directory.assignRole and directory.removeRole, read back through roleAssignments', async () => {
    const u = await newUser('admin');
    const assignments = async () =>
      (await env.graph.api('/roleManagement/directory/roleAssignments').filter(`principalId eq '${u.id}'`).get()).value as { roleDefinitionId: string }[];
    const r = await env.run('directory.assignRole', { user: u.id, role: 'Helpdesk Administrator' });
    ok(r);
    assert.deepEqual([r.output.assigned, r.output.roleDefinitionId], [true, '729827e3-9c14-49f7-bb1b-9608f156bbb8']);
    assert.deepEqual((await assignments()).map((a) => a.roleDefinitionId), [r.output.roleDefinitionId]);
    assert.equal((await env.run('directory.assignRole', { user: u.userPrincipalName, role: 'helpdesk administrator' })).output.assigned, false);
    assert.equal((await env.run('directory.removeRole', { user: u.id, role: r.output.roleDefinitionId })).output.removed, true);
    assert.deepEqual(await assignments(), []);
    assert.equal((await env.run('directory.removeRole', { user: u.id, role: 'Helpdesk Administrator' })).output.removed, false);
    const bad = await env.run('directory.assignRole', { user: u.id, role: 'No Such Role' });
    assert.match(bad.error!.message, /directory role "No Such Role" does not exist/);
    const denied = await env.run('directory.assignRole', { user: u.id, role: 'Helpdesk Administrator' }, { tenant: 'limited' });
    assert.match(denied.error!.hint!, /RoleManagement\.ReadWrite\.Directory/);
  });

  it('directory.createNamedLocation, updateNamedLocation and deleteNamedLocation', async () => {
    const name = `Office ${randomUUID().slice(0, 6)}`;
    const read = async (id: string) => env.graph.api(`/identity/conditionalAccess/namedLocations/${id}`).get();
    const r = await env.run('directory.createNamedLocation', { displayName: name, ipRanges: ['203.0.113.0/24'] });
    ok(r);
    const created = await read(r.output.id);
    assert.deepEqual([created['@odata.type'], created.isTrusted, created.ipRanges], ['#microsoft.graph.ipNamedLocation', true, [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' }]]);
    const again = await env.run('directory.createNamedLocation', { displayName: name, ipRanges: ['203.0.113.0/24'] });
    assert.equal(again.output.created, false);
    // The undo deletes the location the run created, not one a run found already there.
    const contract = catalog.get('directory.createNamedLocation')!;
    const undoOf = (run: StepResult) => contract.reverse!({ input: contract.input.parse({ displayName: name, ipRanges: ['203.0.113.0/24'] }), output: run.output, changes: changesIn(run.output) ?? [] });
    assert.deepEqual((undoOf(r) as { steps: { action: string; params: unknown }[] }).steps.map((x) => [x.action, x.params]), [['directory.deleteNamedLocation', { location: r.output.id }]]);
    assert.deepEqual(undoOf(again), { steps: [] });
    const upd = await env.run('directory.updateNamedLocation', { location: name, ipRanges: ['198.51.100.0/24', '2001:db8::/48'], rangesMode: 'add', isTrusted: false });
    ok(upd);
    assert.deepEqual(upd.output.ipRanges.sort(), ['198.51.100.0/24', '2001:db8::/48', '203.0.113.0/24']);
    const updated = await read(r.output.id);
    assert.equal(updated.isTrusted, false);
    assert.deepEqual(updated.ipRanges.map((x: { '@odata.type': string }) => x['@odata.type']).sort(), ['#microsoft.graph.iPv4CidrRange', '#microsoft.graph.iPv4CidrRange', '#microsoft.graph.iPv6CidrRange']);
    const removed = await env.run('directory.updateNamedLocation', { location: r.output.id, ipRanges: ['203.0.113.0/24'], rangesMode: 'remove' });
    assert.deepEqual(removed.output.ipRanges.sort(), ['198.51.100.0/24', '2001:db8::/48']);
    assert.equal((await env.run('directory.deleteNamedLocation', { location: name })).output.deleted, true);
    await assert.rejects(read(r.output.id), (e: { statusCode?: number }) => e.statusCode === 404);
    const missing = await env.run('directory.deleteNamedLocation', { location: name });
    assert.match(missing.error!.message, new RegExp(`named location "${name}" does not exist`), 'a name that does not exist is a typo, not done');
  });
});

describe('investigation', () => {
  it('investigation.compromisedAccount on a seeded compromised user reads every part', async () => {
    const victim = [...env.sandbox.admin.store.users.values()].find((u) => looksCompromised(u) && u.mail && u.accountEnabled);
    assert.ok(victim, 'the seed has a compromised-looking user with a mailbox');
    const r = await env.run('investigation.compromisedAccount', { user: victim.userPrincipalName, trustedCountries: [victim.usageLocation ?? 'US'] });
    ok(r);
    const out = r.output;
    for (const part of ['signIns', 'inboxRules', 'forwarding', 'methodChanges', 'appConsents']) assert.equal(out[part].available, true, `${part}: ${out[part].reason}`);
    assert.equal(out.suspicious, true);
    const text = out.indicators.join('\n');
    assert.match(text, /successful sign-ins from (NG|RU)/);
    assert.match(text, /risky sign-ins/);
    assert.match(text, /inbox rule "\." forwards to .*@proton\.example/);
    assert.match(text, /was granted .*Mail\.(ReadWrite|Send)/);
    assert.ok(out.signIns.items.some((s: { country: string; succeeded: boolean }) => ['NG', 'RU'].includes(s.country) && s.succeeded));
  });

  it('method changes made through Tenantflow show up; a clean new user is not suspicious', async () => {
    const u = await newUser('clean', { licences: ['EXCHANGESTANDARD'] });
    const clean = await env.run('investigation.compromisedAccount', { user: u.id });
    ok(clean);
    assert.deepEqual([clean.output.suspicious, clean.output.indicators], [false, []]);
    ok(await env.run('user.setAuthenticationContact', { user: u.id, mobilePhone: '+1 2065550199' }));
    const after = await env.run('investigation.compromisedAccount', { user: u.id });
    assert.deepEqual(after.output.methodChanges.items.map((m: { activity: string }) => m.activity), ['Admin registered security info']);
    assert.match(after.output.indicators.join('\n'), /1 authentication method changes in 7 days/);
  });

  it('parts the app may not read are reported unavailable with the permission to grant', async () => {
    const victim = [...env.sandbox.admin.store.users.values()].find((u) => looksCompromised(u) && u.mail)!;
    const r = await env.run('investigation.compromisedAccount', { user: victim.id }, { tenant: 'limited' });
    ok(r);
    assert.equal(r.output.signIns.available, false);
    assert.match(r.output.signIns.reason, /AuditLog\.Read\.All/);
    assert.match(r.output.inboxRules.reason, /MailboxSettings\.Read/);
  });
});
