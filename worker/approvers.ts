// The approval step's own activities (workflows/approver-activities.ts): reading the members of
// the Entra groups a step names, and telling people: the approvers (mail to each, an Adaptive Card
// in Teams that mentions them) and the requester when the run ends. Every message links to
// Tenantflow's authenticated approval page; a link never decides anything (decisions are POSTs).
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Client } from '@microsoft/microsoft-graph-client';
import { ActionError } from '../m365/errors.ts';
import { findGroup } from '../m365/graph.ts';
import { callWebhook, sendMail } from '../m365/notify.ts';
import type { TenantConnection, TenantDirectory } from '../m365/tenants.ts';
import type { ApprovalNotice, ApproverActivities, NoticeResult, ResolvedApproverGroup, RunEndNotice } from '../workflows/approver-activities.ts';
import { listAll } from './actions/shared.ts';

/** A step may name groups of at most this many people (they all go into the step's state and visibility). */
export const MAX_GROUP_MEMBERS = 500;

export interface ApproverDeps {
  tenants: TenantDirectory;
  graphFor: (conn: TenantConnection, signal?: AbortSignal) => Client;
  /** Tenantflow's address as people reach it (links in messages), e.g. https://tenantflow.contoso.com (default PUBLIC_URL). */
  publicUrl?: string;
  /** The mailbox notifications are sent from when the tenant connection names none (default TENANTFLOW_MAIL_FROM). */
  mailFrom?: string;
}

interface DirectoryObject {
  '@odata.type'?: string;
  userPrincipalName?: string | null;
  mail?: string | null;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The approval page a message links to: the designer's page for this one step (sign-in first). */
export function approvalLink(publicUrl: string, runId: string, nodeId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/approvals/${encodeURIComponent(runId)}/${encodeURIComponent(nodeId)}`;
}

const KIND_WORDS: Record<ApprovalNotice['kind'], string> = {
  request: 'Approval requested',
  reminder: 'Reminder: approval still waiting',
  escalation: 'Escalated: approval waiting',
};

function planLines(plan: unknown): string[] {
  if (plan === undefined || plan === null) return [];
  if (Array.isArray(plan)) return plan.map((p) => (typeof p === 'string' ? p : typeof p === 'object' && p && 'summary' in p ? String((p as { summary: unknown }).summary) : JSON.stringify(p)));
  if (typeof plan === 'object' && 'steps' in plan && Array.isArray((plan as { steps: unknown }).steps)) return planLines((plan as { steps: unknown[] }).steps);
  return [typeof plan === 'string' ? plan : JSON.stringify(plan)];
}

/** The mail to an approver: what is asked, by whom, for whom, the plan, and a button to the page. */
export function approvalMail(n: ApprovalNotice, link: string): { subject: string; html: string } {
  const facts = Object.entries(n.facts);
  const plan = planLines(n.plan);
  const subject = `[Tenantflow] ${KIND_WORDS[n.kind]}: ${n.runbookName}`;
  const html = [
    `<h2>${escapeHtml(KIND_WORDS[n.kind])}: ${escapeHtml(n.runbookName)}</h2>`,
    n.message ? `<p>${escapeHtml(n.message)}</p>` : '',
    `<p>Requested by <b>${escapeHtml(n.requester)}</b> (step ${escapeHtml(n.nodeId)} of run ${escapeHtml(n.runId)}).</p>`,
    facts.length ? `<table>${facts.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>` : '',
    plan.length ? `<p>When approved:</p><ul>${plan.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '',
    n.deadline ? `<p>Decides itself at ${escapeHtml(n.deadline)}.</p>` : '',
    `<p><a href="${escapeHtml(link)}">Open the approval in Tenantflow</a></p>`,
    '<p>Opening the link decides nothing: you approve or reject on the page, after signing in.</p>',
  ].join('\n');
  return { subject, html };
}

/** The Adaptive Card posted to Teams: the same content, the approvers @mentioned, an Open URL button. */
export function approvalCard(n: ApprovalNotice, link: string): Record<string, unknown> {
  const mentions = n.to.map((upn) => ({ type: 'mention', text: `<at>${upn}</at>`, mentioned: { id: upn, name: upn } }));
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      { type: 'TextBlock', text: `${KIND_WORDS[n.kind]}: ${n.runbookName}`, weight: 'Bolder', size: 'Medium', wrap: true },
      ...(n.message ? [{ type: 'TextBlock', text: n.message, wrap: true }] : []),
      {
        type: 'FactSet',
        facts: [{ title: 'Requested by', value: n.requester }, ...Object.entries(n.facts).map(([title, value]) => ({ title, value })), ...(n.deadline ? [{ title: 'Decides itself', value: n.deadline }] : [])],
      },
      ...planLines(n.plan).map((l) => ({ type: 'TextBlock', text: `• ${l}`, wrap: true })),
      ...(mentions.length ? [{ type: 'TextBlock', text: `Asked: ${mentions.map((m) => m.text).join(', ')}`, wrap: true }] : []),
    ],
    actions: [{ type: 'Action.OpenUrl', title: 'Open the approval', url: link }],
    msteams: { entities: mentions },
  };
}

