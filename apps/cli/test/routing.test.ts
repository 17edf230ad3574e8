import { startSim } from '@ward/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Stack, sleep, startStack } from './helpers/stack.js';

async function waitDone(stack: Stack, token: string, id: string): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const view = (await call(stack, 'GET', `/api/jobs/${id}`, { token })).body;
    if (view.state === 'completed' || view.state === 'failed') return view;
    await sleep(20);
  }
  throw new Error(`job ${id} did not finish`);
}

describe('priorities and rate limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sims: [{ models: ['mistral:7b'], numParallel: 1, genTokensPerSec: 400, defaultTokens: 20 }],
      numParallel: 1,
      env: { RATE_LIMIT_PER_MINUTE: 'provider=100000,staff=3' },
    });
  });
  afterAll(() => stack?.close());

  it('lets a STAT request overtake queued routine and batch work', async () => {
    const token = stack.token('provider', 'prio-user');
    stack.sims[0]!.script({ prompt: /occupy/, tokens: 80 });
    const submit = async (prompt: string, priority: string) =>
      (
        await call(stack, 'POST', '/api/local/process', {
          token,
          headers: { prefer: 'respond-async' },
          body: { modelName: 'mistral:7b', prompt, priority },
        })
      ).body.id as string;
    await submit('occupy the only slot', 'routine');
    await sleep(50);
    const routine = [
      await submit('r1', 'routine'),
      await submit('r2', 'routine'),
      await submit('b1', 'batch'),
      await submit('r3', 'routine'),
    ];
    const stat = await submit('stat chest pain', 'stat');
    const views = await Promise.all([stat, ...routine].map((id) => waitDone(stack, token, id)));
    const started = (v: any) => Date.parse(v.startedAt);
    const [statView, ...rest] = views;
    for (const v of rest) expect(started(statView)).toBeLessThanOrEqual(started(v));
    // Batch work goes after routine work.
    const batch = rest[2];
    for (const v of [rest[0], rest[1], rest[3]]) expect(started(v)).toBeLessThanOrEqual(started(batch));
  });

  it('answers 429 with Retry-After when a user exceeds the limit of their role, without touching other users', async () => {
    const staff = stack.token('staff', 'busy-staff');
    const statuses: number[] = [];
    let last: any;
    for (let i = 0; i < 5; i++) {
      last = await call(stack, 'GET', '/api/local/status', { token: staff });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last.body.code).toBe('WARD_RATE_LIMITED');
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(
      (await call(stack, 'GET', '/api/local/status', { token: stack.token('staff', 'other-staff') })).status,
    ).toBe(200);
    expect((await call(stack, 'GET', '/health/ready')).status).toBe(200);
  });
});

describe('rate limit shared by a role', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sims: [{ models: ['mistral:7b'], numParallel: 1, genTokensPerSec: 400, defaultTokens: 20 }],
      numParallel: 1,
      env: { RATE_LIMIT_PER_MINUTE: 'staff=3', RATE_LIMIT_PER_ROLE_PER_MINUTE: 'staff=5' },
    });
  });
  afterAll(() => stack?.close());

  it('answers 429 once a role has used its shared limit; a user refused by their own limit uses none of it', async () => {
    const status = async (user: string) =>
      call(stack, 'GET', '/api/local/status', { token: stack.token('staff', user) });
    const statuses = async (user: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await status(user)).status);
      return out;
    };
    const roleCount = async () => Number(await stack.redis.get(`${stack.prefix}:rl:r:staff`));
    expect(await statuses('staff-a', 3)).toEqual([200, 200, 200]);
    expect(await statuses('staff-b', 2)).toEqual([200, 200]);
    expect(await roleCount()).toBe(5);
    // Over their own limit, staff-a is refused by it, and that request is taken back out of the
    // role's count even though it went past the role's limit too.
    expect((await status('staff-a')).status).toBe(429);
    for (let i = 0; i < 100 && (await roleCount()) !== 5; i++) await sleep(20);
    expect(await roleCount()).toBe(5);
    // The role's five are used: a third staff user, well under their own limit, is refused.
    const refused = await status('staff-c');
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('WARD_RATE_LIMITED');
    expect(refused.body.message).toContain("staff role's shared rate limit of 5");
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Not the per-user headers: they describe a limit this user has not reached.
    expect(refused.headers.get('x-ratelimit-remaining')).toBeNull();
    // Other roles have their own share.
    expect(
      (await call(stack, 'GET', '/api/local/status', { token: stack.token('provider', 'prov') })).status,
    ).toBe(200);
  });
});

