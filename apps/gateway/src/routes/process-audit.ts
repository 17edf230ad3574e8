import type { ProcessPayload } from '@ward/contracts';
import { auditDigest } from '@ward/queue';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** What a processing audit event is about. Never content: only ids, the model, and digests. */
export interface ProcessAuditSubject {
  jobId: string;
  model: string;
  task?: string | undefined;
}

/**
 * Records `process.requested` before a job is queued. With HIPAA_MODE the audit plugin throws
 * (503) when the event cannot be enqueued, so no unaudited job ever reaches a GPU.
 */
export function auditRequested(
  app: FastifyInstance,
  request: FastifyRequest,
  subject: ProcessAuditSubject,
  payload: ProcessPayload,
) {
  return app.audit.emit(
    {
      action: 'process.requested',
      outcome: 'success',
      resource: {
        type: subject.task ? 'task' : 'job',
        jobId: subject.jobId,
        model: subject.model,
        ...(subject.task && { task: subject.task }),
      },
      digests: {
        prompt: auditDigest(`${payload.system ?? ''}\n${payload.prompt}`),
        ...(payload.images?.[0] && { image: auditDigest(payload.images[0]) }),
      },
    },
    request,
  );
}

/** Records `process.cancelled` (by DELETE or by a client that went away). Best effort: the job is already gone. */
export function auditCancelled(
  app: FastifyInstance,
  request: FastifyRequest,
  subject: ProcessAuditSubject,
  reason: string,
) {
  void app.audit
    .emit(
      {
        action: 'process.cancelled',
        outcome: 'success',
        reason,
        resource: {
          type: subject.task ? 'task' : 'job',
          jobId: subject.jobId,
          model: subject.model,
          ...(subject.task && { task: subject.task }),
        },
      },
      request,
    )
    .catch(() => {});
}
