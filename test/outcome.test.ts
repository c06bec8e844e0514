// How a run's outcome is named, without Temporal: the rules the interpreter applies at its end.
// The interpreter, forEach and API tests check the same words on the real engine.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RunbookDefinition, type NodeState } from '../runbook/definition.ts';
import { outcomeOf } from '../workflows/outcome.ts';

const graph = (nodes: unknown[], edges: unknown[] = []) => RunbookDefinition.parse({ name: 't', nodes, edges });
const node = (id: string, kind: NodeState['kind'], status: NodeState['status'], extra: Partial<NodeState> = {}): NodeState => ({
  id,
  kind,
  status,
  attempts: 1,
  ...extra,
  startedAt: `2026-01-01T00:00:0${extra.startedAt ?? '0'}.000Z`,
});
const states = (...ns: NodeState[]) => Object.fromEntries(ns.map((n) => [n.id, n]));

const approval = graph(
  [
    { id: 'ask', kind: 'approval', approvers: { users: ['boss@contoso.com'] } },
    { id: 'yes', kind: 'delay', duration: 0 },
    { id: 'no', kind: 'delay', duration: 0 },
    { id: 'after', kind: 'delay', duration: 0 },
  ],
  [
    { source: 'ask', sourceHandle: 'approved', target: 'yes' },
    { source: 'ask', sourceHandle: 'rejected', target: 'no' },
    { source: 'yes', target: 'after' },
  ],
);

