import type { Queryable } from '@ward/db';
import { isValidIcd10Format, normalizeCode, toDottedCode } from './code-format.js';
import { Icd10Error } from './errors.js';
import { listIcd10Releases } from './releases.js';
import { searchIcd10 } from './search.js';
import type { Icd10Code, Icd10SearchHit } from './types.js';

interface Entry {
  readonly value: Icd10Code;
  readonly orderNo: number;
}

/** Options for {@link Icd10CodeSet.load}. */
export interface LoadIcd10Options {
  /** The fiscal year to load (default: the active release). */
  fiscalYear?: number;
}

/** Default and largest number of codes {@link Icd10CodeSet.childrenOf} returns. */
export const CHILDREN_DEFAULT_LIMIT = 50;
export const CHILDREN_MAX_LIMIT = 1000;

/**
 * One fiscal year of ICD-10-CM held in memory for sub-microsecond lookups and billable-child
 * suggestions, with full-text search delegated to the database. `load` again to pick up a newly
 * activated release; the swap is atomic for readers.
 */
export class Icd10CodeSet {
  #byCode = new Map<string, Entry>();
  /** Stored (undotted) codes in lexicographic order, so a category's descendants are one range. */
  #sorted: string[] = [];
  #fiscalYear: number | undefined;
  #db: Queryable | undefined;

  /** The fiscal year loaded, or undefined before {@link load}. */
  get fiscalYear(): number | undefined {
    return this.#fiscalYear;
  }

  /** Number of codes (billable and header) loaded. */
  get size(): number {
    return this.#byCode.size;
  }

  /**
   * Loads the active release (or `opts.fiscalYear`) from the database into memory and remembers
   * `db` for {@link search}.
   * @throws {Icd10Error} `WARD_ICD10_NOT_IMPORTED` when there is no such release.
   */
  async load(db: Queryable, opts: LoadIcd10Options = {}): Promise<this> {
    let year = opts.fiscalYear;
    if (year === undefined) {
      year = (await listIcd10Releases(db)).find((r) => r.active)?.fiscalYear;
      if (year === undefined) {
        throw new Icd10Error(
          'WARD_ICD10_NOT_IMPORTED',
          'no ICD-10-CM release is active; import the CMS file with `ward icd10 import icd10cm_order_YYYY.txt`',
        );
      }
    }
    const { rows } = await db.query<{
      code: string;
      billable: boolean;
      short_desc: string;
      long_desc: string;
      order_no: number;
    }>(
      'SELECT code, billable, short_desc, long_desc, order_no FROM icd10cm_codes WHERE fiscal_year = $1 ORDER BY order_no',
      [year],
    );
    if (rows.length === 0) {
      throw new Icd10Error('WARD_ICD10_NOT_IMPORTED', `ICD-10-CM fiscal year ${year} has not been imported`);
    }
    const byCode = new Map<string, Entry>();
    for (const r of rows) {
      const value: Icd10Code = Object.freeze({
        code: toDottedCode(r.code),
        billable: r.billable,
        description: r.long_desc,
        shortDescription: r.short_desc,
      });
      byCode.set(r.code, { value, orderNo: r.order_no });
    }
    this.#byCode = byCode;
    this.#sorted = [...byCode.keys()].sort();
    this.#fiscalYear = year;
    this.#db = db;
    return this;
  }

  /** The code, dotted or not, any case (`e11.9`, `E119`), or undefined when it is not in the code set. */
  lookup(code: string): Icd10Code | undefined {
    return this.#byCode.get(normalizeCode(code))?.value;
  }

  /** Every loaded code, billable and header, in tabular order. */
  *codes(): IterableIterator<Icd10Code> {
    for (const entry of this.#byCode.values()) yield entry.value;
  }

  /** Whether `code` has the shape of an ICD-10-CM code (see {@link isValidIcd10Format}); not whether it exists. */
  isValidFormat(code: string): boolean {
    return isValidIcd10Format(code);
  }

  /**
   * Billable codes below `code` (a category or header such as `E11` or `E11.3`), broadest first
   * (`E11.9`, `E11.8` before `E11.311`), then in tabular order; at most `limit` (default 50).
   * Empty for an unknown or malformed code and for a code without descendants.
   */
  childrenOf(code: string, limit: number = CHILDREN_DEFAULT_LIMIT): Icd10Code[] {
    if (!isValidIcd10Format(code)) return [];
    const prefix = normalizeCode(code);
    const cap = Math.min(Math.max(0, Math.floor(limit)), CHILDREN_MAX_LIMIT);
    const found: Array<{ code: string; entry: Entry }> = [];
    for (let i = lowerBound(this.#sorted, prefix); i < this.#sorted.length; i++) {
      const c = this.#sorted[i]!;
      if (!c.startsWith(prefix)) break;
      const entry = this.#byCode.get(c)!;
      if (c !== prefix && entry.value.billable) found.push({ code: c, entry });
    }
    found.sort((a, b) => a.code.length - b.code.length || a.entry.orderNo - b.entry.orderNo);
    return found.slice(0, cap).map((f) => f.entry.value);
  }

  /**
   * Full-text search of the loaded year's descriptions in the database, for retrieval-augmented
   * coding: codes matching every word first, then codes matching some; billable before header
   * within each, then by `ts_rank`. Pass `db` or rely on the one given to {@link load}.
   */
  search(db: Queryable, text: string, limit?: number): Promise<Icd10SearchHit[]>;
  search(text: string, limit?: number): Promise<Icd10SearchHit[]>;
  search(a: Queryable | string, b?: string | number, c?: number): Promise<Icd10SearchHit[]> {
    if (typeof a === 'string') {
      if (!this.#db) return Promise.reject(new Error('Icd10CodeSet.search(text) needs load(db) first'));
      return searchIcd10(this.#db, a, { limit: b as number | undefined, fiscalYear: this.#fiscalYear });
    }
    return searchIcd10(a, b as string, { limit: c, fiscalYear: this.#fiscalYear });
  }
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
