import type { Queryable } from '@ward/db';
import type { Icd10Release } from './types.js';

/** Every imported ICD-10-CM release, newest fiscal year first. */
export async function listIcd10Releases(db: Queryable): Promise<Icd10Release[]> {
  const { rows } = await db.query<{
    fiscal_year: number;
    imported_at: Date;
    source_file: string;
    row_count: number;
    billable_count: number;
    header_count: number;
    sha256: string;
    active: boolean;
  }>('SELECT * FROM icd10cm_releases ORDER BY fiscal_year DESC');
  return rows.map((r) => ({
    fiscalYear: r.fiscal_year,
    importedAt: r.imported_at,
    sourceFile: r.source_file,
    rowCount: r.row_count,
    billableCount: r.billable_count,
    headerCount: r.header_count,
    sha256: r.sha256,
    active: r.active,
  }));
}
