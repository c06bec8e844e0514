// Handlers of the notification actions (catalog/actions/notifications.ts).
import * as c from '../../catalog/actions/notifications.ts';
import type { Change } from '../../catalog/contract.ts';
import { createHash } from 'node:crypto';
import { callWebhook, sentWithMarker } from '../../m365/notify.ts';
import { implement } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import { change } from './changes.ts';
import { senderOf, sendMail } from './shared.ts';

export const notifyEmail = implement(c.notifyEmail, async (input, ctx) => {
  // Marked with a value stable across attempts: a retry after a lost answer finds the first send in
  // the sender's Sent Items and does not send a second copy.
  const marker = createHash('sha256').update(`notify.email ${ctx.idempotencyKey}`).digest('hex').slice(0, 32);
  const sender = senderOf(ctx, input.from);
  if (ctx.attempt > 1 && input.saveToSentItems) {
    const sent = await sentWithMarker(ctx.graph, sender, marker);
    if (sent) return { from: sender, to: input.to, sent: true };
    if (sent === undefined) ctx.warn(`could not look in ${sender}'s Sent Items for this step's earlier send (grant the app Mail.Read), so a retry may have delivered a second copy`);
  }
  const from = await sendMail(ctx, input.from, {
    marker,
    to: input.to,
    cc: input.cc,
    subject: input.subject,
    body: input.body,
    html: input.html,
    importance: input.importance,
    saveToSentItems: input.saveToSentItems,
  });
  return { from, to: input.to, sent: true };
}, planNotifyEmail);

export const notifyTeams = implement(c.notifyTeams, async (input, ctx) => {
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      ...(input.title ? [{ type: 'TextBlock', text: input.title, weight: 'Bolder', size: 'Medium', wrap: true }] : []),
      { type: 'TextBlock', text: input.text, wrap: true },
      ...(Object.keys(input.facts).length ? [{ type: 'FactSet', facts: Object.entries(input.facts).map(([title, value]) => ({ title, value })) }] : []),
    ],
  };
  const { status } = await callWebhook(input.webhookUrl, {
    method: 'POST',
    signal: ctx.signal,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] }),
  });
  return { status };
}, planNotifyTeams);

export const notifyWebhook = implement(c.notifyWebhook, async (input, ctx) => {
  const hasBody = input.body !== undefined && input.method !== 'GET';
  return callWebhook(input.url, {
    method: input.method,
    signal: ctx.signal,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      'idempotency-key': ctx.idempotencyKey,
      'user-agent': 'Tenantflow',
      ...input.headers,
    },
    body: hasBody ? JSON.stringify(input.body) : undefined,
    timeoutSeconds: input.timeoutSeconds,
  });
}, planNotifyWebhook);

// ---- plans: a message is a change nobody can take back ----

async function planNotifyEmail(input: InputOf<typeof c.notifyEmail>, ctx: PlanContext): Promise<Change[]> {
  const from = senderOf(ctx, input.from);
  return [change(`mailbox ${from}`, 'email', null, `"${input.subject}" to ${[...input.to, ...input.cc].join(', ')}`, { note: 'a sent email cannot be recalled' })];
}

async function planNotifyTeams(input: InputOf<typeof c.notifyTeams>): Promise<Change[]> {
  // The webhook URL is a secret: only its host is named.
  return [change(`Teams channel (webhook at ${new URL(input.webhookUrl).host})`, 'message', null, input.title ?? input.text.slice(0, 80), { note: 'a posted message is not taken back' })];
}

async function planNotifyWebhook(input: InputOf<typeof c.notifyWebhook>): Promise<Change[]> {
  const url = new URL(input.url);
  return [change(`endpoint ${url.host}${url.pathname}`, 'request', null, `${input.method} sent`, { note: 'what the endpoint does with it is not predicted' })];
}
