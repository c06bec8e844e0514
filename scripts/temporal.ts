// Finds (or builds once) the Temporal CLI and runs its dev server: the embedded engine of
// `npm start` and of the tests. An external cluster (TEMPORAL_ADDRESS) bypasses all of this.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

/** Cache outside the clone, so every clone on this machine reuses one build. */
export function cacheDir(): string {
  const base = process.env.TENANTFLOW_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tenantflow');
  return base;
}

function onPath(cmd: string): string | undefined {
  const res = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const found = res.stdout.trim();
  return res.status === 0 && found ? found : undefined;
}

/**
 * Order: $TEMPORAL_CLI, the cached build, a `temporal` on PATH, then `go install` into the cache.
 * Returns the binary's path; throws with what to do when none of those is possible.
 */
export function ensureTemporalCli(log: (msg: string) => void = console.log): string {
  const explicit = process.env.TEMPORAL_CLI;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`TEMPORAL_CLI=${explicit} does not exist`);
    return explicit;
  }
  const cached = join(cacheDir(), 'bin', `temporal-${TEMPORAL_CLI_VERSION}`);
  if (existsSync(cached)) return cached;
  const pathCli = onPath('temporal');
  if (pathCli) return pathCli;
  const go = onPath('go');
  if (!go) {
    throw new Error(
      'No Temporal CLI found. Install Go (the CLI is built once with `go install`), put a `temporal` binary on PATH, ' +
        'set TEMPORAL_CLI to one, or point TEMPORAL_ADDRESS at an existing Temporal cluster.',
    );
  }
  const tmpBin = join(cacheDir(), `go-bin-${process.pid}`);
  mkdirSync(join(cacheDir(), 'bin'), { recursive: true });
  log(`tenantflow: building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (once per machine, a few minutes)...`);
  const res = spawnSync(go, ['install', GO_PACKAGE], { stdio: 'inherit', env: { ...process.env, GOBIN: tmpBin } });
  if (res.status !== 0) throw new Error(`go install ${GO_PACKAGE} failed (exit ${res.status})`);
  renameSync(join(tmpBin, 'temporal'), cached);
  rmSync(tmpBin, { recursive: true, force: true });
  return cached;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** File for persistence; in memory when absent. */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  /** No Web UI (tests). */
  headless?: boolean;
  namespace?: string;
  log?: (msg: string) => void;
}

/** Starts `temporal server start-dev` with the project's search attributes and waits until it answers. */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const cli = ensureTemporalCli(opts.log);
  const port = opts.port ?? (await freePort());
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'error'];
  let uiUrl: string | undefined;
  if (opts.headless) {
    args.push('--headless');
  } else {
    const uiPort = opts.uiPort ?? (await freePort());
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  }
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  // One partition per task queue, as deploy/temporal-dynamicconfig.yaml sets for production: each
  // tenant's write budget is a queue whose rate Temporal splits over its partitions, and with
  // several, a partition that runs dry wastes its share.
  args.push('--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1', '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);

  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const address = `127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Temporal dev server exited (${child.exitCode}):\n${output}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Temporal dev server did not start within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await waitForNamespace(address, namespace);
  return {
    address,
    namespace,
    uiUrl,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** The gRPC port opens before the namespace is registered; wait for the namespace itself. */
async function waitForNamespace(address: string, namespace: string): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await connection.close();
  }
}
