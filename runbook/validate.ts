// The runbook validator: every problem with the node id and the field, in words an operator can
// act on. The server runs it before it saves, publishes or starts a runbook; the designer shows
// the same messages pinned to nodes. Runs outside the workflow (it needs the catalog).
import type { z } from 'zod';
import { catalog } from '../catalog/index.ts';
import { handlesOf, RunbookDefinition, type RunbookNode } from './definition.ts';
import { inspectExpression, isExpression, templateExpressions } from './expressions.ts';
import { userPattern } from './patterns.ts';
import { checkRules, topologicalOrder, type RuleWarning } from './rules.ts';
import { checkSubRunbooks, type ChildResolver } from './subrunbooks.ts';
import { isSealed } from './secrets.ts';

export interface Problem {
  /** The node the problem belongs to, when it belongs to one. */
  nodeId?: string;
  /** Dotted path of the field inside the node (or the definition), e.g. params.userPrincipalName. */
  field: string;
  message: string;
}

/**
 * `warnings` are the Microsoft 365 rules checker's findings (runbook/rules.ts): shown, never
 * blocking; they are only computed for a definition that parses.
 */
export type ValidationResult =
  | { ok: true; definition: RunbookDefinition; problems: []; warnings: RuleWarning[] }
  | { ok: false; definition?: RunbookDefinition; problems: Problem[]; warnings: RuleWarning[] };

export function formatProblem(p: Problem): string {
  return p.nodeId ? `node "${p.nodeId}", field "${p.field}": ${p.message}` : `field "${p.field}": ${p.message}`;
}

function pathString(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
}

/** Turns zod issues into problems, attributing `nodes[i]...` paths to the node's id. */
function schemaProblems(raw: unknown, error: z.ZodError): Problem[] {
  const rawNodes = (raw as { nodes?: { id?: unknown }[] } | null)?.nodes;
  return error.issues.map((issue) => {
    const [first, index, ...rest] = issue.path;
    if (first === 'nodes' && typeof index === 'number') {
      const id = rawNodes?.[index]?.id;
      const field = pathString(rest) || (issue.code === 'unrecognized_keys' ? '' : 'kind');
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'}`
          : issue.message;
      return typeof id === 'string'
        ? { nodeId: id, field: field || 'node', message }
        : { field: pathString(issue.path), message };
    }
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'}`
        : issue.message;
    return { field: pathString(issue.path) || '(root)', message };
  });
}

/**
 * `self` is the runbook's own id and `resolve` looks its sub-runbooks up (the server gives both at
 * publish): a call back to itself, a missing or archived child and inputs that do not fit it are problems.
 */
