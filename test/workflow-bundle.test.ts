// The workflow bundle stays light: Temporal's worker evaluates the bundle's modules again for every
// workflow run it starts, so a library that builds much at load time (zod's schemas) costs each run,
// and a forEach or bulk run starts one per item. Measured (bench/throttle.ts with a CPU profile):
// with zod in the bundle, building the runbook schemas was the largest part of the workflow
// thread's time, and a forEach of 600 user creations reached 0.73-0.85 of Entra's write ceiling;
// without it, 0.96.
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
