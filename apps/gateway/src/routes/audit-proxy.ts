import createError from '@fastify/error';
import httpProxy from '@fastify/http-proxy';
import type { FastifyPluginAsync } from 'fastify';

/** Answered when the audit service cannot be reached. */
export const AuditServiceUnavailable = createError(
  'WARD_AUDIT_SERVICE_UNAVAILABLE',
  'the audit service is unreachable; retry later',
  503,
);

/** Options of the `/api/audit/*` proxy. */
export interface AuditProxyOptions {
  /** The internal audit service (AUDIT_URL), e.g. http://127.0.0.1:3002. */
  upstream: string;
  /** Sent as `x-ward-internal`; the audit service refuses requests without it (`internalTokenFrom`). */
  internalToken: string;
  /** Longest wait for the audit service, in ms (default 120 000: verifying a large trail takes a while). */
  timeoutMs?: number;
}

/**
 * `GET /api/audit/*` for admins and auditors, proxied to apps/audit. The gateway authenticates
 * and checks the role (the auth plugin); the audit service trusts the actor the gateway puts in
 * `x-ward-actor` because only the gateway knows the internal token. Client credentials and any
 * client-supplied internal headers are not forwarded.
 */
const auditProxy: FastifyPluginAsync<AuditProxyOptions> = async (app, opts) => {
  const timeout = opts.timeoutMs ?? 120_000;
  await app.register(httpProxy, {
    upstream: opts.upstream,
    prefix: '/api/audit',
    rewritePrefix: '/api/audit',
    httpMethods: ['GET'],
    config: { roles: ['admin', 'auditor'] as const },
    undici: { headersTimeout: timeout, bodyTimeout: timeout },
    replyOptions: {
      timeout,
      rewriteRequestHeaders: (request, headers) => {
        const {
          authorization: _authorization,
          cookie: _cookie,
          'x-ward-internal': _internal,
          'x-ward-actor': _actor,
          ...rest
        } = headers as Record<string, string | string[] | undefined>;
        const actor = request.actor;
        return {
          ...rest,
          'x-request-id': request.id,
          'x-ward-internal': opts.internalToken,
          'x-ward-actor': JSON.stringify({
            sub: actor.sub,
            role: actor.role,
            method: actor.method,
            ip: request.ip,
            requestId: request.id,
          }),
        };
      },
      onError: (reply, { error }) => {
        reply.request.log.warn({ reason: error.message }, 'audit service request failed');
        reply.send(new AuditServiceUnavailable());
      },
    },
  });
};

export default auditProxy;
