// A connection's credential keeps its tokens while MSAL would answer from its own cache: the real
// @azure/identity against the sandbox's token endpoint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { sandboxCredential } from '../sandbox/testing.ts';
import { credentialFor } from '../m365/graph.ts';
import { keptTokens, RENEW_BEFORE_EXPIRY_MS } from '../m365/kept-token.ts';
import { sandboxTenant } from './harness.ts';

const GRAPH = 'https://graph.microsoft.com/.default';

describe('kept tokens', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ seed: 3, users: 5 });
  });
  after(() => sb.close());

  test("a connection's credential hands out the token it has until MSAL would renew it, one token request in all", async () => {
    const since = sb.admin.requestLog().at(-1)?.seq ?? 0;
    const credential = credentialFor(sandboxTenant(sb));
    const first = await credential.getToken(GRAPH);
    assert.ok(first?.token, 'a token');
    // Compared as objects (@azure/identity makes a new one per answer); never printed.
    for (let i = 0; i < 5; i++) assert.ok((await credential.getToken(GRAPH)) === first, 'the same token, not asked of MSAL again');
    assert.equal(sb.admin.requestLog({ surface: 'token', since }).length, 1);
    // Another scope is another token.
    const exchange = await credential.getToken('https://outlook.office365.com/.default');
    assert.ok(exchange?.token && exchange.token !== first.token, 'a token of its own');
  });

  test('asks the credential again within five minutes of expiry', async () => {
    let now = Date.now();
    const credential = keptTokens(sandboxCredential(sb), () => now);
    const first = (await credential.getToken(GRAPH))!;
    now = first.expiresOnTimestamp - RENEW_BEFORE_EXPIRY_MS - 1;
    assert.ok((await credential.getToken(GRAPH)) === first, 'kept until five minutes before expiry');
    now += 2;
    const renewed = await credential.getToken(GRAPH);
    assert.ok(renewed?.token, 'a token');
    assert.ok(renewed !== first, 'asked the credential');
  });
});
