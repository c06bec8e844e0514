// The query interface every store uses, in a leaf file so migrations can take it without a cycle.
export type Row = Record<string, any>;

export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A PostgreSQL identifier, quoted (role names in GRANT statements). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
