// Expressions between steps, in JSONata (deterministic: it runs inside the workflow).
// In parameters an expression is written "{{ inputs.upn }}"; a parameter that is exactly one
// expression keeps its JSON type, one that mixes text and expressions becomes a string.
// Condition and delay-until fields are bare JSONata.
import jsonata from 'jsonata';

export interface ExpressionContext {
  inputs: Record<string, unknown>;
  steps: Record<string, { output?: unknown; status?: string }>;
  run: Record<string, unknown>;
  item?: unknown;
}

const WHOLE = /^\s*\{\{([\s\S]+?)\}\}\s*$/;
const PART = /\{\{([\s\S]+?)\}\}/g;

type Compiled = ReturnType<typeof jsonata>;
const cache = new Map<string, Compiled>();

function compile(expr: string): Compiled {
  let c = cache.get(expr);
  if (!c) {
    c = jsonata(expr);
    cache.set(expr, c);
  }
  return c;
}

export async function evaluate(expr: string, ctx: ExpressionContext): Promise<unknown> {
  const result = await compile(expr).evaluate(ctx);
  return normalize(result);
}

/** JSONata returns arrays with a hidden `sequence` flag and may return functions: keep plain JSON. */
function normalize(v: unknown): unknown {
  if (v === undefined || v === null) return v;
  if (typeof v === 'function') return undefined;
  return JSON.parse(JSON.stringify(v));
}

/** Resolve every "{{ }}" in a parameter value (objects and arrays are walked). */
export async function resolveTemplate(value: unknown, ctx: ExpressionContext): Promise<unknown> {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && !whole[1]!.includes('}}')) return evaluate(whole[1]!, ctx);
    if (!value.includes('{{')) return value;
    let out = '';
    let last = 0;
    for (const m of value.matchAll(PART)) {
      out += value.slice(last, m.index);
      const v = await evaluate(m[1]!, ctx);
      out += v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      last = m.index! + m[0].length;
    }
    return out + value.slice(last);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(await resolveTemplate(v, ctx));
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveTemplate(v, ctx);
    return out;
  }
  return value;
}

export function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('{{');
}

/** Every expression inside a parameter value, with the JSON path of the field that holds it. */
export function templateExpressions(value: unknown, path: string[] = []): { path: string[]; expr: string }[] {
  if (typeof value === 'string') return [...value.matchAll(PART)].map((m) => ({ path, expr: m[1]!.trim() }));
  if (Array.isArray(value)) return value.flatMap((v, i) => templateExpressions(v, [...path, String(i)]));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => templateExpressions(v, [...path, k]));
  return [];
}

export interface ExpressionInfo {
  error?: string;
  steps: string[];
  inputs: string[];
}

/** Parses an expression and lists the steps and inputs it reads (for the validator). */
export function inspectExpression(expr: string): ExpressionInfo {
  let ast: unknown;
  try {
    ast = jsonata(expr).ast();
  } catch (err) {
    const e = err as { message?: string; position?: number };
    return { error: `${e.message ?? String(err)}${e.position !== undefined ? ` (at character ${e.position})` : ''}`, steps: [], inputs: [] };
  }
  const steps = new Set<string>();
  const inputs = new Set<string>();
  walk(ast, (node) => {
    if (node.type !== 'path' || !Array.isArray(node.steps)) return;
    const [first, second] = node.steps as { type?: string; value?: unknown }[];
    if (first?.type !== 'name' || second?.type !== 'name' || typeof second.value !== 'string') return;
    if (first.value === 'steps') steps.add(second.value);
    if (first.value === 'inputs') inputs.add(second.value);
  });
  return { steps: [...steps], inputs: [...inputs] };
}

function walk(node: unknown, visit: (n: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
    return;
  }
  if (!node || typeof node !== 'object') return;
  visit(node as Record<string, unknown>);
  for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v, visit);
}
