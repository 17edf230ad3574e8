// Benchmark of the ICD-10-CM code set: import, in-memory lookup and full-text search, on
// PostgreSQL and embedded PGlite. A program that returns a Markdown table, not a test.
import { randomUUID } from 'node:crypto';
import { type Database, migrate, openDatabase, quoteIdent } from '@ward/db';
import { Icd10CodeSet } from './code-set.js';
import { importIcd10Order } from './import-order.js';
import type { Icd10ImportResult } from './types.js';

/** Options for {@link benchIcd10}. */
export interface BenchIcd10Options {
  /** PostgreSQL to measure on; a scratch schema is created and dropped. Omit to measure PGlite only. */
  databaseUrl?: string | undefined;
  /** A CMS `icd10cm_order_YYYY.txt` file. */
  file: string;
  /** Lookups to time (default 100 000). */
  lookups?: number;
  /** Searches to time per engine (default 40). */
  searches?: number;
  /** Progress lines, e.g. `console.error`. */
  log?: (line: string) => void;
}

interface EngineResult {
  import: Icd10ImportResult;
  loadMs: number;
  searchP50Ms: number;
  searchP99Ms: number;
  set: Icd10CodeSet;
}

const QUERIES = [
  'essential hypertension',
  'type 2 diabetes mellitus without complications',
  'pneumonia unspecified organism',
  'chest pain',
  'acute myocardial infarction',
  'urinary tract infection',
  'major depressive disorder recurrent',
  'fracture of neck of femur',
  'chronic obstructive pulmonary disease with exacerbation',
  'asthma',
];

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(db: Database, file: string, searches: number): Promise<EngineResult> {
  await migrate(db);
  const imported = await importIcd10Order(db, file);
  let t = performance.now();
  const set = await new Icd10CodeSet().load(db);
  const loadMs = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < searches; i++) {
    t = performance.now();
    await set.search(QUERIES[i % QUERIES.length]!, 20);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return {
    import: imported,
    loadMs,
    searchP50Ms: percentile(times, 50),
    searchP99Ms: percentile(times, 99),
    set,
  };
}

async function onPostgres(url: string, file: string, searches: number): Promise<EngineResult> {
  const schema = `bench_icd10_${randomUUID().replace(/-/g, '')}`;
  const admin = await openDatabase({ url, poolSize: 1 });
  await admin.exec(`CREATE SCHEMA ${quoteIdent(schema)}`);
  const db = await openDatabase({ url, searchPath: schema, poolSize: 2 });
  try {
    return await measure(db, file, searches);
  } finally {
    await db.close();
    await admin.exec(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    await admin.close();
  }
}

async function onPglite(file: string, searches: number): Promise<EngineResult> {
  const db = await openDatabase({ dataDir: 'memory://' });
  try {
    return await measure(db, file, searches);
  } finally {
    await db.close();
  }
}

/** Times `n` lookups of a realistic mix: dotted, undotted, lower-case and unknown codes. */
function timeLookups(
  set: Icd10CodeSet,
  codes: readonly string[],
  n: number,
): { meanUs: number; p99Us: number } {
  const inputs: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const code = codes[(i * 7919) % codes.length]!;
    const form = i % 4;
    inputs.push(
      form === 0 ? code : form === 1 ? code.replace('.', '') : form === 2 ? code.toLowerCase() : `${code}Q`,
    );
  }
  let found = 0;
  for (const c of inputs) if (set.lookup(c)) found++; // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (set.lookup(inputs[i % inputs.length]!)) found++;
  const meanUs = Number(process.hrtime.bigint() - start) / 1000 / n;
  const single: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    if (set.lookup(inputs[i % inputs.length]!)) found++;
    single[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  single.sort((a, b) => a - b);
  if (found === 0) throw new Error('no lookup hit; is the code set empty?');
  return { meanUs, p99Us: percentile(single, 99) };
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';

/**
 * Measures importing `file` into PostgreSQL (when `databaseUrl` is given) and into in-memory
 * PGlite, loading the active year into memory, lookups and full-text searches, and returns the
 * results as a Markdown table.
 */
export async function benchIcd10(opts: BenchIcd10Options): Promise<string> {
  const lookups = opts.lookups ?? 100_000;
  const searches = opts.searches ?? 40;
  const log = opts.log ?? (() => {});
  const engines: Array<[string, EngineResult]> = [];
  if (opts.databaseUrl) {
    log('icd10 bench: importing into PostgreSQL…');
    engines.push(['PostgreSQL', await onPostgres(opts.databaseUrl, opts.file, searches)]);
  }
  log('icd10 bench: importing into PGlite…');
  engines.push(['PGlite', await onPglite(opts.file, searches)]);

  const set = engines[0]![1].set;
  const codes = Array.from(set.codes(), (c) => c.code);
  log(`icd10 bench: timing ${lookups.toLocaleString('en-US')} lookups…`);
  const lookup = timeLookups(set, codes, lookups);

  const first = engines[0]![1].import;
  const head = `| ICD-10-CM FY${first.fiscalYear} (${fmt(first.rowCount)} codes) | ${engines.map(([n]) => n).join(' | ')} |`;
  const sep = `|---|${engines.map(() => '---:').join('|')}|`;
  const row = (label: string, f: (e: EngineResult) => string): string =>
    `| ${label} | ${engines.map(([, e]) => f(e)).join(' | ')} |`;
  const same = (v: string): string => engines.map(() => v).join(' | ');
  return [
    head,
    sep,
    row('import, s', (e) => fmt(e.import.durationMs / 1000, 2)),
    row('import, rows/s', (e) => fmt(e.import.rowCount / (e.import.durationMs / 1000))),
    row('load into memory, ms', (e) => fmt(e.loadMs)),
    `| lookup mean, µs (${fmt(lookups)} lookups, in memory) | ${same(fmt(lookup.meanUs, 3))} |`,
    `| lookup p99, µs (timed one by one) | ${same(fmt(lookup.p99Us, 3))} |`,
    row(`search p50, ms (${searches} searches, 20 hits)`, (e) => fmt(e.searchP50Ms, 1)),
    row('search p99, ms', (e) => fmt(e.searchP99Ms, 1)),
  ].join('\n');
}
