// CSV for bulk runs: the whole-file check that runs before anything starts (parsing is
// workflows/csv.ts, shared with the designer's preview).
import type { RunbookDefinition } from '../runbook/definition.ts';
import { parseCsv } from '../runbook/csv.ts';
import { validateInputs } from '../runbook/inputs.ts';

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
  columns: { found: string[]; missing: string[]; unknown: string[] };
  rows: RowReport[];
  /** File-level problems (no header, missing required columns). */
  problems: string[];
}

/** Everything that can be checked without the tenant: columns, types, duplicates. */
export function checkCsv(def: RunbookDefinition, text: string): CsvCheck {
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
    const checked = validateInputs(def, raw);
    const inputs = checked.ok ? checked.values : raw;
    if (!checked.ok)
      for (const p of checked.problems) {
        const field = p.field.replace(/^inputs\./, '');
        if (!missing.includes(field)) rowProblems.push({ field, message: p.message, kind: 'type' });
      }
    const key = JSON.stringify(Object.entries(inputs).map(([k, v]) => [k, typeof v === 'string' ? v.toLowerCase() : v]).sort());
    const first = seen.get(key);
    if (first !== undefined) rowProblems.push({ field: '(row)', message: `duplicate of line ${first}`, kind: 'duplicate' });
    else seen.set(key, line);
    return { line, inputs, problems: rowProblems, status: rowProblems.length ? 'error' : 'ok' };
  });
  return { columns: { found, missing, unknown }, rows, problems };
}
