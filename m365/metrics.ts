// Prometheus metrics every Tenantflow process that talks to Microsoft 365 serves (prom-client):
// requests to each service by status (429 included; "error" = no answer) and the throttle gate's
// current rate per tenant and budget. The server and the worker add their own (server/metrics.ts,
// worker/metrics.ts) to the same registry and serve it on /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { allGates, onServiceAnswer } from './throttle.ts';

export { Counter, Gauge, Histogram, Registry };

export function serviceMetrics(registry: Registry): () => void {
  collectDefaultMetrics({ register: registry, prefix: 'tenantflow_process_' });
  const requests = new Counter({
    name: 'tenantflow_service_requests_total',
    help: 'Requests to Microsoft 365 services (Graph workloads, Exchange admin API, SharePoint REST) by service and HTTP status; status "error" when no answer came',
    labelNames: ['tenant', 'service', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'tenantflow_service_request_seconds',
    help: 'Time from sending a request to a Microsoft 365 service to its answer',
    labelNames: ['service'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'tenantflow_throttle_rate',
    help: 'The throttle gate\'s current rate (requests per second) per tenant and budget',
    labelNames: ['tenant', 'service', 'budget'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const gate of allGates()) for (const [budget, s] of Object.entries(gate.state())) this.set({ tenant: gate.tenant, service: s.service, budget }, s.rate);
    },
  });
  return onServiceAnswer((a) => {
    requests.inc({ tenant: a.tenant, service: a.service, status: a.status === undefined ? 'error' : String(a.status) });
    latency.observe({ service: a.service }, a.ms / 1000);
  });
}
