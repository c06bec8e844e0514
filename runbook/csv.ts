// CSV as bulk runs read it: parsing, and the whole-file check that runs before anything starts
// (columns, each row's values, duplicate rows). The one copy of these rules: the server checks
// every bulk file with it (POST /api/runs/bulk, which the designer's preview and the CLI call with
// dryRun), adding what needs the tenant (unknown users, operator scope). Pure: no Node or browser
// APIs.
import type { RunbookDefinition } from './definition.ts';
import { validateInputs } from './inputs.ts';

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF; a ; or tab separator is detected. */
export function parseCsv(text: string): string[][] {
  const src = text.replace(/^\uFEFF/, '');
  const firstLine = src.split(/\r?\n/, 1)[0] ?? '';
  const sep = [',', ';', '\t'].map((s) => [s, firstLine.split(s).length] as const).sort((a, b) => b[1] - a[1])[0]![0];
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === sep) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.some((c) => c.trim() !== ''));
}

export interface RowProblem {
  field: string;
  message: string;
  kind: 'missing-column' | 'type' | 'duplicate' | 'unknown-user' | 'scope' | 'columns';
}

export interface RowReport {
  /** Line number in the file (the header is line 1). */
  line: number;
  inputs: Record<string, unknown>;
  problems: RowProblem[];
  status: 'ok' | 'error' | 'started' | 'skipped';
  runId?: string;
}

export interface CsvCheck {
  columns: { found: string[]; missing: string[]; unknown: string[]; /** Named more than once in the header. */ duplicate: string[] };
  rows: RowReport[];
  /** File-level problems (no header, missing required columns). */
  problems: string[];
}

/**
 * Everything that can be checked without the tenant: columns, types, duplicates. Columns are
 * input names (any letter case; a form label is not a column name), an empty cell is an absent
 * value (the input's default, or "required"), and rows that differ only in the letter case of
 * their text are duplicates.
 */
/** The longest cell a bulk file may hold (a UPN is at most 113 characters; a note, a few hundred). */
export const MAX_CELL = 10_000;

export function checkCsv(def: Pick<RunbookDefinition, 'inputs'>, text: string): CsvCheck {
  const table = parseCsv(text);
  const header = (table[0] ?? []).map((h) => h.trim());
  const declared = new Map(def.inputs.map((i) => [i.name.toLowerCase(), i.name]));
  const found = header.map((h) => declared.get(h.toLowerCase()) ?? h);
  const missing = def.inputs.filter((i) => i.required && i.default === undefined && !found.includes(i.name)).map((i) => i.name);
  const unknown = found.filter((h) => !def.inputs.some((i) => i.name === h));
  const problems: string[] = [];
  if (table.length === 0) problems.push('the file is empty');
  else if (table.length === 1) problems.push('the file has a header but no rows');
  if (missing.length) problems.push(`missing column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  if (unknown.length) problems.push(`unknown column${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (the runbook takes: ${def.inputs.map((i) => i.name).join(', ')})`);
  // A column named twice would let the second cell silently win.
  const firstAt = new Map<string, number>();
  const duplicate: string[] = [];
  found.forEach((col, i) => {
    const at = firstAt.get(col.toLowerCase());
    if (at !== undefined) duplicate.push(col);
    if (at !== undefined) problems.push(`duplicate column ${col}: columns ${at + 1} and ${i + 1} of the header have the same name`);
    else firstAt.set(col.toLowerCase(), i);
  });
  const seen = new Map<string, number>();
  const rows = table.slice(1).map((cells, idx): RowReport => {
    const line = idx + 2;
    const raw: Record<string, unknown> = {};
    found.forEach((col, i) => {
      if (!unknown.includes(col)) raw[col] = (cells[i] ?? '').trim();
    });
    const rowProblems: RowProblem[] = [];
    for (const m of missing) rowProblems.push({ field: m, message: `column ${m} is missing from the file`, kind: 'missing-column' });
    if (cells.length > header.length) rowProblems.push({ field: '(row)', message: `${cells.length} cells but the header has ${header.length}`, kind: 'columns' });
    for (const [col, v] of Object.entries(raw)) {
      if (typeof v !== 'string') continue;
      if (v.length > MAX_CELL) rowProblems.push({ field: col, message: `line ${line}, column ${col}: ${v.length} characters; a cell holds at most ${MAX_CELL}`, kind: 'type' });
      else if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v)) rowProblems.push({ field: col, message: `line ${line}, column ${col}: holds a control character (such as NUL)`, kind: 'type' });
    }
    const bad = new Set(rowProblems.map((x) => x.field));
    for (const col of bad) delete raw[col];
    const checked = validateInputs(def, raw);
    const inputs = checked.ok ? checked.values : raw;
    if (!checked.ok)
      for (const p of checked.problems) {
        const field = p.field.replace(/^inputs\./, '');
        if (!missing.includes(field) && !bad.has(field)) rowProblems.push({ field, message: p.message, kind: 'type' });
      }
    const key = JSON.stringify(Object.entries(inputs).map(([k, v]) => [k, typeof v === 'string' ? v.toLowerCase() : v]).sort());
    const first = seen.get(key);
    if (first !== undefined) rowProblems.push({ field: '(row)', message: `duplicate of line ${first}`, kind: 'duplicate' });
    else seen.set(key, line);
    return { line, inputs, problems: rowProblems, status: rowProblems.length ? 'error' : 'ok' };
  });
  return { columns: { found, missing, unknown, duplicate }, rows, problems };
}
