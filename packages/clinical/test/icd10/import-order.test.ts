import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  activateIcd10Release,
  Icd10CodeSet,
  Icd10Error,
  Icd10FormatError,
  type Icd10ImportProgress,
  importIcd10Order,
  listIcd10Releases,
} from '../../src/icd10/index.js';
import { FIXTURE_LINES, writeOrderFile } from './fixture.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

describe.each(['postgres', 'pglite'] as const)('importIcd10Order on %s (small fixture)', (kind) => {
  let t: TestDatabase;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ward-icd10-'));
    file = await writeOrderFile(dir, 'icd10cm_order_2026.txt');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    t = await openTestDatabase(kind, { migrate: true });
  });
  afterEach(() => t?.dispose());

  it('stores the exact fields of header and billable rows and records the release', async () => {
    const progress: Icd10ImportProgress[] = [];
    const result = await importIcd10Order(t.db, file, { batchSize: 3, onProgress: (p) => progress.push(p) });
    const sha256 = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    expect(result).toMatchObject({
      fiscalYear: 2026,
      sourceFile: 'icd10cm_order_2026.txt',
      sha256,
      rowCount: 7,
      billableCount: 5,
      headerCount: 2,
      replaced: false,
      active: true,
    });
    expect(progress.map((p) => p.rows)).toEqual([3, 6, 7]);

    const { rows } = await t.db.query(
      `SELECT fiscal_year, code, billable, short_desc, long_desc, order_no
         FROM icd10cm_codes WHERE code IN ('A00', 'A000') ORDER BY order_no`,
    );
    expect(rows).toEqual([
      {
        fiscal_year: 2026,
        code: 'A00',
        billable: false,
        short_desc: 'Cholera',
        long_desc: 'Cholera',
        order_no: 1,
      },
      {
        fiscal_year: 2026,
        code: 'A000',
        billable: true,
        short_desc: 'Cholera due to Vibrio cholerae 01, biovar cholerae',
        long_desc: 'Cholera due to Vibrio cholerae 01, biovar cholerae',
        order_no: 2,
      },
    ]);
    const [release] = await listIcd10Releases(t.db);
    expect(release).toMatchObject({
      fiscalYear: 2026,
      sourceFile: 'icd10cm_order_2026.txt',
      rowCount: 7,
      billableCount: 5,
      headerCount: 2,
      sha256,
      active: true,
    });
    expect(release!.importedAt).toBeInstanceOf(Date);
  });

  it('fails on a malformed line, naming its line number, and leaves the database as it was', async () => {
    await importIcd10Order(t.db, file);
    const broken = [...FIXTURE_LINES];
    broken[4] = broken[4]!.replace('E119    1', 'E119    Y');
    const bad = await writeOrderFile(dir, 'icd10cm_order_2026_bad.txt', broken);
    const err = await importIcd10Order(t.db, bad, { fiscalYear: 2026 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Icd10FormatError);
    expect((err as Icd10FormatError).line).toBe(5);
    expect((err as Error).message).toBe(
      'line 5, column 15: billable flag must be 1 (billable) or 0 (header), found "Y"',
    );
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM icd10cm_codes');
    expect(rows).toEqual([{ n: 7 }]);
    expect((await listIcd10Releases(t.db))[0]).toMatchObject({ rowCount: 7, active: true });
  });

  it('rejects a code that appears twice, naming both lines', async () => {
    const bad = await writeOrderFile(dir, 'icd10cm_order_2027.txt', [...FIXTURE_LINES, FIXTURE_LINES[5]!]);
    await expect(importIcd10Order(t.db, bad)).rejects.toThrow(
      'line 8, column 7-13: code I10 already appeared on line 6',
    );
    expect(await listIcd10Releases(t.db)).toEqual([]);
  });

  it('rejects a blank line between codes but accepts blank lines at the end', async () => {
    const gap = await writeOrderFile(dir, 'icd10cm_order_2028.txt', [
      FIXTURE_LINES[0]!,
      '',
      FIXTURE_LINES[1]!,
    ]);
    await expect(importIcd10Order(t.db, gap)).rejects.toThrow('line 2: blank line inside the file');
    const tail = await writeOrderFile(dir, 'icd10cm_order_2029.txt', [...FIXTURE_LINES, '', '']);
    expect((await importIcd10Order(t.db, tail)).rowCount).toBe(7);
  });

  it('refuses a file without codes and a file whose fiscal year it cannot tell', async () => {
    const empty = await writeOrderFile(dir, 'icd10cm_order_2030.txt', []);
    await expect(importIcd10Order(t.db, empty)).rejects.toMatchObject({ code: 'WARD_ICD10_EMPTY_FILE' });
    const anon = await writeOrderFile(dir, 'codes.txt');
    const err = await importIcd10Order(t.db, anon).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Icd10Error);
    expect((err as Error).message).toMatch(/fiscal year .* "codes\.txt"; name it icd10cm_order_YYYY\.txt/);
  });

  it('re-imports the same year atomically, replacing its rows', async () => {
    await importIcd10Order(t.db, file);
    const revised = FIXTURE_LINES.filter((l) => !l.includes('E1165')).map((l) =>
      l.endsWith(' Essential (primary) hypertension') ? `${l} (revised)` : l,
    );
    const revisedDir = await mkdtemp(path.join(dir, 'revised-'));
    const second = await importIcd10Order(
      t.db,
      await writeOrderFile(revisedDir, 'icd10cm_order_2026.txt', revised),
    );
    expect(second).toMatchObject({ replaced: true, rowCount: 6, billableCount: 4, active: true });
    const set = await new Icd10CodeSet().load(t.db);
    expect(set.lookup('I10')?.description).toBe('Essential (primary) hypertension (revised)');
    expect(set.lookup('E11.65')).toBeUndefined();
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM icd10cm_codes');
    expect(rows).toEqual([{ n: 6 }]);
  });

  it('activates a newer year, keeps older years queryable, and does not demote it for an older import', async () => {
    await importIcd10Order(t.db, file, { fiscalYear: 2025 });
    const newer = await importIcd10Order(t.db, file, { fiscalYear: 2026 });
    expect(newer.active).toBe(true);
    const older = await importIcd10Order(t.db, file, { fiscalYear: 2024 });
    expect(older.active).toBe(false);
    const releases = await listIcd10Releases(t.db);
    expect(releases.map((r) => [r.fiscalYear, r.active])).toEqual([
      [2026, true],
      [2025, false],
      [2024, false],
    ]);
    expect((await new Icd10CodeSet().load(t.db)).fiscalYear).toBe(2026);
    const old = await new Icd10CodeSet().load(t.db, { fiscalYear: 2024 });
    expect(old.lookup('I10')?.billable).toBe(true);

    await activateIcd10Release(t.db, 2025);
    expect((await listIcd10Releases(t.db)).filter((r) => r.active).map((r) => r.fiscalYear)).toEqual([2025]);
    await expect(activateIcd10Release(t.db, 2019)).rejects.toMatchObject({ code: 'WARD_ICD10_NOT_IMPORTED' });
  });

  it('imports from a stream when told the fiscal year', async () => {
    const stream = Readable.from([Buffer.from(FIXTURE_LINES.map((l) => `${l}\r\n`).join(''))]);
    const result = await importIcd10Order(t.db, stream, { fiscalYear: 2026, sourceName: 'upload.txt' });
    expect(result).toMatchObject({ rowCount: 7, sourceFile: 'upload.txt' });
    await expect(
      importIcd10Order(t.db, Readable.from([Buffer.from(FIXTURE_LINES[0]!)])),
    ).rejects.toMatchObject({ code: 'WARD_ICD10_FISCAL_YEAR' });
  });

  it('loads the active year for lookups, children and search', async () => {
    await expect(new Icd10CodeSet().load(t.db)).rejects.toMatchObject({ code: 'WARD_ICD10_NOT_IMPORTED' });
    await importIcd10Order(t.db, file);
    const set = await new Icd10CodeSet().load(t.db);
    expect(set.size).toBe(7);
    expect(set.lookup('e11.65')).toEqual({
      code: 'E11.65',
      billable: true,
      description: 'Type 2 diabetes mellitus with hyperglycemia',
      shortDescription: 'Type 2 diabetes mellitus with hyperglycemia',
    });
    expect(set.lookup('T360X1A')?.code).toBe('T36.0X1A');
    expect(set.childrenOf('E11').map((c) => c.code)).toEqual(['E11.9', 'E11.65']);
    const hits = await set.search('essential hypertension', 5);
    expect(hits[0]).toMatchObject({ code: 'I10', billable: true });
    expect(await set.search('the and of', 5)).toEqual([]);
    expect(await set.search('   ', 5)).toEqual([]);
  });
});
