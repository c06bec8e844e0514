// Runs in flight must survive every deploy: the recorded histories in test/histories/ (every node
// kind, an approval still waiting, error handling, loops and continue-as-new, cancellation) are
// replayed against the workflow code as it is now, with the SDK's replayer. A change to the
// workflow code that would break a run in flight fails here with a nondeterminism error; wrap such
// changes in patched() (docs/workflow-changes.md says how).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import proto from '@temporalio/proto';
const { temporal } = proto;
type IHistory = import('@temporalio/proto').temporal.api.history.v1.IHistory;
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { WORKFLOW_TRACING_PATH, WORKFLOWS_PATH } from '../worker/worker.ts';
import { workflowSpanSinks } from '../worker/tracing.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const dir = fileURLToPath(new URL('./histories/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const bundlePath = process.env.TENANTFLOW_WORKFLOW_BUNDLE;
// The worker's bundle includes the tracing interceptors (workflows/tracing.ts), and its span sink:
// traced histories (v0.5-otel-traced-*) replay through them, untraced ones pass them by.
const replayer = {
  sinks: workflowSpanSinks(),
  ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: [WORKFLOW_TRACING_PATH] } }),
};
/** A history as scripts/record-histories.ts saves it (protobufjs's JSON form of the message). */
const load = (json: unknown) => temporal.api.history.v1.History.fromObject(json as IHistory);

describe('replay of recorded histories against the current workflow code', () => {
  it('has histories to replay', () => {
    assert.ok(files.length >= 5, `only ${files.length} histories in test/histories (node scripts/record-histories.ts)`);
  });

  for (const file of files) {
    it(`replays ${file} without nondeterminism`, async () => {
      const saved = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { workflowId: string; history: unknown };
      await Worker.runReplayHistory(replayer, load(saved.history), saved.workflowId);
    });
  }

  it('fails on a history the workflow code cannot produce (the replayer is not a no-op)', async () => {
    const every = files.find((f) => f.includes('every-kind'));
    assert.ok(every);
    const { workflowId, history: json } = JSON.parse(readFileSync(join(dir, every), 'utf8'));
    // Rename the first activity the history says was scheduled: the code schedules another one.
    const scheduled = json.events.find((e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'user.delete';
    await assert.rejects(
      Worker.runReplayHistory(replayer, load(json), workflowId),
      /[Nn]ondeterminism|DeterminismViolation/,
    );
  });
});
