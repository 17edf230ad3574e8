// POST /api/generate, /api/chat and /api/embed: validation, scripted replies, and the trip through the scheduler.
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { ModelEntry } from '../catalog.js';
import type { RequestLogEntry } from '../counters.js';
import { parseKeepAlive } from '../duration.js';
import type { SimEngine } from '../engine.js';
import {
  ClientWatch,
  HttpError,
  NdjsonResponse,
  optBool,
  optImages,
  optObject,
  optString,
  QUEUE_FULL_MESSAGE,
  requireBody,
  sendJson,
  sleep,
} from '../http.js';
import { isSupportedFormat, jsonReply } from '../json-value.js';
import type { JobKind, JobStats } from '../scheduler.js';
import type { ScriptError, ScriptRule } from '../scripts.js';
import {
  contextIds,
  countWords,
  embeddingOf,
  generateWordTokens,
  hash32,
  Rng,
  splitJsonTokens,
  splitWords,
} from '../text.js';

type Json = Record<string, unknown>;

/** Sampling options the sim looks at. */
interface SamplingOptions {
  numPredict: number | undefined;
  seed: number | undefined;
  temperature: number | undefined;
}

/** The reply decided before scheduling. */
interface TextPlan {
  tokens: string[];
  doneReason: 'stop' | 'length';
  /** Scripted error to send after the tokens. */
  failAfter: ScriptError | undefined;
  delayMs: number;
}

/** Shapes one endpoint's chunks. */
interface ChunkShape {
  tokenLine(createdAt: string, token: string): string;
  final(
    createdAt: string,
    text: string,
    streamed: boolean,
    doneReason: string,
    stats: JobStats,
    evalCount: number,
  ): Json;
}

const nowIso = () => new Date().toISOString();

function startLog(engine: SimEngine, req: FastifyRequest, endpoint: string): RequestLogEntry {
  const entry = engine.store.log({ endpoint, hasImages: false, imageCount: 0 });
  req.simLog = entry;
  return entry;
}

function lookup(engine: SimEngine, name: string): ModelEntry {
  const entry = engine.catalog.get(name);
  engine.store.modelRequest(entry?.name ?? name);
  if (!entry) throw new HttpError(404, `model '${name}' not found`);
  return entry;
}

function keepAliveOf(body: Json): number | undefined {
  if (body.keep_alive === undefined || body.keep_alive === null) return undefined;
  const parsed = parseKeepAlive(body.keep_alive);
  if ('error' in parsed) throw new HttpError(400, parsed.error);
  return parsed.ms;
}

