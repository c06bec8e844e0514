// The workflow bundle stays light: Temporal's worker evaluates the bundle's modules again for every
// workflow run it starts, so a library that builds much at load time costs each run, and a forEach
// or bulk run starts one run per item. Measured with CPU profiles of the worker's workflow thread:
// - zod's schemas (bench/throttle.ts, a forEach of 600 user creations): with zod in the bundle the
//   thread was busy 20 s of the 34 s; without it, 13 s.
// - RE2 (re2js, brought in by the sub-runbook step's input checks, which it now loads when it
//   runs): 0.37-0.47 s of a workflow thread's time per 300 runs of a bulk round.
// - OpenTelemetry (loaded only by a traced run now) and JSONata (preloaded: evaluated once per
//   worker): the same 220 one-step runs kept the thread busy 16.1 s and 18.1 s before, 8.3 s and
//   9.9 s after (two interleaved pairs, a loaded machine).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bundleWorkflows } from '../worker/worker.ts';
import { sharedWorkflowBundle } from './harness.ts';

/** The bundle's code, and the source of each module by the name webpack gives it (bundled once). */
let built: Promise<{ code: string; modules: Map<string, string> }> | undefined;
const bundle = () => (built ??= read());
async function read() {
  const shared = sharedWorkflowBundle();
  const code = shared ? readFileSync(shared.codePath, 'utf8') : (await bundleWorkflows()).code;
  const starts = [...code.matchAll(/^\/\*\*\*\/ "(\.\/[^"]+)"/gm)];
  const modules = new Map(starts.map((m, i) => [m[1]!, code.slice(m.index, starts[i + 1]?.index ?? code.length)]));
  return { code, modules };
}

describe('the workflow bundle', () => {
  it('carries no zod (the workflow code imports runbook/duration.ts, not the schemas in runbook/definition.ts)', async () => {
    const modules = [...(await bundle()).modules.keys()];
    assert.ok(modules.includes('./workflows/interpreter.ts'), 'the bundle lists its modules as webpack names them');
    assert.deepEqual(modules.filter((m) => m.startsWith('./node_modules/zod/')), []);
    assert.ok(!modules.includes('./runbook/definition.ts'), 'runbook/definition.ts (zod schemas) is in the workflow bundle');
  });

  it('loads OpenTelemetry only in a traced run: no module of the workflow code imports it at load time', async () => {
    const { modules } = await bundle();
    const ours = [...modules].filter(([name]) => /^\.\/(workflows|runbook|catalog)\//.test(name));
    assert.ok(ours.some(([name]) => name === './workflows/tracing.ts'));
    for (const [name, source] of ours)
      for (const line of source.split('\n').filter((l) => /__webpack_require__[.\w]*\([^)]*opentelemetry/.test(l)))
        assert.match(line, /import\(\) eager/, `${name} loads OpenTelemetry when it is evaluated: ${line.trim()}`);
  });

  it("loads RE2 only in a run with a sub-runbook step: nothing evaluates re2js or the input checks at load time", async () => {
    const { modules } = await bundle();
    const requires = (what: string) => new RegExp(`__webpack_require__[.\\w]*\\([^)]*${what}`);
    const loadersOf = (what: string) => [...modules].filter(([, source]) => requires(what).test(source)).map(([name]) => name);
    const checks = 're2js|runbook\\/inputs\\.ts';
    assert.ok(loadersOf(checks).length > 0, 'no module of the bundle loads re2js or runbook/inputs.ts');
    for (const [name, source] of [...modules].filter(([n]) => /^\.\/(workflows|catalog)\//.test(n)))
      for (const line of source.split('\n').filter((l) => requires(checks).test(l)))
        assert.match(line, /import\(\) eager/, `${name} loads the input checks when it is evaluated: ${line.trim()}`);
    // Only the input checks (loaded by the sub-runbook step when it runs) bring RE2 in.
    assert.deepEqual(loadersOf('re2js'), ['./runbook/patterns.ts']);
    assert.deepEqual(loadersOf('runbook\\/patterns\\.ts'), ['./runbook/inputs.ts']);
  });

  it('evaluates JSONata once per worker (preloaded), the rest of the workflow code once per run', async () => {
    const { code } = await bundle();
    const preload = /exports\.preloadModules = function preloadModules\(\) \{([\s\S]*?)\n\}/.exec(code)?.[1] ?? '';
    const preloaded = [...preload.matchAll(/"(\.\/[^"]+)"\)/g)].map((m) => m[1]);
    assert.deepEqual(preloaded, ['./node_modules/jsonata/jsonata.js']);
  });
});
