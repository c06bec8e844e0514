// Notifications configured on a runbook: a webhook hears that a run waits for approval (and is
// reminded), completed or failed, each event once; an email target gets mail through the tenant.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startNotifier } from '../server/notify.ts';
import { startApiServer, pollApi, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let api: ApiServer;
let notifier: ReturnType<typeof startNotifier>;
let mailFrom: string;
const logged: string[] = [];

before(async () => {
  env = await startTestEnv();
  api = await startApiServer(env);
  // A service mailbox in the sandbox tenant to send notification mail from.
  const domain = env.sandbox.tenant.domain;
  mailFrom = `notifications.${randomUUID().slice(0, 6)}@${domain}`;
  const user = await env.graph.api('/users').post({
    accountEnabled: true,
    userPrincipalName: mailFrom,
    displayName: 'Tenantflow notifications',
    mailNickname: mailFrom.split('@')[0],
    usageLocation: 'US',
    passwordProfile: { password: 'Xy-9876-abcdef!', forceChangePasswordNextSignIn: false },
  });
  const sku = (await env.graph.api('/subscribedSkus').get()).value.find((s: { skuPartNumber: string }) => s.skuPartNumber === 'EXCHANGESTANDARD');
  await env.graph.api(`/users/${user.id}/assignLicense`).post({ addLicenses: [{ skuId: sku.skuId, disabledPlans: [] }], removeLicenses: [] });
  process.env.TENANTFLOW_MAIL_FROM = mailFrom;
  notifier = startNotifier(api.services, { intervalMs: 200, publicUrl: api.base, log: (m) => logged.push(m) });
});
after(async () => {
  notifier?.stop();
  delete process.env.TENANTFLOW_MAIL_FROM;
  await api?.close();
  await env?.close();
});

// Generous: on a loaded CI machine a pass of the notifier over the runs can take many seconds.
async function waitFor<T>(what: string, get: () => T[], until: (xs: T[]) => boolean, ms = 45_000): Promise<T[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const xs = get();
    if (until(xs)) return xs;
    if (Date.now() > deadline) throw new Error(`${what}: got ${JSON.stringify(xs).slice(0, 800)}\nnotifier log: ${logged.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function publish(id: string, definition: unknown) {
  const created = await api.admin.call('POST', '/api/runbooks', { id, definition });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const published = await api.admin.call('POST', `/api/runbooks/${id}/publish`, {});
  assert.equal(published.status, 201, JSON.stringify(published.body));
}

describe('run notifications', () => {
  it('tells a webhook about a waiting approval and the completed run, each once (reminders are the workflow\'s now)', async () => {
    const hook = `notify-${randomUUID().slice(0, 6)}`;
    const url = env.sandbox.admin.webhookUrl(hook);
    const mailTo = mailFrom;
    await publish(`notified-${hook}`, {
      name: 'Notified runbook',
      nodes: [
        { id: 'ask', kind: 'approval', approvers: { roles: ['approver'] }, message: 'OK?', reminders: { every: '1s' } },
        { id: 'done', kind: 'end' },
      ],
      edges: [{ source: 'ask', sourceHandle: 'approved', target: 'done' }],
      settings: { notifications: { onApproval: [url], onComplete: [url, mailTo], onFailure: [url] } },
    });
    const started = await api.admin.call('POST', '/api/runs', { runbookId: `notified-${hook}`, inputs: {} });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const runId = started.body.id as string;

    const events = () => env.sandbox.admin.webhooks(hook).map((d) => d.body as { event: string; runId: string; node?: string; status?: string });
    await waitFor('approval.waiting', events, (xs) => xs.some((x) => x.event === 'approval.waiting'));
    // The step reminds its approvers itself (test/approvals-notify.test.ts); give the server's
    // notifier a few ticks past the reminder interval to show it no longer does.
    await new Promise((r) => setTimeout(r, 2500));

    const approver = await api.as(`approver.${hook}@tenantflow.test`, [{ tenant: '*', role: 'approver' }]);
    const decided = await approver.call('POST', `/api/runs/${runId}/approvals/ask`, { decision: 'approve' });
    assert.equal(decided.status, 202, JSON.stringify(decided.body));
    await pollApi(api.admin, `/api/runs/${runId}`, (r) => r.status === 'succeeded');

    const all = await waitFor('run.completed', events, (xs) => xs.some((x) => x.event === 'run.completed'));
    await new Promise((r) => setTimeout(r, 800)); // a few more notifier ticks must not repeat anything
    const final = events();
    assert.equal(final.filter((x) => x.event === 'approval.waiting').length, 1);
    assert.equal(final.filter((x) => x.event === 'run.completed').length, 1);
    assert.equal(final.filter((x) => x.event === 'run.failed').length, 0);
    assert.equal(final.filter((x) => x.event === 'approval.reminder').length, 0, 'no server reminder for a run whose workflow reminds');
    assert.ok(all.every((x) => x.runId === runId));
    assert.equal(all.find((x) => x.event === 'approval.waiting')!.node, 'ask');

    const mail = await waitFor('the completion mail', () => env.sandbox.admin.sentMail({ from: mailFrom }), (xs) => xs.some((m) => m.subject.includes('Notified runbook')));
    assert.match(mail.find((m) => m.subject.includes('Notified runbook'))!.subject, /run succeeded$/);
    assert.equal(all.find((x) => x.event === 'run.completed')!.status, 'succeeded');
  });

  it('tells a webhook that a run failed', async () => {
    const hook = `fail-${randomUUID().slice(0, 6)}`;
    const url = env.sandbox.admin.webhookUrl(hook);
    await publish(`failing-${hook}`, {
      name: 'Failing runbook',
      nodes: [{ id: 'add', kind: 'action', action: 'group.addMember', params: { group: 'No Such Group', user: 'nobody@contoso.com' } }],
      settings: { notifications: { onFailure: [url] } },
    });
    const started = await api.admin.call('POST', '/api/runs', { runbookId: `failing-${hook}`, inputs: {} });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const events = () => env.sandbox.admin.webhooks(hook).map((d) => d.body as { event: string; runId: string });
    const got = await waitFor('run.failed', events, (xs) => xs.some((x) => x.event === 'run.failed'));
    assert.equal(got[0]!.runId, started.body.id);
  });

  it('says how a run ended: succeeded with warnings, with every warning, in the event and the mail', async () => {
    const hook = `warn-${randomUUID().slice(0, 6)}`;
    const url = env.sandbox.admin.webhookUrl(hook);
    await publish(`warning-${hook}`, {
      name: `Warning runbook ${hook}`,
      nodes: [
        { id: 'add', kind: 'action', action: 'group.addMember', params: { group: 'No Such Group', user: 'nobody@contoso.com' }, onError: 'continue' },
        { id: 'done', kind: 'end' },
      ],
      edges: [{ source: 'add', target: 'done' }],
      settings: { notifications: { onComplete: [url, mailFrom], onFailure: [url] } },
    });
    const started = await api.admin.call('POST', '/api/runs', { runbookId: `warning-${hook}`, inputs: {} });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const events = () => env.sandbox.admin.webhooks(hook).map((d) => d.body as { event: string; status: string; warnings?: string[]; message?: string });
    const [event] = await waitFor('run.completed', events, (xs) => xs.length > 0);
    assert.equal(event!.event, 'run.completed');
    assert.equal(event!.status, 'succeeded-with-warnings');
    assert.match(event!.warnings![0]!, /^step add failed and the run went on: /);
    const mail = await waitFor('the mail', () => env.sandbox.admin.sentMail({ from: mailFrom }), (xs) => xs.some((m) => m.subject.includes(hook)));
    assert.match(mail.find((m) => m.subject.includes(hook))!.subject, /run succeeded with warnings$/);
  });

  it('pages through every run that ended since its last pass, each notified once', async () => {
    // This test's own notifier, with pages of two, starts only once the five runs below have ended.
    notifier.stop();
    const hook = `pages-${randomUUID().slice(0, 6)}`;
    const url = env.sandbox.admin.webhookUrl(hook);
    await publish(`paged-${hook}`, { name: 'Paged runbook', nodes: [{ id: 'done', kind: 'end' }], settings: { notifications: { onComplete: [url] } } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const started = await api.admin.call('POST', '/api/runs', { runbookId: `paged-${hook}`, inputs: {} });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      ids.push(started.body.id);
    }
    for (const id of ids) await pollApi(api.admin, `/api/runs/${id}`, (r) => r.status === 'succeeded');
    const late = startNotifier(api.services, { intervalMs: 200, pageSize: 2, publicUrl: api.base, log: (m) => logged.push(m) });
    try {
      const events = () => env.sandbox.admin.webhooks(hook).map((d) => d.body as { event: string; runId: string });
      await waitFor('five run.completed', events, (xs) => xs.filter((x) => x.event === 'run.completed').length >= 5);
      await new Promise((r) => setTimeout(r, 800)); // more passes must not repeat any
      assert.deepEqual(events().map((x) => x.runId).sort(), [...ids].sort());
    } finally {
      late.stop();
    }
  });
});
