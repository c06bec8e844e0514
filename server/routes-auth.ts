// Sign-in: local accounts with cookie sessions (CSRF-protected), API tokens, OpenID Connect;
// and the people admin pages: accounts and role grants per tenant.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { NextFunction, Request, Response } from 'express';
import { oneTimePassword } from './crypto.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { randomBytes } from 'node:crypto';
import { authorizeUrl, newLoginRequest, redeemCode, stateKey } from './oidc.ts';
import { ALL_TENANTS, hasRole, isGlobalAdmin, type Principal } from './people.ts';
import type { Services } from './services.ts';

export const SESSION_COOKIE = 'tf_session';
export const CSRF_COOKIE = 'tf_csrf';
/** Binds an OpenID Connect sign-in attempt to the browser that started it. */
export const OIDC_COOKIE = 'tf_oidc';
const OIDC_PATH = '/api/auth/oidc';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function readCookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/** Finds who is calling (API token or session cookie) and enforces CSRF on cookie writes. */
export function authenticate(s: Services) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const auth = req.get('authorization');
    let principal: Principal | undefined;
    if (auth) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m) throw new HttpError(401, 'the Authorization header must be "Bearer <API token>"');
      principal = await s.people.fromToken(m[1]!);
      if (!principal) throw new HttpError(401, 'the API token is unknown, revoked or expired');
    } else {
      const sid = readCookies(req)[SESSION_COOKIE];
      if (sid) {
        principal = await s.people.fromSession(sid);
        // A stale cookie is treated as signed out; the route decides whether that is allowed.
        if (principal && !SAFE.has(req.method) && req.get('x-csrf-token') !== principal.csrfToken)
          throw new HttpError(403, 'missing or wrong X-CSRF-Token header (read it from GET /api/auth/me or the tf_csrf cookie)', { code: 'csrf' });
      }
    }
    (req as Request & { principal?: Principal }).principal = principal;
    next();
  };
}

function setSessionCookies(s: Services, res: Response, session: { sessionId: string; csrfToken: string; expiresAt: Date }) {
  const secure = s.deps.secureCookies ?? false;
  res.cookie(SESSION_COOKIE, session.sessionId, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: session.expiresAt });
  // Readable by the designer's script, which echoes it in X-CSRF-Token (double submit).
  res.cookie(CSRF_COOKIE, session.csrfToken, { httpOnly: false, sameSite: 'strict', secure, path: '/', expires: session.expiresAt });
}

export function me(p: Principal) {
  return {
    user: p.user,
    grants: p.grants,
    via: p.via,
    csrfToken: p.csrfToken,
    mustChangePassword: p.user.mustChangePassword,
  };
}


