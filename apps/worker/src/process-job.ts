/**
 * The work of one `/api/local/process` job: open the sealed request, run it on this worker's
 * Ollama instance (streamed back over the gateway's reply channel when asked), seal the answer.
 * Kept apart from the BullMQ wiring so tests can call it directly.
 */
import {
  JOB_ERROR_CODES,
  type ProcessJobData,
  type ProcessJobResult,
  type ProcessOutcome,
  type ProcessPayload,
  type ReplyMessage,
} from '@ward/contracts';
import { type GenerateRequest, type GenerateResponse, type OllamaClient, OllamaError } from '@ward/ollama';
import type { Sealer } from '@ward/queue';

const NS_PER_MS = 1e6;
/** The abort reason of jobs stopped because their instance was found failing. */
export const INSTANCE_FAILED = Symbol('instance failed');

/** A whole answer is awaited this long past the job's deadline; the deadline timer fires first and names the failure. */
const DEADLINE_GRACE_MS = 5_000;

/** A job failure with a stable code. `retryable` failures may run again on another instance. */
export class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'JobFailure';
  }
  /** How the failure is stored as BullMQ's failedReason: `CODE: message`. */
  toReason(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** What {@link processJob} needs from its surroundings. */
export interface JobContext {
  instanceId: string;
  ollama: OllamaClient;
  sealer: Sealer;
  keepAlive: string;
  /** Publishes a reply to a gateway's channel. */
  publish(channel: string, message: ReplyMessage): void;
  /**
   * Fires when the job is cancelled, or with {@link INSTANCE_FAILED} as its reason when the
   * instance was found failing while the job ran (the job is then handed back).
   */
  signal: AbortSignal;
  /** Called when the instance itself failed (unreachable, timeout, 5xx), so the worker stops pulling work. */
  onInstanceFailure?(err: OllamaError): void;
  /** Called with every successful outcome (for metrics). */
  onOutcome?(outcome: ProcessOutcome): void;
}

/** Runs one job to its outcome, or throws a {@link JobFailure}. */
export async function processJob(
  jobId: string,
  data: ProcessJobData,
  ctx: JobContext,
): Promise<ProcessJobResult> {
  const startedAt = Date.now();
  if (startedAt >= data.deadline)
    throw new JobFailure(JOB_ERROR_CODES.deadline, 'the job was not started before its deadline', false);
  if (ctx.signal.aborted) throw new JobFailure(JOB_ERROR_CODES.cancelled, 'the job was cancelled', false);

  const payload = ctx.sealer.openJson<ProcessPayload>(data.sealed);
  const streaming = data.stream && data.replyTo !== null;
  const request: GenerateRequest = {
    model: data.model,
    prompt: payload.prompt,
    keep_alive: ctx.keepAlive,
    ...(payload.system !== undefined && { system: payload.system }),
    ...(payload.images !== undefined && { images: payload.images }),
    ...(payload.options !== undefined && { options: payload.options }),
    ...(payload.format !== undefined && { format: payload.format }),
  };

  // One controller, aborted by a cancel or by the deadline (AbortSignal.any is costly on Node 20).
  const abort = new AbortController();
  let deadlinePassed = false;
  const timer = setTimeout(() => {
    deadlinePassed = true;
    abort.abort();
  }, data.deadline - startedAt);
  const onCancel = () => abort.abort();
  ctx.signal.addEventListener('abort', onCancel, { once: true });
  const signal = abort.signal;
  let sentChunks = false;
  try {
    let final: GenerateResponse;
    if (streaming) {
      let last: GenerateResponse | undefined;
      const parts: string[] = [];
      for await (const chunk of ctx.ollama.generateStream(request, { signal })) {
        if (chunk.response) {
          parts.push(chunk.response);
          ctx.publish(data.replyTo!, { j: jobId, t: 'c', p: ctx.sealer.seal(chunk.response) });
          sentChunks = true;
        }
        last = chunk;
      }
      if (!last?.done)
        throw new JobFailure(JOB_ERROR_CODES.upstream, 'Ollama ended the stream before it was done', true);
      final = { ...last, response: parts.join('') };
    } else {
      // Ollama sends the headers of a whole answer only when generation ends, so no silence limit
      // applies: the job's deadline (the timer above) bounds the wait instead.
      final = await ctx.ollama.generate(request, {
        signal,
        headersTimeoutMs: Math.max(1, data.deadline - startedAt) + DEADLINE_GRACE_MS,
      });
    }
    const outcome: ProcessOutcome = {
      response: final.response,
      instance: ctx.instanceId,
      ...(final.done_reason !== undefined && { doneReason: final.done_reason }),
      promptTokens: final.prompt_eval_count ?? 0,
      completionTokens: final.eval_count ?? 0,
      loadMs: (final.load_duration ?? 0) / NS_PER_MS,
      promptEvalMs: (final.prompt_eval_duration ?? 0) / NS_PER_MS,
      generationMs: (final.eval_duration ?? 0) / NS_PER_MS,
      startedAt,
      finishedAt: Date.now(),
    };
    ctx.onOutcome?.(outcome);
    const sealed = ctx.sealer.sealJson(outcome);
    if (data.replyTo) {
      // The waiting gateway has the answer now; nothing of it needs to stay in Redis.
      ctx.publish(data.replyTo, { j: jobId, t: 'd', p: sealed });
      return { sealed: '' };
    }
    return { sealed };
  } catch (err) {
    const failure = toFailure(err, ctx, deadlinePassed);
    // A stream that already reached the client cannot be replayed elsewhere.
    if (failure.retryable && sentChunks) throw new JobFailure(failure.code, failure.message, false);
    throw failure;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onCancel);
  }
}

