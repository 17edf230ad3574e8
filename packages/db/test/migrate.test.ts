import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DbErrors,
  loadMigrations,
  MIGRATIONS_DIR,
  migrate,
  migrationChecksum,
  migrationStatus,
} from '../src/index.js';
import { openTestDatabase, type TestDatabase } from '../src/testing.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

async function writeMigrations(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
}

const BASE = {
  '0001_people.sql': 'CREATE TABLE people (id integer PRIMARY KEY, name text NOT NULL);',
  '0002_people_seed.sql': `INSERT INTO people VALUES (1, 'Ada');\r\nINSERT INTO people VALUES (2, 'Grace');\r\n`,
};

describe.each(['postgres', 'pglite'] as const)('migrate on %s', (kind) => {
  let t: TestDatabase;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ward-migrations-'));
    await writeMigrations(dir, BASE);
    t = await openTestDatabase(kind);
  });
  afterEach(async () => {
    await t?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies pending migrations once, in order, and is a no-op the second time', async () => {
    expect(await migrate(t.db, { dir })).toEqual([1, 2]);
    expect(await migrate(t.db, { dir })).toEqual([]);
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM people');
    expect(rows).toEqual([{ n: 2 }]);
    const recorded = await t.db.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    expect(recorded.rows).toEqual([
      { version: 1, name: 'people', checksum: migrationChecksum(BASE['0001_people.sql']) },
      { version: 2, name: 'people_seed', checksum: migrationChecksum(BASE['0002_people_seed.sql']) },
    ]);
  });

  it('applies only the new file when a migration is added later', async () => {
    await migrate(t.db, { dir });
    await writeMigrations(dir, { '0003_people_email.sql': 'ALTER TABLE people ADD COLUMN email text;' });
    expect(await migrate(t.db, { dir })).toEqual([3]);
  });

  it('applies each migration once when two callers migrate at the same time', async () => {
    // On PostgreSQL two pools race; on PGlite two callers share the single session.
    const other = kind === 'postgres' ? await t.open() : t.db;
    const [a, b] = await Promise.all([migrate(t.db, { dir }), migrate(other, { dir })]);
    expect([...a, ...b].sort()).toEqual([1, 2]);
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM people');
    expect(rows).toEqual([{ n: 2 }]);
  });

  it('refuses to run when an applied migration was edited, naming the file', async () => {
    await migrate(t.db, { dir });
    await appendFile(path.join(dir, '0001_people.sql'), '\n-- edited');
    await writeMigrations(dir, { '0003_more.sql': 'CREATE TABLE more (id integer);' });
    const err = await migrate(t.db, { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbErrors.MigrationChanged);
    expect((err as Error).message).toContain('0001_people.sql');
    const { rows } = await t.db.query(`SELECT to_regclass('more') IS NULL AS absent`);
    expect(rows).toEqual([{ absent: true }]);
    const status = await migrationStatus(t.db, { dir });
    expect(status.map((s) => [s.version, s.status])).toEqual([
      [1, 'changed'],
      [2, 'applied'],
      [3, 'pending'],
    ]);
  });

  it('does not count a change of line endings alone as an edit', async () => {
    await migrate(t.db, { dir });
    await writeFile(
      path.join(dir, '0002_people_seed.sql'),
      BASE['0002_people_seed.sql'].replace(/\r\n/g, '\n'),
    );
    expect(await migrate(t.db, { dir })).toEqual([]);
  });

  it('rolls back a failing migration, records nothing for it, and names the file', async () => {
    await writeMigrations(dir, {
      '0003_broken.sql': 'CREATE TABLE half (id integer); INSERT INTO nowhere VALUES (1);',
    });
    const err = await migrate(t.db, { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbErrors.MigrationFailed);
    expect((err as Error).message).toMatch(/0003_broken\.sql failed: .*nowhere/);
    const { rows } = await t.db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY 1',
    );
    expect(rows.map((r) => r.version)).toEqual([1, 2]);
    const half = await t.db.query(`SELECT to_regclass('half') IS NULL AS absent`);
    expect(half.rows).toEqual([{ absent: true }]);
  });

  it('reports status before and after migrating, including versions the build does not ship', async () => {
    expect((await migrationStatus(t.db, { dir })).map((s) => s.status)).toEqual(['pending', 'pending']);
    await migrate(t.db, { dir });
    await t.db.query(`INSERT INTO schema_migrations (version, name, checksum) VALUES (9, 'future', 'x')`);
    const status = await migrationStatus(t.db, { dir });
    expect(status.map((s) => [s.version, s.status])).toEqual([
      [1, 'applied'],
      [2, 'applied'],
      [9, 'unknown'],
    ]);
    expect(status[0]!.appliedAt).toBeInstanceOf(Date);
  });

  it('applies the migrations shipped with @ward/db', async () => {
    const shipped = await loadMigrations();
    expect(shipped.length).toBeGreaterThan(0);
    expect(await migrate(t.db)).toEqual(shipped.map((m) => m.version));
    const { rows } = await t.db.query(`SELECT to_regclass('icd10cm_codes') IS NOT NULL AS present`);
    expect(rows).toEqual([{ present: true }]);
  });
});

describe('loadMigrations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ward-migrations-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('finds the shipped migrations relative to the module', () => {
    expect(MIGRATIONS_DIR).toMatch(/packages\/db\/migrations\/$/);
  });

  it('rejects a .sql file that is not named NNNN_name.sql', async () => {
    await writeMigrations(dir, { '1_people.sql': 'SELECT 1;' });
    await expect(loadMigrations(dir)).rejects.toThrow(/1_people\.sql .* is not named NNNN_name\.sql/);
  });

  it('rejects two files with the same version', async () => {
    await writeMigrations(dir, { '0001_a.sql': 'SELECT 1;', '0001_b.sql': 'SELECT 2;' });
    await expect(loadMigrations(dir)).rejects.toThrow(/0001_a\.sql and 0001_b\.sql share version 0001/);
  });
});
