import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { advisoryXactLock } from './advisory-lock.js';
import type { Database, DbLogger, Queryable } from './database.js';
import { DbErrors } from './errors.js';

/** The migrations shipped with @ward/db (`packages/db/migrations`, beside `src/` and `dist/`). */
export const MIGRATIONS_DIR: string = fileURLToPath(new URL('../migrations/', import.meta.url));

/** One migration file, `NNNN_name.sql`. */
export interface Migration {
  version: number;
  name: string;
  file: string;
  /** SHA-256 (hex) of the file with CRLF line endings normalised to LF. */
  checksum: string;
  sql: string;
}

/** Options for {@link migrate} and {@link migrationStatus}. */
export interface MigrateOptions {
  /** Folder of `NNNN_name.sql` files (default: the migrations shipped with @ward/db). */
  dir?: string | URL;
  logger?: DbLogger | undefined;
}

/** Where one migration stands in a database. */
export interface MigrationState {
  version: number;
  name: string;
  /** `changed`: applied, but the file differs now; `unknown`: applied, but no file has this version. */
  status: 'applied' | 'pending' | 'changed' | 'unknown';
  file?: string;
  checksum?: string;
  appliedAt?: Date;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9][a-z0-9_-]*)\.sql$/;

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     integer     PRIMARY KEY,
  name        text        NOT NULL,
  checksum    text        NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  duration_ms integer     NOT NULL DEFAULT 0
)`;

/** SHA-256 of a migration's text; line endings are normalised so a CRLF checkout does not count as a change. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads and orders the `NNNN_name.sql` files in `dir`; other `.sql` names and duplicate versions are errors. */
export async function loadMigrations(dir: string | URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const folder = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const entries = await readdir(folder);
  const byVersion = new Map<number, Migration>();
  for (const file of entries.filter((f) => f.endsWith('.sql')).sort()) {
    const m = FILE_PATTERN.exec(file);
    if (!m) {
      throw new DbErrors.MigrationFile(
        `migration file ${file} in ${folder} is not named NNNN_name.sql (four digits, lower-case name)`,
      );
    }
    const version = Number(m[1]);
    const prior = byVersion.get(version);
    if (prior) throw new DbErrors.MigrationFile(`migrations ${prior.file} and ${file} share version ${m[1]}`);
    const sql = (await readFile(`${folder.replace(/\/$/, '')}/${file}`, 'utf8')).replace(/^\uFEFF/, '');
    byVersion.set(version, { version, name: m[2]!, file, checksum: migrationChecksum(sql), sql });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** Migrations of one schema serialise on this lock; different schemas do not block each other. */
async function lockMigrations(tx: Queryable): Promise<void> {
  const { rows } = await tx.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  await advisoryXactLock(tx, `ward:migrations:${rows[0]?.schema ?? ''}`);
}

async function readApplied(db: Queryable): Promise<Map<number, AppliedRow>> {
  const { rows } = await db.query<AppliedRow>(
    'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
  );
  return new Map(rows.map((r) => [r.version, r]));
}

async function hasMigrationsTable(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS found`,
  );
  return rows[0]?.found === true;
}

function changedError(m: Migration, recorded: string): Error {
  return new DbErrors.MigrationChanged(m.file, recorded, m.checksum, m.file);
}

/**
 * Applies pending migrations in version order, each in its own transaction that takes a
 * per-schema advisory lock first, so processes starting together apply each migration once.
 * Fails, applying nothing, when an applied migration's file has changed. Migrations run without a
 * statement timeout and must be transactional (no `CREATE INDEX CONCURRENTLY`).
 * @returns the versions this call applied (empty when the schema was up to date).
 */
export async function migrate(db: Database, opts: MigrateOptions = {}): Promise<number[]> {
  const migrations = await loadMigrations(opts.dir);
  await db.transaction(async (tx) => {
    await tx.exec('SET LOCAL statement_timeout = 0');
    await lockMigrations(tx);
    await tx.exec(CREATE_TABLE);
  });
  const applied = await readApplied(db);
  for (const m of migrations) {
    const row = applied.get(m.version);
    if (row && row.checksum !== m.checksum) throw changedError(m, row.checksum);
  }
  const known = new Set(migrations.map((m) => m.version));
  for (const row of applied.values()) {
    if (!known.has(row.version)) {
      opts.logger?.warn(
        { version: row.version, name: row.name },
        'the database has a migration this build does not ship (was it migrated by a newer Ward?)',
      );
    }
  }

  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    const started = performance.now();
    const didApply = await db.transaction(async (tx) => {
      await tx.exec('SET LOCAL statement_timeout = 0');
      await lockMigrations(tx);
      // Another process may have applied it while this one waited for the lock.
      const { rows } = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE version = $1',
        [m.version],
      );
      if (rows[0]) {
        if (rows[0].checksum !== m.checksum) throw changedError(m, rows[0].checksum);
        return false;
      }
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new DbErrors.MigrationFailed(m.file, (err as Error).message, { cause: err });
      }
      await tx.query(
        'INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)',
        [m.version, m.name, m.checksum, Math.round(performance.now() - started)],
      );
      return true;
    });
    if (didApply) {
      done.push(m.version);
      opts.logger?.info({ version: m.version, file: m.file }, 'migration applied');
    }
  }
  return done;
}

/** Every shipped and every applied migration with its state, in version order; changes nothing. */
export async function migrationStatus(db: Database, opts: MigrateOptions = {}): Promise<MigrationState[]> {
  const migrations = await loadMigrations(opts.dir);
  const applied = (await hasMigrationsTable(db)) ? await readApplied(db) : new Map<number, AppliedRow>();
  const states: MigrationState[] = migrations.map((m) => {
    const row = applied.get(m.version);
    if (!row)
      return { version: m.version, name: m.name, status: 'pending', file: m.file, checksum: m.checksum };
    return {
      version: m.version,
      name: m.name,
      status: row.checksum === m.checksum ? 'applied' : 'changed',
      file: m.file,
      checksum: row.checksum,
      appliedAt: row.applied_at,
    };
  });
  const known = new Set(migrations.map((m) => m.version));
  for (const row of applied.values()) {
    if (known.has(row.version)) continue;
    states.push({
      version: row.version,
      name: row.name,
      status: 'unknown',
      checksum: row.checksum,
      appliedAt: row.applied_at,
    });
  }
  return states.sort((a, b) => a.version - b.version);
}
