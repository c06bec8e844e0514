// What changed in the control plane's database, so that every server process can keep the reads
// it makes on each request (who the caller is, the runbook a run starts) in memory.
//
// Triggers (migration 9) send NOTIFY tenantflow_changes with the table's name after any write
// that could make a kept read wrong; every process LISTENs on its own connection. A process's own
// writes also say so at once (`changed`), so it never answers from a read its last write undid.
// While the listening connection is down nothing is kept: every read goes to the database, and
// everything kept before is dropped when it comes back (changes may have been missed meanwhile).
//
// docs/architecture.md "Kept reads" says what is kept, for how long, and why it is safe.

export const CHANGES_CHANNEL = 'tenantflow_changes';

/**
 * Starts listening: calls `note` with each notification's payload (a table's name) and `lost` when
 * the connection drops. Answers how to stop, and how to send a notification of one's own (the
 * probe that proves notifications arrive: behind a pooler in transaction mode they do not).
 */
export type Listen = (note: (payload: string) => void, lost: (err: unknown) => void) => Promise<{ stop(): Promise<void>; send(payload: string): Promise<void> }>;

/** How long the probe may take before notifications count as not arriving. */
const PROBE_MS = 3000;

export class ChangeFeed {
  private readonly generations = new Map<string, number>();
  private epoch = 0;
  private live = false;
  private stop?: () => Promise<void>;
  private closed = false;
  private retry?: NodeJS.Timeout;
  private warned = false;
  private readonly listen?: Listen;
  private readonly retryMs: number;

  /** `listen` undefined: nothing is kept (a database without notifications). */
  constructor(listen?: Listen, retryMs = 1000) {
    this.listen = listen;
    this.retryMs = retryMs;
  }

  async start(): Promise<void> {
    if (!this.listen || this.closed) return;
    const probe = `probe:${Math.random().toString(36).slice(2)}`;
    let heard!: () => void;
    const arrived = new Promise<void>((r) => (heard = r));
    try {
      const listening = await this.listen(
        (payload) => (payload === probe ? heard() : this.changed(payload)),
        () => this.lost(),
      );
      this.stop = () => listening.stop();
      await listening.send(probe);
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([arrived.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), PROBE_MS)))]);
      clearTimeout(timer);
      if (!ok) {
        if (!this.warned) console.warn('database: notifications do not arrive (a pooler in transaction mode?): every request reads who is calling from the database');
        this.warned = true;
        throw new Error('no notifications');
      }
      // Anything could have changed while nobody listened.
      this.epoch++;
      this.live = true;
    } catch {
      this.lost();
    }
  }

  private lost(): void {
    this.live = false;
    this.epoch++;
    const stop = this.stop;
    this.stop = undefined;
    void stop?.().catch(() => undefined);
    if (this.closed || this.retry) return;
    // Tried again and again: a database that came back is heard from again.
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.start();
    }, this.warned ? Math.max(this.retryMs, 60_000) : this.retryMs);
    this.retry.unref();
  }

  /** Tables this process wrote (after the write committed): reads of them kept so far are dropped. */
  changed(...tables: string[]): void {
    for (const t of tables) this.generations.set(t, (this.generations.get(t) ?? 0) + 1);
  }

  /** A stamp that differs once any of `tables` changed; undefined while changes cannot be heard. */
  stamp(tables: readonly string[]): string | undefined {
    if (!this.live) return undefined;
    let s = `${this.epoch}`;
    for (const t of tables) s += `:${this.generations.get(t) ?? 0}`;
    return s;
  }

  get listening(): boolean {
    return this.live;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.live = false;
    clearTimeout(this.retry);
    await this.stop?.().catch(() => undefined);
  }
}

/**
 * Reads kept in memory until one of their tables changes, their own deadline passes (a token's or
 * session's expiry) or `ttlMs` passes; at most `max` of them, the oldest dropped first. Nothing is
 * kept for a read that found nothing, nor while the feed is not listening.
 */
export class KeptReads<V> {
  private readonly kept = new Map<string, { value: V; stamp: string; until: number }>();
  private readonly feed: ChangeFeed;
  private readonly tables: readonly string[];
  private readonly opts: { ttlMs: number; max: number };

  constructor(feed: ChangeFeed, tables: readonly string[], opts: { ttlMs: number; max: number }) {
    this.feed = feed;
    this.tables = tables;
    this.opts = opts;
  }

  /** `load` answers the value and, optionally, the time (ms) after which it no longer holds. */
  async get(key: string, load: () => Promise<{ value: V; until?: number } | undefined>): Promise<V | undefined> {
    const stamp = this.feed.stamp(this.tables);
    const hit = this.kept.get(key);
    if (hit && stamp !== undefined && hit.stamp === stamp && Date.now() < hit.until) return hit.value;
    if (hit) this.kept.delete(key);
    const got = await load();
    // A change heard while the read ran may have come after it: that read is not kept.
    if (got && stamp !== undefined && this.feed.stamp(this.tables) === stamp) {
      this.kept.set(key, { value: got.value, stamp, until: Math.min(Date.now() + this.opts.ttlMs, got.until ?? Infinity) });
      if (this.kept.size > this.opts.max) this.kept.delete(this.kept.keys().next().value!);
    }
    return got?.value;
  }
}

/** Freezes a kept value and everything in it: a caller that tried to change it would throw, not change it for the next. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
