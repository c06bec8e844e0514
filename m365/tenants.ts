import { adConnectionFromEnv, type AdConnection } from './ad-connection.ts';

// Where the worker finds a tenant's credentials. Activities receive only the connection's name,
// so no secret enters workflow inputs, results or history; the worker resolves it here.
export interface TenantConnection {
  /** Connection name used by runs, e.g. "sandbox" or "contoso". */
  name: string;
  /** Entra tenant id (GUID) or verified domain. */
  tenantId: string;
  clientId: string;
  /** Empty when the connection signs in with a certificate. */
  clientSecret: string;
  /** PEM with the app's certificate and its private key: used instead of the secret when set. */
  certificatePem?: string;
  /** Authority host for @azure/identity; default Microsoft's public cloud. */
  authorityHost?: string;
  /** Graph root (without version); default https://graph.microsoft.com. */
  graphUrl?: string;
  /** Exchange Online admin API root; default https://outlook.office365.com. */
  exchangeUrl?: string;
  /**
   * SharePoint REST override: https://{host}/{path} is sent to {sharepointUrl}/{host}/{path} (the sandbox
   * serves every SharePoint host under one URL); unset on a real tenant.
   */
  sharepointUrl?: string;
  /** Extra CA certificate to trust (the sandbox's self-signed one). */
  caPem?: string;
  /** The tenant's on-premises Active Directory (hybrid): its `ad` steps run on that connection's on-premises worker. */
  onPremises?: AdConnection;
}

export interface TenantDirectory {
  get(name: string): Promise<TenantConnection>;
  list(): Promise<string[]>;
}

export class UnknownTenantError extends Error {}

export function staticTenantDirectory(connections: TenantConnection[]): TenantDirectory {
  const byName = new Map(connections.map((c) => [c.name, c]));
  return {
    async get(name) {
      const c = byName.get(name);
      if (!c)
        throw new UnknownTenantError(
          `tenant connection "${name}" is not configured on this worker (known: ${[...byName.keys()].join(', ') || 'none'})`,
        );
      return c;
    },
    async list() {
      return [...byName.keys()];
    },
  };
}

/** Every AD connection the given tenants name (what an on-premises worker may serve). */
export function adConnectionsOf(connections: TenantConnection[]): AdConnection[] {
  return connections.flatMap((t) => (t.onPremises ? [t.onPremises] : []));
}

/**
 * Tenants from the environment: the sandbox (SANDBOX_URL + SANDBOX_TENANT_ID, SANDBOX_CLIENT_ID,
 * SANDBOX_CLIENT_SECRET, SANDBOX_CA_FILE, and SANDBOX_CERTIFICATE_FILE: the demo app's certificate and key) and one real tenant (M365_TENANT_ID, M365_CLIENT_ID,
 * M365_CLIENT_SECRET, named M365_TENANT_NAME or "default").
 */
export async function tenantsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<TenantConnection[]> {
  const out: TenantConnection[] = [];
  if (env.SANDBOX_URL && env.SANDBOX_TENANT_ID && env.SANDBOX_CLIENT_ID && env.SANDBOX_CLIENT_SECRET) {
    const { readFile } = await import('node:fs/promises');
    out.push({
      name: 'sandbox',
      tenantId: env.SANDBOX_TENANT_ID,
      clientId: env.SANDBOX_CLIENT_ID,
      clientSecret: env.SANDBOX_CLIENT_SECRET,
      authorityHost: env.SANDBOX_URL,
      graphUrl: env.SANDBOX_URL,
      exchangeUrl: env.SANDBOX_URL,
      sharepointUrl: `${env.SANDBOX_URL}/_sharepoint`,
      caPem: env.SANDBOX_CA_FILE ? await readFile(env.SANDBOX_CA_FILE, 'utf8') : undefined,
      // With a certificate the connection signs in with it (SharePoint REST accepts nothing else).
      certificatePem: env.SANDBOX_CERTIFICATE_FILE ? await readFile(env.SANDBOX_CERTIFICATE_FILE, 'utf8') : undefined,
    });
  }
  if (env.M365_TENANT_ID && env.M365_CLIENT_ID && env.M365_CLIENT_SECRET) {
    out.push({
      name: env.M365_TENANT_NAME ?? 'default',
      tenantId: env.M365_TENANT_ID,
      clientId: env.M365_CLIENT_ID,
      clientSecret: env.M365_CLIENT_SECRET,
    });
  }
  // An AD connection from the environment (AD_*, see ad-connection.ts) belongs to the tenant named by
  // AD_TENANT (default: the sandbox when it is configured, else the M365_* tenant).
  const ad = await adConnectionFromEnv(env);
  if (ad) {
    const owner = out.find((t) => t.name === (env.AD_TENANT ?? out[0]?.name));
    if (owner) owner.onPremises = ad;
  }
  return out;
}
