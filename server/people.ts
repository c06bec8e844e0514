// People and access: local accounts, roles granted per tenant (with an optional operator scope),
// cookie sessions with a CSRF token, and API tokens. Only hashes of session ids and tokens are
// stored, so a copy of the database signs nobody in.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hashPassword, oneTimePassword, randomToken, sha256, verifyPassword } from './crypto.ts';
import { deepFreeze, KeptReads } from './changes.ts';
import type { Db, Queryable } from './db.ts';
import { json } from './db.ts';

export const ROLES = ['admin', 'designer', 'operator', 'approver', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export { ALL_TENANTS } from '../runbook/approvals.ts';
import { ALL_TENANTS } from '../runbook/approvals.ts';

/** Parentheses balance outside quoted strings, and quotes close: a filter cannot break out of the "and (...)" it is put in. */
function balanced(filter: string): boolean {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i];
    if (c === "'") {
      if (quoted && filter[i + 1] === "'") i++;
      else quoted = !quoted;
    } else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')' && --depth < 0) return false;
  }
  return depth === 0 && !quoted;
}

/** The kinds of operator scope; each kind given must match the run's target. */
export const SCOPE_KINDS = ['department', 'country', 'group', 'administrativeUnit', 'filter'] as const;

export const Scope = z
  .strictObject({
    department: z.array(z.string().min(1)).optional().describe('Departments the operator may act on'),
    country: z.array(z.string().min(1)).optional().describe('Countries (usage location or country) the operator may act on'),
    group: z.array(z.string().min(1).max(256)).max(50).optional().describe('Groups (object id or display name): the user must belong to one, directly or through nested groups'),
    administrativeUnit: z.array(z.string().uuid()).max(50).optional().describe('Entra administrative units (object ids): the user must be a member of one'),
    filter: z
      .array(z.string().min(1).max(1000).refine(balanced, 'parentheses and quotes must be balanced (the filter is combined with "and")'))
      .max(10)
      .optional()
      .describe("OData filters on users, e.g. \"companyName eq 'Contoso Retail'\": the user must match one"),
  })
  .describe('Limits an operator to users inside the tenant: each kind given (department, country, group, administrative unit, filter) must match');
export type Scope = z.infer<typeof Scope>;

export interface Grant {
  id: number;
  tenant: string;
  role: Role;
  scope?: Scope | null;
}

export interface User {
  id: string;
  email: string;
  name: string;
  groups: string[];
  mustChangePassword: boolean;
  disabled: boolean;
  createdAt: string;
}

export interface Principal {
  user: User;
  grants: Grant[];
  via: 'session' | 'token';
  /** The session's CSRF token (cookie sign-in only). */
  csrfToken?: string;
}

const SESSION_HOURS = 12;

