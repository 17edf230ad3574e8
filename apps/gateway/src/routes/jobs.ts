import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, JobView } from '@ward/contracts';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { auditCancelled } from './process-audit.js';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 400 }) });

/** `GET /api/jobs/:id` and `DELETE /api/jobs/:id`, for the job's owner or an admin. */
const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/jobs/:id',
    {
      config: { roles: ['admin', 'provider', 'staff'] },
      schema: {
        tags: ['jobs'],
        summary: "A job's state and, once finished, its result",
        params: Params,
        response: { 200: JobView, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request) => {
      const view = await app.jobs.view(request.params.id, request.actor);
      if (!view) throw new Errors.JobNotFound();
      return view;
    },
  );

  app.delete(
    '/api/jobs/:id',
    {
      config: { roles: ['admin', 'provider'] },
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a queued or running job',
        params: Params,
        response: {
          202: Type.Object({
            id: Type.String(),
            state: Type.Union([Type.Literal('cancelled'), Type.Literal('cancelling')]),
          }),
          '4xx': ErrorBody,
          '5xx': ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const job = await app.jobs.find(request.params.id, request.actor);
      if (!job) throw new Errors.JobNotFound();
      const state = await app.jobs.cancel(request.params.id, job.data.model, job);
      auditCancelled(
        app,
        request,
        { jobId: request.params.id, model: job.data.model, task: job.data.task },
        'cancelled by request',
      );
      return reply.code(202).send({ id: request.params.id, state });
    },
  );
};

export default jobRoutes;
