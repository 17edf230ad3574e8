import { createHash, type KeyObject, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type AuditActor,
  type AuditEventInput,
  type AuditSource,
  isRole,
  type Role,
  routeNotFoundBody,
  validationProblem,
  wardErrorBody,
} from '@ward/contracts';
import type { WardMetrics } from '@ward/metrics';
import { completeAuditEvent } from '@ward/queue';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuditErrors } from './errors.js';
import auditRoutes from './routes/audit.js';
import type { AuditStore } from './store.js';

/** Header the gateway sets to prove a request came through it. */
export const INTERNAL_HEADER = 'x-ward-internal';
/** Header the gateway sets to the authenticated actor, JSON: `{sub, role, method, ip?, requestId?}`. */
export const ACTOR_HEADER = 'x-ward-actor';
/** Roles that may use the audit API. */
export const AUDIT_ROLES: readonly Role[] = ['admin', 'auditor'];

/** The actor the gateway vouched for, with the client's address as the gateway saw it. */
export interface ForwardedActor extends AuditActor {
  role: Role;
  ip?: string;
  requestId?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Route served to the gateway only (needs `x-ward-internal` and an audit role in `x-ward-actor`). */
    internal?: boolean;
  }
  interface FastifyRequest {
    auditActor: ForwardedActor;
  }
}

/** What the audit API needs. */
export interface AuditAppOptions {
  store: AuditStore;
  /** The shared secret the gateway sends in `x-ward-internal`. */
  internalToken: string;
  /** Keys checkpoint signatures must verify with. */
  publicKeys: KeyObject[];
  /** Where request durations and error codes are counted. */
  metrics?: WardMetrics;
}

const HOST = hostname().slice(0, 255);
const digest = (s: string) => createHash('sha256').update(s).digest();

function parseActor(raw: string | string[] | undefined): ForwardedActor | undefined {
  if (typeof raw !== 'string' || raw.length > 2000) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.sub !== 'string' || !o.sub || o.sub.length > 200 || !isRole(o.role)) return undefined;
  const method = ['jwt', 'api-key', 'oidc', 'password', 'internal', 'cli'].includes(o.method as string)
    ? (o.method as AuditActor['method'])
    : undefined;
  return {
    sub: o.sub,
    role: o.role,
    ...(method && { method }),
    ...(typeof o.ip === 'string' && o.ip && o.ip.length <= 64 && { ip: o.ip }),
    ...(typeof o.requestId === 'string' &&
      /^[A-Za-z0-9._-]{1,128}$/.test(o.requestId) && { requestId: o.requestId }),
  };
}

/**
 * The audit API as a plugin: `GET /api/audit/events` (query, cursor pages), `/api/audit/export`
 * (NDJSON, CSV, FHIR AuditEvent Bundle) and `/api/audit/verify`, plus health probes. It trusts
 * only requests carrying the gateway's internal token, takes the actor from `x-ward-actor`, and
 * records every read in the audit trail before answering (fail closed: 503 if it cannot).
 */
export async function buildAuditApp(app: FastifyInstance, opts: AuditAppOptions): Promise<void> {
  const expected = digest(opts.internalToken);
  app.decorateRequest('auditActor', undefined as unknown as ForwardedActor);
  const metrics = opts.metrics;
  app.setErrorHandler((err: WardError, request, reply) => errorHandler(err, request, reply, metrics));
  if (metrics) app.addHook('onResponse', async (request, reply) => metrics.observeReply(request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(routeNotFoundBody(request.method, request.url, request.id)),
  );

  app.addHook('onRequest', async (request) => {
    if (!request.routeOptions.config.internal) return;
    const given = request.headers[INTERNAL_HEADER];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected))
      throw new AuditErrors.Internal();
    const actor = parseActor(request.headers[ACTOR_HEADER]);
    if (!actor) throw new AuditErrors.Internal();
    if (!AUDIT_ROLES.includes(actor.role)) throw new AuditErrors.Forbidden(actor.role);
    request.auditActor = actor;
  });

  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    try {
      await opts.store.db.query('SELECT 1');
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  await app.register(auditRoutes, {
    store: opts.store,
    publicKeys: opts.publicKeys,
    record: (request, input) => recordAccess(app, opts.store, request, input),
  });
}

/** Writes an audit-of-the-auditors event straight into the chain; 503 when it cannot. */
async function recordAccess(
  app: FastifyInstance,
  store: AuditStore,
  request: FastifyRequest,
  input: Omit<AuditEventInput, 'actor' | 'source'>,
): Promise<void> {
  const actor = request.auditActor;
  const ua = request.headers['user-agent'];
  const source: AuditSource = {
    service: 'audit',
    host: HOST,
    ...(actor.ip && { ip: actor.ip }),
    ...(typeof ua === 'string' && ua && { userAgent: ua.slice(0, 512) }),
  };
  const event = completeAuditEvent(
    {
      ...input,
      actor: { sub: actor.sub, role: actor.role, ...(actor.method && { method: actor.method }) },
      requestId: actor.requestId ?? request.id,
      source,
    },
    'audit',
  );
  try {
    await store.append([event]);
  } catch (err) {
    app.log.error(
      { action: event.action, reason: (err as Error).message },
      'audit access could not be recorded',
    );
    throw new AuditErrors.Unavailable();
  }
}

type WardError = FastifyError & { field?: string };

function errorHandler(
  err: WardError,
  request: FastifyRequest,
  reply: FastifyReply,
  metrics: WardMetrics | undefined,
) {
  let status = err.statusCode ?? 500;
  let code = err.code ?? 'WARD_INTERNAL';
  let message = err.message;
  let field = err.field;
  if (err.validation) {
    status = 400;
    code = 'WARD_VALIDATION';
    ({ field, message } = validationProblem(err.validation[0], err.validationContext));
  }
  const { body, hidden } = wardErrorBody({ status, code, message, field }, request.id);
  if (status >= 500)
    request.log.error({ err: { code, message: hidden ? err.name : message } }, 'request failed');
  metrics?.errors.inc({ code: body.code });
  return reply.code(status).send(body);
}
