import type { Database, DbLogger } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

/** Where the embedded database lives when neither `url` nor `dataDir` is given. */
export const DEFAULT_PGLITE_DATA_DIR = './data/pglite';

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** PostgreSQL URL (normally `DATABASE_URL`). When unset, embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory (default `./data/pglite`), or `memory://` for a throw-away database. */
  dataDir?: string | undefined;
  logger?: DbLogger | undefined;
  /** PostgreSQL only: maximum pool connections (default 10). */
  poolSize?: number | undefined;
  /** PostgreSQL only: `statement_timeout` in ms (default 30 000; 0 disables). */
  statementTimeoutMs?: number | undefined;
  /** `search_path` for every session, e.g. a per-test schema. */
  searchPath?: string | undefined;
}

/**
 * Opens Ward's database: a PostgreSQL pool when `url` is set, otherwise embedded PGlite persisted
 * under `dataDir`. Both speak the same SQL (PGlite is PostgreSQL compiled to WASM).
 */
export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<Database> {
  if (opts.url) {
    const db = openPostgres({
      url: opts.url,
      logger: opts.logger,
      ...(opts.poolSize !== undefined && { poolSize: opts.poolSize }),
      ...(opts.statementTimeoutMs !== undefined && { statementTimeoutMs: opts.statementTimeoutMs }),
      ...(opts.searchPath !== undefined && { searchPath: opts.searchPath }),
    });
    try {
      await db.query('SELECT 1');
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  }
  return openPglite({
    dataDir: opts.dataDir ?? DEFAULT_PGLITE_DATA_DIR,
    logger: opts.logger,
    ...(opts.searchPath !== undefined && { searchPath: opts.searchPath }),
  });
}
