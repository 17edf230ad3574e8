#!/usr/bin/env node
// ward-ollama-sim: runs the Ollama test double on a port until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { parseKeepAlive } from './duration.js';
import type { NamedModelSpec } from './options.js';
import { type StartSimOptions, startSim } from './server.js';

const HELP = `Usage: ward-ollama-sim [options]

Runs an Ollama API test double (Ollama-compatible HTTP API plus /__sim control endpoints).

Options:
  -p, --port <n>              port to listen on (default 11434; 0 picks a free one)
      --host <addr>           interface to bind (default 127.0.0.1)
  -m, --models <a,b,...>      installed models (default llama3.2:3b,mistral:7b,llava:7b)
      --vision <a,b,...>      models to treat as vision models (besides llava/vision/bakllava/moondream names)
      --require-images <a,..> vision models that answer 400 without images
      --num-parallel <n>      parallel requests per model (env OLLAMA_NUM_PARALLEL, default 1)
      --max-queue <n>         waiting requests before 503 (env OLLAMA_MAX_QUEUE, default 512)
      --max-loaded-models <n> resident models, LRU evicted (env OLLAMA_MAX_LOADED_MODELS, default 3)
      --keep-alive <dur>      default keep_alive, e.g. 5m, 30s, -1 (env OLLAMA_KEEP_ALIVE, default 5m)
      --load-time-ms <ms>     model load time (default 250)
      --prompt-tps <n>        prompt tokens per second (default 2000)
      --gen-tps <n>           generated tokens per second for one request alone (default 100; Infinity = instant)
      --batch-alpha <x>       batching exponent: n requests share gen-tps * n^x (default 0.6)
      --speed-factor <x>      multiply every rate (default 1)
      --time-scale <x>        run simulated time x times faster than the wall clock (default 1)
      --latency <model|none>  'none' answers at once (default model)
      --default-tokens <n>    tokens per reply when num_predict is not set (default 20-80 from the prompt)
      --seed <n>              base seed for generated text (default 0)
      --ollama-version <v>    version reported by /api/version (default 0.12.6)
      --log                   log requests (Fastify/pino) to stdout
  -h, --help                  show this help
`;

function fail(message: string): never {
  console.error(`ward-ollama-sim: ${message}`);
  process.exit(2);
}

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = value === 'Infinity' || value === 'inf' ? Number.POSITIVE_INFINITY : Number(value);
  if (Number.isNaN(n)) fail(`--${name} expects a number, got "${value}"`);
  return n;
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function main(): void {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP}`);
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const env = process.env;
  const vision = new Set(list(v.vision).map((s) => s.toLowerCase()));
  const requireImages = new Set(list(v['require-images']).map((s) => s.toLowerCase()));
  const names = v.models ? list(v.models) : undefined;
  const models: NamedModelSpec[] | undefined = names?.map((name) => {
    const spec: NamedModelSpec = { name };
    if (vision.has(name.toLowerCase())) spec.vision = true;
    if (requireImages.has(name.toLowerCase())) spec.requiresImages = true;
    return spec;
  });
  const opts: StartSimOptions = { port: num('port', v.port) ?? 11434, host: v.host ?? '127.0.0.1' };
  if (models) opts.models = models;
  const setNum = (key: keyof StartSimOptions, flag: string, value: string | undefined) => {
    const n = num(flag, value);
    if (n !== undefined) (opts as Record<string, unknown>)[key] = n;
  };
  setNum('numParallel', 'num-parallel', v['num-parallel'] ?? env.OLLAMA_NUM_PARALLEL);
  setNum('maxQueue', 'max-queue', v['max-queue'] ?? env.OLLAMA_MAX_QUEUE);
  setNum('maxLoadedModels', 'max-loaded-models', v['max-loaded-models'] ?? env.OLLAMA_MAX_LOADED_MODELS);
  setNum('loadTimeMs', 'load-time-ms', v['load-time-ms']);
  setNum('promptTokensPerSec', 'prompt-tps', v['prompt-tps']);
  setNum('genTokensPerSec', 'gen-tps', v['gen-tps']);
  setNum('batchAlpha', 'batch-alpha', v['batch-alpha']);
  setNum('speedFactor', 'speed-factor', v['speed-factor']);
  setNum('timeScale', 'time-scale', v['time-scale']);
  setNum('defaultTokens', 'default-tokens', v['default-tokens']);
  setNum('seed', 'seed', v.seed);
  const keepAlive = v['keep-alive'] ?? env.OLLAMA_KEEP_ALIVE;
  if (keepAlive !== undefined && keepAlive !== '') {
    const parsed = parseKeepAlive(/^-?\d+$/.test(keepAlive) ? Number(keepAlive) : keepAlive);
    if ('error' in parsed) fail(`--keep-alive: ${parsed.error}`);
    opts.keepAliveMs = parsed.ms;
  }
  if (v.latency !== undefined) {
    if (v.latency !== 'model' && v.latency !== 'none')
      fail(`--latency expects model or none, got "${v.latency}"`);
    opts.latency = v.latency;
  }
  if (v['ollama-version']) opts.version = v['ollama-version'];
  if (v.log) opts.logger = true;

  startSim(opts).then(
    (sim) => {
      process.stdout.write(`ollama-sim listening on ${sim.url} (models: ${sim.modelNames().join(', ')})\n`);
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) process.exit(1);
        stopping = true;
        process.stdout.write(`ollama-sim: ${signal}, shutting down\n`);
        sim.close().then(
          () => process.exit(0),
          (err: unknown) => {
            console.error(err);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err: unknown) => fail((err as Error).message),
  );
}

function parse() {
  return parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      models: { type: 'string', short: 'm' },
      vision: { type: 'string' },
      'require-images': { type: 'string' },
      'num-parallel': { type: 'string' },
      'max-queue': { type: 'string' },
      'max-loaded-models': { type: 'string' },
      'keep-alive': { type: 'string' },
      'load-time-ms': { type: 'string' },
      'prompt-tps': { type: 'string' },
      'gen-tps': { type: 'string' },
      'batch-alpha': { type: 'string' },
      'speed-factor': { type: 'string' },
      'time-scale': { type: 'string' },
      latency: { type: 'string' },
      'default-tokens': { type: 'string' },
      seed: { type: 'string' },
      'ollama-version': { type: 'string' },
      log: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}

main();