function toUser(r: Record<string, any>): User {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    groups: r.groups ?? [],
    mustChangePassword: r.must_change_password,
    disabled: r.disabled,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/** A user's grants as one JSON column of a read that has the user as `u`. */
const GRANT_ROWS = `coalesce((select json_agg(g order by g.id) from role_grants g where g.user_id = u.id), '[]'::json)`;

function toGrant(r: Record<string, any>): Grant {
  return { id: r.id, tenant: r.tenant, role: r.role, scope: r.scope ?? undefined };
}

// ---- what a principal may do ----

/** True when the principal holds role (or admin, which includes every role) on tenant. */
export function hasRole(p: Principal, role: Role, tenant: string): boolean {
  return p.grants.some((g) => (g.tenant === tenant || g.tenant === ALL_TENANTS) && (g.role === role || g.role === 'admin'));
}

/** Tenants where the principal holds role; ALL_TENANTS when a grant covers every tenant. */
export function tenantsWith(p: Principal, role: Role | 'any'): string[] {
  const gs = p.grants.filter((g) => role === 'any' || g.role === role || g.role === 'admin');
  if (gs.some((g) => g.tenant === ALL_TENANTS)) return [ALL_TENANTS];
  return [...new Set(gs.map((g) => g.tenant))];
}

/** Holds role on at least one tenant. */
export function hasRoleAnywhere(p: Principal, role: Role): boolean {
  return p.grants.some((g) => g.role === role || g.role === 'admin');
}

export function canSee(p: Principal, tenant: string): boolean {
  return p.grants.some((g) => g.tenant === tenant || g.tenant === ALL_TENANTS);
}

export function isGlobalAdmin(p: Principal): boolean {
  return p.grants.some((g) => g.tenant === ALL_TENANTS && g.role === 'admin');
}

/**
 * The operator scope that applies on tenant: undefined = unrestricted (an admin, or an operator
 * grant without scope); otherwise the union of the scoped operator grants.
 */
export function operatorScope(p: Principal, tenant: string): Scope | undefined {
  const gs = p.grants.filter((g) => g.tenant === tenant || g.tenant === ALL_TENANTS);
  if (gs.some((g) => g.role === 'admin' || (g.role === 'operator' && !g.scope))) return undefined;
  const scoped = gs.filter((g) => g.role === 'operator' && g.scope);
  const merged: Scope = {};
  for (const g of scoped)
    for (const key of SCOPE_KINDS)
      if (g.scope![key]) merged[key] = [...new Set([...(merged[key] ?? []), ...g.scope![key]!])];
  return merged;
}

// ---- the store ----

/** How long a process keeps who a token's or session's caller is, at most (docs/architecture.md "Kept reads"). */
export const PRINCIPAL_KEPT_MS = 60_000;
/** The tables a principal is read from: a change to any of them drops every kept principal. */
const PRINCIPAL_TABLES = ['users', 'role_grants', 'api_tokens', 'sessions'] as const;

export class People {
  readonly db: Db;
  /** Callers by the hash of their token or session id, each read once until something of theirs changes. */
  private readonly principals: KeptReads<Principal>;
  constructor(db: Db) {
    this.db = db;
    this.principals = new KeptReads(db.changes, PRINCIPAL_TABLES, { ttlMs: PRINCIPAL_KEPT_MS, max: 10_000 });
  }

  /** This process wrote `tables` of PRINCIPAL_TABLES: its kept principals go now (other processes hear the trigger). */
  changed(...tables: (typeof PRINCIPAL_TABLES)[number][]): void {
    this.db.changes.changed(...tables);
  }

  async count(): Promise<number> {
    return (await this.db.one<{ n: number }>('select count(*)::int as n from users'))!.n;
  }

  async create(u: { email: string; name?: string; password?: string; mustChangePassword?: boolean; groups?: string[] }, q: Queryable = this.db): Promise<User> {
    const id = `u_${randomUUID()}`;
    const rows = await q.query(
      `insert into users (id, email, name, password_hash, must_change_password, groups) values ($1, $2, $3, $4, $5, $6) returning *`,
      [id, u.email.toLowerCase(), u.name ?? '', u.password ? await hashPassword(u.password) : null, u.mustChangePassword ?? false, u.groups ?? []],
    );
    return toUser(rows[0]!);
  }

  async get(id: string): Promise<User | undefined> {
    const r = await this.db.one('select * from users where id = $1', [id]);
    return r ? toUser(r) : undefined;
  }

  async byEmail(email: string): Promise<User | undefined> {
    const r = await this.db.one('select * from users where email = $1', [email.toLowerCase()]);
    return r ? toUser(r) : undefined;
  }

  async list(): Promise<(User & { grants: Grant[] })[]> {
    const users = (await this.db.query('select * from users order by email')).map(toUser);
    const grants = await this.db.query('select * from role_grants order by id');
    return users.map((u) => ({ ...u, grants: grants.filter((g) => g.user_id === u.id).map(toGrant) }));
  }

  async update(id: string, patch: { name?: string; groups?: string[]; disabled?: boolean }): Promise<User | undefined> {
    const r = await this.db.one(
      `update users set name = coalesce($2, name), groups = coalesce($3, groups), disabled = coalesce($4, disabled) where id = $1 returning *`,
      [id, patch.name ?? null, patch.groups ?? null, patch.disabled ?? null],
    );
    if (r && patch.disabled) await this.db.query('delete from sessions where user_id = $1', [id]);
    this.changed('users', 'sessions');
    return r ? toUser(r) : undefined;
  }

  async setPassword(id: string, password: string): Promise<void> {
    await this.db.query('update users set password_hash = $2, must_change_password = false where id = $1', [id, await hashPassword(password)]);
    this.changed('users');
  }

  /**
   * After a password change or reset: every session and API token of the person ends, except the
   * credential the change was made with (keep: the session id or token of the request).
   */
  async endOtherCredentials(userId: string, keep: { sessionId?: string; token?: string } = {}): Promise<void> {
    await this.db.query('delete from sessions where user_id = $1 and id_hash <> $2', [userId, keep.sessionId ? sha256(keep.sessionId) : '']);
    await this.db.query('update api_tokens set revoked_at = now() where user_id = $1 and revoked_at is null and token_hash <> $2', [userId, keep.token ? sha256(keep.token) : '']);
    this.changed('sessions', 'api_tokens');
  }

  async checkPassword(email: string, password: string): Promise<User | undefined> {
    const r = await this.db.one('select * from users where email = $1', [email.toLowerCase()]);
    // Verify against a dummy hash when the user does not exist, so timing does not reveal it.
    const ok = await verifyPassword(password, r?.password_hash ?? DUMMY_HASH);
    if (!r || !ok || r.disabled) return undefined;
    return toUser(r);
  }

  async grants(userId: string): Promise<Grant[]> {
    return (await this.db.query('select * from role_grants where user_id = $1 order by id', [userId])).map(toGrant);
  }

  async grant(userId: string, tenant: string, role: Role, scope?: Scope | null, q: Queryable = this.db): Promise<Grant> {
    const rows = await q.query(
      `insert into role_grants (user_id, tenant, role, scope) values ($1, $2, $3, $4::jsonb)
       on conflict (user_id, tenant, role) do update set scope = excluded.scope returning *`,
      [userId, tenant, role, json(scope ?? undefined)],
    );
    this.changed('role_grants');
    return toGrant(rows[0]!);
  }

  async revoke(userId: string, grantId: number): Promise<Grant | undefined> {
    const r = await this.db.one('delete from role_grants where user_id = $1 and id = $2 returning *', [userId, grantId]);
    this.changed('role_grants');
    return r ? toGrant(r) : undefined;
  }

  /** Emails of active users holding role on tenant (approver routing, notifications). */
  async holders(role: Role, tenant: string): Promise<string[]> {
    const rows = await this.db.query(
      `select distinct u.email from users u join role_grants g on g.user_id = u.id
       where not u.disabled and (g.tenant = $2 or g.tenant = '*') and (g.role = $1 or g.role = 'admin') order by u.email`,
      [role, tenant],
    );
    return rows.map((r) => r.email);
  }

  async groupMembers(group: string): Promise<string[]> {
    return (await this.db.query('select email from users where $1 = any(groups) and not disabled order by email', [group])).map((r) => r.email);
  }

  // ---- sessions ----

  async createSession(userId: string): Promise<{ sessionId: string; csrfToken: string; expiresAt: Date }> {
    const sessionId = randomToken();
    const csrfToken = randomToken();
    const expiresAt = new Date(Date.now() + SESSION_HOURS * 3_600_000);
    await this.db.query('insert into sessions (id_hash, user_id, csrf_token, expires_at) values ($1, $2, $3, $4)', [
      sha256(sessionId),
      userId,
      csrfToken,
      expiresAt,
    ]);
    return { sessionId, csrfToken, expiresAt };
  }

  async endSession(sessionId: string): Promise<void> {
    await this.db.query('delete from sessions where id_hash = $1', [sha256(sessionId)]);
    this.changed('sessions');
  }

  async fromSession(sessionId: string): Promise<Principal | undefined> {
    const key = `s:${sha256(sessionId)}`;
    return this.principals.get(key, async () => {
      // The session's user and their grants in one read, as fromToken does.
      const r = await this.db.one(
        `select u.*, s.csrf_token, s.expires_at as session_expires_at, ${GRANT_ROWS} as grant_rows
           from sessions s join users u on u.id = s.user_id where s.id_hash = $1 and s.expires_at > now() and not u.disabled`,
        [key.slice(2)],
      );
      if (!r) return undefined;
      const principal: Principal = { user: toUser(r), grants: (r.grant_rows as Record<string, any>[]).map(toGrant), via: 'session', csrfToken: r.csrf_token };
      return { value: deepFreeze(principal), until: new Date(r.session_expires_at).getTime() };
    });
  }

  // ---- API tokens ----

  async createToken(userId: string, name: string, expiresAt?: Date): Promise<{ id: string; token: string }> {
    const token = randomToken('tf_');
    const id = `tok_${randomUUID().slice(0, 8)}`;
    await this.db.query('insert into api_tokens (id, user_id, name, token_hash, expires_at) values ($1, $2, $3, $4, $5)', [
      id,
      userId,
      name,
      sha256(token),
      expiresAt ?? null,
    ]);
    return { id, token };
  }

  async listTokens(userId: string) {
    return (
      await this.db.query(
        'select id, name, created_at, expires_at, last_used_at, revoked_at from api_tokens where user_id = $1 order by created_at',
        [userId],
      )
    ).map((r) => ({
      id: r.id as string,
      name: r.name as string,
      createdAt: iso(r.created_at),
      expiresAt: iso(r.expires_at),
      lastUsedAt: iso(r.last_used_at),
      revoked: r.revoked_at !== null,
    }));
  }

  async revokeToken(userId: string, id: string): Promise<boolean> {
    const revoked = (await this.db.query('update api_tokens set revoked_at = now() where id = $1 and user_id = $2 and revoked_at is null returning id', [id, userId])).length > 0;
    this.changed('api_tokens');
    return revoked;
  }

  async fromToken(token: string): Promise<Principal | undefined> {
    const key = `t:${sha256(token)}`;
    return this.principals.get(key, async () => {
      // One read finds the token's user and their grants. When the token was last used is written
      // when this read finds it over a minute old (a write on every request would cost more than
      // the read); a kept token is read again after a minute at most, so it lags two at most.
      const r = await this.db.one(
        `select u.*, t.id as token_id, t.expires_at as token_expires_at, (t.last_used_at is null or t.last_used_at < now() - interval '1 minute') as token_stale,
                ${GRANT_ROWS} as grant_rows
           from api_tokens t join users u on u.id = t.user_id
          where t.token_hash = $1 and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()) and not u.disabled`,
        [key.slice(2)],
      );
      if (!r) return undefined;
      if (r.token_stale) await this.db.query('update api_tokens set last_used_at = now() where id = $1', [r.token_id]);
      const principal: Principal = { user: toUser(r), grants: (r.grant_rows as Record<string, any>[]).map(toGrant), via: 'token' };
      return { value: deepFreeze(principal), until: r.token_expires_at ? new Date(r.token_expires_at).getTime() : undefined };
    });
  }

  /**
   * The first admin: created when no account exists, with a one-time password the caller prints
   * once; it must be changed at first sign-in.
   */
  async ensureFirstAdmin(email = 'admin@tenantflow.local'): Promise<{ email: string; password: string } | undefined> {
    return this.db.tx(async (q) => {
      if ((await q.query('select 1 from users limit 1')).length) return undefined;
      const password = oneTimePassword();
      const user = await this.create({ email, name: 'Administrator', password, mustChangePassword: true }, q);
      await this.grant(user.id, ALL_TENANTS, 'admin', undefined, q);
      return { email, password };
    });
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$0aBRMXBndpqbP1d7d3hJzIEYm0PbBpESTtf1m6R9d1A';

export function iso(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : new Date(v as string).toISOString();
}
