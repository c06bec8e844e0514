// Expressions read field paths without JSONata when they can (runbook/expressions.ts, plainField):
// each answer here must be exactly JSONata's own for the same expression and context, including
// the cases the direct read leaves to JSONata (arrays on the way, missing fields, keywords).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonata from 'jsonata';
import { evaluate, inputsForBody, resolveTemplate, type ExpressionContext } from '../runbook/expressions.ts';

const ctx: ExpressionContext = {
  inputs: { upn: 'ada@contoso.com', count: 3, on: false, none: null, empty: '', nested: { a: { b: 'deep', list: [1, 2] } }, list: ['x', 'y'], one: ['only'], grid: [[1, 2], [3]], wrapped: [{ inner: ['z'] }], people: [{ mail: 'a@x' }, { mail: 'b@x' }], true: 'keyword' },
  steps: { create: { output: { id: 'u1', licences: [] }, status: 'succeeded' }, later: { output: undefined, status: 'pending' } },
  run: { id: 'run-1', tenant: 'contoso' },
  item: { mail: 'item@x', tags: ['t'] },
};

/** What JSONata itself answers, made plain JSON as evaluate() does. */
async function byJsonata(expr: string): Promise<unknown> {
  const v = await jsonata(expr).evaluate(ctx);
  return v === undefined || v === null || typeof v === 'function' ? (typeof v === 'function' ? undefined : v) : JSON.parse(JSON.stringify(v));
}

const EXPRESSIONS = [
  'inputs.upn',
  ' inputs . upn ',
  'inputs.count',
  'inputs.on',
  'inputs.none',
  'inputs.empty',
  'inputs.nested',
  'inputs.nested.a.b',
  'inputs.nested.a.list',
  'inputs.list',
  'inputs.one',
  'inputs.people.mail',
  'inputs.list.length',
  'item.tags.length',
  'inputs.grid',
  'inputs.wrapped.inner',
  'inputs.missing',
  'inputs.upn.length',
  'inputs.constructor',
  'inputs.toString',
  'steps.create.output.id',
  'steps.create.output',
  'steps.create.status',
  'steps.later.output',
  'run.id',
  'item',
  'item.mail',
  'item.tags',
  'inputs',
];

describe('field paths read without JSONata', () => {
  it('answers every expression exactly as JSONata does', async () => {
    for (const expr of EXPRESSIONS) assert.deepEqual(await evaluate(expr, ctx), await byJsonata(expr), expr);
  });

  it('resolves parameters of field paths, mixed text and JSONata as before', async () => {
    const params = {
      userPrincipalName: '{{ inputs.upn }}',
      displayName: 'User {{ inputs.upn }} ({{ inputs.count }}) {{ inputs.none }}',
      groups: ['{{ inputs.list }}', 'fixed', '{{ inputs.nested }}'],
      upper: '{{ $uppercase(inputs.upn) }}',
      id: '{{ steps.create.output.id }}',
      raw: 7,
    };
    assert.deepEqual(await resolveTemplate(params, ctx), {
      userPrincipalName: 'ada@contoso.com',
      displayName: 'User ada@contoso.com (3) ',
      groups: [['x', 'y'], 'fixed', { a: { b: 'deep', list: [1, 2] } }],
      upper: 'ADA@CONTOSO.COM',
      id: 'u1',
      raw: 7,
    });
  });

  it('never hands back the context object itself (a caller may change what it gets)', async () => {
    const got = (await evaluate('inputs.nested', ctx)) as { a: { b: string } };
    got.a.b = 'changed';
    assert.equal((ctx.inputs.nested as { a: { b: string } }).a.b, 'deep');
  });
});

describe("a loop body's inputs", () => {
  const inputs = { people: ['a', 'b'], groups: ['g'], settings: { x: 1 }, dept: 'Sales', count: 2 };
  const body = (...expressions: string[]) => ({ nodes: expressions.map((e, i) => ({ id: `n${i}`, kind: 'condition', expression: e })) });

  it('leaves out the lists and objects the body never names, and keeps every plain value', () => {
    assert.deepEqual(inputsForBody(body("item != ''"), inputs), { dept: 'Sales', count: 2 });
    assert.deepEqual(inputsForBody(body('item in inputs.groups', 'inputs.settings.x = 1'), inputs), { groups: ['g'], settings: { x: 1 }, dept: 'Sales', count: 2 });
    assert.deepEqual(inputsForBody(body('$count(inputs.`people`) > 0'), inputs), { people: ['a', 'b'], dept: 'Sales', count: 2 });
  });

  it('keeps them all when the body could read inputs without naming them', () => {
    for (const e of ['$keys(inputs)', 'inputs.*', 'inputs[0]', '$$.x', '$string($)', '**.a', '$lookup(inputs, item)', 'inputs ~> $count'])
      assert.deepEqual(inputsForBody(body(e), inputs), inputs, e);
  });
});
