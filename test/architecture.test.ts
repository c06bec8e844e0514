// The import rules of docs/architecture.md, checked on every file: which top-level part may import
// which, and no import cycle anywhere (between parts or between files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What each part may import besides itself; `type:` entries may be imported for types only. */
const ALLOWED: Record<string, string[]> = {
  m365: [],
  catalog: [],
  runbook: ['catalog'],
  workflows: ['runbook', 'catalog'],
  worker: ['m365', 'catalog', 'runbook', 'workflows'],
  server: ['m365', 'catalog', 'runbook', 'workflows'],
  /** The typed API client: the contract's types, nothing of the server at run time. */
  'api-client': ['type:server'],
  designer: ['runbook', 'catalog', 'api-client', 'type:server'],
  cli: ['runbook', 'catalog', 'api-client', 'type:server'],
  sandbox: [],
};
/** Parts that wire everything together and may import anything. */
const FREE = new Set(['scripts', 'test', 'bench']);

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
  line: number;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.') || name === 'data') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

export function importEdges(files: string[]): Edge[] {
  const edges: Edge[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[3] ?? m[4]!;
      const line = text.slice(0, m.index).split('\n').length;
      edges.push({ from: relative(root, file), to: relative(root, resolve(dirname(file), spec)), typeOnly: !!m[2], line });
    }
  }
  return edges;
}

const part = (p: string) => p.split('/')[0]!;
const files = sourceFiles(root).filter((f) => Object.hasOwn(ALLOWED, part(relative(root, f))) || FREE.has(part(relative(root, f))));
const edges = importEdges(files);

function cycles(nodes: Iterable<string>, next: (n: string) => Iterable<string>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return found;
}

test('each part imports only the parts below it (docs/architecture.md)', () => {
  assert.ok(edges.length > 200, `the import scan found only ${edges.length} imports: the pattern is broken`);
  const bad: string[] = [];
  for (const e of edges) {
    const from = part(e.from);
    const to = part(e.to);
    if (from === to || FREE.has(from)) continue;
    const allowed = ALLOWED[from] ?? [];
    if (allowed.includes(to) || (e.typeOnly && allowed.includes(`type:${to}`))) continue;
    bad.push(`${e.from}:${e.line} imports ${e.to}${e.typeOnly ? ' (types)' : ''}: ${from}/ may import ${allowed.join(', ') || 'nothing outside itself'}`);
  }
  assert.deepEqual(bad, []);
});

test('the server never imports the worker and the worker never imports the server', () => {
  const crossing = edges.filter((e) => (part(e.from) === 'server' && part(e.to) === 'worker') || (part(e.from) === 'worker' && part(e.to) === 'server'));
  assert.deepEqual(crossing.map((e) => `${e.from}:${e.line} -> ${e.to}`), []);
});

test('no import cycle between parts or between files', () => {
  const byFile = new Map<string, Set<string>>();
  const byPart = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!byFile.has(e.from)) byFile.set(e.from, new Set());
    byFile.get(e.from)!.add(e.to);
    const [a, b] = [part(e.from), part(e.to)];
    if (a !== b && !FREE.has(a)) {
      if (!byPart.has(a)) byPart.set(a, new Set());
      byPart.get(a)!.add(b);
    }
  }
  assert.deepEqual(cycles(byPart.keys(), (n) => byPart.get(n) ?? []), [], 'parts import each other');
  assert.deepEqual(cycles(byFile.keys(), (n) => byFile.get(n) ?? []), [], 'files import each other (move the shared types into a leaf file)');
});

test('docs/architecture.md states the same rules', () => {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  for (const [name, allowed] of Object.entries(ALLOWED)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${name}/\` |`));
    assert.ok(row, `docs/architecture.md has no row for ${name}/`);
    const cell = row.split('|')[2]!;
    const stated = [...cell.matchAll(/`([a-z0-9-]+)`( for types only)?/g)].map((m) => (m[2] ? `type:${m[1]}` : m[1]!));
    assert.deepEqual(stated.sort(), [...allowed].sort(), `docs/architecture.md: what ${name}/ may import`);
  }
});

test('the rule checker catches a forbidden import', () => {
  // A server file that reaches into the worker must be reported: the check above is not vacuous.
  const probe = [{ from: 'server/x.ts', to: 'worker/graph.ts', typeOnly: false, line: 1 }];
  const reported = probe.filter((e) => !(ALLOWED[part(e.from)] ?? []).includes(part(e.to)));
  assert.equal(reported.length, 1);
  assert.deepEqual(cycles(['a', 'b'], (n) => (n === 'a' ? ['b'] : ['a'])), [['a', 'b']]);
});
