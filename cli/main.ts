#!/usr/bin/env node
// `tenantflow`: the control plane from a terminal (runbooks as code, runs, approvals, schedules,
// tenants, people, audit). It speaks only the HTTP API, through the typed client (api-client/),
// with an API token saved by `login`; only `runbooks lint` works offline (the shared validator
// and Microsoft 365 rules checker, so it can run in CI without a server).
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { SingleBar } from 'cli-progress';
import { createColors } from 'picocolors';
import { STATUS_WORDS, type RunStatus } from '../runbook/definition.ts';
import { GENESIS_HASH, verifyChain } from '../runbook/fingerprint.ts';
import { ApiError, createClient, type Answer, type ApiRoute, type ArgList, type Body, type Client } from '../api-client/index.ts';
import { planText, type RunPlan } from '../runbook/plan.ts';
import { validateRunbook } from '../runbook/validate.ts';
import { buildProgram, completionScript, runProgram, type Parsed } from './commands.ts';
import { configPath, loadConfig, saveConfig, type CliConfig } from './config.ts';

const HELP = `tenantflow: Tenantflow from the command line

  tenantflow login --url URL --token TOKEN          use an API token
  tenantflow login --url URL --email EMAIL          sign in with a password (prompted, or TENANTFLOW_PASSWORD);
                     [--new-password P]             a one-time password must be replaced; an API token is saved
  tenantflow logout | whoami

  tenantflow actions list [--json]
  tenantflow runbooks list | show ID | versions ID | diff ID FROM [TO]
  tenantflow runbooks create FILE [--id ID] | push ID FILE | validate FILE | publish ID [--comment C]
  tenantflow runbooks archive ID | restore ID | clone ID [--name N] [--id NEW]
  tenantflow runbooks export ID [--version N|draft] [--out FILE] | import FILE [--id ID] [--no-publish]
  tenantflow runbooks offer ID | withdraw ID              (custom action for operators)
  tenantflow runbooks templates | new --template ID [--id ID] [--name N]   (the template gallery)
  tenantflow runbooks lint FILE [--accept-warnings]       offline: problems and Microsoft 365 rule warnings;
                     exits 1 on problems, and on warnings unless --accept-warnings
  tenantflow runs list [--runbook R] [--status S] [--tenant T] [--requester U] [--q TEXT] [--page-size N]
  tenantflow runs start RUNBOOK [--input name=value]... [--inputs FILE.json] [--tenant T] [--test] [--reason WHY]
                     [--wait [--accept-warnings]]
  tenantflow runs bulk RUNBOOK FILE.csv [--tenant T] [--skip-bad-rows] [--dry-run] [--concurrency N] [--wait [--accept-warnings]]
                     (one batch: answers its id at once; --wait (or --watch) follows it to the end)
  tenantflow runs plan RUNBOOK [FILE.csv] [--input name=value]... [--inputs FILE.json] [--tenant T] [--test]
                     [--offset N] [--limit N]       what a run would change, before it starts (exit 1 if a step would fail)
  tenantflow runs undo ID                           the draft undo runbook of a finished run (publish it, then run it)
  tenantflow runs show ID | watch ID [--accept-warnings] | cancel ID | retry ID [--node N] | rerun ID [--latest]
  tenantflow runs resume ID NODE retry|skip|abort
  tenantflow runs evidence ID [--json] [--out FILE]       (the evidence pack: HTML that prints, or JSON)
  tenantflow runs batch BATCH [--wait] [--rows STATUS,...] (a bulk batch: rows by status, its outcome, its rows;
                     --wait shows rows done of total and the rate until it ends, exit code as for a run)
  tenantflow runs batch-retry BATCH                       (run the batch's failed rows again, only those)
  tenantflow runs retention [DAYS | forever]              (how long run records are kept; admins)
  tenantflow approvals list | approve RUN NODE [--comment C] | reject RUN NODE [--comment C]
  tenantflow schedules list | show ID | pause ID | resume ID | trigger ID | delete ID
  tenantflow schedules create RUNBOOK (--cron EXPR | --every 1h | --at ISO-TIME) [--timezone TZ]
                     [--input name=value]... [--tenant T] [--overlap skip|buffer|allow] [--start ISO] [--end ISO]
  tenantflow triggers list | show ID | firings ID | pause ID | resume ID | rotate-secret ID | delete ID
  tenantflow triggers create-webhook RUNBOOK [--input name=JSONATA]... [--filter JSONATA] [--tenant T]
                     (prints the URL and the signing secret, once; docs/triggers.md)
  tenantflow tenants list | show NAME | test NAME | remove NAME
  tenantflow tenants add NAME --tenant-id ID --client-id ID (--secret S | --secret-stdin | --certificate FILE.pem)
  tenantflow users list | add EMAIL [--grant TENANT:ROLE]... | grant EMAIL TENANT ROLE
  tenantflow tokens list | create NAME | revoke ID
  tenantflow audit [--action A] [--actor U] [--target T] [--q TEXT] [--limit N] [--csv]
  tenantflow audit verify                                 (checks the hash chain here; names the first broken link)
  tenantflow completion bash|zsh                          (shell completion: eval "$(tenantflow completion bash)")

Waiting for a run (runs start --wait, runs watch) exits 0 only when it succeeded: 3 succeeded with
warnings (0 with --accept-warnings), 4 rejected, 5 cancelled, 1 failed, partially failed or timed
out; 2 is a usage or server error. audit verify exits 1 when the chain is broken.
Every command takes --json (or --output json) for machine-readable output, nothing else on stdout;
"tenantflow <group> <command> --help" lists a command's arguments and options.
Colours follow NO_COLOR and are off when the output is not a terminal. Settings: ${'$'}TENANTFLOW_URL and ${'$'}TENANTFLOW_TOKEN
override the saved login (${'$'}TENANTFLOW_CONFIG or ~/.config/tenantflow/config.json).`;

