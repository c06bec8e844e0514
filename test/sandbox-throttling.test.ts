// Microsoft's published throttling in the sandbox: Entra resource units and write quotas per
// app+tenant, the documented headers, timeScale, and each $batch item throttled on its own.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { sandboxCredential, sandboxGraphClient } from '../sandbox/testing.ts';

let sb: Sandbox;
let token: string;

before(async () => {
  sb = await startSandbox({ seed: 3, users: 60, timeScale: 100 });
  token = (await sandboxCredential(sb).getToken('https://graph.microsoft.com/.default'))!.token;
});
after(() => sb.close());
beforeEach(() => sb.admin.reset());


function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sb.graphBaseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

const userBody = (i: number) => ({
  accountEnabled: true,
  displayName: `Burst ${i}`,
  mailNickname: `burst${i}`,
  userPrincipalName: `burst${i}@${sb.tenant.domain}`,
  passwordProfile: { password: 'Xw9!correct-horse' },
});

describe('Entra ID throttling', () => {
  test('reads report x-ms-resource-unit with the documented costs and modifiers', async () => {
    const list = await call('GET', '/users');
    assert.equal(list.headers.get('x-ms-resource-unit'), '2');
    const selected = await call('GET', '/users?$select=id');
    assert.equal(selected.headers.get('x-ms-resource-unit'), '1');
    const skus = await call('GET', '/subscribedSkus');
    assert.equal(skus.headers.get('x-ms-resource-unit'), '3');
    const one = await call('GET', `/users/${[...sb.admin.store.users.keys()][0]}`);
    assert.equal(one.headers.get('x-ms-resource-unit'), '1');
  });

  test('a burst past the write budget gets 429 with Retry-After and the throttle headers; waiting that long succeeds', async () => {
    sb.admin.holdThrottleTime(true);
    let throttled: Response | undefined;
    let created = 0;
    for (let i = 0; i < 200 && !throttled; i++) {
      const res = await call('POST', '/users', userBody(i));
      if (res.status === 429) throttled = res;
      else {
        assert.equal(res.status, 201);
        created++;
      }
    }
    assert.ok(throttled, 'the write quota (3,000 per 150 s, scaled to 30 per 1.5 s) must run out');
    assert.equal(created, 30, 'the whole quota and no more, with the buckets\' time held still');
    assert.match(throttled.headers.get('x-ms-throttle-scope')!, new RegExp(`^Tenant_Application/Write/${sb.tenant.clientId}/${sb.tenant.tenantId}$`));
    assert.equal(throttled.headers.get('x-ms-throttle-information'), 'WriteLimitExceeded');
    const retryAfter = Number(throttled.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter < 1, `retry-after ${retryAfter}`);
    const body = (await throttled.json()) as { error: { code: string; innerError: { 'request-id': string } } };
    assert.equal(body.error.code, 'TooManyRequests');
    assert.ok(body.error.innerError['request-id']);
    assert.equal(sb.admin.findUser(`burst${created}@${sb.tenant.domain}`), undefined, 'a throttled write has no effect');

    // Not yet: the quota refills only after Retry-After.
    assert.equal((await call('POST', '/users', userBody(created))).status, 429);
    sb.admin.advanceClock(retryAfter + 0.001);
    const retried = await call('POST', '/users', userBody(created));
    assert.equal(retried.status, 201);
    assert.equal(sb.admin.mutationCount({ op: 'user.create' }), created + 1);
  });

  test('the near-limit header appears above 80% of a quota', async () => {
    sb.admin.holdThrottleTime(true);
    let pct: string | null = null;
    for (let i = 0; i < 40 && !pct; i++) pct = (await call('POST', '/users', userBody(i))).headers.get('x-ms-throttle-limit-percentage');
    assert.ok(pct && Number(pct) >= 0.8, `x-ms-throttle-limit-percentage ${pct}`);
  });

  test('resource units run out for a fast reader, scoped ReadWrite', async () => {
    sb.admin.holdThrottleTime(true);
    let throttled: Response | undefined;
    for (let i = 0; i < 500 && !throttled; i++) {
      const res = await call('GET', '/groups/' + [...sb.admin.store.groups.keys()][0] + '/transitiveMembers');
      if (res.status === 429) throttled = res;
    }
    assert.ok(throttled);
    assert.match(throttled.headers.get('x-ms-throttle-scope')!, /^Tenant_Application\/ReadWrite\//);
    assert.equal(throttled.headers.get('x-ms-throttle-information'), 'ResourceUnitLimitExceeded');
  });

  test('another app in the same tenant has its own app+tenant budget', async () => {
    for (let i = 0; i < 200; i++) if ((await call('POST', '/users', userBody(i))).status === 429) break;
    const other = sandboxGraphClient(sb, { creds: sb.admin.createApp({ permissions: ['User.ReadWrite.All'] }), retry: false });
    const u = await other.api('/users').post(userBody(999));
    assert.ok(u.id);
  });

  test('each $batch item is counted and throttled on its own; the envelope is 200', async () => {
    const statuses: number[] = [];
    for (let b = 0; b < 4; b++) {
      const requests = Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), method: 'POST', url: '/users', headers: { 'content-type': 'application/json' }, body: userBody(b * 20 + i) }));
      const res = await call('POST', '/$batch', { requests });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { responses: { status: number; headers: Record<string, string> }[] };
      for (const r of body.responses) {
        statuses.push(r.status);
        if (r.status === 429) assert.ok(r.headers['retry-after']);
      }
    }
    assert.ok(statuses.includes(201));
    assert.ok(statuses.includes(429));
    assert.equal(sb.admin.mutationCount({ op: 'user.create' }), statuses.filter((s) => s === 201).length);
  });

  test('throttling can be switched off at run time', async () => {
    sb.admin.setLimits({ throttling: false });
    try {
      for (let i = 0; i < 80; i++) assert.equal((await call('POST', '/users', userBody(i))).status, 201);
    } finally {
      sb.admin.setLimits({ throttling: true });
    }
  });
});
