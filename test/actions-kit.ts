// What the action tests share: the test environment with a worker that also knows a second tenant
// connection ("limited", an app registration missing permissions), and
// run(): one action as the single step of a runbook on real Temporal, through the real activity
// wrapper, against the sandbox.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { NativeConnection } from '@temporalio/worker';
import type { StepError } from '../runbook/definition.ts';
import type { Sealer } from '../runbook/secrets.ts';
import { staticTenantDirectory, type TenantConnection } from '../m365/tenants.ts';
import { createWorker } from '../worker/worker.ts';
import { sharedWorkflowBundle, startTestEnv, type TestEnv } from './harness.ts';
import type { SandboxOptions } from '../sandbox/index.ts';

export interface StepResult {
  status: string;
  attempts: number;
  // Outputs are whatever the action's output schema says; tests read them loosely.
  output: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  error?: StepError;
  /** The run's whole Temporal history as text, payloads decoded, for "this secret is nowhere" checks. */
  history(): Promise<string>;
}

/** JSON of a Temporal history with every payload decoded as UTF-8 text, so a text search sees what it carries. */
function historyText(history: unknown): string {
  // fetchHistory() gives payload bytes as base64 strings under "data".
  return JSON.stringify(history, (k, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    return k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v;
  });
}

export interface ActionsEnv extends TestEnv {
  domain: string;
  /** A connection to an app registration granted only these permissions. */
  limited: TenantConnection;
  /** The demo app signing in with a certificate ("sandbox-cert"): SharePoint REST refuses secret-based tokens. */
  certificate: TenantConnection;
  run(action: string, params: Record<string, unknown>, opts?: { tenant?: string; maximumAttempts?: number }): Promise<StepResult>;
  /** A fresh user principal name in the tenant's domain. */
  upn(tag: string): string;
  /** Creates a user through user.create (usage location US) and returns its id and UPN. */
  newUser(tag: string, extra?: Record<string, unknown>): Promise<{ id: string; userPrincipalName: string }>;
}

export function ok(r: { status: string; error?: unknown }): void {
  assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
}

export async function startActionsEnv(opts: { limitedPermissions?: string[]; secrets?: Sealer; sandbox?: SandboxOptions } = {}): Promise<ActionsEnv> {
  const env = await startTestEnv({ worker: false, sandbox: opts.sandbox });
  const app = env.sandbox.admin.createApp({ permissions: opts.limitedPermissions ?? ['User.Read.All'], displayName: 'Tenantflow (limited)' });
  const limited: TenantConnection = { ...env.tenant, name: 'limited', clientId: app.clientId, clientSecret: app.clientSecret };
  const certificate: TenantConnection = { ...env.tenant, name: 'sandbox-cert', clientSecret: '', certificatePem: env.sandbox.admin.createAppCertificate(env.tenant.clientId).pem };
  const connection = await NativeConnection.connect({ address: env.address });
  const worker = await createWorker({
    connection,
    namespace: env.namespace,
    taskQueue: env.taskQueue,
    tenants: staticTenantDirectory([env.tenant, limited, certificate]),
    secrets: opts.secrets,
    workflowBundle: sharedWorkflowBundle(),
  });
  const running = worker.run();
  const close = env.close;
  return Object.assign(env, {
    domain: env.sandbox.tenant.domain,
    limited,
    certificate,
    worker,
    async run(action: string, params: Record<string, unknown>, o: { tenant?: string; maximumAttempts?: number } = {}): Promise<StepResult> {
      const h = await env.start(
        {
          name: `action ${action}`,
          nodes: [
            { id: 'step', kind: 'action', action, params, onError: 'continue', retry: { initialInterval: '100ms', maximumAttempts: o.maximumAttempts ?? 3 } },
            { id: 'end', kind: 'end' },
          ],
          edges: [{ source: 'step', target: 'end' }],
        },
        {},
        { tenant: o.tenant ?? 'sandbox' },
      );
      const node = (await h.result()).nodes['step']!;
      return { status: node.status, attempts: node.attempts, output: node.output, error: node.error, history: async () => historyText(await h.fetchHistory()) };
    },
    upn: (tag: string) => `${tag}.${randomUUID().slice(0, 8)}@${env.sandbox.tenant.domain}`,
    async newUser(this: ActionsEnv, tag: string, extra: Record<string, unknown> = {}) {
      const r = await this.run('user.create', { userPrincipalName: this.upn(tag), displayName: `Test ${tag}`, usageLocation: 'US', ...extra });
      ok(r);
      return r.output as { id: string; userPrincipalName: string };
    },
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
      await close();
    },
  });
}
