// The home dashboard's read-only aggregates (server/dashboard.ts), limited to the tenants the
// caller sees.
import { RunAccess } from './access.ts';
import { dashboard } from './dashboard.ts';
import type { Api } from './http.ts';
import type { Services } from './services.ts';

export function dashboardRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);
  api.route('GET /api/dashboard', async ({ me: p, query }) => {
    let tenants = access.visibleTenants(p);
    if (query.tenant) tenants = tenants && !tenants.includes(query.tenant) ? [] : [query.tenant];
    await s.records.fresh(s.deps.pollMs ?? 1000);
    const d = await dashboard(s.db, { tenants, days: query.days });
    return { ...d, tenants: tenants ?? (await s.tenants.list()).map((t) => t.name) };
  });
}
