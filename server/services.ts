// What every route needs, built once per app from its dependencies.
import type { TenantConnection } from '../m365/tenants.ts';
import { Audit } from './audit.ts';
import { Batches, StoredLists } from './batches.ts';
import type { SecretBox } from '../m365/secret-box.ts';
import type { Db } from './db.ts';
import type { OidcSettings } from './oidc.ts';
import { People } from './people.ts';
import { Runbooks } from './runbooks.ts';
import { RunRecords } from './run-records.ts';
import { Tenants } from './tenants.ts';
import type { Runs } from './temporal.ts';
import { catalog } from '../catalog/index.ts';
import { sealDefinitionSecrets } from '../runbook/secrets.ts';

export interface AppDeps {
  db: Db;
  runs: Runs;
  secretBox: SecretBox;
  /** Tenant connection used when a run names none. */
  defaultTenant: string;
  /** Connections configured outside the database (the sandbox, M365_* variables). */
  builtinTenants?: TenantConnection[];
  /** The sealed tenant mirror the workers read in embedded mode. */
  tenantMirrorFile?: string;
  /** The designer's built files. */
  staticDir?: string;
  /** Mark cookies Secure (behind HTTPS). */
  secureCookies?: boolean;
  oidc?: OidcSettings;
  /** How often live streams poll Temporal (ms). */
  pollMs?: number;
  /** Check every JSON answer against its response schema (tests): one that does not fit is a 500. */
  checkResponses?: boolean;
  /** The workers' Prometheus /metrics URLs, for the throttle gates' live rates on the dashboard. */
  workerMetrics?: string[];
  /** https://... where Microsoft reaches this server: Graph triggers subscribe to change notifications (docs/triggers.md). */
  publicUrl?: string;
  /** The clock date triggers and trigger schedules run on (tests move it; default Date.now). */
  triggerClock?: () => number;
}

export interface Services {
  deps: AppDeps;
  db: Db;
  runs: Runs;
  people: People;
  runbooks: Runbooks;
  tenants: Tenants;
  audit: Audit;
  /** Durable run records (server/run-records.ts). */
  records: RunRecords;
  /** CSV bulk runs and their rows (server/batches.ts). */
  batches: Batches;
  /** Long list inputs a forEach pages instead of carrying them (server/batches.ts). */
  lists: StoredLists;
}

export function services(deps: AppDeps): Services {
  const audit = new Audit(deps.db);
  return {
    deps,
    db: deps.db,
    runs: deps.runs,
    people: new People(deps.db),
    runbooks: new Runbooks(deps.db, (d) => sealDefinitionSecrets(deps.secretBox, d, (id) => catalog.get(id)?.secretFields)),
    tenants: new Tenants(deps.db, deps.secretBox, deps.builtinTenants ?? [], deps.tenantMirrorFile),
    audit,
    records: new RunRecords(deps.db, deps.runs, audit),
    batches: new Batches(deps.db),
    lists: new StoredLists(deps.db),
  };
}
