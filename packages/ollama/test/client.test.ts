import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ChatResponse,
  type GenerateResponse,
  OllamaAbortError,
  OllamaBadRequestError,
  OllamaBusyError,
  OllamaClient,
  type OllamaClientOptions,
  OllamaError,
  OllamaInvalidResponseError,
  OllamaModelNotFoundError,
  OllamaServerError,
  OllamaStreamError,
  OllamaTimeoutError,
  OllamaUnreachableError,
  type PullProgress,
} from '../src/index.js';
import {
  closedPort,
  type Handler,
  type SeenRequest,
  sendJson,
  startNdjson,
  startServer,
  type TestServer,
  writeApart,
} from './helpers/http-server.js';

const PROMPT = 'Patient Jane Doe, born 1970-01-01, reports chest pain';
const CREATED_AT = '2025-01-10T09:30:00.123456Z';

const finalGenerate: GenerateResponse = {
  model: 'llama3.2:3b',
  created_at: CREATED_AT,
  response: '',
  done: true,
  done_reason: 'stop',
  context: [1, 2, 3],
  total_duration: 5_043_500_667,
  load_duration: 5_025_959,
  prompt_eval_count: 26,
  prompt_eval_duration: 325_953_000,
  eval_count: 290,
  eval_duration: 4_709_213_000,
};

function generateChunk(response: string): GenerateResponse {
  return { model: 'llama3.2:3b', created_at: CREATED_AT, response, done: false };
}

function chatChunk(content: string): ChatResponse {
  return {
    model: 'llama3.2:3b',
    created_at: CREATED_AT,
    message: { role: 'assistant', content },
    done: false,
  };
}

const line = (value: unknown): string => `${JSON.stringify(value)}\n`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function serve(
  handler: Handler,
  options: Partial<OllamaClientOptions> = {},
): Promise<{ server: TestServer; client: OllamaClient }> {
  const server = await startServer(handler);
  const client = new OllamaClient({ baseUrl: server.url, ...options });
  cleanups.push(() => server.close());
  cleanups.push(() => client.close());
  return { server, client };
}

async function rejection(promise: Promise<unknown>): Promise<OllamaError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(OllamaError);
  return error as OllamaError;
}

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

function only(server: TestServer): SeenRequest {
  expect(server.requests).toHaveLength(1);
  return server.requests[0]!;
}

describe('OllamaClient.generate', () => {
  it('POSTs /api/generate with stream:false and returns the final response with metrics', async () => {
    const { server, client } = await serve((_req, res) =>
      sendJson(res, 200, { ...finalGenerate, response: 'Rayleigh scattering.' }),
    );
    const result = await client.generate({
      model: 'llama3.2:3b',
      prompt: PROMPT,
      system: 'You are terse.',
      format: { type: 'object', properties: { answer: { type: 'string' } } },
      options: {
        num_ctx: 4096,
        num_predict: 64,
        temperature: 0,
        top_p: 0.9,
        top_k: 20,
        seed: 42,
        stop: ['\n'],
      },
      keep_alive: '5m',
    });
    expect(result).toEqual({ ...finalGenerate, response: 'Rayleigh scattering.' });
    const req = only(server);
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/generate');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({
      model: 'llama3.2:3b',
      prompt: PROMPT,
      system: 'You are terse.',
      format: { type: 'object', properties: { answer: { type: 'string' } } },
      options: {
        num_ctx: 4096,
        num_predict: 64,
        temperature: 0,
        top_p: 0.9,
        top_k: 20,
        seed: 42,
        stop: ['\n'],
      },
      keep_alive: '5m',
      stream: false,
    });
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const { server, client } = await serve((_req, res) => sendJson(res, 200, finalGenerate));
    for (let i = 0; i < 10; i++) await client.generate({ model: 'm', prompt: 'p' });
    expect(server.requests).toHaveLength(10);
    // undici may open a second connection while the first settles; never one per request.
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it('keeps a path prefix of the base URL', async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, finalGenerate));
    const client = new OllamaClient({ baseUrl: `${server.url}/ollama/` });
    cleanups.push(
      () => server.close(),
      () => client.close(),
    );
    await client.generate({ model: 'm', prompt: 'p' });
    expect(only(server).url).toBe('/ollama/api/generate');
    expect(client.baseUrl).toBe(`${server.url}/ollama`);
  });

  it('sends requests through a given dispatcher and leaves it open on close', async () => {
    const agent = new Agent();
    cleanups.push(() => agent.close());
    const { server, client } = await serve((_req, res) => sendJson(res, 200, finalGenerate), {
      dispatcher: agent,
      headers: { authorization: 'Bearer proxy-token' },
    });
    await client.generate({ model: 'm', prompt: 'p' });
    await client.close();
    expect(agent.closed).toBe(false);
    expect(only(server).headers.authorization).toBe('Bearer proxy-token');
  });

  it('turns a 200 body that is not JSON into OllamaInvalidResponseError without quoting it', async () => {
    const { client } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`oops ${PROMPT}`);
    });
    const error = await rejection(client.generate({ model: 'm', prompt: PROMPT }));
    expect(error).toBeInstanceOf(OllamaInvalidResponseError);
    expect(error).toMatchObject({ code: 'WARD_OLLAMA_INVALID_RESPONSE', retryable: true });
    expect(error.message).not.toContain('Jane');
    expect(error.cause).toBeUndefined();
  });
});

