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
const cache = new Map<string, Budgeted>();

/**
 * The budget of one evaluation, counted in evaluation steps and nesting depth, never in time, so
 * it is deterministic inside the workflow: an expression that loops forever (a recursive function
 * in tail position has no depth) fails its step with a clear message instead of hanging the run.
 */
// Inside Temporal's workflow sandbox JSONata runs slowly (the sandbox tracks every promise): about
// a thousand steps per second on a busy machine, and a workflow task has 5 s. The budget keeps an
// evaluation well inside that, so a runaway expression fails its step instead of the task.
export const EXPRESSION_BUDGET = { steps: 1_500, depth: 300 } as const;

export class ExpressionError extends Error {
  readonly code: string;
  constructor(expr: string, code: string, message: string) {
    super(`expression ${JSON.stringify(expr.trim().slice(0, 120))}: ${message}`);
    this.name = 'ExpressionError';
    this.code = code;
  }
}

/**
 * JSONata checks its guardrails on every evaluation step by reading `options.stack` (the depth
 * limit): reading it through a getter counts the steps synchronously, with no cost beyond the
 * check JSONata does anyway (an entry hook would add an await per step). The count restarts with
 * each evaluate(); evaluations of one expression that interleave share it, which only makes the
 * budget stricter, and stays deterministic.
 */
interface Budgeted {
  expression: Compiled;
  steps: number;
}

function compile(expr: string): Budgeted {
  let c = cache.get(expr);
  if (!c) {
    const budgeted = { steps: 0 } as Budgeted;
    const options = {
      get stack(): number {
        // JSONata reads the limit twice per step (stack > 0, then depth > stack).
        if (++budgeted.steps > 2 * EXPRESSION_BUDGET.steps)
          throw { code: 'TF1001', message: `took more than ${EXPRESSION_BUDGET.steps} evaluation steps (endless recursion?)` };
        return EXPRESSION_BUDGET.depth;
      },
    };
    budgeted.expression = jsonata(expr, options as unknown as { stack: number });
    c = budgeted;
    if (cache.size > 5000) cache.clear();
    cache.set(expr, c);
  }
  return c;
}

/** A field path lookup gave no answer JSONata is sure to agree with: JSONata evaluates it. */
const NOT_PLAIN = Symbol('not a plain field path');

/** JSONata's words, which are not field names in a path. */
const KEYWORDS = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const paths = new Map<string, string[] | null>();

/** The field names of an expression that is only a field path ("inputs.upn"), or null. */
function fieldPath(expr: string): string[] | null {
  let names = paths.get(expr);
  if (names === undefined) {
    const parts = expr.split('.').map((p) => p.trim());
    names = parts.every((p) => NAME.test(p) && !KEYWORDS.has(p)) ? parts : null;
    if (paths.size > 5000) paths.clear();
    paths.set(expr, names);
  }
  return names;
}

/**
 * An expression that is only a field path through plain objects ("inputs.upn",
 * "steps.create.output.id"), read directly: what JSONata answers for it, without JSONata. Inside
 * the workflow JSONata is slow (the sandbox records a stack trace for every promise, and JSONata
 * makes several per step); most parameters are such paths. Anything else (an array on the way,
 * which JSONata maps over; a missing field; an array or nothing at the end) is NOT_PLAIN and
 * goes to JSONata, so the answer is always JSONata's.
 */
function plainField(expr: string, ctx: ExpressionContext): unknown {
  const names = fieldPath(expr);
  if (!names) return NOT_PLAIN;
  let v: unknown = ctx;
  for (const name of names) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, name)) return NOT_PLAIN;
    v = (v as Record<string, unknown>)[name];
  }
  if (v === undefined || typeof v === 'function' || Array.isArray(v)) return NOT_PLAIN;
  return normalize(v);
}

export async function evaluate(expr: string, ctx: ExpressionContext): Promise<unknown> {
  const plain = plainField(expr, ctx);
  if (plain !== NOT_PLAIN) return plain;
  let result: unknown;
  try {
    const c = compile(expr);
    c.steps = 0;
    result = await c.expression.evaluate(ctx);
  } catch (err) {
    // JSONata throws plain objects ({ code, message }); give callers an Error that says which expression.
    const e = err as { code?: string; message?: string };
    if (e?.code === 'D1011') throw new ExpressionError(expr, 'TF1002', `nested deeper than ${EXPRESSION_BUDGET.depth} levels (endless recursion?)`);
    if (e?.code && typeof e.message === 'string') throw new ExpressionError(expr, e.code, e.message);
    throw err;
  }
  return normalize(result);
}

