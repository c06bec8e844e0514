// What the hybrid tests share: the run's Samba AD DC (started once by scripts/test.ts, or here when
// a file runs alone), the sandbox tenant with its directory sync agent pointed at the DC, a cloud
// worker and an on-premises worker (its own task queue, its own AD connection), and an LDAP reader
// that reads objects back as an administrator's tool would. Nothing stands in for AD or Temporal.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { NativeConnection } from '@temporalio/worker';
import { Client as Ldap, type Entry } from 'ldapts';
import type { AdConnection } from '../m365/ad-connection.ts';
import { secretBox } from '../m365/secret-box.ts';
import { staticTenantDirectory, type TenantConnection } from '../m365/tenants.ts';
import { catalog } from '../catalog/index.ts';
import { sealRunSecrets } from '../runbook/secrets.ts';
import type { RunbookDefinitionInput, RunState, StepError } from '../runbook/definition.ts';
import { createOnPremisesWorker, createWorker } from '../worker/worker.ts';
import { sambaUnavailable, startSambaDc, type SambaDc } from '../scripts/samba.ts';
import { sharedWorkflowBundle, startTestEnv, type TestEnv } from './harness.ts';

export interface DcInfo {
  connection: AdConnection;
  admin: { user: string; password: string };
  seeded: SambaDc['seeded'];
  host: string;
}

let ownDc: Promise<SambaDc> | undefined;

/** Why the AD tests cannot run here (pass as { skip }), or undefined. */
export const adSkip: string | undefined = process.env.TENANTFLOW_TEST_AD_SKIP ?? (process.env.TENANTFLOW_TEST_AD ? undefined : sambaUnavailable());

async function dcInfo(): Promise<DcInfo> {
  if (process.env.TENANTFLOW_TEST_AD) return JSON.parse(process.env.TENANTFLOW_TEST_AD) as DcInfo;
  ownDc ??= startSambaDc();
  const dc = await ownDc;
  return { connection: dc.connection, admin: dc.admin, seeded: dc.seeded, host: dc.host };
}

export async function stopOwnDc(): Promise<void> {
  if (ownDc) await (await ownDc).stop();
}

export interface StepResult {
  status: string;
  attempts: number;
  output: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  error?: StepError;
}

export interface AdEnv extends TestEnv {
  dc: DcInfo;
  /** The on-premises worker's AD connection (a per-file name, so its task queue is this file's own). */
  ad: AdConnection;
  /** One ad.* (or any) action as the single step of a runbook; secret fields travel sealed. */
  run(action: string, params: Record<string, unknown>, opts?: { maximumAttempts?: number }): Promise<StepResult>;
  /** Starts a whole runbook on the sandbox tenant with its AD connection (inputs sealed as the server seals them). */
  startRunbook(def: RunbookDefinitionInput, inputs: Record<string, unknown>): Promise<{ id: string; result(): Promise<RunState> }>;
  /** Reads an object back over LDAPS as the domain's administrator (DN, or a filter under the base). */
  read(dnOrFilter: string, attributes?: string[]): Promise<Entry | undefined>;
  /** Binds as someone: null when AD accepts, else its error message. */
  bindAs(user: string, password: string): Promise<string | null>;
  /** A unique short name (sAMAccountName-safe, ≤ 20 characters). */
  uniq(tag: string): string;
  upnSuffix: string;
  /** Runs one directory sync cycle now (Entra Connect's Start-ADSyncSyncCycle). */
  sync(): Promise<void>;
}

export function ok(r: { status: string; error?: unknown }): void {
  assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
}

