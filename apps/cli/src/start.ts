import { createAuditServer } from '@ward/audit';
import {
  type AuditConfig,
  auditEnv,
  ConfigError,
  type GatewayConfig,
  gatewayEnv,
  hipaaSecretProblems,
  keyringFrom,
  loadEnv,
  type WorkerConfig,
  workerEnv,
} from '@ward/config';
import { requireDatabaseUrl } from '@ward/db';
import { createServer } from '@ward/gateway';
import { serveMetrics, WardMetrics } from '@ward/metrics';
import { createRedis, Sealer, waitForRedis } from '@ward/queue';
import { InstanceWorker } from '@ward/worker';
import closeWithGrace from 'close-with-grace';
import pino, { type Logger } from 'pino';
import { applyDevSecrets } from './secrets.js';
import { clinicalSetup, openWardDatabase } from './services.js';

export type Target = 'all' | 'gateway' | 'worker' | 'audit';

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
  let auditCfg: AuditConfig | undefined;
  if (target === 'all' || target === 'gateway') gatewayCfg = load(() => loadEnv(gatewayEnv, env));
  if (target === 'all' || target === 'worker') workerCfg = load(() => loadEnv(workerEnv, env));
  if (target === 'all' || target === 'audit') auditCfg = load(() => loadEnv(auditEnv, env));
  if (problems.length) throw new ConfigError(problems);
  // Several processes must share one PostgreSQL; embedded PGlite serves the all-in-one process only.
  if (target === 'gateway' || target === 'audit') requireDatabaseUrl(target, env);
  const common = (gatewayCfg ?? workerCfg ?? auditCfg)!;
  const secretProblems = hipaaSecretProblems(
    { ...common, ...gatewayCfg },
    { verifiesTokens: target !== 'worker' },
  );
  if (secretProblems.length) throw new ConfigError(secretProblems);
  const sealer = target === 'audit' ? undefined : sealerFrom(common);

  closeWithGrace({ delay: 30_000, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err: { message: err.message } }, 'shutting down after an error');
    else log.info({ signal }, 'shutting down: finishing in-flight work');
    for (const r of running.reverse())
      await r.close().catch((e: Error) => log.error({ name: r.name, reason: e.message }, 'close failed'));
  });

  // One registry per process, on an internal port that nginx never exposes.
  const metrics = new WardMetrics({ app: target === 'all' ? 'ward' : target });
  const metricsPort = common.METRICS_PORT ?? (target === 'worker' ? 9102 : target === 'audit' ? 9103 : 9101);
  if (metricsPort > 0) {
    // Metrics are not worth refusing clinical work over: a taken port is logged, not fatal.
    await serveMetrics(metrics, metricsPort, common.METRICS_HOST).then(
      (server) => {
        running.push({ name: 'metrics', close: () => new Promise((r) => server.close(() => r())) });
        log.info({ port: metricsPort }, 'metrics served at /metrics');
      },
      (err: Error) =>
        log.error({ port: metricsPort, reason: err.message }, 'metrics port unavailable; set METRICS_PORT'),
    );
  }

  // Fail fast, naming the URL, before anything else starts.
  const probe = createRedis(common.REDIS_URL, 'producer');
  probe.on('error', () => {});
  try {
    await waitForRedis(probe, common.REDIS_URL);
  } finally {
    probe.disconnect();
  }

  const db = target === 'worker' ? undefined : await openWardDatabase(env, log);
  if (db) running.push({ name: 'database', close: () => db.close() });

  if (auditCfg) {
    // Audit consumer and API; in the all-in-one process on the same database as the gateway.
    const auditApp = await createAuditServer({ config: auditCfg, ...(db && { db }), logger: log, metrics });
    running.push({ name: 'audit', close: () => auditApp.close() });
    await auditApp.listen({ port: auditCfg.AUDIT_PORT, host: auditCfg.AUDIT_HOST });
    const { port } = auditApp.server.address() as { port: number };
    if (gatewayCfg) gatewayCfg = { ...gatewayCfg, AUDIT_URL: `http://127.0.0.1:${port}` };
  }

  if (workerCfg) {
    const workers = await startWorkers(workerCfg, sealer!, log, metrics);
    for (const w of workers) running.push({ name: `worker ${w.id}`, close: () => w.close() });
  }
  if (gatewayCfg) {
    const tasks = await clinicalSetup(db, env, log);
    const app = await createServer({
      config: gatewayCfg,
      sealer: sealer!,
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
