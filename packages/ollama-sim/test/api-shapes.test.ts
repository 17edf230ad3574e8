import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimHandle, startSim } from '../src/index.js';
import { type Json, post, postJson, readNdjson, STAT_FIELDS } from './helpers.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let sim: SimHandle;

beforeAll(async () => {
  sim = await startSim({
    models: ['mistral:7b', 'llava:7b', { name: 'all-minilm:latest', embedding_length: 16 }],
    genTokensPerSec: 2000,
    promptTokensPerSec: 100_000,
    loadTimeMs: 40,
    defaultTokens: 12,
  });
});

afterAll(async () => {
  await sim.close();
});

function expectStats(final: Json, promptTokens: number, evalCount: number) {
  for (const field of STAT_FIELDS) expect(Number.isInteger(final[field]), field).toBe(true);
  expect(final.prompt_eval_count).toBe(promptTokens);
  expect(final.eval_count).toBe(evalCount);
  // 12 tokens at 2000 tok/s take 6 ms: the figure is in nanoseconds
  expect(final.eval_duration).toBeGreaterThanOrEqual(5_000_000);
  expect(final.eval_duration).toBeLessThan(200_000_000);
  expect(final.total_duration).toBeGreaterThanOrEqual(final.eval_duration + final.prompt_eval_duration);
}

describe('POST /api/generate', () => {
  it('streams NDJSON chunks with Ollama field names, then a final chunk with stats in nanoseconds', async () => {
    const res = await post(sim.url, '/api/generate', { model: 'mistral:7b', prompt: 'why is the sky blue' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await readNdjson(res)).map((l) => l.value);
    const chunks = lines.slice(0, -1);
    const final = lines.at(-1)!;
    expect(chunks).toHaveLength(12);
    for (const chunk of chunks) {
      expect(Object.keys(chunk)).toEqual(['model', 'created_at', 'response', 'done']);
      expect(chunk.model).toBe('mistral:7b');
      expect(chunk.created_at).toMatch(RFC3339);
      expect(chunk.done).toBe(false);
    }
    expect(final).toMatchObject({ model: 'mistral:7b', response: '', done: true, done_reason: 'stop' });
    expect(final.created_at).toMatch(RFC3339);
    expect(Array.isArray(final.context)).toBe(true);
    expect(final.context.every((n: unknown) => Number.isInteger(n))).toBe(true);
    expectStats(final, 5, 12);
  });

  it('answers one JSON object with the whole response when stream is false', async () => {
    const res = await post(sim.url, '/api/generate', { model: 'mistral:7b', prompt: 'hello', stream: false });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as Json;
    expect(Object.keys(body)).toEqual([
      'model',
      'created_at',
      'response',
      'done',
      'done_reason',
      'context',
      ...STAT_FIELDS,
    ]);
    expect(body.response.split(' ')).toHaveLength(12);
    expect(body.done).toBe(true);
    expectStats(body, 1, 12);
  });

  it('stops at options.num_predict with done_reason "length"', async () => {
    const { body } = await postJson(sim.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'count',
      stream: false,
      options: { num_predict: 3 },
    });
    expect(body.done_reason).toBe('length');
    expect(body.eval_count).toBe(3);
  });

  it('answers valid JSON with the required keys and types when format is a JSON schema', async () => {
    const format = {
      type: 'object',
      properties: {
        age: { type: 'integer', minimum: 18, maximum: 99 },
        available: { type: 'boolean' },
        name: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' } },
        ward: { $ref: '#/$defs/Ward' },
        triage: { type: 'string', enum: ['red', 'amber', 'green'] },
      },
      required: ['age', 'available', 'ward', 'triage'],
      $defs: { Ward: { type: 'object', properties: { floor: { type: 'integer' } }, required: ['floor'] } },
    };
    const { body } = await postJson(sim.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'describe the patient as JSON',
      stream: false,
      format,
    });
    const value = JSON.parse(body.response) as Json;
    expect(Number.isInteger(value.age)).toBe(true);
    expect(value.age).toBeGreaterThanOrEqual(18);
    expect(typeof value.available).toBe('boolean');
    expect(Number.isInteger(value.ward.floor)).toBe(true);
    expect(['red', 'amber', 'green']).toContain(value.triage);
  });

  it('answers a JSON object when format is "json"', async () => {
    const { body } = await postJson(sim.url, '/api/generate', {
      model: 'mistral:7b',
      prompt: 'json please',
      stream: false,
      format: 'json',
    });
    expect(typeof JSON.parse(body.response)).toBe('object');
  });

  it('gives the same text for the same model, prompt and seed, and another text for another seed', async () => {
    const ask = async (seed: number) =>
      (
        await postJson(sim.url, '/api/generate', {
          model: 'mistral:7b',
          prompt: 'seeded',
          stream: false,
          options: { seed, temperature: 0.8 },
        })
      ).body.response as string;
    const a = await ask(42);
    expect(await ask(42)).toBe(a);
    expect(await ask(43)).not.toBe(a);
  });

  it("answers 404 with Ollama's wording for an unknown model", async () => {
    const res = await postJson(sim.url, '/api/generate', { model: 'nope:1b', prompt: 'x' });
    expect(res).toEqual({ status: 404, body: { error: "model 'nope:1b' not found" } });
  });

  it('answers 400 when the model field is missing or the body is empty', async () => {
    expect(await postJson(sim.url, '/api/generate', { prompt: 'x' })).toEqual({
      status: 400,
      body: { error: 'model is required' },
    });
    const empty = await fetch(`${sim.url}/api/generate`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ error: 'missing request body' });
  });

  it('loads a model for an empty prompt (done_reason "load") and unloads it with keep_alive 0', async () => {
    const load = await postJson(sim.url, '/api/generate', { model: 'llava:7b' });
    expect(load.body).toMatchObject({ model: 'llava:7b', response: '', done: true, done_reason: 'load' });
    let ps = (await (await fetch(`${sim.url}/api/ps`)).json()) as Json;
    expect(ps.models.map((m: Json) => m.name)).toContain('llava:7b');
    const unload = await postJson(sim.url, '/api/generate', { model: 'llava:7b', keep_alive: 0 });
    expect(unload.body).toMatchObject({ done: true, done_reason: 'unload' });
    ps = (await (await fetch(`${sim.url}/api/ps`)).json()) as Json;
    expect(ps.models.map((m: Json) => m.name)).not.toContain('llava:7b');
  });

  it('unloads right after the request when keep_alive is 0', async () => {
    await postJson(sim.url, '/api/generate', {
      model: 'llava:7b',
      prompt: 'hi',
      stream: false,
      keep_alive: '0s',
    });
    const ps = (await (await fetch(`${sim.url}/api/ps`)).json()) as Json;
    expect(ps.models.map((m: Json) => m.name)).not.toContain('llava:7b');
  });
});