describe('OllamaClient.generateStream', () => {
  it('POSTs stream:true and yields chunks parsed across split and merged network writes', async () => {
    const { server, client } = await serve(async (_req, res) => {
      startNdjson(res);
      const all = line(generateChunk('The')) + line(generateChunk(' sky 😷')) + line(generateChunk(' is'));
      const emoji = Buffer.from(all).indexOf(0xf0);
      const bytes = Buffer.from(all);
      await writeApart(res, [
        bytes.subarray(0, 17),
        bytes.subarray(17, emoji + 1),
        bytes.subarray(emoji + 1, bytes.length - 3),
        Buffer.concat([bytes.subarray(bytes.length - 3), Buffer.from(line(generateChunk(' blue')))]),
        line(finalGenerate).slice(0, 40),
      ]);
      res.end(line(finalGenerate).slice(40));
    });
    const chunks = await drain(client.generateStream({ model: 'llama3.2:3b', prompt: PROMPT }));
    expect(chunks.map((c) => c.response).join('')).toBe('The sky 😷 is blue');
    expect(chunks.at(-1)).toEqual(finalGenerate);
    expect(chunks.filter((c) => c.done)).toHaveLength(1);
    const req = only(server);
    expect(req.url).toBe('/api/generate');
    expect(JSON.parse(req.body)).toEqual({ model: 'llama3.2:3b', prompt: PROMPT, stream: true });
  });

  it('throws OllamaStreamError for an error line mid-stream, after the chunks before it', async () => {
    const { client } = await serve(async (_req, res) => {
      startNdjson(res);
      await writeApart(res, [line(generateChunk('A')), line(generateChunk('B'))]);
      res.end(line({ error: 'an error was encountered while running the model: unexpected EOF' }));
    });
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of client.generateStream({ model: 'm', prompt: PROMPT }))
          seen.push(chunk.response);
      })(),
    );
    expect(seen).toEqual(['A', 'B']);
    expect(error).toBeInstanceOf(OllamaStreamError);
    expect(error).toMatchObject({
      code: 'WARD_OLLAMA_STREAM_ERROR',
      status: 200,
      retryable: false,
      chunksReceived: 2,
      ollamaMessage: 'an error was encountered while running the model: unexpected EOF',
    });
    expect(error.message).not.toContain('Jane');
  });

  it('marks an error line before any chunk as retryable', async () => {
    const { client } = await serve((_req, res) => {
      startNdjson(res);
      res.end(line({ error: 'llama runner process has terminated: signal: killed' }));
    });
    const error = await rejection(drain(client.generateStream({ model: 'm', prompt: 'p' })));
    expect(error).toMatchObject({ code: 'WARD_OLLAMA_STREAM_ERROR', retryable: true, chunksReceived: 0 });
  });

  it('rejects a stream that ends without the final chunk', async () => {
    const { client } = await serve((_req, res) => {
      startNdjson(res);
      res.end(line(generateChunk('half')));
    });
    const error = await rejection(drain(client.generateStream({ model: 'm', prompt: 'p' })));
    expect(error).toBeInstanceOf(OllamaInvalidResponseError);
  });

  it('maps a 404 before streaming to OllamaModelNotFoundError on the first next()', async () => {
    const { client } = await serve((_req, res) =>
      sendJson(res, 404, { error: 'model "nope:7b" not found, try pulling it first' }),
    );
    const error = await rejection(drain(client.generateStream({ model: 'nope:7b', prompt: PROMPT })));
    expect(error).toBeInstanceOf(OllamaModelNotFoundError);
    expect(error).toMatchObject({ status: 404, retryable: false });
  });

  it('aborting mid-stream rejects with OllamaAbortError and closes the connection', async () => {
    let closed: Promise<void> | undefined;
    const { client } = await serve(async (req, res) => {
      closed = req.connectionClosed;
      startNdjson(res);
      for (let i = 0; i < 200 && !res.destroyed; i++) {
        res.write(line(generateChunk(`t${i}`)));
        await sleep(10);
      }
      res.end(line(finalGenerate));
    });
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of client.generateStream(
          { model: 'm', prompt: 'p' },
          { signal: controller.signal },
        )) {
          seen.push(chunk.response);
          if (seen.length === 3) controller.abort();
        }
      })(),
    );
    expect(error).toBeInstanceOf(OllamaAbortError);
    expect(error).toMatchObject({ code: 'WARD_OLLAMA_ABORTED', retryable: false });
    expect(seen).toHaveLength(3);
    await expect(closed).resolves.toBeUndefined();
  });

  it('breaking out of the loop early closes the connection', async () => {
    let closed: Promise<void> | undefined;
    const { client } = await serve(async (req, res) => {
      closed = req.connectionClosed;
      startNdjson(res);
      for (let i = 0; i < 200 && !res.destroyed; i++) {
        res.write(line(generateChunk(`t${i}`)));
        await sleep(10);
      }
      res.end(line(finalGenerate));
    });
    for await (const chunk of client.generateStream({ model: 'm', prompt: 'p' })) {
      if (chunk.response === 't1') break;
    }
    await expect(closed).resolves.toBeUndefined();
  });

  it('keeps the connection when the consumer stops at the final chunk', async () => {
    const { server, client } = await serve((_req, res) => {
      startNdjson(res);
      res.write(line(generateChunk('x')));
      res.end(line(finalGenerate));
    });
    for (let i = 0; i < 8; i++) {
      for await (const chunk of client.generateStream({ model: 'm', prompt: 'p' })) {
        if (chunk.done) break;
      }
    }
    expect(server.requests).toHaveLength(8);
    expect(server.connections()).toBeLessThanOrEqual(2);
  });
});

