// The worker's Prometheus metrics (served on /metrics when TENANTFLOW_METRICS_PORT is set, see
// worker/main.ts): Microsoft 365 requests and the throttle gate's rate (m365/metrics.ts), step
// durations by action and outcome, and the worker's activity slots. The Temporal SDK's own metrics
// (task slots, poll latencies, schedule-to-start) come from the Core runtime's Prometheus exporter
// (TENANTFLOW_SDK_METRICS_ADDRESS).
import { createServer, type Server } from 'node:http';
import type { Worker } from '@temporalio/worker';
import { Gauge, Histogram, Registry, serviceMetrics } from '../m365/metrics.ts';

export const workerRegistry = new Registry();
serviceMetrics(workerRegistry);

const steps = new Histogram({
  name: 'tenantflow_step_duration_seconds',
  help: 'Duration of one attempt of an action step, by action and outcome',
  labelNames: ['action', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [workerRegistry],
});

export function observeStep(action: string, outcome: 'succeeded' | 'failed', seconds: number): void {
  steps.observe({ action, outcome }, seconds);
}

const workers = new Set<{ worker: Worker; maxActivities: number; taskQueue: string }>();
new Gauge({
  name: 'tenantflow_worker_activity_slots',
  help: 'Activity task slots of this worker: used and available',
  labelNames: ['task_queue', 'state'] as const,
  registers: [workerRegistry],
  collect() {
    this.reset();
    for (const w of workers) {
      const state = w.worker.getState();
      if (state === 'STOPPED' || state === 'FAILED') {
        workers.delete(w);
        continue;
      }
      const used = w.worker.getStatus().numInFlightActivities;
      this.set({ task_queue: w.taskQueue, state: 'used' }, used);
      this.set({ task_queue: w.taskQueue, state: 'available' }, Math.max(0, w.maxActivities - used));
    }
  },
});

/** Counts this worker's slots in the metrics until it stops. */
export function watchWorker(worker: Worker, taskQueue: string, maxActivities: number): void {
  workers.add({ worker, taskQueue, maxActivities });
}

/** Serves GET /metrics of a registry (the worker's, or any) on a port. */
export function serveMetrics(registry: Registry, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
