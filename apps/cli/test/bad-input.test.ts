import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, PNG_1x1, type Stack, startStack } from './helpers/stack.js';

const ok = { modelName: 'mistral:7b', prompt: 'hello' };

/** [name, body (object or raw string), expected status, expected field, extra headers] */
type Case = [string, unknown, number, string, Record<string, string>?];

const CASES: Case[] = [
  ['bad JSON', '{"modelName": "mistral:7b", "prompt": ', 400, 'body'],
  ['an empty body', '', 400, 'body'],
  ['a JSON array', '[1,2]', 400, 'body'],
  ['missing prompt', { modelName: 'mistral:7b' }, 400, 'prompt'],
  ['missing modelName', { prompt: 'x' }, 400, 'modelName'],
  ['an empty prompt', { ...ok, prompt: '' }, 400, 'prompt'],
  ['prompt as a number', { ...ok, prompt: 42 }, 400, 'prompt'],
  ['modelName as an object', { ...ok, modelName: { a: 1 } }, 400, 'modelName'],
  ['unknown type', { ...ok, type: 'audio' }, 400, 'type'],
  ['vision without imageData', { ...ok, modelName: 'llava:7b', type: 'vision' }, 400, 'imageData'],
  [
    'imageData that is not base64',
    { ...ok, modelName: 'llava:7b', type: 'vision', imageData: '@@@not base64!!' },
    400,
    'imageData',
  ],
  [
    'imageData that is not an image',
    {
      ...ok,
      modelName: 'llava:7b',
      type: 'vision',
      imageData: Buffer.from('%PDF-1.7 not an image at all, just text padding padding padding').toString(
        'base64',
      ),
    },
    400,
    'imageData',
  ],
  ['imageData on a text request', { ...ok, imageData: PNG_1x1 }, 400, 'imageData'],
  ['a model name with a path', { ...ok, modelName: '../../etc/passwd' }, 400, 'modelName'],
  ['a model name with a control character', { ...ok, modelName: 'mistral\u0000:7b' }, 400, 'modelName'],
  ['a model name with a newline', { ...ok, modelName: 'mistral\n7b' }, 400, 'modelName'],
  ['a model name with spaces', { ...ok, modelName: 'mistral 7b' }, 400, 'modelName'],
  ['an unknown model', { ...ok, modelName: 'nonexistent:13b' }, 404, 'modelName'],
  ['temperature out of range', { ...ok, options: { temperature: 9 } }, 400, 'options.temperature'],
  ['negative top_p', { ...ok, options: { top_p: -1 } }, 400, 'options.top_p'],
  ['num_predict as a string', { ...ok, options: { num_predict: '100' } }, 400, 'options.num_predict'],
  ['num_ctx too large', { ...ok, options: { num_ctx: 10_000_000 } }, 400, 'options.num_ctx'],
  ['an unknown option', { ...ok, options: { turbo_mode: true } }, 400, 'options.turbo_mode'],
  ['too many stop sequences', { ...ok, options: { stop: Array(20).fill('x') } }, 400, 'options.stop'],
  ['an unknown priority', { ...ok, priority: 'urgent' }, 400, 'priority'],
  ['stream as a string', { ...ok, stream: 'yes' }, 400, 'stream'],
  ['a format that is neither json nor a schema', { ...ok, format: 'yaml' }, 400, 'format'],
  ['timeoutSeconds of zero', { ...ok, timeoutSeconds: 0 }, 400, 'timeoutSeconds'],
  ['an unknown top-level field', { ...ok, patientName: 'x' }, 400, 'patientName'],
  ['stream with respond-async', { ...ok, stream: true }, 400, 'stream', { prefer: 'respond-async' }],
  ['a text/plain body', 'hello', 415, 'content-type', { 'content-type': 'text/plain' }],
];

describe('bad input on POST /api/local/process', () => {
  let stack: Stack;
  let token: string;
  beforeAll(async () => {
    stack = await startStack({
      sims: [{ models: ['mistral:7b', 'llava:7b'], latency: 'none' }],
      env: { BODY_LIMIT: '64kb' },
    });
    token = stack.token('provider');
  });
  afterAll(() => stack?.close());

  const rows = CASES.map(([name, body, status, field, headers]) => ({ name, body, status, field, headers }));
  it.each(rows)('$name → $status naming $field', async ({ body, status, field, headers }) => {
    const res = await call(stack, 'POST', '/api/local/process', {
      token,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });
    expect(res.status).toBe(status);
    expect(typeof res.body).toBe('object');
    expect(res.body.field).toBe(field);
    expect(res.body.code).toMatch(/^WARD_/);
    expect(res.body.message).toContain(
      field === 'body' || field === 'content-type' ? '' : field.split('.').at(-1),
    );
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('refuses an oversize body with 413', async () => {
    const res = await call(stack, 'POST', '/api/local/process', {
      token,
      body: { ...ok, prompt: 'x'.repeat(100 * 1024) },
    });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('WARD_PAYLOAD_TOO_LARGE');
    expect(res.body.field).toBe('body');
  });

  it('answers 404 with JSON for an unknown job id and an unknown route', async () => {
    const job = await call(stack, 'GET', '/api/jobs/not-a-job', { token });
    expect(job.status).toBe(404);
    expect(job.body.code).toBe('WARD_JOB_NOT_FOUND');
    const route = await call(stack, 'GET', '/api/nothing-here?mrn=CANARY-404', { token });
    expect(route.status).toBe(404);
    expect(route.body).toMatchObject({
      code: 'WARD_NOT_FOUND',
      error: 'Not Found',
      message: 'no route GET /api/nothing-here',
    });
    expect(JSON.stringify(route.body)).not.toContain('CANARY');
  });
});
