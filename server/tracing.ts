// The control plane's part of a trace (docs/production.md "Metrics and traces"): a SERVER span per
// /api request, continuing the caller's W3C traceparent when it sends one, Temporal's client
// interceptor, whose StartWorkflow span (a child of the request's) hands the trace to the workflow,
// and the activity interceptors of the control plane's own activity worker (the batch workflow's
// slices, server/batch-worker.ts): a RunActivity span per slice, under which each row's run starts.
// All only when tracing is on (m365/tracing.ts); otherwise the middleware passes straight through.
import type { NextFunction, Request, Response } from 'express';
import type { ClientInterceptors } from '@temporalio/client';
import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { activeTracing, context, propagation, SpanKind, SpanStatusCode, trace } from '../m365/tracing.ts';

/** Temporal client interceptors for a traced process (none when tracing is off). */
export function temporalClientTracing(): ClientInterceptors | undefined {
  return activeTracing() ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/**
 * One SERVER span per request: method, route, path (no query string), status. No headers, no body,
 * no caller identity. Mounted after the body parser, so the handler runs inside the span's context.
 */
export function traceRequests() {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!activeTracing()) return next();
    const parent = propagation.extract(context.active(), req.headers);
    const path = req.originalUrl.split('?')[0]!;
    const span = trace.getTracer('tenantflow').startSpan(
      `${req.method} /api`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': path, 'url.scheme': req.protocol } },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = (req.route as { path?: unknown } | undefined)?.path;
      if (typeof route === 'string') {
        span.setAttribute('http.route', route);
        span.updateName(`${req.method} ${route}`);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.statusCode}` });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}

/** A control-plane activity's span also names its batch (never rows or inputs). */
class ControlActivityTracing extends OpenTelemetryActivityInboundInterceptor {
  override execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    return super.execute(input, (i) => {
      const arg = i.args[0] as { batchId?: unknown } | undefined;
      if (typeof arg?.batchId === 'string') trace.getActiveSpan()?.setAttribute('tenantflow.batch', arg.batchId);
      return next(i);
    });
  }
}

/**
 * Activity interceptors for the control plane's activity worker when tracing is on, else none: the
 * batch workflow's StartActivity span continues into a RunActivity span here, and a row's run
 * started inside it (by a client with temporalClientTracing) is its child.
 */
export function controlActivityTracing(): ActivityInterceptorsFactory[] {
  if (!activeTracing()) return [];
  return [(ctx: ActivityContext) => ({ inbound: new ControlActivityTracing(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })];
}
