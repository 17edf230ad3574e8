import {
  type Actor,
  JOB_ERROR_CODES,
  type JobView,
  LOST_JOB_MESSAGE,
  type Priority,
  type ProcessJobData,
  type ProcessJobResult,
  type ProcessOutcome,
  type ProcessPayload,
  type ProcessResult,
  type ReplyMessage,
} from '@ward/contracts';
import {
  modelFromJobId,
  newJobId,
  PRIORITY_VALUE,
  queueNameFor,
  type RedisKeys,
  type Sealer,
} from '@ward/queue';
import { type Job, Queue } from 'bullmq';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { Errors } from '../../errors.js';
import type { Drain } from './instances.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobService;
  }
}

/** A job's failure as the gateway reports it. */
export class JobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a waiting request hears about its job. */
export interface JobWaiter {
  done: Promise<ProcessOutcome>;
  /** Set to receive streamed text as it arrives. */
  onChunk?: (text: string) => void;
}

interface PendingWaiter {
  resolve(o: ProcessOutcome): void;
  reject(e: Error): void;
  onChunk?: ((text: string) => void) | undefined;
  timer: NodeJS.Timeout;
}

/** Input of {@link JobService.submit}. */
export interface SubmitInput {
  model: string;
  payload: ProcessPayload;
  actor: Actor;
  requestId: string;
  priority: Priority;
  deadline: number;
  mode: 'sync' | 'async' | 'stream';
  /** How fast the model's queue drains (for Retry-After). */
  drain: Drain;
  /** Clinical task id, for task jobs. */
  task?: string;
  /** The job id, when the caller made it first (to audit the request before queueing it). */
  id?: string;
}

/** Turns a finished task job's raw outcome into its checked task result. */
export type TaskResolver = (
  job: { id: string; model: string; task: string; acceptedAt: number },
  payload: ProcessPayload,
  outcome: ProcessOutcome,
) => Promise<unknown>;

/** Every error code a worker writes into a failed job. */
const WARD_JOB_CODES: ReadonlySet<string> = new Set(Object.values(JOB_ERROR_CODES));
const ACCEPT_FAIL = (err: unknown): never => {
  if (
    err instanceof Error &&
    /enableOfflineQueue|Connection is closed|ECONNREFUSED|max retries/i.test(err.message)
  ) {
    throw new Errors.QueueUnavailable();
  }
  throw err;
};

/**
 * Puts jobs on their model's queue and brings results back. Each gateway listens on its own
 * reply channel; workers publish chunks and outcomes there, so a waiting request hears about
 * its job without polling and without per-job subscriptions.
 */
