import { afterEach, describe, expect, it } from 'vitest';
import { buildSim, type SimHandle, type StartSimOptions, startSim } from '../src/index.js';
import { type Json, post, postJson, readNdjson, waitFor } from './helpers.js';

let sim: SimHandle | undefined;

async function start(opts: StartSimOptions = {}): Promise<SimHandle> {
  sim = await startSim({ models: ['mistral:7b', 'llava:7b'], latency: 'none', ...opts });
  return sim;
}

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const chat = (s: SimHandle, content: string, extra: Json = {}) =>
  post(s.url, '/api/chat', { model: 'mistral:7b', messages: [{ role: 'user', content }], ...extra });

describe('scripted replies', () => {
  it('streams a scripted reply split into tokens for a matching model and last user message', async () => {
    const s = await start();
    s.script({ model: 'mistral:7b', prompt: /weather/, reply: 'It is sunny in the ward today.' });
    const lines = (await readNdjson(await chat(s, 'what is the weather?'))).map((l) => l.value);
    const text = lines
      .slice(0, -1)
      .map((l) => l.message.content)
      .join('');
    expect(text).toBe('It is sunny in the ward today.');
    expect(lines.at(-1)!.eval_count).toBe(7);
    const other = await postJson(s.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'unrelated',
      stream: false,
    });
    expect(other.body.response).not.toBe('It is sunny in the ward today.');
  });

  it('forces a scripted error status with an Ollama-style body, once', async () => {
    const s = await start();
    s.script({
      prompt: 'crash',
      error: { status: 500, message: 'model runner has unexpectedly stopped' },
      once: true,
    });
    const failed = await chat(s, 'please crash');
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: 'model runner has unexpectedly stopped' });
    expect((await chat(s, 'please crash', { stream: false })).status).toBe(200);
    expect(s.counters.scriptedErrors).toBe(1);
  });

  it('can fail part way through a stream with an error line, as Ollama does', async () => {
    const s = await start();
    s.script({
      prompt: 'midway',
      reply: 'one two three four',
      error: { status: 500, message: 'boom', afterTokens: 2 },
    });
    const res = await chat(s, 'midway');
    expect(res.status).toBe(200);
    const lines = (await readNdjson(res)).map((l) => l.value);
    expect(lines.map((l) => l.message?.content ?? l.error)).toEqual(['one', ' two', 'boom']);
    expect(lines.at(-1)).toEqual({ error: 'boom' });
  });

  it('delays a scripted reply by delayMs', async () => {
    const s = await start();
    s.script({ prompt: 'later', reply: 'ok', delayMs: 150 });
    const t0 = Date.now();
    const { body } = await postJson(s.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'later',
      stream: false,
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(body.response).toBe('ok');
  });

  it('takes scripts, counters and resets over HTTP for other processes', async () => {
    const s = await start();
    const added = await postJson(s.url, '/__sim/script', {
      prompt: { regex: '^ping$', flags: 'i' },
      reply: 'pong',
    });
    expect(added.status).toBe(200);
    const { body } = await postJson(s.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'PING',
      stream: false,
    });
    expect(body.response).toBe('pong');
    const counters = (await (await fetch(`${s.url}/__sim/counters`)).json()) as Json;
    expect(counters.requests.byEndpoint['/api/generate']).toBe(1);
    expect(counters.requests.byModel['mistral:7b']).toBe(1);
    expect(counters.log[0]).toMatchObject({
      endpoint: '/api/generate',
      model: 'mistral:7b',
      hasImages: false,
    });
    expect((await postJson(s.url, '/__sim/reset', {})).body).toEqual({ ok: true });
    expect(s.counters.requests.total).toBe(0);
    const after = await postJson(s.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'PING',
      stream: false,
    });
    expect(after.body.response).not.toBe('pong');
    expect((await postJson(s.url, '/__sim/script', { prompt: 42 })).status).toBe(400);
  });

  it('drives failure modes and settings over HTTP', async () => {
    const s = await start();
    await postJson(s.url, '/__sim/failure', { mode: 'error503', message: 'maintenance' });
    expect(await postJson(s.url, '/api/generate', { model: 'mistral:7b', prompt: 'x' })).toEqual({
      status: 503,
      body: { error: 'maintenance' },
    });
    await postJson(s.url, '/__sim/failure', { mode: 'none' });
    expect((await fetch(`${s.url}/api/tags`)).status).toBe(200);
    const config = await postJson(s.url, '/__sim/config', { numParallel: 3, speedFactor: 0.5 });
    expect(config.body).toMatchObject({ numParallel: 3, speedFactor: 0.5 });
    expect((await postJson(s.url, '/__sim/config', { numParallel: 0 })).status).toBe(400);
  });
});

describe('failure modes and restarts', () => {
  it('answers every API request with 500 in error500 mode until cleared', async () => {
    const s = await start();
    await s.setFailure({ mode: 'error500' });
    const res = await fetch(`${s.url}/api/version`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'an error was encountered while running the model' });
    await s.setFailure(null);
    expect((await fetch(`${s.url}/api/version`)).status).toBe(200);
  });

  it('holds requests while paused and serves them on resume', async () => {
    const s = await start();
    await s.pause();
    let answered = false;
    const pending = postJson(s.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'wait',
      stream: false,
    }).then((r) => {
      answered = true;
      return r;
    });
    await waitFor(() => s.counters.requests.total === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    await s.resume();
    expect((await pending).status).toBe(200);
  });

  it('refuses connections in refuse mode and accepts them again when cleared', async () => {
    const s = await start();
    await s.setFailure({ mode: 'refuse' });
    await expect(fetch(`${s.url}/api/version`)).rejects.toThrow();
    await s.setFailure(null);
    expect((await fetch(`${s.url}/api/version`)).status).toBe(200);
  });

  it('drops connections in reset mode', async () => {
    const s = await start();
    await s.setFailure({ mode: 'reset', forMs: 5000 });
    await expect(fetch(`${s.url}/api/version`)).rejects.toThrow();
    await s.setFailure({ mode: 'none' });
    expect((await fetch(`${s.url}/api/version`)).status).toBe(200);
  });

  it('can be closed and started again on the same port', async () => {
    const first = await start();
    const { port, url } = first;
    await first.close();
    await expect(fetch(`${url}/api/version`)).rejects.toThrow();
    const second = await start({ port });
    expect(second.url).toBe(url);
    expect((await fetch(`${url}/api/version`)).status).toBe(200);
  });

  it('closes promptly with a stream in flight', async () => {
    const s = await start({ latency: 'model', genTokensPerSec: 5 });
    const res = await chat(s, 'long', { options: { num_predict: 100 } });
    const reader = res.body!.getReader();
    await reader.read();
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('buildSim', () => {
  it('serves through inject and exposes controls on app.sim', async () => {
    const app = buildSim({ models: ['mistral:7b'], latency: 'none' });
    app.sim.script({ reply: 'injected' });
    const res = await app.inject({
      method: 'POST',
      url: '/api/generate',
      payload: { model: 'mistral:7b', prompt: 'x', stream: false },
    });
    expect(res.json()).toMatchObject({ response: 'injected', done: true });
    expect(app.sim.counters.completed).toBe(1);
    await app.close();
  });
});
