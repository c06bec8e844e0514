// The runbook graph's scheduler on its own: which steps start, which are skipped, in which order,
// without Temporal. The interpreter tests run the same graphs on the real engine.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunbookEdge } from '../runbook/definition.ts';
import { readiness, Scheduler } from '../workflows/scheduler.ts';

const edge = (source: string, target: string, sourceHandle = 'out'): RunbookEdge => ({ id: `${source}-${target}-${sourceHandle}`, source, target, sourceHandle }) as RunbookEdge;

/** Runs a graph: `finish` says which handle each started node takes (undefined: still running). */
function simulate(nodes: string[], edges: RunbookEdge[], finish: Record<string, string>, carried: Record<string, string> = {}, haltAfter?: string) {
  const status = new Map(nodes.map((n) => [n, 'pending']));
  const log: string[] = [];
  let halted = false;
  const scheduler = new Scheduler(nodes, edges, {
    pending: (id) => status.get(id) === 'pending',
    halted: () => halted,
    run: (id) => {
      log.push(`run ${id}`);
      status.set(id, 'running');
      return carried[id];
    },
    skip: (id) => {
      log.push(`skip ${id}`);
      status.set(id, 'skipped');
    },
  });
  scheduler.start();
  // Finish running nodes one at a time, in the order they started.
  for (let i = 0; i < log.length; i++) {
    const [verb, id] = log[i]!.split(' ') as [string, string];
    if (verb !== 'run' || carried[id] !== undefined) continue;
    const handle = finish[id];
    if (handle === undefined) continue;
    status.set(id, 'done');
    if (id === haltAfter) halted = true;
    scheduler.settle(id, handle);
  }
  return { log, status: Object.fromEntries(status) };
}

describe('scheduler', () => {
  test('readiness: waits for every incoming edge, runs when one was taken, skips when none was', () => {
    const a = edge('a', 'c');
    const b = edge('b', 'c');
    assert.equal(readiness([], new Map()), 'run');
    assert.equal(readiness([a, b], new Map([[a, true]])), 'waiting');
    assert.equal(readiness([a, b], new Map([[a, true], [b, false]])), 'run');
    assert.equal(readiness([a, b], new Map([[a, false], [b, false]])), 'skip');
  });

  test('a chain runs in order', () => {
    const { log } = simulate(['a', 'b', 'c'], [edge('a', 'b'), edge('b', 'c')], { a: 'out', b: 'out', c: 'out' });
    assert.deepEqual(log, ['run a', 'run b', 'run c']);
  });

  test('parallel branches start together and a join waits for both', () => {
    const { log } = simulate(['s', 'x', 'y', 'j'], [edge('s', 'x'), edge('s', 'y'), edge('x', 'j'), edge('y', 'j')], { s: 'out', x: 'out', y: 'out', j: 'out' });
    assert.deepEqual(log, ['run s', 'run x', 'run y', 'run j']);
  });

  test('the untaken branch of a condition is skipped, the skip passes on, and the join after it still runs', () => {
    const nodes = ['c', 'yes', 'no', 'after-no', 'join'];
    const edges = [edge('c', 'yes', 'true'), edge('c', 'no', 'false'), edge('no', 'after-no'), edge('yes', 'join'), edge('after-no', 'join')];
    const { log, status } = simulate(nodes, edges, { c: 'true', yes: 'out', join: 'out' });
    assert.deepEqual(log, ['run c', 'run yes', 'skip no', 'skip after-no', 'run join']);
    assert.equal(status['no'], 'skipped');
    assert.equal(status['after-no'], 'skipped');
    assert.equal(status['join'], 'done');
  });

  test('a join whose every incoming branch was skipped is skipped too', () => {
    const edges = [edge('c', 'a', 'true'), edge('c', 'b', 'false'), edge('a', 'j'), edge('c', 'j', 'true')];
    const { status } = simulate(['c', 'a', 'b', 'j'], edges, { c: 'false', b: 'out' });
    assert.equal(status['a'], 'skipped');
    assert.equal(status['j'], 'skipped');
    assert.equal(status['b'], 'done');
  });

  test('an error route is taken only on the error handle', () => {
    const edges = [edge('act', 'next'), edge('act', 'cleanup', 'error')];
    const ok = simulate(['act', 'next', 'cleanup'], edges, { act: 'out', next: 'out' });
    assert.equal(ok.status['cleanup'], 'skipped');
    const failed = simulate(['act', 'next', 'cleanup'], edges, { act: 'error', cleanup: 'out' });
    assert.equal(failed.status['next'], 'skipped');
    assert.equal(failed.status['cleanup'], 'done');
  });

  test('a step carried over from an earlier run settles at once, and its successors start before the next sibling', () => {
    const edges = [edge('s', 'a'), edge('s', 'b'), edge('a', 'a2')];
    const { log } = simulate(['s', 'a', 'b', 'a2'], edges, { s: 'out', b: 'out', a2: 'out' }, { a: 'out' });
    assert.deepEqual(log, ['run s', 'run a', 'run a2', 'run b']);
  });

  test('nothing more starts once the run has ended', () => {
    const { log, status } = simulate(['a', 'b'], [edge('a', 'b')], { a: 'out' }, {}, 'a');
    assert.deepEqual(log, ['run a']);
    assert.equal(status['b'], 'pending');
  });
});
