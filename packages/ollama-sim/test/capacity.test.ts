import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { QUEUE_FULL_MESSAGE, type SimHandle, type StartSimOptions, startSim } from '../src/index.js';
import { type Json, post, postJson, readNdjson, waitFor } from './helpers.js';

let sim: SimHandle | undefined;

async function start(opts: StartSimOptions): Promise<SimHandle> {
  sim = await startSim({ promptTokensPerSec: 1_000_000, loadTimeMs: 0, ...opts });
  return sim;
}

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const gen = (s: SimHandle, model: string, extra: Json = {}) =>
  postJson(s.url, '/api/generate', { model, prompt: 'go', stream: false, ...extra });

describe('streaming', () => {
  it('delivers the first chunk long before the last one is produced', async () => {
    const s = await start({ models: ['mistral:7b'], genTokensPerSec: 20 });
    const t0 = performance.now();
    const res = await post(s.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'slow',
      options: { num_predict: 8 },
    });
    const lines = await readNdjson(res);
    expect(lines).toHaveLength(9);
    const first = lines[0]!.at - t0;
    const last = lines.at(-1)!.at - t0;
    expect(first).toBeLessThan(150);
    expect(last - first).toBeGreaterThan(250);
    expect(lines.at(-1)!.value.eval_duration).toBeGreaterThanOrEqual(380_000_000);
  });

  it('stops generating when the client disconnects, counts an abort and frees the slot', async () => {
    const s = await start({ models: ['mistral:7b'], genTokensPerSec: 20, numParallel: 1 });
    const controller = new AbortController();
    const res = await post(
      s.url,
      '/api/generate',
      { model: 'mistral:7b', prompt: 'long', options: { num_predict: 200 } },
      { signal: controller.signal },
    );
    const reader = res.body!.getReader();
    await reader.read();
    expect(s.counters.active).toBe(1);
    controller.abort();
    await waitFor(() => s.counters.aborts === 1 && s.counters.active === 0);
    const next = await gen(s, 'mistral:7b', { options: { num_predict: 2 } });
    expect(next.status).toBe(200);
    expect(next.body.total_duration).toBeLessThan(500_000_000);
    expect(s.counters.log.find((e) => e.outcome === 'aborted')).toBeDefined();
  });

  it('counts an abort when a client gives up while queued, and the queue empties', async () => {
    const s = await start({ models: ['mistral:7b'], genTokensPerSec: 50, numParallel: 1 });
    const running = gen(s, 'mistral:7b', { options: { num_predict: 10 } });
    await waitFor(() => s.counters.active === 1);
    const controller = new AbortController();
    const queued = post(
      s.url,
      '/api/generate',
      { model: 'mistral:7b', prompt: 'q', stream: false },
      { signal: controller.signal },
    );
    await waitFor(() => s.counters.queued === 1);
    controller.abort();
    await expect(queued).rejects.toThrow();
    await waitFor(() => s.counters.aborts === 1 && s.counters.queued === 0);
    expect((await running).status).toBe(200);
  });
});

