// The pickers of the designer's action forms and of the run form: a search term and a bounded page
// of one kind of the tenant's objects, each read the way Microsoft documents it: users, groups,
// teams (groups provisioned as a team), a team's channels, app registrations and OneDrives through
// Graph, Intune managed devices, SharePoint sites (Graph site search), domains, and mailboxes and
// shared mailboxes through Get-Mailbox on the Exchange admin API. Whoever has a role on the tenant
// may look (anyone with a role, for the sandbox); another tenant's people hear 404.
import type { Client as GraphClient } from '@microsoft/microsoft-graph-client';
import { exchangeClientCache, type ExchangeClient } from '../m365/exchange.ts';
import { RunAccess } from './access.ts';
import { HttpError, type Api } from './http.ts';
import type { Services } from './services.ts';

/** One option of a picker: `value` is what the field stores, `label` (and `detail`) what people read. */
export interface PickOption {
  id: string;
  value: string;
  label: string;
  detail?: string;
  department?: string;
  mail?: string;
  available?: number;
}

interface Lookup {
  graph: GraphClient;
  exchange: () => ExchangeClient;
  /** The search term as typed (trimmed, quotes removed), or undefined. */
  term?: string;
  top: number;
  params: Record<string, string>;
}

type Rows = { value: Record<string, any>[] };

/** A term inside an OData string literal ('' escapes '). */
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
const has = (term: string | undefined, ...texts: (string | null | undefined)[]) =>
  !term || texts.some((t) => t?.toLowerCase().includes(term.toLowerCase()));
/** Graph's $search on directory objects ("displayName:term", ConsistencyLevel: eventual). */
const searched = (req: ReturnType<GraphClient['api']>, term: string | undefined) =>
  term ? req.header('ConsistencyLevel', 'eventual').search(`"displayName:${term}"`) : req;
const TEAM = "resourceProvisioningOptions/Any(x:x eq 'Team')";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function mailboxes(l: Lookup, shared: boolean): Promise<PickOption[]> {
  // Get-Mailbox -Anr: ambiguous name resolution over name, display name, first and last name, alias.
  const rows = await l.exchange().invoke<Record<string, string>>('Get-Mailbox', {
    ...(l.term ? { Anr: l.term } : {}),
    ...(shared ? { RecipientTypeDetails: 'SharedMailbox' } : {}),
    ResultSize: l.top,
  });
  return rows.map((m) => ({ id: m.ExternalDirectoryObjectId ?? m.Guid ?? m.UserPrincipalName!, value: m.UserPrincipalName!, label: m.DisplayName ?? m.UserPrincipalName!, detail: `${m.PrimarySmtpAddress} · ${m.RecipientTypeDetails}`, mail: m.PrimarySmtpAddress }));
}

