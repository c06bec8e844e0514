// The control plane's part of a trace (docs/production.md "Metrics and traces"): a SERVER span per
// /api request, continuing the caller's W3C traceparent when it sends one, and Temporal's client
// interceptor, whose StartWorkflow span (a child of the request's) hands the trace to the workflow.
// Both only when tracing is on (m365/tracing.ts); otherwise the middleware passes straight through.
import type { NextFunction, Request, Response } from 'express';
import type { ClientInterceptors } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
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
