// The CLI's command tree, parsed by commander: each command's arguments and options are declared
// once here, so commander refuses an unknown option or a missing argument (naming it, with a
// "did you mean"), prints per-command help, and the shell completion is generated from the same tree.
import { Command, CommanderError, Help, Option } from 'commander';

/** Every option some command takes, in the words `--help` shows. */
export const OPTIONS = {
  url: { flags: '--url <url>', about: 'the Tenantflow server, e.g. http://127.0.0.1:3000' },
  token: { flags: '--token <token>', about: 'an API token (from the designer or `tokens create`)' },
  email: { flags: '--email <email>', about: 'sign in with this account' },
  password: { flags: '--password <password>', about: 'its password (or $TENANTFLOW_PASSWORD; asked when missing)' },
  'new-password': { flags: '--new-password <password>', about: 'replaces a one-time password (at least 12 characters)' },
  'accept-warnings': { flags: '--accept-warnings', about: 'exit 0 when the outcome has warnings' },
  template: { flags: '--template <id>', about: 'the template (`runbooks templates` lists them)' },
  input: { flags: '--input <name=value>', about: 'an input value (repeatable)', many: true },
  inputs: { flags: '--inputs <file>', about: 'a JSON file of input values' },
  tenant: { flags: '--tenant <name>', about: 'the tenant (default: your only one)' },
  owner: { flags: '--tenant <name>', about: 'the tenant that owns the runbook (default: your only one)' },
  test: { flags: '--test', about: 'a test run (marked as such everywhere)' },
  wait: { flags: '--wait', about: 'follow it to the end; the exit code tells the outcome' },
  watch: { flags: '--watch', about: 'follow it to the end with a progress bar' },
  rows: { flags: '--rows <status>', about: 'also list the rows with this status (all, failed, ...)' },
  concurrency: { flags: '--concurrency <n>', about: 'rows run at once' },
  'skip-bad-rows': { flags: '--skip-bad-rows', about: 'start the good rows even when others are bad' },
  'dry-run': { flags: '--dry-run', about: 'check the file only; start nothing' },
  runbook: { flags: '--runbook <id>', about: 'only this runbook' },
  status: { flags: '--status <status>', about: 'only this status' },
  requester: { flags: '--requester <email>', about: 'only runs started by this person' },
  'page-size': { flags: '--page-size <n>', about: 'rows per page' },
  node: { flags: '--node <step>', about: 'retry from this step' },
  latest: { flags: '--latest', about: 'the latest published version instead of the run\'s own' },
  comment: { flags: '--comment <text>', about: 'a comment kept with the decision or version' },
  cron: { flags: '--cron <expression>', about: 'a cron expression (repeatable)', many: true },
  filter: { flags: '--filter <jsonata>', about: 'which events start a run' },
  every: { flags: '--every <interval>', about: 'an interval such as 1d or 6h (repeatable)', many: true },
  at: { flags: '--at <time>', about: 'once, at this date and time' },
  timezone: { flags: '--timezone <zone>', about: 'an IANA time zone for cron' },
  overlap: { flags: '--overlap <policy>', about: 'skip, buffer-one, allow-all, ...' },
  start: { flags: '--start <time>', about: 'not before this time' },
  end: { flags: '--end <time>', about: 'not after this time' },
  id: { flags: '--id <id>', about: 'the new runbook\'s id' },
  name: { flags: '--name <name>', about: 'a display name' },
  version: { flags: '--version <n>', about: 'the version (default: latest)' },
  out: { flags: '--out <file>', about: 'write to this file instead of stdout' },
  'no-publish': { flags: '--no-publish', about: 'import as a draft' },
  'tenant-id': { flags: '--tenant-id <guid>', about: 'the Entra tenant id' },
  'client-id': { flags: '--client-id <guid>', about: 'the app registration\'s client id' },
  secret: { flags: '--secret <secret>', about: 'its client secret' },
  'secret-stdin': { flags: '--secret-stdin', about: 'read the client secret from stdin' },
  certificate: { flags: '--certificate <pem>', about: 'a PEM file with its certificate and key' },
  grant: { flags: '--grant <tenant:role>', about: 'a role on a tenant (repeatable)', many: true },
  action: { flags: '--action <action>', about: 'only this action' },
  actor: { flags: '--actor <email>', about: 'only this actor' },
  target: { flags: '--target <text>', about: 'only this target' },
  q: { flags: '--q <text>', about: 'search text' },
  limit: { flags: '--limit <n>', about: 'at most this many' },
  csv: { flags: '--csv', about: 'as CSV' },
  offset: { flags: '--offset <n>', about: 'start at this row' },
  reason: { flags: '--reason <text>', about: 'why (kept in the audit log)' },
} satisfies Record<string, { flags: string; about: string; many?: boolean }>;
type OptionName = keyof typeof OPTIONS;

