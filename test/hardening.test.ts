// Inputs that used to hurt the engine or the server (issue: reliability and security findings 4
// and 5): a catastrophic pattern, an expression that never ends, a delay of centuries. Each is
// refused with the field named, or fails its step, and the run it is in can always end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { RunbookDefinitionInput } from '../runbook/definition.ts';
import { validateInputs } from '../runbook/inputs.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { evaluate } from '../runbook/expressions.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const ctx = { inputs: {}, steps: {}, run: {} };
const delayOnly = (extra: Record<string, unknown>) => ({ name: 'bounds', nodes: [{ id: 'wait', kind: 'delay', ...extra }], edges: [] });

describe('user-supplied patterns run in linear time', () => {
  it('matches ^(a+)+$ against a long hostile value at once, and still matches what it should', () => {
    const def = { inputs: [{ name: 'code', type: 'string', pattern: '^(a+)+$' }] } as never;
    // With a backtracking engine this call takes longer than the universe exists (time doubles per character).
    const hostile = validateInputs(def, { code: `${'a'.repeat(5000)}!` });
    assert.equal(hostile.ok, false);
    assert.match(JSON.stringify(hostile), /does not match the pattern/);
    assert.equal(validateInputs(def, { code: 'aaaa' }).ok, true);
  });

  it('refuses at publish a pattern RE2 cannot run, naming the field', () => {
    const r = validateRunbook({ name: 'p', inputs: [{ name: 'x', type: 'string', pattern: '(a)\\1' }], nodes: [{ id: 'end', kind: 'end' }], edges: [] });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.problems.some((p) => p.field === 'inputs[0].pattern' && /backreferences/.test(p.message)), JSON.stringify(r));
  });
});

describe('durations are bounded', () => {
  it('refuses a delay of 99999999999d and accepts one of 30d', () => {
    const bad = validateRunbook(delayOnly({ duration: '99999999999d' }));
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.problems.some((p) => /duration/.test(p.field ?? '') && /ten years/.test(p.message)), JSON.stringify(bad));
    assert.equal(validateRunbook(delayOnly({ duration: '30d' })).ok, true);
  });
});

describe('expressions have a deterministic budget', () => {
  it('ends an endless tail recursion and a deep recursion with an error that names the expression', async () => {
    await assert.rejects(evaluate('($f := function($x){ $f($x) }; $f(1))', ctx), /evaluation steps/);
    await assert.rejects(evaluate('($f := function($x){ 1 + $f($x) }; $f(1))', ctx), /nested deeper/);
    assert.equal(await evaluate('$sum([1..1000])', ctx), 500500);
  });
});

describe('on the real engine', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => env?.close());

  it('fails the step of an endless expression and ends the run, instead of retrying the workflow task forever', async () => {
    const h = await env.start({
      name: 'endless expression',
      inputs: [],
      nodes: [{ id: 'spin', kind: 'condition', expression: '($f := function($x){ $f($x) }; $f(1))' }],
      edges: [],
    } as unknown as RunbookDefinitionInput);
    const err = await h.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError, `the run should fail, got ${String(err)}`);
    const state = await env.state(h);
    assert.equal(state.nodes.spin!.status, 'failed');
    assert.match(state.nodes.spin!.error?.message ?? '', /evaluation steps/);
  });

  it('fails a delay until a date centuries away', async () => {
    const h = await env.start(delayOnly({ until: '"2999-01-01T00:00:00Z"' }) as unknown as RunbookDefinitionInput);
    await assert.rejects(h.result(), (e: unknown) => e instanceof WorkflowFailedError && /more than ten years away/.test(JSON.stringify((e as WorkflowFailedError).cause?.message)));
  });
});
