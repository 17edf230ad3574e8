import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { advisoryXactLock, type Database, type Queryable } from '@ward/db';
import { Icd10Error, Icd10FormatError } from './errors.js';
import { parseOrderLine } from './parse-order-line.js';
import type { Icd10ImportResult, Icd10OrderRow, ImportIcd10Options } from './types.js';

/** What {@link importIcd10Order} reads: a file path, or the file's bytes as a stream. */
export type Icd10Source = string | AsyncIterable<Uint8Array | string>;

const YEAR_IN_NAME = /icd10cm[-_]order[-_](\d{4})\b/i;
const DEFAULT_BATCH = 2000;

/** The fiscal year in a CMS file name: `icd10cm_order_2026.txt` (CMS) or `icd10cm-order-2026.txt` (CDC). */
export function fiscalYearFromFileName(name: string): number | undefined {
  const m = YEAR_IN_NAME.exec(path.basename(name));
  return m ? Number(m[1]) : undefined;
}

/** Yields `[lineNumber, line]` without line endings (CRLF or LF); hashes the raw bytes on the way. */
async function* readLines(
  source: AsyncIterable<Uint8Array | string>,
  hash: ReturnType<typeof createHash>,
): AsyncGenerator<[number, string]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNumber = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      lineNumber++;
      yield [lineNumber, line.endsWith('\r') ? line.slice(0, -1) : line];
    }
  }
  rest += decoder.end();
  if (rest !== '') yield [lineNumber + 1, rest.endsWith('\r') ? rest.slice(0, -1) : rest];
}

class Batch {
  codes: string[] = [];
  billable: boolean[] = [];
  shorts: string[] = [];
  longs: string[] = [];
  orders: number[] = [];
  push(row: Icd10OrderRow): void {
    this.codes.push(row.code);
    this.billable.push(row.billable);
    this.shorts.push(row.shortDescription);
    this.longs.push(row.longDescription);
    this.orders.push(row.orderNo);
  }
  get size(): number {
    return this.codes.length;
  }
}

async function insertBatch(tx: Queryable, fiscalYear: number, b: Batch): Promise<void> {
  await tx.query(
    `INSERT INTO icd10cm_codes (fiscal_year, code, billable, short_desc, long_desc, order_no)
     SELECT $1::integer, * FROM unnest($2::text[], $3::boolean[], $4::text[], $5::text[], $6::integer[])`,
    [fiscalYear, b.codes, b.billable, b.shorts, b.longs, b.orders],
  );
}

function resolveFiscalYear(source: Icd10Source, opts: ImportIcd10Options, name: string | undefined): number {
  const year = opts.fiscalYear ?? (name ? fiscalYearFromFileName(name) : undefined);
  if (year === undefined) {
    throw new Icd10Error(
      'WARD_ICD10_FISCAL_YEAR',
      typeof source === 'string'
        ? `cannot tell the fiscal year from the file name ${JSON.stringify(path.basename(source))}; name it icd10cm_order_YYYY.txt or pass the fiscal year`
        : 'cannot tell the fiscal year of a stream; pass the fiscal year',
    );
  }
  if (!Number.isInteger(year) || year < 2000 || year > 2999) {
    throw new Icd10Error('WARD_ICD10_FISCAL_YEAR', `fiscal year must be a four-digit year, got ${year}`);
  }
  return year;
}

/**
 * Imports a CMS "ICD-10-CM Code Descriptions in Tabular Order" file (`icd10cm_order_YYYY.txt`) as
 * one fiscal year's release, in a single transaction: the file is streamed, every line validated
 * (a bad line aborts the import with an {@link Icd10FormatError} naming it, leaving the database as
 * it was), and rows are inserted in batches. Re-importing a year replaces it atomically; other
 * years stay queryable. The release becomes active unless a newer year is active (see
 * {@link ImportIcd10Options.activate}). Concurrent imports wait for each other.
 */
export async function importIcd10Order(
  db: Database,
  source: Icd10Source,
  opts: ImportIcd10Options = {},
): Promise<Icd10ImportResult> {
  const started = performance.now();
  const name = opts.sourceName ?? (typeof source === 'string' ? path.basename(source) : undefined);
  const fiscalYear = resolveFiscalYear(source, opts, name);
  const sourceFile = name ?? `icd10cm_order_${fiscalYear}.txt`;
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
  // Opening first makes a missing file fail before any transaction starts.
  const file = typeof source === 'string' ? await open(source) : undefined;
  const stream = typeof source === 'string' ? file!.createReadStream({ highWaterMark: 1 << 20 }) : source;

  let result: Omit<Icd10ImportResult, 'durationMs'>;
  try {
    result = await db.transaction((tx) =>
      writeRelease(tx, stream, {
        fiscalYear,
        sourceFile,
        batchSize,
        activate: opts.activate,
        onProgress: opts.onProgress,
      }),
    );
  } finally {
    await file?.close();
  }
  // Fresh statistics let the planner use the full-text index well straight away.
  await db.exec('ANALYZE icd10cm_codes');
  return { ...result, durationMs: Math.round(performance.now() - started) };
}

