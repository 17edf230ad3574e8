import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { type AuditConfig, auditHipaaProblems, ConfigError, internalTokenFrom } from '@ward/config';
import { AUDIT_QUEUE_NAME } from '@ward/contracts';
import { type Database, migrate, openDatabase } from '@ward/db';
import type { WardMetrics } from '@ward/metrics';
import { auditBacklogMs, createRedis, redisKeys } from '@ward/queue';
import { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { buildAuditApp } from './app.js';
import { AuditConsumer } from './consumer.js';
import { type AuditSigner, loadAuditSigner, loadPublicKeys } from './keys.js';
import { AuditStore } from './store.js';

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

declare module 'fastify' {
  interface FastifyInstance {
    /** The audit chain writer. */
    auditStore: AuditStore;
    /** The queue consumer, when this process consumes (AUDIT_CONSUME). */
    auditConsumer: AuditConsumer | undefined;
  }
}

/** Options of {@link createAuditServer} beyond the env config. */
export interface AuditServerOptions {
  config: AuditConfig;
  /** A pino logger; defaults to JSON on stdout at LOG_LEVEL. */
  logger?: FastifyBaseLogger;
  /** Use this database (the caller closes it) instead of opening DATABASE_URL / embedded PGlite. */
  db?: Database;
  /** Use this signer instead of loading AUDIT_SIGNING_KEY(_FILE). */
  signer?: AuditSigner;
  /** Keys checkpoints must verify with (default: AUDIT_PUBLIC_KEYS, else the signer's). */
  publicKeys?: KeyObject[];
  /** Run the retention purge on a timer (default: AUDIT_PURGE_INTERVAL_HOURS > 0). */
  purgeTimer?: boolean;
  /** Where to record events written and audit lag. */
  metrics?: WardMetrics;
}

/**
 * Creates the audit service: validates config, loads the signing key (HIPAA mode requires one;
 * otherwise a development key is generated), opens and migrates the database, starts the queue
 * consumer and the retention timer, and registers the audit API. It does not listen; closing the
 * instance stops the consumer (after a final checkpoint) and closes what it opened.
 */
export async function createAuditServer(opts: AuditServerOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const problems = auditHipaaProblems(config);
  if (problems.length) throw new ConfigError(problems);
  const internalToken = internalTokenFrom(config);
  if (!internalToken)
    throw new ConfigError([
      'WARD_INTERNAL_TOKEN or JWT_SECRET must be set (the audit API trusts only the gateway)',
    ]);

  const app = Fastify({
    ...(opts.logger
      ? { loggerInstance: opts.logger }
      : {
          logger: {
            level: config.LOG_LEVEL,
            redact: { paths: ['req.headers["x-ward-internal"]'], censor: '[redacted]' },
          },
        }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false },
    },
  });
  // Closed in this order: the consumer (final checkpoint), timers, then the database.
  const closers: Array<() => Promise<unknown>> = [];
  app.addHook('onClose', async () => {
    for (const close of closers.splice(0))
      await close().catch((err: Error) => app.log.error({ reason: err.message }, 'close failed'));
  });
  try {
    let signer = opts.signer;
    if (!signer) {
      const loaded = loadAuditSigner(config);
      signer = loaded.signer;
      if (loaded.source === 'generated' || loaded.source === 'development file')
        app.log.warn(
          { file: loaded.file, keyId: signer.keyId },
          'audit checkpoints are signed with a development key; set AUDIT_SIGNING_KEY_FILE (and HIPAA_MODE=true) in production',
        );
    }
    const publicKeys =
      opts.publicKeys ??
      (config.AUDIT_PUBLIC_KEYS?.length ? loadPublicKeys(config.AUDIT_PUBLIC_KEYS) : [signer.publicKey]);

    let db = opts.db;
    if (!db) {
      db = await openDatabase({
        url: config.DATABASE_URL,
        dataDir: `${config.WARD_DATA_DIR}/pglite`,
        logger: app.log,
      });
      const opened = db;
      closers.push(() => opened.close());
      const applied = await migrate(db, { logger: app.log });
      if (applied.length) app.log.info({ applied }, 'database migrations applied');
    }
    const store = new AuditStore(db, {
      signer,
      checkpointEvery: config.AUDIT_CHECKPOINT_ROWS,
      logger: app.log,
    });
    app.decorate('auditStore', store);

    let consumer: AuditConsumer | undefined;
    if (config.AUDIT_CONSUME) {
      consumer = new AuditConsumer({
        redisUrl: config.REDIS_URL,
        prefix: redisKeys(config.REDIS_PREFIX).bull,
        store,
        logger: app.log,
        batchSize: config.AUDIT_BATCH_SIZE,
        lingerMs: config.AUDIT_BATCH_LINGER_MS,
        checkpointSeconds: config.AUDIT_CHECKPOINT_SECONDS,
        lockDurationMs: config.AUDIT_LOCK_DURATION_MS,
        ...(opts.metrics && {
          onWritten: (ids: string[]) => opts.metrics!.auditEventsWritten.inc(ids.length),
        }),
      });
      const c = consumer;
      closers.unshift(() => c.close());
      await consumer.start();
    }
    app.decorate('auditConsumer', consumer);

    if (opts.metrics) {
      // The lag is read from the queue at each scrape, so a stalled consumer shows as a growing lag.
      const connection = createRedis(config.REDIS_URL, 'producer');
      const queue = new Queue(AUDIT_QUEUE_NAME, { connection, prefix: redisKeys(config.REDIS_PREFIX).bull });
      queue.on('error', () => {});
      opts.metrics.reportAuditBacklog(() => auditBacklogMs(queue));
      closers.push(async () => {
        await queue.close();
        await connection.quit();
      });
    }

    if ((opts.purgeTimer ?? true) && config.AUDIT_PURGE_INTERVAL_HOURS > 0) {
      const timer = setInterval(() => {
        store
          .purge({ retentionDays: config.AUDIT_RETENTION_DAYS })
          .catch((err: Error) => app.log.error({ reason: err.message }, 'audit retention purge failed'));
      }, config.AUDIT_PURGE_INTERVAL_HOURS * 3_600_000);
      timer.unref();
      closers.unshift(async () => clearInterval(timer));
    }

    await app.register(buildAuditApp, {
      store,
      internalToken,
      publicKeys,
      ...(opts.metrics && { metrics: opts.metrics }),
    });
    return app;
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
}
