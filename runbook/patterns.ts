// Regular expressions that people type (a runbook input's `pattern`) run on RE2, a linear-time
// engine: no pattern can make matching take exponential time (e.g. ^(a+)+$ on "aaaa…!"), wherever
// it runs — the server, the designer's form or the worker. RE2 refuses backreferences and
// lookaround, which is said at publish time.
import { RE2JS } from 're2js';

export type PatternCheck = { ok: true; test(value: string): boolean } | { ok: false; error: string };

const cache = new Map<string, PatternCheck>();

/** Compiles a user-supplied pattern; `test` searches like RegExp.prototype.test (anchor with ^ and $). */
export function userPattern(pattern: string): PatternCheck {
  let c = cache.get(pattern);
  if (!c) {
    try {
      const re = RE2JS.compile(pattern);
      c = { ok: true, test: (value: string) => re.matcher(value).find() };
    } catch (err) {
      c = { ok: false, error: `"${pattern}" is not a valid regular expression (RE2 syntax: no backreferences or lookaround): ${(err as Error).message}` };
    }
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, c);
  }
  return c;
}
