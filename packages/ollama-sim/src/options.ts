import type { FastifyServerOptions } from 'fastify';

/** What the sim knows about one installed model; every field is optional and defaults from the name. */
export interface ModelSpec {
  /** Accepts `images` (capability `vision`). Default: name contains llava, vision, bakllava or moondream. */
  vision?: boolean;
  /** Sim-only: answer 400 when a request to this vision model carries no images. Default false. */
  requiresImages?: boolean;
  /** Embedding-only model (capability `embedding`): generate/chat answer 400. Default: name looks like an embedder. */
  embedding?: boolean;
  /** `details.family`, e.g. `llama`. */
  family?: string;
  /** `details.families`. Default `[family]` (plus `clip` for vision models). */
  families?: string[];
  /** `details.parameter_size`, e.g. `7B`. Default from the tag (`mistral:7b` → `7B`). */
  parameter_size?: string;
  /** `details.quantization_level`. Default `Q4_K_M`. */
  quantization_level?: string;
  /** Size on disk in bytes (also `size`/`size_vram` in /api/ps). Default from the parameter count. */
  size?: number;
  /** Manifest digest, 64 hex characters. Default: derived from the name. */
  digest?: string;
  /** `modified_at` in /api/tags, RFC 3339. Default: the sim's start time. */
  modified_at?: string;
  /** Trained context length reported in /api/show `model_info`. Default 32768. */
  context_length?: number;
  /** Length of the vectors /api/embed returns. Default 384. */
  embedding_length?: number;
  /** Parallel slots for this model, overriding {@link SimOptions.numParallel}. */
  numParallel?: number;
  /** Generation rate for this model, overriding {@link SimOptions.genTokensPerSec}. */
  genTokensPerSec?: number;
  /** Prompt evaluation rate for this model, overriding {@link SimOptions.promptTokensPerSec}. */
  promptTokensPerSec?: number;
  /** Load time for this model, overriding {@link SimOptions.loadTimeMs}. */
  loadTimeMs?: number;
}

/** A model spec carrying its own name, for the array form of {@link SimOptions.models}. */
export interface NamedModelSpec extends ModelSpec {
  name: string;
}

/** The installed models: names (shorthand), a name → spec record, or an array mixing both. */
export type ModelsOption = ReadonlyArray<string | NamedModelSpec> | Readonly<Record<string, ModelSpec>>;

/** Options for {@link buildSim} and {@link startSim}. Times are simulated milliseconds unless stated. */
export interface SimOptions {
  /** Installed models. Default `['llama3.2:3b', 'mistral:7b', 'llava:7b']`. */
  models?: ModelsOption;
  /** Requests one loaded model serves at once (OLLAMA_NUM_PARALLEL). Default 1. */
  numParallel?: number;
  /** Requests allowed to wait, server-wide, before 503 (OLLAMA_MAX_QUEUE). Default 512. */
  maxQueue?: number;
  /** Models resident at once (OLLAMA_MAX_LOADED_MODELS); least recently used idle ones are evicted. Default 3. */
  maxLoadedModels?: number;
  /** Time to load a model, reported in the triggering request's `load_duration`. Default 250. */
  loadTimeMs?: number;
  /** Prompt evaluation rate, tokens per second. Default 2000. */
  promptTokensPerSec?: number;
  /** Generation rate of one request running alone, tokens per second. `Infinity` selects zero latency. Default 100. */
  genTokensPerSec?: number;
  /**
   * Batching exponent: n requests running on one model share `genTokensPerSec * n^batchAlpha` tokens per
   * second, each getting an equal part. 1 = perfect scaling, 0 = none. Default 0.6.
   */
  batchAlpha?: number;
  /** Multiplies every rate, so one instance can be slower (0.5) or faster (2) than another. Default 1. */
  speedFactor?: number;
  /** Simulated time runs this many times faster than the wall clock; durations are reported in simulated time. Default 1. */
  timeScale?: number;
  /** `'none'` answers at once with no load, prompt or generation time (cheap path for benchmarks). Default `'model'`. */
  latency?: 'model' | 'none';
  /** How long a model stays loaded after its last request when the request names no `keep_alive`. Default 300000 (5m). */
  keepAliveMs?: number;
  /** Tokens generated when neither `options.num_predict` nor a script caps them. Default: 20–80, derived from the prompt. */
  defaultTokens?: number | ((input: { model: string; prompt: string }) => number);
  /** Prompt tokens counted for each image. Default 256. */
  imageTokens?: number;
  /** Base seed mixed into every generated text. Default 0. */
  seed?: number;
  /** Reported by /api/version. Default `0.12.6`. */
  version?: string;
  /** Entries kept in the request log ring buffer. Default 1000. */
  logSize?: number;
  /** Models /api/pull can fetch: `'any'` name, or a list/record of specs. Default `'any'`. */
  pullable?: 'any' | ModelsOption;
  /** Time a pull takes, spread over its progress lines. Default 0. */
  pullTimeMs?: number;
  /** Fastify logger; off by default. */
  logger?: FastifyServerOptions['logger'];
  /** Largest request body accepted, bytes. Default 64 MiB (images are base64). */
  bodyLimit?: number;
  /** Shortest wall-clock gap between two streamed writes of one request; faster tokens are batched. Default 2. */
  minTickMs?: number;
}

