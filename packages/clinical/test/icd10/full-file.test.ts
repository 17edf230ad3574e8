import { existsSync } from 'node:fs';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Icd10CodeSet, type Icd10ImportResult, importIcd10Order } from '../../src/icd10/index.js';
import { FULL_FILE } from './fixture.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// sha256 of icd10cm_order_2026.txt as published by CMS (see /work/shared/data/icd10cm/SOURCE.md).
const CMS_SHA256 = '6dc95c9c7e96c734806e1682f4bf9df76251d60e99199bba0d375ba3dd11026b';

describe('the complete CMS FY2026 order file on PostgreSQL', () => {
  let t: TestDatabase;
  let first: Icd10ImportResult;
  let set: Icd10CodeSet;

  beforeAll(async () => {
    if (!existsSync(FULL_FILE)) throw new Error(`the FY2026 CMS order file is missing at ${FULL_FILE}`);
    t = await openTestDatabase('postgres', { migrate: true });
    first = await importIcd10Order(t.db, FULL_FILE);
    set = await new Icd10CodeSet().load(t.db);
  });
  afterAll(() => t?.dispose());

  it('imports all 98,186 codes: 74,719 billable and 23,467 headers, with the published checksum', () => {
    expect(first).toMatchObject({
      fiscalYear: 2026,
      sourceFile: 'icd10cm_order_2026.txt',
      rowCount: 98_186,
      billableCount: 74_719,
      headerCount: 23_467,
      sha256: CMS_SHA256,
      active: true,
    });
    expect(set.size).toBe(98_186);
    expect(set.fiscalYear).toBe(2026);
  });

  it('knows I10 and E11.9 as billable and E11 as a header', () => {
    expect(set.lookup('I10')).toEqual({
      code: 'I10',
      billable: true,
      description: 'Essential (primary) hypertension',
      shortDescription: 'Essential (primary) hypertension',
    });
    expect(set.lookup('E11.9')).toMatchObject({
      billable: true,
      description: 'Type 2 diabetes mellitus without complications',
    });
    expect(set.lookup('E11')).toMatchObject({ code: 'E11', billable: false });
    // FY2026 added the first category whose second character is a letter.
    expect(set.lookup('qa0.0101')).toMatchObject({
      code: 'QA0.0101',
      billable: true,
      description: 'SCN2A-related neurodevelopmental disorder',
    });
    expect(set.isValidFormat('QA0.0101')).toBe(true);
  });

  it('looks codes up dotted or undotted, in any case, and misses unknown ones', () => {
    expect(set.lookup('E119')).toBe(set.lookup('e11.9'));
    expect(set.lookup(' z00.00 ')?.code).toBe('Z00.00');
    expect(set.lookup('J18.9')?.description).toBe('Pneumonia, unspecified organism');
    expect(set.lookup('E11.99')).toBeUndefined();
    expect(set.lookup('not a code')).toBeUndefined();
  });

  it('suggests billable children of a header, broadest first and capped', () => {
    const children = set.childrenOf('E11');
    expect(children.map((c) => c.code)).toContain('E11.9');
    expect(children.map((c) => c.code).slice(0, 2)).toEqual(['E11.8', 'E11.9']);
    expect(children.every((c) => c.billable && c.code.startsWith('E11.'))).toBe(true);
    expect(children).toHaveLength(50);
    expect(set.childrenOf('E11', 5)).toHaveLength(5);
    expect(set.childrenOf('E11.3', 1000).every((c) => c.code.startsWith('E11.3'))).toBe(true);
    expect(set.childrenOf('I10')).toEqual([]);
    expect(set.childrenOf('bogus')).toEqual([]);
  });

  it("finds I10 among the top results for 'essential hypertension'", async () => {
    const hits = await set.search('essential hypertension', 10);
    expect(hits.slice(0, 3).map((h) => h.code)).toContain('I10');
  });

  it("finds E11.9 near the top for 'type 2 diabetes mellitus without complications'", async () => {
    const hits = await set.search(t.db, 'type 2 diabetes mellitus without complications', 10);
    expect(hits.slice(0, 3).map((h) => h.code)).toContain('E11.9');
    expect(hits.every((h, i) => i === 0 || !h.billable || hits[i - 1]!.billable)).toBe(true);
  });

  it('fills up with partial matches when no code has every word', async () => {
    const hits = await set.search('patient has essential hypertension and gout flare', 10);
    expect(hits).toHaveLength(10);
    expect(hits.map((h) => h.code)).toContain('I10');
  });

  it('re-imports the same year safely: counts unchanged, replaced in place', async () => {
    const again = await importIcd10Order(t.db, FULL_FILE);
    expect(again).toMatchObject({
      replaced: true,
      rowCount: 98_186,
      billableCount: 74_719,
      headerCount: 23_467,
    });
    const { rows } = await t.db.query<{ n: number; billable: number }>(
      'SELECT count(*)::int AS n, count(*) FILTER (WHERE billable)::int AS billable FROM icd10cm_codes',
    );
    expect(rows).toEqual([{ n: 98_186, billable: 74_719 }]);
  });
});