type Spec = { about: string; args?: string[]; options?: OptionName[] };
const run: OptionName[] = ['input', 'inputs', 'tenant', 'test'];

/** Every command: `group command` (or one word), its arguments (`<required>`, `[optional]`) and options. */
export const COMMANDS: Record<string, Spec> = {
  login: { about: 'sign in and save an API token', options: ['url', 'token', 'email', 'password', 'new-password'] },
  logout: { about: 'forget the saved token' },
  whoami: { about: 'who you are and your roles' },
  'actions list': { about: 'the action catalog' },

  'runbooks list': { about: 'runbooks, archived ones too' },
  'runbooks show': { about: 'a runbook with its draft', args: ['<id>'] },
  'runbooks versions': { about: 'its published versions', args: ['<id>'] },
  'runbooks diff': { about: 'what changed between two versions', args: ['<id>', '<from>', '[to]'] },
  'runbooks create': { about: 'a new runbook from a definition file', args: ['<file>'], options: ['id', 'owner'] },
  'runbooks push': { about: 'save a definition file as the draft', args: ['<id>', '<file>'] },
  'runbooks validate': { about: 'check a definition on the server', args: ['<file>'] },
  'runbooks templates': { about: 'the template gallery' },
  'runbooks new': { about: 'a new runbook from a template (its sub-runbooks too)', options: ['template', 'name', 'id', 'owner'] },
  'runbooks lint': { about: 'problems and Microsoft 365 rule warnings, offline', args: ['<file>'], options: ['accept-warnings'] },
  'runbooks publish': { about: 'publish the draft as a new version', args: ['<id>'], options: ['comment'] },
  'runbooks archive': { about: 'archive a runbook', args: ['<id>'] },
  'runbooks restore': { about: 'restore an archived runbook', args: ['<id>'] },
  'runbooks offer': { about: 'offer it to operators on the help desk', args: ['<id>'] },
  'runbooks withdraw': { about: 'withdraw it from the help desk', args: ['<id>'] },
  'runbooks clone': { about: 'copy a runbook', args: ['<id>'], options: ['name', 'id', 'owner'] },
  'runbooks export': { about: 'a version as a file', args: ['<id>'], options: ['version', 'out'] },
  'runbooks import': { about: 'a runbook from an exported file', args: ['<file>'], options: ['no-publish', 'id', 'owner'] },

  'runs list': { about: 'runs, newest first', options: ['runbook', 'status', 'tenant', 'requester', 'q', 'page-size'] },
  'runs start': { about: 'start a run', args: ['<runbook>'], options: [...run, 'reason', 'wait', 'accept-warnings'] },
  'runs bulk': { about: 'one run per CSV row, as a batch', args: ['<runbook>', '<csv>'], options: ['tenant', 'skip-bad-rows', 'dry-run', 'concurrency', 'watch', 'wait', 'accept-warnings'] },
  'runs plan': { about: 'what a run would change, before it runs', args: ['<runbook>', '[csv]'], options: [...run, 'offset', 'limit'] },
  'runs undo': { about: 'a draft runbook that undoes a finished run', args: ['<run>'] },
  'runs show': { about: 'a run with its steps and decisions', args: ['<run>'] },
  'runs watch': { about: 'follow a run to its end', args: ['<run>'], options: ['accept-warnings'] },
  'runs cancel': { about: 'cancel a run', args: ['<run>'] },
  'runs retry': { about: 'retry a failed run', args: ['<run>'], options: ['node'] },
  'runs resume': { about: 'retry, skip or abort a paused step', args: ['<run>', '<step>', '<action>'] },
  'runs rerun': { about: 'run again with the same inputs', args: ['<run>'], options: ['latest'] },
  'runs evidence': { about: 'the evidence pack (HTML, or JSON with --json)', args: ['<run>'], options: ['out'] },
  'runs batch': { about: 'a bulk batch and its rows', args: ['<batch>'], options: ['watch', 'wait', 'rows', 'accept-warnings'] },
  'runs batch-retry': { about: 'retry the failed rows of a batch', args: ['<batch>'] },
  'runs retention': { about: 'how long finished runs are kept (days or "forever")', args: ['[days]'] },

  audit: { about: 'the audit log', options: ['action', 'actor', 'target', 'q', 'limit', 'tenant', 'csv'] },
  'audit verify': { about: 'check the hash chain here; names the first broken link' },

  'approvals list': { about: 'approvals waiting for you' },
  'approvals approve': { about: 'approve a step', args: ['<run>', '<step>'], options: ['comment'] },
  'approvals reject': { about: 'reject a step', args: ['<run>', '<step>'], options: ['comment'] },

  'schedules list': { about: 'schedules with their next runs' },
  'schedules show': { about: 'a schedule', args: ['<id>'] },
  'schedules create': { about: 'run a runbook on a schedule', args: ['<runbook>'], options: ['input', 'inputs', 'cron', 'every', 'at', 'timezone', 'tenant', 'overlap', 'start', 'end'] },
  'schedules pause': { about: 'pause a schedule', args: ['<id>'] },
  'schedules resume': { about: 'resume a schedule', args: ['<id>'] },
  'schedules trigger': { about: 'run a schedule now', args: ['<id>'] },
  'schedules delete': { about: 'delete a schedule', args: ['<id>'] },

  'triggers list': { about: 'triggers and how often they fired' },
  'triggers show': { about: 'a trigger', args: ['<id>'] },
  'triggers firings': { about: 'what a trigger received and started', args: ['<id>'] },
  'triggers plans': { about: "a date trigger's plan per user (due day, status, run)", args: ['<id>'] },
  'triggers create-webhook': { about: 'a signed webhook that starts a runbook', args: ['<runbook>'], options: ['input', 'inputs', 'filter', 'tenant'] },
  'triggers pause': { about: 'pause a trigger', args: ['<id>'] },
  'triggers resume': { about: 'resume a trigger', args: ['<id>'] },
  'triggers rotate-secret': { about: 'a new signing secret (the old one stops working)', args: ['<id>'] },
  'triggers delete': { about: 'delete a trigger', args: ['<id>'] },

  'tenants list': { about: 'connected tenants' },
  'tenants show': { about: 'a tenant', args: ['<name>'] },
  'tenants add': { about: 'connect a tenant', args: ['<name>'], options: ['tenant-id', 'client-id', 'secret', 'secret-stdin', 'certificate'] },
  'tenants test': { about: 'get a token and check the permissions', args: ['<name>'] },
  'tenants remove': { about: 'disconnect a tenant', args: ['<name>'] },

  'users list': { about: 'Tenantflow accounts' },
  'users add': { about: 'an account (a one-time password is shown once)', args: ['<email>'], options: ['grant', 'name'] },
  'users grant': { about: 'a role on a tenant', args: ['<email>', '<tenant>', '<role>'] },
  'tokens list': { about: 'your API tokens' },
  'tokens create': { about: 'a new API token (shown once)', args: ['<name>'] },
  'tokens revoke': { about: 'revoke an API token', args: ['<id>'] },

  completion: { about: 'a shell completion script: eval "$(tenantflow completion bash)"', args: ['<shell>'] },
};

