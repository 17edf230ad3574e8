/** A row as returned by a query: column name → value. */
export type Row = Record<string, unknown>;

/** The result of {@link Queryable.query}. */
export interface QueryResult<T> {
  rows: T[];
  /** Rows inserted, updated or deleted by the statement, when the driver reports it. */
  rowCount?: number | undefined;
}

/** Which engine a {@link Database} runs on. */
export type DatabaseKind = 'postgres' | 'pglite';

/** Something that runs SQL: the database itself, or one transaction. */
export interface Queryable {
  readonly kind: DatabaseKind;
  /**
   * Runs one statement with `$1, $2, …` parameters (extended protocol).
   * Note: `bigint`/`int8` columns come back as strings on PostgreSQL and numbers on PGlite;
   * cast to `int` in SQL where a number is wanted on both.
   */
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of one or more statements without parameters (simple protocol). */
  exec(sql: string): Promise<void>;
}

/** One transaction; everything it runs commits or rolls back together. */
export type Transaction = Queryable;

/** Ward's database: PostgreSQL through a pool, or embedded PGlite, behind one interface. */
export interface Database extends Queryable {
  /**
   * Runs `fn` in a transaction on one connection: commits when it resolves, rolls back and
   * rethrows when it rejects. Do not use the outer {@link Database} inside `fn`.
   */
  transaction<R>(fn: (tx: Transaction) => Promise<R>): Promise<R>;
  /** Closes the pool or the embedded database; the object is unusable afterwards. */
  close(): Promise<void>;
}

/** The logging calls @ward/db makes; a pino or Fastify logger fits. */
export interface DbLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Quotes an SQL identifier (`schema`, `table.column` parts) for safe interpolation. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