function samplingOf(options: Json): SamplingOptions {
  const int = (key: string): number | undefined => {
    const v = options[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new HttpError(500, `option "${key}" must be of type integer`);
    return Math.trunc(v);
  };
  const float = (key: string): number | undefined => {
    const v = options[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new HttpError(500, `option "${key}" must be of type float32`);
    return v;
  };
  return { numPredict: int('num_predict'), seed: int('seed'), temperature: float('temperature') };
}

function formatOf(format: unknown): 'json' | Json | undefined {
  if (format === undefined || format === null || format === '') return undefined;
  if (!isSupportedFormat(format))
    throw new HttpError(400, 'invalid format: expected "json" or a valid JSON Schema');
  return format;
}

function checkImages(entry: ModelEntry, model: string, imageCount: number): void {
  if (imageCount > 0 && !entry.vision)
    throw new HttpError(400, 'this model is missing data required for image input');
  if (imageCount === 0 && entry.vision && entry.requiresImages) {
    throw new HttpError(400, `model '${model}' requires images`);
  }
}

/** Decides the reply text: script, JSON for a format, or seeded words; then applies num_predict. */
function planText(
  engine: SimEngine,
  entry: ModelEntry,
  promptText: string,
  seedText: string,
  sampling: SamplingOptions,
  format: 'json' | Json | undefined,
  rule: ScriptRule | undefined,
): TextPlan {
  let seedKey = `${engine.baseSeed}\u0000${entry.key}\u0000${seedText}\u0000${sampling.seed ?? ''}\u0000${sampling.temperature ?? ''}`;
  if (sampling.seed === undefined && sampling.temperature !== 0) seedKey += `\u0000${engine.nextNonce()}`;
  const rng = new Rng(hash32(seedKey));
  let tokens: string[];
  if (rule?.reply !== undefined) tokens = splitWords(rule.reply);
  else if (format !== undefined && rule?.tokens === undefined)
    tokens = splitJsonTokens(jsonReply(format, rng));
  else tokens = generateWordTokens(rng, rule?.tokens ?? engine.naturalLength(entry, promptText));
  let doneReason: 'stop' | 'length' = 'stop';
  if (sampling.numPredict !== undefined && sampling.numPredict >= 0 && sampling.numPredict < tokens.length) {
    tokens = tokens.slice(0, sampling.numPredict);
    doneReason = 'length';
  }
  const failAfter =
    rule?.error?.afterTokens !== undefined && rule.error.afterTokens > 0 ? rule.error : undefined;
  if (failAfter) tokens = tokens.slice(0, failAfter.afterTokens);
  return { tokens, doneReason, failAfter, delayMs: rule?.delayMs ?? 0 };
}

/** Answers a scripted error that comes before any token. */
async function scriptedError(engine: SimEngine, rule: ScriptRule, watch: ClientWatch): Promise<never> {
  if (rule.delayMs) await sleep(rule.delayMs);
  engine.store.scriptedErrors++;
  if (watch.gone) throw new HttpError(499, 'request canceled', true);
  throw new HttpError(rule.error!.status, rule.error!.message, true);
}

type Outcome = { stats: JobStats } | { busy: true } | { aborted: true } | { cancelled: string };

/** Runs a job through the scheduler and resolves with how it ended. */
function schedule(
  engine: SimEngine,
  watch: ClientWatch,
  plan: {
    entry: ModelEntry;
    kind: JobKind;
    promptTokens: number;
    genTokens: number;
    keepAliveMs: number | undefined;
    extraDelayMs: number;
  },
  onTokens: ((from: number, to: number) => void) | undefined,
  live: (() => void) | undefined,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    if (watch.gone) {
      resolve({ aborted: true });
      return;
    }
    const job = engine.scheduler.submit(
      {
        model: plan.entry,
        kind: plan.kind,
        promptTokens: plan.promptTokens,
        genTokens: plan.genTokens,
        streamTokens: onTokens !== undefined,
        extraDelayMs: plan.extraDelayMs,
        keepAliveMs: plan.keepAliveMs,
      },
      {
        ...(onTokens ? { onTokens } : {}),
        onDone: (stats) => resolve({ stats }),
        onCancel: (reason) => resolve({ cancelled: reason }),
      },
    );
    if (job === 'busy') {
      resolve({ busy: true });
      return;
    }
    if (job.finished) return;
    live?.();
    watch.onGone(() => {
      if (engine.scheduler.abort(job)) resolve({ aborted: true });
    });
  });
}

/** Turns a non-success outcome into the response (or the silence) it deserves. */
function settleFailure(
  engine: SimEngine,
  reply: FastifyReply,
  log: RequestLogEntry,
  entry: ModelEntry,
  outcome: Exclude<Outcome, { stats: JobStats }>,
  ndjson?: NdjsonResponse,
): FastifyReply {
  if ('busy' in outcome) {
    engine.store.rejected503++;
    engine.store.model(entry.name).rejected503++;
    log.outcome = 'rejected';
    throw new HttpError(503, QUEUE_FULL_MESSAGE);
  }
  if ('aborted' in outcome) {
    engine.store.aborts++;
    engine.store.model(entry.name).aborts++;
    log.outcome = 'aborted';
    if (!reply.sent) reply.hijack();
    return reply;
  }
  if (ndjson?.started) {
    ndjson.end(`${JSON.stringify({ error: outcome.cancelled })}\n`);
    return reply;
  }
  throw new HttpError(500, outcome.cancelled);
}