interface WriteReleaseOptions {
  fiscalYear: number;
  sourceFile: string;
  batchSize: number;
  activate: boolean | undefined;
  onProgress: ImportIcd10Options['onProgress'];
}

/** Replaces one fiscal year's rows with the validated lines of `stream`, inside transaction `tx`. */
async function writeRelease(
  tx: Queryable,
  stream: AsyncIterable<Uint8Array | string>,
  opts: WriteReleaseOptions,
): Promise<Omit<Icd10ImportResult, 'durationMs'>> {
  const { fiscalYear, sourceFile, batchSize } = opts;
  await advisoryXactLock(tx, 'ward:icd10cm-import');
  const prior = await tx.query('SELECT 1 FROM icd10cm_releases WHERE fiscal_year = $1', [fiscalYear]);
  const replaced = prior.rows.length > 0;
  await tx.query('DELETE FROM icd10cm_codes WHERE fiscal_year = $1', [fiscalYear]);
  await tx.query(
    `INSERT INTO icd10cm_releases (fiscal_year, source_file, sha256) VALUES ($1, $2, '')
     ON CONFLICT (fiscal_year) DO UPDATE SET source_file = EXCLUDED.source_file`,
    [fiscalYear, sourceFile],
  );

  const hash = createHash('sha256');
  const seen = new Map<string, number>();
  let batch = new Batch();
  let rows = 0;
  let billableCount = 0;
  let lines = 0;
  let blankLine: number | undefined;
  for await (const [lineNumber, line] of readLines(stream, hash)) {
    lines = lineNumber;
    if (line.trim() === '') {
      blankLine ??= lineNumber;
      continue;
    }
    if (blankLine !== undefined) {
      throw new Icd10FormatError(blankLine, undefined, 'blank line inside the file');
    }
    const row = parseOrderLine(line, lineNumber);
    const first = seen.get(row.code);
    if (first !== undefined) {
      throw new Icd10FormatError(lineNumber, '7-13', `code ${row.code} already appeared on line ${first}`);
    }
    seen.set(row.code, lineNumber);
    batch.push(row);
    if (row.billable) billableCount++;
    if (batch.size >= batchSize) {
      await insertBatch(tx, fiscalYear, batch);
      rows += batch.size;
      batch = new Batch();
      opts.onProgress?.({ fiscalYear, lines, rows });
    }
  }
  if (batch.size > 0) {
    await insertBatch(tx, fiscalYear, batch);
    rows += batch.size;
    opts.onProgress?.({ fiscalYear, lines, rows });
  }
  if (rows === 0) {
    throw new Icd10Error('WARD_ICD10_EMPTY_FILE', `${sourceFile} has no ICD-10-CM codes`);
  }

  const sha256 = hash.digest('hex');
  await tx.query(
    `UPDATE icd10cm_releases
        SET imported_at = now(), row_count = $2, billable_count = $3, header_count = $4, sha256 = $5
      WHERE fiscal_year = $1`,
    [fiscalYear, rows, billableCount, rows - billableCount, sha256],
  );
  const current = await tx.query<{ fiscal_year: number }>(
    'SELECT fiscal_year FROM icd10cm_releases WHERE active',
  );
  const activeYear = current.rows[0]?.fiscal_year;
  const activate = opts.activate ?? (activeYear === undefined || activeYear <= fiscalYear);
  if (activate && activeYear !== fiscalYear) await setActive(tx, fiscalYear);
  return {
    fiscalYear,
    sourceFile,
    sha256,
    rowCount: rows,
    billableCount,
    headerCount: rows - billableCount,
    replaced,
    active: activate || activeYear === fiscalYear,
  };
}

async function setActive(tx: Queryable, fiscalYear: number): Promise<void> {
  // Two statements: the one-active unique index is checked row by row.
  await tx.query('UPDATE icd10cm_releases SET active = false WHERE active AND fiscal_year <> $1', [
    fiscalYear,
  ]);
  await tx.query('UPDATE icd10cm_releases SET active = true WHERE fiscal_year = $1', [fiscalYear]);
}

/**
 * Makes an imported fiscal year the active release (e.g. to roll back to last year's codes).
 * @throws {Icd10Error} `WARD_ICD10_NOT_IMPORTED` when that year has not been imported.
 */
export async function activateIcd10Release(db: Database, fiscalYear: number): Promise<void> {
  await db.transaction(async (tx) => {
    await advisoryXactLock(tx, 'ward:icd10cm-import');
    const { rows } = await tx.query('SELECT 1 FROM icd10cm_releases WHERE fiscal_year = $1', [fiscalYear]);
    if (rows.length === 0) {
      throw new Icd10Error(
        'WARD_ICD10_NOT_IMPORTED',
        `ICD-10-CM fiscal year ${fiscalYear} has not been imported`,
      );
    }
    await setActive(tx, fiscalYear);
  });
}
