// The gallery's day-one templates end to end: each one validated as the server publishes it (no
// problems, no rule warnings), its inputs checked as the run form checks them, run through real
// Temporal and the real worker against the sandbox tenant, approvals decided the way the API decides
// them (the workflow's Update), and the tenant read back through Graph and Exchange's Get-* cmdlets.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { staticTenantDirectory } from '../m365/tenants.ts';
import { createWorker } from '../worker/worker.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { validateInputs } from '../runbook/inputs.ts';
import type { RunState } from '../runbook/definition.ts';
import { executeApprovalUpdate } from '../server/temporal.ts';
import { templates } from '../server/template-gallery.ts';
import { sandboxExchange } from '../sandbox/testing.ts';
import { sharedWorkflowBundle, startTestEnv, statuses, type TestEnv } from './harness.ts';

const template = (id: string) => JSON.parse(readFileSync(new URL(`../server/templates/${id}.json`, import.meta.url), 'utf8'));
const DAY = 86_400_000;

let env: TestEnv;
let worker: Worker;
let running: Promise<void>;
let connection: NativeConnection;
let exo: ReturnType<typeof sandboxExchange>;
let domain: string;
let sender: string;
let helpdesk: { id: string; userPrincipalName: string };
let staleDevice: { id: string; deviceName: string };

/** Runs a template with its inputs checked (and defaulted) as the run form does. */
async function start(id: string, raw: Record<string, unknown>): Promise<WorkflowHandle> {
  const def = template(id);
  const checked = validateInputs(def, raw);
  assert.ok(checked.ok, JSON.stringify(!checked.ok && checked.problems));
  return env.start(def, checked.values, { startedBy: 'helpdesk@tenantflow.test' });
}

async function finished(h: WorkflowHandle): Promise<RunState> {
  await h.result();
  return env.state(h);
}

/** One step of a plain runbook, for setting the scene. */
async function step(action: string, params: Record<string, unknown>): Promise<any> {
  const h = await env.start({ name: `setup ${action}`, nodes: [{ id: 's', kind: 'action', action, params }], edges: [] });
  const state = await finished(h);
  assert.equal(state.nodes['s']!.status, 'succeeded', JSON.stringify(state.nodes['s']!.error));
  return state.nodes['s']!.output;
}

const upn = (tag: string) => `${tag}.${randomUUID().slice(0, 8)}@${domain}`;
async function newUser(tag: string, extra: Record<string, unknown> = {}): Promise<{ id: string; userPrincipalName: string }> {
  return step('user.create', { userPrincipalName: upn(tag), displayName: `Gallery ${tag}`, usageLocation: 'US', ...extra });
}

/** Waits for the approval step, then decides it as an approver (not the person who started the run). */
async function decide(h: WorkflowHandle, nodeId: string, decision: 'approve' | 'reject'): Promise<RunState> {
  const waiting = await env.waitFor(h, (s) => s.nodes[nodeId]?.status === 'waiting-approval' || s.status !== 'running', 60_000);
  assert.equal(waiting.nodes[nodeId]?.status, 'waiting-approval', JSON.stringify(waiting, null, 1));
  await executeApprovalUpdate(h, { nodeId, decision, by: 'approver@tenantflow.test', roles: ['approver'], groups: [] });
  return waiting;
}

interface Message { subject: string; body: { content: string } }
async function mailAbout(recipient: string, about: string): Promise<Message> {
  const inbox = (await env.graph.api(`/users/${recipient}/mailFolders/inbox/messages`).top(100).get()).value as Message[];
  const m = inbox.find((x) => x.subject.includes(about));
  assert.ok(m, `no mail about "${about}" in ${recipient}'s inbox: ${inbox.map((x) => x.subject).join(' | ')}`);
  return m;
}