/** Shared tail of generate and chat: schedule, stream or collect, and send the final object. */
async function runText(
  engine: SimEngine,
  reply: FastifyReply,
  watch: ClientWatch,
  log: RequestLogEntry,
  entry: ModelEntry,
  text: TextPlan,
  promptTokens: number,
  stream: boolean,
  keepAliveMs: number | undefined,
  shape: ChunkShape,
): Promise<FastifyReply> {
  const tokens = text.tokens;
  const ndjson = stream ? new NdjsonResponse(engine, reply) : undefined;
  const onTokens = ndjson
    ? (from: number, to: number) => {
        const createdAt = nowIso();
        let chunk = '';
        for (let i = from; i < to; i++) chunk += shape.tokenLine(createdAt, tokens[i]!);
        ndjson.write(chunk);
      }
    : undefined;
  const outcome = await schedule(
    engine,
    watch,
    {
      entry,
      kind: 'generate',
      promptTokens,
      genTokens: tokens.length,
      keepAliveMs,
      extraDelayMs: text.delayMs,
    },
    onTokens,
    ndjson ? () => ndjson.goLive() : undefined,
  );
  if (!('stats' in outcome)) return settleFailure(engine, reply, log, entry, outcome, ndjson);
  log.status = 200;
  log.outcome = 'ok';
  if (text.failAfter) {
    engine.store.scriptedErrors++;
    log.outcome = 'scripted';
    if (ndjson) {
      ndjson.end(`${JSON.stringify({ error: text.failAfter.message })}\n`);
      return reply;
    }
    throw new HttpError(text.failAfter.status, text.failAfter.message, true);
  }
  const final = shape.final(nowIso(), tokens.join(''), stream, text.doneReason, outcome.stats, tokens.length);
  if (ndjson) {
    ndjson.end(`${JSON.stringify(final)}\n`);
    return reply;
  }
  return sendJson(engine, reply, 200, final);
}

/** Empty prompt / no messages / no input: load the model and answer at once. */
async function loadOnly(
  engine: SimEngine,
  reply: FastifyReply,
  watch: ClientWatch,
  log: RequestLogEntry,
  entry: ModelEntry,
  keepAliveMs: number | undefined,
  body: (stats: JobStats) => Json,
): Promise<FastifyReply> {
  const outcome = await schedule(
    engine,
    watch,
    { entry, kind: 'load', promptTokens: 0, genTokens: 0, keepAliveMs, extraDelayMs: 0 },
    undefined,
    undefined,
  );
  if (!('stats' in outcome)) return settleFailure(engine, reply, log, entry, outcome);
  log.status = 200;
  log.outcome = 'ok';
  return sendJson(engine, reply, 200, body(outcome.stats));
}

function stats(s: JobStats, promptTokens: number, evalCount: number): Json {
  return {
    total_duration: s.totalNs,
    load_duration: s.loadNs,
    prompt_eval_count: promptTokens,
    prompt_eval_duration: s.promptEvalNs,
    eval_count: evalCount,
    eval_duration: s.evalNs,
  };
}

