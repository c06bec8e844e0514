// The sandbox tenant: a local Microsoft 365 that answers Graph, the identity platform and the
// Exchange admin API the way the real service does, including how it fails.
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { loadOrCreateTls } from './tls.ts';
import { loadOrCreateSigningKey } from './tokens.ts';
import { Runtime } from './runtime.ts';
import { createAdmin, type SandboxAdmin } from './admin.ts';
import { DirectorySync, type DirectorySyncConfig } from './directory-sync.ts';
import { createSandboxServer, type Surface } from './server.ts';
import { registerUserRoutes } from './graph/users.ts';
import { registerExtensionRoutes } from './graph/extensions.ts';
import { registerGroupRoutes } from './graph/groups.ts';
import { registerAdministrativeUnitRoutes } from './graph/administrative-units.ts';
import { registerLicenseRoutes } from './graph/licenses.ts';
import { registerDirectoryRoutes } from './graph/directory.ts';
import { registerDomainRoutes } from './graph/domains.ts';
import { registerAuthenticationRoutes } from './graph/authentication.ts';
import { registerInvitationRoutes } from './graph/invitations.ts';
import { registerMailboxSettingsRoutes } from './graph/mailbox-settings.ts';
import { registerRoleRoutes } from './graph/roles.ts';
import { registerConditionalAccessRoutes } from './graph/conditional-access.ts';
import { registerConditionalAccessPolicyRoutes } from './graph/conditional-access-policies.ts';
import { registerMailRoutes } from './graph/mail.ts';
import { registerEventRoutes } from './graph/events.ts';
import { registerAuditLogRoutes } from './graph/audit-logs.ts';
import { registerApplicationRoutes } from './graph/applications.ts';
import { registerAppRegistrationRoutes } from './graph/app-registrations.ts';
import { registerDeviceRoutes } from './graph/devices.ts';
import { registerAutopilotRoutes } from './graph/autopilot.ts';
import { registerTeamsRoutes } from './graph/teams.ts';
import { registerTeamsAdminRoutes } from './graph/teams-admin.ts';
import { registerSiteRoutes } from './graph/sites.ts';
import { sharepointSurface } from './sharepoint/rest.ts';
import type { FaultConfig } from './faults.ts';
import { createThrottler } from './throttle.ts';
import { batchSurface } from './graph/batch.ts';
import { exchangeSurface } from './exchange/invoke.ts';
import './exchange/mailbox-cmdlets.ts';
import './exchange/permission-cmdlets.ts';
import './exchange/policy-cmdlets.ts';
import './exchange/quarantine-cmdlets.ts';
import './exchange/recipient-cmdlets.ts';
import './exchange/unified-group-cmdlets.ts';
import './exchange/mobile-device-cmdlets.ts';
import './exchange/calendar-cmdlets.ts';

export type { FaultConfig, ScriptedFault } from './faults.ts';
export type { DirectorySyncConfig, DirectorySyncStatus, SyncReport } from './directory-sync.ts';
export type { SandboxAdmin, AppCredentials, LimitsConfig, RequestLogFilter } from './admin.ts';
export type { MutationFilter, MutationRecord, RequestLogEntry } from './requestlog.ts';
export { ALL_PERMISSIONS, GRAPH_PERMISSIONS } from './permissions.ts';
export { SKUS, SKU_BY_PART } from './skus.ts';

export interface SandboxOptions {
  /** 0 / undefined = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Same seed, same tenant (ids, people, credentials). Default 1. */
  seed?: number;
  /** Seeded user count; default 60, up to 100,000. */
  users?: number;
  /** Shrinks every throttling window by this factor (100: a 10 s window lasts 0.1 s). Default 1. */
  timeScale?: number;
  /** Microsoft's published limits; default true. */
  throttling?: boolean;
  /** Load state from / save state to this folder (state.json plus the TLS and token-signing keys). */
  statePath?: string;
  faults?: FaultConfig;
  /** Project an on-premises AD's OUs into the tenant, as Entra Connect would (see directory-sync.ts). */
  directorySync?: DirectorySyncConfig;
  log?: (msg: string) => void;
}

export interface SandboxTenant {
  tenantId: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  displayName: string;
}

