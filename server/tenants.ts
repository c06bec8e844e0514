// Tenant connections as the control plane manages them: Entra tenant id + app registration (client
// id + secret or certificate). Secrets are sealed with AES-GCM before they touch the database and
// are never returned by the API. Workers read the same rows through m365/tenant-directory.ts.
import { rename, writeFile } from 'node:fs/promises';
import { requiredPermissions } from '../catalog/index.ts';
import { credentialFor } from '../m365/graph.ts';
import { connectionOf, type ConnectionWithCertificate, type SealedRow } from '../m365/tenant-directory.ts';
import { UnknownTenantError, type TenantConnection } from '../m365/tenants.ts';
import { adConnectionInfo, type AdConnection, type AdConnectionInfo } from '../m365/ad-connection.ts';
import { isOnPremisesAction } from '../catalog/contract.ts';
import type { RunbookDefinition, RunbookNode } from '../runbook/definition.ts';
import type { SecretBox } from '../m365/secret-box.ts';
import type { Db } from './db.ts';
import { iso } from './people.ts';

export interface TenantInfo {
  name: string;
  displayName?: string;
  tenantId: string;
  clientId: string;
  credential: 'secret' | 'certificate' | 'none';
  authorityHost?: string;
  graphUrl?: string;
  mailFrom?: string;
  /** The on-premises AD connection (hybrid), without its password. */
  onPremises?: AdConnectionInfo;
  /** Configured outside the database (the sandbox, M365_* variables): read-only here. */
  builtin: boolean;
  createdAt?: string;
  updatedAt?: string;
}

export interface TenantInput {
  name: string;
  displayName?: string;
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  /** PEM with the certificate and its private key. */
  certificate?: string;
  authorityHost?: string;
  graphUrl?: string;
  caPem?: string;
  mailFrom?: string;
  /**
   * The tenant's on-premises AD connection; bindPassword may be left out to keep the current one.
   * null removes it; absent keeps it.
   */
  onPremises?: (Omit<AdConnection, 'bindPassword'> & { bindPassword?: string }) | null;
}

/** Does the runbook (or a loop body in it) have on-premises AD steps? */
export function usesOnPremises(def: Pick<RunbookDefinition, 'nodes'>): boolean {
  const walk = (nodes: RunbookNode[]): boolean =>
    nodes.some((n) => (n.kind === 'action' && isOnPremisesAction(n.action)) || (n.kind === 'forEach' && walk(n.body.nodes as RunbookNode[])));
  return walk(def.nodes);
}

export class Tenants {
  readonly db: Db;
  readonly box: SecretBox;
  readonly builtins: ConnectionWithCertificate[];
  readonly mirrorFile?: string;
  constructor(db: Db, box: SecretBox, builtins: TenantConnection[] = [], mirrorFile?: string) {
    this.db = db;
    this.box = box;
    this.builtins = builtins;
    this.mirrorFile = mirrorFile;
  }

  private info(r: SealedRow): TenantInfo {
    return {
      name: r.name,
      displayName: r.display_name ?? undefined,
      tenantId: r.tenant_id,
      clientId: r.client_id,
      credential: r.certificate_enc ? 'certificate' : r.secret_enc ? 'secret' : 'none',
      authorityHost: r.authority_host ?? undefined,
      graphUrl: r.graph_url ?? undefined,
      mailFrom: r.mail_from ?? undefined,
      onPremises: r.ad_json ? adConnectionInfo({ ...(JSON.parse(r.ad_json) as AdConnection), bindPassword: '' }) : undefined,
      builtin: false,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
    };
  }

  private builtinInfo(c: TenantConnection): TenantInfo {
    return {
      name: c.name,
      displayName: c.name === 'sandbox' ? 'Sandbox tenant (emulated Microsoft 365)' : undefined,
      tenantId: c.tenantId,
      clientId: c.clientId,
      credential: c.certificatePem ? 'certificate' : 'secret',
      authorityHost: c.authorityHost,
      graphUrl: c.graphUrl,
      onPremises: c.onPremises ? adConnectionInfo(c.onPremises) : undefined,
      builtin: true,
    };
  }

  async list(): Promise<TenantInfo[]> {
    const rows = await this.db.query<SealedRow & Record<string, any>>('select * from tenants order by name');
    return [...this.builtins.map((b) => this.builtinInfo(b)), ...rows.filter((r) => !this.builtins.some((b) => b.name === r.name)).map((r) => this.info(r))];
  }