describe('POST /api/chat', () => {
  it('streams assistant message chunks and a final chunk with done_reason and stats', async () => {
    const res = await post(sim.url, '/api/chat', {
      model: 'mistral:7b',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'why is the sky blue' },
      ],
    });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await readNdjson(res)).map((l) => l.value);
    const final = lines.at(-1)!;
    for (const chunk of lines.slice(0, -1)) {
      expect(Object.keys(chunk)).toEqual(['model', 'created_at', 'message', 'done']);
      expect(chunk.message.role).toBe('assistant');
      expect(typeof chunk.message.content).toBe('string');
      expect(chunk.done).toBe(false);
    }
    expect(final).toMatchObject({
      done: true,
      done_reason: 'stop',
      message: { role: 'assistant', content: '' },
    });
    expectStats(final, 7, 12);
  });

  it('answers one object with the whole message when stream is false', async () => {
    const { body } = await postJson(sim.url, '/api/chat', {
      model: 'mistral:7b',
      messages: [{ role: 'user', content: 'hello' }],
      stream: false,
    });
    expect(Object.keys(body)).toEqual([
      'model',
      'created_at',
      'message',
      'done_reason',
      'done',
      ...STAT_FIELDS,
    ]);
    expect(body.message.content.split(' ')).toHaveLength(12);
  });

  it('loads the model for an empty message list', async () => {
    const { body } = await postJson(sim.url, '/api/chat', { model: 'mistral:7b', messages: [] });
    expect(body).toMatchObject({
      message: { role: 'assistant', content: '' },
      done_reason: 'load',
      done: true,
    });
  });

  it('answers 404 for an unknown model and 400 without a model', async () => {
    expect(await postJson(sim.url, '/api/chat', { model: 'ghost', messages: [] })).toEqual({
      status: 404,
      body: { error: "model 'ghost' not found" },
    });
    expect((await postJson(sim.url, '/api/chat', { messages: [] })).status).toBe(400);
  });
});

