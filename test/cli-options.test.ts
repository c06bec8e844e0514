// The CLI's command tree (cli/commands.ts) declares each command's options, and commander refuses
// any other: an option a command's handler in cli/main.ts reads but the tree does not declare could
// never be given. This reads the handlers' source and checks every option they read is declared.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COMMANDS, OPTIONS } from '../cli/commands.ts';

const source = readFileSync(new URL('../cli/main.ts', import.meta.url), 'utf8');
const FLAGS = /(?:str|list|required)\('([a-z-]+)'\)|opt\['([a-z-]+)'\]|opt\.([a-z]+)\b/g;

/** Each `case 'group command':` block of main()'s switch, with the labels that share it. */
function handlers(): { names: string[]; body: string }[] {
  const start = source.indexOf('switch (parsed.name) {');
  const end = source.indexOf('\n    default:', start);
  const out: { names: string[]; body: string }[] = [];
  let labels: string[] = [];
  for (const chunk of source.slice(start, end).split(/\n    case /).slice(1)) {
    const m = /^'([^']+)':([\s\S]*)$/.exec(chunk);
    if (!m) continue;
    labels.push(m[1]!);
    if (m[2]!.trim() === '') continue; // falls through to the next label's block
    out.push({ names: labels, body: m[2]! });
    labels = [];
  }
  return out;
}

describe('CLI options', () => {
  it('every option a command reads is declared for it in the command tree', () => {
    const blocks = handlers();
    assert.ok(blocks.length > 50, `found the handlers (${blocks.length})`);
    const missing: string[] = [];
    for (const { names, body } of blocks) {
      const read = new Set([...body.matchAll(FLAGS)].map((m) => m[1] ?? m[2] ?? m[3]!));
      if (body.includes('inputsFromArgs()')) ['input', 'inputs'].forEach((k) => read.add(k));
      for (const global of ['json', 'output', 'help']) read.delete(global);
      for (const name of names) {
        const spec = COMMANDS[name];
        assert.ok(spec, `${name} is in the command tree`);
        const declared = new Set((spec.options ?? []).map((o) => (o === 'no-publish' ? o : /^--([a-z-]+)/.exec(OPTIONS[o].flags)![1]!)));
        for (const k of read) if (!declared.has(k)) missing.push(`${name} reads --${k}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