async function generate(engine: SimEngine, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const T = 'GenerateRequest';
  const watch = new ClientWatch(reply);
  const log = startLog(engine, req, '/api/generate');
  const body = requireBody(req.body, T);
  const model = optString(body, 'model', T) ?? '';
  const prompt = optString(body, 'prompt', T) ?? '';
  const system = optString(body, 'system', T) ?? '';
  const images = optImages(body, 'images', T);
  const stream = optBool(body, 'stream', T) ?? true;
  const raw = optBool(body, 'raw', T) ?? false;
  const options = optObject(body, 'options', T) ?? {};
  Object.assign(log, { model, stream, hasImages: images.length > 0, imageCount: images.length, options });
  if (body.format !== undefined) log.format = body.format;
  if (body.keep_alive !== undefined) log.keepAlive = body.keep_alive;
  if (model === '') throw new HttpError(400, 'model is required');
  const entry = lookup(engine, model);
  if (entry.embedding) throw new HttpError(400, `"${model}" does not support generate`);
  const keepAliveMs = keepAliveOf(body);
  if (prompt === '' && keepAliveMs === 0) {
    engine.scheduler.expire(entry);
    log.status = 200;
    log.outcome = 'ok';
    return sendJson(engine, reply, 200, {
      model,
      created_at: nowIso(),
      response: '',
      done: true,
      done_reason: 'unload',
    });
  }
  const sampling = samplingOf(options);
  const format = formatOf(body.format);
  if (prompt === '') {
    return loadOnly(engine, reply, watch, log, entry, keepAliveMs, () => ({
      model,
      created_at: nowIso(),
      response: '',
      done: true,
      done_reason: 'load',
    }));
  }
  checkImages(entry, model, images.length);
  const rule = engine.scripts.match('generate', model, prompt);
  if (rule?.error && !(rule.error.afterTokens && rule.error.afterTokens > 0))
    return scriptedError(engine, rule, watch);
  const promptWords = countWords(system) + countWords(prompt);
  const promptTokens = promptWords + images.length * engine.runtime.imageTokens;
  log.promptTokens = promptTokens;
  const text = planText(engine, entry, prompt, `${system}\u0000${prompt}`, sampling, format, rule);
  const prefix = `{"model":${JSON.stringify(model)},"created_at":"`;
  return runText(engine, reply, watch, log, entry, text, promptTokens, stream, keepAliveMs, {
    tokenLine: (createdAt, token) =>
      `${prefix}${createdAt}","response":${JSON.stringify(token)},"done":false}\n`,
    final: (createdAt, full, streamed, doneReason, s, evalCount) => {
      const out: Json = {
        model,
        created_at: createdAt,
        response: streamed ? '' : full,
        done: true,
        done_reason: doneReason,
      };
      if (!raw) out.context = contextIds(promptWords, `${system}\u0000${prompt}`, text.tokens);
      return Object.assign(out, stats(s, promptTokens, evalCount));
    },
  });
}

interface ChatMessage {
  role: string;
  content: string;
  images: string[];
}

function messagesOf(body: Json): ChatMessage[] {
  const v = body.messages;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    throw new HttpError(
      400,
      `json: cannot unmarshal ${typeof v} into Go struct field ChatRequest.messages of type []api.Message`,
    );
  }
  return v.map((m) => {
    const msg = requireBody(m, 'Message');
    return {
      role: optString(msg, 'role', 'Message') ?? '',
      content: optString(msg, 'content', 'Message') ?? '',
      images: optImages(msg, 'images', 'Message'),
    };
  });
}

async function chat(engine: SimEngine, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const T = 'ChatRequest';
  const watch = new ClientWatch(reply);
  const log = startLog(engine, req, '/api/chat');
  const body = requireBody(req.body, T);
  const model = optString(body, 'model', T) ?? '';
  const messages = messagesOf(body);
  const stream = optBool(body, 'stream', T) ?? true;
  const options = optObject(body, 'options', T) ?? {};
  const imageCount = messages.reduce((n, m) => n + m.images.length, 0);
  Object.assign(log, { model, stream, hasImages: imageCount > 0, imageCount, options });
  if (body.format !== undefined) log.format = body.format;
  if (body.keep_alive !== undefined) log.keepAlive = body.keep_alive;
  if (model === '') throw new HttpError(400, 'model is required');
  const entry = lookup(engine, model);
  const keepAliveMs = keepAliveOf(body);
  if (messages.length === 0 && keepAliveMs === 0) {
    engine.scheduler.expire(entry);
    log.status = 200;
    log.outcome = 'ok';
    return sendJson(engine, reply, 200, {
      model,
      created_at: nowIso(),
      message: { role: 'assistant', content: '' },
      done_reason: 'unload',
      done: true,
    });
  }
  if (entry.embedding) throw new HttpError(400, `"${model}" does not support chat`);
  const sampling = samplingOf(options);
  const format = formatOf(body.format);
  if (messages.length === 0) {
    return loadOnly(engine, reply, watch, log, entry, keepAliveMs, () => ({
      model,
      created_at: nowIso(),
      message: { role: 'assistant', content: '' },
      done_reason: 'load',
      done: true,
    }));
  }
  checkImages(entry, model, imageCount);
  const lastUser = [...messages].reverse().find((m) => m.role === 'user') ?? messages[messages.length - 1]!;
  const rule = engine.scripts.match('chat', model, lastUser.content);
  if (rule?.error && !(rule.error.afterTokens && rule.error.afterTokens > 0))
    return scriptedError(engine, rule, watch);
  let promptTokens = imageCount * engine.runtime.imageTokens;
  for (const m of messages) promptTokens += countWords(m.content);
  log.promptTokens = promptTokens;
  const seedText = messages.map((m) => `${m.role}\u0001${m.content}`).join('\u0000');
  const text = planText(engine, entry, lastUser.content, seedText, sampling, format, rule);
  const prefix = `{"model":${JSON.stringify(model)},"created_at":"`;
  return runText(engine, reply, watch, log, entry, text, promptTokens, stream, keepAliveMs, {
    tokenLine: (createdAt, token) =>
      `${prefix}${createdAt}","message":{"role":"assistant","content":${JSON.stringify(token)}},"done":false}\n`,
    final: (createdAt, full, streamed, doneReason, s, evalCount) => ({
      model,
      created_at: createdAt,
      message: { role: 'assistant', content: streamed ? '' : full },
      done_reason: doneReason,
      done: true,
      ...stats(s, promptTokens, evalCount),
    }),
  });
}

