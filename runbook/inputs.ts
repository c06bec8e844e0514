// Checks the values a run is started with against the runbook's declared inputs: the run form,
// the API and every CSV row of a bulk run go through here.
import type { RunbookDefinition, RunbookInput } from './definition.ts';
import { userPattern } from './patterns.ts';

export interface InputProblem {
  field: string;
  message: string;
}

export type InputResult = { ok: true; values: Record<string, unknown> } | { ok: false; problems: InputProblem[] };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function coerce(input: RunbookInput, raw: unknown): { value?: unknown; error?: string } {
  const fromText = typeof raw === 'string';
  switch (input.type) {
    case 'number': {
      const n = fromText ? Number(raw.trim()) : raw;
      return typeof n === 'number' && Number.isFinite(n) && (!fromText || raw.trim() !== '') ? { value: n } : { error: `must be a number, got ${JSON.stringify(raw)}` };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      if (fromText && /^(true|yes|1)$/i.test(raw.trim())) return { value: true };
      if (fromText && /^(false|no|0)$/i.test(raw.trim())) return { value: false };
      return { error: `must be true or false, got ${JSON.stringify(raw)}` };
    }
    case 'date': {
      if (!fromText || Number.isNaN(Date.parse(raw))) return { error: `must be a date such as 2026-12-31 or 2026-12-31T17:00:00Z, got ${JSON.stringify(raw)}` };
      return { value: raw };
    }
    case 'list': {
      if (Array.isArray(raw)) return { value: raw };
      if (fromText) return { value: raw.split(/[;,]/).map((s) => s.trim()).filter(Boolean) };
      return { error: 'must be a list' };
    }
    case 'user':
      if (!fromText || !(EMAIL.test(raw.trim()) || /^[0-9a-f-]{36}$/i.test(raw.trim())))
        return { error: `must be a user principal name such as anna@contoso.com, got ${JSON.stringify(raw)}` };
      return { value: raw.trim() };
    case 'string':
    case 'group':
    case 'licence':
    case 'mailbox':
    case 'sharedMailbox':
    case 'device':
    case 'team':
    case 'channel':
    case 'site':
    case 'oneDrive':
    case 'application':
    case 'domain':
      if (!fromText) return { error: `must be text, got ${JSON.stringify(raw)}` };
      return { value: raw };
  }
}

export function validateInputs(def: Pick<RunbookDefinition, 'inputs'>, raw: unknown): InputResult {
  const problems: InputProblem[] = [];
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, problems: [{ field: 'inputs', message: 'must be an object of input values' }] };
  const given = raw as Record<string, unknown>;
  const values: Record<string, unknown> = {};
  const declared = new Map(def.inputs.map((i) => [i.name, i]));
  for (const key of Object.keys(given))
    if (!declared.has(key))
      problems.push({
        field: `inputs.${key}`,
        message: `the runbook has no input "${key}" (it takes: ${[...declared.keys()].join(', ') || 'nothing'})`,
      });
  for (const input of def.inputs) {
    const v = given[input.name];
    const empty = v === undefined || v === null || v === '';
    if (empty) {
      if (input.default !== undefined) values[input.name] = input.default;
      else if (input.required) problems.push({ field: `inputs.${input.name}`, message: `${input.title ?? input.name} is required` });
      continue;
    }
    const { value, error } = coerce(input, v);
    if (error) {
      problems.push({ field: `inputs.${input.name}`, message: `${input.title ?? input.name} ${error}` });
      continue;
    }
    const pattern = input.pattern && typeof value === 'string' ? userPattern(input.pattern) : undefined;
    if (pattern && !pattern.ok) problems.push({ field: `inputs.${input.name}`, message: pattern.error });
    else if (pattern && !pattern.test(value as string))
      problems.push({ field: `inputs.${input.name}`, message: `${input.title ?? input.name} "${value}" does not match the pattern ${input.pattern}` });
    else if (input.options && typeof value === 'string' && !input.options.includes(value))
      problems.push({ field: `inputs.${input.name}`, message: `${input.title ?? input.name} must be one of ${input.options.join(', ')}` });
    else values[input.name] = value;
  }
  return problems.length ? { ok: false, problems } : { ok: true, values };
}
