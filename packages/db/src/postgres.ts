import pg from 'pg';
import type { Database, DbLogger, Queryable, QueryResult, Row } from './database.js';

/** Pool settings for {@link openPostgres}; every field has a production default. */
export interface PostgresOptions {
  /** A `postgres://` URL; settings it names (e.g. `application_name`) win over the defaults here. */
  url: string;
  /** Maximum connections in the pool (default 10). */
  poolSize?: number;
  /** Server-side `statement_timeout` in ms for every statement (default 30 000; 0 disables). */
  statementTimeoutMs?: number;
  /** How long to wait for a connection before failing, in ms (default 10 000). */
  connectionTimeoutMs?: number;
  /** `search_path` to set on every connection, e.g. a per-test schema. */
  searchPath?: string;
  logger?: DbLogger | undefined;
}

/** Adds `-c search_path=…` to the URL's `options` so every pooled connection starts in that schema. */
function withSearchPath(url: string, searchPath: string | undefined): string {
  if (!searchPath) return url;
  const u = new URL(url);
  const prior = u.searchParams.get('options');
  const path = searchPath.replace(/[\s\\]/g, (c) => `\\${c}`);
  u.searchParams.set('options', `${prior ? `${prior} ` : ''}-c search_path=${path}`);
  return u.toString();
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    kind: 'postgres',
    async query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const res = await client.query(sql, params as unknown[]);
      return { rows: res.rows as T[], rowCount: res.rowCount ?? undefined };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

/** Opens a `pg.Pool` (application_name `ward`, statement timeout) behind the {@link Database} interface. */
export function openPostgres(opts: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: withSearchPath(opts.url, opts.searchPath),
    max: opts.poolSize ?? 10,
    application_name: 'ward',
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // An idle client losing its connection emits here; without a listener it would crash the process.
  pool.on('error', (err) => opts.logger?.error({ err }, 'idle PostgreSQL connection failed'));
  const base = wrap(pool);
  let closed = false;
  return {
    ...base,
    async transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
      // A connection that could not roll back is destroyed rather than returned to the pool.
      let discard: Error | undefined;
      try {
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          discard = rollbackErr;
        });
        throw err;
      } finally {
        client.release(discard);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
