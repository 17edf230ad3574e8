export { advisoryLockKey, advisoryXactLock } from './advisory-lock.js';
export type {
  Database,
  DatabaseKind,
  DbLogger,
  Queryable,
  QueryResult,
  Row,
  Transaction,
} from './database.js';
export { quoteIdent } from './database.js';
export { DbErrors } from './errors.js';
export type { MigrateOptions, Migration, MigrationState } from './migrate.js';
export { loadMigrations, MIGRATIONS_DIR, migrate, migrationChecksum, migrationStatus } from './migrate.js';
export type { OpenDatabaseOptions } from './open-database.js';
export { DEFAULT_PGLITE_DATA_DIR, openDatabase } from './open-database.js';
export { requireDatabaseUrl } from './require-url.js';