describe('OllamaClient.chat', () => {
  it('POSTs /api/chat with stream:false and parses the message with tool calls', async () => {
    const reply: ChatResponse = {
      model: 'llama3.2:3b',
      created_at: CREATED_AT,
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [{ function: { name: 'lookup_ward', arguments: { ward: 'cardiology', floor: 3 } } }],
      },
      done: true,
      done_reason: 'stop',
      total_duration: 885_095_291,
      load_duration: 3_753_500,
      prompt_eval_count: 122,
      prompt_eval_duration: 328_493_000,
      eval_count: 33,
      eval_duration: 552_222_000,
    };
    const { server, client } = await serve((_req, res) => sendJson(res, 200, reply));
    const request = {
      model: 'llama3.2:3b',
      messages: [
        { role: 'system' as const, content: 'Be brief.' },
        { role: 'user' as const, content: PROMPT, images: ['aGVsbG8='] },
      ],
      tools: [
        {
          type: 'function' as const,
          function: {
            name: 'lookup_ward',
            parameters: { type: 'object', properties: { ward: { type: 'string' } } },
          },
        },
      ],
      options: { temperature: 0.2, repeat_penalty: 1.1 },
      keep_alive: 0,
      format: 'json' as const,
    };
    expect(await client.chat(request)).toEqual(reply);
    const req = only(server);
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/chat');
    expect(JSON.parse(req.body)).toEqual({ ...request, stream: false });
  });

  it('chatStream yields message fragments and the final chunk', async () => {
    const final: ChatResponse = { ...chatChunk(''), done: true, done_reason: 'stop', eval_count: 3 };
    const { server, client } = await serve(async (_req, res) => {
      startNdjson(res);
      const body = line(chatChunk('Hel')) + line(chatChunk('lo')) + line(chatChunk('!')) + line(final);
      await writeApart(res, [body.slice(0, 50), body.slice(50, 51), body.slice(51, 200)]);
      res.end(body.slice(200));
    });
    const chunks = await drain(
      client.chatStream({ model: 'm', messages: [{ role: 'user', content: PROMPT }] }),
    );
    expect(chunks.map((c) => c.message.content).join('')).toBe('Hello!');
    expect(chunks.at(-1)).toEqual(final);
    expect(JSON.parse(only(server).body)).toMatchObject({ stream: true, messages: [{ role: 'user' }] });
  });
});

