// Conditional Access named locations: ipNamedLocation (CIDR ranges, trusted or not) and
// countryNamedLocation (ISO country codes), under /identity/conditionalAccess/namedLocations.
import { randomUUID } from 'node:crypto';
import { GraphError } from '../errors.ts';
import type { TypeInfo } from '../odata.ts';
import type { Ctx, Router } from '../runtime.ts';
import type { TenantStore } from '../store.ts';
import { bodyObject, collection, entity, odataContext } from './common.ts';

const IP = '#microsoft.graph.ipNamedLocation';
const COUNTRY = '#microsoft.graph.countryNamedLocation';

export interface NamedLocation {
  '@odata.type': typeof IP | typeof COUNTRY;
  id: string;
  displayName: string;
  createdDateTime: string;
  modifiedDateTime: string;
  isTrusted?: boolean;
  ipRanges?: { '@odata.type': string; cidrAddress: string }[];
  countriesAndRegions?: string[];
  includeUnknownCountriesAndRegions?: boolean;
  countryLookupMethod?: string;
}

const READ = ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'];
const WRITE = ['Policy.ReadWrite.ConditionalAccess'];

const TYPE: TypeInfo = {
  name: 'microsoft.graph.namedLocation',
  properties: new Set(['@odata.type', 'id', 'displayName', 'createdDateTime', 'modifiedDateTime', 'isTrusted', 'ipRanges', 'countriesAndRegions', 'includeUnknownCountriesAndRegions', 'countryLookupMethod']),
};