export interface Sandbox {
  /** https://127.0.0.1:PORT, also the authorityHost for @azure/identity. */
  url: string;
  /** `${url}/v1.0` (beta at `${url}/beta`). */
  graphBaseUrl: string;
  /** `${url}/adminapi/beta/${tenantId}`: POST /InvokeCommand. */
  exchangeBaseUrl: string;
  /**
   * Where the sandbox serves a SharePoint URL's REST API: https://contoso-admin.sharepoint.com ->
   * ${url}/_sharepoint/contoso-admin.sharepoint.com (append /_api/...). Site URLs keep their real form.
   */
  sharepointUrl(url: string): string;
  /** The CA that signed the sandbox's certificate: pass it to trustSandboxCa. */
  caPem: string;
  /** The demo tenant and its app registration, granted every permission the catalog needs. */
  readonly tenant: SandboxTenant;
  admin: SandboxAdmin;
  close(): Promise<void>;
}

/**
 * Makes this process trust the sandbox's CA for node:https (MSAL) and fetch (the Graph client),
 * on top of the system CAs. No NODE_TLS_REJECT_UNAUTHORIZED needed.
 */
export function trustSandboxCa(caPem: string): void {
  const current = tls.getCACertificates('default');
  if (current.includes(caPem)) return;
  tls.setDefaultCACertificates([...current, caPem]);
}

/** Every Graph area's routes, in one router (also used by $batch). */
function registerGraph(rt: Runtime): void {
  registerUserRoutes(rt.graph);
  registerExtensionRoutes(rt.graph);
  registerGroupRoutes(rt.graph);
  registerAdministrativeUnitRoutes(rt.graph);
  registerLicenseRoutes(rt.graph);
  registerDirectoryRoutes(rt.graph);
  registerDomainRoutes(rt.graph);
  registerAuthenticationRoutes(rt.graph);
  registerInvitationRoutes(rt.graph);
  registerMailboxSettingsRoutes(rt.graph);
  registerRoleRoutes(rt.graph);
  registerConditionalAccessRoutes(rt.graph);
  registerConditionalAccessPolicyRoutes(rt.graph);
  registerMailRoutes(rt.graph);
  registerEventRoutes(rt.graph);
  registerAuditLogRoutes(rt.graph);
  registerAppRegistrationRoutes(rt.graph);
  registerApplicationRoutes(rt.graph);
  registerDeviceRoutes(rt.graph);
  registerAutopilotRoutes(rt.graph);
  registerTeamsRoutes(rt.graph);
  registerTeamsAdminRoutes(rt.graph);
  registerSiteRoutes(rt.graph);
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const log = opts.log ?? (() => {});
  const certs = loadOrCreateTls(opts.statePath);
  const rt = new Runtime(
    {
      seed: opts.seed ?? 1,
      users: Math.min(100_000, opts.users ?? 60),
      timeScale: opts.timeScale ?? 1,
      throttling: opts.throttling ?? true,
      statePath: opts.statePath,
      faults: opts.faults,
      log,
    },
    loadOrCreateSigningKey(opts.statePath),
  );
  registerGraph(rt);
  rt.throttler = createThrottler(rt);
  const surfaces: Surface[] = [batchSurface(), exchangeSurface(), sharepointSurface()];
  const sync = new DirectorySync(rt);
  if (opts.directorySync) sync.configure(opts.directorySync);
  const admin = createAdmin(rt, sync);
  const server = createSandboxServer(rt, admin, certs, surfaces);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  rt.baseUrl = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`sandbox: listening on ${rt.baseUrl}`);

  // With a state folder, writes reach disk within seconds, so a crash keeps the demo tenant.
  let savedAt = rt.log.mutationCount();
  const autosave = opts.statePath
    ? setInterval(() => {
        const now = rt.log.mutationCount();
        if (now === savedAt) return;
        savedAt = now;
        rt.saveState();
      }, 5000).unref()
    : undefined;

  return {
    url: rt.baseUrl,
    graphBaseUrl: `${rt.baseUrl}/v1.0`,
    get exchangeBaseUrl() {
      return `${rt.baseUrl}/adminapi/beta/${rt.demo.tenantId}`;
    },
    sharepointUrl: (url: string) => {
      const u = new URL(url);
      return `${rt.baseUrl}/_sharepoint/${u.host}${u.pathname.replace(/\/$/, '')}`;
    },
    caPem: certs.caPem,
    get tenant() {
      return { ...rt.demo };
    },
    admin,
    close: async () => {
      if (autosave) clearInterval(autosave);
      sync.stop();
      rt.saveState();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
