// Bulk runs from a CSV: parse the file and check every row against the runbook's inputs before
// anything starts (the same checks as the server's validateInputs), so the operator sees a per-row
// report. Pure functions; the server's own report (POST /api/runs/bulk) is used when it exists.
import type { RunbookDefinition } from '../../runbook/definition.ts';
import { validateInputs } from '../../runbook/inputs.ts';
import type { BulkReport, BulkRowReport } from './api.ts';
import { parseCsv } from '../../runbook/csv.ts';

export { parseCsv } from '../../runbook/csv.ts';

/** Checks a CSV against the runbook's inputs: columns, each row's values, duplicate rows. */
export function checkCsv(def: Pick<RunbookDefinition, 'inputs'>, text: string): BulkReport {
  const rows = parseCsv(text);
  if (rows.length === 0) return { ok: false, rows: [], problems: [{ field: 'file', message: 'the file is empty' }] };
  const header = rows[0]!.map((h) => h.trim());
  const problems: { field: string; message: string }[] = [];
  // Columns may be named by input name or by the form label.
  const column = new Map<number, string>();
  header.forEach((h, i) => {
    const input = def.inputs.find((x) => x.name === h || x.name.toLowerCase() === h.toLowerCase() || (x.title && x.title.toLowerCase() === h.toLowerCase()));
    if (input) column.set(i, input.name);
    else problems.push({ field: `column ${h || i + 1}`, message: `the runbook has no input "${h}" (it takes: ${def.inputs.map((x) => x.name).join(', ')})` });
  });
  const present = new Set(column.values());
  for (const input of def.inputs)
    if (input.required && input.default === undefined && !present.has(input.name))
      problems.push({ field: `column ${input.name}`, message: `required column "${input.name}" is missing` });
  const seen = new Map<string, number>();
  const report: BulkRowReport[] = rows.slice(1).map((cells, i) => {
    const row = i + 2; // spreadsheet row numbers: the header is row 1
    const raw: Record<string, unknown> = {};
    column.forEach((name, idx) => {
      const v = cells[idx]?.trim();
      if (v) raw[name] = v;
    });
    const res = validateInputs(def, raw);
    const key = JSON.stringify(Object.entries(raw).sort());
    const dup = seen.get(key);
    seen.set(key, dup ?? row);
    const rowProblems = res.ok ? [] : res.problems;
    if (dup !== undefined) rowProblems.push({ field: 'row', message: `same values as row ${dup}` });
    return rowProblems.length ? { row, ok: false, problems: rowProblems } : { row, ok: true, values: res.ok ? res.values : raw };
  });
  return { ok: problems.length === 0 && report.every((r) => r.ok), rows: report, problems };
}

/** Run form values from the query string; secret inputs never (a URL ends up in history and logs). */
export function prefill(def: Pick<RunbookDefinition, 'inputs'>, query: URLSearchParams): Record<string, string> {
  return Object.fromEntries(def.inputs.map((i) => [i.name, i.secret ? '' : (query.get(i.name) ?? '')]));
}
