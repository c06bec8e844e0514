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
  /**
   * A value that marks this send (a hidden single-value extended property on the message, kept on
   * the sender's Sent Items copy), so sentWithMarker() can find it again: how a retry recognises
   * its own earlier send when the first answer was lost (Graph's sendMail answers 202 with no id).
   */
  marker?: string;
}

/** The extended property that carries Mail.marker: a named string property in Tenantflow's own property set. */
export const SEND_MARKER_PROPERTY = 'String {6c4f1b0e-2d7a-4e8f-9a31-5b2c8d7e4f10} Name TenantflowSendMarker';

/**
 * Whether the sender's Sent Items hold a message sent with this marker: true / false, or undefined
 * when the mailbox cannot be searched (the app lacks Mail.Read: filtering on an extended property
 * needs it; Mail.ReadBasic.All does not cover extended properties).
 */
export async function sentWithMarker(graph: Client, sender: string, marker: string): Promise<boolean | undefined> {
  const filter = `singleValueExtendedProperties/any(ep: ep/id eq '${SEND_MARKER_PROPERTY}' and ep/value eq '${marker.replace(/'/g, "''")}')`;
  try {
    const found = (await graph.api(`/users/${encodeURIComponent(sender)}/mailFolders/sentitems/messages`).filter(filter).select('id').top(1).get()) as { value: unknown[] };
    return found.value.length > 0;
  } catch (err) {
    if (statusOf(err) === 403) return undefined;
    throw err;
  }
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
        ...(mail.marker ? { singleValueExtendedProperties: [{ id: SEND_MARKER_PROPERTY, value: mail.marker }] } : {}),
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
