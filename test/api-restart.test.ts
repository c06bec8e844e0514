// Restarting the server in the middle of a run changes nothing for the run: the run lives in
// Temporal, accounts and tokens in the database; a new server on the same data carries on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer } from './api-harness.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

let env: TestEnv;
let dataDir: string;
let second: ApiServer | undefined;

before(async () => {
  env = await startTestEnv();
  dataDir = mkdtempSync(join(tmpdir(), 'tenantflow-restart-'));
});
after(async () => {
  await second?.close();
  await env?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('server restart', () => {
  it('a run waiting for approval carries on through a new server on the same database', async () => {
    const roles = { 'helpdesk@contoso.test': [{ tenant: 'sandbox', role: 'operator' as const }], 'manager@contoso.test': [{ tenant: 'sandbox', role: 'approver' as const }] };
    const first = await startApiServer(env, { dataDir, roles });
    const helpdesk = await first.as('helpdesk@contoso.test');
    const manager = await first.as('manager@contoso.test');
    const upn = `restart.${randomUUID().slice(0, 6)}@${env.sandbox.tenant.domain}`;
    const started = await helpdesk.call('POST', '/api/runs', { runbookId: 'onboarding', inputs: { userPrincipalName: upn, givenName: 'Re', surname: 'Start' } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id = started.body.id as string;
    const waiting = await pollApi(helpdesk, `/api/runs/${id}`, (r) => r.status === 'waiting-approval');
    await first.close();

    second = await startApiServer(env, { dataDir, roles });
    const asBefore = await fetch(`${second.base}/api/runs/${id}`, { headers: { authorization: `Bearer ${manager.token}` } });
    assert.equal(asBefore.status, 200, 'the token from before the restart still works');
    const seen = (await asBefore.json()) as typeof waiting;
    assert.equal(seen.status, 'waiting-approval');
    assert.deepEqual(seen.nodes, waiting.nodes);
    const decided = await fetch(`${second.base}/api/runs/${id}/approvals/approve_request`, {
      method: 'POST',
      headers: { authorization: `Bearer ${manager.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'reject', comment: 'not this week' }),
    });
    assert.equal(decided.status, 202);
    // The approver said no and the run ended on that path: rejected, in those words.
    const done = await pollApi(await second.as('manager@contoso.test'), `/api/runs/${id}`, (r) => r.status === 'rejected');
    assert.equal(done.message, 'rejected at approve_request by manager@contoso.test: “not this week” (The request was rejected; nothing was created)');
    assert.equal(done.nodes.rejected.status, 'succeeded');
    assert.equal(done.nodes.create_user.status, 'skipped');
    const audit = await second.admin.call('GET', `/api/audit?target=${id}`);
    assert.deepEqual(audit.body.map((e: { action: string }) => e.action).sort(), ['approval.reject', 'run.started'], 'the audit log kept what the first server wrote');
  });
});
