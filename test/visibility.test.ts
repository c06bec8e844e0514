// Visibility queries (server/visibility.ts): values are quoted in one place, and a value that tries
// to end its literal and add a clause is read back by Temporal as the value itself. Checked as text
// and against the real Temporal dev server, whose query parser is the one that matters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { and, compare, eq, literal, oneOf, or } from '../server/visibility.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

describe('visibility clauses', () => {
  it('quote values with backslash escapes, so no value ends its literal', () => {
    assert.equal(literal('anna@contoso.com'), `'anna@contoso.com'`);
    assert.equal(literal("o'brien"), String.raw`'o\'brien'`);
    assert.equal(literal('ends with \\'), String.raw`'ends with \\'`);
    assert.equal(literal("x\\' OR 1=1"), String.raw`'x\\\' OR 1=1'`);
    assert.equal(eq('TenantflowTenant', "contoso' OR TenantflowTenant != 'x"), String.raw`TenantflowTenant = 'contoso\' OR TenantflowTenant != \'x'`);
    assert.equal(compare('StartTime', '>=', '2026-01-01T00:00:00.000Z'), `StartTime >= '2026-01-01T00:00:00.000Z'`);
  });

  it('build lists, and/or, and refuse a field name that is not one', () => {
    assert.equal(oneOf('TenantflowStatus', ['running', "paused'"]), String.raw`TenantflowStatus IN ('running', 'paused\'')`);
    assert.equal(oneOf('TenantflowTenant', []), `TenantflowTenant = '__none__'`, 'no value matches nothing');
    assert.equal(and(eq('A', 'a'), undefined, false, eq('B', 'b')), `(A = 'a' AND B = 'b')`);
    assert.equal(or(eq('A', 'a')), `A = 'a'`);
    assert.equal(or(eq('A', 'a'), and(eq('B', 'b'), eq('C', 'c'))), `(A = 'a' OR (B = 'b' AND C = 'c'))`);
    assert.throws(() => eq("TenantflowTenant = 'x' OR WorkflowType", 'y'), /not a visibility field name/);
  });
});

describe('visibility queries against Temporal', () => {
  let env: TestEnv;
  const handles: WorkflowHandle[] = [];
  const requesters = ['plain@contoso.test', "o'brien@contoso.test", 'back\\slash@contoso.test', "x' or workflowtype != 'y", 'trailing\\'];

  before(async () => {
    // No worker: the runs only need the search attributes they are started with.
    env = await startTestEnv({ worker: false });
    for (const startedBy of requesters) handles.push(await env.start({ name: 'visibility', nodes: [{ id: 'done', kind: 'end' }] }, {}, { startedBy, tenant: `t-${handles.length}` }));
  });
  after(async () => {
    for (const h of handles) await h.terminate('test done').catch(() => undefined);
    await env?.close();
  });

  async function listed(filter: Parameters<TestEnv['runs']['list']>[0], expected: number) {
    for (let i = 0; ; i++) {
      const { runs } = await env.runs.list(filter, { size: 50 });
      if (runs.length === expected || i > 100) return runs;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('finds each run by a requester holding quotes, and only that run', async () => {
    assert.equal((await listed({}, requesters.length)).length, requesters.length);
    for (const [i, requester] of requesters.entries()) {
      if (requester.includes('\\')) continue;
      const runs = await listed({ requester }, 1);
      assert.deepEqual(runs.map((r) => [r.id, r.startedBy]), [[handles[i]!.workflowId, requester]], requester);
    }
  });

  it('takes values with backslashes, even a trailing one, and never matches another run with them', async () => {
    // Temporal's parser reads \\ as one backslash; the dev server's SQLite store then quotes it
    // again in its own dialect, where a backslash is no escape, so such a value finds nothing
    // there. What matters here: the query is valid and cannot match anything but the value.
    assert.equal((await listed({}, requesters.length)).length, requesters.length);
    for (const requester of requesters.filter((r) => r.includes('\\'))) {
      const { runs } = await env.runs.list({ requester }, { size: 50 });
      assert.ok(runs.every((r) => r.startedBy === requester), `${requester}: ${JSON.stringify(runs.map((r) => r.startedBy))}`);
    }
  });

  it('reads an injection attempt as a value: it matches no run and widens nothing', async () => {
    assert.equal((await listed({}, requesters.length)).length, requesters.length);
    for (const attempt of ["nobody' OR TaskQueue != 'x", "nobody\\' OR TaskQueue != \\'x", "nobody') OR ('a' = 'a"]) {
      const { runs } = await env.runs.list({ requester: attempt }, { size: 50 });
      assert.deepEqual(runs, [], attempt);
      const byTenant = await env.runs.list({ tenants: [attempt, 't-1'] }, { size: 50 });
      assert.deepEqual(byTenant.runs.map((r) => r.tenant), ['t-1'], attempt);
    }
    const either = await env.runs.list({ extra: or(eq('TenantflowRequester', "o'brien@contoso.test"), eq('TenantflowTenant', "t-4' OR 'a' = 'a")) }, { size: 50 });
    assert.deepEqual(either.runs.map((r) => r.startedBy), ["o'brien@contoso.test"]);
  });
});