export async function startAdEnv(
  opts: {
    syncIntervalMs?: number;
    /** The on-premises worker's AD connection made from the DC's (e.g. through test/ldap-fault-proxy.ts); test reads still go straight to the DC. */
    connection?: (ad: AdConnection, dc: DcInfo) => AdConnection | Promise<AdConnection>;
  } = {},
): Promise<AdEnv> {
  const dc = await dcInfo();
  const direct: AdConnection = { ...dc.connection, name: `corp-${randomUUID().slice(0, 8)}` };
  const ad: AdConnection = opts.connection ? await opts.connection(direct, dc) : direct;
  const env = await startTestEnv({
    worker: false,
    sandbox: {
      directorySync: {
        url: `ldaps://${dc.host}:636`,
        bindDn: dc.connection.bindUser,
        bindPassword: dc.connection.bindPassword,
        caPem: dc.connection.caPem,
        scopes: dc.connection.syncOus ?? [dc.seeded.rootOu],
        domain: dc.connection.domain,
        intervalMs: opts.syncIntervalMs ?? 0,
      },
    },
  });
  const box = secretBox(randomBytes(32));
  const tenant: TenantConnection = { ...env.tenant, onPremises: ad };
  const connection = await NativeConnection.connect({ address: env.address });
  const cloud = await createWorker({ connection, namespace: env.namespace, taskQueue: env.taskQueue, tenants: staticTenantDirectory([tenant]), secrets: box, workflowBundle: sharedWorkflowBundle() });
  const onprem = await createOnPremisesWorker({ connection, namespace: env.namespace, ad, secrets: box });
  const running = [cloud.run(), onprem.run()];

  const ldap = async <T>(fn: (c: Ldap) => Promise<T>): Promise<T> => {
    const c = new Ldap({ url: `ldaps://${dc.host}:636`, tlsOptions: { ca: [dc.connection.caPem!] } });
    try {
      await c.bind(dc.admin.user, dc.admin.password);
      return await fn(c);
    } finally {
      await c.unbind().catch(() => {});
    }
  };
  const close = env.close;
  const start = async (def: RunbookDefinitionInput, inputs: Record<string, unknown>) => {
    const parsed = (await import('../runbook/definition.ts')).RunbookDefinition.parse(def);
    const sealed = sealRunSecrets(box, parsed, inputs, (a) => catalog.get(a)?.secretFields);
    const id = await env.runs.start({ definition: sealed.definition, inputs: sealed.inputs, run: { startedBy: 'operator@tenantflow.test', tenant: 'sandbox', runbookId: 'test', version: 1, onPremises: ad.name } });
    const h = env.client.workflow.getHandle(id);
    return { id, result: () => h.result() as Promise<RunState> };
  };
  return Object.assign(env, {
    dc,
    ad,
    upnSuffix: dc.connection.upnSuffix ?? env.sandbox.tenant.domain,
    async run(action: string, params: Record<string, unknown>, o: { maximumAttempts?: number } = {}): Promise<StepResult> {
      const h = await start(
        {
          name: `action ${action}`,
          nodes: [
            { id: 'step', kind: 'action', action, params, onError: 'continue', retry: { initialInterval: '100ms', maximumAttempts: o.maximumAttempts ?? 3 } },
            { id: 'end', kind: 'end' },
          ],
          edges: [{ source: 'step', target: 'end' }],
        },
        {},
      );
      const node = (await h.result()).nodes['step']!;
      return { status: node.status, attempts: node.attempts, output: node.output, error: node.error };
    },
    startRunbook: start,
    read: (dnOrFilter: string, attributes?: string[]) =>
      ldap(async (c) => {
        const isFilter = dnOrFilter.startsWith('(');
        try {
          const r = await c.search(isFilter ? dc.seeded.rootOu.split(',').slice(1).join(',') : dnOrFilter, {
            scope: isFilter ? 'sub' : 'base',
            filter: isFilter ? dnOrFilter : '(objectClass=*)',
            attributes,
            explicitBufferAttributes: ['objectGUID', 'objectSid'],
          });
          return r.searchEntries[0];
        } catch (err) {
          if ((err as { code?: number }).code === 32) return undefined;
          throw err;
        }
      }),
    async bindAs(user: string, password: string) {
      const c = new Ldap({ url: `ldaps://${dc.host}:636`, tlsOptions: { ca: [dc.connection.caPem!] } });
      try {
        await c.bind(user, password);
        return null;
      } catch (err) {
        return (err as Error).message;
      } finally {
        await c.unbind().catch(() => {});
      }
    },
    uniq: (tag: string) => `${tag.slice(0, 11)}.${randomUUID().slice(0, 8)}`,
    async sync() {
      await env.sandbox.admin.directorySync.run();
    },
    async close() {
      cloud.shutdown();
      onprem.shutdown();
      await Promise.all(running);
      await connection.close();
      await close();
    },
  });
}
