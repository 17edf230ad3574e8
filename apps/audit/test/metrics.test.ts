import { randomUUID } from 'node:crypto';
import { auditEnv, loadEnv } from '@ward/config';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { WardMetrics } from '@ward/metrics';
import { AuditEmitter, createRedis, deleteByPrefix, redisKeys } from '@ward/queue';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519Signer, generateSigningKeyPem } from '../src/keys.js';
import { createAuditServer } from '../src/server.js';
import { makeEvent } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = 'internal-token-for-tests-0123456789abcdef';
const headers = {
  'x-ward-internal': TOKEN,
  'x-ward-actor': JSON.stringify({ sub: 'ann.auditor', role: 'auditor', method: 'jwt' }),
};

/** The value of the sample `name{labels…}` (or of the unlabelled `name`). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !/[{ ]/.test(line[name.length] ?? '')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('audit service metrics', () => {
  const prefix = `test-${randomUUID()}`;
  let t: TestDatabase;
  let redis: Redis;
  let emitter: AuditEmitter;
  const apps: FastifyInstance[] = [];
  const start = async (consume: boolean, metrics: WardMetrics) => {
    const config = loadEnv(auditEnv, {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      WARD_INTERNAL_TOKEN: TOKEN,
      AUDIT_CONSUME: String(consume),
      AUDIT_BATCH_LINGER_MS: '5',
      LOG_LEVEL: 'silent',
    });
    const signer = ed25519Signer(generateSigningKeyPem());
    const app = await createAuditServer({ config, db: t.db, signer, purgeTimer: false, metrics });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    t = await openTestDatabase('postgres', { migrate: true });
    redis = createRedis(REDIS_URL, 'producer');
    emitter = new AuditEmitter({ connection: redis, prefix: redisKeys(prefix).bull });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await emitter.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
    await t?.dispose();
  });

  it('times its API requests by route and counts its errors by code', async () => {
    const metrics = new WardMetrics({ defaults: false });
    const app = await start(false, metrics);
    expect((await app.inject({ method: 'GET', url: '/api/audit/events?limit=5', headers })).statusCode).toBe(
      200,
    );
    expect((await app.inject({ method: 'GET', url: '/api/audit/events?limit=-1', headers })).statusCode).toBe(
      400,
    );
    const text = await metrics.text();
    expect(
      sample(text, 'ward_http_request_duration_seconds_count', {
        route: '/api/audit/events',
        status_code: '200',
      }),
    ).toBe(1);
    expect(sample(text, 'ward_errors_total', { code: 'WARD_VALIDATION' })).toBe(1);
  });

  it('reports as lag the age of the oldest event not yet stored, so a stalled trail shows', async () => {
    // No consumer yet: events wait in the queue and their age is the lag.
    const metrics = new WardMetrics({ defaults: false });
    await start(false, metrics);
    expect(sample(await metrics.text(), 'ward_audit_lag_seconds')).toBe(0);
    await emitter.emit(makeEvent(1));
    await new Promise((r) => setTimeout(r, 600));
    await emitter.emit(makeEvent(2));
    await new Promise((r) => setTimeout(r, 600));
    const behind = sample(await metrics.text(), 'ward_audit_lag_seconds')!;
    expect(behind).toBeGreaterThanOrEqual(1.1);
    expect(behind).toBeLessThan(5);

    // A consumer stores them: nothing waits any more.
    const consuming = new WardMetrics({ defaults: false });
    await start(true, consuming);
    let lag = Number.NaN;
    for (let i = 0; i < 100; i++) {
      lag = sample(await consuming.text(), 'ward_audit_lag_seconds')!;
      if (lag === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(lag).toBe(0);
    expect(sample(await consuming.text(), 'ward_audit_events_written_total')).toBe(2);
  });
});
