// Tenant connections (secrets sealed, never returned), test connection, pickers for run forms;
// and the audit log.
import { z } from 'zod';
import { AD_CONNECTION_NAME, ANCHOR_ATTRIBUTES } from '../m365/ad-connection.ts';
import { auditCsv } from './audit.ts';
import { HttpError, originOf, type Api } from './http.ts';
import { ALL_TENANTS, canSee, hasRole, isGlobalAdmin, tenantsWith, type Principal } from './people.ts';
import { RunAccess } from './routes-runs.ts';
import type { Services } from './services.ts';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const dn = z.string().regex(/^(OU|CN|DC)=.+/i, 'a distinguished name such as OU=Staff,DC=corp,DC=contoso,DC=com');
const OnPremises = z.strictObject({
  name: z.string().regex(AD_CONNECTION_NAME, 'lower-case letters, digits, - and _').describe('AD connection name; its on-premises worker polls tenantflow-onprem-<name>'),
  domain: z.string().regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'a DNS domain such as corp.contoso.com').describe('DNS name of the AD domain'),
  hosts: z.array(z.string().min(1)).min(1).describe('Domain controllers: host names (LDAPS, 636), ldaps://host:port or ldap://host (StartTLS)'),
  bindUser: z.string().min(1).describe('Service account: user principal name, DOMAIN\\name or distinguished name'),
  bindPassword: z.string().min(1).optional().describe('Its password; stored sealed, never returned. Leave out to keep the current one'),
  caPem: z.string().includes('BEGIN CERTIFICATE', { message: 'a PEM certificate' }).optional().describe('CA that issued the DCs\' certificates'),
  baseDn: dn.optional(),
  usersOu: dn.optional().describe('Default OU for new users'),
  groupsOu: dn.optional().describe('Default OU for new groups'),
  leaversOu: dn.optional().describe('OU leavers are moved to'),
  syncOus: z.array(dn).optional().describe('OUs that Entra Connect synchronises'),
  anchorAttribute: z.enum(ANCHOR_ATTRIBUTES).optional().describe('The sync anchor (sourceAnchor) attribute'),
  upnSuffix: z.string().optional().describe('UPN suffix for new users'),
});
const TenantBody = z
  .strictObject({
    displayName: z.string().max(200).optional(),
    tenantId: z.string().min(1).describe('Entra tenant id (GUID) or verified domain'),
    clientId: z.string().min(1).describe('Application (client) id of the app registration'),
    clientSecret: z.string().min(1).optional().describe('Client secret; stored sealed, never returned. Leave out to keep the current one'),
    certificate: z.string().includes('PRIVATE KEY', { message: 'a PEM with the certificate and its private key' }).optional().describe('PEM certificate + private key, instead of a secret'),
    authorityHost: z.url().optional().describe('Sign-in authority; Microsoft\'s public cloud when absent'),
    graphUrl: z.url().optional().describe('Graph root; https://graph.microsoft.com when absent'),
    caPem: z.string().optional().describe('Extra CA certificate to trust (a private emulator)'),
    mailFrom: z.string().optional().describe('Mailbox that sends notification mail in this tenant'),
    onPremises: OnPremises.nullable().optional().describe('The on-premises Active Directory (hybrid): its ad steps run on this connection\'s on-premises worker. null removes it'),
  })
  .refine((b) => !(b.clientSecret && b.certificate), { message: 'give a client secret or a certificate, not both', path: ['certificate'] });