function toFailure(err: unknown, ctx: JobContext, deadlinePassed: boolean): JobFailure {
  if (err instanceof JobFailure) return err;
  if (deadlinePassed)
    return new JobFailure(JOB_ERROR_CODES.deadline, 'the job ran past its deadline and was stopped', false);
  if (ctx.signal.aborted && ctx.signal.reason === INSTANCE_FAILED)
    return new JobFailure(
      JOB_ERROR_CODES.unavailable,
      `instance ${ctx.instanceId} failed while the job ran`,
      true,
    );
  if (ctx.signal.aborted) return new JobFailure(JOB_ERROR_CODES.cancelled, 'the job was cancelled', false);
  if (err instanceof OllamaError) {
    switch (err.code) {
      case 'WARD_OLLAMA_MODEL_NOT_FOUND':
        return new JobFailure(
          JOB_ERROR_CODES.modelNotFound,
          'the model is not installed on the instance',
          false,
        );
      case 'WARD_OLLAMA_BAD_REQUEST':
        return new JobFailure(
          JOB_ERROR_CODES.badRequest,
          `Ollama refused the request (${err.status ?? 400})`,
          false,
        );
      case 'WARD_OLLAMA_BUSY':
        // Its own queue is full (other clients share it): the instance is not failing, and
        // another one, or this one a moment later, may have room.
        return new JobFailure(JOB_ERROR_CODES.busy, `instance ${ctx.instanceId} is busy`, true);
      case 'WARD_OLLAMA_UNREACHABLE':
      case 'WARD_OLLAMA_TIMEOUT':
      case 'WARD_OLLAMA_SERVER_ERROR':
        ctx.onInstanceFailure?.(err);
        return new JobFailure(
          JOB_ERROR_CODES.unavailable,
          `instance ${ctx.instanceId} failed: ${err.code}`,
          true,
        );
      default:
        return new JobFailure(JOB_ERROR_CODES.upstream, `Ollama failed: ${err.code}`, err.retryable);
    }
  }
  return new JobFailure(JOB_ERROR_CODES.internal, 'the worker failed to run the job', false);
}