/** What a command's handler gets: the words it was called with (`runs start ID` → ['runs', 'start', 'ID'])
 *  and its options by their long names (`accept-warnings`, `no-publish`, ...), global ones included. */
export type Parsed = { name: string; positionals: string[]; opt: Record<string, unknown> };

function optionOf(name: OptionName): Option {
  const o = OPTIONS[name] as { flags: string; about: string; many?: boolean };
  const option = new Option(o.flags, o.about);
  return o.many ? option.argParser((value: string, prev: string[] | undefined) => [...(prev ?? []), value]) : option;
}

/** Commander's own help for each command; the overview (`tenantflow --help`) is the hand-written one. */
class CliHelp extends Help {
  readonly overview: string;
  constructor(overview: string) {
    super();
    this.overview = overview;
  }
  override formatHelp(cmd: Command, helper: Help): string {
    return cmd.parent ? super.formatHelp(cmd, helper) : `${this.overview}\n`;
  }
}

/** The command tree; `handle` runs the chosen command. Usage errors exit 2, like the CLI's own. */
export function buildProgram(overview: string, handle: (parsed: Parsed) => Promise<void>): Command {
  const program = new Command('tenantflow')
    .option('--json', 'machine-readable output, nothing else on stdout')
    .option('-o, --output <format>', 'json or text')
    .option('--color', 'colours even when not a terminal')
    .option('--no-color', 'no colours')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(`tenantflow: ${text.replace(/^error: /, '')}`) });
  const help = new CliHelp(overview);
  program.configureHelp({ formatHelp: (cmd, helper) => help.formatHelp(cmd, helper) });
  const groups = new Map<string, Command>();
  const groupOf = (word: string) => {
    let g = groups.get(word);
    if (!g) {
      g = program.command(word).description(`${word} commands`);
      g.exitOverride().configureOutput(program.configureOutput());
      groups.set(word, g);
    }
    return g;
  };
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const [first, second] = name.split(' ') as [string, string | undefined];
    const cmd = second ? groupOf(first).command(second) : (groups.get(first) ?? groupOf(first));
    cmd.description(spec.about).exitOverride().configureOutput(program.configureOutput());
    for (const a of spec.args ?? []) cmd.argument(a);
    for (const o of spec.options ?? []) cmd.addOption(optionOf(o));
    cmd.action(async (...received: unknown[]) => {
      const self = received.at(-1) as Command;
      const given = self.optsWithGlobals();
      const opt: Record<string, unknown> = { json: given.json, output: given.output };
      for (const o of spec.options ?? []) {
        if (o === 'no-publish') opt[o] = given.publish === false;
        else {
          const option = optionOf(o);
          opt[option.long!.replace(/^--/, '')] = given[option.attributeName()];
        }
      }
      const words = (received.slice(0, spec.args?.length ?? 0) as (string | undefined)[]).filter((w): w is string => w !== undefined);
      await handle({ name, positionals: [...name.split(' '), ...words], opt });
    });
  }
  return program;
}

