// Fault injection: random failure rates, added latency, replication lag, and scripted one-off
// failures ("the next 2 POST /users answer 503", "apply the next write, then drop the connection").
import { createRng, type Rng } from './prng.ts';

export interface ScriptedFault {
  /** 429, 503, 504, or 'drop' (close the connection without an answer). */
  status: 429 | 500 | 502 | 503 | 504 | 'drop';
  /** How many matching requests fail; default 1. */
  count?: number;
  /**
   * Regular expression tested against "METHOD /path?query", e.g. "^POST /v1.0/users$" (an Exchange call is
   * "POST /adminapi/InvokeCommand Set-Mailbox"), or one of the names of WRITES: 'graph-writes',
   * 'exchange-writes', 'writes' (either). Default: any Graph or Exchange call. SharePoint REST requests
   * ("POST /_sharepoint/{host}/_api/...") get a scripted fault only when a regular expression matches them.
   */
  match?: string;
  /**
   * true: run the request (its write takes effect) and then fail the answer, like a gateway timeout
   * after the backend committed. The client cannot tell, so its retry must be idempotent.
   */
  afterEffect?: boolean;
  retryAfterSeconds?: number;
}

/** Verbs of the Exchange cmdlets that change something (Get-, Test-, Search-, Export-, Preview- only read). */
export const EXCHANGE_WRITE_VERBS = ['Set', 'Add', 'Remove', 'New', 'Enable', 'Disable', 'Clear', 'Release', 'Delete', 'Update', 'Start', 'Stop', 'Suspend', 'Resume', 'Grant', 'Revoke', 'Restore', 'Undo', 'Import', 'Install', 'Uninstall', 'Register', 'Unregister', 'Block', 'Unblock'] as const;

/**
 * Named matches for scripted faults ("lose the answer of the next write, whichever it is"): Graph's
 * writing methods, and InvokeCommand of a writing cmdlet, by its CmdletInput.CmdletName (the sandbox
 * tests the name as it registered it, so "set-mailbox" matches too).
 */
export const WRITES = {
  'graph-writes': '^(POST|PATCH|PUT|DELETE) /(v1\\.0|beta)/',
  'exchange-writes': `^POST /adminapi/InvokeCommand (${EXCHANGE_WRITE_VERBS.join('|')})-`,
  writes: `^(POST|PATCH|PUT|DELETE) /(v1\\.0|beta)/|^POST /adminapi/InvokeCommand (${EXCHANGE_WRITE_VERBS.join('|')})-`,
} as const;

const matchOf = (match: string): RegExp => new RegExp(Object.hasOwn(WRITES, match) ? WRITES[match as keyof typeof WRITES] : match);

export interface FaultConfig {
  /** Probability (0..1) that a Graph / Exchange request answers 429 with Retry-After. */
  rate429?: number;
  rate503?: number;
  rate504?: number;
  /** Probability that the connection is closed without an answer. */
  dropRate?: number;
  /** Added to every Graph / Exchange answer. */
  latencyMs?: number;
  /** A new directory object answers 404 for this many seconds after it is created, as Entra replicas do. */
  replicationLagSeconds?: number;
  /** Retry-After sent with injected 429 / 503; default 1. */
  retryAfterSeconds?: number;
  /** Only requests whose "METHOD /path?query" matches this regular expression get the random faults. */
  match?: string;
  /** Seed of the fault dice, so a fault run can be replayed. */
  seed?: number;
  scripted?: ScriptedFault[];
}

export interface FaultDecision {
  status: number | 'drop';
  afterEffect: boolean;
  retryAfterSeconds: number;
  reason: string;
}

export class Faults {
  config: FaultConfig = {};
  private scripted: (ScriptedFault & { remaining: number; re?: RegExp })[] = [];
  private rng: Rng = createRng(1);
  private matchRe?: RegExp;

  set(config: FaultConfig): void {
    const { scripted, ...rest } = config;
    this.config = rest;
    this.rng = createRng(config.seed ?? 1);
    this.matchRe = config.match ? matchOf(config.match) : undefined;
    this.scripted = [];
    for (const s of scripted ?? []) this.script(s);
  }

  /** Merges into the current configuration (admin PATCH semantics). */
  update(partial: FaultConfig): void {
    const { scripted, ...rest } = partial;
    this.set({ ...this.config, ...rest });
    for (const s of scripted ?? []) this.script(s);
  }

  script(fault: ScriptedFault): void {
    this.scripted.push({ ...fault, remaining: fault.count ?? 1, re: fault.match ? matchOf(fault.match) : undefined });
  }

  get latencyMs(): number {
    return this.config.latencyMs ?? 0;
  }

  get replicationLagMs(): number {
    return (this.config.replicationLagSeconds ?? 0) * 1000;
  }

  /** A scripted fault whose pattern explicitly matches (no catch-all, no dice): used for $batch envelopes. */
  decideScripted(target: string): FaultDecision | undefined {
    return this.takeScripted(target, true);
  }

  private takeScripted(target: string, explicitOnly: boolean): FaultDecision | undefined {
    for (const s of this.scripted) {
      if (s.remaining <= 0 || (s.re ? !s.re.test(target) : explicitOnly)) continue;
      s.remaining--;
      this.scripted = this.scripted.filter((x) => x.remaining > 0);
      return { status: s.status, afterEffect: s.afterEffect ?? false, retryAfterSeconds: s.retryAfterSeconds ?? this.config.retryAfterSeconds ?? 1, reason: `scripted:${s.status}` };
    }
    return undefined;
  }

  /** Decides whether this request fails on purpose; consumes a scripted fault when one matches. */
  decide(target: string): FaultDecision | undefined {
    const scripted = this.takeScripted(target, false);
    if (scripted) return scripted;
    if (this.matchRe && !this.matchRe.test(target)) return undefined;
    const c = this.config;
    const retryAfterSeconds = c.retryAfterSeconds ?? 1;
    const roll = (p: number | undefined): boolean => !!p && this.rng.next() < p;
    if (roll(c.dropRate)) return { status: 'drop', afterEffect: false, retryAfterSeconds, reason: 'fault:drop' };
    if (roll(c.rate429)) return { status: 429, afterEffect: false, retryAfterSeconds, reason: 'fault:429' };
    if (roll(c.rate503)) return { status: 503, afterEffect: false, retryAfterSeconds, reason: 'fault:503' };
    if (roll(c.rate504)) return { status: 504, afterEffect: false, retryAfterSeconds, reason: 'fault:504' };
    return undefined;
  }

  snapshot(): FaultConfig {
    return { ...this.config, scripted: this.scripted.map(({ re: _re, remaining, ...s }) => ({ ...s, count: remaining })) };
  }
}
