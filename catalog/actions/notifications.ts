// Notifications: email from the service mailbox, Teams (incoming webhook / Workflows), HTTP webhooks.
import { z } from 'zod';
import { defineAction } from '../contract.ts';
import { mailFrom } from '../fields.ts';

const emails = z.array(z.email()).describe('Email addresses');

export const notifyEmail = defineAction({
  id: 'notify.email',
  title: 'Send email',
  category: 'notification',
  description:
    'Sends an email from the tenant\'s service mailbox (or the mailbox given). The message carries a hidden marker (an ' +
    'extended property) that is the same on every retry of the step, so a retry after an attempt whose answer was lost finds ' +
    'the first send in the sender\'s Sent Items and does not send it again. That needs "keep a copy in Sent Items" on and the ' +
    'Mail.Read permission (to search Sent Items); without them a retry after a lost answer can deliver a second copy, and the ' +
    'step warns when it could not look.',
  input: z.strictObject({
    to: emails.min(1).describe('Recipients'),
    cc: emails.default([]).describe('Copy recipients'),
    subject: z.string().min(1).max(255).describe('Subject line'),
    body: z.string().max(100_000).describe('Message text; HTML when "html" is on'),
    html: z.boolean().default(false).describe('The body is HTML'),
    importance: z.enum(['low', 'normal', 'high']).default('normal').describe('Importance flag'),
    from: mailFrom,
    saveToSentItems: z.boolean().default(true).describe('Keep a copy in the sender\'s Sent Items'),
  }),
  output: z.object({ from: z.string(), to: z.array(z.string()), sent: z.boolean() }),
  permissions: ['Mail.Send'],
  bulk: true,
  irreversible: 'a sent email cannot be recalled',
});

const webhookUrl = z.url({ protocol: /^https?$/ });

export const notifyTeams = defineAction({
  id: 'notify.teams',
  title: 'Post to Teams channel',
  category: 'notification',
  description:
    'Posts a message card to a Teams channel through its incoming webhook or a Teams Workflows "post to a channel when a ' +
    'webhook request is received" URL. (Graph lets apps post channel messages only for migration, so a webhook is the way.) ' +
    'A webhook takes no idempotency key and cannot be read back: a retry after an attempt whose answer was lost can post ' +
    'the card a second time.',
  input: z.strictObject({
    webhookUrl: webhookUrl.describe('The channel\'s incoming webhook or Workflows URL (kept secret: redacted in the run view)'),
    title: z.string().max(256).optional().describe('Card title'),
    text: z.string().min(1).max(20_000).describe('Message text (Markdown as Teams renders it)'),
    facts: z.record(z.string(), z.string()).default({}).describe('Name / value pairs shown under the text'),
  }),
  output: z.object({ status: z.number().describe('HTTP status the webhook answered') }),
  permissions: [],
  bulk: true,
  secretFields: ['webhookUrl'],
  irreversible: 'a posted message is not taken back',
});

export const notifyWebhook = defineAction({
  id: 'notify.webhook',
  title: 'Call HTTP webhook',
  category: 'notification',
  description:
    'Calls an HTTP endpoint (a ticketing system, an HR system, an automation platform) with a JSON body. Sends an ' +
    'Idempotency-Key header that stays the same across retries of the step, so the receiver can ignore repeats. ' +
    'Non-2xx answers fail the step; 429 and 5xx are retried.',
  input: z.strictObject({
    url: webhookUrl.describe('Endpoint URL'),
    method: z.enum(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']).default('POST').describe('HTTP method'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers (values are redacted in the run view)'),
    body: z.unknown().optional().describe('JSON body'),
    timeoutSeconds: z.number().int().min(1).max(120).default(30).describe('Give up waiting after this long'),
  }),
  output: z.object({
    status: z.number().describe('HTTP status'),
    body: z.unknown().describe('The answer: parsed JSON, or text (first 10,000 characters)'),
  }),
  permissions: [],
  bulk: true,
  secretFields: ['headers'],
  irreversible: 'what the endpoint did with the call is not known to Tenantflow',
});