describe('OllamaClient model management', () => {
  const details = {
    parent_model: '',
    format: 'gguf',
    family: 'llama',
    families: ['llama'],
    parameter_size: '3.2B',
    quantization_level: 'Q4_K_M',
  };

  it('tags() GETs /api/tags', async () => {
    const body = {
      models: [
        {
          name: 'llama3.2:3b',
          model: 'llama3.2:3b',
          modified_at: CREATED_AT,
          size: 2_019_393_189,
          digest: 'a80c4f17acd5',
          details,
        },
      ],
    };
    const { server, client } = await serve((_req, res) => sendJson(res, 200, body));
    expect(await client.tags()).toEqual(body);
    expect(only(server)).toMatchObject({ method: 'GET', url: '/api/tags', body: '' });
  });

  it('ps() GETs /api/ps', async () => {
    const body = {
      models: [
        {
          name: 'llama3.2:3b',
          model: 'llama3.2:3b',
          size: 3_000_000_000,
          digest: 'a80c4f17acd5',
          details,
          expires_at: CREATED_AT,
          size_vram: 3_000_000_000,
        },
      ],
    };
    const { server, client } = await serve((_req, res) => sendJson(res, 200, body));
    expect(await client.ps()).toEqual(body);
    expect(only(server)).toMatchObject({ method: 'GET', url: '/api/ps' });
  });

  it('show() POSTs /api/show with the model (and verbose when asked)', async () => {
    const body = {
      modelfile: 'FROM llama3.2',
      parameters: 'stop "<|eot_id|>"',
      template: '{{ .Prompt }}',
      details,
      model_info: { 'general.architecture': 'llama', 'llama.context_length': 131072 },
      capabilities: ['completion', 'tools'],
      modified_at: CREATED_AT,
    };
    const { server, client } = await serve((_req, res) => sendJson(res, 200, body));
    expect(await client.show('llama3.2:3b')).toEqual(body);
    await client.show('llama3.2:3b', { verbose: true });
    expect(server.requests.map((r) => [r.method, r.url, JSON.parse(r.body)])).toEqual([
      ['POST', '/api/show', { model: 'llama3.2:3b' }],
      ['POST', '/api/show', { model: 'llama3.2:3b', verbose: true }],
    ]);
  });

  it('delete() sends DELETE /api/delete and maps a missing model to OllamaModelNotFoundError', async () => {
    const { server, client } = await serve((req, res) => {
      const { model } = JSON.parse(req.body) as { model: string };
      if (model === 'gone:1b') sendJson(res, 404, { error: "model 'gone:1b' not found" });
      else res.writeHead(200).end();
    });
    await expect(client.delete('llama3.2:3b')).resolves.toBeUndefined();
    const error = await rejection(client.delete('gone:1b'));
    expect(error).toBeInstanceOf(OllamaModelNotFoundError);
    expect(error.ollamaMessage).toBe("model 'gone:1b' not found");
    expect(server.requests.map((r) => [r.method, r.url, JSON.parse(r.body)])).toEqual([
      ['DELETE', '/api/delete', { model: 'llama3.2:3b' }],
      ['DELETE', '/api/delete', { model: 'gone:1b' }],
    ]);
  });

  it('pull() streams progress to onProgress and resolves on success', async () => {
    const progress: PullProgress[] = [
      { status: 'pulling manifest' },
      { status: 'pulling dde5aa3fc5ff', digest: 'sha256:dde5aa3fc5ff', total: 2_019_377_376 },
      {
        status: 'pulling dde5aa3fc5ff',
        digest: 'sha256:dde5aa3fc5ff',
        total: 2_019_377_376,
        completed: 1_000_000,
      },
      { status: 'verifying sha256 digest' },
      { status: 'writing manifest' },
      { status: 'success' },
    ];
    const { server, client } = await serve(async (_req, res) => {
      startNdjson(res);
      const body = progress.map(line).join('');
      await writeApart(res, [body.slice(0, 33), body.slice(33, 120)]);
      res.end(body.slice(120));
    });
    const seen: PullProgress[] = [];
    const result = await client.pull('llama3.2:3b', { onProgress: (p) => seen.push(p) });
    expect(result).toEqual({ status: 'success' });
    expect(seen).toEqual(progress);
    expect(only(server)).toMatchObject({ method: 'POST', url: '/api/pull' });
    expect(JSON.parse(only(server).body)).toEqual({ model: 'llama3.2:3b', stream: true });
  });

  it('pull() rejects when Ollama reports an error line', async () => {
    const { client } = await serve((_req, res) => {
      startNdjson(res);
      res.write(line({ status: 'pulling manifest' }));
      res.end(line({ error: 'pull model manifest: file does not exist' }));
    });
    const error = await rejection(client.pull('nope:404'));
    expect(error).toBeInstanceOf(OllamaModelNotFoundError);
    expect(error.ollamaMessage).toBe('pull model manifest: file does not exist');
  });

  it('version() GETs /api/version', async () => {
    const { server, client } = await serve((_req, res) => sendJson(res, 200, { version: '0.6.2' }));
    expect(await client.version()).toEqual({ version: '0.6.2' });
    expect(only(server)).toMatchObject({ method: 'GET', url: '/api/version' });
  });
});

