// The workflow bundle stays light: Temporal's worker evaluates the bundle's modules again for every
// workflow run it starts, so a library that builds much at load time (zod's schemas) costs each run,
// and a forEach or bulk run starts one per item. Measured with a CPU profile of bench/throttle.ts
// (a forEach of 600 user creations): with zod in the bundle the worker's workflow thread was busy
// 20 s of the 34 s, building the runbook schemas the largest part of it; without zod, 13 s.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bundleWorkflows } from '../worker/worker.ts';
import { sharedWorkflowBundle } from './harness.ts';

describe('the workflow bundle', () => {
  it('carries no zod (the workflow code imports runbook/duration.ts, not the schemas in runbook/definition.ts)', async () => {
    const shared = sharedWorkflowBundle();
    const code = shared ? readFileSync(shared.codePath, 'utf8') : (await bundleWorkflows()).code;
    const modules = [...code.matchAll(/^\/\*\*\*\/ "(\.\/[^"]+)"/gm)].map((m) => m[1]!);
    assert.ok(modules.includes('./workflows/interpreter.ts'), 'the bundle lists its modules as webpack names them');
    assert.deepEqual(modules.filter((m) => m.startsWith('./node_modules/zod/')), []);
    assert.ok(!modules.includes('./runbook/definition.ts'), 'runbook/definition.ts (zod schemas) is in the workflow bundle');
  });
});