describe('instance failure and recovery', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sims: [
        { models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 1000, defaultTokens: 10 },
        { models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 1000, defaultTokens: 10 },
      ],
      numParallel: 2,
      // A hung instance is noticed within a few seconds.
      requestTimeoutMs: 2000,
    });
  });
  afterAll(() => stack?.close());

  it('moves a stopped instance share to the other within 10 s and takes it back once it returns', async () => {
    const token = stack.token('provider', 'failover-user');
    const burst = async (n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          call(stack, 'POST', '/api/local/process', {
            token,
            body: { modelName: 'mistral:7b', prompt: `f${i}`, timeoutSeconds: 20 },
          }),
        ),
      );
    const first = await burst(12);
    expect(new Set(first.map((r) => r.body.instance))).toEqual(new Set(['sim-0', 'sim-1']));

    const port = stack.sims[1]!.port;
    await stack.sims[1]!.close();
    const stoppedAt = Date.now();
    let moved = false;
    while (Date.now() - stoppedAt < 10_000) {
      const rs = await burst(6);
      if (rs.every((r) => r.status === 200 && r.body.instance === 'sim-0')) {
        moved = true;
        break;
      }
    }
    expect(moved).toBe(true);
    const status = await call(stack, 'GET', '/api/local/status', { token });
    expect(status.body.instances.find((i: any) => i.id === 'sim-1').healthy).toBe(false);

    stack.sims[1] = await startSim({
      port,
      models: ['mistral:7b'],
      numParallel: 2,
      genTokensPerSec: 1000,
      defaultTokens: 10,
    });
    const backAt = Date.now();
    let back = false;
    while (Date.now() - backAt < 10_000) {
      const rs = await burst(8);
      if (rs.some((r) => r.body.instance === 'sim-1')) {
        back = true;
        break;
      }
      await sleep(200);
    }
    expect(back).toBe(true);
  }, 40_000);

  const burst = (n: number, tag: string) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(stack, 'POST', '/api/local/process', {
          token: stack.token('provider', 'breaker-user'),
          body: { modelName: 'mistral:7b', prompt: `${tag} ${i}`, timeoutSeconds: 20 },
        }),
      ),
    );
  const sim1 = async () =>
    (await call(stack, 'GET', '/api/local/status', { token: stack.token('staff') })).body.instances.find(
      (i: any) => i.id === 'sim-1',
    );
  async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return;
      await sleep(100);
    }
    throw new Error(`${what} within ${ms} ms`);
  }

  for (const [name, fail] of [
    ['answers 500', { mode: 'error500' }],
    ['stops answering mid-request', { mode: 'hang' }],
  ] as const) {
    it(`${name}: taken out of service, its jobs retried on the other, back once a probe succeeds`, async () => {
      expect(new Set((await burst(8, `${name} before`)).map((r) => r.body.instance))).toEqual(
        new Set(['sim-0', 'sim-1']),
      );
      await stack.sims[1]!.setFailure(fail);
      const during = await burst(8, `${name} during`);
      expect(during.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(new Set(during.map((r) => r.body.instance))).toEqual(new Set(['sim-0']));
      expect(await sim1()).toMatchObject({
        healthy: false,
        lastError: expect.stringMatching(/^WARD_OLLAMA_/),
      });

      await stack.sims[1]!.setFailure(null);
      await until('sim-1 back in service', async () => (await sim1()).healthy === true);
      await until('sim-1 serving again', async () =>
        (await burst(8, `${name} after`)).some((r) => r.body.instance === 'sim-1'),
      );
    }, 30_000);
  }
});

