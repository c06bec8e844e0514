// OpenTelemetry traces, exported by OTLP/HTTP when the standard variables say where to
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT). Unset, nothing is set up or
// exported: the SDK is not even loaded, and every span helper here returns at once.
// A trace runs from the HTTP request (server/http-traces.ts) through Temporal's client, workflow and
// activity interceptors (@temporalio/interceptors-opentelemetry) to one CLIENT span per request to a
// Microsoft 365 service (serviceCall below, called by the throttle gate every transport goes through).
// Spans carry names (runbook, action, tenant, service, method, path), never inputs, bodies, query
// strings or headers.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Resource } from '@opentelemetry/resources';

export { context, propagation, SpanKind, SpanStatusCode, trace, type Span };

/** The tracing of this process, when it is on. */
export interface Tracing {
  /** Ends spans into the OTLP exporter (the worker's workflow span sink uses it too). */
  processor: SpanProcessor;
  resource: Resource;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops the exporter. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;
let starting: Promise<Tracing | undefined> | undefined;

/** Whether OTLP export is configured in this environment (the standard OpenTelemetry variables). */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? '') || /^none$/i.test(env.OTEL_TRACES_EXPORTER ?? '')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * Starts tracing for this process when OTLP export is configured, else does nothing and returns
 * undefined. Registers the global tracer provider (W3C trace context, async-local context), so the
 * Temporal interceptors and the spans below use it. Once per process: later calls return the first.
 * `serviceName` is the default of OTEL_SERVICE_NAME.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingConfigured(env)) return Promise.resolve(active);
  starting ??= (async () => {
    // Loaded only when tracing is on.
    const [{ NodeTracerProvider }, { BatchSpanProcessor }, { Resource, envDetectorSync }, { OTLPTraceExporter }] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
    // The exporter reads the endpoint, headers and timeout from the standard variables itself.
    const processor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 });
    const resource = Resource.default()
      .merge(new Resource({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }))
      .merge(envDetectorSync.detect());
    const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
    provider.register();
    active = { processor, resource, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
    return active;
  })();
  return starting;
}

/** The tracing started in this process, if any. */
export function activeTracing(): Tracing | undefined {
  return active;
}

const tracer = (): Tracer => trace.getTracer('tenantflow');

/** What a request to a Microsoft 365 service is, for its span: no query string, no headers, no body. */
export interface ServiceRequest {
  method: string;
  url: string;
  /** An Exchange cmdlet's name. */
  operation?: string;
}

/** The URL without its query string and fragment (they can carry names and filters). */
function pathOf(url: string): { host: string; path: string } {
  try {
    const u = new URL(url);
    return { host: u.host, path: u.pathname };
  } catch {
    return { host: '', path: url.split(/[?#]/)[0]! };
  }
}

/**
 * Runs one request to a Microsoft 365 service inside a CLIENT span (when tracing is on): service,
 * method, URL path, tenant, budget, the time the throttle gate held it, the status and Microsoft's
 * Retry-After on a throttled answer.
 */
export async function serviceCall<T extends { status: number; headers: Headers } | undefined>(
  what: { service: string; tenant: string; budget: string; waitedMs: number; request?: ServiceRequest },
  send: () => Promise<T>,
): Promise<T> {
  if (!active) return send();
  const req = what.request;
  const where = req ? pathOf(req.url) : undefined;
  const attributes: Attributes = {
    'tenantflow.service': what.service,
    'tenantflow.tenant_id': what.tenant,
    'tenantflow.budget': what.budget,
    'tenantflow.throttle.wait_ms': what.waitedMs,
  };
  if (req) {
    attributes['http.request.method'] = req.method.toUpperCase();
    attributes['server.address'] = where!.host;
    attributes['url.path'] = where!.path;
    if (req.operation) attributes['tenantflow.exchange.cmdlet'] = req.operation;
  }
  const name = `${what.service} ${req?.operation ?? req?.method.toUpperCase() ?? 'request'}`;
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      const res = await send();
      if (res) {
        span.setAttribute('http.response.status_code', res.status);
        if (res.status === 429 || res.status === 503) {
          const retryAfter = res.headers.get('retry-after');
          if (retryAfter) span.setAttribute('http.response.header.retry-after', [retryAfter]);
        }
        if (res.status === 429) span.setAttribute('tenantflow.throttled', true);
        if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.status}` });
      }
      return res;
    } catch (err) {
      // The error's type only: messages can quote what was sent.
      const type = (err as Error)?.name ?? 'Error';
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      throw err;
    } finally {
      span.end();
    }
  });
}
