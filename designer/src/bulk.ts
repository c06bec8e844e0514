// The run form's values from the page address. (Bulk CSV files are checked by the server, with the
// one copy of the CSV rules in runbook/csv.ts: the preview is its dry run.)
import type { RunbookDefinition } from '../../runbook/definition.ts';

/** Run form values from the query string; secret inputs never (a URL ends up in history and logs). */
export function prefill(def: Pick<RunbookDefinition, 'inputs'>, query: URLSearchParams): Record<string, string> {
  return Object.fromEntries(def.inputs.map((i) => [i.name, i.secret ? '' : (query.get(i.name) ?? '')]));
}
