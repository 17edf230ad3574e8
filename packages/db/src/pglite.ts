import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, type Transaction as PGliteTransaction } from '@electric-sql/pglite';
import type { Database, DbLogger, Queryable, QueryResult, Row } from './database.js';
import { DbErrors } from './errors.js';

/** Settings for {@link openPglite}. */
export interface PgliteOptions {
  /** A directory to persist to, or `memory://` for a throw-away database. */
  dataDir: string;
  /** `search_path` to set for the session. */
  searchPath?: string;
  logger?: DbLogger | undefined;
}

function wrap(target: PGlite | PGliteTransaction): Queryable {
  return {
    kind: 'pglite',
    async query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const res = await target.query<T>(sql, params as unknown[]);
      return { rows: res.rows, rowCount: res.affectedRows };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite has one session and no locking of its files, so two processes sharing a data directory
 * would corrupt it. A `<dataDir>.lock` file holding the owner's pid keeps a second process out;
 * a lock left by a process that has died is taken over.
 */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const lockFile = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new DbErrors.DataDirLocked(
          `the embedded database at ${dir} is in use by process ${owner}; embedded PGlite serves one process only — stop it, or set DATABASE_URL to share a PostgreSQL server`,
        );
      }
      if (owner === process.pid) {
        throw new DbErrors.DataDirLocked(`the embedded database at ${dir} is already open in this process`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new DbErrors.DataDirLocked(`could not lock the embedded database at ${dir}`);
}

/** Opens embedded PGlite (real PostgreSQL in WASM) behind the {@link Database} interface. */
export async function openPglite(opts: PgliteOptions): Promise<Database> {
  const inMemory = opts.dataDir.startsWith('memory://');
  let unlock: (() => Promise<void>) | undefined;
  let dataDir = opts.dataDir;
  if (!inMemory) {
    dataDir = path.resolve(opts.dataDir.replace(/^file:\/\//, ''));
    await mkdir(path.dirname(dataDir), { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  let pg: PGlite;
  try {
    pg = await PGlite.create(dataDir);
    if (opts.searchPath) await pg.query(`SELECT set_config('search_path', $1, false)`, [opts.searchPath]);
  } catch (err) {
    await unlock?.();
    throw err;
  }
  opts.logger?.info({ dataDir: inMemory ? opts.dataDir : dataDir }, 'embedded PGlite database open');
  let closed = false;
  return {
    ...wrap(pg),
    transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R> {
      return pg.transaction((tx) => fn(wrap(tx)));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await pg.close();
      } finally {
        await unlock?.();
      }
    },
  };
}
