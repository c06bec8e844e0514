// Secrets inside runs (a password typed on the run form, a webhook URL in a step's parameters)
// travel sealed: the server replaces each with { $sealed: "<AES-GCM ciphertext>" } before the
// run starts, the workflow passes it on untouched, and only the worker that calls Microsoft 365
// opens it. Temporal history, logs and API responses see ciphertext at most.
// This module is crypto-free (the workflow bundle imports the type guard); callers bring the box.

export interface SealedValue {
  $sealed: string;
}

export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function isSealed(v: unknown): v is SealedValue {
  return !!v && typeof v === 'object' && typeof (v as SealedValue).$sealed === 'string' && Object.keys(v).length === 1;
}

export function seal(box: Sealer, value: unknown): SealedValue {
  return { $sealed: box.seal(JSON.stringify(value)) };
}

/** Opens every sealed value inside `value` (objects and arrays are walked). */
export function openSealed(box: Sealer, value: unknown): unknown {
  if (isSealed(value)) return JSON.parse(box.open(value.$sealed));
  if (Array.isArray(value)) return value.map((v) => openSealed(box, v));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, openSealed(box, v)]));
  return value;
}

/** For display: every sealed value becomes "[secret]". */
export function maskSealed(value: unknown): unknown {
  if (isSealed(value)) return '[secret]';
  if (Array.isArray(value)) return value.map(maskSealed);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSealed(v)]));
  return value;
}

/** Names of inputs and fields that say they hold a secret. */
export const SECRET_NAME = /pass(word)?|secret|token|credential|key$/i;

/**
 * What a person may see of values inside a run (the run view, its live stream, the approvals
 * inbox, schedules): every sealed value becomes "[secret]"; the given secret fields (an action's
 * `secretFields`), and text under a name that says secret, become "[redacted]".
 */
export function redact(value: unknown, secretFields: readonly string[] = []): unknown {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 8 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, secretFields.includes(k) || (SECRET_NAME.test(k) && typeof x === 'string') ? '[redacted]' : walk(x, depth + 1)]),
    );
  };
  return walk(maskSealed(value), 0);
}

/** A run's inputs for display: as redact, and an input whose name says secret is hidden whatever its type. */
export function redactInputs(definition: { inputs: { name: string }[] } | undefined, inputs: unknown): unknown {
  return redact(inputs, definition?.inputs.filter((i) => SECRET_NAME.test(i.name)).map((i) => i.name));
}

/** True when a value holds a sealed secret anywhere inside it. */
export function containsSealed(value: unknown): boolean {
  if (isSealed(value)) return true;
  if (Array.isArray(value)) return value.some(containsSealed);
  if (value && typeof value === 'object') return Object.values(value).some(containsSealed);
  return false;
}

/**
 * What the server does before a run starts: seals the values of inputs declared `secret`, and
 * every literal given for a field an action declares secret (its contract's `secretFields`).
 * A field given as an expression is sealed where its value comes from (a secret input).
 */
export function sealRunSecrets<D extends { inputs: { name: string; secret?: boolean }[]; nodes: unknown[] }>(
  box: Sealer,
  definition: D,
  inputs: Record<string, unknown>,
  secretFieldsOf: (actionId: string) => string[] | undefined,
): { definition: D; inputs: Record<string, unknown> } {
  const sealedInputs = { ...inputs };
  for (const i of definition.inputs)
    if (i.secret && sealedInputs[i.name] !== undefined && !isSealed(sealedInputs[i.name])) sealedInputs[i.name] = seal(box, sealedInputs[i.name]);
  return { definition: sealDefinitionSecrets(box, definition, secretFieldsOf), inputs: sealedInputs };
}

/**
 * Every literal given for a field an action declares secret, sealed (forEach bodies included); a
 * field holding an expression is sealed where its value comes from (a secret input). The server
 * stores definitions this way, and seals again what a run brings inline before it starts.
 */
