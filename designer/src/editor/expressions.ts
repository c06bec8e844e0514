// What the expression editor offers: completions for runbook inputs, upstream step outputs and run
// context at the cursor, and sample data to preview a value before anything runs. Pure functions.
import type { RunbookDefinition, RunbookInput, RunbookNode } from '../../../runbook/definition.ts';
import type { ExpressionContext } from '../../../runbook/expressions.ts';
import type { ActionInfo, JsonSchema } from '../api.ts';

export interface Completion {
  /** What is inserted, e.g. inputs.userPrincipalName */
  text: string;
  detail: string;
  kind: 'input' | 'step' | 'run' | 'item';
}

/** Every node that runs before `nodeId` (following edges backwards). */
export function upstreamOf(def: Pick<RunbookDefinition, 'edges'>, nodeId: string): string[] {
  const incoming = new Map<string, string[]>();
  for (const e of def.edges) incoming.set(e.target, [...(incoming.get(e.target) ?? []), e.source]);
  const seen = new Set<string>();
  const stack = [...(incoming.get(nodeId) ?? [])];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || n === nodeId) continue;
    seen.add(n);
    stack.push(...(incoming.get(n) ?? []));
  }
  return [...seen];
}

function outputFields(node: RunbookNode, actions: Map<string, ActionInfo>): { name: string; description?: string }[] {
  if (node.kind === 'action') {
    const out = actions.get(node.action)?.output;
    return Object.entries(out?.properties ?? {}).map(([name, s]) => ({ name, description: s.description }));
  }
  if (node.kind === 'approval')
    return [
      { name: 'decision', description: 'approve or reject' },
      { name: 'decisions', description: 'who decided, when, with which comment' },
    ];
  return [];
}

/** The fields of one item of a forEach's list, where the list's schema says (steps.x.output.users -> item.id, ...). */
function itemFields(def: RunbookDefinition, items: string, actions: Map<string, ActionInfo>): { name: string; description?: string }[] {
  const m = /^\s*(?:\{\{)?\s*steps\.([A-Za-z_]\w*)\.output\.([A-Za-z_]\w*)\s*(?:\}\})?\s*$/.exec(items);
  const node = m && def.nodes.find((n) => n.id === m[1]);
  if (!m || node?.kind !== 'action') return [];
  const list = actions.get(node.action)?.output?.properties?.[m[2]!];
  return Object.entries(list?.items?.properties ?? {}).map(([name, s]) => ({ name, description: s.description }));
}

/** All completions for a field of node `nodeId`; "loop.step" names a step of a forEach body. */
export function completionsFor(def: RunbookDefinition, nodeId: string, actions: Map<string, ActionInfo>): Completion[] {
  const dot = nodeId.indexOf('.');
  const loop = dot > 0 ? def.nodes.find((n) => n.id === nodeId.slice(0, dot)) : undefined;
  if (loop?.kind === 'forEach') {
    // A body step sees the item, the runbook's inputs and run context, and the body steps before it.
    const body = { ...def, nodes: loop.body.nodes as RunbookNode[], edges: loop.body.edges.map((e) => ({ ...e, sourceHandle: e.sourceHandle ?? 'out' })) } as RunbookDefinition;
    const inner = completionsFor(body, nodeId.slice(dot + 1), actions);
    const item: Completion[] = [
      { text: 'item', detail: `the current item of ${loop.label ?? loop.id}'s list`, kind: 'item' },
      ...itemFields(def, loop.items, actions).map((f) => ({ text: `item.${f.name}`, detail: f.description ?? 'a field of the item', kind: 'item' as const })),
    ];
    return [...item, ...inner];
  }
  const byId = new Map(def.nodes.map((n) => [n.id, n]));
  const out: Completion[] = def.inputs.map((i) => ({
    text: `inputs.${i.name}`,
    detail: `${i.title ?? i.name} (${i.type} input)`,
    kind: 'input' as const,
  }));
  for (const id of upstreamOf(def, nodeId).sort()) {
    const n = byId.get(id);
    if (!n) continue;
    const fields = outputFields(n, actions);
    out.push({ text: `steps.${id}.output`, detail: `everything ${n.label ?? id} returned`, kind: 'step' });
    for (const f of fields) out.push({ text: `steps.${id}.output.${f.name}`, detail: f.description ?? `${n.label ?? id} output`, kind: 'step' });
    out.push({ text: `steps.${id}.status`, detail: 'succeeded, failed or skipped', kind: 'step' });
  }
  out.push({ text: 'run.startedBy', detail: 'who started the run', kind: 'run' });
  out.push({ text: 'run.tenant', detail: 'the tenant the run works on', kind: 'run' });
  return out;
}

/** The word being typed at `cursor` inside a "{{ }}" (or anywhere, for bare expressions). */
export function tokenAt(text: string, cursor: number, bare = false): { start: number; prefix: string } | undefined {
  if (!bare) {
    const open = text.lastIndexOf('{{', cursor);
    const close = text.lastIndexOf('}}', cursor - 1);
    if (open < 0 || close > open) return undefined;
  }
  let start = cursor;
  while (start > 0 && /[A-Za-z0-9_.]/.test(text[start - 1]!)) start--;
  return { start, prefix: text.slice(start, cursor) };
}