/** Runs the program; a usage error (unknown option or command, missing argument) exits 2, help exits 0. */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    process.exitCode = err.exitCode === 0 || /help/.test(err.code) ? 0 : 2;
  }
}

/** A completion script for bash or zsh (zsh through bashcompinit), from the command tree: groups,
 *  then their commands, then the options of the command being typed. */
export function completionScript(program: Command, shell: string): string | undefined {
  if (shell !== 'bash' && shell !== 'zsh') return undefined;
  const flagsOf = (c: Command) => [...c.options, ...program.options].map((o) => o.long).filter(Boolean).join(' ');
  const top = program.commands.map((c) => c.name());
  const subs = program.commands.filter((g) => g.commands.length).map((g) => `    ${g.name()}) words="${g.commands.map((c) => c.name()).join(' ')}" ;;`);
  const flags = program.commands.flatMap((g) => [
    ...(g.options.length ? [`    "${g.name()} ") words="${flagsOf(g)}" ;;`] : []),
    ...g.commands.map((c) => `    "${g.name()} ${c.name()}") words="${flagsOf(c)}" ;;`),
  ]);
  return [
    `# tenantflow completion: eval "$(tenantflow completion ${shell})" in your shell's rc file`,
    ...(shell === 'zsh' ? ['autoload -U +X bashcompinit && bashcompinit'] : []),
    '_tenantflow() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" words=""',
    `  if [ "$COMP_CWORD" -eq 1 ]; then words="${top.join(' ')} --help"`,
    '  elif [[ "$cur" == -* ]]; then',
    '    local sub="${COMP_WORDS[2]}"; [[ "$sub" == -* ]] && sub=""',
    '    case "${COMP_WORDS[1]} $sub" in',
    ...flags,
    `    *) words="${program.options.map((o) => o.long).join(' ')} --help" ;;`,
    '    esac',
    '  elif [ "$COMP_CWORD" -eq 2 ]; then',
    '    case "${COMP_WORDS[1]}" in',
    ...subs,
    '    esac',
    '  fi',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    'complete -F _tenantflow tenantflow',
  ].join('\n');
}