const NewTenant = TenantBody.and(z.object({ name: z.string().regex(NAME, 'lower-case letters, digits, - and _') }));
const Search = z.object({ search: z.string().max(100).optional(), top: z.coerce.number().int().min(1).max(100).default(25) });
const AuditQuery = z.object({
  actor: z.string().optional(),
  action: z.string().optional().describe('An action or a prefix: run, run.started, approval, ...'),
  target: z.string().optional(),
  tenant: z.string().optional(),
  q: z.string().optional().describe('Free text'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  before: z.coerce.number().int().optional().describe('Entries older than this id (paging)'),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  format: z.enum(['json', 'csv']).default('json'),
});

export function tenantRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);
  const requireAdmin = (p: Principal, tenant: string) => {
    if (!hasRole(p, 'admin', tenant)) throw new HttpError(403, `only admins of tenant ${tenant} may do this`);
  };

  api.route({ method: 'get', path: '/api/tenants', tag: 'tenants', summary: 'Tenant connections I can see (never their secrets)', roles: 'any' }, async ({ me: p }) =>
    (await s.tenants.list()).filter((t) => access.canSeeTenant(p, t.name)),
  );

  api.route({ method: 'post', path: '/api/tenants', tag: 'tenants', summary: 'Add a tenant connection', roles: 'admin (every tenant)', body: NewTenant, statuses: { 201: 'created', 409: 'the name is taken' } }, async ({ req, res, me: p, body }) => {
    if (!isGlobalAdmin(p)) throw new HttpError(403, 'only administrators of every tenant may add tenants');
    if (await s.tenants.exists(body.name)) throw new HttpError(409, `tenant ${body.name} already exists`);
    if (!body.clientSecret && !body.certificate) throw new HttpError(400, 'a client secret or a certificate is required', { problems: [{ field: 'clientSecret', message: 'required (or certificate)' }] });
    if (body.onPremises && !body.onPremises.bindPassword) throw new HttpError(400, 'the AD connection needs the bind account\'s password', { problems: [{ field: 'onPremises.bindPassword', message: 'required' }] });
    const { info } = await s.tenants.upsert(body);
    await s.audit.record(originOf(req, p), 'tenant.created', body.name, { tenantId: body.tenantId, clientId: body.clientId, credential: info.credential }, body.name);
    res.status(201).location(`/api/tenants/${body.name}`);
    return info;
  });

  api.route({ method: 'get', path: '/api/tenants/:name', tag: 'tenants', summary: 'One tenant connection (never its secret)', roles: 'any with a role on it', statuses: { 404: 'no such tenant' } }, async ({ me: p, params }) => {
    const t = await s.tenants.get(params.name!);
    if (!t || !access.canSeeTenant(p, t.name)) throw new HttpError(404, `tenant ${params.name} does not exist`);
    return t;
  });

  api.route({ method: 'put', path: '/api/tenants/:name', tag: 'tenants', summary: 'Update a tenant connection (the secret is kept when left out)', roles: 'admin of the tenant', body: TenantBody, statuses: { 404: 'no such tenant', 409: 'built in' } }, async ({ req, me: p, params, body }) => {
    requireAdmin(p, params.name!);
    if (s.tenants.isBuiltin(params.name!)) throw new HttpError(409, `tenant ${params.name} is configured by the environment and cannot be changed here`);
    if (!(await s.tenants.get(params.name!))) throw new HttpError(404, `tenant ${params.name} does not exist`);
    const { info } = await s.tenants.upsert({ ...body, name: params.name! });
    await s.audit.record(originOf(req, p), 'tenant.updated', params.name, { tenantId: body.tenantId, clientId: body.clientId, secretChanged: Boolean(body.clientSecret || body.certificate) }, params.name);
    return info;
  });

  api.route({ method: 'delete', path: '/api/tenants/:name', tag: 'tenants', summary: 'Remove a tenant connection', roles: 'admin of the tenant', statuses: { 404: 'no such tenant', 409: 'built in' } }, async ({ req, me: p, params }) => {
    requireAdmin(p, params.name!);
    if (s.tenants.isBuiltin(params.name!)) throw new HttpError(409, `tenant ${params.name} is configured by the environment and cannot be removed here`);
    if (!(await s.tenants.remove(params.name!))) throw new HttpError(404, `tenant ${params.name} does not exist`);
    await s.audit.record(originOf(req, p), 'tenant.deleted', params.name, undefined, params.name);
    return { deleted: true };
  });

  api.route({ method: 'post', path: '/api/tenants/:name/test', tag: 'tenants', summary: 'Get a token and list the permissions the catalog needs that the app lacks', roles: 'admin of the tenant', statuses: { 404: 'no such tenant' } }, async ({ req, me: p, params }) => {
    requireAdmin(p, params.name!);
    if (!(await s.tenants.exists(params.name!))) throw new HttpError(404, `tenant ${params.name} does not exist`);
    const result = await s.tenants.test(params.name!);
    await s.audit.record(originOf(req, p), 'tenant.tested', params.name, { ok: result.ok, missing: result.missing }, params.name);
    return result;
  });

  // Pickers of the run form (user, group, licence inputs).
  const picker = (kind: 'users' | 'groups' | 'licences') =>
    api.route({ method: 'get', path: `/api/tenants/:name/${kind}`, tag: 'tenants', summary: `Pick ${kind} of the tenant (run form pickers)`, roles: 'any with a role on it', query: Search, statuses: { 404: 'no such tenant', 502: 'the tenant did not answer' } }, async ({ me: p, params, query }) => {
      if (!access.canSeeTenant(p, params.name!) || !(await s.tenants.exists(params.name!))) throw new HttpError(404, `tenant ${params.name} does not exist`);
      const g = (await access.graph(params.name!))!;
      const term = query.search?.replace(/"/g, '');
      try {
        if (kind === 'licences') {
          const skus = (await g.api('/subscribedSkus').get()) as { value: { skuId: string; skuPartNumber: string; consumedUnits: number; prepaidUnits?: { enabled: number } }[] };
          return skus.value
            .filter((x) => !term || x.skuPartNumber.toLowerCase().includes(term.toLowerCase()))
            .map((x) => ({ id: x.skuId, value: x.skuPartNumber, label: x.skuPartNumber, available: (x.prepaidUnits?.enabled ?? 0) - x.consumedUnits }));
        }
        let req = g.api(`/${kind}`).top(query.top).select(kind === 'users' ? 'id,displayName,userPrincipalName,department' : 'id,displayName,mail');
        if (term) req = req.header('ConsistencyLevel', 'eventual').search(`"displayName:${term}"`);
        const res = (await req.get()) as { value: Record<string, string>[] };
        return res.value.map((x) => (kind === 'users' ? { id: x.id, value: x.userPrincipalName, label: x.displayName, department: x.department } : { id: x.id, value: x.displayName, label: x.displayName, mail: x.mail }));
      } catch (err) {
        throw new HttpError(502, `tenant ${params.name} did not answer: ${(err as Error).message}`);
      }
    });
  picker('users');
  picker('groups');
  picker('licences');

  // ---- audit ----
  api.route({ method: 'get', path: '/api/audit', tag: 'audit', summary: 'Search the audit log; format=csv exports it', roles: 'admin (entries of the tenants administered)', query: AuditQuery, produces: 'application/json, text/csv' }, async ({ res, me: p, query }) => {
    const tenants = tenantsWith(p, 'admin');
    if (!tenants.length) throw new HttpError(403, 'only admins may read the audit log');
    if (query.tenant && !canSee(p, query.tenant)) throw new HttpError(403, `you are not an admin of tenant ${query.tenant}`);
    let entries = await s.audit.search(query);
    if (!tenants.includes(ALL_TENANTS)) entries = entries.filter((e) => e.tenant && tenants.includes(e.tenant));
    if (query.format === 'csv') {
      res.type('text/csv').attachment('tenantflow-audit.csv').send(auditCsv(entries));
      return;
    }
    return entries;
  });
}
