// Durations as runbooks write them, read by the interpreter workflow as well as the server. Kept
// apart from definition.ts so the workflow bundle does not carry zod: Temporal evaluates a
// workflow bundle's modules again for every workflow run, and building the definition's schemas
// was the largest part of starting a run (forEach and bulk start one per item).

/** The longest duration or wait a runbook may ask for: ten years (a delay, a timeout, an escalation). */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/** Milliseconds of "30s", "5m", "2h", "1d", "250ms", or of a number of milliseconds. */
export function durationMs(d: string | number): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`invalid duration ${d}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}
