// The throttle gate lives in each worker process (m365/throttle.ts); the dashboard shows what the
// gates do now by reading the workers' own Prometheus endpoints (TENANTFLOW_WORKER_METRICS: their
// /metrics URLs, comma-separated): each gate's current rate per tenant and budget, and the
// Microsoft 365 answers the workers received, 429s included. A worker that does not answer within
// a second is named, never silently left out.

/** One sample of a Prometheus text exposition: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one metric in a Prometheus text exposition (prom-client's output). */
export function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

export interface WorkerGates {
  /** Each gate's current rate (requests per second) per worker, tenant and budget. */
  gates: { worker: string; tenant: string; service: string; budget: string; rate: number }[];
  /** Answers from Microsoft 365 since each worker started, per tenant and service. */
  answers: { tenant: string; service: string; total: number; throttled: number }[];
  /** Workers whose metrics could not be read, with the reason; `configured: false` when none are set. */
  unreachable: { worker: string; reason: string }[];
  configured: boolean;
}

/** Reads every worker's gates; `tenantName` turns a gate's Entra tenant id into the Tenantflow tenant's name. */
export async function readWorkerGates(urls: string[], tenantName: (tenantId: string) => string | undefined): Promise<WorkerGates> {
  const result: WorkerGates = { gates: [], answers: [], unreachable: [], configured: urls.length > 0 };
  const answers = new Map<string, WorkerGates['answers'][number]>();
  await Promise.all(
    urls.map(async (url) => {
      const worker = new URL(url).host;
      let text: string;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (!res.ok) throw new Error(`answered ${res.status}`);
        text = await res.text();
      } catch (err) {
        result.unreachable.push({ worker, reason: (err as Error).message });
        return;
      }
      for (const s of samples(text, 'tenantflow_throttle_rate')) {
        const tenant = tenantName(s.labels.tenant ?? '');
        if (tenant) result.gates.push({ worker, tenant, service: s.labels.service ?? '', budget: s.labels.budget ?? '', rate: s.value });
      }
      for (const s of samples(text, 'tenantflow_service_requests_total')) {
        const tenant = tenantName(s.labels.tenant ?? '');
        if (!tenant) continue;
        const key = `${tenant}\n${s.labels.service}`;
        const a = answers.get(key) ?? { tenant, service: s.labels.service ?? '', total: 0, throttled: 0 };
        a.total += s.value;
        if (s.labels.status === '429') a.throttled += s.value;
        answers.set(key, a);
      }
    }),
  );
  result.answers = [...answers.values()].sort((a, b) => a.tenant.localeCompare(b.tenant) || a.service.localeCompare(b.service));
  result.gates.sort((a, b) => a.tenant.localeCompare(b.tenant) || a.service.localeCompare(b.service) || a.budget.localeCompare(b.budget) || a.worker.localeCompare(b.worker));
  return result;
}