describe('OllamaClient.ping', () => {
  it('is true when /api/version answers 200 and false on 500', async () => {
    let status = 200;
    const { server, client } = await serve((_req, res) => sendJson(res, status, { version: '0.6.2' }));
    expect(await client.ping()).toBe(true);
    status = 500;
    expect(await client.ping()).toBe(false);
    expect(server.requests.map((r) => r.url)).toEqual(['/api/version', '/api/version']);
  });

  it('is false for a closed port and for a server that never answers', async () => {
    const down = new OllamaClient({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    cleanups.push(() => down.close());
    expect(await down.ping()).toBe(false);
    const { client } = await serve(() => {});
    const started = Date.now();
    expect(await client.ping({ timeoutMs: 150 })).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('OllamaClient error mapping', () => {
  it('maps 404 with Ollama JSON to OllamaModelNotFoundError', async () => {
    const { client } = await serve((_req, res) =>
      sendJson(res, 404, { error: 'model "llama9:70b" not found, try pulling it first' }),
    );
    const error = await rejection(
      client.chat({ model: 'llama9:70b', messages: [{ role: 'user', content: PROMPT }] }),
    );
    expect(error).toBeInstanceOf(OllamaModelNotFoundError);
    expect(error).toMatchObject({
      code: 'WARD_OLLAMA_MODEL_NOT_FOUND',
      status: 404,
      retryable: false,
      instance: client.baseUrl,
    });
    expect(error.message).toBe(
      'Ollama model not found (404): model "llama9:70b" not found, try pulling it first',
    );
  });

  it('maps a plain-text 404 (wrong URL, not a model) to OllamaBadRequestError', async () => {
    const { client } = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found');
    });
    const error = await rejection(client.tags());
    expect(error).toBeInstanceOf(OllamaBadRequestError);
    expect(error).toMatchObject({ status: 404, ollamaMessage: '404 page not found' });
  });

  it('maps 503 "server busy" to retryable OllamaBusyError', async () => {
    const { client } = await serve((_req, res) =>
      sendJson(res, 503, { error: 'server busy, please try again.  maximum pending requests exceeded' }),
    );
    const error = await rejection(client.generate({ model: 'm', prompt: PROMPT }));
    expect(error).toBeInstanceOf(OllamaBusyError);
    expect(error).toMatchObject({ code: 'WARD_OLLAMA_BUSY', status: 503, retryable: true });
    expect(error.ollamaMessage).toBe('server busy, please try again. maximum pending requests exceeded');
  });

  it('maps 500 to retryable OllamaServerError', async () => {
    const { client } = await serve((_req, res) =>
      sendJson(res, 500, { error: 'llama runner process has terminated: exit status 2' }),
    );
    const error = await rejection(client.generate({ model: 'm', prompt: PROMPT }));
    expect(error).toBeInstanceOf(OllamaServerError);
    expect(error).toMatchObject({ code: 'WARD_OLLAMA_SERVER_ERROR', status: 500, retryable: true });
  });

  it('maps 400 to non-retryable OllamaBadRequestError with the text cut to 200 chars and no prompt', async () => {
    const long = `invalid options: ${'num_ctx '.repeat(80)}`;
    const { client } = await serve((_req, res) => sendJson(res, 400, { error: long }));
    const error = await rejection(client.generate({ model: 'm', prompt: PROMPT }));
    expect(error).toBeInstanceOf(OllamaBadRequestError);
    expect(error).toMatchObject({ code: 'WARD_OLLAMA_BAD_REQUEST', status: 400, retryable: false });
    expect(error.ollamaMessage!.length).toBeLessThanOrEqual(201);
    expect(error.message).not.toContain('Jane');
    expect(JSON.stringify(error)).not.toContain('Jane');
  });

  it('maps a closed port to retryable OllamaUnreachableError', async () => {
    const client = new OllamaClient({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    cleanups.push(() => client.close());
    const error = await rejection(client.generate({ model: 'm', prompt: PROMPT }));
    expect(error).toBeInstanceOf(OllamaUnreachableError);
    expect(error).toMatchObject({ code: 'WARD_OLLAMA_UNREACHABLE', retryable: true, status: undefined });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('maps an unresolvable host to OllamaUnreachableError', async () => {
    const client = new OllamaClient({ baseUrl: 'http://ollama.invalid:11434' });
    cleanups.push(() => client.close());
    const error = await rejection(client.tags());
    expect(error).toBeInstanceOf(OllamaUnreachableError);
  });

  it('maps a connection dropped mid-stream to OllamaUnreachableError', async () => {
    const { client } = await serve(async (_req, res) => {
      startNdjson(res);
      await writeApart(res, [line(generateChunk('a'))]);
      res.socket?.destroy();
    });
    const error = await rejection(drain(client.generateStream({ model: 'm', prompt: 'p' })));
    expect(error).toBeInstanceOf(OllamaUnreachableError);
  });

  it('times out waiting for headers with a per-call headersTimeoutMs', async () => {
    const { client } = await serve(() => {});
    const started = Date.now();
    const error = await rejection(client.generate({ model: 'm', prompt: 'p' }, { headersTimeoutMs: 200 }));
    expect(error).toBeInstanceOf(OllamaTimeoutError);
    expect(error).toMatchObject({
      code: 'WARD_OLLAMA_TIMEOUT',
      retryable: true,
      phase: 'headers',
      timeoutMs: 200,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out when a stream stalls between chunks (client bodyTimeoutMs)', async () => {
    const { client } = await serve(
      async (_req, res) => {
        startNdjson(res);
        res.write(line(generateChunk('a')));
      },
      { bodyTimeoutMs: 200 },
    );
    const seen: GenerateResponse[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of client.generateStream({ model: 'm', prompt: 'p' })) seen.push(chunk);
      })(),
    );
    expect(seen).toHaveLength(1);
    expect(error).toBeInstanceOf(OllamaTimeoutError);
    expect(error).toMatchObject({ phase: 'body', timeoutMs: 200 });
  });

  it('aborting a non-streamed generation rejects with OllamaAbortError and closes the connection', async () => {
    let closed: Promise<void> | undefined;
    const { client } = await serve((req) => {
      closed = req.connectionClosed;
    });
    const controller = new AbortController();
    const pending = client.generate({ model: 'm', prompt: 'p' }, { signal: controller.signal });
    await sleep(50);
    controller.abort();
    const error = await rejection(pending);
    expect(error).toBeInstanceOf(OllamaAbortError);
    await expect(closed).resolves.toBeUndefined();
  });

  it('rejects at once with OllamaAbortError when the signal is already aborted', async () => {
    const { server, client } = await serve((_req, res) => sendJson(res, 200, finalGenerate));
    const error = await rejection(
      client.generate({ model: 'm', prompt: 'p' }, { signal: AbortSignal.abort() }),
    );
    expect(error).toBeInstanceOf(OllamaAbortError);
    expect(server.requests).toHaveLength(0);
  });

  it('rejects a base URL that is not http(s) or carries credentials', () => {
    expect(() => new OllamaClient({ baseUrl: 'ftp://host' })).toThrow(TypeError);
    expect(() => new OllamaClient({ baseUrl: 'http://u:p@host' })).toThrow(TypeError);
  });
});