async function skuIds(): Promise<Map<string, string>> {
  const skus = (await env.graph.api('/subscribedSkus').get()).value as { skuId: string; skuPartNumber: string }[];
  return new Map(skus.map((s) => [s.skuId, s.skuPartNumber]));
}
async function licencesOf(user: string): Promise<string[]> {
  const names = await skuIds();
  const u = await env.graph.api(`/users/${user}`).select('assignedLicenses').get();
  return (u.assignedLicenses as { skuId: string }[]).map((l) => names.get(l.skuId)!).sort();
}
async function gone(path: string): Promise<boolean> {
  return env.graph.api(path).get().then(() => false, (e: { statusCode?: number }) => e.statusCode === 404);
}

before(async () => {
  env = await startTestEnv({ worker: false });
  domain = env.sandbox.tenant.domain;
  sender = `tenantflow.${randomUUID().slice(0, 6)}@${domain}`;
  connection = await NativeConnection.connect({ address: env.address });
  worker = await createWorker({
    connection,
    namespace: env.namespace,
    taskQueue: env.taskQueue,
    tenants: staticTenantDirectory([{ ...env.tenant, mailFrom: sender } as typeof env.tenant]),
    workflowBundle: sharedWorkflowBundle(),
  });
  running = worker.run();
  exo = sandboxExchange(env.sandbox);
  await step('user.create', { userPrincipalName: sender, displayName: 'Tenantflow', usageLocation: 'US', licences: ['EXCHANGESTANDARD'] });
  helpdesk = await newUser('helpdesk', { licences: ['EXCHANGESTANDARD'] });
  await step('mailbox.waitForMailbox', { mailbox: sender, timeoutMinutes: 2 });
  await step('mailbox.waitForMailbox', { mailbox: helpdesk.userPrincipalName, timeoutMinutes: 2 });

  // A device that last checked in 40 days ago: enrolled on the sandbox's clock set back, then the clock
  // is put right (no request is made in between, so no token sees the other time).
  const owner = await newUser('laptop');
  env.sandbox.admin.advanceClock(-40 * DAY / 1000);
  try {
    const d = env.sandbox.admin.enrollDevice({ user: owner.id, operatingSystem: 'Windows' });
    staleDevice = { id: d.id, deviceName: d.deviceName };
  } finally {
    env.sandbox.admin.advanceClock(40 * DAY / 1000);
  }
});

after(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await env?.close();
});