export function sealDefinitionSecrets<D>(box: Sealer, definition: D, secretFieldsOf: (actionId: string) => readonly string[] | undefined): D {
  return mapActionNodes(definition, (n) => {
    const params = { ...n.params };
    for (const f of secretFieldsOf(n.action) ?? []) if (params[f] !== undefined) params[f] = sealLiterals(box, params[f]);
    return params;
  }) as D;
}

/**
 * A secret field's value with every literal sealed and every expression left to resolve: an
 * object such as `{ "x-api-key": "{{ inputs.apikey }}" }` keeps its expression (the workflow
 * resolves it to the sealed input), so it is resolved first and sealed, never sent as the literal
 * text of the expression. A value without expressions is sealed whole.
 */
function sealLiterals(box: Sealer, value: unknown): unknown {
  const hasExpression = (v: unknown): boolean =>
    typeof v === 'string' ? v.includes('{{') : Array.isArray(v) ? v.some(hasExpression) : !!v && typeof v === 'object' && !isSealed(v) && Object.values(v).some(hasExpression);
  if (isSealed(value) || (typeof value === 'string' && value.includes('{{'))) return value;
  if (!hasExpression(value)) return seal(box, value);
  if (Array.isArray(value)) return value.map((v) => sealLiterals(box, v));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, sealLiterals(box, v)]));
}

/** What a literal secret in a runbook definition reads as outside the server. */
export const SECRET_MASK = '[secret]';

type SecretFieldsOf = (actionId: string) => readonly string[] | undefined;

/** Each action node of a definition (forEach bodies included), copied with mapped params. */
function mapActionNodes(definition: unknown, map: (node: { id?: string; action: string; params: Record<string, unknown> }) => Record<string, unknown>): unknown {
  const d = definition as { nodes?: unknown[] } | undefined;
  if (!d || typeof d !== 'object' || !Array.isArray(d.nodes)) return definition;
  const mapNode = (node: unknown): unknown => {
    const n = node as { kind?: string; action?: string; params?: Record<string, unknown>; body?: { nodes?: unknown[] } };
    if (!n || typeof n !== 'object') return node;
    if (n.kind === 'forEach' && n.body && Array.isArray(n.body.nodes)) return { ...n, body: { ...n.body, nodes: n.body.nodes.map(mapNode) } };
    const pinned = (n as { pinned?: { definition?: unknown } }).pinned;
    if (n.kind === 'subRunbook' && pinned?.definition) return { ...n, pinned: { ...pinned, definition: mapActionNodes(pinned.definition, map) } };
    if (n.kind !== 'action' || typeof n.action !== 'string' || !n.params || typeof n.params !== 'object') return node;
    return { ...n, params: map(n as never) };
  };
  return { ...d, nodes: d.nodes.map(mapNode) };
}

/**
 * A definition as the API shows it: every literal given for a field an action declares secret is
 * "[secret]" (secrets are write-only; expressions such as `{{ inputs.pw }}` stay visible).
 */
export function maskDefinitionSecrets<T>(definition: T, secretFieldsOf: SecretFieldsOf): T {
  return mapActionNodes(definition, (n) => {
    const params = { ...n.params };
    for (const f of secretFieldsOf(n.action) ?? []) {
      const v = params[f];
      if (v !== undefined && v !== null && !(typeof v === 'string' && v.includes('{{'))) params[f] = SECRET_MASK;
    }
    return params;
  }) as T;
}

/**
 * A definition saved back with masked secrets: each "[secret]" takes the stored value of the same
 * field of the same node (same id and action) in `stored`, so a round trip keeps the secret.
 */
export function restoreMaskedSecrets<T>(definition: T, stored: unknown, secretFieldsOf: SecretFieldsOf): T {
  const before = new Map<string, { action: string; params: Record<string, unknown> }>();
  mapActionNodes(stored, (n) => {
    if (n.id) before.set(n.id, n);
    return n.params;
  });
  return mapActionNodes(definition, (n) => {
    const params = { ...n.params };
    const old = n.id ? before.get(n.id) : undefined;
    for (const f of secretFieldsOf(n.action) ?? []) if (params[f] === SECRET_MASK && old?.action === n.action && old.params[f] !== undefined) params[f] = old.params[f];
    return params;
  }) as T;
}