export class JobService {
  readonly gatewayId = crypto.randomUUID();
  readonly #queues = new Map<string, Queue<ProcessJobData, ProcessJobResult>>();
  readonly #waiters = new Map<string, PendingWaiter>();
  /** Last exact queue depth per model and how many jobs this gateway added since. */
  readonly #submitted = new Set<string>();
  /** Per model, jobs admitted by the cap check whose add has not completed yet (not in a count). */
  readonly #adding = new Map<string, number>();
  readonly #depth = new Map<string, { n: number; at: number; added: number }>();
  /** Mean service time per model (ms), for Retry-After. */
  readonly #channel: string;
  /** Set by the task routes so `GET /api/jobs/:id` can show a task job's checked result. */
  taskResolver: TaskResolver | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly sub: Redis,
    private readonly keys: RedisKeys,
    private readonly sealer: Sealer,
    private readonly opts: { maxQueue: number; retentionSeconds: number },
  ) {
    this.#channel = keys.reply(this.gatewayId);
  }

  async start(): Promise<void> {
    this.sub.on('message', (channel: string, raw: string) => {
      if (channel === this.#channel) this.#onReply(raw);
    });
    await this.sub.subscribe(this.#channel);
  }

  async close(): Promise<void> {
    for (const [id, w] of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Errors.QueueUnavailable());
      this.#waiters.delete(id);
    }
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
  }

  /** Models this gateway has queued jobs for since it started (served models only, so never arbitrary names). */
  queuedModels(): string[] {
    return [...this.#submitted];
  }

  queue(model: string): Queue<ProcessJobData, ProcessJobResult> {
    let q = this.#queues.get(model);
    if (!q) {
      q = new Queue<ProcessJobData, ProcessJobResult>(queueNameFor(model), {
        connection: this.redis,
        prefix: this.keys.bull,
      });
      q.on('error', () => {});
      this.#queues.set(model, q);
    }
    return q;
  }

  /**
   * Seconds a client should wait before retrying a full queue: how long the instances take to
   * drain `depth` jobs at the job time they observed (5 s a job before any was observed).
   */
  retryAfter(depth: number, drain: Drain): number {
    const serviceMs = drain.serviceMs ?? 5000;
    return Math.min(300, Math.max(1, Math.ceil((depth * serviceMs) / Math.max(1, drain.slots) / 1000)));
  }

  /** Enqueues a job; for sync and stream modes also returns a waiter registered before the job exists. */
  async submit(input: SubmitInput): Promise<{ id: string; waiter?: JobWaiter }> {
    const queue = this.queue(input.model);
    this.#submitted.add(input.model);
    await this.#checkDepth(input.model, queue, input.drain);
    try {
      return await this.#enqueue(input, queue);
    } finally {
      this.#adding.set(input.model, this.#adding.get(input.model)! - 1);
    }
  }

  async #enqueue(
    input: SubmitInput,
    queue: Queue<ProcessJobData, ProcessJobResult>,
  ): Promise<{ id: string; waiter?: JobWaiter }> {
    const id = input.id ?? newJobId(input.model);
    const data: ProcessJobData = {
      v: 1,
      requestId: input.requestId,
      actor: input.actor,
      model: input.model,
      priority: input.priority,
      deadline: input.deadline,
      acceptedAt: Date.now(),
      replyTo: input.mode === 'async' ? null : this.#channel,
      stream: input.mode === 'stream',
      sealed: this.sealer.sealJson(input.payload),
      ...(input.task && { task: input.task }),
    };
    const waiter = input.mode === 'async' ? undefined : this.#register(id, input.model, input.deadline);
    try {
      await queue
        .add('process', data, {
          jobId: id,
          priority: PRIORITY_VALUE[input.priority],
          attempts: 3,
          // A job handed back (instance failing or busy) runs again after 250 ms, then 500 ms.
          backoff: { type: 'exponential', delay: 250 },
          // Waited-for jobs are answered over the reply channel; only async results are kept.
          removeOnComplete:
            input.mode === 'async' ? { age: this.opts.retentionSeconds, count: 10_000 } : true,
          removeOnFail: { age: this.opts.retentionSeconds, count: 10_000 },
        })
        .catch(ACCEPT_FAIL);
    } catch (err) {
      this.#forget(id);
      throw err;
    }
    return waiter ? { id, waiter } : { id };
  }

  /**
   * Refuses a job when the model's queue is at its cap. Far below the cap a recent count
   * (plus what this gateway added since) is enough; near it, the queue is counted exactly.
   */
  async #checkDepth(
    model: string,
    queue: Queue<ProcessJobData, ProcessJobResult>,
    drain: Drain,
  ): Promise<void> {
    const now = Date.now();
    const seen = this.#depth.get(model);
    if (seen && now - seen.at < 200 && seen.n + seen.added < this.opts.maxQueue * 0.5) {
      seen.added++;
      this.#reserve(model);
      return;
    }
    const counted = await queue.count().catch(ACCEPT_FAIL);
    // Jobs this gateway admitted whose add Redis has not confirmed yet are not in the count:
    // without them a burst arriving at once would all see the same depth and all be admitted.
    const adding = this.#adding.get(model) ?? 0;
    const depth = counted + adding;
    this.#depth.set(model, { n: depth, at: now, added: 1 });
    if (depth >= this.opts.maxQueue) {
      throw Object.assign(new Errors.QueueFull(model), {
        retryAfter: this.retryAfter(depth, drain),
      });
    }
    // Counted at once, in the same turn as the decision, so the next check sees this job.
    this.#reserve(model);
  }

  #reserve(model: string): void {
    this.#adding.set(model, (this.#adding.get(model) ?? 0) + 1);
  }

  #register(id: string, model: string, deadline: number): JobWaiter {
    let pending!: PendingWaiter;
    const done = new Promise<ProcessOutcome>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.#forget(id);
          reject(new Errors.Deadline());
          void this.cancel(id, model).catch(() => {});
        },
        Math.max(0, deadline - Date.now()) + 1000,
      );
      pending = { resolve, reject, timer };
    });
    done.catch(() => {});
    this.#waiters.set(id, pending);
    const waiter: JobWaiter = { done };
    Object.defineProperty(waiter, 'onChunk', {
      set: (fn: (text: string) => void) => {
        pending.onChunk = fn;
      },
    });
    return waiter;
  }

  #forget(id: string): void {
    const w = this.#waiters.get(id);
    if (w) clearTimeout(w.timer);
    this.#waiters.delete(id);
  }

  #onReply(raw: string): void {
    let msg: ReplyMessage;
    try {
      msg = JSON.parse(raw) as ReplyMessage;
    } catch {
      return;
    }
    const w = this.#waiters.get(msg.j);
    if (!w) return;
    switch (msg.t) {
      case 'c':
        w.onChunk?.(this.sealer.open(msg.p).toString('utf8'));
        return;
      case 'd': {
        this.#forget(msg.j);
        const outcome = this.sealer.openJson<ProcessOutcome>(msg.p);
        w.resolve(outcome);
        return;
      }
      case 'e':
        this.#forget(msg.j);
        w.reject(new JobError(msg.c, msg.m));
        return;
    }
  }

  /** Finds a job the caller may see (its owner, or an admin); undefined otherwise. */
  async find(id: string, actor: Actor): Promise<Job<ProcessJobData, ProcessJobResult> | undefined> {
    const model = modelFromJobId(id);
    if (!model) return undefined;
    const job = await this.queue(model).getJob(id).catch(ACCEPT_FAIL);
    if (!job || (job.data.actor.sub !== actor.sub && actor.role !== 'admin')) return undefined;
    return job;
  }

  /** A job's state and, once finished, its result or error. */
  async view(id: string, actor: Actor): Promise<JobView | undefined> {
    const job = await this.find(id, actor);
    if (!job) return this.#cancelledView(id, actor);
    const state = await job.getState();
    const base = {
      id,
      model: job.data.model,
      priority: job.data.priority,
      createdAt: new Date(job.timestamp).toISOString(),
      deadline: new Date(job.data.deadline).toISOString(),
      ...(job.processedOn && { startedAt: new Date(job.processedOn).toISOString() }),
      ...(job.finishedOn && { finishedAt: new Date(job.finishedOn).toISOString() }),
    };
    if (state === 'completed' && job.returnvalue?.sealed) {
      const outcome = this.sealer.openJson<ProcessOutcome>(job.returnvalue.sealed);
      const result = toResult(id, job.data.model, job.data.acceptedAt, outcome);
      if (job.data.task && this.taskResolver) {
        const payload = this.sealer.openJson<ProcessPayload>(job.data.sealed);
        const meta = { id, model: job.data.model, task: job.data.task, acceptedAt: job.data.acceptedAt };
        return {
          ...base,
          state: 'completed',
          result,
          taskResult: await this.taskResolver(meta, payload, outcome),
        };
      }
      return { ...base, state: 'completed', result };
    }
    if (state === 'failed') {
      const [code, ...rest] = (job.failedReason ?? '').split(': ');
      // Workers write `CODE: message`; anything else is BullMQ's own (a job that stalled too often).
      const ours = code !== undefined && WARD_JOB_CODES.has(code);
      const error = ours
        ? { code, message: rest.join(': ') || 'the job failed' }
        : { code: JOB_ERROR_CODES.internal, message: LOST_JOB_MESSAGE };
      return { ...base, state: error.code === JOB_ERROR_CODES.cancelled ? 'cancelled' : 'failed', error };
    }
    return { ...base, state: state === 'active' ? 'active' : 'queued' };
  }

  async #cancelledView(id: string, actor: Actor): Promise<JobView | undefined> {
    const raw = await this.redis.get(this.keys.cancelled(id));
    if (!raw) return undefined;
    const meta = JSON.parse(raw) as Omit<JobView, 'state'> & { owner: string };
    if (meta.owner !== actor.sub && actor.role !== 'admin') return undefined;
    const { owner: _owner, ...view } = meta;
    return {
      ...view,
      state: 'cancelled',
      error: { code: JOB_ERROR_CODES.cancelled, message: 'the job was cancelled' },
    };
  }

  /**
   * Cancels a job: a queued one is removed, a running one is aborted on its instance.
   * Returns the resulting state, or throws when the job has already finished.
   */
  async cancel(
    id: string,
    model: string,
    job?: Job<ProcessJobData, ProcessJobResult>,
  ): Promise<'cancelled' | 'cancelling'> {
    const found = job ?? (await this.queue(model).getJob(id));
    if (!found) return 'cancelled';
    const state = await found.getState();
    if (state === 'completed' || state === 'failed') throw new Errors.JobFinished(state);
    const meta = {
      id,
      model,
      owner: found.data.actor.sub,
      priority: found.data.priority,
      createdAt: new Date(found.timestamp).toISOString(),
      deadline: new Date(found.data.deadline).toISOString(),
      finishedAt: new Date().toISOString(),
    };
    if (state !== 'active') {
      try {
        await found.remove();
        await this.redis.set(this.keys.cancelled(id), JSON.stringify(meta), 'EX', this.opts.retentionSeconds);
        if (found.data.replyTo) {
          const msg: ReplyMessage = {
            j: id,
            t: 'e',
            c: JOB_ERROR_CODES.cancelled,
            m: 'the job was cancelled',
          };
          await this.redis.publish(found.data.replyTo, JSON.stringify(msg));
        }
        return 'cancelled';
      } catch {
        // It started meanwhile (it is locked): abort it on its instance instead.
      }
    }
    await this.redis.publish(this.keys.cancel, id);
    return 'cancelling';
  }
}

/** Shapes a worker's outcome into the API's result. */
export function toResult(id: string, model: string, acceptedAt: number, o: ProcessOutcome): ProcessResult {
  return {
    id,
    model,
    instance: o.instance,
    response: o.response,
    ...(o.doneReason !== undefined && { doneReason: o.doneReason }),
    usage: { promptTokens: o.promptTokens, completionTokens: o.completionTokens },
    timings: {
      queueMs: Math.max(0, o.startedAt - acceptedAt),
      loadMs: round(o.loadMs),
      promptEvalMs: round(o.promptEvalMs),
      generationMs: round(o.generationMs),
      totalMs: Math.max(0, o.finishedAt - acceptedAt),
    },
    createdAt: new Date(acceptedAt).toISOString(),
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

export default fp(
  async (app, opts: { keys: RedisKeys; sealer: Sealer; maxQueue: number; retentionSeconds: number }) => {
    const service = new JobService(app.redis, app.redisSub, opts.keys, opts.sealer, opts);
    await service.start();
    app.decorate('jobs', service);
    app.addHook('onClose', () => service.close());
  },
  { name: 'jobs', dependencies: ['redis'] },
);
