import createError from '@fastify/error';

/** Errors the audit service answers with (stable codes for clients and docs). */
export const AuditErrors = {
  /** The request did not come through the gateway (no or wrong `x-ward-internal`). */
  Internal: createError('WARD_UNAUTHORIZED', 'the audit API is internal: call it through the gateway', 401),
  Forbidden: createError<[string]>('WARD_FORBIDDEN', 'role %s may not use the audit API', 403),
  Validation: createError<[string]>('WARD_VALIDATION', '%s', 400),
  /** The audit trail could not record this access to it (fail closed). */
  Unavailable: createError(
    'WARD_AUDIT_UNAVAILABLE',
    'the audit trail cannot record this request right now; retry later',
    503,
  ),
};
