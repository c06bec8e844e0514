// Idempotency-Key on the creating endpoints (POST runs, bulk runs, schedules, runbooks): a client
// that got no answer sends the same request again with the same key and gets the first answer,
// stored in the database, instead of a second run, batch or schedule. The same key with another
// body is a 422 naming the header. A key is the caller's own (one person's keys never meet
// another's) and belongs to one route. While the first request is still being answered a repeat
// is a 409; a claim left without an answer (the server stopped mid-request) is taken over after
// STALE_MS, and the handlers derive their ids from the key (idempotentId), so what the first
// attempt created is found again rather than created twice.
import { createHash } from 'node:crypto';
import type { Db } from './db.ts';
import { HttpError, type IdempotencyHook } from './http.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** A claim older than this without an answer belongs to a request that will never answer. */
export const STALE_MS = 30_000;

export type Claim = { kind: 'new' } | { kind: 'replay'; status: number; body: unknown };

/** A stable hash of a JSON body (object keys in any order hash the same). */
export function bodyHash(body: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canon(body ?? null))).digest('hex');
}

/** The header's value, checked: 1 to 200 visible ASCII characters. */
export function idempotencyKeyOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(raw))
    throw new HttpError(400, `invalid ${IDEMPOTENCY_HEADER} header: 1 to 200 visible ASCII characters (a UUID is a good key)`, { problems: [{ field: IDEMPOTENCY_HEADER, message: 'use 1 to 200 visible ASCII characters, such as a UUID' }] });
  return raw;
}

/** An id derived from the caller's key: the same key always names the same run, batch or schedule. */
export function idempotentId(prefix: string, actor: string, route: string, key: string, length = 16): string {
  return `${prefix}${createHash('sha256').update(`${actor}\n${route}\n${key}`).digest('hex').slice(0, length)}`;
}

export class IdempotencyKeys {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Claims the key for this request, or says what the first request answered. */
  async claim(actor: string, route: string, key: string, hash: string): Promise<Claim> {
    const got = await this.db.query(
      `insert into idempotency_keys (actor, route, key, body_hash) values ($1, $2, $3, $4)
       on conflict (actor, route, key) do nothing returning key`,
      [actor, route, key, hash],
    );
    if (got.length) return { kind: 'new' };
    const row = await this.db.one('select body_hash, status, response, claimed_at from idempotency_keys where actor = $1 and route = $2 and key = $3', [actor, route, key]);
    if (!row) return this.claim(actor, route, key, hash); // released in between
    if (row.body_hash !== hash)
      throw new HttpError(422, `this ${IDEMPOTENCY_HEADER} was used before with a different request body: use a new key for a new request`, {
        problems: [{ field: IDEMPOTENCY_HEADER, message: 'already used with a different body' }],
      });
    if (row.status !== null && row.status !== undefined) return { kind: 'replay', status: row.status, body: row.response };
    if (Date.now() - Date.parse(new Date(row.claimed_at).toISOString()) < STALE_MS)
      throw new HttpError(409, `a request with this ${IDEMPOTENCY_HEADER} is still being answered; ask again in a few seconds`, { problems: [{ field: IDEMPOTENCY_HEADER, message: 'the first request with this key has not been answered yet' }] });
    await this.db.query('update idempotency_keys set claimed_at = now() where actor = $1 and route = $2 and key = $3', [actor, route, key]);
    return { kind: 'new' };
  }

  async answer(actor: string, route: string, key: string, status: number, body: unknown): Promise<void> {
    await this.db.query('update idempotency_keys set status = $4, response = $5 where actor = $1 and route = $2 and key = $3', [actor, route, key, status, JSON.stringify(body ?? null)]);
  }

  /** The request failed before it created anything: the key may be used again. */
  async release(actor: string, route: string, key: string): Promise<void> {
    await this.db.query('delete from idempotency_keys where actor = $1 and route = $2 and key = $3 and status is null', [actor, route, key]);
  }
}

/**
 * The hook Api.route calls for routes marked `idempotent`: without the header the request runs as
 * ever; with it, the first 2xx answer is stored and replayed (with `Idempotent-Replayed: true`).
 */
export function idempotencyHook(store: IdempotencyKeys): IdempotencyHook {
  return async ({ req, res, me, route }, run) => {
    const key = idempotencyKeyOf(req.get(IDEMPOTENCY_HEADER));
    if (key === undefined || !me) return run(undefined);
    const actor = me.user.email;
    const claim = await store.claim(actor, route, key, bodyHash(req.body));
    if (claim.kind === 'replay') {
      res.status(claim.status).set('Idempotent-Replayed', 'true');
      return claim.body;
    }
    let out: unknown;
    try {
      out = await run(key);
    } catch (err) {
      await store.release(actor, route, key).catch(() => undefined);
      throw err;
    }
    if (res.statusCode >= 200 && res.statusCode < 300) await store.answer(actor, route, key, res.statusCode, out);
    else await store.release(actor, route, key);
    return out;
  };
}
