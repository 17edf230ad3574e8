/**
 * Child process: one Ward worker for the Ollama at OLLAMA_URL, configured from the environment
 * as `ward start --target worker` configures it.
 */
import { keyringFrom, loadEnv, workerEnv } from '@ward/config';
import { Sealer } from '@ward/queue';
import { InstanceWorker } from '@ward/worker';
import pino from 'pino';
import { announce, closeOnSignal, failStart } from './ipc.js';

try {
  const cfg = loadEnv(workerEnv);
  const ring = keyringFrom(cfg);
  if (!ring) throw new Error('WARD_DATA_KEY is required');
  const logger = pino({
    level: cfg.LOG_LEVEL,
    redact: { paths: ['prompt', '*.prompt', 'response', '*.response'], censor: '[redacted]' },
  });
  const worker = new InstanceWorker({
    redisUrl: cfg.REDIS_URL,
    redisPrefix: cfg.REDIS_PREFIX,
    ollamaUrl: cfg.OLLAMA_URL,
    instanceId: cfg.WORKER_INSTANCE_ID,
    numParallel: cfg.OLLAMA_NUM_PARALLEL,
    keepAlive: cfg.OLLAMA_KEEP_ALIVE,
    models: cfg.WORKER_MODELS,
    requestTimeoutMs: cfg.OLLAMA_REQUEST_TIMEOUT_SECONDS * 1000,
    heartbeatIntervalMs: cfg.HEARTBEAT_INTERVAL_MS,
    lockDurationMs: cfg.WORKER_LOCK_DURATION_MS,
    sealer: new Sealer(ring),
    logger,
  });
  await worker.start();
  closeOnSignal(() => worker.close());
  announce({ type: 'ready' });
} catch (err) {
  failStart(err);
}
