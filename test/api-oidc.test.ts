// OpenID Connect sign-in, end to end against the sandbox tenant as the identity provider (the way
// Microsoft Entra ID answers): the server's /api/auth/oidc/login redirects to the sandbox's
// authorize endpoint (code + PKCE S256, state, nonce), the sandbox signs in the user named by
// login_hint and redirects to the callback, the server redeems the code, checks the ID token and
// starts a session. Plain fetch with manual redirects and a hand-kept cookie jar plays the browser.
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AppCredentials } from '../sandbox/index.ts';
import type { User } from '../sandbox/store.ts';
import { startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let api: ApiServer;
let app: AppCredentials;
let callback: string;
let people: User[];

before(async () => {
  env = await startTestEnv({ worker: false });
  api = await startApiServer(env);
  callback = `${api.base}/api/auth/oidc/callback`;
  app = env.sandbox.admin.createApp({ displayName: 'Tenantflow sign-in', permissions: [], redirectUris: [callback] });
  api.services.deps.oidc = { issuer: `${env.sandbox.url}/${app.tenantId}/v2.0`, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: callback, autoProvision: false };
  people = [...env.sandbox.admin.store.users.values()].filter((u) => u.accountEnabled && u.userType === 'Member');
});
after(async () => {
  await api?.close();
  await env?.close();
});

/** A browser: cookies by name, requests without following redirects. */
class Browser {
  cookies = new Map<string, string>();
  async get(url: string): Promise<Response> {
    const sameSite = url.startsWith(api.base);
    const res = await fetch(url, { redirect: 'manual', headers: sameSite && this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {} });
    if (sameSite)
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair!.indexOf('=');
        const value = decodeURIComponent(pair!.slice(i + 1));
        if (value && !/expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.set(pair!.slice(0, i), value);
        else this.cookies.delete(pair!.slice(0, i));
      }
    return res;
  }
  /** /api/auth/oidc/login → the sandbox's authorize URL. */
  async start(returnTo = '/'): Promise<URL> {
    const res = await this.get(`${api.base}/api/auth/oidc/login?returnTo=${encodeURIComponent(returnTo)}`);
    assert.equal(res.status, 302);
    return new URL(res.headers.get('location')!);
  }
  /** The sandbox signs `who` in and sends the browser back: the callback URL it redirects to. */
  async authorize(authorizeUrl: URL, who: string): Promise<URL> {
    const u = new URL(authorizeUrl);
    u.searchParams.set('login_hint', who);
    const res = await this.get(u.toString());
    assert.equal(res.status, 302, await res.text());
    return new URL(res.headers.get('location')!);
  }
  async signIn(who: string, returnTo = '/') {
    const back = await this.authorize(await this.start(returnTo), who);
    return this.get(back.toString());
  }
  async me() {
    const res = await this.get(`${api.base}/api/auth/me`);
    return { status: res.status, body: (await res.json()) as { user: { email: string; name?: string }; grants: { tenant: string; role: string }[]; via: string } };
  }
}

const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('the sandbox as an OpenID provider', () => {
  it('publishes discovery with the authorize, token and keys endpoints and the v2.0 issuer (MSAL discovery unchanged)', async () => {
    const d = (await (await fetch(`${env.sandbox.url}/${app.tenantId}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    assert.equal(d['issuer'], `${env.sandbox.url}/${app.tenantId}/v2.0`);
    assert.equal(d['authorization_endpoint'], `${env.sandbox.url}/${app.tenantId}/oauth2/v2.0/authorize`);
    assert.equal(d['token_endpoint'], `${env.sandbox.url}/${app.tenantId}/oauth2/v2.0/token`);
    const keys = (await (await fetch(d['jwks_uri']!)).json()) as { keys: unknown[] };
    assert.equal(keys.keys.length, 1);
    // The demo app's client-credentials sign-in (MSAL reads the same document) still works.
    assert.ok(await env.graph.api('/organization').get());
  });

  it('shows a picker of users without login_hint, and refuses an unregistered redirect URI with an error page (AADSTS50011)', async () => {
    const browser = new Browser();
    const authorize = await browser.start();
    const picker = await fetch(authorize);
    assert.equal(picker.status, 200);
    const html = await picker.text();
    assert.ok(html.includes(people[0]!.userPrincipalName));
    const evil = new URL(authorize);
    evil.searchParams.set('redirect_uri', 'https://evil.example/callback');
    const refused = await fetch(evil, { redirect: 'manual' });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('location'), null, 'nothing is sent to an unregistered address');
    assert.match(await refused.text(), /AADSTS50011/);
  });

  it('refuses a bad PKCE verifier, a redirect_uri that differs from the authorize request, a reused and an expired code (invalid_grant)', async () => {
    const redeem = (code: string, verifier: string, redirectUri = callback) =>
      fetch(`${env.sandbox.url}/${app.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: app.clientId, client_secret: app.clientSecret }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string; error_codes?: number[]; id_token?: string; access_token?: string } }));
    const codeFor = async () => {
      const verifier = randomBytes(32).toString('base64url');
      const u = new URL(`${env.sandbox.url}/${app.tenantId}/oauth2/v2.0/authorize`);
      u.search = new URLSearchParams({ client_id: app.clientId, response_type: 'code', redirect_uri: callback, scope: 'openid profile email', state: 's', nonce: 'n', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', login_hint: people[1]!.userPrincipalName }).toString();
      const res = await fetch(u, { redirect: 'manual' });
      const back = new URL(res.headers.get('location')!);
      assert.equal(back.searchParams.get('state'), 's');
      return { code: back.searchParams.get('code')!, verifier };
    };
    const a = await codeFor();
    const bad = await redeem(a.code, randomBytes(32).toString('base64url'));
    assert.deepEqual([bad.status, bad.body.error, bad.body.error_codes], [400, 'invalid_grant', [501481]]);
    const b = await codeFor();
    const elsewhere = await redeem(b.code, b.verifier, `${api.base}/elsewhere`);
    assert.deepEqual([elsewhere.body.error, elsewhere.body.error_codes], ['invalid_grant', [500112]]);
    const c = await codeFor();
    const ok = await redeem(c.code, c.verifier);
    assert.equal(ok.status, 200);
    const claims = JSON.parse(Buffer.from(ok.body.id_token!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims['aud'], app.clientId);
    assert.equal(claims['iss'], `${env.sandbox.url}/${app.tenantId}/v2.0`);
    assert.equal(claims['oid'], people[1]!.id);
    assert.equal(claims['tid'], app.tenantId);
    assert.equal(claims['preferred_username'], people[1]!.userPrincipalName);
    assert.equal(claims['nonce'], 'n');
    for (const k of ['sub', 'name', 'iat', 'nbf', 'exp']) assert.ok(claims[k] !== undefined, k);
    assert.ok(ok.body.access_token);
    const again = await redeem(c.code, c.verifier);
    assert.deepEqual([again.body.error, again.body.error_codes], ['invalid_grant', [54005]]);
    const d = await codeFor();
    env.sandbox.admin.advanceClock(11 * 60);
    const late = await redeem(d.code, d.verifier);
    env.sandbox.admin.advanceClock(-11 * 60);
    assert.deepEqual([late.body.error, late.body.error_codes], ['invalid_grant', [70008]]);
  });
});

describe('signing in to Tenantflow with OpenID Connect', () => {
  it('starts with code + PKCE S256, state and nonce, and signs in a person an admin added, linking the account', async () => {
    const who = people[2]!;
    const added = await api.admin.call('POST', '/api/users', { email: who.userPrincipalName, name: who.displayName, grants: [{ tenant: 'sandbox', role: 'viewer' }] });
    assert.equal(added.status, 201);
    const browser = new Browser();
    const authorize = await browser.start('/runs');
    const q = authorize.searchParams;
    assert.equal(authorize.origin + authorize.pathname, `${env.sandbox.url}/${app.tenantId}/oauth2/v2.0/authorize`);
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('redirect_uri'), callback);
    assert.ok(q.get('state') && q.get('nonce') && q.get('code_challenge'));
    assert.ok(q.get('scope')!.split(' ').includes('openid'));
    const back = await browser.authorize(authorize, who.userPrincipalName);
    const done = await browser.get(back.toString());
    assert.equal(done.status, 302, await done.clone().text());
    assert.equal(done.headers.get('location'), '/runs');
    const me = await browser.me();
    assert.equal(me.status, 200);
    assert.equal(me.body.user.email, who.userPrincipalName.toLowerCase());
    assert.deepEqual(me.body.grants.map((g) => `${g.tenant}:${g.role}`), ['sandbox:viewer']);
    const linked = await api.db.one<{ oidc_subject: string }>('select oidc_subject from users where email = $1', [who.userPrincipalName.toLowerCase()]);
    assert.equal(linked!.oidc_subject, `${env.sandbox.url}/${app.tenantId}/v2.0|${who.id}`);
    const audit = await api.admin.call('GET', '/api/audit?action=auth.login.oidc');
    assert.ok(JSON.stringify(audit.body).includes(who.userPrincipalName.toLowerCase()));
    // The second sign-in finds the account by its subject.
    const again = new Browser();
    assert.equal((await again.signIn(who.userPrincipalName)).status, 302);
    assert.equal((await again.me()).body.user.email, who.userPrincipalName.toLowerCase());
  });

  it('refuses a person without an account unless OIDC_AUTO_PROVISION, which creates one without roles', async () => {
    const who = people[3]!;
    const refused = await new Browser().signIn(who.userPrincipalName);
    assert.equal(refused.status, 403);
    assert.match(await errorOf(refused), /has no Tenantflow account/);
    api.services.deps.oidc!.autoProvision = true;
    try {
      const browser = new Browser();
      assert.equal((await browser.signIn(who.userPrincipalName)).status, 302);
      const me = await browser.me();
      assert.equal(me.body.user.email, who.userPrincipalName.toLowerCase());
      assert.equal(me.body.user.name, who.displayName);
      assert.deepEqual(me.body.grants, []);
    } finally {
      api.services.deps.oidc!.autoProvision = false;
    }
  });

  it('refuses a wrong state, and a callback opened in a browser that did not start the sign-in (login CSRF)', async () => {
    const who = people[2]!;
    const browser = new Browser();
    const back = await browser.authorize(await browser.start(), who.userPrincipalName);
    const wrong = new URL(back);
    wrong.searchParams.set('state', randomBytes(24).toString('base64url'));
    const r1 = await browser.get(wrong.toString());
    assert.equal(r1.status, 400);
    assert.equal(browser.cookies.has('tf_session'), false);
    // The attacker's callback URL, opened by a victim's browser: no session for the victim.
    const victim = new Browser();
    const r2 = await victim.get(back.toString());
    assert.equal(r2.status, 400);
    assert.equal(victim.cookies.has('tf_session'), false);
    // The real browser still completes its own sign-in.
    assert.equal((await browser.get(back.toString())).status, 302);
    assert.equal((await browser.me()).status, 200);
  });

  it('refuses a replayed authorization code (the provider answers AADSTS54005)', async () => {
    const who = people[2]!;
    const browser = new Browser();
    const back = await browser.authorize(await browser.start(), who.userPrincipalName);
    assert.equal((await browser.get(back.toString())).status, 302);
    // A new sign-in attempt in the same browser, fed the code that was already used.
    const next = new URL(await browser.authorize(await browser.start(), who.userPrincipalName));
    next.searchParams.set('code', back.searchParams.get('code')!);
    const replay = await browser.get(next.toString());
    assert.equal(replay.status, 401);
    assert.match(await errorOf(replay), /AADSTS54005/);
  });

  it('refuses an ID token for another audience, an expired one, one with another nonce, one from another issuer, one not valid yet, and one for several audiences naming another authorized party', async () => {
    const who = people[2]!;
    const other = env.sandbox.admin.createApp({ displayName: 'Another app', permissions: [] });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ aud: other.clientId }, /another application/],
      [{ exp: Math.floor(Date.now() / 1000) - 3600, nbf: Math.floor(Date.now() / 1000) - 7200, iat: Math.floor(Date.now() / 1000) - 7200 }, /expired/],
      [{ nonce: 'not-this-sign-in' }, /nonce/],
      [{ iss: `${env.sandbox.url}/${randomBytes(8).toString('hex')}/v2.0` }, /issued by/],
      [{ nbf: Math.floor(Date.now() / 1000) + 3600, iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 7200 }, /not valid yet/],
      // OpenID Connect Core §3.1.3.7: several audiences, and this application not the authorized party.
      [{ aud: [app.clientId, other.clientId], azp: other.clientId }, /another application/],
    ];
    for (const [claims, message] of cases) {
      env.sandbox.admin.overrideNextIdToken(claims);
      const browser = new Browser();
      const res = await browser.signIn(who.userPrincipalName);
      assert.equal(res.status, 401, JSON.stringify(claims));
      assert.match(await errorOf(res), message);
      assert.equal(browser.cookies.has('tf_session'), false);
    }
  });

  it('refuses a disabled Tenantflow account', async () => {
    const who = people[4]!;
    const added = await api.admin.call('POST', '/api/users', { email: who.userPrincipalName });
    assert.equal((await api.admin.call('PATCH', `/api/users/${added.body.id}`, { disabled: true })).status, 200);
    const res = await new Browser().signIn(who.userPrincipalName);
    assert.equal(res.status, 403);
    assert.match(await errorOf(res), /disabled/);
  });
});