const LOOKUPS = {
  users: async (l: Lookup) => {
    const res = (await searched(l.graph.api('/users').top(l.top).select('id,displayName,userPrincipalName,department'), l.term).get()) as Rows;
    return res.value.map((x) => ({ id: x.id, value: x.userPrincipalName, label: x.displayName, department: x.department }));
  },
  groups: async (l: Lookup) => {
    const res = (await searched(l.graph.api('/groups').top(l.top).select('id,displayName,mail'), l.term).get()) as Rows;
    return res.value.map((x) => ({ id: x.id, value: x.displayName, label: x.displayName, mail: x.mail }));
  },
  licences: async (l: Lookup) => {
    const skus = (await l.graph.api('/subscribedSkus').get()) as { value: { skuId: string; skuPartNumber: string; consumedUnits: number; prepaidUnits?: { enabled: number } }[] };
    return skus.value
      .filter((x) => has(l.term, x.skuPartNumber))
      .map((x) => ({ id: x.skuId, value: x.skuPartNumber, label: x.skuPartNumber, available: (x.prepaidUnits?.enabled ?? 0) - x.consumedUnits }));
  },
  mailboxes: (l: Lookup) => mailboxes(l, false),
  'shared-mailboxes': (l: Lookup) => mailboxes(l, true),
  devices: async (l: Lookup) => {
    let req = l.graph.api('/deviceManagement/managedDevices').top(l.top).select('id,deviceName,operatingSystem,userPrincipalName,serialNumber');
    if (l.term) req = req.filter(`startswith(deviceName,${literal(l.term)})`);
    const res = (await req.get()) as Rows;
    return res.value.map((d) => ({ id: d.id, value: d.id, label: d.deviceName, detail: [d.operatingSystem, d.userPrincipalName, d.serialNumber].filter(Boolean).join(' · ') }));
  },
  teams: async (l: Lookup) => {
    const res = (await searched(l.graph.api('/groups').filter(TEAM).top(l.top).select('id,displayName,mail'), l.term).get()) as Rows;
    return res.value.map((t) => ({ id: t.id, value: t.id, label: t.displayName, detail: t.mail ?? undefined, mail: t.mail }));
  },
  'teams/:team/channels': async (l: Lookup) => {
    const team = await teamId(l.graph, l.params.team!);
    if (!team) return [];
    // A team has at most 1,000 channels, in one answer; the term narrows them here.
    const res = (await l.graph.api(`/teams/${team}/channels`).select('id,displayName,membershipType').get()) as Rows;
    return res.value
      .filter((c) => has(l.term, c.displayName))
      .slice(0, l.top)
      .map((c) => ({ id: c.id, value: c.id, label: c.displayName, detail: c.membershipType }));
  },
  sites: async (l: Lookup) => {
    // Graph's site search: GET /sites?search={query}; "*" lists every site.
    const res = (await l.graph.api('/sites').query({ search: l.term || '*' }).top(l.top).select('id,displayName,webUrl').get()) as Rows;
    return res.value.map((s) => ({ id: s.id, value: s.webUrl, label: s.displayName || s.webUrl, detail: s.webUrl }));
  },
  onedrives: async (l: Lookup) => {
    const users = (await searched(l.graph.api('/users').top(l.top).select('id,displayName,userPrincipalName'), l.term).get()) as Rows;
    // Each user's drive, 20 to a JSON batch (Graph's limit): one round trip per 20 users.
    const out: PickOption[] = [];
    for (let i = 0; i < users.value.length; i += 20) {
      const chunk = users.value.slice(i, i + 20);
      const requests = chunk.map((u, n) => ({ id: String(n), method: 'GET', url: `/users/${u.id}/drive?$select=id,webUrl` }));
      const answer = (await l.graph.api('/$batch').post({ requests })) as { responses: { id: string; status: number; body?: { id: string; webUrl: string; error?: { message?: string } } }[] };
      for (const r of [...answer.responses].sort((a, b) => Number(a.id) - Number(b.id))) {
        const u = chunk[Number(r.id)]!;
        // No OneDrive yet (never provisioned, or no SharePoint licence): not a choice.
        if (r.status === 404) continue;
        if (r.status !== 200 || !r.body) throw new Error(`the OneDrive of ${u.userPrincipalName}: HTTP ${r.status} ${r.body?.error?.message ?? ''}`.trim());
        out.push({ id: r.body.id, value: u.userPrincipalName, label: u.displayName, detail: r.body.webUrl });
      }
    }
    return out;
  },
  applications: async (l: Lookup) => {
    const res = (await searched(l.graph.api('/applications').top(l.top).select('id,appId,displayName'), l.term).get()) as Rows;
    return res.value.map((a) => ({ id: a.id, value: a.appId, label: a.displayName, detail: a.appId }));
  },
  domains: async (l: Lookup) => {
    // A tenant has a few hundred domains at most: all in one answer, the term narrows them here.
    const res = (await l.graph.api('/domains').select('id,isVerified,isDefault').get()) as Rows;
    return res.value
      .filter((d) => has(l.term, d.id))
      .slice(0, l.top)
      .map((d) => ({ id: d.id, value: d.id, label: d.id, detail: d.isDefault ? 'default' : d.isVerified ? 'verified' : 'not verified' }));
  },
} satisfies Record<string, (l: Lookup) => Promise<PickOption[]>>;

export type PickerRoute = keyof typeof LOOKUPS;
export const PICKER_ROUTES = Object.keys(LOOKUPS) as PickerRoute[];

/** The team's group id: the id given, or the team whose display name is exactly the text. */
async function teamId(g: GraphClient, ref: string): Promise<string | undefined> {
  if (GUID.test(ref)) return ref;
  const res = (await g.api('/groups').filter(`${TEAM} and displayName eq ${literal(ref)}`).select('id').top(2).get()) as Rows;
  return res.value.length === 1 ? res.value[0]!.id : undefined;
}

export function pickerRoutes(api: Api, s: Services): void {
  const access = new RunAccess(s);
  const exchanges = exchangeClientCache();
  for (const kind of PICKER_ROUTES)
    api.route(`GET /api/tenants/:name/${kind}`, async ({ me: p, params, query }) => {
      if (!access.canSeeTenant(p, params.name!) || !(await s.tenants.exists(params.name!))) throw new HttpError(404, `tenant ${params.name} does not exist`);
      const conn = (await s.tenants.connection(params.name!))!;
      const graph = (await access.graph(params.name!))!;
      const term = query.search?.replace(/"/g, '').trim() || undefined;
      try {
        return await LOOKUPS[kind]({ graph, exchange: () => exchanges(conn), term, top: query.top, params });
      } catch (err) {
        // Exchange's refusals carry what to grant (the permission, the Entra role): say it.
        const hint = (err as { hint?: string }).hint;
        throw new HttpError(502, `tenant ${params.name} did not answer: ${(err as Error).message}${hint ? ` (${hint})` : ''}`);
      }
    });
}
