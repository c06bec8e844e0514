// Tenant connections (secrets sealed, never returned), test connection, and the audit log. The
// pickers that read a tenant's objects are in routes-pickers.ts.
import { auditCsv } from './audit.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { ALL_TENANTS, canSee, hasRole, isGlobalAdmin, tenantsWith, type Principal } from './people.ts';
import { RunAccess } from './access.ts';
import type { Services } from './services.ts';


export function tenantRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);
  const requireAdmin = (p: Principal, tenant: string) => {
    if (!hasRole(p, 'admin', tenant)) throw new HttpError(403, `only admins of tenant ${tenant} may do this`);
  };

  api.route('GET /api/tenants', async ({ me: p }) =>
    (await s.tenants.list()).filter((t) => access.canSeeTenant(p, t.name)),
  );

  api.route('POST /api/tenants', async ({ req, res, me: p, body }) => {
    if (!isGlobalAdmin(p)) throw new HttpError(403, 'only administrators of every tenant may add tenants');
    if (await s.tenants.exists(body.name)) throw new HttpError(409, `tenant ${body.name} already exists`);
    if (!body.clientSecret && !body.certificate) throw new HttpError(400, 'a client secret or a certificate is required', { problems: [{ field: 'clientSecret', message: 'required (or certificate)' }] });
    if (body.onPremises && !body.onPremises.bindPassword) throw new HttpError(400, "the AD connection needs the bind account's password", { problems: [{ field: 'onPremises.bindPassword', message: 'required' }] });
    const { info } = await s.tenants.upsert(body);
    await s.audit.record(originOf(req, p), 'tenant.created', body.name, { tenantId: body.tenantId, clientId: body.clientId, credential: info.credential }, body.name);
    res.status(201).location(`/api/tenants/${body.name}`);
    return info;
  });

  api.route('GET /api/tenants/:name', async ({ me: p, params }) => {
    const t = await s.tenants.get(params.name!);
    if (!t || !access.canSeeTenant(p, t.name)) throw new HttpError(404, `tenant ${params.name} does not exist`);
    return t;
  });

  api.route('PUT /api/tenants/:name', async ({ req, me: p, params, body }) => {
    requireAdmin(p, params.name!);
    if (s.tenants.isBuiltin(params.name!)) throw new HttpError(409, `tenant ${params.name} is configured by the environment and cannot be changed here`);
    if (!(await s.tenants.get(params.name!))) throw new HttpError(404, `tenant ${params.name} does not exist`);
    const { info } = await s.tenants.upsert({ ...body, name: params.name! });
    await s.audit.record(originOf(req, p), 'tenant.updated', params.name, { tenantId: body.tenantId, clientId: body.clientId, secretChanged: Boolean(body.clientSecret || body.certificate) }, params.name);
    return info;
  });

  api.route('DELETE /api/tenants/:name', async ({ req, me: p, params }) => {
    requireAdmin(p, params.name!);
    if (s.tenants.isBuiltin(params.name!)) throw new HttpError(409, `tenant ${params.name} is configured by the environment and cannot be removed here`);
    if (!(await s.tenants.remove(params.name!))) throw new HttpError(404, `tenant ${params.name} does not exist`);
    await s.audit.record(originOf(req, p), 'tenant.deleted', params.name, undefined, params.name);
    return { deleted: true };
  });

  api.route('POST /api/tenants/:name/test', async ({ req, me: p, params }) => {
    requireAdmin(p, params.name!);
    if (!(await s.tenants.exists(params.name!))) throw new HttpError(404, `tenant ${params.name} does not exist`);
    const result = await s.tenants.test(params.name!);
    await s.audit.record(originOf(req, p), 'tenant.tested', params.name, { ok: result.ok, missing: result.missing }, params.name);
    return result;
  });

  // ---- audit ----
  api.route('GET /api/audit', async ({ res, me: p, query }) => {
    const tenants = tenantsWith(p, 'admin');
    if (!tenants.length) throw new HttpError(403, 'only admins may read the audit log');
    if (query.tenant && !canSee(p, query.tenant)) throw new HttpError(403, `you are not an admin of tenant ${query.tenant}`);
    // Filtered in the query, before the row limit: a page holds `limit` entries the caller may see.
    const entries = await s.audit.search(query, tenants.includes(ALL_TENANTS) ? undefined : tenants);
    if (query.format === 'csv') {
      res.type('text/csv').attachment('tenantflow-audit.csv').send(auditCsv(entries));
      return;
    }
    return entries;
  });
}
