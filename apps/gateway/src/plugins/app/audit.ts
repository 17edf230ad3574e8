import { hostname } from 'node:os';
import createError from '@fastify/error';
import type { AuditEvent, AuditEventInput, AuditSource } from '@ward/contracts';
import { AuditEmitter, completeAuditEvent, type RedisKeys } from '@ward/queue';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Answered when HIPAA mode is on and the request's audit event cannot be enqueued. */
export const AuditUnavailable = createError(
  'WARD_AUDIT_UNAVAILABLE',
  'the audit trail cannot record this request right now; retry later',
  503,
);

/** The gateway's audit trail: events go to the durable `audit` queue. */
export interface GatewayAudit {
  /**
   * Completes `event` from the request (id, time, actor, client IP, user agent, request id) and
   * enqueues it; resolves once Redis has it. When it cannot be enqueued: with `failClosed` it
   * throws `WARD_AUDIT_UNAVAILABLE` (503) so the request is refused, otherwise it logs (no
   * content) and counts the failure.
   */
  emit(event: AuditEventInput, request?: FastifyRequest): Promise<void>;
  /** Events that could not be enqueued since start. */
  readonly failures: number;
  readonly emitter: AuditEmitter;
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: GatewayAudit;
  }
}

/** Options of the `audit` plugin. */
export interface AuditPluginOptions {
  keys: RedisKeys;
  /** Refuse requests whose audit event cannot be enqueued (HIPAA_MODE). */
  failClosed: boolean;
  /** How long to wait for Redis per event, in ms (default 2000). */
  timeoutMs?: number;
  /** Queue name (default `audit`); tests use their own. */
  queueName?: string;
  /** Outside HIPAA mode, how long events gather before they are sent, in ms (default 20, as the workers). */
  lingerMs?: number;
}

const HOST = hostname().slice(0, 255);

function sourceOf(request: FastifyRequest | undefined): AuditSource {
  const ua = request?.headers['user-agent'];
  return {
    service: 'gateway',
    host: HOST,
    ...(request?.ip && { ip: request.ip.slice(0, 64) }),
    ...(typeof ua === 'string' && ua && { userAgent: ua.slice(0, 512) }),
  };
}

/**
 * Audit events from the gateway (`app.audit.emit`), and `access.denied` for every 401 and 403
 * answered on a role-checked route. Register it right after `auth` so its hooks cover every route.
 */
export default fp(
  async (app: FastifyInstance, opts: AuditPluginOptions) => {
    const emitter = new AuditEmitter({
      connection: app.redis,
      prefix: opts.keys.bull,
      ...(opts.queueName && { queueName: opts.queueName }),
      ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }),
    });
    let failures = 0;
    const denialCodes = new WeakMap<FastifyRequest, string>();

    const send = async (input: AuditEventInput, request: FastifyRequest | undefined, failClosed: boolean) => {
      const actor = input.actor ?? request?.actor;
      const event = completeAuditEvent(
        {
          ...input,
          ...(actor && {
            actor: {
              sub: actor.sub,
              ...(actor.role && { role: actor.role }),
              ...(actor.method && { method: actor.method }),
            },
          }),
          ...(request && !input.requestId && { requestId: request.id }),
          source: input.source ?? sourceOf(request),
        },
        'gateway',
      );
      const onFailure = (err: unknown) => {
        failures++;
        (request?.log ?? app.log).warn(
          { action: event.action, auditEventId: event.id, reason: (err as Error).message, failures },
          'audit event not enqueued',
        );
      };
      const queued = enqueue(event);
      if (!failClosed) {
        // Outside HIPAA mode the request does not wait for the audit queue.
        queued.catch(onFailure);
        return;
      }
      try {
        await queued;
      } catch (err) {
        onFailure(err);
        throw new AuditUnavailable();
      }
    };

    // Events go to Redis together, as one job. In HIPAA mode the request waits for its event, so
    // the batch is what one turn of the event loop emitted (no added latency); otherwise nothing
    // waits and the batch gathers for a few milliseconds, as the workers' do.
    let batch: Array<{ event: AuditEvent; resolve: () => void; reject: (err: unknown) => void }> = [];
    let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
    const inFlight = new Set<Promise<void>>();
    const flush = () => {
      timer = undefined;
      const sending = batch;
      batch = [];
      if (sending.length === 0) return;
      const sent = emitter.emitMany(sending.map((b) => b.event)).then(
        () => {
          for (const b of sending) b.resolve();
        },
        (err: unknown) => {
          for (const b of sending) b.reject(err);
        },
      );
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
    };
    const enqueue = (event: AuditEvent) =>
      new Promise<void>((resolve, reject) => {
        if (batch.length === 0)
          timer = opts.failClosed ? setImmediate(flush) : setTimeout(flush, opts.lingerMs ?? 20);
        batch.push({ event, resolve, reject });
      });

    const audit: GatewayAudit = {
      emit: (event, request) => send(event, request, opts.failClosed),
      get failures() {
        return failures;
      },
      emitter,
    };
    app.decorate('audit', audit);

    app.addHook('onError', async (request, _reply, error) => {
      if (error.statusCode === 401 || error.statusCode === 403)
        denialCodes.set(request, error.code ?? String(error.statusCode));
    });
    app.addHook('onResponse', async (request, reply) => {
      const status = reply.statusCode;
      // Public routes (a failed login) record their own outcome; this covers role-checked routes.
      if ((status !== 401 && status !== 403) || request.routeOptions.config?.public) return;
      const route = request.routeOptions.url ?? '(no route)';
      // The answer is already sent: a failure here is logged and counted, never thrown.
      await send(
        {
          action: 'access.denied',
          outcome: 'denied',
          reason: denialCodes.get(request) ?? (status === 401 ? 'WARD_UNAUTHORIZED' : 'WARD_FORBIDDEN'),
          resource: { type: 'route', id: `${request.method} ${route}`.slice(0, 400) },
          http: { method: request.method, route: route.slice(0, 400), status },
        },
        request,
        false,
      );
    });
    app.addHook('onClose', async () => {
      if (timer) {
        clearTimeout(timer as NodeJS.Timeout);
        clearImmediate(timer as NodeJS.Immediate);
      }
      flush();
      await Promise.all(inFlight);
      await emitter.close();
    });
  },
  { name: 'audit', dependencies: ['redis'] },
);
