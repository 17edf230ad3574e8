import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, PNG_1x1, type Stack, sleep, startStack } from './helpers/stack.js';

describe('a request through gateway, queue, worker and Ollama (sim)', () => {
  let stack: Stack;
  let provider: string;

  beforeAll(async () => {
    stack = await startStack({
      sims: [
        {
          models: ['mistral:7b', 'llava:7b'],
          numParallel: 4,
          genTokensPerSec: 400,
          promptTokensPerSec: 10_000,
          loadTimeMs: 20,
          defaultTokens: 12,
        },
      ],
    });
    provider = stack.token('provider', 'dr-house');
  });
  afterAll(() => stack?.close());

  /** Polls a job until it reaches `state` (or gives up) and returns its last view. */
  async function jobUntil(id: string, state: string, tries = 100, everyMs = 20): Promise<any> {
    let view: any;
    for (let i = 0; i < tries; i++) {
      view = (await call(stack, 'GET', `/api/jobs/${id}`, { token: provider })).body;
      if (view.state === state) break;
      await sleep(everyMs);
    }
    return view;
  }

  /** Sends a sync request with a one-second deadline and expects 504 soon after it. */
  async function expectDeadline504(prompt: string): Promise<void> {
    const t0 = Date.now();
    const res = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      body: { modelName: 'mistral:7b', prompt, timeoutSeconds: 1 },
    });
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('WARD_JOB_DEADLINE_EXCEEDED');
    expect(Date.now() - t0).toBeLessThan(4000);
  }

  /** Fills the worker's four slots with long async jobs, so the next job has to wait in the queue. */
  async function fillSlots(tag: string): Promise<string[]> {
    stack.sims[0]!.script({ prompt: new RegExp(tag), tokens: 20_000 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call(stack, 'POST', '/api/local/process', {
        token: provider,
        headers: { prefer: 'respond-async' },
        body: { modelName: 'mistral:7b', prompt: `${tag} ${i}` },
      });
      ids.push(res.body.id);
    }
    for (let i = 0; i < 100 && stack.sims[0]!.counters.active < 4; i++) await sleep(20);
    expect(stack.sims[0]!.counters.active).toBe(4);
    return ids;
  }

  it('answers synchronously with the model, instance, token counts and timings', async () => {
    stack.sims[0]!.script({
      model: 'mistral:7b',
      prompt: /sync-check/,
      reply: 'Assessment: stable angina suspected.',
    });
    const res = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      body: { modelName: 'mistral:7b', prompt: 'sync-check: summarise', type: 'text' },
    });
    expect(res.status).toBe(200);
    expect(res.body.response).toBe('Assessment: stable angina suspected.');
    expect(res.body.model).toBe('mistral:7b');
    expect(res.body.instance).toBe('sim-0');
    expect(res.body.usage.completionTokens).toBeGreaterThan(0);
    expect(res.body.usage.promptTokens).toBeGreaterThan(0);
    for (const k of ['queueMs', 'loadMs', 'promptEvalMs', 'generationMs', 'totalMs'])
      expect(typeof res.body.timings[k]).toBe('number');
    expect(res.body.timings.generationMs).toBeGreaterThan(0);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('passes system, options and a JSON-schema format through to Ollama', async () => {
    const format = { type: 'object', properties: { code: { type: 'string' } }, required: ['code'] };
    const res = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      body: {
        modelName: 'mistral:7b',
        prompt: 'code this',
        system: 'You are a coder',
        format,
        options: { temperature: 0, seed: 7, num_predict: 64 },
      },
    });
    expect(res.status).toBe(200);
    const seen = stack.sims[0]!.counters.log.at(-1)!;
    expect(seen.options).toMatchObject({ temperature: 0, seed: 7, num_predict: 64 });
    expect(seen.format).toEqual(format);
    expect(JSON.parse(res.body.response)).toHaveProperty('code');
  });

  it('accepts Prefer: respond-async with 202 and a Location, then serves the result', async () => {
    const res = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      headers: { prefer: 'respond-async' },
      body: { modelName: 'mistral:7b', prompt: 'async please' },
    });
    expect(res.status).toBe(202);
    expect(res.body.state).toBe('queued');
    expect(res.headers.get('location')).toBe(`/api/jobs/${res.body.id}`);
    const view = await jobUntil(res.body.id, 'completed', 100, 50);
    expect(view.state).toBe('completed');
    expect(view.result.response.length).toBeGreaterThan(0);
    expect(view.result.instance).toBe('sim-0');
    expect(view.startedAt).toBeTruthy();
    // Another user cannot see it; an admin can.
    expect(
      (
        await call(stack, 'GET', `/api/jobs/${res.body.id}`, {
          token: stack.token('provider', 'someone-else'),
        })
      ).status,
    ).toBe(404);
    expect(
      (await call(stack, 'GET', `/api/jobs/${res.body.id}`, { token: stack.token('admin') })).status,
    ).toBe(200);
  });

  it('streams NDJSON chunks as the model produces them', async () => {
    stack.sims[0]!.script({ prompt: /stream-check/, tokens: 30, delayMs: 0 });
    const started = Date.now();
    const res = await fetch(`${stack.url}/api/local/process`, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        modelName: 'mistral:7b',
        prompt: 'stream-check now',
        stream: true,
        options: { num_predict: 30 },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const decoder = new TextDecoder();
    let buf = '';
    const lines: any[] = [];
    let firstAt = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = JSON.parse(buf.slice(0, i));
        if (!firstAt && line.response) firstAt = Date.now();
        lines.push(line);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    }
    const doneAt = Date.now();
    const last = lines.at(-1);
    expect(last.done).toBe(true);
    expect(last.instance).toBe('sim-0');
    expect(last.usage.completionTokens).toBe(30);
    const chunks = lines.filter((l) => !l.done);
    expect(chunks.length).toBeGreaterThan(5);
    // 30 tokens at 400 tokens/s take ~75 ms: the first chunk must come well before the end.
    expect(firstAt).toBeGreaterThan(0);
    expect(doneAt - firstAt).toBeGreaterThan(30);
    expect(firstAt - started).toBeLessThan(doneAt - started);
  });

  it('runs a vision request with a PNG image, and refuses images a text model cannot see', async () => {
    const ok = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      body: { modelName: 'llava:7b', prompt: 'describe the image', type: 'vision', imageData: PNG_1x1 },
    });
    expect(ok.status).toBe(200);
    const seen = stack.sims[0]!.counters.log.filter((l) => l.model === 'llava:7b').at(-1)!;
    expect(seen.hasImages).toBe(true);
    const bad = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      body: { modelName: 'mistral:7b', prompt: 'describe', type: 'vision', imageData: PNG_1x1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('modelName');
  });

  it('cancels a running job: the generation is aborted on the instance', async () => {
    stack.sims[0]!.script({ prompt: /long-cancel/, tokens: 2000 });
    const abortsBefore = stack.sims[0]!.counters.aborts;
    const res = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      headers: { prefer: 'respond-async' },
      body: { modelName: 'mistral:7b', prompt: 'long-cancel please' },
    });
    expect(res.status).toBe(202);
    await jobUntil(res.body.id, 'active');
    await sleep(100);
    const del = await call(stack, 'DELETE', `/api/jobs/${res.body.id}`, { token: provider });
    expect(del.status).toBe(202);
    expect(del.body.state).toBe('cancelling');
    expect((await jobUntil(res.body.id, 'cancelled')).state).toBe('cancelled');
    for (let i = 0; i < 50 && stack.sims[0]!.counters.aborts === abortsBefore; i++) await sleep(20);
    expect(stack.sims[0]!.counters.aborts).toBe(abortsBefore + 1);
    expect((await call(stack, 'DELETE', `/api/jobs/${res.body.id}`, { token: provider })).status).toBe(409);
  });

  it('cancels a queued job before it reaches Ollama', async () => {
    const holders = await fillSlots('slot-holder');
    const generations = () => stack.sims[0]!.counters.requests.byEndpoint['/api/generate'] ?? 0;
    const seenBySim = generations();

    const res = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      headers: { prefer: 'respond-async' },
      body: { modelName: 'mistral:7b', prompt: 'queued then cancelled', priority: 'batch' },
    });
    expect((await call(stack, 'GET', `/api/jobs/${res.body.id}`, { token: provider })).body.state).toBe(
      'queued',
    );
    const del = await call(stack, 'DELETE', `/api/jobs/${res.body.id}`, { token: provider });
    expect(del.status).toBe(202);
    expect((await jobUntil(res.body.id, 'cancelled')).state).toBe('cancelled');

    // Free the slots; the cancelled job must not run once a slot opens.
    for (const id of holders) await call(stack, 'DELETE', `/api/jobs/${id}`, { token: provider });
    for (let i = 0; i < 100 && stack.sims[0]!.counters.active > 0; i++) await sleep(20);
    await sleep(200);
    expect(generations()).toBe(seenBySim);
  });

  it('stops generation when a synchronous client disconnects', async () => {
    stack.sims[0]!.script({ prompt: /disconnect-check/, tokens: 2000 });
    const abortsBefore = stack.sims[0]!.counters.aborts;
    const ctrl = new AbortController();
    const pending = call(stack, 'POST', '/api/local/process', {
      token: provider,
      body: { modelName: 'mistral:7b', prompt: 'disconnect-check' },
      signal: ctrl.signal,
    }).catch((e: Error) => e);
    for (let i = 0; i < 100 && stack.sims[0]!.counters.active === 0; i++) await sleep(10);
    ctrl.abort();
    expect(await pending).toBeInstanceOf(Error);
    for (let i = 0; i < 100 && stack.sims[0]!.counters.aborts === abortsBefore; i++) await sleep(20);
    expect(stack.sims[0]!.counters.aborts).toBe(abortsBefore + 1);
  });

  it('answers 504 when the job does not finish before its deadline', async () => {
    stack.sims[0]!.script({ prompt: /deadline-check/, tokens: 5000 });
    await expectDeadline504('deadline-check');
  });

  it('drops a job still queued at its deadline: 504 for the client, nothing sent to Ollama', async () => {
    const sim = stack.sims[0]!;
    const occupying = await fillSlots('occupy-slot');
    const generated = () => sim.counters.requests.byEndpoint['/api/generate'] ?? 0;
    const requestsBefore = generated();
    await expectDeadline504('queued past its deadline');
    // Nobody waits for an async job: it stays queued until the worker takes it, past its deadline.
    const late = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      headers: { prefer: 'respond-async' },
      body: { modelName: 'mistral:7b', prompt: 'async past its deadline', timeoutSeconds: 1 },
    });
    await sleep(1200);
    // Free the slots: the worker takes the expired job and drops it without calling Ollama.
    for (const id of occupying) await call(stack, 'DELETE', `/api/jobs/${id}`, { token: provider });
    const dropped = await jobUntil(late.body.id, 'failed', 100, 50);
    expect(dropped.error.code).toBe('WARD_JOB_DEADLINE_EXCEEDED');
    let waiting = -1;
    for (let i = 0; i < 100 && waiting !== 0; i++) {
      await sleep(20);
      const status = await call(stack, 'GET', '/api/local/status', { token: provider });
      const q = status.body.queues.find((x: any) => x.model === 'mistral:7b');
      waiting = q.waiting + q.active;
    }
    expect(waiting).toBe(0);
    expect(generated()).toBe(requestsBefore);
  });

  it('reports instances, queues and models, and is ready', async () => {
    const status = await call(stack, 'GET', '/api/local/status', { token: stack.token('staff') });
    expect(status.status).toBe(200);
    expect(status.body.ready).toBe(true);
    expect(status.body.instances[0]).toMatchObject({ id: 'sim-0', healthy: true, numParallel: 4 });
    expect(status.body.instances[0].installed).toEqual(['llava:7b', 'mistral:7b']);
    expect(status.body.queues.map((q: any) => q.model)).toEqual(['llava:7b', 'mistral:7b']);
    const models = await call(stack, 'GET', '/api/local/models', { token: stack.token('staff') });
    expect(models.body.models.find((m: any) => m.name === 'llava:7b').vision).toBe(true);
    expect((await call(stack, 'GET', '/health/ready')).status).toBe(200);
    expect((await call(stack, 'GET', '/health/live')).status).toBe(200);
    const docs = await call(stack, 'GET', '/docs/json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toContain('/api/local/process');
  });
});