  async get(name: string): Promise<TenantInfo | undefined> {
    const b = this.builtins.find((c) => c.name === name);
    if (b) return this.builtinInfo(b);
    const r = await this.db.one<SealedRow & Record<string, any>>('select * from tenants where name = $1', [name]);
    return r ? this.info(r) : undefined;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.get(name)) !== undefined;
  }

  /** The connection with its secret opened (server-side use only: test connection, pickers, mail). */
  async connection(name: string): Promise<ConnectionWithCertificate | undefined> {
    const b = this.builtins.find((c) => c.name === name);
    if (b) return b;
    const r = await this.db.one<SealedRow & Record<string, any>>('select * from tenants where name = $1', [name]);
    return r ? connectionOf(r, this.box) : undefined;
  }

  /** The name of the tenant's AD connection, if it has one (what a run carries to route its ad steps). */
  async onPremisesName(name: string): Promise<string | undefined> {
    return (await this.get(name))?.onPremises?.name;
  }

  isBuiltin(name: string): boolean {
    return this.builtins.some((b) => b.name === name);
  }

  async upsert(t: TenantInput): Promise<{ info: TenantInfo; created: boolean }> {
    const existed = await this.db.one('select 1 from tenants where name = $1', [t.name]);
    const secret = t.clientSecret ? this.box.seal(t.clientSecret) : null;
    const cert = t.certificate ? this.box.seal(t.certificate) : null;
    // The AD connection: its settings as JSON, its bind password sealed (kept when not given again).
    let adJson: string | null | undefined;
    let adSecret: string | null | undefined;
    if (t.onPremises === null) adJson = adSecret = null;
    else if (t.onPremises) {
      const { bindPassword, ...settings } = t.onPremises;
      adJson = JSON.stringify(settings);
      adSecret = bindPassword ? this.box.seal(bindPassword) : undefined;
    }
    await this.db.query(
      `insert into tenants (name, display_name, tenant_id, client_id, secret_enc, certificate_enc, authority_host, graph_url, ca_pem, mail_from)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       on conflict (name) do update set display_name = excluded.display_name, tenant_id = excluded.tenant_id,
         client_id = excluded.client_id,
         secret_enc = coalesce(excluded.secret_enc, case when excluded.certificate_enc is null then tenants.secret_enc end),
         certificate_enc = coalesce(excluded.certificate_enc, case when excluded.secret_enc is null then tenants.certificate_enc end),
         authority_host = excluded.authority_host, graph_url = excluded.graph_url, ca_pem = excluded.ca_pem,
         mail_from = excluded.mail_from, updated_at = now()`,
      [t.name, t.displayName ?? null, t.tenantId, t.clientId, secret, cert, t.authorityHost ?? null, t.graphUrl ?? null, t.caPem ?? null, t.mailFrom ?? null],
    );
    if (adJson !== undefined) await this.db.query('update tenants set ad_json = $2 where name = $1', [t.name, adJson]);
    if (adSecret !== undefined) await this.db.query('update tenants set ad_secret_enc = $2 where name = $1', [t.name, adSecret]);
    await this.writeMirror();
    return { info: (await this.get(t.name))!, created: !existed };
  }

  async remove(name: string): Promise<boolean> {
    const n = (await this.db.query('delete from tenants where name = $1 returning name', [name])).length;
    await this.writeMirror();
    return n > 0;
  }

  /** Rewrites the sealed mirror the workers read when the database is embedded. */
  async writeMirror(): Promise<void> {
    if (!this.mirrorFile) return;
    const rows = await this.db.query('select name, display_name, tenant_id, client_id, secret_enc, certificate_enc, authority_host, graph_url, ca_pem, mail_from, ad_json, ad_secret_enc from tenants order by name');
    const tmp = `${this.mirrorFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ note: 'tenant connections for workers; secrets sealed with the Tenantflow secret key', tenants: rows }, null, 2), { mode: 0o600 });
    await rename(tmp, this.mirrorFile);
  }

  /** Gets a token and compares its application roles with what the catalog needs. */
  async test(name: string): Promise<TestConnectionResult> {
    const conn = await this.connection(name);
    if (!conn) throw new UnknownTenantError(`tenant ${name} does not exist`);
    return testConnection(conn);
  }
}

export interface TestConnectionResult {
  ok: boolean;
  tokenAcquired: boolean;
  error?: string;
  granted: string[];
  required: string[];
  missing: string[];
}

export async function testConnection(conn: ConnectionWithCertificate): Promise<TestConnectionResult> {
  const required = requiredPermissions();
  let token: string;
  try {
    const t = await credentialFor(conn).getToken('https://graph.microsoft.com/.default');
    if (!t) throw new Error('no token returned');
    token = t.token;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? 'token request failed';
    return { ok: false, tokenAcquired: false, error: message, granted: [], required, missing: required };
  }
  let granted: string[] = [];
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles?: string[] };
    granted = (payload.roles ?? []).slice().sort();
  } catch {
    // An opaque token: the permissions cannot be read from it.
  }
  // A broader permission covers a narrower one (e.g. User.ReadWrite.All covers User.Read.All).
  const covers = (have: string, need: string) =>
    have === need || (have.replace('.ReadWrite.', '.Read.') === need && have.includes('.ReadWrite.')) || (have === 'Directory.ReadWrite.All' && need.endsWith('.Read.All'));
  const missing = required.filter((need) => !granted.some((have) => covers(have, need)));
  return { ok: missing.length === 0, tokenAcquired: true, granted, required, missing };
}
