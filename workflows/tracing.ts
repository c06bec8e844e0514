// Workflow interceptors for traces (bundled by worker/worker.ts bundleWorkflows, not exported by
// index.ts): Temporal's OpenTelemetry workflow interceptors, but only for a run whose start carried a
// trace context (the server's client adds it when tracing is on). A run started without one -- every
// run recorded before tracing existed, and every run when tracing is off -- goes through none of
// them: no span, no extra header, the same commands in the same order, so its history replays as
// before. The decision follows from the run's own start event, so a replay takes it again the same way.
//
// OpenTelemetry's modules are loaded only by a traced run: the worker evaluates this module again for
// every run it starts, and loading OpenTelemetry (its semantic conventions alone are thousands of
// constants) was a fifth of the workflow thread's work per untraced run (test/workflow-bundle.test.ts).
import type { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import type { RunbookWorkflowInput } from '../runbook/definition.ts';

/** Temporal's workflow interceptors and OpenTelemetry's API, loaded by the first traced execute(). */
async function loadOpenTelemetry() {
  const [interceptors, api] = await Promise.all([
    import(/* webpackMode: "eager" */ '@temporalio/interceptors-opentelemetry/lib/workflow/index.js'),
    import(/* webpackMode: "eager" */ '@opentelemetry/api'),
  ]);
  return { ...interceptors, trace: api.trace };
}
type OpenTelemetry = Awaited<ReturnType<typeof loadOpenTelemetry>>;

/** The header Temporal's OpenTelemetry interceptors carry the trace context in. */
const TRACE_HEADER = '_tracer-data';

/** Names only: the runbook, its version and the tenant, or the batch (never inputs). */
function runAttributes(arg: unknown): Record<string, string | number> {
  const input = arg as (Partial<RunbookWorkflowInput> & { batchId?: unknown }) | undefined;
  const out: Record<string, string | number> = {};
  // The batch workflow (workflows/batch.ts): its batch id only.
  if (typeof input?.batchId === 'string') out['tenantflow.batch'] = input.batchId;
  if (typeof input?.definition?.name === 'string') out['tenantflow.runbook'] = input.definition.name;
  if (typeof input?.run?.runbookId === 'string') out['tenantflow.runbook_id'] = input.run.runbookId;
  if (typeof input?.run?.version === 'number') out['tenantflow.runbook_version'] = input.run.version;
  if (typeof input?.run?.tenant === 'string') out['tenantflow.tenant'] = input.run.tenant;
  return out;
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  // Set by execute() of a traced run, before any other interceptor below can be reached.
  let otel: OpenTelemetry | undefined;
  let inbound: OpenTelemetryInboundInterceptor | undefined;
  let outbound: OpenTelemetryOutboundInterceptor | undefined;
  let internals: OpenTelemetryInternalsInterceptor | undefined;
  const inb = () => (inbound ??= new otel!.OpenTelemetryInboundInterceptor());
  const out = () => (outbound ??= new otel!.OpenTelemetryOutboundInterceptor());
  return {
    inbound: [
      {
        async execute(input, next) {
          if (!input.headers[TRACE_HEADER]) return next(input);
          otel = await loadOpenTelemetry();
          internals = new otel.OpenTelemetryInternalsInterceptor();
          const { trace } = otel;
          return inb().execute(input, (i) => {
            trace.getActiveSpan()?.setAttributes({ temporalWorkflowId: workflowInfo().workflowId, ...runAttributes(i.args[0]) });
            return next(i);
          });
        },
        handleSignal: (input, next) => (otel ? inb().handleSignal(input, next) : next(input)),
        handleUpdate: (input, next) => (otel ? inb().handleUpdate(input, next) : next(input)),
        // Not traced: queries and update validators do not run again on replay, and a span there
        // draws span ids from the workflow's seeded random numbers, so a later uuid4() or span id
        // would differ on replay (temporalio/sdk-typescript#2023).
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (otel ? out().scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) => (otel ? out().scheduleLocalActivity(input, next) : next(input)),
        startChildWorkflowExecution: (input, next) => (otel ? out().startChildWorkflowExecution(input, next) : next(input)),
        continueAsNew: (input, next) => (otel ? out().continueAsNew(input, next) : next(input)),
        signalWorkflow: (input, next) => (otel ? out().signalWorkflow(input, next) : next(input)),
        getLogAttributes: (input, next) => (otel ? out().getLogAttributes(input, next) : next(input)),
      },
    ],
    internals: [
      {
        dispose: (input, next) => (internals ? internals.dispose(input, next) : next(input)),
      },
    ],
  };
};