export function authRoutes(api: Api, s: Services): void {
  const throttle = loginThrottle();
  api.route('POST /api/auth/login', async ({ req, res, body }) => {
    const keys = { account: body.email.toLowerCase(), ip: req.ip ?? 'unknown' };
    await throttle.check(res, keys);
    const user = await s.people.checkPassword(body.email, body.password);
    if (!user) {
      await s.audit.record({ actor: body.email.toLowerCase(), ip: req.ip, userAgent: req.get('user-agent') }, 'auth.login.failed');
      await throttle.failed(res, keys);
      throw new HttpError(401, 'wrong email or password');
    }
    await throttle.succeeded(keys);
    const session = await s.people.createSession(user.id);
    setSessionCookies(s, res, session);
    await s.audit.record(originOf(req, { user } as Principal), 'auth.login');
    return { user, csrfToken: session.csrfToken, mustChangePassword: user.mustChangePassword, grants: await s.people.grants(user.id) };
  });

  api.route('POST /api/auth/logout', async ({ req, res }) => {
    const sid = readCookies(req)[SESSION_COOKIE];
    if (sid) await s.people.endSession(sid);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.clearCookie(CSRF_COOKIE, { path: '/' });
    return { signedOut: true };
  });

  api.route('GET /api/auth/me', ({ me: p }) => me(p));

  api.route('POST /api/auth/password', async ({ req, me: p, body }) => {
    if (!(await s.people.checkPassword(p.user.email, body.currentPassword))) throw new HttpError(403, 'the current password is wrong');
    await s.people.setPassword(p.user.id, body.newPassword);
    // Whoever knew the old password is signed out everywhere else: other sessions and API tokens end.
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    await s.people.endOtherCredentials(p.user.id, p.via === 'token' ? { token: bearer } : { sessionId: readCookies(req)[SESSION_COOKIE] });
    await s.audit.record(originOf(req, p), 'auth.password.changed', p.user.email);
    return { changed: true };
  });

  api.route('GET /api/auth/tokens', async ({ me: p }) => s.people.listTokens(p.user.id));

  api.route('POST /api/auth/tokens',
    async ({ req, res, me: p, body }) => {
      const t = await s.people.createToken(p.user.id, body.name, body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : undefined);
      await s.audit.record(originOf(req, p), 'auth.token.created', t.id, { name: body.name });
      res.status(201);
      return { id: t.id, name: body.name, token: t.token };
    },
  );

  api.route('DELETE /api/auth/tokens/:id', async ({ req, me: p, params }) => {
    if (!(await s.people.revokeToken(p.user.id, params.id!))) throw new HttpError(404, `you have no active token ${params.id}`);
    await s.audit.record(originOf(req, p), 'auth.token.revoked', params.id);
    return { revoked: true };
  });

  // ---- OpenID Connect ----
  api.route('GET /api/auth/oidc', () => ({
    enabled: s.deps.oidc !== undefined,
    issuer: s.deps.oidc?.issuer,
    loginUrl: s.deps.oidc ? '/api/auth/oidc/login' : undefined,
  }));

  api.route('GET /api/auth/oidc/login',
    async ({ req, res, query }) => {
      const o = s.deps.oidc;
      if (!o) throw new HttpError(404, 'OpenID Connect sign-in is not configured (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET)');
      const login = newLoginRequest();
      // Kept when present, so sign-ins started in two tabs both complete.
      const binding = readCookies(req)[OIDC_COOKIE] || randomBytes(24).toString('base64url');
      const url = await authorizeUrl(o, login);
      await s.db.query(`delete from oidc_states where created_at < now() - interval '15 minutes'`);
      await s.db.query('insert into oidc_states (state, nonce, code_verifier, return_to) values ($1, $2, $3, $4)', [stateKey(login.state, binding), login.nonce, login.codeVerifier, query.returnTo ?? '/']);
      // Lax: the browser sends it on the identity provider's top-level redirect back to the callback.
      res.cookie(OIDC_COOKIE, binding, { httpOnly: true, sameSite: 'lax', secure: s.deps.secureCookies ?? false, path: OIDC_PATH, maxAge: 15 * 60_000 });
      res.redirect(302, url);
    },
  );

  api.route('GET /api/auth/oidc/callback',
    async ({ req, res, query }) => {
      const o = s.deps.oidc;
      if (!o) throw new HttpError(404, 'OpenID Connect sign-in is not configured');
      if (query.error) throw new HttpError(401, `the identity provider refused the sign-in: ${query.error} ${query.error_description ?? ''}`.trim());
      if (!query.code || !query.state) throw new HttpError(400, 'code and state are required');
      const binding = readCookies(req)[OIDC_COOKIE];
      if (!binding) throw new HttpError(400, 'this browser did not start this sign-in (no sign-in cookie): start again');
      const row = await s.db.one(`delete from oidc_states where state = $1 and created_at > now() - interval '15 minutes' returning *`, [stateKey(query.state, binding)]);
      if (!row) throw new HttpError(400, 'this sign-in attempt is unknown, expired or was started in another browser: start again');
      let claims;
      try {
        claims = await redeemCode(o, new URL(req.originalUrl, 'http://callback').searchParams, { state: query.state, codeVerifier: row.code_verifier, nonce: row.nonce });
      } catch (err) {
        throw new HttpError(401, (err as Error).message);
      }
      const email = (claims.email ?? claims.preferred_username ?? '').toLowerCase();
      const subject = `${claims.iss}|${claims.oid ?? claims.sub}`;
      let userRow = await s.db.one('select id from users where oidc_subject = $1', [subject]);
      if (!userRow && email) {
        userRow = await s.db.one('update users set oidc_subject = $2 where email = $1 and oidc_subject is null returning id', [email, subject]);
        if (!userRow && o.autoProvision) {
          const u = await s.people.create({ email, name: claims.name ?? email });
          userRow = await s.db.one('update users set oidc_subject = $2 where id = $1 returning id', [u.id, subject]);
        }
      }
      if (!userRow) throw new HttpError(403, `${email || 'this account'} has no Tenantflow account: ask an administrator to add you`);
      const user = (await s.people.get(userRow.id))!;
      if (user.disabled) throw new HttpError(403, 'your Tenantflow account is disabled');
      const session = await s.people.createSession(user.id);
      setSessionCookies(s, res, session);
      await s.audit.record(originOf(req, { user } as Principal), 'auth.login.oidc', undefined, { issuer: claims.iss });
      res.redirect(302, row.return_to ?? '/');
    },
  );

  // ---- people ----
  const requireAdminFor = (p: Principal, tenant: string) => {
    if (!hasRole(p, 'admin', tenant) || (tenant === ALL_TENANTS && !isGlobalAdmin(p)))
      throw new HttpError(403, `only an admin of ${tenant === ALL_TENANTS ? 'every tenant' : `tenant ${tenant}`} may do this`);
  };
  const requireGlobalAdmin = (p: Principal) => {
    if (!isGlobalAdmin(p)) throw new HttpError(403, 'only an administrator of every tenant may manage accounts');
  };

  api.route('GET /api/users', async ({ me: p }) => {
    if (!p.grants.some((g) => g.role === 'admin')) throw new HttpError(403, 'only admins may list accounts');
    return s.people.list();
  });

  api.route('POST /api/users',
    async ({ req, res, me: p, body }) => {
      requireGlobalAdmin(p);
      if (await s.people.byEmail(body.email)) throw new HttpError(409, `an account ${body.email} already exists`);
      const oneTime = body.password ? undefined : oneTimePassword();
      const user = await s.people.create({ email: body.email, name: body.name, password: body.password ?? oneTime, mustChangePassword: !body.password, groups: body.groups });
      for (const g of body.grants) await s.people.grant(user.id, g.tenant, g.role, g.scope);
      await s.audit.record(originOf(req, p), 'user.created', user.email, { grants: body.grants, groups: body.groups });
      res.status(201);
      return { ...user, grants: await s.people.grants(user.id), oneTimePassword: oneTime };
    },
  );

  api.route('PATCH /api/users/:id', async ({ req, me: p, params, body }) => {
    requireGlobalAdmin(p);
    const u = await s.people.update(params.id!, body);
    if (!u) throw new HttpError(404, `account ${params.id} does not exist`);
    await s.audit.record(originOf(req, p), 'user.updated', u.email, body);
    return u;
  });

  api.route('POST /api/users/:id/password-reset', async ({ req, me: p, params }) => {
    requireGlobalAdmin(p);
    const u = await s.people.get(params.id!);
    if (!u) throw new HttpError(404, `account ${params.id} does not exist`);
    const password = oneTimePassword();
    await s.people.setPassword(u.id, password);
    await s.db.query('update users set must_change_password = true where id = $1', [u.id]);
    await s.people.endOtherCredentials(u.id);
    await s.db.query('delete from sessions where user_id = $1', [u.id]);
    s.people.changed('users', 'sessions');
    await s.audit.record(originOf(req, p), 'user.password.reset', u.email);
    return { oneTimePassword: password };
  });

  api.route('POST /api/users/:id/grants',
    async ({ req, res, me: p, params, body }) => {
      requireAdminFor(p, body.tenant);
      const u = await s.people.get(params.id!);
      if (!u) throw new HttpError(404, `account ${params.id} does not exist`);
      if (body.tenant !== ALL_TENANTS && !(await s.tenants.exists(body.tenant))) throw new HttpError(400, `tenant ${body.tenant} does not exist`, { problems: [{ field: 'tenant', message: 'unknown tenant' }] });
      if (body.scope && body.role !== 'operator') throw new HttpError(400, 'only operator grants take a scope', { problems: [{ field: 'scope', message: 'only for role operator' }] });
      const g = await s.people.grant(u.id, body.tenant, body.role, body.scope);
      await s.audit.record(originOf(req, p), 'user.granted', u.email, body, body.tenant);
      res.status(201);
      return g;
    },
  );

  api.route('DELETE /api/users/:id/grants/:grantId', async ({ req, me: p, params }) => {
    const grants = await s.people.grants(params.id!);
    const g = grants.find((x) => String(x.id) === params.grantId);
    if (!g) throw new HttpError(404, `account ${params.id} has no grant ${params.grantId}`);
    requireAdminFor(p, g.tenant);
    await s.people.revoke(params.id!, g.id);
    const u = await s.people.get(params.id!);
    await s.audit.record(originOf(req, p), 'user.revoked', u?.email, g, g.tenant);
    return { revoked: true };
  });
}

