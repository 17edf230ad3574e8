import createError from '@fastify/error';

/** Errors of Ward's identity layer (accounts, logins, API keys), with stable codes. */
export const IdentityErrors = {
  UserExists: createError<[string]>('WARD_USER_EXISTS', "username '%s' is taken", 409),
  UserNotFound: createError<[string]>('WARD_USER_NOT_FOUND', "no user '%s'", 404),
  LastAdmin: createError<[string]>('WARD_LAST_ADMIN', 'cannot %s the last active admin', 409),
  KeyNotFound: createError<[string]>('WARD_KEY_NOT_FOUND', "no API key '%s'", 404),
  LoginLocked: createError(
    'WARD_LOGIN_LOCKED',
    'too many failed logins for this username; try again later',
    429,
  ),
  LoginUnavailable: createError<[string]>('WARD_LOGIN_UNAVAILABLE', '%s', 503),
  AuthUnavailable: createError(
    'WARD_AUTH_UNAVAILABLE',
    'credentials cannot be checked right now; retry later',
    503,
  ),
};
