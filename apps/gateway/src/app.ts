import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { routeNotFoundBody, validationProblem, wardErrorBody } from '@ward/contracts';
import type { Database } from '@ward/db';
import { QUEUE_STATES, WardMetrics } from '@ward/metrics';
import type { RedisKeys, Sealer } from '@ward/queue';
import type { FastifyError, FastifyInstance } from 'fastify';
import audit from './plugins/app/audit.js';
import auth, { type AuthOptions } from './plugins/app/auth.js';
import identity, { type IdentityOptions } from './plugins/app/identity.js';
import instances from './plugins/app/instances.js';
import jobs from './plugins/app/jobs.js';
import rateLimits, { type RateLimitOptions } from './plugins/app/rate-limit.js';
import redis from './plugins/external/redis.js';
import adminKeyRoutes from './routes/admin-keys.js';
import adminUserRoutes from './routes/admin-users.js';
import auditProxy from './routes/audit-proxy.js';
import authRoutes from './routes/auth.js';
import jobRoutes from './routes/jobs.js';
import processRoutes from './routes/process.js';
import statusRoutes from './routes/status.js';
import taskRoutes, { type TaskRoutesOptions } from './routes/tasks.js';

/** Everything the gateway app needs, resolved from config by the caller. */
export interface GatewayAppOptions {
  redisUrl: string;
  keys: RedisKeys;
  sealer: Sealer;
  auth: AuthOptions;
  localModelsEnabled: boolean;
  hipaaMode: boolean;
  maxQueue: number;
  jobTimeoutSeconds: number;
  retentionSeconds: number;
  docs: boolean;
  /** Where the audit API lives and the token it trusts; without it `/api/audit/*` is not served. */
  auditProxy?: { upstream: string; internalToken: string } | undefined;
  /** Per-user limits; none when absent. */
  rateLimits?: RateLimitOptions | undefined;
  /** Where the gateway records its metrics (a private registry when absent). */
  metrics?: WardMetrics | undefined;
  /** Clinical tasks to serve at `/api/tasks/<task>` (none when absent). */
  tasks?: Omit<TaskRoutesOptions, 'jobTimeoutSeconds'> | undefined;
  /**
   * Ward's database. With it the gateway serves logins, `/api/auth/*`, `/api/admin/users` and
   * `/api/admin/keys` and accepts API keys; without it only externally minted tokens work.
   */
  db?: Database | undefined;
  /** Settings of the identity layer (used when `db` is given). */
  identity?: Omit<IdentityOptions, 'db'> | undefined;
}

/** Ward's gateway as a plugin: external connections, then domain services, then routes. It never listens. */
export async function buildApp(app: FastifyInstance, opts: GatewayAppOptions): Promise<void> {
  const metrics = opts.metrics ?? new WardMetrics({ defaults: false });
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (request, reply) => metrics.observeReply(request, reply));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(routeNotFoundBody(request.method, request.url, request.id)),
  );
  if (opts.docs) {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Ward',
          description: 'Self-hosted AI gateway for clinical work on local models',
          version: '0.1.0',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        security: [{ bearer: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }
  await app.register(redis, { url: opts.redisUrl });
  if (opts.db && opts.identity) await app.register(identity, { ...opts.identity, db: opts.db });
  await app.register(auth, opts.auth);
  // Right after auth, so its hooks see every route (access.denied, fail-closed in HIPAA mode).
  await app.register(audit, { keys: opts.keys, failClosed: opts.hipaaMode });
  if (opts.rateLimits) await app.register(rateLimits, opts.rateLimits);
  await app.register(instances, { keys: opts.keys });
  await app.register(jobs, {
    keys: opts.keys,
    sealer: opts.sealer,
    maxQueue: opts.maxQueue,
    retentionSeconds: opts.retentionSeconds,
  });
  metrics.reportQueues(async () =>
    Promise.all(
      // Served models, and any this gateway queued to: jobs of a model whose last worker left still count.
      [...new Set([...(await app.instances.models()), ...app.jobs.queuedModels()])].map(async (model) => ({
        model,
        counts: await app.jobs.queue(model).getJobCounts(...QUEUE_STATES),
      })),
    ),
  );
  await app.register(processRoutes, {
    localModelsEnabled: opts.localModelsEnabled,
    jobTimeoutSeconds: opts.jobTimeoutSeconds,
  });
  await app.register(jobRoutes);
  await app.register(statusRoutes, {
    localModelsEnabled: opts.localModelsEnabled,
    hipaaMode: opts.hipaaMode,
  });
  if (opts.tasks)
    await app.register(taskRoutes, { ...opts.tasks, jobTimeoutSeconds: opts.jobTimeoutSeconds });
  if (opts.db && opts.identity) {
    await app.register(authRoutes);
    await app.register(adminUserRoutes);
    await app.register(adminKeyRoutes);
  }
  if (opts.auditProxy) await app.register(auditProxy, opts.auditProxy);
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: WardMetrics;
  }
}

type WardError = FastifyError & { field?: string; retryAfter?: number };

const FASTIFY_CODES: Record<string, { status: number; code: string; field?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'WARD_PAYLOAD_TOO_LARGE', field: 'body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'WARD_UNSUPPORTED_MEDIA_TYPE', field: 'content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'WARD_VALIDATION', field: 'content-length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'WARD_VALIDATION', field: 'body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'WARD_VALIDATION', field: 'body' },
};

/** Maps every error to Ward's JSON error body; 5xx internals are logged, never shown. */
function errorHandler(
  this: FastifyInstance,
  err: WardError,
  request: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[1],
  reply: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[2],
) {
  let status = err.statusCode ?? 500;
  let code = err.code ?? 'WARD_INTERNAL';
  let message = err.message;
  let field = err.field;

  if (err.validation) {
    status = 400;
    code = 'WARD_VALIDATION';
    ({ field, message } = validationProblem(err.validation[0], err.validationContext));
  } else if (FASTIFY_CODES[code]) {
    const m = FASTIFY_CODES[code]!;
    status = m.status;
    code = m.code;
    field ??= m.field;
    if (code === 'WARD_VALIDATION') message = 'the body is not valid JSON';
  } else if (err instanceof SyntaxError && status === 400) {
    code = 'WARD_VALIDATION';
    field = 'body';
    message = 'the body is not valid JSON';
  }

  const { body, hidden } = wardErrorBody({ status, code, message, field }, request.id);
  if (status >= 500)
    request.log.error({ err: { code, message: hidden ? err.name : message } }, 'request failed');
  this.metrics.errors.inc({ code: body.code });
  if (err.retryAfter) reply.header('retry-after', String(err.retryAfter));
  return reply.code(status).send(body);
}