describe('run outcome', () => {
  test('plain success', () => {
    const g = graph([{ id: 'a', kind: 'delay', duration: 0 }]);
    assert.deepEqual(outcomeOf(g, states(node('a', 'delay', 'succeeded'))), { status: 'succeeded', message: 'completed', warnings: [] });
  });

  test('a step failed and continued past, or routed to its error branch: succeeded with warnings, each named', () => {
    const g = graph([
      { id: 'a', kind: 'action', action: 'user.get', onError: 'continue' },
      { id: 'b', kind: 'action', action: 'user.get', onError: 'route' },
    ]);
    const o = outcomeOf(g, states(node('a', 'action', 'failed', { error: { message: 'user x does not exist' } }), node('b', 'action', 'failed', { startedAt: '1', handle: 'error', error: { message: 'boom' } })));
    assert.equal(o.status, 'succeeded-with-warnings');
    assert.equal(o.message, 'completed with 2 warnings');
    assert.deepEqual(o.warnings, ['step a failed and the run went on: user x does not exist', 'step b failed and the run went on (error branch): boom']);
  });

  test("an action's own warning, and a failure an operator skipped, are warnings", () => {
    const g = graph([
      { id: 'a', kind: 'action', action: 'licence.unassign' },
      { id: 'b', kind: 'action', action: 'user.get', onError: 'pause' },
    ]);
    const o = outcomeOf(g, states(node('a', 'action', 'succeeded', { warnings: ['no licence to remove: x did not have E5'] }), node('b', 'action', 'skipped', { startedAt: '1', error: { message: 'gone' } })));
    assert.equal(o.status, 'succeeded-with-warnings');
    assert.deepEqual(o.warnings, ['step a: no licence to remove: x did not have E5', 'step b failed and an operator skipped it: gone']);
  });

  test('failed loop items: partially failed, with the count', () => {
    const g = graph([{ id: 'each', kind: 'forEach', items: 'inputs.x', body: { nodes: [{ id: 'n', kind: 'delay', duration: 0 }] } }]);
    const items = [
      { index: 0, status: 'succeeded', runId: 'r.0' },
      { index: 1, status: 'failed', runId: 'r.1', error: 'no such user' },
      { index: 2, status: 'succeeded', runId: 'r.2', outcome: 'succeeded-with-warnings' },
    ];
    const o = outcomeOf(g, states(node('each', 'forEach', 'succeeded', { progress: { total: 3, done: 3, succeeded: 2, failed: 1, warned: 1 }, output: { items } })));
    assert.equal(o.status, 'partially-failed');
    assert.equal(o.message, '1 of 3 items of each failed');
    assert.deepEqual(o.warnings, ['step each, item 2: failed: no such user', 'step each, item 3: succeeded with warnings']);
  });

  test('an approval said no and the run ended on that path: rejected, with who and why', () => {
    const s = states(
      node('ask', 'approval', 'succeeded', { handle: 'rejected', endedAt: '2026-01-01T00:00:01Z', output: { decision: 'rejected', decidedBy: 'boss@contoso.com', comment: 'not now' } }),
      node('yes', 'delay', 'skipped'),
      node('no', 'delay', 'succeeded'),
      node('after', 'delay', 'skipped'),
    );
    assert.deepEqual(outcomeOf(approval, s), { status: 'rejected', message: 'rejected at ask by boss@contoso.com: “not now”', warnings: [] });
    // An end node on the rejected path keeps its message next to the rejection.
    assert.equal(outcomeOf(approval, s, { ended: { status: 'succeeded', message: 'refused' } }).message, 'rejected at ask by boss@contoso.com: “not now” (refused)');
  });

  test('an approval nobody decided in time, rejected by its timeout: timed out', () => {
    const s = states(node('ask', 'approval', 'succeeded', { handle: 'rejected', output: { decision: 'rejected', timedOut: true } }), node('yes', 'delay', 'skipped'), node('no', 'delay', 'succeeded'), node('after', 'delay', 'skipped'));
    assert.equal(outcomeOf(approval, s).status, 'timed-out');
  });

  test('a "no" whose branch joins the approved path again is a choice, not a rejection', () => {
    const g = graph(
      [
        { id: 'ask', kind: 'approval', approvers: { users: ['boss@contoso.com'] } },
        { id: 'e5', kind: 'delay', duration: 0 },
        { id: 'e3', kind: 'delay', duration: 0 },
        { id: 'join', kind: 'delay', duration: 0 },
      ],
      [
        { source: 'ask', sourceHandle: 'approved', target: 'e5' },
        { source: 'ask', sourceHandle: 'rejected', target: 'e3' },
        { source: 'e5', target: 'join' },
        { source: 'e3', target: 'join' },
      ],
    );
    const s = states(node('ask', 'approval', 'succeeded', { handle: 'rejected' }), node('e5', 'delay', 'skipped'), node('e3', 'delay', 'succeeded'), node('join', 'delay', 'succeeded'));
    assert.equal(outcomeOf(g, s).status, 'succeeded');
  });

  test('a second approval on the rejected path that says yes carries the run on', () => {
    const g = graph(
      [
        { id: 'manager', kind: 'approval', approvers: { users: ['m@contoso.com'] } },
        { id: 'director', kind: 'approval', approvers: { users: ['d@contoso.com'] } },
        { id: 'do', kind: 'delay', duration: 0 },
        { id: 'do2', kind: 'delay', duration: 0 },
      ],
      [
        { source: 'manager', sourceHandle: 'approved', target: 'do' },
        { source: 'manager', sourceHandle: 'rejected', target: 'director' },
        { source: 'director', sourceHandle: 'approved', target: 'do2' },
      ],
    );
    const s = states(node('manager', 'approval', 'succeeded', { handle: 'rejected' }), node('director', 'approval', 'succeeded', { handle: 'approved' }), node('do', 'delay', 'skipped'), node('do2', 'delay', 'succeeded'));
    assert.equal(outcomeOf(g, s).status, 'succeeded');
  });

  test('a failing step fails the run, a step out of time times it out, an end node may fail it', () => {
    const g = graph([{ id: 'a', kind: 'action', action: 'user.get' }]);
    assert.equal(outcomeOf(g, states(node('a', 'action', 'failed', { error: { message: 'x' } })), { ended: { status: 'failed', message: 'Step a failed: x', nodeId: 'a' } }).status, 'failed');
    assert.equal(outcomeOf(g, states(node('a', 'action', 'failed', { error: { message: 'x', type: 'Timeout' } })), { ended: { status: 'failed', message: 'm', nodeId: 'a' } }).status, 'timed-out');
    assert.deepEqual(outcomeOf(g, states(node('a', 'action', 'succeeded')), { unexpected: 'bad expression' }), { status: 'failed', message: 'bad expression', warnings: [] });
  });
});