/** Settings that {@link SimControl.configure} may change while the sim runs. */
export interface RuntimeConfig {
  numParallel: number;
  maxQueue: number;
  maxLoadedModels: number;
  loadTimeMs: number;
  promptTokensPerSec: number;
  genTokensPerSec: number;
  batchAlpha: number;
  speedFactor: number;
  timeScale: number;
  latency: 'model' | 'none';
  keepAliveMs: number;
  imageTokens: number;
  pullTimeMs: number;
  minTickMs: number;
}

export const DEFAULT_MODELS: readonly string[] = ['llama3.2:3b', 'mistral:7b', 'llava:7b'];

/** Fills in defaults and checks numbers; throws a readable error for a bad value. */
export function resolveRuntimeConfig(opts: SimOptions): RuntimeConfig {
  const config: RuntimeConfig = {
    numParallel: opts.numParallel ?? 1,
    maxQueue: opts.maxQueue ?? 512,
    maxLoadedModels: opts.maxLoadedModels ?? 3,
    loadTimeMs: opts.loadTimeMs ?? 250,
    promptTokensPerSec: opts.promptTokensPerSec ?? 2000,
    genTokensPerSec: opts.genTokensPerSec ?? 100,
    batchAlpha: opts.batchAlpha ?? 0.6,
    speedFactor: opts.speedFactor ?? 1,
    timeScale: opts.timeScale ?? 1,
    latency: opts.latency ?? 'model',
    keepAliveMs: opts.keepAliveMs ?? 300_000,
    imageTokens: opts.imageTokens ?? 256,
    pullTimeMs: opts.pullTimeMs ?? 0,
    minTickMs: opts.minTickMs ?? 2,
  };
  validateRuntimeConfig(config);
  return config;
}

/** Throws when a runtime setting is out of range. */
export function validateRuntimeConfig(c: RuntimeConfig): void {
  const positiveInt = (name: keyof RuntimeConfig, min: number) => {
    const v = c[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new RangeError(`ollama-sim: ${name} must be an integer >= ${min}, got ${String(v)}`);
    }
  };
  const positive = (name: keyof RuntimeConfig, allowZero: boolean) => {
    const v = c[name];
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowZero && v === 0)) {
      throw new RangeError(
        `ollama-sim: ${name} must be a number ${allowZero ? '>= 0' : '> 0'}, got ${String(v)}`,
      );
    }
  };
  positiveInt('numParallel', 1);
  positiveInt('maxQueue', 0);
  positiveInt('maxLoadedModels', 1);
  positive('loadTimeMs', true);
  positive('promptTokensPerSec', false);
  positive('genTokensPerSec', false);
  positive('batchAlpha', true);
  positive('speedFactor', false);
  positive('timeScale', false);
  positive('keepAliveMs', true);
  positive('imageTokens', true);
  positive('pullTimeMs', true);
  positive('minTickMs', true);
  if (c.latency !== 'model' && c.latency !== 'none') {
    throw new RangeError(`ollama-sim: latency must be 'model' or 'none', got ${String(c.latency)}`);
  }
}

/** True when replies should come back at once: `latency: 'none'` or an infinite generation rate. */
export function isZeroLatency(c: RuntimeConfig): boolean {
  return c.latency === 'none' || c.genTokensPerSec === Number.POSITIVE_INFINITY;
}
