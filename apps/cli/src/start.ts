import {
  ConfigError,
  type GatewayConfig,
  gatewayEnv,
  hipaaSecretProblems,
  keyringFrom,
  loadEnv,
  type WorkerConfig,
  workerEnv,
} from '@ward/config';
import { createServer } from '@ward/gateway';
import { serveMetrics, WardMetrics } from '@ward/metrics';
import { Sealer } from '@ward/queue';
import { InstanceWorker } from '@ward/worker';
import closeWithGrace from 'close-with-grace';
import pino, { type Logger } from 'pino';
import { applyDevSecrets } from './secrets.js';
import { clinicalSetup, openWardDatabase } from './services.js';

export type Target = 'all' | 'gateway' | 'worker';

/** Something `ward start` runs and must close on shutdown. */
interface Closable {
  name: string;
  close(): Promise<void>;
}

function sealerFrom(cfg: {
  WARD_DATA_KEY?: string | undefined;
  WARD_DATA_KEY_ID: string;
  WARD_DATA_KEYS_PREVIOUS?: string[] | undefined;
}): Sealer {
  const ring = keyringFrom(cfg);
  if (!ring)
    throw new ConfigError(['WARD_DATA_KEY is required (32 random bytes, base64: openssl rand -base64 32)']);
  return new Sealer(ring);
}

/** Starts one worker per Ollama URL. An unreachable Ollama is logged and retried, not fatal. */
export async function startWorkers(
  cfg: WorkerConfig,
  sealer: Sealer,
  log: Logger,
  metrics?: WardMetrics,
): Promise<InstanceWorker[]> {
  const urls = cfg.OLLAMA_URLS ?? [cfg.OLLAMA_URL];
  const workers = urls.map(
    (url, i) =>
      new InstanceWorker({
        redisUrl: cfg.REDIS_URL,
        redisPrefix: cfg.REDIS_PREFIX,
        ollamaUrl: url,
        instanceId: cfg.WORKER_INSTANCE_ID
          ? urls.length > 1
            ? `${cfg.WORKER_INSTANCE_ID}-${i}`
            : cfg.WORKER_INSTANCE_ID
          : undefined,
        numParallel: cfg.OLLAMA_NUM_PARALLEL,
        keepAlive: cfg.OLLAMA_KEEP_ALIVE,
        models: cfg.WORKER_MODELS,
        requestTimeoutMs: cfg.OLLAMA_REQUEST_TIMEOUT_SECONDS * 1000,
        heartbeatIntervalMs: cfg.HEARTBEAT_INTERVAL_MS,
        lockDurationMs: cfg.WORKER_LOCK_DURATION_MS,
        sealer,
        logger: log,
        ...(metrics && { metrics }),
      }),
  );
  await Promise.all(workers.map((w) => w.start()));
  return workers;
}

/** `ward start [--target gateway|worker]`: validates config, connects, serves until SIGTERM/SIGINT. */
export async function start(target: Target, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const filled = applyDevSecrets(env);
  const log = pino({
    level: env.LOG_LEVEL ?? 'info',
    redact: { paths: ['prompt', '*.prompt', 'response', '*.response'], censor: '[redacted]' },
  });
  if (filled.length)
    log.warn(
      { filled },
      'development secrets in ./data/dev-secrets.json are in use; set real secrets (and HIPAA_MODE=true) in production',
    );

  const running: Closable[] = [];
  let gatewayCfg: GatewayConfig | undefined;
  let workerCfg: WorkerConfig | undefined;
  const problems: string[] = [];
  const load = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) if (!problems.includes(p)) problems.push(p);
      return undefined;
    }
  };
  if (target !== 'worker') gatewayCfg = load(() => loadEnv(gatewayEnv, env));
  if (target !== 'gateway') workerCfg = load(() => loadEnv(workerEnv, env));
  if (problems.length) throw new ConfigError(problems);
  const common = (gatewayCfg ?? workerCfg)!;
  const secretProblems = hipaaSecretProblems(
    { ...common, ...gatewayCfg },
    { verifiesTokens: target !== 'worker' },
  );
  if (secretProblems.length) throw new ConfigError(secretProblems);
  const sealer = sealerFrom(common);

  closeWithGrace({ delay: 30_000, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err: { message: err.message } }, 'shutting down after an error');
    else log.info({ signal }, 'shutting down: finishing in-flight work');
    for (const r of running.reverse())
      await r.close().catch((e: Error) => log.error({ name: r.name, reason: e.message }, 'close failed'));
  });

  // One registry per process, on an internal port that nginx never exposes.
  const metrics = new WardMetrics({ app: target === 'all' ? 'ward' : target });
  const metricsPort = Number(env.METRICS_PORT ?? (target === 'worker' ? 9102 : 9101));
  if (metricsPort > 0) {
    // Metrics are not worth refusing clinical work over: a taken port is logged, not fatal.
    await serveMetrics(metrics, metricsPort, env.METRICS_HOST ?? '0.0.0.0').then(
      (server) => {
        running.push({ name: 'metrics', close: () => new Promise((r) => server.close(() => r())) });
        log.info({ port: metricsPort }, 'metrics served at /metrics');
      },
      (err: Error) =>
        log.error({ port: metricsPort, reason: err.message }, 'metrics port unavailable; set METRICS_PORT'),
    );
  }

  if (workerCfg) {
    const workers = await startWorkers(workerCfg, sealer, log, metrics);
    for (const w of workers) running.push({ name: `worker ${w.id}`, close: () => w.close() });
  }
  if (gatewayCfg) {
    // The all-in-one process keeps reference data in embedded PGlite when DATABASE_URL is unset.
    const db = target === 'all' || env.DATABASE_URL ? await openWardDatabase(env, log) : undefined;
    if (db) running.push({ name: 'database', close: () => db.close() });
    else log.warn('DATABASE_URL is not set: tasks that need reference data (icd10-coding) are unavailable');
    const tasks = await clinicalSetup(db, env, log);
    const app = await createServer({
      config: gatewayCfg,
      sealer,
      logger: log,
      tasks,
      metrics,
      ...(db && { db }),
    });
    running.push({ name: 'gateway', close: () => app.close() });
    await app.listen({ port: gatewayCfg.PORT, host: gatewayCfg.HOST });
  }
  log.info({ target }, 'ward is running');
}