async function embed(engine: SimEngine, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const T = 'EmbedRequest';
  const watch = new ClientWatch(reply);
  const log = startLog(engine, req, '/api/embed');
  const body = requireBody(req.body, T);
  let inputs: string[];
  if (body.input === undefined || body.input === null) inputs = [];
  else if (typeof body.input === 'string') inputs = body.input === '' ? [] : [body.input];
  else if (Array.isArray(body.input) && body.input.every((i) => typeof i === 'string'))
    inputs = body.input as string[];
  else throw new HttpError(400, 'invalid input type');
  const model = optString(body, 'model', T) ?? '';
  const options = optObject(body, 'options', T) ?? {};
  Object.assign(log, { model, options });
  if (model === '') throw new HttpError(400, 'model is required');
  const entry = lookup(engine, model);
  const keepAliveMs = keepAliveOf(body);
  const dimensions =
    typeof body.dimensions === 'number' && body.dimensions > 0 ? Math.floor(body.dimensions) : undefined;
  if (inputs.length === 0) {
    return loadOnly(engine, reply, watch, log, entry, keepAliveMs, () => ({ model, embeddings: [] }));
  }
  const rule = engine.scripts.match('embed', model, inputs[0]!);
  if (rule?.error) return scriptedError(engine, rule, watch);
  const promptTokens = inputs.reduce((n, i) => n + countWords(i), 0);
  log.promptTokens = promptTokens;
  const outcome = await schedule(
    engine,
    watch,
    { entry, kind: 'embed', promptTokens, genTokens: 0, keepAliveMs, extraDelayMs: rule?.delayMs ?? 0 },
    undefined,
    undefined,
  );
  if (!('stats' in outcome)) return settleFailure(engine, reply, log, entry, outcome);
  const length = Math.min(dimensions ?? entry.embedding_length, entry.embedding_length);
  log.status = 200;
  log.outcome = 'ok';
  return sendJson(engine, reply, 200, {
    model,
    embeddings: inputs.map((i) => embeddingOf(`${entry.key}\u0000${i}`, length)),
    total_duration: outcome.stats.totalNs,
    load_duration: outcome.stats.loadNs,
    prompt_eval_count: promptTokens,
  });
}

/** Registers the inference endpoints. */
export function inferenceRoutes(engine: SimEngine): FastifyPluginCallback {
  return (app, _opts, done) => {
    app.post('/api/generate', (req, reply) => generate(engine, req, reply));
    app.post('/api/chat', (req, reply) => chat(engine, req, reply));
    app.post('/api/embed', (req, reply) => embed(engine, req, reply));
    done();
  };
}
