// Durability: the worker process is killed in the middle of a run; a new worker picks the run up
// and it finishes with every write to the tenant done exactly once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { childProcessEnv, startTestEnv, statuses, type TestEnv } from './harness.ts';

let env: TestEnv;
let caFile: string;
const children: ChildProcess[] = [];

before(async () => {
  env = await startTestEnv({ worker: false });
  caFile = join(mkdtempSync(join(tmpdir(), 'tenantflow-ca-')), 'ca.pem');
  writeFileSync(caFile, env.sandbox.caPem);
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.close();
});

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../worker/main.ts', import.meta.url))], {
    env: childProcessEnv(env, caFile, env.taskQueue),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  child.once('exit', (code, signal) => {
    if (code && code !== 0 && signal !== 'SIGKILL') console.error(`worker exited ${code}:\n${log}`);
  });
  children.push(child);
  return child;
}

describe('durability', () => {
  it('finishes a run after its worker is killed mid-step, with each write done once', async () => {
    const upn = `durable.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    // Every Graph answer is slow, so the kill lands while a step is in flight.
    env.sandbox.admin.setFaults({ latencyMs: 700 });
    const first = startWorker();
    const h = await env.start({
      name: 'durable onboarding',
      nodes: [
        { id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: upn, displayName: 'Durable User', usageLocation: 'US' } },
        { id: 'licence', kind: 'action', action: 'licence.assign', params: { user: '{{ steps.create.output.id }}', licences: ['SPE_E3'] } },
        { id: 'group', kind: 'action', action: 'group.addMember', params: { user: '{{ steps.create.output.id }}', group: 'All Company' } },
      ],
      edges: [
        { source: 'create', target: 'licence' },
        { source: 'licence', target: 'group' },
      ],
    });
    await env.waitFor(h, (s) => s.nodes.licence?.status === 'running', 60_000);
    await new Promise((r) => setTimeout(r, 300));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    env.sandbox.admin.setFaults({ latencyMs: 0 });

    startWorker();
    const final = await h.result();
    assert.deepEqual(statuses(final), { create: 'succeeded', licence: 'succeeded', group: 'succeeded' });

    const users = (await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).select('id,assignedLicenses').get()).value;
    assert.equal(users.length, 1);
    assert.equal(users[0].assignedLicenses.length, 1);
    assert.deepEqual(env.sandbox.admin.mutationSummary({ objectId: users[0].id }), {
      'user.create': 1,
      'user.assignLicense': 1,
      'group.addMember': 1,
    });
  });

  it('a retry after a write that succeeded but never answered finds its own effect', async () => {
    const upn = `lost.answer.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`;
    env.sandbox.admin.setFaults({ scripted: [{ status: 504, afterEffect: true, match: '^POST /v1\\.0/users$' }] });
    const worker = startWorker();
    const h = await env.start({
      name: 'lost answer',
      nodes: [{ id: 'create', kind: 'action', action: 'user.create', params: { userPrincipalName: upn, displayName: 'Lost Answer' }, retry: { initialInterval: '100ms' } }],
    });
    const final = await h.result();
    worker.kill('SIGKILL');
    assert.equal(final.nodes.create!.attempts, 2);
    const { id, userPrincipalName, created } = final.nodes.create!.output as { id: string; userPrincipalName: string; created: boolean };
    assert.deepEqual({ userPrincipalName, created }, { userPrincipalName: upn, created: false });
    assert.ok(id);
    const users = (await env.graph.api('/users').filter(`userPrincipalName eq '${upn}'`).get()).value;
    assert.equal(users.length, 1);
  });
});
