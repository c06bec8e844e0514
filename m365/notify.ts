// Sending notifications: mail from a service mailbox through Graph (sendMail), and webhook calls
// (Teams incoming webhooks, Workflows URLs, any HTTPS endpoint). The one copy used by the server's
// run notifications (server/notify.ts) and the worker's notification actions
// (worker/actions/notifications.ts).
import type { Client } from '@microsoft/microsoft-graph-client';
import { ActionError, statusOf, type ServiceError } from './errors.ts';

export interface Mail {
  to: string[];
  cc?: string[];
  subject: string;
  body: string;
  html?: boolean;
  importance?: 'low' | 'normal' | 'high';
  saveToSentItems?: boolean;
}

/** Sends mail as `sender` (POST /users/{sender}/sendMail); a sender without a mailbox is named as such. */
export async function sendMail(graph: Client, sender: string, mail: Mail): Promise<void> {
  const recipients = (list: string[] = []) => list.map((address) => ({ emailAddress: { address } }));
  try {
    await graph.api(`/users/${encodeURIComponent(sender)}/sendMail`).post({
      message: {
        subject: mail.subject,
        body: { contentType: mail.html ? 'HTML' : 'Text', content: mail.body },
        toRecipients: recipients(mail.to),
        ccRecipients: recipients(mail.cc),
        importance: mail.importance ?? 'normal',
      },
      saveToSentItems: mail.saveToSentItems ?? true,
    });
  } catch (err) {
    if (statusOf(err) === 404)
      throw new ActionError(`the service mailbox ${sender} does not exist or has no mailbox`, {
        code: 'MailboxNotFound',
        hint: 'use a licensed user or shared mailbox as the tenant connection\'s "mail from"',
        status: 404,
      });
    throw err;
  }
}

/** A non-2xx answer from a webhook, in the shape errors.ts maps (429 / 5xx retryable, Retry-After honoured). */
export class WebhookError extends Error implements ServiceError {
  readonly statusCode: number;
  readonly code: string;
  readonly headers: Headers;
  constructor(status: number, message: string, headers: Headers) {
    super(message);
    this.name = 'WebhookError';
    this.statusCode = status;
    this.code = `HTTP${status}`;
    this.headers = headers;
  }
}

/** How much of a webhook's answer is kept (the step's output, the error message). */
const MAX_BODY = 10_000;

/**
 * Calls a webhook and reads its answer (JSON when it parses, else text, at most 10 000 characters).
 * A non-2xx answer throws a WebhookError that names only the URL's host: the URL may carry a secret
 * (a Teams webhook's signature).
 */
export async function callWebhook(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutSeconds?: number; signal?: AbortSignal },
): Promise<{ status: number; body: unknown }> {
  const timeout = AbortSignal.timeout((init.timeoutSeconds ?? 30) * 1000);
  const res = await fetch(url, {
    method: init.method ?? 'POST',
    headers: init.headers,
    body: init.body,
    signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
  });
  const text = (await res.text()).slice(0, MAX_BODY);
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // keep the text
  }
  if (!res.ok) throw new WebhookError(res.status, `${new URL(url).host} answered HTTP ${res.status}: ${text.slice(0, 300)}`, res.headers);
  return { status: res.status, body };
}