describe('gallery templates', () => {
  it('every template is valid with documented inputs and no rule warning', () => {
    for (const id of ['mover', 'contractor-expiry', 'licence-reclamation', 'stale-guest-cleanup', 'stale-device-cleanup', 'expiring-app-credentials', 'shared-mailbox-request', 'team-request']) {
      const t = templates().find((x) => x.id === id);
      assert.ok(t, `${id} is in the gallery`);
      assert.deepEqual(validateRunbook(t.definition).problems ?? [], [], id);
      assert.deepEqual(t.warnings, [], id);
      assert.ok(t.description.length > 40, `${id} has a description`);
      for (const input of t.definition.inputs) assert.ok(input.title && input.description, `${id}: input ${input.name} is documented`);
    }
  });

  it('mover: new department, title and manager; old groups left, new joined; licences swapped', async () => {
    const oldManager = await newUser('oldboss');
    const newManager = await newUser('newboss');
    const mover = await newUser('mover', { department: 'Sales', jobTitle: 'Account manager', licences: ['FLOW_FREE'] });
    await step('user.setManager', { user: mover.id, manager: oldManager.id });
    const tag = randomUUID().slice(0, 6);
    const oldGroup = await step('group.createSecurity', { displayName: `Sales staff ${tag}`, members: [mover.id] });
    const newGroup = await step('group.createSecurity', { displayName: `Finance staff ${tag}` });

    const state = await finished(await start('mover', {
      user: mover.userPrincipalName, department: 'Finance', jobTitle: 'Controller', manager: newManager.userPrincipalName,
      removeGroups: `Sales staff ${tag}`, addGroups: `Finance staff ${tag}`, removeLicences: 'FLOW_FREE', addLicences: 'POWER_BI_PRO',
    }));
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));

    const u = await env.graph.api(`/users/${mover.id}`).select('department,jobTitle').get();
    assert.deepEqual([u.department, u.jobTitle], ['Finance', 'Controller']);
    assert.equal((await env.graph.api(`/users/${mover.id}/manager`).get()).id, newManager.id);
    const groups = ((await env.graph.api(`/users/${mover.id}/memberOf`).get()).value as { id: string }[]).map((g) => g.id);
    assert.ok(groups.includes(newGroup.id) && !groups.includes(oldGroup.id), JSON.stringify(groups));
    assert.deepEqual(await licencesOf(mover.id), ['POWER_BI_PRO']);
  });

  it('contractor expiry: waits for the end date, then blocks sign-in, revokes sessions and tells the sponsor', async () => {
    const contractor = await newUser('contractor');
    const before = await env.graph.api(`/users/${contractor.id}`).select('accountEnabled,signInSessionsValidFromDateTime').get();
    assert.equal(before.accountEnabled, true);
    // Graph keeps session validity to the second: end the contract in a later second than the account's creation.
    const endDate = new Date(Math.max(Date.now() + 2000, Date.parse(before.signInSessionsValidFromDateTime) + 2000)).toISOString();
    const h = await start('contractor-expiry', { user: contractor.userPrincipalName, endDate, sponsor: helpdesk.userPrincipalName });
    const waiting = await env.waitFor(h, (s) => s.nodes['wait']?.status === 'running' || s.status !== 'running');
    assert.equal(waiting.nodes['disable']?.status ?? 'pending', 'pending', 'nothing happens before the end date');
    const state = await finished(h);
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));
    assert.ok(Date.parse(state.nodes['disable']!.startedAt!) >= Date.parse(endDate), 'disabled at the end date, not before');
    const after = await env.graph.api(`/users/${contractor.id}`).select('accountEnabled,signInSessionsValidFromDateTime').get();
    assert.equal(after.accountEnabled, false);
    assert.ok(after.signInSessionsValidFromDateTime > before.signInSessionsValidFromDateTime, 'sessions revoked');
    assert.match((await mailAbout(helpdesk.id, contractor.userPrincipalName)).subject, /Contract ended/);
  });

  it('licence reclamation: after approval, frees the licences of disabled accounts (mailbox shared first), keeps a held mailbox licensed, reports', async () => {
    const leaver = await newUser('leaver', { licences: ['EXCHANGESTANDARD'] });
    const held = await newUser('held', { licences: ['EXCHANGESTANDARD'] });
    const active = await newUser('active', { licences: ['FLOW_FREE'] });
    for (const u of [leaver, held]) await step('mailbox.waitForMailbox', { mailbox: u.userPrincipalName, timeoutMinutes: 2 });
    await step('mailbox.setLitigationHold', { mailbox: held.userPrincipalName });
    for (const u of [leaver, held]) await step('user.disableSignIn', { user: u.id });

    const h = await start('licence-reclamation', { reportTo: helpdesk.userPrincipalName });
    const waiting = await decide(h, 'approve', 'approve');
    assert.match(waiting.nodes['approve']!.approval!.message!, new RegExp(`${leaver.id}: EXCHANGESTANDARD`));
    assert.doesNotMatch(waiting.nodes['approve']!.approval!.message!, new RegExp(active.id), 'an enabled account is not a candidate');
    assert.deepEqual(await licencesOf(leaver.id), ['EXCHANGESTANDARD'], 'nothing is removed before the approval');
    const state = await finished(h);
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));

    assert.deepEqual(await licencesOf(leaver.id), []);
    assert.equal((await exo('Get-Mailbox', { Identity: leaver.userPrincipalName })).value[0]!['RecipientTypeDetails'], 'SharedMailbox');
    assert.deepEqual(await licencesOf(held.id), ['EXCHANGESTANDARD'], 'a mailbox on hold keeps its licence');
    assert.equal((await exo('Get-Mailbox', { Identity: held.userPrincipalName })).value[0]!['RecipientTypeDetails'], 'UserMailbox');
    assert.deepEqual(await licencesOf(active.id), ['FLOW_FREE']);
    const report = await mailAbout(helpdesk.id, 'Licence reclamation');
    assert.match(report.body.content, new RegExp(`${leaver.id} \\(EXCHANGESTANDARD\\)`));
    assert.doesNotMatch(report.body.content, new RegExp(held.id));
  });

  it('licence reclamation: a rejection frees nothing', async () => {
    const leaver = await newUser('rejected', { licences: ['FLOW_FREE'] });
    await step('user.disableSignIn', { user: leaver.id });
    const h = await start('licence-reclamation', { reportTo: helpdesk.userPrincipalName });
    await decide(h, 'approve', 'reject');
    const state = await finished(h);
    assert.equal(state.nodes['reclaim']?.status, 'skipped');
    assert.deepEqual(await licencesOf(leaver.id), ['FLOW_FREE']);
  });

  it('stale guest clean-up: lists the guests who never accepted, deletes them after approval, reports', async () => {
    const email = `partner.${randomUUID().slice(0, 6)}@fabrikam.example`;
    const guest = await step('user.inviteGuest', { email, sendInvitation: false });
    const accepted = ((await env.graph.api('/users').filter("userType eq 'Guest'").get()).value as { id: string; externalUserState?: string }[]);
    const h = await start('stale-guest-cleanup', { olderThanDays: 0, onlyPendingAcceptance: true, reportTo: helpdesk.userPrincipalName });
    const waiting = await decide(h, 'approve', 'approve');
    assert.match(waiting.nodes['approve']!.approval!.message!, new RegExp(guest.userPrincipalName.replace(/[.#]/g, '\\$&')));
    const state = await finished(h);
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));
    assert.ok(await gone(`/users/${guest.userId}`), 'the guest is deleted');
    const deleted = (await env.graph.api(`/directory/deletedItems/${guest.userId}`).get()) as { id: string };
    assert.equal(deleted.id, guest.userId, 'restorable from deleted users');
    const seededAccepted = accepted.filter((g) => g.id !== guest.userId);
    assert.ok(seededAccepted.length > 0, 'the seed has accepted guests');
    for (const g of seededAccepted) assert.equal(await gone(`/users/${g.id}`), false, 'guests who accepted stay');
    assert.match((await mailAbout(helpdesk.id, 'Stale guest clean-up')).subject, /1 guests removed/);
  });

  it('stale device clean-up: deletes the devices not seen for the given days after approval, keeps the rest', async () => {
    const all = (await env.graph.api('/deviceManagement/managedDevices').top(1000).get()).value as { id: string; lastSyncDateTime: string }[];
    const fresh = all.filter((d) => d.id !== staleDevice.id && Date.now() - Date.parse(d.lastSyncDateTime) < 30 * DAY);
    assert.ok(fresh.length > 0 && all.some((d) => d.id === staleDevice.id));
    const h = await start('stale-device-cleanup', { staleDays: 30, reportTo: helpdesk.userPrincipalName });
    const waiting = await decide(h, 'approve', 'approve');
    assert.match(waiting.nodes['approve']!.approval!.message!, new RegExp(staleDevice.deviceName));
    const state = await finished(h);
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));
    assert.ok(await gone(`/deviceManagement/managedDevices/${staleDevice.id}`), 'the stale device record is deleted');
    for (const d of fresh) assert.equal(await gone(`/deviceManagement/managedDevices/${d.id}`), false, 'recent devices stay');
    assert.match((await mailAbout(helpdesk.id, 'Stale device clean-up')).subject, /1 devices removed/);
  });

  it('expiring app credentials: reports the secrets that expire soon and mails the list', async () => {
    const soon = await step('app.create', { displayName: `Payroll sync ${randomUUID().slice(0, 6)}` });
    const later = await step('app.create', { displayName: `Intranet ${randomUUID().slice(0, 6)}` });
    await step('app.addSecret', { app: soon.id, displayName: 'nightly', expiresInDays: 10, sendSecretTo: helpdesk.userPrincipalName });
    await step('app.addSecret', { app: later.id, displayName: 'portal', expiresInDays: 300, sendSecretTo: helpdesk.userPrincipalName });
    const state = await finished(await start('expiring-app-credentials', { withinDays: 30, notify: helpdesk.userPrincipalName }));
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));
    const listed = (state.nodes['report']!.output as { credentials: { appId: string }[] }).credentials.map((c) => c.appId);
    assert.ok(listed.includes(soon.appId) && !listed.includes(later.appId));
    const mail = await mailAbout(helpdesk.id, 'app credentials expire within 30 days');
    assert.match(mail.body.content, new RegExp(`${soon.displayName} \\(${soon.appId}\\): clientSecret nightly \\(tf-[0-9a-f]+\\) expires on`));
    assert.doesNotMatch(mail.body.content, new RegExp(later.appId));
  });

  it('shared mailbox request: nothing before approval; then the mailbox with Full Access and Send As, and the requester told', async () => {
    const reader = await newUser('reader');
    const alias = `enquiries-${randomUUID().slice(0, 6)}`;
    const h = await start('shared-mailbox-request', { name: alias, alias, displayName: 'Sales enquiries', fullAccess: reader.userPrincipalName, sendAs: reader.userPrincipalName, requester: helpdesk.userPrincipalName });
    await decide(h, 'approve', 'approve');
    const state = await finished(h);
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));
    const m = (await exo('Get-Mailbox', { Identity: alias })).value[0]!;
    assert.equal(m['RecipientTypeDetails'], 'SharedMailbox');
    const perms = (await exo('Get-MailboxPermission', { Identity: alias })).value.map((p) => `${p['User']}:${JSON.stringify(p['AccessRights'])}`);
    assert.ok(perms.some((p) => p.toLowerCase().startsWith(reader.userPrincipalName.toLowerCase()) && p.includes('FullAccess')), perms.join(' | '));
    const sendAs = (await exo('Get-RecipientPermission', { Identity: alias })).value.map((p) => String(p['Trustee']).toLowerCase());
    assert.ok(sendAs.includes(reader.userPrincipalName.toLowerCase()), sendAs.join(' | '));
    assert.match((await mailAbout(helpdesk.id, 'shared mailbox')).subject, /is ready/);
  });

  it('team request: a rejected request creates nothing and tells the requester; an approved one creates the team with its owner and members', async () => {
    const owner = await newUser('teamowner', { licences: ['EXCHANGESTANDARD'] });
    const member = await newUser('teammember');
    const name = `Project ${randomUUID().slice(0, 6)}`;
    const declined = await start('team-request', { displayName: `${name} declined`, owner: owner.userPrincipalName, requester: helpdesk.userPrincipalName });
    await decide(declined, 'approve', 'reject');
    assert.deepEqual(statuses(await finished(declined)), { approve: 'succeeded', rejected: 'succeeded', create: 'skipped', notify: 'skipped' });
    const groups = (await env.graph.api('/groups').filter(`displayName eq '${name} declined'`).get()).value;
    assert.equal(groups.length, 0, 'no team for a declined request');
    assert.match((await mailAbout(helpdesk.id, `${name} declined`)).subject, /was declined/);

    const h = await start('team-request', { displayName: name, description: 'Launch', owner: owner.userPrincipalName, members: member.userPrincipalName, requester: helpdesk.userPrincipalName });
    await decide(h, 'approve', 'approve');
    const state = await finished(h);
    assert.equal(state.status, 'succeeded', JSON.stringify(state.nodes, null, 1));
    const teamId = (state.nodes['create']!.output as { id: string }).id;
    const team = await env.graph.api(`/teams/${teamId}`).get();
    assert.equal(team.displayName, name);
    assert.equal(team.visibility, 'private');
    const owners = ((await env.graph.api(`/groups/${teamId}/owners`).get()).value as { id: string }[]).map((o) => o.id);
    const members = ((await env.graph.api(`/groups/${teamId}/members`).get()).value as { id: string }[]).map((o) => o.id);
    assert.deepEqual(owners, [owner.id]);
    assert.ok(members.includes(member.id));
    assert.match((await mailAbout(helpdesk.id, `Your team ${name} is ready`)).subject, /is ready/);
  });
});
