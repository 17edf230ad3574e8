import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { ProcessJobData } from '@ward/contracts';
import { type SimHandle, type SimOptions, startSim } from '@ward/ollama-sim';
import { createRedis, deleteByPrefix, queueNameFor, redisKeys, Sealer } from '@ward/queue';
import { type JobsOptions, Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceWorker, type InstanceWorkerOptions, splitSlots } from '../src/instance-worker.js';

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

const sealer = new Sealer({ currentId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });

/** A sim, an InstanceWorker on it (its own Redis prefix) and the model's queue; closed after the describe. */
function fixture(simOptions: SimOptions, workerOptions: Partial<InstanceWorkerOptions>) {
  const prefix = `test-iw-${randomUUID()}`;
  const keys = redisKeys(prefix);
  const admin = createRedis(REDIS_URL, 'worker');
  const f = {
    prefix,
    keys,
    admin,
    sim: undefined as unknown as SimHandle,
    worker: undefined as unknown as InstanceWorker,
    queue: undefined as unknown as Queue<ProcessJobData>,
    generated: () => f.sim.counters.requests.byEndpoint['/api/generate'] ?? 0,
  };
  beforeAll(async () => {
    f.sim = await startSim({ models: [MODEL], genTokensPerSec: 2000, defaultTokens: 4, ...simOptions });
    f.worker = new InstanceWorker({
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      ollamaUrl: f.sim.url,
      instanceId: 'gpu0',
      numParallel: 1,
      keepAlive: '5m',
      requestTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      sealer,
      logger: pino({ level: 'silent' }),
      ...workerOptions,
    });
    await f.worker.start();
    f.queue = new Queue<ProcessJobData>(queueNameFor(MODEL), { connection: admin, prefix: keys.bull });
  });
  afterAll(async () => {
    await f.worker.close();
    await f.queue.close();
    await deleteByPrefix(admin, prefix);
    await admin.quit();
    await f.sim.close();
  });
  return f;
}

