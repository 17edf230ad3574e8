import { PassThrough } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  type ClinicalTask,
  DECISION_SUPPORT_NOTICE,
  type TaskFinding,
  type TaskServices,
} from '@ward/clinical';
import {
  ErrorBody,
  JobAccepted,
  type ProcessOutcome,
  type ProcessPayload,
  type StreamLine,
  TaskRequestOptions,
  type TaskResult,
  TaskResult as TaskResultSchema,
} from '@ward/contracts';
import { newJobId } from '@ward/queue';
import { type TObject, Type } from 'typebox';
import { invalid } from '../errors.js';
import { JobError } from '../plugins/app/jobs.js';
import { asHttpError, normalizeModel } from './process.js';
import { auditCancelled, auditRequested } from './process-audit.js';

/** Options of the task routes. */
export interface TaskRoutesOptions {
  tasks: readonly ClinicalTask[];
  services: TaskServices;
  /** Model per task id (deployment overrides of each task's default). */
  models: Record<string, string>;
  jobTimeoutSeconds: number;
}

function parseModelJson(text: string): { value: unknown; findings: TaskFinding[] } {
  try {
    return { value: JSON.parse(text), findings: [] };
  } catch {
    return {
      value: null,
      findings: [
        {
          severity: 'error',
          code: 'MODEL_OUTPUT_NOT_JSON',
          message: 'the model did not answer with the JSON the task requires',
        },
      ],
    };
  }
}

/** Checks a model's answer with the task's deterministic validators and shapes the result. */
export async function checkTaskOutcome(
  task: ClinicalTask,
  services: TaskServices,
  job: { id: string; model: string; acceptedAt: number },
  payload: ProcessPayload,
  outcome: ProcessOutcome,
): Promise<TaskResult> {
  const parsed = parseModelJson(outcome.response);
  let output: unknown = null;
  const findings = [...parsed.findings];
  if (parsed.value !== null && task.validate) {
    const checked = await task.validate(payload.task?.input, parsed.value, payload.task?.context, services);
    output = checked.output;
    findings.push(...checked.findings);
  }
  return {
    id: job.id,
    task: task.id,
    model: job.model,
    instance: outcome.instance,
    output,
    findings,
    valid: !findings.some((f) => f.severity === 'error'),
    rendering: output === null ? '' : task.render(output),
    notice: DECISION_SUPPORT_NOTICE,
    usage: { promptTokens: outcome.promptTokens, completionTokens: outcome.completionTokens },
    timings: {
      queueMs: Math.max(0, outcome.startedAt - job.acceptedAt),
      loadMs: outcome.loadMs,
      promptEvalMs: outcome.promptEvalMs,
      generationMs: outcome.generationMs,
      totalMs: Math.max(0, outcome.finishedAt - job.acceptedAt),
    },
    createdAt: new Date(job.acceptedAt).toISOString(),
  };
}

/**
 * `POST /api/tasks/<task>` for every registered clinical task, with the same sync, async
 * (`Prefer: respond-async`) and stream behaviour as `/api/local/process`, through the same
 * queues. Tasks that need no model run here at once and never wait in a GPU queue.
 */
