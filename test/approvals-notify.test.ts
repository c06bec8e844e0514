// Approvals where the approvers are: Entra-group approvers read from the tenant when the step
// starts and enforced by the workflow itself (decisions sent straight to Temporal, not through the
// API), and requests / reminders sent by the workflow to the approvers themselves (mail read back
// from the approver's mailbox through Graph, the Teams card from the webhook it was posted to);
// the requester's notice of the run's end comes from the control plane's notifier.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { RunbookDefinitionInput } from '../runbook/definition.ts';
import { executeApprovalUpdate } from '../server/temporal.ts';
import { startNotifier } from '../server/notify.ts';
import { startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const PUBLIC_URL = 'https://tenantflow.example.test';
let env: TestEnv;
let api: ApiServer;
let notifier: ReturnType<typeof startNotifier>;
/** Users with a mailbox: [sender, approver in the group, member of a nested group, outsider, requester]. */
let people: { id: string; upn: string }[] = [];

interface Message {
  subject: string;
  body: { contentType: string; content: string };
  toRecipients: { emailAddress: { address: string } }[];
}

before(async () => {
  // The worker reads these when it is created: links in messages, and the mailbox they come from.
  process.env.PUBLIC_URL = PUBLIC_URL;
  env = await startTestEnv();
  const users = (await env.graph.api('/users').select('id,userPrincipalName').top(40).get()) as { value: { id: string; userPrincipalName: string }[] };
  for (const u of users.value) {
    const hasMailbox = await env.graph.api(`/users/${u.id}/messages`).top(1).get().then(() => true, () => false);
    if (hasMailbox) people.push({ id: u.id, upn: u.userPrincipalName.toLowerCase() });
    if (people.length === 5) break;
  }
  assert.equal(people.length, 5, 'the sandbox has five users with mailboxes');
  process.env.TENANTFLOW_MAIL_FROM = people[0]!.upn;
  // The control plane, whose notifier tells the requester how a run ended.
  api = await startApiServer(env, { publicUrl: PUBLIC_URL });
  notifier = startNotifier(api.services, { intervalMs: 200, publicUrl: PUBLIC_URL, log: () => undefined });
});
after(async () => {
  delete process.env.TENANTFLOW_MAIL_FROM;
  notifier?.stop();
  await api?.close();
  await env?.close();
});

async function group(name: string, memberIds: string[]): Promise<string> {
  const g = (await env.graph.api('/groups').post({ displayName: name, mailEnabled: false, mailNickname: name.replace(/\W/g, ''), securityEnabled: true })) as { id: string };
  for (const id of memberIds) await env.graph.api(`/groups/${g.id}/members/$ref`).post({ '@odata.id': `${env.tenant.graphUrl}/v1.0/directoryObjects/${id}` });
  return g.id;
}

const approval = (approvers: Record<string, unknown>, extra: Record<string, unknown> = {}, settings: Record<string, unknown> = {}): RunbookDefinitionInput =>
  ({
    name: 'Offboard a leaver',
    inputs: [{ name: 'who', type: 'string' }, { name: 'password', type: 'string', secret: true }],
    settings,
    nodes: [
      { id: 'ask', kind: 'approval', approvers, message: 'Offboard {{ inputs.who }}?', ...extra },
      { id: 'done', kind: 'end', status: 'succeeded' },
    ],
    edges: [{ source: 'ask', sourceHandle: 'approved', target: 'done' }],
  }) as RunbookDefinitionInput;

describe('approvals by Entra group, enforced by the workflow', () => {
  it('reads the group\'s members (nested too) when the step starts; refuses an outsider\'s Update with the reason and takes a member\'s', async () => {
    const [, direct, nested, outsider, requester] = people;
    const suffix = randomUUID().slice(0, 8);
    const inner = await group(`Approvers inner ${suffix}`, [nested!.id]);
    const name = `HR approvers ${suffix}`;
    const outer = await group(name, [direct!.id, inner]);
    const h = await env.start(approval({ entraGroups: [name] }), { who: 'Ada' }, { startedBy: requester!.upn });
    const waiting = await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    assert.deepEqual(waiting.nodes.ask!.approval!.entraGroups!.map((g) => [g.ref, g.id]), [[name, outer]]);
    assert.ok(waiting.nodes.ask!.approval!.pendingApprovers.includes(direct!.upn));
    assert.ok(waiting.nodes.ask!.approval!.pendingApprovers.includes(nested!.upn), 'a member of a nested group');

    // Straight to Temporal: the outsider even claims to be an admin in every Tenantflow group.
    const err = await executeApprovalUpdate(h, { nodeId: 'ask', decision: 'approve', by: outsider!.upn, roles: ['admin'], groups: [name] }).then(
      () => assert.fail('the outsider\'s decision was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
    assert.equal((err.cause as { type?: string }).type, 'not-approver');
    assert.match(err.cause!.message, new RegExp(`${outsider!.upn.replace(/\./g, '\\.')} is not an approver of step "ask"`));
    assert.deepEqual((await env.state(h)).nodes.ask!.approval!.decisions, [], 'nothing written for the refused decision');

    const recorded = await executeApprovalUpdate(h, { nodeId: 'ask', decision: 'approve', by: nested!.upn, roles: [], groups: [] });
    assert.equal(recorded.by, nested!.upn);
    assert.equal(recorded.refused, undefined);
    const final = await h.result();
    assert.equal(final.status, 'succeeded');
    assert.equal((final.nodes.ask!.output as { decidedBy: string }).decidedBy, nested!.upn);
  });

  it('fails the step with a clear reason when the Entra group does not exist', async () => {
    const h = await env.start(approval({ entraGroups: [`No such group ${randomUUID()}`] }), { who: 'Ada' });
    const final = await env.waitFor(h, (s) => s.nodes.ask?.status === 'failed');
    assert.match(final.nodes.ask!.error!.message, /group "No such group .*" does not exist/);
  });
});

describe('approval requests and reminders reach the approvers', () => {
  async function inbox(upn: string, runId: string): Promise<Message[]> {
    const res = (await env.graph.api(`/users/${upn}/messages`).top(50).get()) as { value: Message[] };
    return res.value.filter((m) => m.body.content.includes(encodeURIComponent(runId)));
  }

  it('mails each approver the request and a reminder (what, by whom, for whom, a link to the page), and posts a Teams card that mentions them', async () => {
    const [, approver, , , requester] = people;
    const cards = env.sandbox.admin.webhookUrl(`cards-${randomUUID()}`);
    const h = await env.start(approval({ users: [approver!.upn] }, { reminders: { every: '3s' } }, { notifications: { approvalCards: [cards] } }), { who: 'Ada Lovelace', password: 'not-in-any-mail' }, { startedBy: requester!.upn });
    await env.waitFor(h, (s) => s.nodes.ask?.status === 'waiting-approval');
    const link = `${PUBLIC_URL}/approvals/${encodeURIComponent(h.workflowId)}/ask`;
    // The request, then at least one reminder: read back from the approver's own mailbox.
    let mails: Message[] = [];
    for (let i = 0; i < 300 && !mails.some((m) => /Reminder/.test(m.subject)); i++) {
      mails = await inbox(approver!.upn, h.workflowId);
      await new Promise((r) => setTimeout(r, 100));
    }
    const request = mails.find((m) => /Approval requested/.test(m.subject));
    const reminder = mails.find((m) => /Reminder/.test(m.subject));
    assert.ok(request, `the request reached ${approver!.upn}: ${mails.map((m) => m.subject).join(', ')}`);
    assert.ok(reminder, 'a reminder reached the approver');
    for (const m of [request, reminder]) {
      assert.deepEqual(m.toRecipients.map((r) => r.emailAddress.address.toLowerCase()), [approver!.upn]);
      assert.match(m.subject, /Offboard a leaver/);
      assert.match(m.body.content, /Offboard Ada Lovelace\?/, 'what is asked');
      assert.ok(m.body.content.includes(requester!.upn), 'by whom');
      assert.match(m.body.content, /who<\/th><td>Ada Lovelace/, 'for whom');
      assert.ok(m.body.content.includes(`href="${link}"`), 'the link to the approval page');
      assert.ok(!m.body.content.includes('not-in-any-mail'), 'secret inputs are left out');
    }
    const posted = env.sandbox.admin.webhooks(cards.split('/').pop()!);
    assert.ok(posted.length >= 1, 'the Teams card was posted');
    const card = (posted[0]!.body as { attachments: { contentType: string; content: Record<string, unknown> }[] }).attachments[0]!;
    assert.equal(card.contentType, 'application/vnd.microsoft.card.adaptive');
    const text = JSON.stringify(card.content);
    assert.ok(text.includes(`<at>${approver!.upn}</at>`), 'the approver is mentioned');
    assert.ok(text.includes('Offboard Ada Lovelace?'));
    assert.deepEqual(card.content.actions, [{ type: 'Action.OpenUrl', title: 'Open the approval', url: link }], 'a button that opens the page, never one that decides');

    await executeApprovalUpdate(h, { nodeId: 'ask', decision: 'reject', by: approver!.upn, roles: [], groups: [] });
    assert.equal((await h.result()).status, 'rejected');
    // The requester hears how the run ended, in their own mailbox (from the control plane's notifier).
    let ended: Message[] = [];
    for (let i = 0; i < 300 && !ended.length; i++) {
      ended = (await inbox(requester!.upn, h.workflowId)).filter((m) => /run rejected/.test(m.subject));
      if (!ended.length) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ended.length, 1, 'the requester was told the run ended');
    assert.ok(ended[0]!.body.content.includes(`${PUBLIC_URL}/runs/${encodeURIComponent(h.workflowId)}`));
  });
});
