import { randomBytes, randomUUID } from 'node:crypto';
import type { InstanceHeartbeat } from '@ward/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createRedis,
  modelFromJobId,
  newJobId,
  queueNameFor,
  readHeartbeats,
  redisKeys,
  SealError,
  Sealer,
  writeHeartbeat,
} from '../src/index.js';

const ring = (id: string, key: Buffer, old?: [string, Buffer]) => ({
  currentId: id,
  keys: new Map([[id, key], ...(old ? [old] : [])]),
});

describe('Sealer', () => {
  const k1 = randomBytes(32);
  const sealer = new Sealer(ring('k1', k1));

  it('round-trips text and never shows it in the envelope', () => {
    const env = sealer.seal('CANARY-PROMPT-123 chest pain');
    expect(env).not.toContain('CANARY');
    expect(env.startsWith('w1.k1.')).toBe(true);
    expect(sealer.open(env).toString()).toBe('CANARY-PROMPT-123 chest pain');
  });

  it('refuses a tampered envelope', () => {
    const env = sealer.seal('hello');
    const parts = env.split('.');
    const ct = Buffer.from(parts[4]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[4] = ct.toString('base64url');
    expect(() => sealer.open(parts.join('.'))).toThrow(SealError);
  });

  it('opens envelopes sealed under a retired key after rotation', () => {
    const old = sealer.seal('before rotation');
    const rotated = new Sealer(ring('k2', randomBytes(32), ['k1', k1]));
    expect(rotated.open(old).toString()).toBe('before rotation');
    expect(rotated.seal('x').startsWith('w1.k2.')).toBe(true);
    expect(() => new Sealer(ring('k3', randomBytes(32))).open(old)).toThrow(/no data key with id "k1"/);
  });
});

describe('names', () => {
  it('encodes the model in the job id and reads it back', () => {
    for (const model of ['mistral:7b', 'library/llava:13b-v1.6', 'hf.co/org/model:q4_K_M']) {
      const id = newJobId(model);
      expect(modelFromJobId(id)).toBe(model);
    }
    expect(modelFromJobId('../../etc/passwd')).toBeUndefined();
    expect(modelFromJobId('bWlzdHJhbDo3Yg.not-a-ulid')).toBeUndefined();
  });

  it('maps model names to distinct BullMQ-safe queue names', () => {
    expect(queueNameFor('mistral:7b')).toBe('m.mistral@7b');
    expect(queueNameFor('org/model:tag')).not.toContain(':');
    expect(queueNameFor('a:b')).not.toBe(queueNameFor('a/b'));
  });
});

describe('heartbeats (real Redis)', () => {
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'worker');
  const keys = redisKeys(`test-${randomUUID()}`);
  afterAll(async () => {
    const found = await redis.keys(`${keys.instances.split(':')[0]}:*`);
    if (found.length) await redis.del(...found);
    redis.disconnect();
  });

  it('lists live instances and forgets one whose heartbeat expired', async () => {
    const hb = (id: string): InstanceHeartbeat => ({
      id,
      url: `http://${id}`,
      healthy: true,
      models: ['m:1'],
      installed: ['m:1'],
      loaded: [],
      vision: [],
      inFlight: 0,
      numParallel: 1,
      startedAt: Date.now(),
      updatedAt: Date.now(),
    });
    await writeHeartbeat(redis, keys, hb('a'), 10_000);
    await writeHeartbeat(redis, keys, hb('b'), 150);
    expect((await readHeartbeats(redis, keys)).map((h) => h.id)).toEqual(['a', 'b']);
    await new Promise((r) => setTimeout(r, 300));
    expect((await readHeartbeats(redis, keys)).map((h) => h.id)).toEqual(['a']);
    expect(await redis.zrange(keys.instances, 0, -1)).toEqual(['a']);
  });
});