const taskRoutes: FastifyPluginAsyncTypebox<TaskRoutesOptions> = async (app, opts) => {
  const byId = new Map(opts.tasks.map((t) => [t.id, t]));
  app.jobs.taskResolver = async (job, payload, outcome) => {
    const task = byId.get(job.task);
    return task ? checkTaskOutcome(task, opts.services, job, payload, outcome) : undefined;
  };

  for (const task of opts.tasks) {
    const input = task.inputSchema as TObject;
    const body = Type.Object(
      { ...input.properties, ...(task.run ? {} : TaskRequestOptions) },
      { additionalProperties: false },
    );
    app.post(
      `/api/tasks/${task.id}`,
      {
        config: { roles: task.roles },
        schema: {
          tags: ['tasks'],
          summary: task.title,
          body,
          response: { 200: TaskResultSchema, 202: JobAccepted, '4xx': ErrorBody, '5xx': ErrorBody },
        },
      },
      async (request, reply) => {
        const { modelName, stream, priority, timeoutSeconds, ...taskInput } = request.body as Record<
          string,
          unknown
        > & {
          modelName?: string;
          stream?: boolean;
          priority?: 'stat' | 'routine' | 'batch';
          timeoutSeconds?: number;
        };
        const acceptedAt = Date.now();
        if (task.run) {
          const done = await task.run(taskInput, opts.services);
          const result: TaskResult = {
            id: request.id,
            task: task.id,
            model: null,
            instance: null,
            output: done.output,
            findings: done.findings,
            valid: !done.findings.some((f) => f.severity === 'error'),
            rendering: task.render(done.output),
            notice: DECISION_SUPPORT_NOTICE,
            createdAt: new Date(acceptedAt).toISOString(),
          };
          if (taskInput.narrative === true && task.narrativePrompt) {
            const model = normalizeModel(modelName ?? opts.models[task.id] ?? task.defaultModel ?? '');
            const drain = await app.instances.drainFor(model, false);
            const { waiter } = await app.jobs.submit({
              model,
              payload: { prompt: task.narrativePrompt(done.output), options: { temperature: 0 } },
              actor: request.actor,
              requestId: request.id,
              priority: 'routine',
              deadline: acceptedAt + opts.jobTimeoutSeconds * 1000,
              mode: 'sync',
              drain,
            });
            try {
              const outcome = await waiter!.done;
              result.narrative = { text: outcome.response, model, instance: outcome.instance };
            } catch (err) {
              throw err instanceof JobError ? asHttpError(err) : err;
            }
          }
          return result;
        }
        const chosen = modelName ?? opts.models[task.id] ?? task.defaultModel;
        if (!chosen) throw invalid('modelName', `is required: no model is configured for task ${task.id}`);
        const model = normalizeModel(chosen);
        const async = /\brespond-async\b/i.test(String(request.headers.prefer ?? ''));
        if (async && stream) throw invalid('stream', 'cannot be combined with Prefer: respond-async');
        const drain = await app.instances.drainFor(model, !!task.vision);
        const call = await task.prepare!(taskInput, opts.services);
        const payload: ProcessPayload = {
          prompt: call.prompt,
          ...(task.systemPrompt && { system: task.systemPrompt }),
          ...(call.images && { images: call.images }),
          ...(task.outputSchema && { format: task.outputSchema }),
          options: { temperature: 0 },
          task: { input: taskInput, ...(call.context !== undefined && { context: call.context }) },
        };
        const mode = stream ? 'stream' : async ? 'async' : 'sync';
        const jobId = newJobId(model);
        await auditRequested(app, request, { jobId, model, task: task.id }, payload);
        const { id, waiter } = await app.jobs.submit({
          id: jobId,
          model,
          payload,
          actor: request.actor,
          requestId: request.id,
          priority: priority ?? 'routine',
          deadline: acceptedAt + (timeoutSeconds ?? opts.jobTimeoutSeconds) * 1000,
          mode,
          drain,
          task: task.id,
        });
        if (!waiter) {
          const location = `/api/jobs/${id}`;
          return reply.code(202).header('location', location).send({ id, state: 'queued', model, location });
        }
        reply.raw.on('close', () => {
          if (reply.raw.writableFinished) return;
          void app.jobs.cancel(id, model).catch(() => {});
          auditCancelled(app, request, { jobId: id, model, task: task.id }, 'client disconnected');
        });
        const job = { id, model, acceptedAt };
        if (mode === 'stream') {
          const out = new PassThrough();
          const write = (line: StreamLine & { result?: TaskResult }) =>
            out.write(`${JSON.stringify(line)}\n`);
          waiter.onChunk = (text) => write({ id, model, response: text, done: false });
          waiter.done
            .then((outcome) => checkTaskOutcome(task, opts.services, job, payload, outcome))
            .then(
              (result) => write({ id, model, done: true, instance: result.instance ?? undefined, result }),
              (err: Error & { code?: string }) =>
                write({
                  id,
                  model,
                  done: true,
                  error: { code: err.code ?? 'WARD_INTERNAL', message: err.message },
                }),
            )
            .finally(() => out.end());
          return reply.header('content-type', 'application/x-ndjson').send(out as never);
        }
        try {
          return await checkTaskOutcome(task, opts.services, job, payload, await waiter.done);
        } catch (err) {
          throw err instanceof JobError ? asHttpError(err) : err;
        }
      },
    );
  }
};

export default taskRoutes;
