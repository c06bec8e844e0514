// State persistence and scale: a statePath keeps the tenant (and its CA) across restarts; 100,000
// users seed and stay queryable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../sandbox/index.ts';
import { sandboxGraphClient } from '../sandbox/testing.ts';

test('a statePath keeps users, memberships, credentials and the CA across restarts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
  try {
    const first = await startSandbox({ seed: 21, users: 25, statePath: dir });
    const graph = sandboxGraphClient(first);
    const u = await graph.api('/users').post({ accountEnabled: true, displayName: 'Persisted', mailNickname: 'persisted', userPrincipalName: `persisted@${first.tenant.domain}`, passwordProfile: { password: 'Xw9!correct-horse' } });
    const group = [...first.admin.store.groups.values()][0]!;
    await graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id}` });
    const { tenant, caPem } = first;
    await first.close();

    const second = await startSandbox({ seed: 999, users: 5, statePath: dir });
    try {
      assert.equal(second.caPem, caPem);
      assert.deepEqual(second.tenant, tenant);
      const again = sandboxGraphClient(second);
      assert.equal((await again.api(`/users/${u.id}`).get()).displayName, 'Persisted');
      const members = await again.api(`/groups/${group.id}/members`).top(999).get();
      assert.ok(members.value.some((m: { id: string }) => m.id === u.id));
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('100,000 users seed; lookups by UPN and filtered pages answer correctly at that size', async () => {
  // How fast is the benchmark's business (npm run bench), not a test's: no timed assertion here.
  const sb = await startSandbox({ seed: 1, users: 100_000, throttling: false });
  try {
    assert.ok(sb.admin.store.users.size >= 100_000);
    const graph = sandboxGraphClient(sb);
    const someone = [...sb.admin.store.users.values()][77_777]!;
    assert.equal((await graph.api(`/users/${someone.userPrincipalName}`).get()).id, someone.id);
    const page = await graph.api('/users').filter("department eq 'Legal'").select('id,department').top(999).get();
    assert.equal(page.value.length, 999);
    assert.ok(page['@odata.nextLink']);
  } finally {
    await sb.close();
  }
});