/**
 * Sign-in throttling (rate-limiter-flexible, in memory): per account, 10 wrong passwords in 15
 * minutes lock it for 15 minutes; per IP address, 50 wrong passwords in an hour block it for an
 * hour. A success clears the account's count. Refusals are 429 with Retry-After.
 */
export function loginThrottle(opts: { perAccount?: number; perIp?: number } = {}) {
  const account = new RateLimiterMemory({ keyPrefix: 'login-account', points: opts.perAccount ?? 10, duration: 15 * 60, blockDuration: 15 * 60 });
  const ip = new RateLimiterMemory({ keyPrefix: 'login-ip', points: opts.perIp ?? 50, duration: 60 * 60, blockDuration: 60 * 60 });
  const refuse = (res: Response, ms: number, what: string): never => {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    res.set('Retry-After', String(seconds));
    throw new HttpError(429, `too many wrong passwords for this ${what}: try again in ${seconds} s`, { problems: [{ field: what === 'account' ? 'email' : '(ip)', message: 'signing in is locked for a while after repeated wrong passwords' }], retryAfterSeconds: seconds });
  };
  return {
    async check(res: Response, keys: { account: string; ip: string }) {
      for (const [what, limiter, key] of [['account', account, keys.account], ['address', ip, keys.ip]] as const) {
        const got = await limiter.get(key);
        if (got && got.consumedPoints >= limiter.points) refuse(res, got.msBeforeNext, what);
      }
    },
    async failed(res: Response, keys: { account: string; ip: string }) {
      for (const [what, limiter, key] of [['account', account, keys.account], ['address', ip, keys.ip]] as const) {
        try {
          await limiter.consume(key);
        } catch (r) {
          if (r instanceof RateLimiterRes) refuse(res, r.msBeforeNext, what);
          throw r;
        }
      }
    },
    async succeeded(keys: { account: string }) {
      await account.delete(keys.account);
    },
  };
}
