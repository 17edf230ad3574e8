/** One line of the CMS "code descriptions in tabular order" file, parsed. */
export interface Icd10OrderRow {
  /** Position in the tabular order (columns 1-5). */
  orderNo: number;
  /** The code without a dot, upper case, e.g. `E1165` (columns 7-13). */
  code: string;
  /** `true` when valid for HIPAA-covered transactions (column 15 = 1); `false` for a header. */
  billable: boolean;
  /** Short description, at most 60 characters (columns 17-76). */
  shortDescription: string;
  /** Full description (column 78 to the end of the line). */
  longDescription: string;
}

/** A code as {@link Icd10CodeSet} returns it. */
export interface Icd10Code {
  /** Display form with the dot after the third character: `E11.65`, `I10`. */
  code: string;
  billable: boolean;
  /** The full (long) description. */
  description: string;
  shortDescription: string;
}

/** A full-text search hit. */
export interface Icd10SearchHit extends Icd10Code {
  /** `ts_rank` of the hit; comparable within one search only. */
  rank: number;
}

/** Progress of an import, reported after every batch written. */
export interface Icd10ImportProgress {
  fiscalYear: number;
  /** Lines read so far. */
  lines: number;
  /** Rows written to the database so far. */
  rows: number;
}

/** Options for {@link importIcd10Order}. */
export interface ImportIcd10Options {
  /** The fiscal year the file is for; default: read from a name like `icd10cm_order_2026.txt`. */
  fiscalYear?: number;
  /** The name recorded as the release's source file (default: the file's base name). */
  sourceName?: string;
  /**
   * Make this release the active one. Default: only when no newer fiscal year is active, so loading
   * an older year for historical claims does not demote the current one.
   */
  activate?: boolean;
  /** Rows per INSERT (default 2000). */
  batchSize?: number;
  onProgress?: (progress: Icd10ImportProgress) => void;
}

/** What an import did. */
export interface Icd10ImportResult {
  fiscalYear: number;
  sourceFile: string;
  /** SHA-256 (hex) of the imported file's bytes. */
  sha256: string;
  rowCount: number;
  billableCount: number;
  headerCount: number;
  /** `true` when this fiscal year was already imported and has been replaced. */
  replaced: boolean;
  /** Whether this release is the active one after the import. */
  active: boolean;
  durationMs: number;
}

/** A release recorded in `icd10cm_releases`. */
export interface Icd10Release {
  fiscalYear: number;
  importedAt: Date;
  sourceFile: string;
  rowCount: number;
  billableCount: number;
  headerCount: number;
  sha256: string;
  active: boolean;
}
