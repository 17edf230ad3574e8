import type { Queryable } from '@ward/db';
import { toDottedCode } from './code-format.js';
import type { Icd10SearchHit } from './types.js';

/** Options for {@link searchIcd10}. */
export interface SearchIcd10Options {
  /** Most hits to return (default 20, at most 200). */
  limit?: number | undefined;
  /** Fiscal year to search (default: the active release). */
  fiscalYear?: number | undefined;
}

interface HitRow {
  code: string;
  billable: boolean;
  short_desc: string;
  long_desc: string;
  rank: number;
}

// $1 text, $2 fiscal year or null (active), $3 limit, $4 codes to leave out.
// The first query needs every word (websearch syntax: "quoted phrase", -exclude, or); the second
// fills up with codes matching any word. Normalisation 1 favours short, specific descriptions.
const year = 'coalesce($2::integer, (SELECT fiscal_year FROM icd10cm_releases WHERE active))';
const ALL_WORDS = `
  SELECT c.code, c.billable, c.short_desc, c.long_desc, ts_rank(c.search, q.q, 1)::float8 AS rank
    FROM icd10cm_codes c, websearch_to_tsquery('english', $1) AS q(q)
   WHERE c.fiscal_year = ${year} AND c.search @@ q.q
   ORDER BY c.billable DESC, rank DESC, c.order_no
   LIMIT $3`;
const ANY_WORD = `
  SELECT c.code, c.billable, c.short_desc, c.long_desc, ts_rank(c.search, q.q, 1)::float8 AS rank
    FROM icd10cm_codes c,
         (SELECT replace(plainto_tsquery('english', $1)::text, ' & ', ' | ')::tsquery) AS q(q)
   WHERE c.fiscal_year = ${year} AND c.search @@ q.q AND c.code <> ALL($4::text[])
   ORDER BY c.billable DESC, rank DESC, c.order_no
   LIMIT $3`;

function toHit(r: HitRow): Icd10SearchHit {
  return {
    code: toDottedCode(r.code),
    billable: r.billable,
    description: r.long_desc,
    shortDescription: r.short_desc,
    rank: r.rank,
  };
}

/**
 * Full-text search of ICD-10-CM descriptions (English stemming), for retrieving candidate codes to
 * put in front of a model. Codes matching every word come first, then codes matching some; within
 * each group billable codes precede headers and better `ts_rank` precedes worse.
 */
export async function searchIcd10(
  db: Queryable,
  text: string,
  opts: SearchIcd10Options = {},
): Promise<Icd10SearchHit[]> {
  const limit = Math.min(Math.max(1, Math.floor(opts.limit ?? 20)), 200);
  const words = text.trim();
  if (words === '') return [];
  const year = opts.fiscalYear ?? null;
  const all = await db.query<HitRow>(ALL_WORDS, [words, year, limit]);
  const hits = all.rows.map(toHit);
  if (hits.length < limit) {
    const found = all.rows.map((r) => r.code);
    const some = await db.query<HitRow>(ANY_WORD, [words, year, limit - hits.length, found]);
    hits.push(...some.rows.map(toHit));
  }
  return hits;
}