function seed(store: TenantStore): NamedLocation[] {
  const at = store.info.createdDateTime;
  return [
    {
      '@odata.type': IP,
      id: '0a8a6b7e-4c3f-4f7a-9a1e-3c2b1d0e9f01',
      displayName: 'Corporate offices',
      createdDateTime: at,
      modifiedDateTime: at,
      isTrusted: true,
      ipRanges: [
        { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' },
        { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.32/27' },
      ],
    },
    {
      '@odata.type': COUNTRY,
      id: '6c1f8e2d-7b4a-4e0c-8d5f-2a9b3c4d5e02',
      displayName: 'Blocked countries',
      createdDateTime: at,
      modifiedDateTime: at,
      countriesAndRegions: ['KP', 'IR'],
      includeUnknownCountriesAndRegions: false,
      countryLookupMethod: 'clientIpAddress',
    },
  ];
}

export function namedLocations(store: TenantStore): NamedLocation[] {
  return store.tenantState('namedLocations', () => seed(store));
}

const invalid = (message: string): GraphError => new GraphError(400, 'BadRequest', message);

function cidrRange(raw: unknown): { '@odata.type': string; cidrAddress: string } {
  const r = raw as { '@odata.type'?: unknown; cidrAddress?: unknown } | null;
  const cidr = typeof r?.cidrAddress === 'string' ? r.cidrAddress : '';
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const v6 = /^[0-9a-f:]+\/(\d{1,3})$/i.exec(cidr);
  if (v4 && v4.slice(1, 5).every((o) => Number(o) <= 255) && Number(v4[5]) >= 8 && Number(v4[5]) <= 32) return { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: cidr };
  if (v6 && cidr.includes(':') && Number(v6[1]) >= 8 && Number(v6[1]) <= 128) return { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: cidr.toLowerCase() };
  throw invalid(`Invalid IP range '${cidr}'. IP ranges must be in CIDR notation with a prefix length of /8 or longer.`);
}

/** Applies a create or PATCH body; PATCH must name the derived type, as Graph requires. */
function apply(loc: NamedLocation, body: Record<string, unknown>, creating: boolean): void {
  const type = body['@odata.type'];
  if (type !== loc['@odata.type']) {
    throw invalid(creating ? `'@odata.type' must be '${IP}' or '${COUNTRY}'.` : `The '@odata.type' of the request ('${String(type)}') must match the location's type ('${loc['@odata.type']}').`);
  }
  const known = new Set(['@odata.type', 'displayName', ...(loc['@odata.type'] === IP ? ['isTrusted', 'ipRanges'] : ['countriesAndRegions', 'includeUnknownCountriesAndRegions', 'countryLookupMethod'])]);
  for (const k of Object.keys(body)) if (!known.has(k)) throw invalid(`The property '${k}' does not exist on type '${loc['@odata.type'].slice(1)}'.`);
  if ('displayName' in body || creating) {
    if (typeof body['displayName'] !== 'string' || !body['displayName'].trim()) throw invalid("A value is required for property 'displayName'.");
    if (body['displayName'].length > 256) throw invalid('displayName cannot be longer than 256 characters.');
    loc.displayName = body['displayName'];
  }
  if (loc['@odata.type'] === IP) {
    if ('isTrusted' in body) {
      if (typeof body['isTrusted'] !== 'boolean') throw invalid("Invalid value for property 'isTrusted'.");
      loc.isTrusted = body['isTrusted'];
    }
    if ('ipRanges' in body || creating) {
      const ranges = body['ipRanges'];
      if (!Array.isArray(ranges) || ranges.length === 0) throw invalid('An IP named location must have at least one IP range.');
      if (ranges.length > 2000) throw invalid('An IP named location can have at most 2000 IP ranges.');
      loc.ipRanges = ranges.map(cidrRange);
    }
  } else {
    if ('countriesAndRegions' in body || creating) {
      const list = body['countriesAndRegions'];
      if (!Array.isArray(list) || list.some((c) => typeof c !== 'string' || !/^[A-Za-z]{2}$/.test(c))) throw invalid("'countriesAndRegions' must be a list of two-letter ISO 3166 country codes.");
      loc.countriesAndRegions = list.map((c: string) => c.toUpperCase());
    }
    if ('includeUnknownCountriesAndRegions' in body) loc.includeUnknownCountriesAndRegions = body['includeUnknownCountriesAndRegions'] === true;
    if ('countryLookupMethod' in body) {
      if (body['countryLookupMethod'] !== 'clientIpAddress' && body['countryLookupMethod'] !== 'authenticatorAppGps') throw invalid("Invalid value for property 'countryLookupMethod'.");
      loc.countryLookupMethod = body['countryLookupMethod'];
    }
  }
}

function requireLocation(ctx: Ctx): NamedLocation {
  const loc = namedLocations(ctx.store).find((l) => l.id === ctx.params['id']!.toLowerCase());
  if (!loc) throw new GraphError(404, 'ResourceNotFound', `The named location '${ctx.params['id']}' was not found.`);
  return loc;
}

export function registerConditionalAccessRoutes(router: Router): void {
  const base = '/identity/conditionalAccess/namedLocations';
  router.add(
    {
      method: 'GET',
      path: base,
      permissions: READ,
      handler: (ctx) => collection(ctx, namedLocations(ctx.store), TYPE, (l) => ({ ...l }), 'identity/conditionalAccess/namedLocations'),
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      permissions: READ,
      handler: (ctx) => entity(ctx, { ...requireLocation(ctx) }, TYPE, 'identity/conditionalAccess/namedLocations/$entity'),
    },
    {
      method: 'POST',
      path: base,
      permissions: WRITE,
      handler: (ctx) => {
        const body = bodyObject(ctx);
        const type = body['@odata.type'];
        if (type !== IP && type !== COUNTRY) throw invalid(`'@odata.type' must be '${IP}' or '${COUNTRY}'.`);
        const loc: NamedLocation = { '@odata.type': type, id: randomUUID(), displayName: '', createdDateTime: ctx.nowIso, modifiedDateTime: ctx.nowIso, ...(type === IP ? { isTrusted: false, ipRanges: [] } : { countriesAndRegions: [], includeUnknownCountriesAndRegions: false, countryLookupMethod: 'clientIpAddress' }) };
        apply(loc, body, true);
        namedLocations(ctx.store).push(loc);
        ctx.mutated('namedLocation.create', loc.id);
        return { status: 201, body: { '@odata.context': odataContext(ctx, 'identity/conditionalAccess/namedLocations/$entity'), ...loc } };
      },
    },
    {
      method: 'PATCH',
      path: `${base}/:id`,
      permissions: WRITE,
      handler: (ctx) => {
        const loc = requireLocation(ctx);
        const next = structuredClone(loc);
        apply(next, bodyObject(ctx), false);
        Object.assign(loc, next, { modifiedDateTime: ctx.nowIso });
        ctx.mutated('namedLocation.update', loc.id);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:id`,
      permissions: WRITE,
      handler: (ctx) => {
        const loc = requireLocation(ctx);
        // Policies live in conditional-access-policies.ts (which imports this file): read their state by key.
        const policies = (ctx.store.extra['conditionalAccessPolicies'] ?? []) as { displayName: string; conditions: { locations?: { includeLocations?: string[]; excludeLocations?: string[] } | null } }[];
        const user = policies.find((p) => [...(p.conditions.locations?.includeLocations ?? []), ...(p.conditions.locations?.excludeLocations ?? [])].includes(loc.id));
        if (user) throw invalid(`The named location '${loc.displayName}' is used by the Conditional Access policy '${user.displayName}': remove it from the policy first.`);
        const list = namedLocations(ctx.store);
        list.splice(list.indexOf(loc), 1);
        ctx.mutated('namedLocation.delete', loc.id);
        return { status: 204 };
      },
    },
  );
}
