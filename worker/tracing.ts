// The worker's part of a trace (docs/production.md "Metrics and traces"): Temporal's OpenTelemetry
// activity interceptors (a RunActivity span per step, child of the workflow's StartActivity span)
// and the sink the workflow's spans leave the workflow sandbox through. Both only when tracing is on
// (m365/tracing.ts); the workflow side is workflows/tracing.ts, bundled with the workflows.
import { fileURLToPath } from 'node:url';
import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInterceptorsFactory, InjectedSinks, Next, ActivityInboundCallsInterceptor } from '@temporalio/worker';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  type OpenTelemetryWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { activeTracing, trace } from '../m365/tracing.ts';

/** The workflow interceptor module the bundle includes. */
export const WORKFLOW_TRACING_PATH = fileURLToPath(new URL('../workflows/tracing.ts', import.meta.url));

/** The activity's span also names the action and the tenant (never its parameters). */
class ActivityTracing extends OpenTelemetryActivityInboundInterceptor {
  override execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    return super.execute(input, (i) => {
      const envelope = i.args[0] as { tenant?: unknown } | undefined;
      trace.getActiveSpan()?.setAttributes({
        'tenantflow.action': this.ctx.info.activityType,
        ...(typeof envelope?.tenant === 'string' ? { 'tenantflow.tenant': envelope.tenant } : {}),
      });
      return next(i);
    });
  }
}

/** Activity interceptors when tracing is on, else none. */
export function activityTracing(): ActivityInterceptorsFactory[] {
  if (!activeTracing()) return [];
  return [(ctx: ActivityContext) => ({ inbound: new ActivityTracing(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })];
}

/**
 * The sink workflows/tracing.ts exports spans through: into the OTLP exporter when tracing is on;
 * otherwise it drops them (a run started traced may be picked up by a worker without tracing).
 */
export function workflowSpanSinks(): InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> {
  const tracing = activeTracing();
  if (tracing) return { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) };
  return { exporter: { export: { fn() {} } } };
}