describe('a model deleted from an instance', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sims: [
        { models: ['mistral:7b', 'llama3.2:3b'], numParallel: 2, genTokensPerSec: 1000, defaultTokens: 10 },
        { models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 1000, defaultTokens: 10 },
      ],
      numParallel: 2,
      // Only the 404 makes the worker look again (no periodic round in between).
      discoveryIntervalMs: 600_000,
    });
  });
  afterAll(() => stack?.close());

  it('stops being advertised and routed once a request finds it gone', async () => {
    const token = stack.token('provider', 'deleted-model-user');
    const ask = (modelName: string) =>
      call(stack, 'POST', '/api/local/process', {
        token,
        body: { modelName, prompt: 'hello', timeoutSeconds: 10 },
      });
    expect((await ask('llama3.2:3b')).status).toBe(200);

    const deleted = await fetch(`${stack.sims[0]!.url}/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'llama3.2:3b' }),
    });
    expect(deleted.status).toBe(200);
    // The instance still advertised it: Ollama's 404 comes back as such, and the worker looks again.
    const stale = await ask('llama3.2:3b');
    expect(stale.status).toBe(404);
    expect(stale.body.code).toBe('WARD_MODEL_NOT_FOUND');

    let gone = false;
    for (let i = 0; i < 40 && !gone; i++) {
      await sleep(50);
      const status = await call(stack, 'GET', '/api/local/status', { token });
      gone = !status.body.instances.find((x: any) => x.id === 'sim-0').models.includes('llama3.2:3b');
    }
    expect(gone).toBe(true);
    // Now the gateway knows no instance has it, and says so without queueing; the rest still works.
    const refused = await ask('llama3.2:3b');
    expect(refused.status).toBe(404);
    expect(refused.body.field).toBe('modelName');
    expect((await ask('mistral:7b')).status).toBe(200);
  });
});

describe('an instance out of service after one failed request', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sims: [{ models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 1000, defaultTokens: 10 }],
      numParallel: 2,
      requestTimeoutMs: 2000,
    });
  });
  afterAll(() => stack?.close());

  it('hands its running jobs back once its probe fails too', async () => {
    const token = stack.token('provider', 'probe-user');
    const sim = stack.sims[0]!;
    const submit = async (prompt: string) =>
      (
        await call(stack, 'POST', '/api/local/process', {
          token,
          headers: { prefer: 'respond-async' },
          body: { modelName: 'mistral:7b', prompt, timeoutSeconds: 60 },
        })
      ).body.id as string;
    sim.script({ prompt: /^held/, tokens: 20_000 });
    const held = await submit('held for a long time');
    for (let i = 0; i < 100 && sim.counters.active === 0; i++) await sleep(20);
    expect(sim.counters.active).toBe(1);
    const aborts = sim.counters.aborts;

    // One request fails: the instance goes out of service, but the held job keeps running.
    sim.script({ prompt: /^boom/, error: { status: 500, message: 'llama runner crashed' }, once: true });
    const boom = await submit('boom');
    const healthy = async () =>
      (await call(stack, 'GET', '/api/local/status', { token })).body.instances[0].healthy as boolean;
    for (let i = 0; i < 100 && (await healthy()); i++) await sleep(20);
    expect(await healthy()).toBe(false);
    expect(sim.counters.aborts).toBe(aborts);

    // Then the instance stops answering its probe: the held job is stopped there and queued again.
    await sim.setFailure({ mode: 'error500' });
    for (let i = 0; i < 100 && sim.counters.aborts === aborts; i++) await sleep(50);
    expect(sim.counters.aborts).toBe(aborts + 1);
    const view = await call(stack, 'GET', `/api/jobs/${held}`, { token });
    expect(view.body.state).toBe('queued');

    await sim.setFailure(null);
    for (const id of [held, boom]) await call(stack, 'DELETE', `/api/jobs/${id}`, { token });
  }, 20_000);
});
