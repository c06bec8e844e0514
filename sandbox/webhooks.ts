// A webhook sink for notification tests: `${url}/_webhooks/{name}` accepts any request the way a
// Teams incoming webhook does (200, body "1") and keeps it, so a test can read what a runbook
// posted (admin API: webhooks(name)). Scripted answers (429 with Retry-After, 500, ...) test retries.

export interface WebhookDelivery {
  seq: number;
  time: string;
  name: string;
  method: string;
  headers: Record<string, string | undefined>;
  /** Parsed JSON when the body is JSON, else the text. */
  body: unknown;
  status: number;
}

export interface WebhookResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many requests get this answer (default 1); then the default 200 again. */
  times?: number;
  /** Keep the request, then close the connection without an answer (a lost answer: the caller cannot tell it arrived). */
  drop?: boolean;
}

const MAX = 5000;

export class WebhookSink {
  private deliveries: WebhookDelivery[] = [];
  private scripted = new Map<string, WebhookResponse[]>();
  private seq = 0;

  receive(name: string, method: string, headers: Record<string, string | undefined>, raw: Buffer, nowMs: number): { status: number; body: unknown; headers: Record<string, string>; drop: boolean } {
    const text = raw.toString('utf8');
    let body: unknown = text;
    if (text && /json/i.test(headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const queue = this.scripted.get(name);
    const next = queue?.[0];
    if (next) {
      next.times = (next.times ?? 1) - 1;
      if (next.times <= 0) queue.shift();
    }
    const status = next?.status ?? 200;
    const { authorization: _a, ...kept } = headers;
    this.deliveries.push({ seq: ++this.seq, time: new Date(nowMs).toISOString(), name, method, headers: kept, body, status });
    if (this.deliveries.length > MAX) this.deliveries.splice(0, this.deliveries.length - MAX);
    return { status, body: next ? (next.body ?? '') : '1', headers: next?.headers ?? {}, drop: next?.drop === true };
  }

  /** Deliveries (newest last), of one hook or all. */
  list(name?: string): WebhookDelivery[] {
    return this.deliveries.filter((d) => !name || d.name === name);
  }

  script(name: string, response: WebhookResponse): void {
    if (!Number.isInteger(response.status) || response.status < 100 || response.status > 599) throw new Error('status must be an HTTP status code');
    const queue = this.scripted.get(name) ?? [];
    queue.push({ ...response, times: response.times ?? 1 });
    this.scripted.set(name, queue);
  }

  clear(): void {
    this.deliveries = [];
    this.scripted.clear();
  }
}