/** JSONata returns arrays with a hidden `sequence` flag and may return functions: keep plain JSON. */
function normalize(v: unknown): unknown {
  if (v === undefined || v === null) return v;
  if (typeof v === 'function') return undefined;
  return JSON.parse(JSON.stringify(v));
}

/** How an expression's value reads inside text: nothing for null or undefined, objects as JSON. */
function partText(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** A parameter value whose every expression is a plain field path, resolved at once; else NOT_PLAIN. */
function resolvePlain(value: unknown, ctx: ExpressionContext): unknown {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return value;
    const whole = WHOLE.exec(value);
    if (whole && !whole[1]!.includes('}}')) return plainField(whole[1]!, ctx);
    let out = '';
    let last = 0;
    for (const m of value.matchAll(PART)) {
      const v = plainField(m[1]!, ctx);
      if (v === NOT_PLAIN) return NOT_PLAIN;
      out += value.slice(last, m.index) + partText(v);
      last = m.index! + m[0].length;
    }
    return out + value.slice(last);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const r = resolvePlain(v, ctx);
      if (r === NOT_PLAIN) return NOT_PLAIN;
      out.push(r);
    }
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = resolvePlain(v, ctx);
      if (r === NOT_PLAIN) return NOT_PLAIN;
      out[k] = r;
    }
    return out;
  }
  return value;
}

/** Resolve every "{{ }}" in a parameter value (objects and arrays are walked). */
export async function resolveTemplate(value: unknown, ctx: ExpressionContext): Promise<unknown> {
  const plain = resolvePlain(value, ctx);
  return plain !== NOT_PLAIN ? plain : resolveEach(value, ctx);
}

async function resolveEach(value: unknown, ctx: ExpressionContext): Promise<unknown> {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && !whole[1]!.includes('}}')) return evaluate(whole[1]!, ctx);
    if (!value.includes('{{')) return value;
    let out = '';
    let last = 0;
    for (const m of value.matchAll(PART)) {
      out += value.slice(last, m.index);
      const v = await evaluate(m[1]!, ctx);
      out += partText(v);
      last = m.index! + m[0].length;
    }
    return out + value.slice(last);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(await resolveEach(v, ctx));
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveEach(v, ctx);
    return out;
  }
  return value;
}

/** Marks where an expression of a message came out empty (a private-use character: never typed). */
const EMPTY = '\uE000';
const SEPARATOR = '[,;/|·–—-]';

/**
 * A message with "{{ }}" parts (an approval's question): as resolveTemplate, but a part that comes
 * out empty (null, undefined, "" or only spaces) is dropped cleanly with the separator, brackets and
 * spaces it leaves behind: "Create an account for Ada Lovelace ({{ jobTitle }}, {{ department }})?"
 * with no job title reads "... Ada Lovelace (Engineering)?", never "(, Engineering)". When no part is
 * empty the text is exactly resolveTemplate's (so runs replay the same). Pure and deterministic.
 */
export async function resolveMessage(template: string, ctx: ExpressionContext): Promise<string> {
  if (!template.includes('{{')) return template;
  let out = '';
  let last = 0;
  let empties = 0;
  for (const m of template.matchAll(PART)) {
    out += template.slice(last, m.index);
    const v = await evaluate(m[1]!, ctx);
    const text = partText(v);
    if (text.trim() === '') {
      out += EMPTY;
      empties++;
    } else out += text;
    last = m.index! + m[0].length;
  }
  out += template.slice(last);
  return empties ? tidyEmptyParts(out) : out;
}

