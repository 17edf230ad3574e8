import { randomUUID } from 'node:crypto';
import { AUDIT_JOB, type AuditEvent } from '@ward/contracts';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { AuditEmitter, auditDigest, createRedis, redisKeys, waitForRedis } from '@ward/queue';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditConsumer } from '../src/consumer.js';
import { csvLine } from '../src/csv.js';
import { fhirBundleEntry } from '../src/fhir.js';
import { ed25519Signer, generateSigningKeyPem } from '../src/keys.js';
import { streamAuditRows } from '../src/query.js';
import { AuditStore } from '../src/store.js';
import { verifyAuditChain } from '../src/verify.js';
import { gatewayParts } from './gateway.js';
import { makeEvent } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = { info() {}, warn() {}, error() {} };
const signer = ed25519Signer(generateSigningKeyPem());

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('audit queue consumer (PostgreSQL + Redis)', () => {
  const prefix = `test-${randomUUID()}`;
  const keys = redisKeys(prefix);
  let t: TestDatabase;
  let store: AuditStore;
  let consumer: AuditConsumer;
  let producer: Redis;
  let emitter: AuditEmitter;
  const count = async (where = 'true', params: unknown[] = []) =>
    (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE ${where}`, params))
      .rows[0]!.n;

  beforeAll(async () => {
    t = await openTestDatabase('postgres', { migrate: true });
    store = new AuditStore(t.db, { signer, checkpointEvery: 500 });
    consumer = new AuditConsumer({
      redisUrl: REDIS_URL,
      prefix: keys.bull,
      store,
      logger: silent,
      batchSize: 200,
      lingerMs: 10,
    });
    await consumer.start();
    producer = createRedis(REDIS_URL, 'producer');
    await waitForRedis(producer, REDIS_URL);
    emitter = new AuditEmitter({ connection: producer, prefix: keys.bull });
  });
  afterAll(async () => {
    await consumer?.close();
    await emitter?.queue.obliterate({ force: true }).catch(() => {});
    await emitter?.close();
    await producer?.quit();
    await t?.dispose();
  });

  it('drains queued events in batched transactions, each stored once, and the chain verifies', async () => {
    const events = Array.from({ length: 2500 }, (_, i) => makeEvent(i));
    for (let i = 0; i < events.length; i += 500) await emitter.emitMany(events.slice(i, i + 500));
    await until(async () => (await count()) >= 2500);
    const before = consumer.stats.batches;
    expect(await count()).toBe(2500);
    expect(before).toBeLessThan(100);
    const report = await verifyAuditChain(t.db, signer.publicKey);
    expect(report).toMatchObject({ ok: true, rows: 2500 });
  });

  it('stores a redelivered event once (same id re-added while queued, and after its job was removed)', async () => {
    const e = makeEvent(10_001);
    await emitter.emit(e);
    await emitter.emit(e);
    await until(async () => (await count(`doc ->> 'id' = $1`, [e.id])) === 1);
    const dupBefore = consumer.stats.duplicates;
    // The completed job is trimmed from Redis; a producer retrying after a timeout adds it again.
    await emitter.queue.remove(e.id);
    await emitter.emit(e);
    await until(async () => consumer.stats.duplicates > dupBefore);
    expect(await count(`doc ->> 'id' = $1`, [e.id])).toBe(1);
  });

  it('keeps an invalid event out of the table (failed set) without holding up the queue', async () => {
    const bad = { ...makeEvent(1), prompt: 'leaked content' };
    await emitter.queue.add('e', bad as unknown as AuditEvent, { jobId: bad.id });
    const good = makeEvent(2);
    await emitter.emit(good);
    await until(async () => (await count(`doc ->> 'id' = $1`, [good.id])) === 1);
    await until(async () => (await emitter.queue.getFailedCount()) === 1);
    expect(await count(`doc ->> 'id' = $1`, [bad.id])).toBe(0);
    await expect(emitter.emit(bad as unknown as AuditEvent)).rejects.toThrow(/invalid audit event/);
  });

  it('packs events sent together into few jobs, and stores the valid events of a batch holding an invalid one', async () => {
    const events = Array.from({ length: 1200 }, (_, i) => makeEvent(20_000 + i));
    const jobsBefore = (await emitter.queue.getJobCountByTypes(
      'completed',
      'failed',
      'active',
      'wait',
    )) as number;
    await emitter.emitMany(events);
    await until(async () => (await count(`(doc ->> 'id') = ANY($1)`, [events.map((e) => e.id)])) === 1200);
    const jobsAfter = (await emitter.queue.getJobCountByTypes(
      'completed',
      'failed',
      'active',
      'wait',
    )) as number;
    expect(jobsAfter - jobsBefore).toBe(3); // 500 + 500 + 200

    const good = makeEvent(30_001);
    const bad = { ...makeEvent(30_002), prompt: 'leaked content' };
    const failedBefore = await emitter.queue.getFailedCount();
    await emitter.queue.add(AUDIT_JOB.batch, { events: [good, bad as unknown as AuditEvent] });
    await until(async () => (await emitter.queue.getFailedCount()) === failedBefore + 1);
    expect(await count(`doc ->> 'id' = $1`, [good.id])).toBe(1);
    expect(await count(`doc ->> 'id' = $1`, [bad.id])).toBe(0);
    const [failed] = await emitter.queue.getFailed(0, 0);
    expect(failed?.failedReason).toMatch(/1 invalid audit event/);
    expect(failed?.failedReason).not.toContain('leaked content');
    // A batch job whose data is not a batch is refused at once, not retried.
    await emitter.queue.add(AUDIT_JOB.batch, null as never, { attempts: 5, backoff: 1 });
    await until(async () => (await emitter.queue.getFailedCount()) === failedBefore + 2);
    const [empty] = await emitter.queue.getFailed(0, 0);
    expect(empty?.failedReason).toMatch(/must carry an events array/);
    expect(empty?.attemptsMade).toBe(1);
  });

  describe('gateway audit plugin', () => {
    const CANARY = `CANARY-${randomUUID()}`;
    let app: Audited;

    type Audited = FastifyInstance & {
      audit: { emit(e: object, r?: object): Promise<void>; failures: number };
      redis: Redis;
    };

    async function gateway(failClosed: boolean): Promise<Audited> {
      const { auditPlugin, redisPlugin } = await gatewayParts();
      const g = Fastify({ logger: false }) as unknown as Audited;
      await g.register(redisPlugin, { url: REDIS_URL });
      await g.register(auditPlugin, { keys, failClosed, timeoutMs: 500 });
      g.post<{ Body: { prompt: string } }>('/process', async (request) => {
        const answer = `The patient ${CANARY} has hypertension`;
        await g.audit.emit(
          {
            action: 'process.requested',
            outcome: 'success',
            resource: { type: 'job', jobId: 'job-canary', model: 'mistral:7b' },
            digests: { prompt: auditDigest(request.body.prompt) },
          },
          request,
        );
        await g.audit.emit(
          {
            action: 'process.completed',
            outcome: 'success',
            resource: { type: 'job', jobId: 'job-canary', model: 'mistral:7b' },
            digests: { prompt: auditDigest(request.body.prompt), output: auditDigest(answer) },
            tokens: { prompt: 12, completion: 7 },
          },
          request,
        );
        return { response: answer };
      });
      return g;
    }

    beforeAll(async () => {
      app = await gateway(true);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('fills id, time, request id, client IP and user agent, and stores digests, never the prompt or answer', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/process',
        headers: { 'user-agent': 'EMR/1.0' },
        payload: { prompt: `SOAP note for ${CANARY}, 65 y/o, chest pain` },
      });
      expect(res.statusCode).toBe(200);
      await until(async () => (await count(`doc #>> '{resource,jobId}' = 'job-canary'`)) === 2);
      const { rows } = await t.db.query<{ event: string }>(
        `SELECT event FROM audit_events WHERE doc #>> '{resource,jobId}' = 'job-canary' ORDER BY audit_events.seq`,
      );
      const stored = rows.map((r) => JSON.parse(r.event) as AuditEvent);
      expect(stored[1]).toMatchObject({
        action: 'process.completed',
        requestId: expect.any(String),
        source: { service: 'gateway', ip: '127.0.0.1', userAgent: 'EMR/1.0' },
        digests: { prompt: auditDigest(`SOAP note for ${CANARY}, 65 y/o, chest pain`) },
      });
      expect(stored[1]!.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      // Nothing stored or exported anywhere carries the canary.
      const dump = await t.db.query<{ t: string }>(
        `SELECT string_agg(a::text, E'\\n') AS t FROM audit_events a`,
      );
      expect(dump.rows[0]!.t).not.toContain(CANARY);
      let exported = '';
      for await (const row of streamAuditRows(t.db, { jobId: 'job-canary' })) {
        exported += `${row.event}\n${csvLine(row)}${fhirBundleEntry(JSON.parse(row.event), row)}\n`;
      }
      expect(exported).toContain('job-canary');
      expect(exported).not.toContain(CANARY);
    });

    it('fails closed: 503 WARD_AUDIT_UNAVAILABLE when the event cannot be enqueued', async () => {
      const closed = await gateway(true);
      const open = await gateway(false);
      try {
        closed.redis.disconnect();
        open.redis.disconnect();
        const res = await closed.inject({ method: 'POST', url: '/process', payload: { prompt: CANARY } });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({ code: 'WARD_AUDIT_UNAVAILABLE' });
        expect(res.body).not.toContain(CANARY);
        // Outside HIPAA mode the request goes on; the failure is logged and counted.
        const ok = await open.inject({ method: 'POST', url: '/process', payload: { prompt: 'x' } });
        expect(ok.statusCode).toBe(200);
        // Not waited for by the request: the failure is counted when Redis answers.
        for (let i = 0; i < 100 && open.audit.failures < 2; i++) await new Promise((r) => setTimeout(r, 20));
        expect(open.audit.failures).toBe(2);
      } finally {
        await closed.close();
        await open.close();
      }
    });
  });
});