/** `count` jobs as a gateway adds them (async: no reply channel), prompts `<tag> <i>`. */
function jobs(tag: string, count: number, opts: JobsOptions = {}) {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    name: 'process',
    data: {
      v: 1 as const,
      requestId: `req-${tag}-${i}`,
      actor: { sub: 'dr', role: 'provider' as const, method: 'jwt' as const },
      model: MODEL,
      priority: 'routine' as const,
      deadline: now + 60_000,
      acceptedAt: now,
      replyTo: null,
      stream: false,
      sealed: sealer.sealJson({ prompt: `${tag} ${i}` }),
    },
    opts: { ...opts, jobId: `${tag}-${i}` },
  }));
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('InstanceWorker with its slots over several Workers', () => {
  // The sim has room for far more than the worker may send, so only the worker limits concurrency.
  const f = fixture({ numParallel: 64 }, { numParallel: 10 });

  it('runs exactly numParallel jobs at once on the instance, and every job once', async () => {
    f.sim.script({ prompt: /slot-test/, reply: 'done', delayMs: 150 });
    await f.queue.addBulk(jobs('slot-test', 40));
    await until('40 jobs completed', async () => (await f.queue.getJobCountByTypes('completed')) >= 40);
    const c = f.sim.counters;
    // Three Workers (4 + 3 + 3 slots) together fill the instance's ten slots and never exceed them.
    expect(c.maxActive).toBe(10);
    expect(c.requests.byEndpoint['/api/generate']).toBe(40);
    // Ten slots are pulled by three BullMQ workers, each with its own blocking connection.
    expect(await f.queue.getWorkersCount()).toBe(3);
    expect(await f.queue.getJobCountByTypes('failed')).toBe(0);
  });

  it('stops every Worker pulling while the instance fails, and resumes them all when it answers', async () => {
    await f.sim.setFailure({ mode: 'error500' });
    const before = f.generated();
    await f.queue.addBulk(jobs('fail-first', 1));
    await until('the instance marked out of service', () => !f.worker.healthy);
    const afterFailure = f.generated();
    expect(afterFailure - before).toBe(1);
    await f.queue.addBulk(jobs('while-down', 20));
    await new Promise((r) => setTimeout(r, 500));
    // No Worker of the model took a job to the failing instance. A fetch already waiting when the
    // Workers paused hands its job back (delayed), without spending one of the job's attempts.
    expect(f.generated()).toBe(afterFailure);
    expect(await f.queue.getJobCountByTypes('wait', 'prioritized', 'delayed')).toBe(20);
    const handedBack = await f.queue.getJobs(['delayed'], 0, -1);
    for (const j of handedBack) expect(j.attemptsMade).toBe(0);
    await f.sim.setFailure(null);
    await until('the 20 jobs completed after the probe', async () => {
      const done = await f.queue.getJobs(['completed'], 0, -1);
      return done.filter((j) => j.id!.startsWith('while-down')).length === 20;
    });
    expect(f.worker.healthy).toBe(true);
    expect(f.sim.counters.maxActive).toBeLessThanOrEqual(10);
  });

  it('tells the waiting gateway at once when BullMQ fails a job that stalled too often', async () => {
    const channel = `${f.prefix}:reply:test`;
    const sub = createRedis(REDIS_URL, 'subscriber');
    const heard: string[] = [];
    sub.on('message', (_c: string, raw: string) => heard.push(raw));
    await sub.subscribe(channel);
    try {
      const before = f.generated();
      const [job] = jobs('stalled', 1);
      // Delayed, so the mark BullMQ's stalled check leaves is on the job before a worker takes it.
      await f.queue.add(job!.name, { ...job!.data, replyTo: channel }, { ...job!.opts, delay: 300 });
      await f.admin.hset(
        `${f.keys.bull}:${queueNameFor(MODEL)}:${job!.opts.jobId}`,
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
      expect(await f.queue.getJobState(job!.opts.jobId)).toBe('failed');
      // It never ran again.
      expect(f.generated()).toBe(before);
    } finally {
      sub.disconnect();
    }
  });
});

describe('InstanceWorker on an instance that answers its probe but fails the work', () => {
  /** The worker's health changes, read from its log. */
  const changes: Array<{ at: number; healthy: boolean }> = [];
  const log = new Writable({
    write(line: Buffer, _enc, done) {
      const { msg, time } = JSON.parse(line.toString()) as { msg: string; time: number };
      if (msg === 'Ollama instance is reachable') changes.push({ at: time, healthy: true });
      if (msg === 'Ollama instance is unreachable; retrying') changes.push({ at: time, healthy: false });
      done();
    },
  });

  // Discovery runs far more often than the probe: it must not bring the instance back early.
  const f = fixture(
    { numParallel: 1 },
    { probeIntervalMs: 150, discoveryIntervalMs: 100, logger: pino({ level: 'info' }, log) },
  );

  it('stays out of service twice as long after each failure that follows a successful probe', async () => {
    // /api/version answers (the probe passes) while every generation fails with a 500.
    f.sim.script({ prompt: /flap/, error: { status: 500, message: 'CUDA error: out of memory' } });
    await f.queue.addBulk(jobs('flap', 40, { attempts: 5, backoff: { type: 'fixed', delay: 10 } }));
    // Lengths of the spells out of service, from the worker's log.
    const outages = () => {
      const out: number[] = [];
      for (let i = 1; i < changes.length; i++)
        if (changes[i]!.healthy && !changes[i - 1]!.healthy) out.push(changes[i]!.at - changes[i - 1]!.at);
      return out;
    };
    const end = Date.now() + 6000;
    while (Date.now() < end && outages().length < 4) await new Promise((r) => setTimeout(r, 20));
    const spells = outages().slice(0, 4);
    expect(spells).toHaveLength(4);
    // 150 ms, then 300, 600 and 1200: each spell at least half again as long as the one before.
    expect(spells[0]!).toBeLessThan(450);
    for (let i = 1; i < spells.length; i++) expect(spells[i]!).toBeGreaterThan(spells[i - 1]! * 1.5);
  });
});
