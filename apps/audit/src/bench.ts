/**
 * Audit trail benchmark (a program, not a test): sustained events/s through the real consumer
 * path (BullMQ `audit` queue → batcher → one transaction per batch) into PostgreSQL and into
 * PGlite, and the time `verifyAuditChain` takes over a large PostgreSQL table.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@ward/contracts';
import { type Database, migrate, openDatabase, quoteIdent } from '@ward/db';
import {
  AuditEmitter,
  auditDigest,
  completeAuditEvent,
  createRedis,
  redisKeys,
  waitForRedis,
} from '@ward/queue';
import { AuditConsumer } from './consumer.js';
import { type AuditSigner, ed25519Signer, generateSigningKeyPem } from './keys.js';
import { AuditStore } from './store.js';
import { verifyAuditChain } from './verify.js';

/** Options of {@link benchAudit}. */
export interface BenchAuditOptions {
  /** PostgreSQL server; a throw-away schema is created there and dropped afterwards. */
  databaseUrl: string;
  redisUrl?: string;
  /** Events through the queue into PostgreSQL (default 50 000). */
  events?: number;
  /** Events through the queue into PGlite (default 10 000; 0 skips PGlite). */
  pgliteEvents?: number;
  /** Rows in the table when verification is timed (default 1 000 000). */
  verifyRows?: number;
  /** Consumer batch size (default 1000, the AUDIT_BATCH_SIZE default). */
  batchSize?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What {@link measureAudit} found. */
export interface AuditBenchResult {
  postgres: { events: number; seconds: number; eventsPerSecond: number; batches: number };
  pglite?: { events: number; seconds: number; eventsPerSecond: number; batches: number };
  fill: { rows: number; seconds: number; rowsPerSecond: number };
  verify: { rows: number; seconds: number; rowsPerSecond: number; ok: boolean };
  batchSize: number;
}

const TARGET_EVENTS_PER_SECOND = 5000;
const TARGET_VERIFY_SECONDS = 15;

/** A realistic `process.completed` event (≈ 700 bytes stored). */
function benchEvent(i: number): AuditEvent {
  return completeAuditEvent(
    {
      action: 'process.completed',
      outcome: 'success',
      actor: { sub: `clinician-${i % 500}`, role: 'provider', method: 'jwt' },
      requestId: randomUUID(),
      resource: { type: 'job', jobId: `bWlzdHJhbDo3Yg.${i}`, model: 'mistral:7b', instance: `gpu${i % 4}` },
      http: { method: 'POST', route: '/api/local/process', status: 200 },
      durations: {
        totalMs: 1538 + (i % 100),
        queueMs: 3,
        loadMs: 0,
        promptEvalMs: 12.4,
        generationMs: 1520.8,
      },
      tokens: { prompt: 140 + (i % 50), completion: 610 },
      digests: { prompt: auditDigest(`prompt ${i}`), output: auditDigest(`output ${i}`) },
      source: { service: 'gateway', host: 'gw-1', ip: '10.0.0.12', userAgent: 'EMR-Integration/4.2' },
    },
    'gateway',
  );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Pre-fills the queue with `n` events, then times the consumer draining them into `db`. */
async function drain(
  db: Database,
  signer: AuditSigner,
  redisUrl: string,
  n: number,
  batchSize: number,
  log: (line: string) => void,
): Promise<{ events: number; seconds: number; eventsPerSecond: number; batches: number }> {
  const prefix = redisKeys(`bench-audit-${randomUUID()}`).bull;
  const producer = createRedis(redisUrl, 'producer');
  await waitForRedis(producer, redisUrl);
  const emitter = new AuditEmitter({ connection: producer, prefix, timeoutMs: 30_000 });
  const store = new AuditStore(db, { signer });
  const consumer = new AuditConsumer({
    redisUrl,
    prefix,
    store,
    logger: { info() {}, warn() {}, error() {} },
    batchSize,
  });
  try {
    for (let i = 0; i < n; i += 1000) {
      await emitter.emitMany(Array.from({ length: Math.min(1000, n - i) }, (_, k) => benchEvent(i + k)));
    }
    log(`  ${n} events queued; draining`);
    const t0 = performance.now();
    await consumer.start();
    while (consumer.stats.stored + consumer.stats.duplicates < n) await sleep(10);
    const seconds = (performance.now() - t0) / 1000;
    return { events: n, seconds, eventsPerSecond: n / seconds, batches: consumer.stats.batches };
  } finally {
    await consumer.close();
    await emitter.queue.obliterate({ force: true }).catch(() => {});
    await emitter.close();
    await producer.quit();
  }
}

/** Runs the measurements and returns the numbers. */
export async function measureAudit(opts: BenchAuditOptions): Promise<AuditBenchResult> {
  const log = opts.log ?? (() => {});
  const redisUrl = opts.redisUrl ?? 'redis://127.0.0.1:6379';
  const n = opts.events ?? 50_000;
  const pgliteN = opts.pgliteEvents ?? 10_000;
  const verifyRows = opts.verifyRows ?? 1_000_000;
  const batchSize = opts.batchSize ?? 1000;
  const signer = ed25519Signer(generateSigningKeyPem());
  const schema = `bench_audit_${randomUUID().replace(/-/g, '')}`;
  const admin = await openDatabase({ url: opts.databaseUrl, poolSize: 1 });
  await admin.exec(`CREATE SCHEMA ${quoteIdent(schema)}`);
  try {
    const db = await openDatabase({
      url: opts.databaseUrl,
      searchPath: schema,
      poolSize: 4,
      statementTimeoutMs: 0,
    });
    try {
      await migrate(db);
      log(`PostgreSQL: ${n} events through the queue (batch ${batchSize})`);
      const postgres = await drain(db, signer, redisUrl, n, batchSize, log);

      let pglite: AuditBenchResult['pglite'];
      if (pgliteN > 0) {
        log(`PGlite: ${pgliteN} events through the queue`);
        const lite = await openDatabase({ dataDir: 'memory://' });
        try {
          await migrate(lite);
          pglite = await drain(lite, signer, redisUrl, pgliteN, batchSize, log);
        } finally {
          await lite.close();
        }
      }

      const toFill = Math.max(0, verifyRows - n);
      log(`PostgreSQL: appending ${toFill} more rows for the verification run`);
      const store = new AuditStore(db, { signer });
      const f0 = performance.now();
      for (let i = 0; i < toFill; i += 5000) {
        await store.append(
          Array.from({ length: Math.min(5000, toFill - i) }, (_, k) => benchEvent(n + i + k)),
        );
        if ((i / 5000) % 20 === 19) log(`  ${i + 5000} rows`);
      }
      const fillSeconds = (performance.now() - f0) / 1000;
      await db.exec('VACUUM ANALYZE audit_events');

      log(`PostgreSQL: verifying ${verifyRows} rows`);
      const v0 = performance.now();
      const report = await verifyAuditChain(db, signer.publicKey);
      const verifySeconds = (performance.now() - v0) / 1000;
      return {
        postgres,
        ...(pglite && { pglite }),
        fill: { rows: toFill, seconds: fillSeconds, rowsPerSecond: toFill / Math.max(fillSeconds, 1e-9) },
        verify: {
          rows: report.rows,
          seconds: verifySeconds,
          rowsPerSecond: report.rows / verifySeconds,
          ok: report.ok,
        },
        batchSize,
      };
    } finally {
      await db.close();
    }
  } finally {
    await admin.exec(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => {});
    await admin.close();
  }
}

const fmt = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

/** Runs {@link measureAudit} and returns the results as a Markdown table. */
export async function benchAudit(opts: BenchAuditOptions): Promise<string> {
  const r = await measureAudit(opts);
  const lines = [
    '| Measure | Result | Target | |',
    '|---|---:|---:|---|',
    `| Events/s into PostgreSQL (queue → batch writer, ${fmt(r.postgres.events)} events, batch ${r.batchSize}) | ${fmt(r.postgres.eventsPerSecond)} | ≥ ${fmt(TARGET_EVENTS_PER_SECOND)} | ${verdict(r.postgres.eventsPerSecond >= TARGET_EVENTS_PER_SECOND)} |`,
  ];
  if (r.pglite)
    lines.push(
      `| Events/s into PGlite (queue → batch writer, ${fmt(r.pglite.events)} events) | ${fmt(r.pglite.eventsPerSecond)} | — | |`,
    );
  lines.push(
    `| Rows/s appended directly (chain writer, 5,000-row transactions) | ${fmt(r.fill.rowsPerSecond)} | — | |`,
    `| verifyAuditChain over ${fmt(r.verify.rows)} rows on PostgreSQL | ${fmt(r.verify.seconds, 1)} s (${fmt(r.verify.rowsPerSecond)} rows/s) | ≤ ${TARGET_VERIFY_SECONDS} s | ${verdict(r.verify.ok && r.verify.seconds <= TARGET_VERIFY_SECONDS)} |`,
  );
  return lines.join('\n');
}
