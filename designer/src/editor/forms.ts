// Forms from JSON Schema: a pure function from an action's input schema (GET /api/actions) to the
// fields the inspector draws. Descriptions become help texts; fields that name a tenant's object
// (catalog/fields.ts PICKER_KINDS: users, groups, licences, mailboxes, devices, teams, channels,
// sites, OneDrives, apps, domains) get pickers; every field also accepts a "{{ expression }}".
import { PICKER_KINDS, type PickerKind } from '../../../catalog/fields.ts';
import type { JsonSchema } from '../api.ts';

export type { PickerKind };

export type FieldKind = 'text' | 'email' | 'number' | 'integer' | 'boolean' | 'enum' | 'list' | 'json';

export interface FieldDescriptor {
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  picker?: PickerKind;
  options?: string[];
  default?: unknown;
  pattern?: string;
  min?: number;
  max?: number;
  /** For lists: what each item is. */
  item?: FieldDescriptor;
}

/** "userPrincipalName" -> "User principal name". */
export function labelOf(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// The catalog's shared field schemas (catalog/fields.ts) say what they hold in their description;
// an explicit `x-picker` (zod .meta({ 'x-picker': 'user' })) wins when the catalog adds one.
const PICKER_HINTS: [RegExp, PickerKind][] = [
  [/^the user\b/i, 'user'],
  [/^the group\b/i, 'group'],
  [/^an? licen[cs]e\b/i, 'licence'],
];

function pickerOf(schema: JsonSchema): PickerKind | undefined {
  const explicit = schema['x-picker'];
  if ((PICKER_KINDS as readonly unknown[]).includes(explicit)) return explicit as PickerKind;
  const d = schema.description ?? '';
  return PICKER_HINTS.find(([re]) => re.test(d))?.[1];
}

function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  if (schema.type) return schema.type;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    const nonNull = variants.filter((v) => v.type !== 'null');
    if (nonNull.length === 1) return typeOf(nonNull[0]!);
    if (nonNull.every((v) => v.const !== undefined || v.enum)) return 'enum';
  }
  if (schema.enum) return 'enum';
  return undefined;
}

function enumOptions(schema: JsonSchema): string[] | undefined {
  if (schema.enum) return schema.enum.map(String);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.every((v) => v.const !== undefined || v.enum))
    return variants.flatMap((v) => (v.enum ? v.enum.map(String) : [String(v.const)]));
  return undefined;
}

export function fieldOf(name: string, schema: JsonSchema, required: boolean): FieldDescriptor {
  const base = {
    name,
    label: schema.title ?? labelOf(name),
    required,
    description: schema.description,
    default: schema.default,
  };
  const options = enumOptions(schema);
  if (options) return { ...base, kind: 'enum', options };
  switch (typeOf(schema)) {
    case 'string':
      return {
        ...base,
        kind: schema.format === 'email' ? 'email' : 'text',
        picker: pickerOf(schema),
        pattern: schema.pattern,
        min: schema.minLength,
        max: schema.maxLength,
      };
    case 'number':
    case 'integer':
      return { ...base, kind: typeOf(schema) as 'number' | 'integer', min: schema.minimum, max: schema.maximum };
    case 'boolean':
      return { ...base, kind: 'boolean' };
    case 'array': {
      const item = schema.items ? fieldOf(name, schema.items, true) : undefined;
      return { ...base, kind: 'list', item, picker: item?.picker, min: schema.minItems };
    }
    default:
      return { ...base, kind: 'json' };
  }
}

/** The form of an object schema: required fields first (in schema order), then the optional ones. */
export function formFields(schema: JsonSchema | undefined): FieldDescriptor[] {
  if (!schema?.properties) return [];
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties).map(([name, s]) => fieldOf(name, s, required.has(name) && s.default === undefined));
  return [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
}

/** "a, b; c" -> ["a","b","c"], keeping one "{{ expression }}" per item intact. */
export function parseList(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const two = text.slice(i, i + 2);
    if (two === '{{') depth++;
    if (two === '}}') depth = Math.max(0, depth - 1);
    const ch = text[i]!;
    if ((ch === ',' || ch === ';' || ch === '\n') && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

/** What one expression gives, when the designer can tell without running it. */
export type ExpressionShape = (expr: string) => 'list' | 'single' | undefined;

/**
 * Turns what was typed into a field into the parameter value (expressions stay strings). In a
 * list field, one whole "{{ expression }}" is the whole list, unless `shape` knows it gives a
 * single value (an input of type licence, a step's id output): then it is the list's one item.
 */
export function coerceField(field: FieldDescriptor, text: string, shape?: ExpressionShape): unknown {
  if (text.trim() === '') return undefined;
  if (text.includes('{{')) {
    if (field.kind !== 'list') return text;
    const items = parseList(text);
    const whole = items.length === 1 ? /^\{\{([\s\S]*?)\}\}$/.exec(items[0]!) : null;
    if (!whole) return items;
    return shape?.(whole[1]!.trim()) === 'single' ? items : items[0];
  }
  switch (field.kind) {
    case 'number':
    case 'integer': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 'boolean':
      return text === 'true';
    case 'list':
      return parseList(text).map((v) => (field.item && field.item.kind !== 'text' && field.item.kind !== 'email' ? coerceField(field.item, v) : v));
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

const lastSeparator = (text: string) => Math.max(text.lastIndexOf(','), text.lastIndexOf(';'), text.lastIndexOf('\n'));

/** What a picker searches for as a field is typed: the whole text, or the item being typed in a list. */
export function pickerTerm(text: string, list: boolean): string {
  return (list ? text.slice(lastSeparator(text) + 1) : text).trim();
}

/** The field's text once `value` is picked: the value, or in a list the item being typed replaced by it. */
export function withPicked(text: string, value: string, list: boolean): string {
  if (!list) return value;
  const i = lastSeparator(text);
  return i < 0 ? value : `${text.slice(0, i + 1)} ${value}`;
}

/** The text a field shows for a parameter value. */
export function fieldText(field: FieldDescriptor, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (field.kind === 'list' && Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  if (field.kind === 'json' && typeof value !== 'string') return JSON.stringify(value);
  return String(value);
}