class CliError extends Error {}

// Set from the command line by commander (cli/commands.ts) before a command runs.
let opt: Record<string, unknown> = {};
let positionals: string[] = [];
const str = (k: string) => opt[k] as string | undefined;
/** Colour only on a terminal (or under FORCE_COLOR), never under NO_COLOR. picocolors' own default also
 *  colours whenever a CI variable is set, which would put escape codes into logs and piped output. */
const pc = createColors(!process.env.NO_COLOR && !process.argv.includes('--no-color')
  && (Boolean(process.env.FORCE_COLOR) || process.argv.includes('--color') || Boolean(process.stdout.isTTY)));

/** A run or step status in its colour. */
function paint(status: string, shown: string = status): string {
  if (/^succeeded$|^completed$|^skipped$/.test(status)) return pc.green(shown);
  if (/warning|waiting|paused|running|pending/.test(status)) return pc.yellow(shown);
  if (/failed|rejected|cancelled|timed|error/.test(status)) return pc.red(shown);
  return shown;
}
const list = (k: string) => (opt[k] as string[] | undefined) ?? [];

function settings(): CliConfig {
  const saved = loadConfig();
  const url = process.env.TENANTFLOW_URL || saved?.url;
  const token = process.env.TENANTFLOW_TOKEN || saved?.token;
  if (!url || !token) throw new CliError('not signed in: run `tenantflow login --url http://127.0.0.1:3000 --token ...` (or set TENANTFLOW_URL and TENANTFLOW_TOKEN)');
  return { url, token };
}

let connected: { client: Client; url: string } | undefined;

/** The typed client of the saved (or given) server and token. */
function server(): { client: Client; url: string } {
  if (!connected) {
    const { url, token } = settings();
    connected = { url, client: createClient({ baseUrl: url, headers: () => ({ authorization: `Bearer ${token}` }) }) };
  }
  return connected;
}

/** What the server said, as the CLI reports it: status, message, and each problem with its field. */
function failure(err: unknown, url: string): never {
  if (err instanceof ApiError) {
    const problems = err.problems.length ? '\n' + err.problems.map((p) => `  - ${[p.nodeId, p.field].filter(Boolean).join(' ') || '(request)'}: ${p.message}`).join('\n') : '';
    throw new CliError(`${err.status} ${err.message}${problems}`);
  }
  if (err instanceof TypeError) throw new CliError(`cannot reach ${url}: ${err.message}`);
  throw err;
}

