// Workflow interceptors for traces (bundled by worker/worker.ts bundleWorkflows, not exported by
// index.ts): Temporal's OpenTelemetry workflow interceptors, but only for a run whose start carried a
// trace context (the server's client adds it when tracing is on). A run started without one -- every
// run recorded before tracing existed, and every run when tracing is off -- goes through none of
// them: no span, no extra header, the same commands in the same order, so its history replays as
// before. The decision follows from the run's own start event, so a replay takes it again the same way.
import { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import { trace } from '@opentelemetry/api';
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import type { RunbookWorkflowInput } from '../runbook/definition.ts';

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
  let traced = false;
  let inbound: OpenTelemetryInboundInterceptor | undefined;
  let outbound: OpenTelemetryOutboundInterceptor | undefined;
  let internals: OpenTelemetryInternalsInterceptor | undefined;
  const inb = () => (inbound ??= new OpenTelemetryInboundInterceptor());
  const out = () => (outbound ??= new OpenTelemetryOutboundInterceptor());
  return {
    inbound: [
      {
        execute(input, next) {
          if (!input.headers[TRACE_HEADER]) return next(input);
          traced = true;
          internals = new OpenTelemetryInternalsInterceptor();
          return inb().execute(input, (i) => {
            trace.getActiveSpan()?.setAttributes({ temporalWorkflowId: workflowInfo().workflowId, ...runAttributes(i.args[0]) });
            return next(i);
          });
        },
        handleSignal: (input, next) => (traced ? inb().handleSignal(input, next) : next(input)),
        handleUpdate: (input, next) => (traced ? inb().handleUpdate(input, next) : next(input)),
        // Not traced: queries and update validators do not run again on replay, and a span there
        // draws span ids from the workflow's seeded random numbers, so a later uuid4() or span id
        // would differ on replay (temporalio/sdk-typescript#2023).
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (traced ? out().scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) => (traced ? out().scheduleLocalActivity(input, next) : next(input)),
        startChildWorkflowExecution: (input, next) => (traced ? out().startChildWorkflowExecution(input, next) : next(input)),
        continueAsNew: (input, next) => (traced ? out().continueAsNew(input, next) : next(input)),
        signalWorkflow: (input, next) => (traced ? out().signalWorkflow(input, next) : next(input)),
        getLogAttributes: (input, next) => (traced ? out().getLogAttributes(input, next) : next(input)),
      },
    ],
    internals: [
      {
        dispose: (input, next) => (internals ? internals.dispose(input, next) : next(input)),
      },
    ],
  };
};