describe('images', () => {
  const image = Buffer.from('not really a png').toString('base64');

  it('lets a vision model take images and rejects images on a text-only model', async () => {
    const ok = await postJson(sim.url, '/api/generate', {
      model: 'llava:7b',
      prompt: 'what is this',
      images: [image],
      stream: false,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.prompt_eval_count).toBe(3 + 256);
    const chat = await postJson(sim.url, '/api/chat', {
      model: 'llava:7b',
      messages: [{ role: 'user', content: 'describe', images: [image] }],
      stream: false,
    });
    expect(chat.status).toBe(200);
    expect(
      await postJson(sim.url, '/api/chat', {
        model: 'mistral:7b',
        messages: [{ role: 'user', content: 'describe', images: [image] }],
      }),
    ).toEqual({ status: 400, body: { error: 'this model is missing data required for image input' } });
  });

  it('answers 400 without images for a model configured to require them', async () => {
    sim.installModel('radiology-vision:7b', { requiresImages: true });
    const missing = await postJson(sim.url, '/api/generate', {
      model: 'radiology-vision:7b',
      prompt: 'read the scan',
    });
    expect(missing).toEqual({ status: 400, body: { error: "model 'radiology-vision:7b' requires images" } });
    const given = await postJson(sim.url, '/api/generate', {
      model: 'radiology-vision:7b',
      prompt: 'read the scan',
      images: [image],
      stream: false,
    });
    expect(given.status).toBe(200);
  });

  it('records whether a request carried images in the request log', async () => {
    await postJson(sim.url, '/api/generate', {
      model: 'llava:7b',
      prompt: 'logged',
      images: [image, image],
      stream: false,
    });
    const entry = sim.counters.log.filter((e) => e.endpoint === '/api/generate').at(-1)!;
    expect(entry).toMatchObject({
      model: 'llava:7b',
      hasImages: true,
      imageCount: 2,
      status: 200,
      outcome: 'ok',
    });
  });
});

describe('model management and server info', () => {
  it('answers GET and HEAD / with "Ollama is running"', async () => {
    const res = await fetch(`${sim.url}/`);
    expect(await res.text()).toBe('Ollama is running');
    expect((await fetch(`${sim.url}/`, { method: 'HEAD' })).status).toBe(200);
  });

  it('reports a version', async () => {
    expect(await (await fetch(`${sim.url}/api/version`)).json()).toEqual({ version: '0.12.6' });
  });

  it('lists installed models with details in /api/tags', async () => {
    const tags = (await (await fetch(`${sim.url}/api/tags`)).json()) as Json;
    const mistral = tags.models.find((m: Json) => m.name === 'mistral:7b');
    expect(Object.keys(mistral)).toEqual(['name', 'model', 'modified_at', 'size', 'digest', 'details']);
    expect(mistral.modified_at).toMatch(RFC3339);
    expect(Number.isInteger(mistral.size)).toBe(true);
    expect(mistral.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(mistral.details).toEqual({
      parent_model: '',
      format: 'gguf',
      family: 'llama',
      families: ['llama'],
      parameter_size: '7B',
      quantization_level: 'Q4_K_M',
    });
  });

  it('lists loaded models with expires_at and size_vram in /api/ps', async () => {
    await postJson(sim.url, '/api/generate', { model: 'mistral:7b', prompt: 'warm', stream: false });
    const ps = (await (await fetch(`${sim.url}/api/ps`)).json()) as Json;
    const m = ps.models.find((x: Json) => x.name === 'mistral:7b');
    expect(m).toMatchObject({ model: 'mistral:7b', size_vram: m.size });
    expect(m.expires_at).toMatch(RFC3339);
    expect(Date.parse(m.expires_at)).toBeGreaterThan(Date.now() + 4 * 60_000);
  });

  it('shows details, capabilities and model_info in /api/show', async () => {
    const { body } = await postJson(sim.url, '/api/show', { model: 'llava:7b' });
    for (const key of [
      'modelfile',
      'parameters',
      'template',
      'details',
      'model_info',
      'capabilities',
      'modified_at',
    ]) {
      expect(body).toHaveProperty(key);
    }
    expect(body.capabilities).toEqual(['completion', 'vision']);
    expect(body.model_info['general.architecture']).toBe('llama');
    expect((await postJson(sim.url, '/api/show', { model: 'mistral:7b' })).body.capabilities).toEqual([
      'completion',
    ]);
    expect(await postJson(sim.url, '/api/show', { model: 'missing' })).toEqual({
      status: 404,
      body: { error: "model 'missing' not found" },
    });
  });

  it('streams pull progress ending in success, installs the model, and answers {status:"success"} without streaming', async () => {
    const res = await post(sim.url, '/api/pull', { model: 'phi3:mini' });
    const lines = (await readNdjson(res)).map((l) => l.value);
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    const progress = lines.filter((l) => 'digest' in l);
    expect(progress.length).toBeGreaterThan(1);
    for (const p of progress) {
      expect(p.status).toMatch(/^pulling [0-9a-f]{12}$/);
      expect(p.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(Number.isInteger(p.total)).toBe(true);
    }
    expect(lines.at(-1)).toEqual({ status: 'success' });
    expect(sim.modelNames()).toContain('phi3:mini');
    expect(await postJson(sim.url, '/api/pull', { model: 'gemma3:4b', stream: false })).toEqual({
      status: 200,
      body: { status: 'success' },
    });
  });

  it('deletes a model with 200 and answers 404 for a missing one', async () => {
    sim.installModel('scratch:1b');
    const ok = await fetch(`${sim.url}/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'scratch:1b' }),
    });
    expect(ok.status).toBe(200);
    expect(sim.modelNames()).not.toContain('scratch:1b');
    const gone = await fetch(`${sim.url}/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'scratch:1b' }),
    });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: "model 'scratch:1b' not found" });
  });

  it('embeds text with /api/embed', async () => {
    const { body } = await postJson(sim.url, '/api/embed', { model: 'all-minilm', input: ['a b c', 'd e'] });
    expect(body.model).toBe('all-minilm');
    expect(body.embeddings).toHaveLength(2);
    expect(body.embeddings[0]).toHaveLength(16);
    expect(body.prompt_eval_count).toBe(5);
    expect(Number.isInteger(body.total_duration)).toBe(true);
    expect((await postJson(sim.url, '/api/generate', { model: 'all-minilm', prompt: 'x' })).status).toBe(400);
  });

  it('answers unknown paths with a plain 404', async () => {
    const res = await fetch(`${sim.url}/api/nothing`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('404 page not found');
  });
});
