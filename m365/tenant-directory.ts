// How a worker process reaches tenant credentials without them entering Temporal history. The
// control plane (server/tenants.ts) writes sealed rows to its database (PostgreSQL in production)
// or, with the embedded database that one process owns, to a sealed mirror file it rewrites on
// every change; this reads either. Both sides need the same secret key (secret-box.ts).
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { SecretBox } from './secret-box.ts';
import type { AdConnection } from './ad-connection.ts';
import { UnknownTenantError, type TenantConnection, type TenantDirectory } from './tenants.ts';

export interface SealedRow {
  name: string;
  display_name: string | null;
  tenant_id: string;
  client_id: string;
  secret_enc: string | null;
  certificate_enc: string | null;
  authority_host: string | null;
  graph_url: string | null;
  ca_pem: string | null;
  mail_from: string | null;
  /** The AD connection without its password (JSON), and the bind password sealed. */
  ad_json?: string | null;
  ad_secret_enc?: string | null;
  created_at?: unknown;
  updated_at?: unknown;
}

export type ConnectionWithCertificate = TenantConnection & { mailFrom?: string };

export function connectionOf(r: SealedRow, box: SecretBox): ConnectionWithCertificate {
  return {
    name: r.name,
    tenantId: r.tenant_id,
    clientId: r.client_id,
    clientSecret: r.secret_enc ? box.open(r.secret_enc) : '',
    certificatePem: r.certificate_enc ? box.open(r.certificate_enc) : undefined,
    authorityHost: r.authority_host ?? undefined,
    graphUrl: r.graph_url ?? undefined,
    exchangeUrl: r.graph_url ?? undefined,
    // A custom Graph root is the sandbox, which serves SharePoint's hosts under /_sharepoint.
    sharepointUrl: r.graph_url ? `${r.graph_url.replace(/\/$/, '')}/_sharepoint` : undefined,
    caPem: r.ca_pem ?? undefined,
    mailFrom: r.mail_from ?? undefined,
    onPremises: adConnectionOf(r, box),
  };
}

/** The tenant row's AD connection with its bind password opened, if it has one. */
export function adConnectionOf(r: SealedRow, box: SecretBox): AdConnection | undefined {
  if (!r.ad_json) return undefined;
  const info = JSON.parse(r.ad_json) as Omit<AdConnection, 'bindPassword'>;
  return { ...info, bindPassword: r.ad_secret_enc ? box.open(r.ad_secret_enc) : '' };
}

/**
 * How a worker process reaches tenant credentials without them entering Temporal history:
 * the connections configured in its environment (the sandbox, M365_*), then the control plane's
 * connections: from PostgreSQL when databaseUrl is set, otherwise from the embedded mode's sealed
 * mirror file. Secrets are opened with the shared key only when a step needs them.
 */
export function tenantDirectory(opts: {
  box: SecretBox;
  builtins?: TenantConnection[];
  databaseUrl?: string;
  mirrorFile?: string;
}): TenantDirectory & { close(): Promise<void>; adConnection(name: string): Promise<AdConnection | undefined> } {
  const builtins = new Map((opts.builtins ?? []).map((c) => [c.name, c]));
  // The Graph client cache keys on object identity: hand out the same object while unchanged.
  const cache = new Map<string, { stamp: string; conn: TenantConnection }>();
  let pool: pg.Pool | undefined;
  const rows = async (): Promise<SealedRow[]> => {
    if (opts.databaseUrl) {
      pool ??= new pg.Pool({ connectionString: opts.databaseUrl, max: 2 });
      return (await pool.query<SealedRow>('select * from tenants')).rows;
    }
    if (!opts.mirrorFile) return [];
    try {
      return (JSON.parse(await readFile(opts.mirrorFile, 'utf8')) as { tenants: SealedRow[] }).tenants;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  };
  return {
    async get(name) {
      const b = builtins.get(name);
      if (b) return b;
      const r = (await rows()).find((x) => x.name === name);
      if (!r) throw new UnknownTenantError(`tenant connection "${name}" does not exist (known: ${[...builtins.keys(), ...(await rows()).map((x) => x.name)].join(', ') || 'none'})`);
      const stamp = JSON.stringify(r);
      const hit = cache.get(name);
      if (hit && hit.stamp === stamp) return hit.conn;
      const conn = connectionOf(r, opts.box);
      cache.set(name, { stamp, conn });
      return conn;
    },
    async list() {
      return [...new Set([...builtins.keys(), ...(await rows()).map((r) => r.name)])];
    },
    async adConnection(name) {
      for (const b of builtins.values()) if (b.onPremises?.name === name) return b.onPremises;
      const r = (await rows()).find((x) => x.ad_json && (JSON.parse(x.ad_json) as { name?: string }).name === name);
      return r ? adConnectionOf(r, opts.box) : undefined;
    },
    async close() {
      await pool?.end();
    },
  };
}
