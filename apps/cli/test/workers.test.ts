import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Stack, sleep, startStack } from './helpers/stack.js';

describe('two worker processes on two instances', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Workers run as separate `ward start --target worker` processes, as in compose.
    stack = await startStack({
      sims: [
        { models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 300, defaultTokens: 20 },
        { models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 300, defaultTokens: 20 },
      ],
      workers: false,
    });
    await stack.spawnWorker(stack.sims[0]!.url, { WORKER_INSTANCE_ID: 'gpu0', OLLAMA_NUM_PARALLEL: '2' });
    await stack.spawnWorker(stack.sims[1]!.url, { WORKER_INSTANCE_ID: 'gpu1', OLLAMA_NUM_PARALLEL: '2' });
    await stack.waitForInstances(2, 20_000);
  });
  afterAll(() => stack?.close());

  it('shares a burst of 40 requests between both instances', async () => {
    const token = stack.token('provider');
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(stack, 'POST', '/api/local/process', {
          token,
          body: { modelName: 'mistral:7b', prompt: `burst ${i}` },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
    const byInstance = new Map<string, number>();
    for (const r of results) byInstance.set(r.body.instance, (byInstance.get(r.body.instance) ?? 0) + 1);
    expect([...byInstance.keys()].sort()).toEqual(['gpu0', 'gpu1']);
    expect(Math.min(...byInstance.values())).toBeGreaterThanOrEqual(5);
    expect(stack.sims[0]!.counters.completed).toBeGreaterThan(0);
    expect(stack.sims[1]!.counters.completed).toBeGreaterThan(0);
  });

  it('finishes or cleanly fails every request when one worker process is killed mid-job', async () => {
    const token = stack.token('provider');
    stack.sims[0]!.script({ prompt: /kill-test/, tokens: 300 });
    stack.sims[1]!.script({ prompt: /kill-test/, tokens: 300 });
    const started = Date.now();
    const pending = Array.from({ length: 8 }, (_, i) =>
      call(stack, 'POST', '/api/local/process', {
        token,
        body: { modelName: 'mistral:7b', prompt: `kill-test ${i}`, timeoutSeconds: 25 },
      }),
    );
    for (let i = 0; i < 200 && stack.sims[0]!.counters.active === 0; i++) await sleep(10);
    expect(stack.sims[0]!.counters.active).toBeGreaterThan(0);
    stack.children[0]!.kill('SIGKILL');
    const results = await Promise.race([
      Promise.all(pending),
      sleep(28_000).then(() => {
        throw new Error('a request hung');
      }),
    ]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(27_000);
    for (const r of results) {
      expect([200, 502, 503, 504]).toContain(r.status);
      if (r.status !== 200) expect(r.body.code).toMatch(/^WARD_/);
    }
    // The jobs that were running on the dead worker were taken over by the survivor.
    expect(results.filter((r) => r.status === 200).length).toBe(8);
    expect(
      results.every((r) => r.status !== 200 || r.body.instance === 'gpu1' || r.body.instance === 'gpu0'),
    ).toBe(true);
    expect(results.filter((r) => r.body.instance === 'gpu1').length).toBeGreaterThan(0);
  }, 40_000);

  it('finishes its in-flight job on SIGTERM, then exits cleanly', async () => {
    const token = stack.token('provider');
    stack.sims[1]!.script({ prompt: /sigterm-test/, tokens: 150 });
    const survivor = stack.children[1]!;
    const pending = call(stack, 'POST', '/api/local/process', {
      token,
      body: { modelName: 'mistral:7b', prompt: 'sigterm-test', timeoutSeconds: 20 },
    });
    for (let i = 0; i < 200 && stack.sims[1]!.counters.active === 0; i++) await sleep(10);
    expect(stack.sims[1]!.counters.active).toBe(1);
    const exited = new Promise<number | null>((r) => survivor.on('exit', r));
    survivor.kill('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.instance).toBe('gpu1');
    expect(res.body.usage.completionTokens).toBe(150);
    expect(await exited).toBe(0);
  }, 30_000);
});
