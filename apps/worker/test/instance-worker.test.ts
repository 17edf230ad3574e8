import { randomBytes, randomUUID } from 'node:crypto';
import type { ProcessJobData } from '@ward/contracts';
import { type SimHandle, startSim } from '@ward/ollama-sim';
import { createRedis, deleteByPrefix, queueNameFor, redisKeys, Sealer } from '@ward/queue';
import { Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceWorker, splitSlots } from '../src/instance-worker.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MODEL = 'mistral:7b';

describe('splitSlots', () => {
  it('keeps up to four slots on one Worker and shares more over several that add up to the whole', () => {
    expect(splitSlots(1)).toEqual([1]);
    expect(splitSlots(4)).toEqual([4]);
    expect(splitSlots(5)).toEqual([3, 2]);
    expect(splitSlots(10)).toEqual([4, 3, 3]);
    expect(splitSlots(64)).toEqual(Array(16).fill(4));
    const many = splitSlots(100);
    expect(many).toHaveLength(16);
    expect(many.reduce((a, b) => a + b, 0)).toBe(100);
    expect(Math.max(...many) - Math.min(...many)).toBeLessThanOrEqual(1);
  });
});

describe('InstanceWorker with its slots over several Workers', () => {
  const prefix = `test-iw-${randomUUID()}`;
  const keys = redisKeys(prefix);
  const sealer = new Sealer({ currentId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
  const admin = createRedis(REDIS_URL, 'worker');
  let sim: SimHandle;
  let worker: InstanceWorker;
  let queue: Queue<ProcessJobData>;

  beforeAll(async () => {
    // The sim has room for far more than the worker may send, so only the worker limits concurrency.
    sim = await startSim({ models: [MODEL], numParallel: 64, genTokensPerSec: 2000, defaultTokens: 4 });
    worker = new InstanceWorker({
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      ollamaUrl: sim.url,
      instanceId: 'gpu0',
      numParallel: 10,
      keepAlive: '5m',
      requestTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      sealer,
      logger: pino({ level: 'silent' }),
    });
    await worker.start();
    queue = new Queue<ProcessJobData>(queueNameFor(MODEL), { connection: admin, prefix: keys.bull });
  });

  afterAll(async () => {
    await worker.close();
    await queue.close();
    await deleteByPrefix(admin, prefix);
    await admin.quit();
    await sim.close();
  });

  const jobs = (tag: string, count: number) => {
    const now = Date.now();
    return Array.from({ length: count }, (_, i) => ({
      name: 'process',
      data: {
        v: 1 as const,
        requestId: `req-${tag}-${i}`,
        actor: { sub: 'dr', role: 'provider' as const, method: 'jwt' as const },
        model: MODEL,
        priority: 'routine' as const,
        deadline: now + 30_000,
        acceptedAt: now,
        replyTo: null,
        stream: false,
        sealed: sealer.sealJson({ prompt: `${tag} ${i}` }),
      },
      opts: { jobId: `${tag}-${i}` },
    }));
  };
  const until = async (what: string, ok: () => Promise<boolean> | boolean, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const generated = () => sim.counters.requests.byEndpoint['/api/generate'] ?? 0;

  it('runs exactly numParallel jobs at once on the instance, and every job once', async () => {
    sim.script({ prompt: /slot-test/, reply: 'done', delayMs: 150 });
    await queue.addBulk(jobs('slot-test', 40));
    await until('40 jobs completed', async () => (await queue.getJobCountByTypes('completed')) >= 40);
    const c = sim.counters;
    // Three Workers (4 + 3 + 3 slots) together fill the instance's ten slots and never exceed them.
    expect(c.maxActive).toBe(10);
    expect(c.requests.byEndpoint['/api/generate']).toBe(40);
    expect(await queue.getJobCountByTypes('failed')).toBe(0);
  });

  it('stops every Worker pulling while the instance fails, and resumes them all when it answers', async () => {
    await sim.setFailure({ mode: 'error500' });
    const before = generated();
    await queue.addBulk(jobs('fail-first', 1));
    await until('the instance marked out of service', () => !worker.healthy);
    const afterFailure = generated();
    expect(afterFailure - before).toBe(1);
    await queue.addBulk(jobs('while-down', 20));
    await new Promise((r) => setTimeout(r, 500));
    // No Worker of the model took a job to the failing instance. A fetch already waiting when the
    // Workers paused hands its job back (delayed), without spending one of the job's attempts.
    expect(generated()).toBe(afterFailure);
    expect(await queue.getJobCountByTypes('wait', 'prioritized', 'delayed')).toBe(20);
    const handedBack = await queue.getJobs(['delayed'], 0, -1);
    for (const j of handedBack) expect(j.attemptsMade).toBe(0);
    await sim.setFailure(null);
    await until('the 20 jobs completed after the probe', async () => {
      const done = await queue.getJobs(['completed'], 0, -1);
      return done.filter((j) => j.id!.startsWith('while-down')).length === 20;
    });
    expect(worker.healthy).toBe(true);
    expect(sim.counters.maxActive).toBeLessThanOrEqual(10);
  });

  it('tells the waiting gateway at once when BullMQ fails a job that stalled too often', async () => {
    const channel = `${prefix}:reply:test`;
    const sub = createRedis(REDIS_URL, 'subscriber');
    const heard: string[] = [];
    sub.on('message', (_c: string, raw: string) => heard.push(raw));
    await sub.subscribe(channel);
    try {
      const before = generated();
      const [job] = jobs('stalled', 1);
      // Delayed, so the mark BullMQ's stalled check leaves is on the job before a worker takes it.
      await queue.add(job!.name, { ...job!.data, replyTo: channel }, { ...job!.opts, delay: 300 });
      await admin.hset(
        `${keys.bull}:${queueNameFor(MODEL)}:${job!.opts.jobId}`,
        'defa',
        'job stalled more than allowable limit',
      );
      await until('the failure published', () => heard.length > 0, 5000);
      expect(JSON.parse(heard[0]!)).toEqual({
        j: job!.opts.jobId,
        t: 'e',
        c: 'WARD_INTERNAL',
        m: 'the job was lost by the workers running it',
      });
      expect(await queue.getJobState(job!.opts.jobId)).toBe('failed');
      // It never ran again.
      expect(generated()).toBe(before);
    } finally {
      sub.disconnect();
    }
  });
});