describe('capacity', () => {
  it("answers 503 with Ollama's exact body when the wait queue is full", async () => {
    const s = await start({ models: ['mistral:7b'], genTokensPerSec: 40, numParallel: 1, maxQueue: 1 });
    const results = await Promise.all(
      [0, 1, 2].map(async () => {
        const res = await post(s.url, '/api/generate', {
          model: 'mistral:7b',
          prompt: 'x',
          stream: false,
          options: { num_predict: 6 },
        });
        return { status: res.status, text: await res.text() };
      }),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 503]);
    const rejected = results.find((r) => r.status === 503)!;
    expect(rejected.text).toBe(
      '{"error":"server busy, please try again.  maximum pending requests exceeded"}',
    );
    expect(JSON.parse(rejected.text).error).toBe(QUEUE_FULL_MESSAGE);
    expect(s.counters.rejected503).toBe(1);
  });

  it('runs at most numParallel requests per model at once and queues the rest', async () => {
    const s = await start({ models: ['mistral:7b', 'llama3.2:3b'], genTokensPerSec: 50, numParallel: 2 });
    const runs = [
      gen(s, 'mistral:7b', { options: { num_predict: 8 } }),
      gen(s, 'mistral:7b', { options: { num_predict: 8 } }),
      gen(s, 'mistral:7b', { options: { num_predict: 8 } }),
      gen(s, 'llama3.2:3b', { options: { num_predict: 8 } }),
    ];
    await waitFor(() => s.counters.active === 3 && s.counters.queued === 1);
    expect(s.counters.models['mistral:7b']).toMatchObject({ active: 2, queued: 1 });
    expect(s.counters.models['llama3.2:3b']).toMatchObject({ active: 1, queued: 0 });
    await Promise.all(runs);
    const c = s.counters;
    expect(c.models['mistral:7b']!.maxActive).toBe(2);
    expect(c.maxActive).toBe(3);
    expect(c.completed).toBe(4);
  });

  it('evicts the least recently used idle model and reports the load in load_duration', async () => {
    const s = await start({
      models: ['a:1b', 'b:1b', 'c:1b'],
      maxLoadedModels: 2,
      loadTimeMs: 1000,
      timeScale: 10,
      genTokensPerSec: 10_000,
    });
    const first = await gen(s, 'a:1b');
    expect(first.body.load_duration).toBeGreaterThanOrEqual(1_000_000_000);
    const again = await gen(s, 'a:1b');
    expect(again.body.load_duration).toBeLessThan(50_000_000);
    await gen(s, 'b:1b');
    await gen(s, 'a:1b'); // b is now the least recently used
    const c = await gen(s, 'c:1b');
    expect(c.body.load_duration).toBeGreaterThanOrEqual(1_000_000_000);
    expect(s.counters.evictions).toBe(1);
    expect(s.counters.loads).toBe(3);
    const ps = (await (await fetch(`${s.url}/api/ps`)).json()) as Json;
    expect(ps.models.map((m: Json) => m.name).sort()).toEqual(['a:1b', 'c:1b']);
  });

  it('does not evict a model that is busy: the other model waits for it to finish', async () => {
    const s = await start({
      models: ['a:1b', 'b:1b'],
      maxLoadedModels: 1,
      loadTimeMs: 100,
      genTokensPerSec: 25,
    });
    await gen(s, 'a:1b', { options: { num_predict: 1 } });
    const t0 = performance.now();
    const long = gen(s, 'a:1b', { options: { num_predict: 10 } }).then((r) => ({
      ...r,
      at: performance.now() - t0,
    }));
    await waitFor(() => s.counters.active === 1);
    const other = gen(s, 'b:1b', { options: { num_predict: 1 } }).then((r) => ({
      ...r,
      at: performance.now() - t0,
    }));
    await waitFor(() => s.counters.queued === 1);
    expect(s.counters.evictions).toBe(0);
    const [a, b] = await Promise.all([long, other]);
    expect(b.at).toBeGreaterThan(a.at);
    expect(s.counters.evictions).toBe(1);
    // b waited for a (~400 ms) and then for its own load (100 ms)
    expect(b.body.load_duration).toBeGreaterThanOrEqual(400_000_000);
  });

  it('shares generation throughput sub-linearly between requests running together', async () => {
    const s = await start({ models: ['mistral:7b'], genTokensPerSec: 200, numParallel: 4, batchAlpha: 0.6 });
    await gen(s, 'mistral:7b', { options: { num_predict: 1 } });
    const rate = (b: Json) => b.eval_count / (b.eval_duration / 1e9);
    const solo = await gen(s, 'mistral:7b', { options: { num_predict: 40 } });
    expect(rate(solo.body)).toBeCloseTo(200, -1);
    const together = await Promise.all(
      [0, 1, 2, 3].map(() => gen(s, 'mistral:7b', { options: { num_predict: 40 } })),
    );
    const each = (200 * 4 ** 0.6) / 4; // ≈ 115 tok/s per request, ≈ 460 in aggregate
    for (const r of together) {
      expect(rate(r.body)).toBeGreaterThan(each * 0.85);
      expect(rate(r.body)).toBeLessThan(each * 1.15);
    }
    const aggregate = together.reduce((sum, r) => sum + rate(r.body), 0);
    expect(aggregate).toBeGreaterThan(200 * 1.5);
    expect(aggregate).toBeLessThan(200 * 4 * 0.75);
  });

  it('makes an instance slower with speedFactor and compresses wall time with timeScale', async () => {
    const s = await start({ models: ['mistral:7b'], genTokensPerSec: 100, speedFactor: 0.5, timeScale: 20 });
    const t0 = performance.now();
    const { body } = await gen(s, 'mistral:7b', { options: { num_predict: 50 } });
    const wall = performance.now() - t0;
    // 50 tokens at 50 tok/s = 1 s of simulated time, 50 ms of wall time
    expect(body.eval_duration).toBeGreaterThanOrEqual(950_000_000);
    expect(body.eval_duration).toBeLessThan(1_200_000_000);
    expect(wall).toBeLessThan(400);
  });

  it('answers at once in zero-latency mode and still counts loads and requests', async () => {
    const s = await start({ models: ['mistral:7b'], latency: 'none', numParallel: 1 });
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, () => gen(s, 'mistral:7b', { options: { num_predict: 30 } })),
    );
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(results.every((r) => r.status === 200 && r.body.eval_count === 30)).toBe(true);
    expect(s.counters.loads).toBe(1);
    expect(s.counters.completed).toBe(200);
    expect(s.counters.rejected503).toBe(0);
    const stream = await readNdjson(
      await post(s.url, '/api/chat', {
        model: 'mistral:7b',
        messages: [{ role: 'user', content: 'x' }],
        options: { num_predict: 3 },
      }),
    );
    expect(stream).toHaveLength(4);
  });
});
