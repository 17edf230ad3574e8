import { randomUUID } from 'node:crypto';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { type GatewayConfig, hipaaSecretProblems, internalTokenFrom } from '@ward/config';
import { isRole, type Role } from '@ward/contracts';
import type { Database } from '@ward/db';
import { redisKeys, type Sealer } from '@ward/queue';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { buildApp, type GatewayAppOptions } from './app.js';
import { identitySettings } from './identity/settings.js';

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Paths that may carry patient data in logs; pino replaces them. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'password',
  '*.password',
  'req.body',
  'body',
  'prompt',
  'imageData',
  'response',
  '*.prompt',
  '*.imageData',
  '*.response',
  '*.system',
];

/** What a log line says of a request: never its body, headers or query string. */
function requestFields(request: FastifyRequest) {
  const q = request.url.indexOf('?');
  return {
    method: request.method,
    url: q === -1 ? request.url : request.url.slice(0, q),
    route: request.routeOptions.url,
  };
}

/**
 * The gateway's request log: one line per request when it completes (method, path without its
 * query string, route pattern, status, `response_time` in ms), since Fastify's own lines carry
 * the raw URL and a client can put anything in a query string.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      ...requestFields(request),
      statusCode: reply.statusCode,
      response_time: Math.round(reply.elapsedTime * 1000) / 1000,
    };
    if (error)
      reply.log.error(
        { ...line, err: { name: error.name, code: (error as { code?: unknown }).code } },
        'request errored',
      );
    else reply.log.info(line, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.info(requestFields(request), 'route not found');
  }

  override writeHeadError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    reply.log.warn(
      { ...requestFields(request), err: { name: error.name } },
      'could not write the response head',
    );
  }
}

/** Options of {@link createServer} beyond the env config. */
export interface ServerOptions {
  config: GatewayConfig;
  sealer: Sealer;
  /** A pino logger to use; defaults to JSON on stdout at LOG_LEVEL with patient data redacted. */
  logger?: FastifyBaseLogger;
  /** The process's metrics registry (shared with workers in `ward start`). */
  metrics?: GatewayAppOptions['metrics'];
  /** Clinical tasks to serve (see `@ward/clinical`). */
  tasks?: GatewayAppOptions['tasks'];
  /** Ward's database: enables logins, user and API key administration, and API keys. */
  db?: Database | undefined;
}

/**
 * Creates the gateway's Fastify instance with its logger, limits and request ids, and the app
 * registered. It does not listen: `ward start` (or a test) decides that.
 */
export async function createServer({
  config,
  sealer,
  logger,
  tasks,
  db,
  metrics,
}: ServerOptions): Promise<FastifyInstance> {
  const problems = hipaaSecretProblems(config, { verifiesTokens: true });
  if (problems.length) throw new Error(problems.join('; '));
  if (!config.JWT_SECRET && !config.JWT_PUBLIC_KEY)
    throw new Error('JWT_SECRET or JWT_PUBLIC_KEY must be set');
  const algorithm = config.JWT_ALGORITHM ?? (config.JWT_PUBLIC_KEY ? 'RS256' : 'HS256');
  const key = algorithm === 'HS256' ? config.JWT_SECRET : config.JWT_PUBLIC_KEY;
  if (!key)
    throw new Error(
      `JWT_ALGORITHM=${algorithm} needs ${algorithm === 'HS256' ? 'JWT_SECRET' : 'JWT_PUBLIC_KEY'}`,
    );
  const identity = identitySettings(config, algorithm);

  const app = Fastify({
    ...(logger
      ? { loggerInstance: logger }
      : { logger: { level: config.LOG_LEVEL, redact: { paths: LOG_REDACT, censor: '[redacted]' } } }),
    bodyLimit: config.BODY_LIMIT,
    trustProxy: config.TRUST_PROXY,
    logController: new RequestLog(),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    // Shutting down, a request already on an open connection is served, not refused: nginx never
    // resends a POST, so a 503 here would lose it (see the preClose hook below).
    return503OnClosing: false,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false },
    },
  });
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // JSON only: a text/plain body gets 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  // Graceful shutdown behind nginx: Fastify stops accepting connections and closes the idle ones
  // (nginx retries those requests elsewhere, POSTs included, since none reached us). Requests
  // already on a connection are answered with `Connection: close`, and connections that go idle
  // later are closed as they do, so shutdown waits for in-flight work and nothing more.
  let closing = false;
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('preClose', async () => {
    closing = true;
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    sweep.unref();
    app.server.once('close', () => clearInterval(sweep));
  });
  await buildApp(app, {
    redisUrl: config.REDIS_URL,
    keys: redisKeys(config.REDIS_PREFIX),
    sealer,
    auth: {
      algorithm,
      key,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      redisPrefix: config.REDIS_PREFIX,
      oidc: identity.oidc,
    },
    localModelsEnabled: config.LOCAL_MODELS_ENABLED,
    hipaaMode: config.HIPAA_MODE,
    maxQueue: config.OLLAMA_MAX_QUEUE,
    jobTimeoutSeconds: config.JOB_TIMEOUT_SECONDS,
    retentionSeconds: config.JOB_RETENTION_SECONDS,
    docs: config.DOCS_ENABLED,
    tasks,
    db,
    metrics,
    auditProxy: auditProxyFrom(config),
    rateLimits: config.RATE_LIMIT_ENABLED
      ? rateLimitsFrom(
          config.RATE_LIMIT_PER_MINUTE,
          config.REDIS_PREFIX,
          config.RATE_LIMIT_PER_ROLE_PER_MINUTE,
        )
      : undefined,
    identity: identity.options,
  });
  return app;
}

/**
 * Reads `role=n` pairs: per-user limits (unnamed roles keep their defaults) and the optional
 * limits shared by all users of a role (unnamed roles have none).
 */
export function rateLimitsFrom(pairs: string[], redisPrefix: string, perRolePairs: string[] = []) {
  const perMinute = { admin: 600, provider: 600, staff: 300, auditor: 300 };
  let anonymousPerMinute = 60;
  for (const [role, value] of rolePairs('RATE_LIMIT_PER_MINUTE', pairs, true)) {
    if (role === 'anonymous') anonymousPerMinute = value;
    else perMinute[role] = value;
  }
  const perRolePerMinute: Partial<Record<Role, number>> = {};
  for (const [role, value] of rolePairs('RATE_LIMIT_PER_ROLE_PER_MINUTE', perRolePairs, false))
    if (role !== 'anonymous') perRolePerMinute[role] = value;
  return { perMinute, anonymousPerMinute, perRolePerMinute, redisPrefix };
}

function rolePairs(
  variable: string,
  pairs: string[],
  anonymous: boolean,
): Array<[Role | 'anonymous', number]> {
  return pairs.map((pair) => {
    const [role, n] = pair.split('=');
    const value = Number(n);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`${variable} entry "${pair}" needs a whole number`);
    if ((role === 'anonymous' && anonymous) || isRole(role)) return [role, value];
    throw new Error(`${variable} names an unknown role "${role}"`);
  });
}

/** The audit API the gateway proxies to, and the token it proves itself with. */
function auditProxyFrom(config: GatewayConfig): { upstream: string; internalToken: string } | undefined {
  const internalToken = internalTokenFrom(config);
  return internalToken ? { upstream: config.AUDIT_URL, internalToken } : undefined;
}
