import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Database, DbErrors, openDatabase, requireDatabaseUrl } from '../src/index.js';
import { openTestDatabase, type TestDatabase } from '../src/testing.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

describe.each(['postgres', 'pglite'] as const)('Database on %s', (kind) => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    db = t.db;
    await db.exec(`
      CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, tags text[], meta jsonb, ok boolean);
      CREATE TABLE counters (name text PRIMARY KEY, n integer NOT NULL);
    `);
  });
  afterAll(() => t?.dispose());

  it(`reports its kind as ${kind}`, () => {
    expect(db.kind).toBe(kind);
  });

  it('binds $n parameters of every common type, including null and arrays, without SQL injection', async () => {
    const evil = "x'); DROP TABLE notes; --";
    const inserted = await db.query<{ id: number }>(
      'INSERT INTO notes (body, tags, meta, ok) VALUES ($1, $2, $3, $4) RETURNING id',
      [evil, ['a', 'b'], JSON.stringify({ k: 1 }), null],
    );
    expect(inserted.rowCount).toBe(1);
    const { rows } = await db.query<{ body: string; tags: string[]; meta: unknown; ok: boolean | null }>(
      'SELECT body, tags, meta, ok FROM notes WHERE id = $1',
      [inserted.rows[0]!.id],
    );
    expect(rows).toEqual([{ body: evil, tags: ['a', 'b'], meta: { k: 1 }, ok: null }]);
    const sum = await db.query<{ s: number }>('SELECT ($1::int + $2::int)::int AS s', [40, 2]);
    expect(sum.rows[0]!.s).toBe(42);
  });

  it('runs multi-statement scripts with exec', async () => {
    await db.exec(`INSERT INTO counters VALUES ('a', 1); INSERT INTO counters VALUES ('b', 2);`);
    const { rows } = await db.query<{ n: number }>('SELECT sum(n)::int AS n FROM counters');
    expect(rows[0]!.n).toBe(3);
  });

  it('commits a transaction whose function resolves and returns its value', async () => {
    const value = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO counters VALUES ($1, $2)', ['c', 10]);
      return 'done';
    });
    expect(value).toBe('done');
    const { rows } = await db.query('SELECT n FROM counters WHERE name = $1', ['c']);
    expect(rows).toEqual([{ n: 10 }]);
  });

  it('rolls back every statement of a transaction whose function throws, and rethrows', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO counters VALUES ($1, $2)', ['d', 1]);
        await tx.query('UPDATE counters SET n = n + 100');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await db.query<{ name: string; n: number }>(
      'SELECT name, n FROM counters ORDER BY name',
    );
    expect(rows).toEqual([
      { name: 'a', n: 1 },
      { name: 'b', n: 2 },
      { name: 'c', n: 10 },
    ]);
  });

  it('rolls back when a statement fails inside the transaction and stays usable afterwards', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO counters VALUES ($1, $2)', ['e', 1]);
        await tx.query('INSERT INTO counters VALUES ($1, $2)', ['e', 2]);
      }),
    ).rejects.toThrow(/duplicate key/);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM counters WHERE name = $1', ['e']);
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('openDatabase on PostgreSQL', () => {
  it('names its sessions ward and sets a statement timeout', async () => {
    const t = await openTestDatabase('postgres');
    try {
      const { rows } = await t.db.query<{ app: string; timeout: string; schema: string }>(
        `SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS timeout,
                current_schema() AS schema`,
      );
      expect(rows[0]).toEqual({ app: 'ward', timeout: '30s', schema: t.schema });
    } finally {
      await t.dispose();
    }
  });

  it('cancels a statement that runs past the statement timeout', async () => {
    const t = await openTestDatabase('postgres');
    const db = await openDatabase({
      url: process.env.WARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      statementTimeoutMs: 100,
      poolSize: 1,
    });
    try {
      await expect(db.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/);
    } finally {
      await db.close();
      await t.dispose();
    }
  });
});

describe('openDatabase on embedded PGlite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ward-pglite-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('persists to its data directory and refuses a second opener while it is open', async () => {
    const dataDir = path.join(dir, 'nested', 'pglite');
    const first = await openDatabase({ dataDir });
    try {
      expect(first.kind).toBe('pglite');
      expect(await readFile(`${dataDir}.lock`, 'utf8')).toBe(String(process.pid));
      await first.exec(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here');`);
      await expect(openDatabase({ dataDir })).rejects.toBeInstanceOf(DbErrors.DataDirLocked);
    } finally {
      await first.close();
    }
    const second = await openDatabase({ dataDir });
    try {
      const { rows } = await second.query('SELECT v FROM kept');
      expect(rows).toEqual([{ v: 'still here' }]);
    } finally {
      await second.close();
    }
  });
});

describe('requireDatabaseUrl', () => {
  it('refuses a multi-process target without DATABASE_URL, naming the target and the variable', () => {
    expect(() => requireDatabaseUrl('gateway', {})).toThrow(DbErrors.UrlRequired);
    expect(() => requireDatabaseUrl('worker', { DATABASE_URL: '  ' })).toThrow(
      /ward start --target worker needs DATABASE_URL/,
    );
  });

  it('returns DATABASE_URL when set, and lets the all-in-one target fall back to PGlite', () => {
    expect(requireDatabaseUrl('audit', { DATABASE_URL: 'postgres://db/ward' })).toBe('postgres://db/ward');
    expect(requireDatabaseUrl('all', {})).toBeUndefined();
  });
});

describe('the embedded database lock', () => {
  it('takes over a lock file left by a process that has exited', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ward-pglite-'));
    const dataDir = path.join(dir, 'pglite');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(`${dataDir}.lock`, String(gone));
    try {
      const db = await openDatabase({ dataDir });
      expect(await readFile(`${dataDir}.lock`, 'utf8')).toBe(String(process.pid));
      await db.close();
      await expect(readFile(`${dataDir}.lock`, 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
