// The home dashboard's read-only aggregates (server/dashboard.ts), limited to the tenants the
// caller sees.
import { RunAccess } from './access.ts';
import { dashboard } from './dashboard.ts';
import type { Api } from './http.ts';
import type { Services } from './services.ts';
import { readWorkerGates } from './worker-gates.ts';

export function dashboardRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);
  api.route('GET /api/dashboard', async ({ me: p, query }) => {
    let tenants = access.visibleTenants(p);
    if (query.tenant) tenants = tenants && !tenants.includes(query.tenant) ? [] : [query.tenant];
    await s.records.fresh(s.deps.pollMs ?? 1000);
    const [d, known] = await Promise.all([dashboard(s.db, { tenants, days: query.days }), s.tenants.list()]);
    // A gate is keyed by the Entra tenant id; show it under the first of the caller's tenants that connects to it.
    const names = new Map<string, string>();
    for (const t of known) if (!tenants || tenants.includes(t.name)) if (!names.has(t.tenantId.toLowerCase())) names.set(t.tenantId.toLowerCase(), t.name);
    const live = await readWorkerGates(s.deps.workerMetrics ?? [], (id) => names.get(id.toLowerCase()));
    return { ...d, live, tenants: tenants ?? known.map((t) => t.name) };
  });
}