/** Removes the EMPTY marks of resolveMessage with what only made sense around them. */
export function tidyEmptyParts(text: string): string {
  let s = text;
  // "A, ∅" -> "A∅" (a separator before an empty part goes with it) ...
  s = s.replace(new RegExp(`\\s*${SEPARATOR}\\s*${EMPTY}`, 'g'), EMPTY);
  // ... and "(∅, B" -> "(∅B" where the empty part opens a list.
  s = s.replace(new RegExp(`([(\\[]\\s*${EMPTY}+)\\s*${SEPARATOR}\\s*`, 'g'), '$1');
  s = s.replace(new RegExp(`^(\\s*${EMPTY}+)\\s*${SEPARATOR}\\s*`), '$1');
  // Brackets that held only empty parts go, with the space before them.
  s = s.replace(new RegExp(`\\s*[(\\[]\\s*${EMPTY}+\\s*[)\\]]`, 'g'), '');
  // What is left of an empty part: one space between words, none before punctuation or a closing bracket.
  s = s.replace(new RegExp(`[ \\t]*${EMPTY}+[ \\t]*`, 'g'), (match, offset: number, all: string) => {
    const before = all[offset - 1];
    const after = all[offset + match.length];
    const spaced = /[ \t]/.test(match);
    if (!spaced || before === undefined || after === undefined || /[(\[\n]/.test(before) || /[,.;:?!)\]\n]/.test(after)) return '';
    return ' ';
  });
  return s.trim() === '' ? '' : s;
}

export function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('{{');
}

/** Every expression inside a parameter value, with the JSON path of the field that holds it. */
export function templateExpressions(value: unknown, path: string[] = []): { path: string[]; expr: string }[] {
  const found: { path: string[]; expr: string }[] = [];
  collectExpressions(value, path, found);
  return found;
}
// PART's own copy for exec() below, whose lastIndex no matchAll elsewhere starts from.
const PART_SCAN = new RegExp(PART.source, 'g');
// One list filled in place (the validator asks for every parameter of every step); exec() in a
// loop rather than matchAll, which copies the regex for every string.
function collectExpressions(value: unknown, path: string[], found: { path: string[]; expr: string }[]): void {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return;
    PART_SCAN.lastIndex = 0;
    for (let m = PART_SCAN.exec(value); m; m = PART_SCAN.exec(value)) found.push({ path, expr: m[1]!.trim() });
  } else if (Array.isArray(value)) value.forEach((v, i) => collectExpressions(v, [...path, String(i)], found));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) collectExpressions(v, [...path, k], found);
}

export interface ExpressionInfo {
  error?: string;
  steps: string[];
  inputs: string[];
}

// What in a runbook's text could read inputs without naming each one: `inputs` not followed by a
// field name (`$keys(inputs)`, `inputs.*`, `inputs[0]`), the context itself (`$`, `$$`), wildcards.
const WHOLE_INPUTS = /\binputs\b(?!\s*\.\s*[A-Za-z_`])|\$(?![A-Za-z0-9_])|\*/;

/**
 * The inputs a loop body can read, for its items' runs: the run's inputs without the lists and
 * objects whose name appears nowhere in the body (usually the list the loop goes over, which would
 * otherwise travel in the start of every item's run: 600 items of a 600-entry list were 9.6 MB of
 * the loop's history). Conservative: a body that could read the inputs without naming them (see
 * WHOLE_INPUTS) gets them all, and plain values always go (an approval shows them as facts).
 */
export function inputsForBody(body: { nodes: unknown[] }, inputs: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(body.nodes);
  if (WHOLE_INPUTS.test(text)) return inputs;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inputs)) if (value === null || typeof value !== 'object' || text.includes(name)) out[name] = value;
  return out;
}

/** Parses an expression and lists the steps and inputs it reads (for the validator). */
const inspected = new Map<string, ExpressionInfo>();

/** What an expression reads (cached by its text: the editor re-validates the same expressions on every change). */
export function inspectExpression(expr: string): ExpressionInfo {
  const known = inspected.get(expr);
  if (known) return { steps: [...known.steps], inputs: [...known.inputs], ...(known.error !== undefined ? { error: known.error } : {}) };
  const info = inspectUncached(expr);
  if (inspected.size >= 5000) inspected.delete(inspected.keys().next().value!);
  inspected.set(expr, info);
  return { steps: [...info.steps], inputs: [...info.inputs], ...(info.error !== undefined ? { error: info.error } : {}) };
}

function inspectUncached(expr: string): ExpressionInfo {
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
