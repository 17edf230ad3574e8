import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AuditEvent } from '@ward/contracts';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '@ward/db/testing';
import { AuditEmitter, createRedis, redisKeys, waitForRedis } from '@ward/queue';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519Signer, generateSigningKeyPem } from '../src/keys.js';
import { verifyAuditChain } from '../src/verify.js';
import { makeEvent } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOTAL = 10_000;

/**
 * The audit consumer as its own process (`node apps/audit/dist/main.js`), killed with SIGKILL in
 * the middle of the flow and started again: every event must end up stored exactly once.
 */
describe('audit consumer crash', () => {
  const prefix = `test-${randomUUID()}`;
  const pem = generateSigningKeyPem();
  let t: TestDatabase;
  let producer: Redis;
  let emitter: AuditEmitter;
  const children: ChildProcess[] = [];

  function startConsumer(): ChildProcess {
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${t.schema}`);
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: url.toString(),
        REDIS_URL,
        REDIS_PREFIX: prefix,
        WARD_INTERNAL_TOKEN: 'crash-test-internal-token-0123456789',
        AUDIT_SIGNING_KEY: pem,
        AUDIT_PORT: '0',
        AUDIT_BATCH_SIZE: '250',
        AUDIT_LOCK_DURATION_MS: '2000',
        AUDIT_CHECKPOINT_ROWS: '1000',
        AUDIT_PURGE_INTERVAL_HOURS: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code, signal) => {
      if (code && code !== 0) console.error(`audit consumer exited ${code} ${signal ?? ''}\n${stderr}`);
    });
    children.push(child);
    return child;
  }

  const stored = async () =>
    (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')).rows[0]!.n;

  async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out (${await stored()} rows stored)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`build the audit app first: pnpm --filter @ward/audit... build (${MAIN})`);
    t = await openTestDatabase('postgres', { migrate: true });
    producer = createRedis(REDIS_URL, 'producer');
    await waitForRedis(producer, REDIS_URL);
    emitter = new AuditEmitter({ connection: producer, prefix: redisKeys(prefix).bull, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await emitter?.queue.obliterate({ force: true }).catch(() => {});
    await emitter?.close();
    await producer?.quit();
    await t?.dispose();
  });

  it('stores every event exactly once after a kill -9 mid-flow and a restart, and the chain verifies', async () => {
    const events: AuditEvent[] = Array.from({ length: TOTAL }, (_, i) => makeEvent(i));
    const first = startConsumer();
    // Produce steadily so the kill lands while events are flowing.
    let produced = 0;
    const producing = (async () => {
      for (; produced < TOTAL; produced += 250) {
        await emitter.emitMany(events.slice(produced, produced + 250));
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    await until(async () => (await stored()) >= 2000, 30_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = await stored();
    expect(atKill).toBeLessThan(TOTAL);
    await producing;

    startConsumer();
    await until(async () => (await stored()) >= TOTAL, 60_000);
    // Redelivered jobs (locked by the dead consumer) must not add rows.
    await new Promise((r) => setTimeout(r, 3000));
    const { rows } = await t.db.query<{ n: number; ids: number; max: string }>(
      `SELECT count(*)::int AS n, count(DISTINCT doc ->> 'id')::int AS ids, max(seq)::text AS max FROM audit_events`,
    );
    expect(rows[0]).toEqual({ n: TOTAL, ids: TOTAL, max: String(TOTAL) });
    const missing = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM unnest($1::text[]) AS id WHERE NOT EXISTS (SELECT 1 FROM audit_events WHERE doc ->> 'id' = id)`,
      [events.map((e) => e.id)],
    );
    expect(missing.rows[0]!.n).toBe(0);
    const report = await verifyAuditChain(t.db, ed25519Signer(pem).publicKey);
    expect(report).toMatchObject({ ok: true, rows: TOTAL });
    expect(await emitter.queue.getFailedCount()).toBe(0);
  }, 120_000);
});
