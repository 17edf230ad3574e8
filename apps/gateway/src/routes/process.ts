import { PassThrough } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorBody,
  JobAccepted,
  type ProcessPayload,
  ProcessRequest,
  ProcessResult,
  type StreamLine,
} from '@ward/contracts';
import { newJobId } from '@ward/queue';
import { Errors, invalid, statusForJobError } from '../errors.js';
import { checkImage } from '../images.js';
import { JobError, type JobWaiter, toResult } from '../plugins/app/jobs.js';
import { auditCancelled, auditRequested } from './process-audit.js';

/** `model` → `model:latest`, as Ollama names it when no tag is given. */
export function normalizeModel(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? name : `${name}:latest`;
}

/** `POST /api/local/process`: sync by default, `Prefer: respond-async` for 202, `stream: true` for NDJSON. */
const processRoutes: FastifyPluginAsyncTypebox<{
  localModelsEnabled: boolean;
  jobTimeoutSeconds: number;
}> = async (app, opts) => {
  app.post(
    '/api/local/process',
    {
      config: { roles: ['admin', 'provider'] },
      schema: {
        tags: ['process'],
        summary: 'Run a prompt (and optionally an image) on a local model',
        headers: { type: 'object', properties: { prefer: { type: 'string' } } },
        body: ProcessRequest,
        response: {
          200: ProcessResult,
          202: JobAccepted,
          '4xx': ErrorBody,
          '5xx': ErrorBody,
        },
      },
    },
    async (request, reply) => {
      if (!opts.localModelsEnabled) throw new Errors.LocalModelsDisabled();
      const body = request.body;
      const type = body.type ?? 'text';
      let images: string[] | undefined;
      if (type === 'vision') {
        if (!body.imageData) throw invalid('imageData', 'is required when type is vision');
        images = [checkImage(body.imageData)];
      } else if (body.imageData !== undefined) {
        throw invalid('imageData', 'is only accepted when type is vision');
      }
      const async = /\brespond-async\b/i.test(request.headers.prefer ?? '');
      if (async && body.stream) throw invalid('stream', 'cannot be combined with Prefer: respond-async');
      const model = normalizeModel(body.modelName);
      const drain = await app.instances.drainFor(model, type === 'vision');

      const payload: ProcessPayload = {
        prompt: body.prompt,
        ...(body.system !== undefined && { system: body.system }),
        ...(images && { images }),
        ...(body.options !== undefined && { options: body.options }),
        ...(body.format !== undefined && { format: body.format }),
      };
      const acceptedAt = Date.now();
      const mode = body.stream ? 'stream' : async ? 'async' : 'sync';
      const jobId = newJobId(model);
      await auditRequested(app, request, { jobId, model }, payload);
      const { id, waiter } = await app.jobs.submit({
        id: jobId,
        model,
        payload,
        actor: request.actor,
        requestId: request.id,
        priority: body.priority ?? 'routine',
        deadline: acceptedAt + (body.timeoutSeconds ?? opts.jobTimeoutSeconds) * 1000,
        mode,
        drain,
      });

      if (!waiter) {
        const location = `/api/jobs/${id}`;
        return reply.code(202).header('location', location).send({ id, state: 'queued', model, location });
      }

      // A client that goes away takes its job with it.
      reply.raw.on('close', () => {
        if (reply.raw.writableFinished) return;
        void app.jobs.cancel(id, model).catch(() => {});
        auditCancelled(app, request, { jobId: id, model }, 'client disconnected');
      });

      if (mode === 'stream') {
        const ttft = app.metrics.timeToFirstToken;
        const stream = streamOf(id, model, acceptedAt, waiter, () =>
          ttft.observe({ model }, (Date.now() - acceptedAt) / 1000),
        );
        return reply.header('content-type', 'application/x-ndjson').send(stream as never);
      }

      try {
        return toResult(id, model, acceptedAt, await waiter.done);
      } catch (err) {
        throw asHttpError(err);
      }
    },
  );
};

/** Seconds a client is asked to wait after a 503 from the instances (busy, or failing everywhere). */
const UPSTREAM_RETRY_AFTER_S = 5;

export function asHttpError(err: unknown): unknown {
  if (!(err instanceof JobError)) return err;
  const statusCode = statusForJobError(err.code);
  return Object.assign(new Error(err.message), {
    statusCode,
    code: err.code,
    ...(statusCode === 503 && { retryAfter: UPSTREAM_RETRY_AFTER_S }),
  });
}

function streamOf(
  id: string,
  model: string,
  acceptedAt: number,
  waiter: JobWaiter,
  onFirst?: () => void,
): PassThrough {
  const out = new PassThrough();
  const write = (line: StreamLine) => out.write(`${JSON.stringify(line)}\n`);
  let first = true;
  waiter.onChunk = (text) => {
    if (first) {
      first = false;
      onFirst?.();
    }
    write({ id, model, response: text, done: false });
  };
  waiter.done.then(
    (outcome) => {
      const r = toResult(id, model, acceptedAt, outcome);
      write({
        id,
        model,
        done: true,
        instance: r.instance,
        ...(r.doneReason && { doneReason: r.doneReason }),
        usage: r.usage,
        timings: r.timings,
      });
      out.end();
    },
    (err: Error & { code?: string }) => {
      write({ id, model, done: true, error: { code: err.code ?? 'WARD_INTERNAL', message: err.message } });
      out.end();
    },
  );
  return out;
}

export default processRoutes;
