// Handlers of the notification actions (catalog/actions/notifications.ts).
import * as c from '../../catalog/actions/notifications.ts';
import type { Change } from '../../catalog/contract.ts';
import { implement, type ActionContext } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import { change } from './changes.ts';
import type { ServiceError } from '../../m365/errors.ts';
import { senderOf, sendMail } from './shared.ts';

/** A non-2xx answer from a webhook, in the shape errors.ts maps (429 / 5xx retryable, Retry-After honoured). */
class HttpError extends Error implements ServiceError {
  readonly statusCode: number;
  readonly code: string;
  readonly headers: Headers;
  constructor(status: number, message: string, headers: Headers) {
    super(message);
    this.statusCode = status;
    this.code = `HTTP${status}`;
    this.headers = headers;
  }
}

const MAX_BODY = 10_000;

async function call(ctx: ActionContext, url: string, init: RequestInit & { timeoutSeconds?: number }): Promise<{ status: number; body: unknown }> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout((init.timeoutSeconds ?? 30) * 1000)]);
  const res = await fetch(url, { ...init, signal });
  const text = (await res.text()).slice(0, MAX_BODY);
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // keep the text
  }
  // The URL may carry a secret (Teams webhook signature): name only its host.
  if (!res.ok) throw new HttpError(res.status, `${new URL(url).host} answered HTTP ${res.status}: ${text.slice(0, 300)}`, res.headers);
  return { status: res.status, body };
}

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
  const { status } = await call(ctx, input.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] }),
  });
  return { status };
}, planNotifyTeams);

export const notifyWebhook = implement(c.notifyWebhook, async (input, ctx) => {
  const hasBody = input.body !== undefined && input.method !== 'GET';
  return call(ctx, input.url, {
    method: input.method,
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
