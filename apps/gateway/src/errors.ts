import createError from '@fastify/error';

/** Every error the gateway answers with, made once so codes stay stable for clients and docs. */
export const Errors = {
  Validation: createError<[string]>('WARD_VALIDATION', '%s', 400),
  Unauthorized: createError<[string]>('WARD_UNAUTHORIZED', '%s', 401),
  Forbidden: createError<[string]>('WARD_FORBIDDEN', 'role %s may not use this route', 403),
  ModelNotFound: createError<[string, string]>(
    'WARD_MODEL_NOT_FOUND',
    "modelName '%s' is not served by any instance (available: %s)",
    404,
  ),
  JobNotFound: createError('WARD_JOB_NOT_FOUND', 'no such job, or it is not yours', 404),
  JobFinished: createError<[string]>('WARD_JOB_FINISHED', 'the job has already %s', 409),
  JobCancelled: createError('WARD_JOB_CANCELLED', 'the job was cancelled', 409),
  PayloadTooLarge: createError<[number]>(
    'WARD_PAYLOAD_TOO_LARGE',
    'the request body is larger than %d bytes',
    413,
  ),
  UnsupportedMedia: createError<[string]>('WARD_UNSUPPORTED_MEDIA_TYPE', '%s', 415),
  QueueFull: createError<[string]>('WARD_QUEUE_FULL', "the queue of model '%s' is full; retry later", 503),
  NoInstance: createError<[string]>('WARD_NO_INSTANCE', '%s', 503),
  LocalModelsDisabled: createError(
    'WARD_LOCAL_MODELS_DISABLED',
    'local models are disabled on this gateway (LOCAL_MODELS_ENABLED=false)',
    503,
  ),
  QueueUnavailable: createError('WARD_QUEUE_UNAVAILABLE', 'the job queue is unreachable; retry later', 503),
  Deadline: createError('WARD_JOB_DEADLINE_EXCEEDED', 'the job did not finish before its deadline', 504),
  Upstream: createError<[string]>('WARD_UPSTREAM_ERROR', '%s', 502),
};

/** A validation error that names the field at fault. */
export function invalid(field: string, problem: string): Error & { field: string } {
  return Object.assign(new Errors.Validation(`${field} ${problem}`), { field });
}

/** Maps a worker's job error code onto the HTTP status a client sees. */
export function statusForJobError(code: string): number {
  switch (code) {
    case 'WARD_JOB_DEADLINE_EXCEEDED':
      return 504;
    case 'WARD_JOB_CANCELLED':
      return 409;
    case 'WARD_MODEL_NOT_FOUND':
      return 404;
    case 'WARD_UPSTREAM_BAD_REQUEST':
      return 422;
    case 'WARD_UPSTREAM_UNAVAILABLE':
    case 'WARD_UPSTREAM_BUSY':
      return 503;
    default:
      return 502;
  }
}