export function createApproverActivities(deps: ApproverDeps): ApproverActivities {
  const connection = async (tenant: string) => {
    try {
      return await deps.tenants.get(tenant);
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, 'UnknownTenant');
    }
  };
  const senderOf = (conn: TenantConnection) => (conn as { mailFrom?: string }).mailFrom ?? deps.mailFrom ?? process.env.TENANTFLOW_MAIL_FROM;
  const baseUrl = () => deps.publicUrl ?? process.env.PUBLIC_URL ?? 'http://127.0.0.1:8080';

  return {
    async resolveApproverGroups({ tenant, groups }) {
      const conn = await connection(tenant);
      const graph = deps.graphFor(conn, Context.current().cancellationSignal);
      const out: ResolvedApproverGroup[] = [];
      for (const ref of groups) {
        try {
          const group = await findGroup(graph, ref);
          const { items, truncated } = await listAll<DirectoryObject>(graph, `/groups/${group.id}/transitiveMembers`, { max: MAX_GROUP_MEMBERS * 2 });
          const users = items.filter((o) => o['@odata.type'] === '#microsoft.graph.user');
          if (truncated || users.length > MAX_GROUP_MEMBERS)
            throw new ActionError(`Entra group "${ref}" has more than ${MAX_GROUP_MEMBERS} members: too many approvers for one step`, { code: 'TooManyApprovers', hint: 'name a smaller group of approvers' });
          const members = [...new Set(users.flatMap((u) => [u.userPrincipalName, u.mail]).filter((v): v is string => !!v).map((v) => v.toLowerCase()))].sort();
          out.push({ ref, id: group.id, displayName: group.displayName, members });
        } catch (err) {
          if (err instanceof ActionError && !err.retryable) throw ApplicationFailure.nonRetryable(`approvers: ${err.message}${err.hint ? ` (${err.hint})` : ''}`, err.code);
          throw err;
        }
      }
      return out;
    },

    async notifyApprovers(n: ApprovalNotice): Promise<NoticeResult> {
      const conn = await connection(n.tenant);
      const link = approvalLink(baseUrl(), n.runId, n.nodeId);
      const result: NoticeResult = { mailed: [], posted: 0 };
      const sender = senderOf(conn);
      if (n.to.length && sender) {
        const { subject, html } = approvalMail(n, link);
        const graph = deps.graphFor(conn, Context.current().cancellationSignal);
        // One mail per approver: each sees only their own request (and a bounce names one person).
        for (const to of n.to) {
          await sendMail(graph, sender, { to: [to], subject, body: html, html: true, importance: n.kind === 'request' ? 'normal' : 'high', saveToSentItems: false });
          result.mailed.push(to);
        }
      } else if (n.to.length) result.skipped = `no sender mailbox for tenant ${n.tenant} (set the connection's mailFrom or TENANTFLOW_MAIL_FROM): approvers not mailed`;
      const card = approvalCard(n, link);
      for (const url of n.teamsWebhooks) {
        await callWebhook(url, {
          method: 'POST',
          signal: Context.current().cancellationSignal,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] }),
        });
        result.posted++;
      }
      if (result.skipped) log.warn(result.skipped);
      return result;
    },

    async notifyRequester(n: RunEndNotice): Promise<NoticeResult> {
      const conn = await connection(n.tenant);
      const sender = senderOf(conn);
      if (!sender || !n.requester.includes('@')) return { mailed: [], posted: 0, skipped: `no sender mailbox for tenant ${n.tenant}, or the requester has no address: not mailed` };
      const link = `${baseUrl().replace(/\/$/, '')}/runs/${encodeURIComponent(n.runId)}`;
      await sendMail(deps.graphFor(conn, Context.current().cancellationSignal), sender, {
        to: [n.requester],
        subject: `[Tenantflow] ${n.runbookName}: run ${n.status}`,
        html: true,
        body: [`<p>Your run of <b>${escapeHtml(n.runbookName)}</b> ended: ${escapeHtml(n.status)}.</p>`, n.message ? `<p>${escapeHtml(n.message)}</p>` : '', `<p><a href="${escapeHtml(link)}">Open the run in Tenantflow</a></p>`].join('\n'),
        saveToSentItems: false,
      });
      return { mailed: [n.requester], posted: 0 };
    },
  };
}
