import type { Role } from '@ward/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Audit actions of the identity layer (names from the audit trail's action list). */
export type IdentityAction =
  | 'auth.login.succeeded'
  | 'auth.login.failed'
  | 'auth.logout'
  | 'user.created'
  | 'user.role.changed'
  | 'user.password.changed'
  | 'user.disabled'
  | 'user.enabled'
  | 'apikey.created'
  | 'apikey.revoked';

/**
 * An identity audit event in the shape of the audit trail's event input: who did what to which
 * account or key, and how it ended. Never a password, token, key or hash.
 */
export interface IdentityAuditEvent {
  action: IdentityAction;
  outcome: 'success' | 'failure';
  /** Who acted; at a login, the username tried (which may not exist). */
  actor: { sub: string; role?: Role; method?: 'jwt' | 'api-key' | 'oidc' | 'password' };
  resource?: { type: 'user' | 'api-key'; id: string };
  /** Why a login failed: `bad-credentials`, `unknown-user`, `disabled` or `locked`. */
  reason?: string;
  /** Non-secret facts, such as the old and new role. */
  detail?: Record<string, string>;
}

interface AuditSink {
  emit(event: unknown, request?: FastifyRequest): unknown;
}

/**
 * Hands the event to the audit plugin when the gateway has one (`app.audit.emit(event, request)`,
 * which adds the client's IP and user agent); without it this does nothing. Whether a failed emit
 * refuses the request (HIPAA mode) is the audit plugin's decision: its error propagates.
 */
export async function audit(
  app: FastifyInstance,
  request: FastifyRequest,
  event: IdentityAuditEvent,
): Promise<void> {
  if (!app.hasDecorator('audit')) return;
  const sink = (app as unknown as { audit?: AuditSink }).audit;
  await sink?.emit({ ...event, requestId: request.id }, request);
}