export function filterCompletions(all: Completion[], prefix: string): Completion[] {
  const p = prefix.toLowerCase();
  const starts = all.filter((c) => c.text.toLowerCase().startsWith(p));
  const contains = all.filter((c) => !c.text.toLowerCase().startsWith(p) && c.text.toLowerCase().includes(p));
  return [...starts, ...contains].slice(0, 12);
}

/** Inserts a completion in place of the word at the cursor; returns the new text and cursor. */
export function applyCompletion(text: string, cursor: number, c: Completion, bare = false): { text: string; cursor: number } {
  const tok = tokenAt(text, cursor, bare) ?? { start: cursor, prefix: '' };
  const next = text.slice(0, tok.start) + c.text + text.slice(cursor);
  return { text: next, cursor: tok.start + c.text.length };
}

// ---- sample data for previews ----

function sampleFromSchema(name: string, schema: JsonSchema | undefined): unknown {
  if (!schema) return null;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0];
  const t = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (t) {
    case 'string':
      if (schema.format === 'email' || /principal|mail|upn/i.test(name)) return 'anna.lindqvist@contoso.com';
      if (/id$/i.test(name)) return '3f2a9c1e-7b4d-4e8a-9c51-0d2b6e8f1a47';
      return `sample ${name}`;
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [sampleFromSchema(name, schema.items)];
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, sampleFromSchema(k, s)]));
    default:
      return null;
  }
}

export function sampleInput(i: RunbookInput): unknown {
  if (i.default !== undefined) return i.default;
  if (i.options?.length) return i.options[0];
  switch (i.type) {
    case 'string':
      return /principal|mail|upn/i.test(i.name) ? 'anna.lindqvist@contoso.com' : /given|first/i.test(i.name) ? 'Anna' : /surname|last/i.test(i.name) ? 'Lindqvist' : `sample ${i.name}`;
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'date':
      return '2026-06-30';
    case 'user':
      return 'anna.lindqvist@contoso.com';
    case 'group':
      return 'All Company';
    case 'licence':
      return 'SPE_E3';
    case 'mailbox':
      return 'anna.lindqvist@contoso.com';
    case 'sharedMailbox':
      return 'helpdesk@contoso.com';
    case 'device':
      return '0f6c4a8e-1b2d-4c3e-9f4a-5b6c7d8e9f01';
    case 'team':
      return '5f1a9c7e-2b3d-4e5f-8a9b-0c1d2e3f4a5b';
    case 'channel':
      return '19:5f1a9c7e2b3d4e5f8a9b0c1d2e3f4a5b@thread.tacv2';
    case 'site':
      return 'https://contoso.sharepoint.com/sites/projects';
    case 'oneDrive':
      return 'anna.lindqvist@contoso.com';
    case 'application':
      return '7d1165c4-4930-4a6d-97cc-4b34a88bc231';
    case 'domain':
      return 'contoso.com';
    case 'list':
      return ['first', 'second'];
  }
}

/** An expression context with made-up but plausible values for every input and step output. */
export function sampleContext(def: RunbookDefinition, actions: Map<string, ActionInfo>, overrides: Record<string, unknown> = {}): ExpressionContext {
  const inputs = Object.fromEntries(def.inputs.map((i) => [i.name, overrides[i.name] ?? sampleInput(i)]));
  const steps: ExpressionContext['steps'] = {};
  for (const n of def.nodes) {
    if (n.kind === 'action') steps[n.id] = { status: 'succeeded', output: sampleFromSchema(n.id, actions.get(n.action)?.output) };
    else if (n.kind === 'approval') steps[n.id] = { status: 'succeeded', output: { decision: 'approve', decisions: [] } };
    else steps[n.id] = { status: 'succeeded' };
  }
  return { inputs, steps, run: { startedBy: 'operator@contoso.com', tenant: 'sandbox' } };
}

/**
 * Whether an expression gives a list or a single value, known statically for plain paths to a
 * runbook input or a step output (from the catalog's output schema); undefined otherwise.
 */
export function expressionShape(def: Pick<RunbookDefinition, 'inputs' | 'nodes'>, actions: Map<string, ActionInfo>, expr: string): 'list' | 'single' | undefined {
  const input = /^inputs\.([A-Za-z_]\w*)$/.exec(expr);
  if (input) {
    const i = def.inputs.find((x) => x.name === input[1]);
    return i ? (i.type === 'list' ? 'list' : 'single') : undefined;
  }
  const step = /^steps\.([A-Za-z_]\w*)\.output((?:\.[A-Za-z_]\w*)*)$/.exec(expr);
  if (step) {
    const node = def.nodes.find((n) => n.id === step[1]);
    let schema: JsonSchema | undefined = node?.kind === 'action' ? actions.get(node.action)?.output : undefined;
    for (const key of step[2]!.split('.').filter(Boolean)) schema = schema?.properties?.[key];
    const type = Array.isArray(schema?.type) ? schema.type.find((t) => t !== 'null') : schema?.type;
    return type === undefined ? undefined : type === 'array' ? 'list' : 'single';
  }
  if (/^\[[\s\S]*\]$/.test(expr)) return 'list';
  return undefined;
}
