// The gallery's offboarding and onboarding templates end to end, through the API as a designer
// uses them: created from the gallery on an empty database (their sub-runbooks created and
// published with them, then reused), published with no rule warning, run by the real worker
// against the sandbox tenant, the deletion approved through the API, and the tenant read back
// through Graph, Exchange's Get-* cmdlets and SharePoint REST.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { staticTenantDirectory, type TenantConnection } from '../m365/tenants.ts';
import { createWorker } from '../worker/worker.ts';
import { sandboxExchange, sandboxSharePoint } from '../sandbox/testing.ts';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { sharedWorkflowBundle, startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let server: ApiServer;
let worker: Worker;
let running: Promise<void>;
let connection: NativeConnection;
let designer: Caller;
let exo: ReturnType<typeof sandboxExchange>;
let sp: ReturnType<typeof sandboxSharePoint>;
let domain: string;
let sender: string;

const ok = (r: { status: number; body: unknown }, status: number) => assert.equal(r.status, status, JSON.stringify(r.body, null, 1));

/** One catalog step, for setting the scene (an inline definition run through the API). */
async function step(action: string, params: Record<string, unknown>): Promise<any> {
  const started = await designer.call('POST', '/api/runs', { definition: { name: `setup ${action}`, nodes: [{ id: 's', kind: 'action', action, params }], edges: [] } });
  ok(started, 201);
  const done = await pollApi(designer, `/api/runs/${started.body.id}`, (b) => !['running', 'waiting-approval'].includes(b.status), 120_000);
  assert.equal(done.nodes.s.status, 'succeeded', JSON.stringify(done.nodes.s.error));
  return done.nodes.s.output;
}
const upn = (tag: string) => `${tag}.${randomUUID().slice(0, 8)}@${domain}`;
async function newUser(tag: string, extra: Record<string, unknown> = {}): Promise<{ id: string; userPrincipalName: string }> {
  return step('user.create', { userPrincipalName: upn(tag), displayName: `Offboarding ${tag}`, usageLocation: 'US', ...extra });
}
async function licencesOf(user: string): Promise<string[]> {
  const skus = new Map(((await env.graph.api('/subscribedSkus').get()).value as { skuId: string; skuPartNumber: string }[]).map((s) => [s.skuId, s.skuPartNumber]));
  const u = await env.graph.api(`/users/${user}`).select('assignedLicenses').get();
  return (u.assignedLicenses as { skuId: string }[]).map((l) => skus.get(l.skuId)!).sort();
}
const memberOf = async (user: string) => ((await env.graph.api(`/users/${user}/memberOf`).get()).value as { id: string }[]).map((g) => g.id);

before(async () => {
  env = await startTestEnv({ worker: false });
  domain = env.sandbox.tenant.domain;
  sender = `tenantflow.${randomUUID().slice(0, 6)}@${domain}`;
  // SharePoint REST (the OneDrive) takes only certificate tokens; mail goes out from the sender mailbox.
  const tenant: TenantConnection = { ...env.tenant, clientSecret: '', certificatePem: env.sandbox.admin.createAppCertificate(env.tenant.clientId).pem, mailFrom: sender } as TenantConnection;
  connection = await NativeConnection.connect({ address: env.address });
  worker = await createWorker({
    connection,
    namespace: env.namespace,
    taskQueue: env.taskQueue,
    tenants: staticTenantDirectory([tenant]),
    workflowBundle: sharedWorkflowBundle(),
  });
  running = worker.run();
  server = await startApiServer(env);
  designer = await server.as('designer@tenantflow.test', [{ tenant: 'sandbox', role: 'designer' }]);
  exo = sandboxExchange(env.sandbox);
  sp = sandboxSharePoint(env.sandbox);
  await step('user.create', { userPrincipalName: sender, displayName: 'Tenantflow', usageLocation: 'US', licences: ['EXCHANGESTANDARD'] });
  await step('mailbox.waitForMailbox', { mailbox: sender, timeoutMinutes: 2 });
});

after(async () => {
  await server?.close();
  worker?.shutdown();
  await running;
  await connection?.close();
  await env?.close();
});

describe('offboarding and onboarding templates', () => {
  it('the gallery creates and publishes the sub-runbooks on an empty database, then reuses them; no rule warning anywhere', async () => {
    const gallery = (await designer.call('GET', '/api/templates')).body as { id: string; warnings: unknown[]; children: string[]; definition: { inputs: { name: string; title?: string; description?: string }[] } }[];
    for (const id of ['offboarding', 'onboarding', 'secure-account', 'hand-over-mailbox', 'hand-over-groups-and-teams', 'send-temporary-access-pass', 'hybrid-offboarding']) {
      const t = gallery.find((x) => x.id === id);
      assert.ok(t, `${id} is in the gallery`);
      assert.deepEqual(t.warnings, [], id);
      for (const i of t.definition.inputs) assert.ok(i.title && i.description, `${id}: input ${i.name} is documented`);
    }
    assert.deepEqual(gallery.find((t) => t.id === 'offboarding')!.children.sort(), ['hand-over-groups-and-teams', 'hand-over-mailbox', 'secure-account']);
    const existing = ((await designer.call('GET', '/api/runbooks?archived=all')).body as { id: string }[]).map((r) => r.id);
    for (const id of ['secure-account', 'hand-over-mailbox', 'hand-over-groups-and-teams', 'send-temporary-access-pass']) assert.ok(!existing.includes(id), `no ${id} runbook yet: ${existing}`);

    const created = await designer.call('POST', '/api/templates/offboarding/runbooks', {});
    ok(created, 201);
    assert.equal(created.body.id, 'offboarding-complete');
    assert.deepEqual(created.body.children.map((c: { id: string; created: boolean; version: number }) => [c.id, c.created, c.version]).sort(), [
      ['hand-over-groups-and-teams', true, 1], ['hand-over-mailbox', true, 1], ['secure-account', true, 1],
    ]);
    for (const c of ['secure-account', 'hand-over-mailbox', 'hand-over-groups-and-teams']) {
      const rb = await designer.call('GET', `/api/runbooks/${c}`);
      ok(rb, 200);
      assert.equal(rb.body.version, 1, `${c} is published`);
    }
    const published = await designer.call('POST', '/api/runbooks/offboarding-complete/publish', {});
    ok(published, 201);
    assert.deepEqual(published.body.warnings, []);
    const pins = (published.body.definition.nodes as { kind: string; runbook?: string; pinned?: { version: number } }[]).filter((n) => n.kind === 'subRunbook').map((n) => [n.runbook, n.pinned?.version]);
    assert.deepEqual(pins.sort(), [['hand-over-groups-and-teams', 1], ['hand-over-mailbox', 1], ['secure-account', 1]]);

    // A second runbook from the same template reuses the published children.
    const again = await designer.call('POST', '/api/templates/offboarding/runbooks', { id: 'offboarding-sales', name: 'Offboarding (sales)' });
    ok(again, 201);
    assert.deepEqual(again.body.children.map((c: { created: boolean }) => c.created), [false, false, false]);
    assert.equal(again.body.name, 'Offboarding (sales)');
    ok(await designer.call('POST', '/api/templates/no-such-template/runbooks', {}), 404);

    const onboarding = await designer.call('POST', '/api/templates/onboarding/runbooks', {});
    ok(onboarding, 201);
    assert.deepEqual(onboarding.body.children.map((c: { id: string; created: boolean }) => [c.id, c.created]), [['send-temporary-access-pass', true]]);
    const onPublished = await designer.call('POST', `/api/runbooks/${onboarding.body.id}/publish`, {});
    ok(onPublished, 201);
    assert.deepEqual(onPublished.body.warnings, []);
  });

  it('offboarding, complete: every step on the sandbox, then the deletion after an approval and the delay', async () => {
    const manager = await newUser('manager', { licences: ['SPE_E3'] });
    const leaver = await newUser('leaver', { licences: ['SPE_E3'] });
    for (const u of [manager, leaver]) await step('mailbox.waitForMailbox', { mailbox: u.userPrincipalName, timeoutMinutes: 2 });
    await step('onedrive.provision', { users: [leaver.userPrincipalName] });
    const tag = randomUUID().slice(0, 6);
    const group = await step('group.createSecurity', { displayName: `Leaver staff ${tag}`, members: [leaver.id] });
    const team = await step('teams.create', { displayName: `Leaver team ${tag}`, owner: leaver.userPrincipalName });
    // Someone else's mailbox the leaver may open.
    const shared = await newUser('colleague', { licences: ['EXCHANGESTANDARD'] });
    await step('mailbox.waitForMailbox', { mailbox: shared.userPrincipalName, timeoutMinutes: 2 });
    await step('mailbox.addFullAccess', { mailbox: shared.userPrincipalName, users: [leaver.userPrincipalName], autoMapping: false });
    // ... and whose calendar the leaver may read; a plain (non-team) group only the leaver owns.
    await step('mailbox.setCalendarPermission', { mailbox: shared.userPrincipalName, users: [leaver.userPrincipalName], accessRights: 'Reviewer' });
    const calendarUsers = async () => (await exo('Get-MailboxFolderPermission', { Identity: `${shared.userPrincipalName}:\\Calendar` })).value.map((p) => String(p['User']));
    assert.ok((await calendarUsers()).includes('Offboarding leaver'), 'the leaver may read the colleague\'s calendar');
    const owned = await step('group.createSecurity', { displayName: `Leaver owns ${tag}`, owners: [leaver.id] });
    await env.graph.api(`/users/${leaver.id}/mailFolders/inbox/messageRules`).post({ displayName: 'Forward all', sequence: 1, isEnabled: true, conditions: {}, actions: { forwardTo: [{ emailAddress: { address: 'out@example.org' } }] } });
    const device = env.sandbox.admin.enrollDevice({ user: leaver.id, operatingSystem: 'Windows' });
    const inTwoDays = (h: number) => ({ dateTime: new Date(Date.now() + 2 * 86_400_000 + h * 3_600_000).toISOString().slice(0, 19), timeZone: 'UTC' });
    await env.graph.api(`/users/${leaver.id}/events`).post({ subject: `Leaver's weekly ${tag}`, start: inTwoDays(0), end: inTwoDays(1), attendees: [{ type: 'required', emailAddress: { address: manager.userPrincipalName } }] });
    const managerEvents = async () => ((await env.graph.api(`/users/${manager.id}/events`).get()).value as { subject: string }[]).map((e) => e.subject);
    assert.ok((await managerEvents()).includes(`Leaver's weekly ${tag}`), 'the manager was invited');
    const before = await env.graph.api(`/users/${leaver.id}`).select('signInSessionsValidFromDateTime').get();
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(before.signInSessionsValidFromDateTime) + 1100 - Date.now())));

    const started = await designer.call('POST', '/api/runs', {
      runbookId: 'offboarding-complete',
      inputs: {
        user: leaver.userPrincipalName, manager: manager.userPrincipalName, autoReply: true, autoReplyMessage: 'Gone fishing', forwardMail: true, keepCopy: true,
        autoMapping: false, managedDevices: 'retire', deleteAccount: true, deleteAfterDays: 0.00005,
      },
    });
    ok(started, 201);
    const runId = started.body.id as string;
    const waiting = await pollApi(designer, `/api/runs/${runId}`, (b) => b.status !== 'running', 300_000);
    assert.equal(waiting.status, 'waiting-approval', JSON.stringify(waiting.nodes, null, 1));

    // Everything but the deletion is done; read the tenant back.
    const u = await env.graph.api(`/users/${leaver.id}`).select('accountEnabled,signInSessionsValidFromDateTime').get();
    assert.equal(u.accountEnabled, false);
    assert.ok(u.signInSessionsValidFromDateTime > before.signInSessionsValidFromDateTime, 'sessions revoked');
    const mbx = (await exo('Get-Mailbox', { Identity: leaver.userPrincipalName })).value[0]!;
    assert.equal(mbx['RecipientTypeDetails'], 'SharedMailbox');
    assert.equal(mbx['HiddenFromAddressListsEnabled'], true);
    assert.equal(mbx['DeliverToMailboxAndForward'], true);
    assert.ok(mbx['ForwardingAddress'], 'forwarding set');
    const auto = (await exo('Get-MailboxAutoReplyConfiguration', { Identity: leaver.userPrincipalName })).value[0]!;
    assert.equal(auto['AutoReplyState'], 'Enabled');
    assert.match(String(auto['InternalMessage']), /Gone fishing/);
    const rights = (await exo('Get-MailboxPermission', { Identity: leaver.userPrincipalName })).value;
    assert.ok(rights.some((r) => String(r['User']).toLowerCase() === manager.userPrincipalName.toLowerCase() && String(r['AccessRights']).includes('FullAccess')), JSON.stringify(rights));
    const onOthers = (await exo('Get-MailboxPermission', { Identity: shared.userPrincipalName })).value;
    assert.ok(!onOthers.some((r) => String(r['User']).toLowerCase() === leaver.userPrincipalName.toLowerCase()), 'no rights left on the colleague\'s mailbox');
    assert.ok(!(await calendarUsers()).includes('Offboarding leaver'), `no permission left on the colleague's calendar: ${await calendarUsers()}`);
    assert.deepEqual((await env.graph.api(`/users/${leaver.id}/mailFolders/inbox/messageRules`).get()).value, []);
    assert.ok(!(await managerEvents()).includes(`Leaver's weekly ${tag}`), "the leaver's meeting was cancelled for the attendees");
    const drive = (await env.graph.api(`/users/${leaver.id}/drive`).get()).webUrl.replace(/\/Documents$/, '');
    const admins = (await sp('GET', `${drive}/_api/web/siteusers?$filter=IsSiteAdmin eq true`)).body.value.map((x: { UserPrincipalName: string }) => x.UserPrincipalName.toLowerCase());
    assert.ok(admins.includes(manager.userPrincipalName.toLowerCase()), `manager is an admin of the OneDrive: ${admins}`);
    const owners = ((await env.graph.api(`/groups/${team.id}/owners`).get()).value as { id: string }[]).map((o) => o.id);
    assert.ok(owners.includes(manager.id) && !owners.includes(leaver.id), `team owners: ${owners}`);
    const groupOwners = ((await env.graph.api(`/groups/${owned.id}/owners`).get()).value as { id: string }[]).map((o) => o.id);
    assert.deepEqual(groupOwners, [manager.id], 'the manager owns the group the leaver owned');
    const groups = await memberOf(leaver.id);
    assert.ok(!groups.includes(group.id) && !groups.includes(team.id), `groups left: ${groups}`);
    assert.deepEqual(await licencesOf(leaver.id), []);
    // Retired: gone from Intune once it checked in, or the retire action is on its record.
    const managed = await env.graph.api(`/deviceManagement/managedDevices/${device.id}`).get().catch((e: { statusCode?: number }) => assert.equal(e.statusCode, 404));
    assert.ok(!managed || (managed.deviceActionResults as { actionName: string }[]).some((r) => r.actionName === 'retire'), JSON.stringify(managed));
    assert.equal(waiting.nodes.each_device.status, 'succeeded');
    assert.ok(env.sandbox.admin.sentMail({ to: manager.userPrincipalName }).length >= 1, 'the new password went to the manager');

    // The deletion waits for the leaver's manager (named by {{ inputs.manager }}) or an approver;
    // a designer, neither, is refused. The manager signs in with their own account and says yes;
    // the account is deleted after the (short) delay.
    assert.ok(waiting.nodes.approve_delete.approval.pendingApprovers.includes(manager.userPrincipalName.toLowerCase()), JSON.stringify(waiting.nodes.approve_delete.approval));
    assert.equal((await designer.call('POST', `/api/runs/${runId}/approvals/approve_delete`, { decision: 'approve' })).status, 403);
    const managerSignedIn = await server.as(manager.userPrincipalName.toLowerCase(), [{ tenant: 'sandbox', role: 'viewer' }]);
    ok(await managerSignedIn.call('POST', `/api/runs/${runId}/approvals/approve_delete`, { decision: 'approve' }), 202);
    const done = await pollApi(designer, `/api/runs/${runId}`, (b) => !['running', 'waiting-approval'].includes(b.status), 120_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.nodes, null, 1));
    await assert.rejects(env.graph.api(`/users/${leaver.id}`).get(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  it('onboarding from a template user: properties, licences, groups and teams copied, manager set, temporary access pass mailed to the manager', async () => {
    const manager = await newUser('hiring', { licences: ['EXCHANGESTANDARD'] });
    await step('mailbox.waitForMailbox', { mailbox: manager.userPrincipalName, timeoutMinutes: 2 });
    const template = await newUser('template', { department: 'Finance', jobTitle: 'Controller', licences: ['SPE_E3'] });
    const tag = randomUUID().slice(0, 6);
    const group = await step('group.createSecurity', { displayName: `Finance staff ${tag}`, members: [template.id] });
    const team = await step('teams.create', { displayName: `Finance team ${tag}`, owner: manager.userPrincipalName, members: [template.userPrincipalName] });
    const newcomer = upn('newcomer');
    const list = (await designer.call('GET', '/api/runbooks')).body as { id: string; name: string }[];
    const onboarding = list.find((r) => r.name === 'Onboarding from a template user')!.id;
    const started = await designer.call('POST', '/api/runs', {
      runbookId: onboarding,
      inputs: { templateUser: template.userPrincipalName, userPrincipalName: newcomer, displayName: 'Nina Newcomer', givenName: 'Nina', surname: 'Newcomer', manager: manager.userPrincipalName },
    });
    ok(started, 201);
    const done = await pollApi(designer, `/api/runs/${started.body.id}`, (b) => b.status !== 'running', 180_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.nodes, null, 1));

    const u = await env.graph.api(`/users/${newcomer}`).select('id,department,jobTitle,displayName').get();
    assert.deepEqual([u.department, u.jobTitle, u.displayName], ['Finance', 'Controller', 'Nina Newcomer']);
    assert.deepEqual(await licencesOf(u.id), ['SPE_E3']);
    const groups = await memberOf(u.id);
    assert.ok(groups.includes(group.id) && groups.includes(team.id), `groups and the team copied: ${groups}`);
    assert.equal((await env.graph.api(`/users/${u.id}/manager`).get()).id, manager.id);
    const passes = (await env.graph.api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).get()).value;
    assert.equal(passes.length, 1, 'a temporary access pass exists');
    const mail = env.sandbox.admin.sentMail({ to: manager.userPrincipalName });
    assert.ok(mail.some((m) => JSON.stringify(m).includes(newcomer)), 'the pass was mailed to the manager');
  });
});
