// Temporal visibility queries (the SQL-like "List Filter" of ListWorkflowExecutions). Every value
// that goes into one is quoted here and nowhere else: a string literal in single quotes with
// backslash and quote escaped by a backslash, which Temporal's query parser reads back as the
// value itself, so a requester, tenant or group name can never end the literal and add a clause.
// A Clause can only come from these functions, so a query cannot be glued together by hand.

declare const clause: unique symbol;
/** Part of a visibility query built by this module. */
export type Clause = string & { readonly [clause]: true };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A search attribute or system field (WorkflowType, StartTime, TenantflowTenant, ...): never user input. */
function field(name: string): string {
  if (!NAME.test(name)) throw new Error(`"${name}" is not a visibility field name`);
  return name;
}

/** A string value as a visibility literal. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

type Op = '=' | '!=' | '>' | '>=' | '<' | '<=';

/** `field op 'value'` (for a keyword list, "=" means "holds the value"). */
export function compare(name: string, op: Op, value: string): Clause {
  return `${field(name)} ${op} ${literal(value)}` as Clause;
}

export function eq(name: string, value: string): Clause {
  return compare(name, '=', value);
}

/** One of the values; no value matches nothing. */
export function oneOf(name: string, values: readonly string[]): Clause {
  // IN () is not valid syntax: a value no run carries stands for "nothing".
  if (values.length === 0) return eq(name, '__none__');
  return `${field(name)} IN (${values.map(literal).join(', ')})` as Clause;
}

/** Every clause holds (the absent ones are left out). */
export function and(...clauses: (Clause | undefined | false)[]): Clause {
  const kept = clauses.filter((c): c is Clause => !!c);
  return (kept.length > 1 ? `(${kept.join(' AND ')})` : (kept[0] ?? '')) as Clause;
}

/** At least one clause holds. */
export function or(...clauses: (Clause | undefined | false)[]): Clause {
  const kept = clauses.filter((c): c is Clause => !!c);
  return (kept.length > 1 ? `(${kept.join(' OR ')})` : (kept[0] ?? '')) as Clause;
}
