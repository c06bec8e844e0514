// Handlers of the notification actions (catalog/actions/notifications.ts).
import * as c from '../../catalog/actions/notifications.ts';
import { callWebhook } from '../../m365/notify.ts';
import { implement } from '../activity.ts';
import { sendMail } from './shared.ts';

export const notifyEmail = implement(c.notifyEmail, async (input, ctx) => {
  const from = await sendMail(ctx, input.from, {
    to: input.to,
    cc: input.cc,
    subject: input.subject,
    body: input.body,
    html: input.html,
    importance: input.importance,
    saveToSentItems: input.saveToSentItems,
  });
  return { from, to: input.to, sent: true };
});

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
});

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
});
