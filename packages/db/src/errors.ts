import createError from '@fastify/error';

/** Errors raised by @ward/db, with stable codes that operators and docs can rely on. */
export const DbErrors = {
  /** A multi-process target was started without DATABASE_URL. */
  UrlRequired: createError<[string]>('WARD_DB_URL_REQUIRED', '%s', 500),
  /** Another process already holds the embedded database directory. */
  DataDirLocked: createError<[string]>('WARD_DB_DATA_DIR_LOCKED', '%s', 500),
  /** A migration file is misnamed, duplicated or unreadable. */
  MigrationFile: createError<[string]>('WARD_DB_MIGRATION_FILE', '%s', 500),
  /** An applied migration's file no longer matches the checksum recorded when it ran. */
  MigrationChanged: createError<[string, string, string, string]>(
    'WARD_DB_MIGRATION_CHANGED',
    'migration %s was changed after it was applied (recorded sha256 %s, file now %s); restore the original file %s and add a new migration instead',
    500,
  ),
  /** A migration failed to apply; its transaction was rolled back. */
  MigrationFailed: createError<[string, string, { cause: unknown }]>(
    'WARD_DB_MIGRATION_FAILED',
    'migration %s failed: %s',
    500,
  ),
} as const;