export function validateRunbook(raw: unknown, children: { self?: string; resolve?: ChildResolver } = {}): ValidationResult {
  const parsed = RunbookDefinition.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: schemaProblems(raw, parsed.error), warnings: [] };
  const def = parsed.data;
  const problems: Problem[] = [];
  const add = (nodeId: string | undefined, field: string, message: string) => problems.push({ nodeId, field, message });

  // ---- secret inputs only as whole values ----
  // A secret inside a longer text ("Xx1!{{ inputs.pw }}") would be pasted as its sealed form, and
  // the text then carried in clear (history, approval messages, webhook bodies): refused.
  const secretInputs = new Set(def.inputs.filter((i) => i.secret).map((i) => i.name));
  if (secretInputs.size) {
    const walk = (nodeId: string, v: unknown, path: string): void => {
      if (typeof v === 'string') {
        if (!v.includes('{{') || /^\s*\{\{[^{}]*\}\}\s*$/.test(v)) return;
        for (const m of v.matchAll(/\{\{([^{}]*)\}\}/g))
          for (const name of m[1]!.matchAll(/\binputs\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*["']([^"']+)["']\s*\])/g))
            if (secretInputs.has(name[1] ?? name[2]!))
              add(nodeId, path, `secret input "${name[1] ?? name[2]}" is used inside a longer text: a secret can only be a whole value ("{{ inputs.${name[1] ?? name[2]} }}" alone in the field)`);
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(nodeId, x, `${path}[${i}]`));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(nodeId, x, path ? `${path}.${k}` : k);
    };
    for (const n of def.nodes) walk(n.id, n, '');
  }

  // ---- ids and inputs ----
  const nodes = new Map<string, RunbookNode>();
  for (const n of def.nodes) {
    if (nodes.has(n.id)) add(n.id, 'id', `another node already has the id "${n.id}": give each node its own id`);
    nodes.set(n.id, n);
  }
  const inputNames = new Set<string>();
  def.inputs.forEach((input, i) => {
    if (inputNames.has(input.name)) add(undefined, `inputs[${i}].name`, `input "${input.name}" is declared twice`);
    inputNames.add(input.name);
    if (input.pattern !== undefined) {
      const compiled = userPattern(input.pattern);
      if (!compiled.ok) add(undefined, `inputs[${i}].pattern`, compiled.error);
    }
  });

  // ---- edges ----
  const incoming = new Map<string, string[]>();
  const outgoing = new Map<string, string[]>();
  // Nodes some edge points at, valid or not: such a node is not a root even if its edges are broken.
  const targeted = new Set(def.edges.map((e) => e.target));
  const connected = new Set(def.edges.flatMap((e) => [e.source, e.target]));
  def.edges.forEach((e, i) => {
    const source = nodes.get(e.source);
    const target = nodes.get(e.target);
    if (!source) add(undefined, `edges[${i}].source`, `edge comes from node "${e.source}", which does not exist`);
    if (!target) add(undefined, `edges[${i}].target`, `edge goes to node "${e.target}", which does not exist`);
    if (!source || !target) return;
    const handles = handlesOf(source);
    if (!handles.includes(e.sourceHandle)) {
      add(
        source.id,
        `edges[${i}].sourceHandle`,
        handles.length === 0
          ? `an ${source.kind} node ends the run and cannot have outgoing edges (edge to "${e.target}")`
          : `edge to "${e.target}" leaves from handle "${e.sourceHandle}", but this node only has ${handles.map((h) => `"${h}"`).join(', ')}` +
              (e.sourceHandle === 'error' && source.kind === 'action' ? ' (set onError to "route" to get an "error" handle)' : '') +
              (e.sourceHandle === 'timeout' && source.kind === 'approval' ? ' (set onTimeout to "route" to get a "timeout" handle)' : ''),
      );
      return;
    }
    if (e.source === e.target) {
      add(source.id, `edges[${i}].target`, 'a node cannot connect to itself (use forEach for loops)');
      return;
    }
    (outgoing.get(e.source) ?? outgoing.set(e.source, []).get(e.source)!).push(e.target);
    (incoming.get(e.target) ?? incoming.set(e.target, []).get(e.target)!).push(e.source);
  });

  // ---- cycles (Kahn) and reachability ----
  const ordered = new Set(topologicalOrder([...nodes.keys()], outgoing));
  const inCycle = new Set([...nodes.keys()].filter((id) => !ordered.has(id)));
  for (const id of inCycle) {
    // Report each cycle once, on a node that is part of it, with the path that closes it.
    const path = findCycle(id, outgoing, inCycle);
    if (!path) add(id, 'edges', 'this node can never run: it comes after a cycle');
    else if (path[0] === [...path].sort()[0])
      add(id, 'edges', `the edges form a cycle ${path.concat(path[0]!).join(' → ')}: runbooks cannot loop (use forEach)`);
  }
  const roots = [...nodes.keys()].filter((id) => !targeted.has(id) && !inCycle.has(id));
  const reached = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    stack.push(...(outgoing.get(id) ?? []));
  }
  for (const id of nodes.keys()) {
    if (inCycle.has(id)) continue;
    if (nodes.size > 1 && !connected.has(id))
      add(id, 'edges', 'this node is not connected to any other step: connect it or remove it');
    else if (!reached.has(id))
      add(id, 'edges', 'this node can never run: nothing that runs leads to it');
  }

  // ---- upstream sets for expressions ----
  const upstreamOf = new Map<string, Set<string>>();
  const upstream = (id: string): Set<string> => {
    const known = upstreamOf.get(id);
    if (known) return known;
    const seen = new Set<string>();
    upstreamOf.set(id, seen);
    const s = [...(incoming.get(id) ?? [])];
    while (s.length) {
      const n = s.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      s.push(...(incoming.get(n) ?? []));
    }
    return seen;
  };

  const checkExpression = (node: RunbookNode, field: string, expr: string) => {
    const info = inspectExpression(expr);
    if (info.error) {
      add(node.id, field, `expression "${expr}" does not parse: ${info.error}`);
      return;
    }
    const up = info.steps.length ? upstream(node.id) : new Set<string>();
    for (const s of info.steps) {
      if (!nodes.has(s)) add(node.id, field, `expression reads steps.${s}, but there is no node "${s}"`);
      else if (!up.has(s))
        add(node.id, field, `expression reads steps.${s}, but "${s}" does not run before this node: connect it upstream`);
    }
    for (const i of info.inputs)
      if (!inputNames.has(i)) add(node.id, field, `expression reads inputs.${i}, but the runbook has no input "${i}"`);
  };

  // ---- per node ----
  for (const node of def.nodes) {
    switch (node.kind) {
      case 'action': {
        const contract = catalog.get(node.action);
        if (!contract) {
          add(node.id, 'action', `unknown action "${node.action}": pick one from the catalog (GET /api/actions)`);
        } else {
          for (const issue of paramIssues(contract.input, node.params)) {
            // A field given as an expression is only known at run time; its type is checked then.
            if (issue.path.length && isExpression(getPath(node.params, issue.path.slice(0, 1)))) continue;
            // A secret stored sealed (server/runbooks.ts) is only opened by the worker, which checks it then.
            if (issue.path.some((_, i) => isSealed(getPath(node.params, issue.path.slice(0, i + 1))))) continue;
            if (issue.code === 'unrecognized_keys') {
              for (const k of issue.keys)
                add(node.id, `params.${k}`, `"${contract.id}" has no parameter "${k}": remove it`);
            } else {
              const field = `params.${pathString(issue.path)}`.replace(/\.$/, '');
              const missing = issue.code === 'invalid_type' && getPath(node.params, issue.path) === undefined;
              add(node.id, field, missing ? `required parameter of "${contract.id}" is missing` : issue.message);
            }
          }
        }
        for (const { path, expr } of templateExpressions(node.params, ['params'])) checkExpression(node, path.join('.'), expr);
        break;
      }
      case 'approval': {
        const a = node.approvers;
        if (!a.users.length && !a.roles.length && !a.groups.length && !a.entraGroups?.length)
          add(node.id, 'approvers', 'name at least one approver (a user, a role, a group or an Entra group)');
        if (node.quorum === 'all' && !a.users.length)
          add(node.id, 'quorum', 'quorum "all" counts the listed users: list them, or use "any" or a count');
        if (typeof node.quorum === 'object' && a.users.length && node.quorum.count > a.users.length && !a.roles.length && !a.groups.length && !a.entraGroups?.length)
          add(node.id, 'quorum.count', `needs ${node.quorum.count} approvals but only ${a.users.length} approvers are listed`);
        if (node.message) for (const { expr } of templateExpressions(node.message)) checkExpression(node, 'message', expr);
        // An approver named by an expression ("{{ inputs.manager }}") is resolved when the step starts.
        a.users.forEach((u, i) => {
          for (const { expr } of templateExpressions(u)) checkExpression(node, `approvers.users.${i}`, expr);
        });
        break;
      }
      case 'condition':
        if (!node.expression && !node.cases?.length) add(node.id, 'expression', 'give the condition an expression (or cases)');
        if (node.expression && node.cases) add(node.id, 'cases', 'use either expression or cases, not both');
        if (node.expression) checkExpression(node, 'expression', node.expression);
        node.cases?.forEach((c, i) => checkExpression(node, `cases[${i}].expression`, c.expression));
        break;
      case 'delay':
        if ((node.duration === undefined) === (node.until === undefined))
          add(node.id, node.duration === undefined ? 'duration' : 'until', 'give the delay either a duration or an "until" date expression');
        if (node.until) checkExpression(node, 'until', node.until);
        break;
      case 'end':
        break;
      case 'forEach': {
        checkExpression(node, 'items', node.items);
        // The body is a graph of its own: same rules, with the loop's inputs, and `item` in scope.
        const inner = validateRunbook({ name: def.name, inputs: def.inputs, nodes: node.body.nodes, edges: node.body.edges });
        for (const p of inner.problems)
          problems.push({
            nodeId: p.nodeId ? `${node.id}.${p.nodeId}` : node.id,
            field: p.field.startsWith('edges') || p.field.startsWith('nodes') ? `body.${p.field}` : p.field,
            message: p.message,
          });
        break;
      }
    }
  }

  for (const p of checkSubRunbooks(def, children)) add(p.nodeId, p.field, p.message);

  const warnings = checkRules(def);
  return problems.length ? { ok: false, definition: def, problems, warnings } : { ok: true, definition: def, problems: [], warnings };
}

/**
 * The issues a contract's input schema finds in some params (none when they fit): what `safeParse`
 * reports, read through the schema's Standard Schema interface, which finalises them without
 * building a ZodError (an Error, stack and all) for each step whose params hold expressions.
 */
function paramIssues(schema: z.ZodType, params: unknown): readonly z.core.$ZodIssue[] {
  const result = schema['~standard'].validate(params);
  if (result instanceof Promise) {
    // An asynchronous check: safeParse throws about it, as it always has.
    result.catch(() => {});
    const parsed = schema.safeParse(params);
    return parsed.success ? [] : parsed.error.issues;
  }
  return (result.issues ?? []) as readonly z.core.$ZodIssue[];
}

function getPath(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function findCycle(start: string, outgoing: Map<string, string[]>, within: Set<string>): string[] | undefined {
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (id: string): string[] | undefined => {
    if (id === start && path.length) return [...path];
    if (onPath.has(id)) return undefined;
    onPath.add(id);
    path.push(id);
    for (const t of outgoing.get(id) ?? []) {
      if (!within.has(t)) continue;
      const found = visit(t);
      if (found) return found;
    }
    path.pop();
    return undefined;
  };
  return visit(start);
}
