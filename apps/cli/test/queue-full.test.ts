import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Stack, sleep, startStack } from './helpers/stack.js';

describe('backpressure', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sims: [
        { models: ['mistral:7b'], numParallel: 1, maxQueue: 1, genTokensPerSec: 200, defaultTokens: 40 },
      ],
      numParallel: 1,
      env: { OLLAMA_MAX_QUEUE: '2' },
    });
  });
  afterAll(() => stack?.close());

  it('answers 503 with Retry-After when the model queue is full, and never hangs', async () => {
    const token = stack.token('provider');
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(stack, 'POST', '/api/local/process', {
          token,
          body: { modelName: 'mistral:7b', prompt: `burst ${i}`, timeoutSeconds: 20 },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const full = results.find((r) => r.status === 503)!;
    expect(full.body.code).toBe('WARD_QUEUE_FULL');
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The sim itself never had to refuse: the gateway's cap held the line.
    expect(stack.sims[0]!.counters.rejected503).toBe(0);
  });

  it('holds the cap against a burst that arrives all at once', async () => {
    const token = stack.token('provider');
    stack.sims[0]!.script({ prompt: /^burst-cap/, tokens: 200 });
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        call(stack, 'POST', '/api/local/process', {
          token,
          headers: { prefer: 'respond-async' },
          body: { modelName: 'mistral:7b', prompt: `burst-cap ${i}` },
        }),
      ),
    );
    const accepted = results.filter((r) => r.status === 202);
    expect(results.every((r) => r.status === 202 || r.status === 503)).toBe(true);
    // At most the cap (2) waiting, plus the one the worker may already have taken.
    expect(accepted.length).toBeLessThanOrEqual(3);
    for (const r of accepted) await call(stack, 'DELETE', `/api/jobs/${r.body.id}`, { token });
  });

  it('sizes Retry-After from the job time the workers observe (they see every job, async ones too)', async () => {
    const token = stack.token('provider');
    // Async jobs: their answers never pass through the gateway, only the worker sees them end.
    const warm: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(stack, 'POST', '/api/local/process', {
        token,
        headers: { prefer: 'respond-async' },
        body: { modelName: 'mistral:7b', prompt: `warm ${i}` },
      });
      expect(res.status).toBe(202);
      warm.push(res.body.id);
    }
    for (const id of warm)
      for (let i = 0; i < 100; i++) {
        if ((await call(stack, 'GET', `/api/jobs/${id}`, { token })).body.state === 'completed') break;
        await sleep(50);
      }
    await sleep(300); // a heartbeat
    const serviceMs = (await stack.app.instances.refresh())[0]!.serviceMs!['mistral:7b']!;
    // 40 tokens at 200 tokens/s: about 200 ms a job (not the 5 s assumed before any was seen).
    expect(serviceMs).toBeGreaterThan(100);
    expect(serviceMs).toBeLessThan(1000);
    // Jobs one after another, so each sees the one before it queued, until the cap refuses one.
    let full: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 20 && !full; i++) {
      const res = await call(stack, 'POST', '/api/local/process', {
        token,
        headers: { prefer: 'respond-async' },
        body: { modelName: 'mistral:7b', prompt: `drain ${i}` },
      });
      if (res.status === 503) full = res;
      else expect(res.status).toBe(202);
    }
    expect(full?.body.code).toBe('WARD_QUEUE_FULL');
    // Two queued jobs ahead, one slot, about 200 ms each: a second or so, not the ten that 5 s a
    // job (assumed before any is observed) would give.
    const retryAfter = Number(full!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
  });
});

describe('an Ollama whose own queue is full (shared with other clients)', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The worker runs 3 at once, but the sim takes 1 and queues 1: the third is refused with 503.
    stack = await startStack({
      sims: [{ models: ['mistral:7b'], numParallel: 1, maxQueue: 1, genTokensPerSec: 20, defaultTokens: 40 }],
      numParallel: 3,
    });
  });
  afterAll(() => stack?.close());

  it('retries the refused job with backoff, then answers 503 with Retry-After, and keeps the instance in service', async () => {
    const token = stack.token('provider');
    const results = await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        call(stack, 'POST', '/api/local/process', {
          token,
          body: { modelName: 'mistral:7b', prompt: `shared ${i}`, timeoutSeconds: 20 },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 503]);
    const busy = results.find((r) => r.status === 503)!;
    expect(busy.body.code).toBe('WARD_UPSTREAM_BUSY');
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Three attempts, each refused by the sim.
    expect(stack.sims[0]!.counters.rejected503).toBe(3);
    const status = await call(stack, 'GET', '/api/local/status', { token });
    expect(status.body.instances[0]).toMatchObject({ healthy: true });
  });
});
