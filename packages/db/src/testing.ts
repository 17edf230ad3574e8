import { randomUUID } from 'node:crypto';
import type { Database, DatabaseKind } from './database.js';
import { quoteIdent } from './database.js';
import { migrate } from './migrate.js';
import { openDatabase } from './open-database.js';

/** The PostgreSQL server tests use: `WARD_TEST_DATABASE_URL`, else the local `test` database. */
export const TEST_DATABASE_URL: string =
  process.env.WARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A database of its own for one test file; `dispose` removes every trace of it. */
export interface TestDatabase {
  db: Database;
  /** The schema the PostgreSQL database lives in (`test_<uuid>`); undefined on PGlite. */
  schema: string | undefined;
  /** Opens another connection pool on the same schema (PostgreSQL only), closed by `dispose`. */
  open(): Promise<Database>;
  /** Closes every pool and drops the schema. */
  dispose(): Promise<void>;
}

/** Options for {@link openTestDatabase}. */
export interface TestDatabaseOptions {
  /** Apply the shipped migrations first (default false). */
  migrate?: boolean;
}

/**
 * Opens a throw-away database: on PostgreSQL a fresh `test_<uuid>` schema on
 * {@link TEST_DATABASE_URL} (dropped by `dispose`), on PGlite an in-memory instance.
 */
export async function openTestDatabase(
  kind: DatabaseKind,
  opts: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const db = await openDatabase({ dataDir: 'memory://' });
    if (opts.migrate) await migrate(db);
    return {
      db,
      schema: undefined,
      open: () => Promise.reject(new Error('PGlite is single-connection; use the one database')),
      dispose: () => db.close(),
    };
  }
  const schema = `test_${randomUUID().replace(/-/g, '')}`;
  const admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
  await admin.exec(`CREATE SCHEMA ${quoteIdent(schema)}`);
  const opened: Database[] = [];
  const open = async (): Promise<Database> => {
    const db = await openDatabase({ url: TEST_DATABASE_URL, searchPath: schema, poolSize: 4 });
    opened.push(db);
    return db;
  };
  try {
    const db = await open();
    if (opts.migrate) await migrate(db);
    return {
      db,
      schema,
      open,
      async dispose() {
        await Promise.allSettled(opened.map((d) => d.close()));
        try {
          await admin.exec(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
        } finally {
          await admin.close();
        }
      },
    };
  } catch (err) {
    await Promise.allSettled(opened.map((d) => d.close()));
    await admin.exec(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => {});
    await admin.close();
    throw err;
  }
}