/** A batch in one line: its status and its rows by status. */
function batchLine(b: Answer<'GET /api/batches/:id'>): string {
  const counts = b.counts ?? b.statuses;
  return `${b.batch}  ${STATUS_WORDS[b.status as RunStatus] ?? b.status}  ${b.rows ?? b.runs} row(s): ${Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${STATUS_WORDS[k as RunStatus] ?? k}`).join(', ')}`;
}

async function call<K extends ApiRoute>(route: K, ...args: ArgList<K>): Promise<Answer<K>> {
  const { client, url } = server();
  try {
    return await client.call(route, ...args);
  } catch (err) {
    return failure(err, url);
  }
}

async function text<K extends ApiRoute>(route: K, ...args: ArgList<K>): Promise<string> {
  const { client, url } = server();
  try {
    return await client.text(route, ...args);
  } catch (err) {
    return failure(err, url);
  }
}

function print(data: unknown, human?: () => string): void {
  if (opt.json || !human) console.log(JSON.stringify(data, null, 2));
  else console.log(human());
}

function table(rows: Record<string, unknown>[], cols: string[]): string {
  if (!rows.length) return '(none)';
  const cell = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : String(v));
  const widths = cols.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (vals: string[]) => vals.map((v, i) => v.slice(0, 60).padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

function inputsFromArgs(): Record<string, unknown> {
  const inputs: Record<string, unknown> = str('inputs') ? JSON.parse(readFileSync(str('inputs')!, 'utf8')) : {};
  for (const pair of list('input')) {
    const i = pair.indexOf('=');
    if (i < 1) throw new CliError(`--input takes name=value, got "${pair}"`);
    inputs[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return inputs;
}

const need = (i: number, what: string) => {
  const v = positionals[i];
  if (!v) throw new CliError(`missing ${what} (tenantflow --help)`);
  return v;
};
const readJson = (file: string) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
};

async function readStdin(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) data += chunk;
  return data.trim();
}

async function login(): Promise<void> {
  const url = (str('url') || process.env.TENANTFLOW_URL || loadConfig()?.url || 'http://127.0.0.1:3000').replace(/\/$/, '');
  if (str('token')) {
    saveConfig({ url, token: str('token')! });
  } else {
    const email = str('email') ?? (() => {
      throw new CliError('login needs --token, or --email (and a password)');
    })();
    let password = str('password') ?? process.env.TENANTFLOW_PASSWORD;
    if (!password) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      password = await rl.question(`password for ${email}: `);
      rl.close();
    }
    // Signing in answers with the session cookie; the rest of the way goes with it and its CSRF token.
    let res: Response;
    try {
      res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    } catch (err) {
      throw new CliError(`cannot reach ${url}: ${(err as Error).message}`);
    }
    const signedIn = (await res.json().catch(() => ({}))) as Partial<Answer<'POST /api/auth/login'>> & { error?: string };
    if (!res.ok) throw new CliError(`${res.status} ${signedIn.error ?? ''}`);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const session = createClient({ baseUrl: url, headers: () => ({ cookie, 'x-csrf-token': signedIn.csrfToken }) });
    const as = async <K extends ApiRoute>(route: K, ...args: ArgList<K>) => {
      try {
        return await session.call(route, ...args);
      } catch (err) {
        return failure(err, url);
      }
    };
    if (signedIn.mustChangePassword) {
      const next = str('new-password') ?? process.env.TENANTFLOW_NEW_PASSWORD;
      if (!next) throw new CliError('this is a one-time password: sign in again with --new-password (at least 12 characters)');
      await as('POST /api/auth/password', { body: { currentPassword: password, newPassword: next } });
    }
    const token = await as('POST /api/auth/tokens', { body: { name: `tenantflow CLI on ${hostname()}` } });
    await as('POST /api/auth/logout');
    saveConfig({ url, token: token.token });
  }
  const me = await call('GET /api/auth/me');
  print(me, () => `signed in to ${url} as ${me.user.email} (saved in ${configPath()})`);
}

/** An option the command cannot go without. */
const required = (k: string) => {
  const v = str(k);
  if (!v) throw new CliError(`missing --${k} (tenantflow --help)`);
  return v;
};

async function main(parsed: Parsed): Promise<void> {
  ({ opt, positionals } = parsed);
  // `--output json` is the scripts' spelling of `--json`: machine-readable, nothing else on stdout.
  if (opt.output !== undefined && opt.output !== 'json' && opt.output !== 'text') throw new CliError(`--output takes json or text, got "${String(opt.output)}"`);
  if (opt.output === 'json') opt.json = true;
  const [group, cmd] = positionals;
  switch (parsed.name) {
    case 'login':
      return login();
    case 'logout':
      saveConfig(undefined);
      return print({ signedOut: true }, () => 'signed out (the saved token was forgotten; revoke it with `tenantflow tokens revoke` first if needed)');
    case 'whoami': {
      const me = await call('GET /api/auth/me');
      return print(me, () => `${me.user.email}\n${table(me.grants, ['tenant', 'role', 'scope'].map((c) => c)).replace(/\[object Object\]/g, (m) => m)}`);
    }
    case 'actions list': {
      const actions = await call('GET /api/actions');
      return print(actions, () => table(actions, ['id', 'category', 'title', 'permissions']));
    }

    // ---- runbooks ----
    case 'runbooks list': {
      const rbs = await call('GET /api/runbooks', { query: { archived: 'all' } });
      return print(rbs, () => table(rbs, ['id', 'name', 'latestVersion', 'hasUnpublishedChanges', 'customAction', 'archived']));
    }
    case 'runbooks show':
      return print(await call('GET /api/runbooks/:id', { params: { id: need(2, 'runbook id') } }));
    case 'runbooks versions': {
      const vs = await call('GET /api/runbooks/:id/versions', { params: { id: need(2, 'runbook id') } });
      return print(vs, () => table(vs, ['version', 'publishedAt', 'publishedBy', 'comment']));
    }
    case 'runbooks diff':
      return print(await call('GET /api/runbooks/:id/diff', { params: { id: need(2, 'runbook id') }, query: { from: need(3, 'from version'), to: positionals[4] ?? 'draft' } }));
    case 'runbooks create': {
      const rb = await call('POST /api/runbooks', { body: { definition: readJson(need(2, 'definition file')) as Record<string, unknown>, ...(str('id') ? { id: str('id') } : {}) } });
      return print(rb, () => `created runbook ${rb.id} (draft)`);
    }
    case 'runbooks push': {
      const rb = await call('PUT /api/runbooks/:id/draft', { params: { id: need(2, 'runbook id') }, body: { definition: readJson(need(3, 'definition file')) as Record<string, unknown> } });
      return print(rb, () => `saved the draft of ${rb.id}${rb.problems.length ? `; ${rb.problems.length} problem(s):\n${rb.problems.map((p) => `  - ${p.nodeId ?? ''} ${p.field ?? ''}: ${p.message}`).join('\n')}` : ' (no problems)'}`);
    }
    case 'runbooks validate': {
      const r = await call('POST /api/runbooks/validate', { body: readJson(need(2, 'definition file')), accept: [422] });
      print(r, () => (r.ok ? 'valid' : r.problems.map((p) => `${p.nodeId ?? '(runbook)'} ${p.field ?? ''}: ${p.message}`).join('\n')));
      if (!r.ok) process.exitCode = 1;
      return;
    }
    case 'runbooks templates': {
      const ts = await call('GET /api/templates');
      return print(ts.map(({ id, name, description }) => ({ id, name, description })), () => ts.map((t) => `${t.id}\t${t.name}\n  ${t.description}`).join('\n'));
    }
    case 'runbooks new': {
      const id = required('template');
      const t = (await call('GET /api/templates')).find((x) => x.id === id);
      if (!t) throw new CliError(`no template "${id}" (tenantflow runbooks templates lists them)`);
      const rb = await call('POST /api/templates/:id/runbooks', { params: { id }, body: { ...(str('name') ? { name: str('name') } : {}), ...(str('id') ? { id: str('id') } : {}) } });
      const kids = rb.children.map((c) => `${c.id} v${c.version}${c.created ? ' (created and published)' : ' (already published)'}`);
      return print(rb, () => `created ${rb.id} from template ${id} (a draft: review it, then tenantflow runbooks publish ${rb.id})${kids.length ? `\nsub-runbooks: ${kids.join(', ')}` : ''}`);
    }
    case 'runbooks lint': {
      const r = validateRunbook(readJson(need(2, 'definition file')));
      const { problems, warnings } = r;
      print({ ok: r.ok, problems, warnings }, () =>
        [
          ...problems.map((p) => `${pc.red('problem')}  ${p.nodeId ?? '(runbook)'} ${p.field}: ${p.message}`),
          ...warnings.map((w) => `${pc.yellow('warning')}  ${w.nodeId} [${w.rule}, ${w.severity}]: ${w.message}${w.fix ? ` Fix: ${w.fix.description}.` : ''} (${w.link})`),
          problems.length || warnings.length ? `${problems.length} problem(s), ${warnings.length} warning(s)` : 'no problems, no warnings',
        ].join('\n'),
      );
      if (problems.length || (warnings.length && !opt['accept-warnings'])) process.exitCode = 1;
      return;
    }
    case 'runbooks publish': {
      const v = await call('POST /api/runbooks/:id/publish', { params: { id: need(2, 'runbook id') }, body: str('comment') ? { comment: str('comment') } : {} });
      return print(v, () => `published ${v.runbookId} version ${v.version}`);
    }
    case 'runbooks archive':
    case 'runbooks restore':
      return print(await call('PATCH /api/runbooks/:id', { params: { id: need(2, 'runbook id') }, body: { archived: cmd === 'archive' } }), () => `${cmd === 'archive' ? 'archived' : 'restored'} ${positionals[2]}`);
    case 'runbooks offer':
    case 'runbooks withdraw':
      return print(await call('PATCH /api/runbooks/:id', { params: { id: need(2, 'runbook id') }, body: { customAction: cmd === 'offer' } }), () => `${positionals[2]} is ${cmd === 'offer' ? 'now' : 'no longer'} offered to operators`);
    case 'runbooks clone': {
      const rb = await call('POST /api/runbooks/:id/clone', { params: { id: need(2, 'runbook id') }, body: { ...(str('name') ? { name: str('name') } : {}), ...(str('id') ? { id: str('id') } : {}) } });
      return print(rb, () => `cloned into ${rb.id}`);
    }
    case 'runbooks export': {
      const file = await call('GET /api/runbooks/:id/export', { params: { id: need(2, 'runbook id') }, query: { version: str('version') ?? 'latest' } });
      const out = JSON.stringify(file, null, 2) + '\n';
      if (str('out')) {
        writeFileSync(str('out')!, out);
        return console.error(`wrote ${str('out')}`);
      }
      return void process.stdout.write(out);
    }
    case 'runbooks import': {
      const file = readJson(need(2, 'runbook file')) as Body<'POST /api/runbooks/import'>['file'];
      const r = await call('POST /api/runbooks/import', { body: { file, publish: !opt['no-publish'], ...(str('id') ? { id: str('id') } : {}) } });
      return print(r, () => `imported ${r.id}${r.publishedVersion ? ` as version ${r.publishedVersion}` : ' (draft)'}`);
    }

    // ---- runs ----
    case 'runs list': {
      const r = await call('GET /api/runs', { query: { runbook: str('runbook'), status: str('status'), tenant: str('tenant'), requester: str('requester'), q: str('q'), pageSize: str('page-size') } });
      return print(r, () => table(r.runs, ['id', 'status', 'runbook', 'version', 'tenant', 'startedBy', 'startedAt']) + (r.nextPageToken ? `\n(more: --json for the page token)` : ''));
    }
    case 'runs start': {
      const r = await call('POST /api/runs', { body: { runbookId: need(2, 'runbook id'), inputs: inputsFromArgs(), ...(str('tenant') ? { tenant: str('tenant') } : {}), ...(opt.test ? { test: true } : {}), ...(str('reason') ? { reason: str('reason') } : {}) } });
      if (!opt.wait) return print(r, () => `started ${r.id}`);
      return watch(r.id);
    }
    case 'runs bulk': {
      // A file with problems answers its per-row report too (422).
      const r = await call('POST /api/runs/bulk', {
        body: {
          runbookId: need(2, 'runbook id'),
          csv: readFileSync(need(3, 'CSV file'), 'utf8'),
          ...(str('tenant') ? { tenant: str('tenant') } : {}),
          skipBadRows: Boolean(opt['skip-bad-rows']),
          dryRun: Boolean(opt['dry-run']),
          ...(str('concurrency') ? { concurrency: Number(str('concurrency')) } : {}),
        },
        accept: [422],
      });
      print(r, () =>
        [
          ...r.problems.map((p) => `file: ${p}`),
          ...r.rows.map((row) => `line ${row.line}: ${row.status}${row.runId ? ` ${row.runId}` : ''}${row.problems.map((p) => `\n    ${p.field}: ${p.message}`).join('')}`),
          `${r.summary.ok} good row(s), ${r.summary.bad} bad; ${r.batch ? `${r.started} row(s) queued in batch ${r.batch} (tenantflow runs batch ${r.batch} --watch)` : `${r.started} run(s) started`}`,
        ].join('\n'),
      );
      if (r.started === 0 && !opt['dry-run']) process.exitCode = 1;
      if (r.batch && (opt.watch || opt.wait)) return watchBatch(r.batch);
      return;
    }
    case 'runs plan': {
      const page = str('offset') || str('limit') ? { page: { offset: Number(str('offset') ?? 0), limit: Number(str('limit') ?? 20) } } : {};
      const r = await call('POST /api/runs/plan', {
        body: {
          runbookId: need(2, 'runbook id'),
          ...(positionals[3] ? { csv: readFileSync(positionals[3], 'utf8') } : { inputs: inputsFromArgs() }),
          ...(str('tenant') ? { tenant: str('tenant') } : {}),
          ...(opt.test ? { test: true } : {}),
          ...page,
        },
      });
      if (!('rows' in r)) {
        print(r, () => planText(r as RunPlan));
        if (r.summary.wouldFail > 0 || r.summary.planFailed > 0) process.exitCode = 1;
        return;
      }
      print(r, () =>
        [
          ...r.problems.map((p) => `file: ${p}`),
          ...r.rows.map((row) => (row.plan ? `line ${row.line}:\n${planText(row.plan as RunPlan)}` : `line ${row.line}: not planned: ${row.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`)),
          r.more ? `(${r.more} more row(s): --offset ${r.offset + r.rows.length})` : '',
        ]
          .filter(Boolean)
          .join('\n\n'),
      );
      if (r.rows.some((row) => !row.plan || row.plan.summary.wouldFail > 0 || row.plan.summary.planFailed > 0)) process.exitCode = 1;
      return;
    }
    case 'runs undo': {
      const r = await call('POST /api/runs/:id/undo', { params: { id: need(2, 'run id') } });
      const notUndone = r.notUndone.map((e) => `  - ${e.nodeId} (${e.action}): ${e.reason}`);
      return print(r, () =>
        [
          r.runbookId ? `created the draft runbook ${r.runbookId} (${(r.definition as { nodes?: unknown[] } | undefined)?.nodes?.length ?? 0} step(s)); review it, then: tenantflow runbooks publish ${r.runbookId}` : (r.message ?? 'nothing to undo'),
          ...(notUndone.length ? ['not undone:', ...notUndone] : []),
        ].join('\n'),
      );
    }
    case 'runs show': {
      const r = await call('GET /api/runs/:id', { params: { id: need(2, 'run id') } });
      return print(r, () => describeRun(r));
    }
    case 'runs watch':
      return watch(need(2, 'run id'));
    case 'runs cancel':
      await call('POST /api/runs/:id/cancel', { params: { id: need(2, 'run id') } });
      return print({ cancelling: positionals[2] }, () => `cancelling ${positionals[2]}`);
    case 'runs retry': {
      const r = await call('POST /api/runs/:id/retry', { params: { id: need(2, 'run id') }, body: str('node') ? { nodeId: str('node') } : {} });
      return print(r, () => ('id' in r ? `started ${r.id} (reusing ${r.reused.join(', ') || 'nothing'})` : `retrying step ${r.nodeId}`));
    }
    case 'runs resume': {
      // The server names a wrong action in its answer.
      const action = need(4, 'retry, skip or abort') as Body<'POST /api/runs/:id/resume'>['action'];
      const r = await call('POST /api/runs/:id/resume', { params: { id: need(2, 'run id') }, body: { nodeId: need(3, 'step id'), action } });
      return print(r, () => `${r.action} sent`);
    }
    case 'runs rerun': {
      const r = await call('POST /api/runs/:id/rerun', { params: { id: need(2, 'run id') }, body: { version: opt.latest ? 'latest' : 'pinned' } });
      return print(r, () => `started ${r.id} (version ${r.version})`);
    }
    case 'runs evidence': {
      const id = need(2, 'run id');
      const pack = await text('GET /api/runs/:id/evidence', { params: { id }, query: { format: opt.json ? 'json' : 'html' } });
      if (!str('out')) return void process.stdout.write(pack);
      writeFileSync(str('out')!, pack);
      return console.error(`wrote the evidence pack of ${id} to ${str('out')}`);
    }
    case 'runs batch': {
      const id = need(2, 'batch id');
      if (opt.watch || opt.wait) return watchBatch(id);
      const b = await call('GET /api/batches/:id', { params: { id } });
      print(b, () => batchLine(b));
      if (str('rows')) {
        let after: number | undefined;
        do {
          const page = await call('GET /api/batches/:id/rows', { params: { id }, query: { status: str('rows'), pageSize: '1000', ...(after !== undefined ? { after: String(after) } : {}) } as never });
          for (const row of page.rows) console.log(`line ${row.line}: ${row.status}${row.runId ? ` ${row.runId}` : ''}${row.error ? `  ${row.error}` : ''}`);
          after = page.next;
        } while (after !== undefined);
      }
      if (!['running', 'waiting-approval', 'paused'].includes(b.status)) process.exitCode = exitCodeOf(b.status, Boolean(opt['accept-warnings']));
      return;
    }
    case 'runs batch-retry': {
      const r = await call('POST /api/batches/:id/retry', { params: { id: need(2, 'batch id') } });
      return print(r, () => `retrying ${r.retried} failed row(s) of ${r.batch} (round ${r.round}): tenantflow runs batch ${r.batch} --watch`);
    }
    case 'runs retention': {
      const arg = positionals[2];
      if (arg !== undefined && arg !== 'forever' && !/^\d+$/.test(arg)) throw new CliError('runs retention takes a number of days or "forever"');
      const r: { days: number | null; purged?: number } = arg === undefined ? await call('GET /api/settings/run-retention') : await call('PUT /api/settings/run-retention', { body: { days: arg === 'forever' ? null : Number(arg) } });
      return print(r, () => `finished runs are kept ${r.days === null ? 'forever' : `${r.days} day(s) after they end`}${r.purged ? ` (${r.purged} older record(s) removed)` : ''}`);
    }
    case 'audit verify':
      return verifyAudit();

    // ---- approvals ----
    case 'approvals list': {
      const items = await call('GET /api/approvals');
      return print(items, () => table(items, ['runId', 'nodeId', 'runbookName', 'startedBy', 'message', 'deadline']));
    }
    case 'approvals approve':
    case 'approvals reject': {
      const r = await call('POST /api/runs/:id/approvals/:nodeId', { params: { id: need(2, 'run id'), nodeId: need(3, 'step id') }, body: { decision: cmd === 'approve' ? 'approve' : 'reject', ...(str('comment') ? { comment: str('comment') } : {}) } });
      return print(r, () => `${cmd === 'approve' ? 'approved' : 'rejected'} ${positionals[3]} of ${positionals[2]}`);
    }

    // ---- schedules ----
    case 'schedules list': {
      const r = await call('GET /api/schedules');
      return print(r, () => table(r.map((x) => ({ ...x, next: x.upcoming[0] })), ['id', 'runbookId', 'tenant', 'paused', 'next', 'createdBy']));
    }
    case 'schedules show':
      return print(await call('GET /api/schedules/:id', { params: { id: need(2, 'schedule id') } }));
    case 'schedules create': {
      const r = await call('POST /api/schedules', {
        body: {
          runbookId: need(2, 'runbook id'),
          inputs: inputsFromArgs(),
          ...(list('cron').length ? { cron: list('cron') } : {}),
          ...(list('every').length ? { every: list('every') } : {}),
          ...(str('at') ? { at: new Date(str('at')!).toISOString() } : {}),
          ...(str('timezone') ? { timezone: str('timezone') } : {}),
          ...(str('tenant') ? { tenant: str('tenant') } : {}),
          // The server names a wrong overlap policy in its answer.
          ...(str('overlap') ? { overlap: str('overlap') as Body<'POST /api/schedules'>['overlap'] } : {}),
          ...(str('start') ? { startAt: new Date(str('start')!).toISOString() } : {}),
          ...(str('end') ? { endAt: new Date(str('end')!).toISOString() } : {}),
        },
      });
      return print(r, () => `created ${r.id}; next: ${r.upcoming.slice(0, 3).join(', ') || '(none)'}`);
    }
    case 'schedules pause':
    case 'schedules resume':
    case 'schedules trigger': {
      const op = cmd as 'pause' | 'resume' | 'trigger';
      const r = await call(`POST /api/schedules/:id/${op}`, { params: { id: need(2, 'schedule id') }, body: {} });
      return print(r, () => `${cmd === 'trigger' ? 'triggered' : cmd === 'pause' ? 'paused' : 'resumed'} ${r.id}`);
    }
    case 'schedules delete':
      await call('DELETE /api/schedules/:id', { params: { id: need(2, 'schedule id') } });
      return print({ deleted: positionals[2] }, () => `deleted ${positionals[2]}`);

    // ---- triggers ----
    case 'triggers list': {
      const r = await call('GET /api/triggers');
      return print(r, () => table(r, ['id', 'kind', 'runbookId', 'tenant', 'paused', 'fired', 'lastFiredAt', 'createdBy']));
    }
    case 'triggers show':
      return print(await call('GET /api/triggers/:id', { params: { id: need(2, 'trigger id') } }));
    case 'triggers firings': {
      const r = await call('GET /api/triggers/:id/firings', { params: { id: need(2, 'trigger id') } });
      return print(r, () => table(r, ['at', 'outcome', 'runId', 'eventKey']));
    }
    case 'triggers create-webhook': {
      const mapping: Record<string, string> = {};
      for (const [k, v] of Object.entries(inputsFromArgs())) mapping[k] = String(v);
      const r = await call('POST /api/triggers', {
        body: { kind: 'webhook', runbookId: need(2, 'runbook id'), inputs: mapping, ...(str('filter') ? { filter: str('filter') } : {}), ...(str('tenant') ? { tenant: str('tenant') } : {}) },
      });
      return print(r, () => `created ${r.id}\nPOST ${r.url}\nsecret (shown once): ${r.secret}`);
    }
    case 'triggers pause':
    case 'triggers resume': {
      const op = cmd as 'pause' | 'resume';
      const r = await call(`POST /api/triggers/:id/${op}`, { params: { id: need(2, 'trigger id') }, body: {} });
      return print(r, () => `${op === 'pause' ? 'paused' : 'resumed'} ${r.id}`);
    }
    case 'triggers rotate-secret': {
      const r = await call('POST /api/triggers/:id/rotate-secret', { params: { id: need(2, 'trigger id') } });
      return print(r, () => `new secret for ${r.id} (shown once; the old one no longer works): ${r.secret}`);
    }
    case 'triggers delete':
      await call('DELETE /api/triggers/:id', { params: { id: need(2, 'trigger id') } });
      return console.log(`deleted ${positionals[2]}`);

    // ---- tenants ----
    case 'tenants list': {
      const r = await call('GET /api/tenants');
      return print(r, () => table(r, ['name', 'tenantId', 'clientId', 'credential', 'builtin']));
    }
    case 'tenants show':
      return print(await call('GET /api/tenants/:name', { params: { name: need(2, 'tenant name') } }));
    case 'tenants add': {
      const secret = str('secret') ?? (opt['secret-stdin'] ? await readStdin() : undefined);
      const r = await call('POST /api/tenants', {
        body: {
          name: need(2, 'tenant name'),
          tenantId: required('tenant-id'),
          clientId: required('client-id'),
          ...(secret ? { clientSecret: secret } : {}),
          ...(str('certificate') ? { certificate: readFileSync(str('certificate')!, 'utf8') } : {}),
        },
      });
      return print(r, () => `added tenant ${r.name} (${r.credential}); check it with: tenantflow tenants test ${r.name}`);
    }
    case 'tenants test': {
      const r = await call('POST /api/tenants/:name/test', { params: { name: need(2, 'tenant name') } });
      print(r, () => (r.tokenAcquired ? (r.missing.length ? `token OK; missing permissions:\n${r.missing.map((m) => `  - ${m}`).join('\n')}` : 'token OK; every permission the catalog needs is granted') : `no token: ${r.error}`));
      if (!r.ok) process.exitCode = 1;
      return;
    }
    case 'tenants remove':
      await call('DELETE /api/tenants/:name', { params: { name: need(2, 'tenant name') } });
      return print({ removed: positionals[2] }, () => `removed ${positionals[2]}`);

    // ---- people ----
    case 'users list': {
      const r = await call('GET /api/users');
      return print(r, () => table(r.map((u) => ({ ...u, roles: u.grants.map((g) => `${g.tenant}:${g.role}`) })), ['email', 'name', 'roles', 'groups', 'disabled']));
    }
    case 'users add': {
      // Roles are checked by the server, which names a wrong one in its answer.
      type Role = Body<'POST /api/users/:id/grants'>['role'];
      const grants = list('grant').map((g) => {
        const [tenant = '', role = ''] = g.split(':');
        return { tenant, role: role as Role };
      });
      const r = await call('POST /api/users', { body: { email: need(2, 'email'), grants, ...(str('name') ? { name: str('name') } : {}) } });
      return print(r, () => `created ${r.email}${r.oneTimePassword ? `; one-time password (shown once): ${r.oneTimePassword}` : ''}`);
    }
    case 'users grant': {
      const users = await call('GET /api/users');
      const u = users.find((x) => x.email === need(2, 'email').toLowerCase() || x.id === positionals[2]);
      if (!u) throw new CliError(`no account ${positionals[2]}`);
      const g = await call('POST /api/users/:id/grants', { params: { id: u.id }, body: { tenant: need(3, 'tenant'), role: need(4, 'role') as Body<'POST /api/users/:id/grants'>['role'] } });
      return print(g, () => `granted ${g.role} on ${g.tenant} to ${u.email}`);
    }
    case 'tokens list': {
      const r = await call('GET /api/auth/tokens');
      return print(r, () => table(r, ['id', 'name', 'createdAt', 'lastUsedAt', 'revoked']));
    }
    case 'tokens create': {
      const r = await call('POST /api/auth/tokens', { body: { name: need(2, 'token name') } });
      return print(r, () => `${r.token}\n(shown once; id ${r.id})`);
    }
    case 'tokens revoke':
      await call('DELETE /api/auth/tokens/:id', { params: { id: need(2, 'token id') } });
      return print({ revoked: positionals[2] }, () => `revoked ${positionals[2]}`);

    default:
      if (group === 'completion') {
        const script = completionScript(program, cmd ?? '');
        if (!script) throw new CliError(`completion takes bash or zsh, got "${cmd}"`);
        return void console.log(script);
      }
      if (group === 'audit') {
        const query = { action: str('action'), actor: str('actor'), target: str('target'), q: str('q'), limit: str('limit'), tenant: str('tenant') };
        if (opt.csv) return void process.stdout.write(await text('GET /api/audit', { query: { ...query, format: 'csv' } }));
        const r = await call('GET /api/audit', { query });
        return print(r, () => table(r, ['at', 'actor', 'action', 'target', 'tenant', 'ip']));
      }
      throw new CliError(`unknown command "${positionals.join(' ')}" (tenantflow --help)`);
  }
}

const FINISHED_STEP = /^(succeeded|completed|skipped|failed|rejected|cancelled)/;

function describeRun(r: Answer<'GET /api/runs/:id'>): string {
  const nodes = Object.values(r.nodes);
  return [
    `${r.id}  ${paint(r.status, STATUS_WORDS[r.status as RunStatus] ?? r.status)}  ${r.runbookName ?? r.runbook} v${r.version}  tenant ${r.tenant}  by ${r.startedBy}`,
    r.message ? `  ${r.message}` : '',
    ...(r.warnings ?? []).map((w: string) => `  warning: ${w}`),
    nodes.length ? `  steps ${nodes.filter((n) => FINISHED_STEP.test(n.status)).length}/${nodes.length} done` : '',
    ...nodes.map((n) => `  ${n.id.padEnd(24)} ${paint(n.status)}${n.attempts ? ` (${n.attempts} attempt${n.attempts > 1 ? 's' : ''})` : ''}${n.error ? `  ${n.error.message}` : ''}`),
    ...r.decisions.map((d) => `  decision on ${d.node}: ${d.decision} by ${d.by} at ${d.at}${d.comment ? ` "${d.comment}"` : ''}${d.refused ? ` (refused: ${d.refused})` : ''}`),
    r.temporalUrl ? `  ${r.temporalUrl}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Follows a run to its end. On a terminal: a progress bar on stderr (cli-progress) of the steps done and,
 * for loops, their items done of total and the rate, then the run as `runs show` prints it. Otherwise
 * (logs, pipes): the run printed each time it changes. */
async function watch(id: string): Promise<void> {
  const live = Boolean(process.stderr.isTTY) && !opt.json;
  const began = Date.now();
  const width = 24;
  const bar = live
    ? new SingleBar({
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        format: (_options, params, payload: { status: string; items: string }) => {
          const filled = Math.round(params.progress * width);
          return `${pc.green('█'.repeat(filled))}${pc.dim('░'.repeat(width - filled))} steps ${params.value}/${params.total} done  ${payload.status}${payload.items}`;
        },
      })
    : undefined;
  let last = '';
  let started = false;
  for (;;) {
    const r = await call('GET /api/runs/:id', { params: { id } });
    const ended = !['running', 'waiting-approval', 'paused'].includes(r.status);
    if (bar) {
      const nodes = Object.values(r.nodes);
      const loops = nodes.map((n) => n.progress).filter((p): p is NonNullable<typeof p> => Boolean(p));
      const done = loops.reduce((n, p) => n + p.done, 0);
      const total = loops.reduce((n, p) => n + p.total, 0);
      const payload = {
        status: paint(r.status, STATUS_WORDS[r.status as RunStatus] ?? r.status),
        items: loops.length ? `  items ${done}/${total}, ${(done / Math.max(1, (Date.now() - began) / 1000)).toFixed(1)}/s` : '',
      };
      const finished = nodes.filter((n) => FINISHED_STEP.test(n.status)).length;
      if (!started) bar.start(nodes.length, finished, payload);
      else {
        bar.setTotal(nodes.length);
        bar.update(finished, payload);
      }
      started = true;
      if (ended) bar.stop();
    } else {
      const shown = describeRun(r);
      if (shown !== last && !opt.json) console.log(shown + '\n');
      last = shown;
    }
    if (ended) {
      if (opt.json) print(r);
      else if (bar) console.log(describeRun(r));
      process.exitCode = exitCodeOf(r.status, Boolean(opt['accept-warnings']));
      return;
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

/** Follows a bulk batch to its end: a progress bar of rows done of total and the rate (cli-progress,
 * on stderr so stdout stays the batch's answer: redrawn in place on a terminal, one line a second
 * otherwise), then the outcome and its exit code. */
async function watchBatch(batch: string): Promise<void> {
  const began = Date.now();
  const width = 24;
  const bar = new SingleBar({
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 1000,
    hideCursor: true,
    format: (_options, params, payload: { rate: string; counts: string }) => {
      const filled = Math.round(params.progress * width);
      return `${pc.green('█'.repeat(filled))}${pc.dim('░'.repeat(width - filled))} ${params.value}/${params.total} row(s) done, ${payload.rate}/s  ${payload.counts}`;
    },
  });
  let started = false;
  for (;;) {
    const b = await call('GET /api/batches/:id', { params: { id: batch } });
    const counts: Record<string, number> = b.counts ?? b.statuses;
    const total = b.rows ?? b.runs;
    const open = ['pending', 'running', 'waiting-approval', 'paused'].reduce((n, k) => n + (counts[k] ?? 0), 0);
    const done = total - open;
    const payload = {
      rate: (done / Math.max(1, (Date.now() - began) / 1000)).toFixed(1),
      counts: Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${paint(k, STATUS_WORDS[k as RunStatus] ?? k)}`).join(', '),
    };
    if (!opt.json) {
      if (!started) bar.start(total, done, payload);
      else bar.update(done, payload);
      started = true;
    }
    if (!open && !['running', 'waiting-approval', 'paused'].includes(b.status)) {
      if (started) bar.stop();
      print(b, () => `${b.batch}  ${paint(b.status, STATUS_WORDS[b.status as RunStatus] ?? b.status)}  ${total} row(s)`);
      process.exitCode = exitCodeOf(b.status, Boolean(opt['accept-warnings']));
      return;
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

/** Scripts branch on how a run ended: 0 only for plain success (or warnings, when accepted). */
function exitCodeOf(status: string, acceptWarnings: boolean): number {
  switch (status) {
    case 'succeeded':
      return 0;
    case 'succeeded-with-warnings':
      return acceptWarnings ? 0 : 3;
    case 'rejected':
      return 4;
    case 'cancelled':
      return 5;
    default:
      return 1;
  }
}

/** Pages through the whole audit log and recomputes every link here, trusting nothing the server says about it. */
async function verifyAudit(): Promise<void> {
  let prev = GENESIS_HASH;
  let after = 0;
  let counted = 0;
  let result: ReturnType<typeof verifyChain> = { ok: true, entries: 0, head: GENESIS_HASH };
  for (;;) {
    const page = await call('GET /api/audit/chain', { query: { after, limit: 2000 } });
    if (!page.entries.length) break;
    result = verifyChain(page.entries, prev, counted);
    if (!result.ok) break;
    prev = result.head;
    counted = result.entries;
    after = result.lastId!;
    if (page.next === undefined) break;
  }
  const checked = await call('GET /api/audit/verify');
  const out = { ...result, ...(result.ok ? { head: prev, entries: counted } : {}), protection: checked.protection, serverAgrees: checked.ok === result.ok };
  print(out, () =>
    result.ok
      ? `audit chain intact: ${counted} entries, head ${prev}\n${checked.protection.summary}`
      : `audit chain BROKEN at entry ${result.brokenAt}: ${result.reason}\n  expected ${result.expected}\n  found    ${result.found ?? '(none)'}`,
  );
  if (!result.ok) process.exitCode = 1;
}

const program = buildProgram(HELP, async (parsed) => {
  try {
    await main(parsed);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    console.error(`tenantflow: ${err.message}`);
    process.exitCode = 2;
  }
});
const argv = process.argv.slice(2);
if (!argv.length) console.log(HELP);
else await runProgram(program, argv);
