// The tenantflow command line against the real server: login with a token or a password,
// runbooks as code, runs, approvals, tenants, audit; and `npx tenantflow` from the project.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pollApi, startApiServer, type ApiServer, type Caller } from './api-harness.ts';
import { reviewRunbook } from './api-suite.ts';
import { startTestEnv, type TestEnv } from './harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let env: TestEnv;
let server: ApiServer;
let dir: string;
let approver: Caller;
let upn: string;

let finishedRun: string;

function cli(config: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return cliWith({}, config, ...args);
}

function cliWith(extra: Record<string, string>, config: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'cli', 'main.ts'), ...args], { env: { ...process.env, ...extra, TENANTFLOW_CONFIG: join(dir, config), TENANTFLOW_URL: '', TENANTFLOW_TOKEN: '' }, cwd: dir }, (err, out, errOut) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

before(async () => {
  env = await startTestEnv();
  server = await startApiServer(env);
  dir = mkdtempSync(join(tmpdir(), 'tenantflow-cli-'));
  approver = await server.as('approver@contoso.test', [{ tenant: 'sandbox', role: 'approver' }]);
  const designer = await server.as('designer@contoso.test', [{ tenant: 'sandbox', role: 'designer' }]);
  const signIn = await cli('designer.json', 'login', '--url', server.base, '--token', designer.token);
  assert.equal(signIn.code, 0, signIn.err);
  assert.equal((await cli('approver.json', 'login', '--url', server.base, '--token', approver.token)).code, 0);
  upn = ((await env.graph.api('/users').top(1).select('userPrincipalName').get()).value[0] as { userPrincipalName: string }).userPrincipalName;
});
after(async () => {
  await server?.close();
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tenantflow CLI', () => {
  it('signs in with a one-time password, replaces it, and saves an API token', async () => {
    const created = await server.admin.call('POST', '/api/users', { email: 'cli.user@contoso.test', grants: [{ tenant: 'sandbox', role: 'viewer' }] });
    const first = await cli('otp.json', 'login', '--url', server.base, '--email', 'cli.user@contoso.test', '--password', created.body.oneTimePassword);
    assert.equal(first.code, 2);
    assert.match(first.err, /one-time password/);
    const ok = await cli('otp.json', 'login', '--url', server.base, '--email', 'cli.user@contoso.test', '--password', created.body.oneTimePassword, '--new-password', 'correct horse battery staple');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /signed in to .* as cli\.user@contoso\.test/);
    const saved = JSON.parse(readFileSync(join(dir, 'otp.json'), 'utf8')) as { token: string };
    assert.match(saved.token, /^tf_/);
    const who = await cli('otp.json', 'whoami', '--json');
    assert.equal(JSON.parse(who.out).user.email, 'cli.user@contoso.test');
    assert.equal((await cli('nobody.json', 'runbooks', 'list')).code, 2);
  });

  it('actions list --json is the catalog', async () => {
    const r = await cli('designer.json', 'actions', 'list', '--json');
    assert.equal(r.code, 0, r.err);
    const actions = JSON.parse(r.out) as { id: string; input: unknown }[];
    assert.ok(actions.length >= 3 && actions.every((a) => a.id && a.input));
  });

  it('runbooks as code: create, validate, publish, export, import, versions', async () => {
    const file = join(dir, 'review.json');
    writeFileSync(file, JSON.stringify(reviewRunbook('CLI review')));
    assert.match((await cli('designer.json', 'runbooks', 'validate', file)).out, /valid/);
    const created = await cli('designer.json', 'runbooks', 'create', file, '--id', 'cli-review');
    assert.equal(created.code, 0, created.err);
    assert.match((await cli('designer.json', 'runbooks', 'publish', 'cli-review', '--comment', 'from the CLI')).out, /published cli-review version 1/);
    assert.match((await cli('designer.json', 'runbooks', 'offer', 'cli-review')).out, /now offered/);
    const exported = join(dir, 'exported.json');
    assert.equal((await cli('designer.json', 'runbooks', 'export', 'cli-review', '--out', exported)).code, 0);
    assert.equal(JSON.parse(readFileSync(exported, 'utf8')).version, 1);
    assert.match((await cli('designer.json', 'runbooks', 'import', exported, '--id', 'cli-review-copy')).out, /imported cli-review-copy as version 1/);
    const list = await cli('designer.json', 'runbooks', 'list');
    assert.match(list.out, /cli-review-copy/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', nodes: [{ id: 'a', kind: 'action', action: 'no.such', params: {} }] }));
    const invalid = await cli('designer.json', 'runbooks', 'validate', bad);
    assert.equal(invalid.code, 1);
    assert.match(invalid.out, /a action: unknown action/);
  });

  it('template gallery: list templates, create a runbook from one, which passes the rules checker', async () => {
    const list = await cli('designer.json', 'runbooks', 'templates', '--json');
    assert.equal(list.code, 0, list.err);
    const ids = (JSON.parse(list.out) as { id: string; description: string }[]);
    assert.ok(ids.some((t) => t.id === 'compromised-account' && t.description.length > 20), list.out);
    const made = await cli('designer.json', 'runbooks', 'new', '--template', 'compromised-account', '--id', 'contain', '--name', 'Contain account');
    assert.equal(made.code, 0, made.err);
    assert.match(made.out, /created contain from template compromised-account/);
    const rb = await approver.call('GET', '/api/runbooks/contain');
    assert.equal(rb.body.draft.name, 'Contain account');
    assert.deepEqual(rb.body.problems, []);
    assert.deepEqual(rb.body.warnings, []);
    const missing = await cli('designer.json', 'runbooks', 'new', '--template', 'nope');
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /no template "nope"/);
  });

  it('runbooks lint: offline Microsoft 365 rule warnings, exit 1 unless --accept-warnings', async () => {
    const U = '{{ inputs.user }}';
    const bad = join(dir, 'strip.json');
    const def = (nodes: unknown[], edges: unknown[] = []) => JSON.stringify({ name: 'Strip', inputs: [{ name: 'user', type: 'user' }], nodes, edges });
    writeFileSync(bad, def([{ id: 'strip', kind: 'action', action: 'licence.removeAll', params: { user: U } }]));
    const warned = await cli('nobody.json', 'runbooks', 'lint', bad);
    assert.equal(warned.code, 1, warned.err);
    assert.match(warned.out, /warning {2}strip \[licence-before-shared-mailbox, high\].*Fix: insert mailbox\.convertToShared before "strip"\..*learn\.microsoft\.com/);
    assert.equal((await cli('nobody.json', 'runbooks', 'lint', bad, '--accept-warnings')).code, 0);
    const json = JSON.parse((await cli('nobody.json', 'runbooks', 'lint', bad, '--json', '--accept-warnings')).out);
    assert.equal(json.warnings[0].fix.action, 'mailbox.convertToShared');
    const good = join(dir, 'secure.json');
    writeFileSync(good, def(
      [{ id: 'block', kind: 'action', action: 'user.disableSignIn', params: { user: U } }, { id: 'revoke', kind: 'action', action: 'user.revokeSessions', params: { user: U } }],
      [{ source: 'block', target: 'revoke' }],
    ));
    const clean = await cli('nobody.json', 'runbooks', 'lint', good);
    assert.equal(clean.code, 0, clean.out + clean.err);
    assert.match(clean.out, /no problems, no warnings/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, def([{ id: 'x', kind: 'action', action: 'no.such', params: {} }]));
    const failed = await cli('nobody.json', 'runbooks', 'lint', broken, '--accept-warnings');
    assert.equal(failed.code, 1);
    assert.match(failed.out, /problem {2}x action: unknown action "no\.such"/);
  });

  it('runs and approvals: start, inbox, approve, show; bad input names the field', async () => {
    const bad = await cli('designer.json', 'runs', 'start', 'cli-review', '--input', 'user=nobody', '--input', 'days=x');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /inputs\.user/);
    assert.match(bad.err, /inputs\.days/);
    const started = await cli('designer.json', 'runs', 'start', 'cli-review', '--input', `user=${upn}`, '--json');
    assert.equal(started.code, 0, started.err);
    const id = JSON.parse(started.out).id as string;
    await pollApi(approver, `/api/runs/${id}`, (r) => r.status === 'waiting-approval');
    const inbox = await cli('approver.json', 'approvals', 'list', '--json');
    assert.ok((JSON.parse(inbox.out) as { runId: string }[]).some((i) => i.runId === id));
    const self = await cli('designer.json', 'approvals', 'approve', id, 'approve');
    assert.equal(self.code, 2);
    const ok = await cli('approver.json', 'approvals', 'approve', id, 'approve', '--comment', 'fine by me');
    assert.equal(ok.code, 0, ok.err);
    await pollApi(approver, `/api/runs/${id}`, (r) => r.status === 'succeeded');
    finishedRun = id;
    const show = await cli('designer.json', 'runs', 'show', id);
    assert.match(show.out, /succeeded/);
    assert.match(show.out, /decision on approve: approve by approver@contoso\.test .* "fine by me"/);
    const runs = await cli('designer.json', 'runs', 'list', '--runbook', 'cli-review', '--json');
    assert.ok((JSON.parse(runs.out).runs as { id: string }[]).some((r) => r.id === id));
  });

  it('bulk from a CSV file shows the per-row report', async () => {
    const csv = join(dir, 'rows.csv');
    writeFileSync(csv, `user,days\n${upn},1\nnot-a-user,2\n`);
    const r = await cli('designer.json', 'runs', 'bulk', 'cli-review', csv);
    assert.equal(r.code, 1);
    assert.match(r.out, /line 3: error\n\s+user: User must be a user principal name/);
    assert.match(r.out, /1 good row\(s\), 1 bad; 0 run\(s\) started/);
  });

  it('tenants and audit (admin)', async () => {
    assert.equal((await cli('admin.json', 'login', '--url', server.base, '--token', server.admin.token)).code, 0);
    const tenants = await cli('admin.json', 'tenants', 'list');
    assert.match(tenants.out, /sandbox/);
    const test = await cli('admin.json', 'tenants', 'test', 'sandbox', '--json');
    assert.equal(JSON.parse(test.out).tokenAcquired, true);
    const csv = await cli('admin.json', 'audit', '--action', 'runbook.published', '--csv');
    assert.match(csv.out, /^id,at,actor,action/);
    assert.match(csv.out, /designer@contoso\.test,runbook\.published,cli-review/);
    assert.equal((await cli('designer.json', 'audit')).code, 2);
  });

  it('runs watch shows the steps done and ends with the run\'s status and exit code', async () => {
    const w = await cli('designer.json', 'runs', 'watch', finishedRun);
    assert.equal(w.code, 0, w.err);
    assert.match(w.out, /steps (\d+)\/\1 done/);
    assert.match(w.out, new RegExp(`${finishedRun} +succeeded`));
    const j = await cli('designer.json', 'runs', 'watch', finishedRun, '--output', 'json');
    assert.equal(j.code, 0, j.err);
    assert.equal(JSON.parse(j.out).status, 'succeeded');
  });

  it('runs watch on a terminal draws a progress bar of the steps, then the run', async () => {
    // util-linux `script` gives the CLI a pseudo-terminal, as a person at a terminal has.
    const command = [process.execPath, join(root, 'cli', 'main.ts'), 'runs', 'watch', finishedRun].map((a) => `'${a}'`).join(' ');
    const tty = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile('script', ['-qec', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', TENANTFLOW_CONFIG: join(dir, 'designer.json'), TENANTFLOW_URL: '', TENANTFLOW_TOKEN: '' }, cwd: dir }, (err, out) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out }),
      ),
    );
    assert.equal(tty.code, 0, tty.out);
    assert.match(tty.out, /█+ steps (\d+)\/\1 done {2}succeeded/, 'the bar, full, with the status');
    assert.match(tty.out, new RegExp(`${finishedRun} +succeeded`), 'then the run as runs show prints it');
  });

  it('--output json parses for every command group; a wrong --output is named', async () => {
    assert.equal((await cli('admin.json', 'login', '--url', server.base, '--token', server.admin.token)).code, 0);
    const groups = [
      ['whoami'], ['actions', 'list'], ['runbooks', 'list'], ['runs', 'list'], ['runs', 'show', finishedRun], ['approvals', 'list'],
      ['schedules', 'list'], ['tenants', 'list'], ['users', 'list'], ['tokens', 'list'], ['audit', '--limit', '5'], ['audit', 'verify'],
    ];
    for (const args of groups) {
      const r = await cli('admin.json', ...args, '--output', 'json');
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.doesNotThrow(() => JSON.parse(r.out), `${args.join(' ')} printed: ${r.out.slice(0, 200)}`);
    }
    const wrong = await cli('admin.json', 'runs', 'list', '--output', 'xml');
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /--output takes json or text, got "xml"/);
  });

  it('runs batch --wait: a progress bar of rows done of total on stderr, then the outcome and its exit code', async () => {
    const csv = join(dir, 'good.csv');
    writeFileSync(csv, `user,days\n${upn},1\n`);
    const started = await cli('designer.json', 'runs', 'bulk', 'cli-review', csv, '--output', 'json');
    assert.equal(started.code, 0, started.err);
    const bulk = JSON.parse(started.out) as { batch: string };
    // The batch runs its rows in the background: the row's run, once it waits for its approver.
    const row = await pollApi(approver, `/api/batches/${bulk.batch}/rows`, (r) => Boolean(r.rows?.[0]?.runId));
    const runId: string = row.rows[0].runId;
    await pollApi(approver, `/api/runs/${runId}`, (r) => r.status === 'waiting-approval');
    assert.equal((await approver.call('POST', `/api/runs/${runId}/approvals/approve`, { decision: 'approve' })).status, 202);
    const w = await cli('designer.json', 'runs', 'batch', bulk.batch, '--wait');
    assert.equal(w.code, 0, w.err);
    assert.match(w.err, /1\/1 row\(s\) done, [\d.]+\/s {2}1 succeeded/);
    assert.match(w.out, new RegExp(`${bulk.batch} +succeeded +1 row`));
    const j = await cli('designer.json', 'runs', 'batch', bulk.batch, '--wait', '--output', 'json');
    assert.equal(j.code, 0, j.err);
    assert.equal(JSON.parse(j.out).status, 'succeeded');
    assert.equal(j.err, '');
  });

  it('colours: on when forced, none at all under NO_COLOR', async () => {
    const ESC = String.fromCharCode(27) + '[';
    const forced = await cliWith({ FORCE_COLOR: '1' }, 'designer.json', 'runs', 'show', finishedRun);
    assert.equal(forced.code, 0, forced.err);
    assert.ok(forced.out.includes(ESC), 'FORCE_COLOR paints the statuses');
    const plain = await cliWith({ FORCE_COLOR: '1', NO_COLOR: '1' }, 'designer.json', 'runs', 'show', finishedRun);
    assert.equal(plain.code, 0, plain.err);
    assert.ok(!plain.out.includes(ESC) && !plain.err.includes(ESC), plain.out);
    assert.match(plain.out, /succeeded/);
    // A CI variable alone (no terminal) leaves the output plain: logs and pipes get no escape codes.
    const piped = await cliWith({ CI: 'true', FORCE_COLOR: '', NO_COLOR: '' }, 'designer.json', 'runs', 'show', finishedRun);
    assert.equal(piped.code, 0, piped.err);
    assert.ok(!piped.out.includes(ESC), piped.out);
  });

  it('completion prints a bash and a zsh script', async () => {
    const bash = await cli('nobody.json', 'completion', 'bash');
    assert.equal(bash.code, 0, bash.err);
    assert.match(bash.out, /complete -F _tenantflow tenantflow/);
    assert.match(bash.out, /runs\) words="list start bulk/);
    const check = await new Promise<number>((resolve) => {
      const p = execFile('bash', ['-n'], (err) => resolve(err ? 1 : 0));
      p.stdin!.end(bash.out);
    });
    assert.equal(check, 0, 'bash -n accepts the script');
    const zsh = await cli('nobody.json', 'completion', 'zsh');
    assert.match(zsh.out, /bashcompinit/);
    const bad = await cli('nobody.json', 'completion', 'fish');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /completion takes bash or zsh/);
    assert.match(bash.out, /"runs start"\) words="[^"]*--accept-warnings/, 'each command completes its own options');
  });

  it('refuses an unknown option or a missing argument by name (exit 2), and explains one command with --help', async () => {
    const typo = await cli('designer.json', 'runs', 'start', 'onboarding', '--tennant', 'sandbox');
    assert.equal(typo.code, 2);
    assert.match(typo.err, /unknown option '--tennant'[\s\S]*Did you mean --tenant\?/);
    const missing = await cli('designer.json', 'runs', 'show');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /missing required argument 'run'/);
    const help = await cli('nobody.json', 'runs', 'start', '--help');
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, /Usage: tenantflow runs start \[options\] <runbook>/);
    assert.match(help.out, /--input <name=value> +an input value \(repeatable\)/);
  });

  it('npx tenantflow runs the command from the project', async () => {
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile('npx', ['--no-install', 'tenantflow', '--help'], { cwd: root, env: { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` } }, (err, out) => resolve({ code: err ? 1 : 0, out })),
    );
    assert.equal(r.code, 0);
    assert.match(r.out, /tenantflow runs start RUNBOOK/);
  });
});
