/**
 * Producer side of the audit trail: every app puts its audit events on one durable BullMQ queue
 * (`audit`), which `apps/audit` drains into the hash-chained table. A single event's ULID is its
 * job id, so an event added twice is one job; events sent together share one job. The consumer's
 * insert is idempotent by event id, so a redelivered job stores nothing twice.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import {
  AUDIT_JOB,
  AUDIT_QUEUE_NAME,
  type AuditEvent,
  type AuditEventBatch,
  type AuditEventInput,
  type AuditService,
  auditEventProblem,
} from '@ward/contracts';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { newUlid } from './names.js';

const HOST = hostname().slice(0, 255);

/** SHA-256 (lower-case hex) of content the audit trail must identify without storing it. */
export function auditDigest(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A new audit event id (a monotonic ULID). */
export function newAuditEventId(): string {
  return newUlid();
}

/** Fills an event's id, time, version and source (service and host) where the input leaves them out. */
export function completeAuditEvent(input: AuditEventInput, service: AuditService): AuditEvent {
  return {
    v: 1,
    ...input,
    id: input.id ?? newUlid(),
    time: input.time ?? new Date().toISOString(),
    source: input.source ?? { service, host: HOST },
  } as AuditEvent;
}

/**
 * How long the oldest audit event not yet stored has waited, in ms: the oldest job that is
 * waiting, being written or handed back for a retry (0 when there is none). Events reach the queue as they happen, so
 * this is the audit trail's lag behind what it records.
 */
export async function auditBacklogMs(queue: Queue, now = Date.now()): Promise<number> {
  const oldest = await Promise.all(
    (['wait', 'active', 'delayed'] as const).map((state) => queue.getJobs([state], 0, 0, true)),
  );
  const times = oldest.flat().map((job) => job.timestamp);
  return times.length ? Math.max(0, now - Math.min(...times)) : 0;
}

/** The data of a job on the audit queue: one event (`e`) or a batch (`b`). */
export type AuditJobData = AuditEvent | AuditEventBatch;

/** Most events in one `b` job. */
export const AUDIT_BATCH_MAX = 500;

/** Raised when an event could not be durably enqueued (Redis down or slow, or an invalid event). */
export class AuditEnqueueError extends Error {
  readonly code = 'WARD_AUDIT_UNAVAILABLE';
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'AuditEnqueueError';
  }
}

/** Options of {@link AuditEmitter}. */
export interface AuditEmitterOptions {
  /**
   * A producer connection (`createRedis(url, 'producer')`): it fails fast while Redis is down, so
   * an event that cannot be enqueued is reported at once instead of waiting in memory.
   */
  connection: Redis;
  /** BullMQ key prefix: `redisKeys(REDIS_PREFIX).bull`. */
  prefix: string;
  /** Queue name (default `audit`); tests use their own. */
  queueName?: string;
  /** Completed audit jobs kept in Redis (default 1000): they are in the database by then. */
  keepCompleted?: number;
  /** Failed (invalid) audit jobs kept in Redis for inspection (default 100 000). */
  keepFailed?: number;
  /** How long `emit` waits for Redis before rejecting, in ms (default 2000). */
  timeoutMs?: number;
}

/**
 * Puts audit events on the `audit` queue. `emit` resolves once Redis has accepted the job (with
 * AOF on, that is durable) and rejects with {@link AuditEnqueueError} otherwise; callers in
 * HIPAA mode refuse the request then (fail closed).
 */
export class AuditEmitter {
  readonly queue: Queue<AuditJobData>;
  readonly #timeoutMs: number;
  readonly #jobOpts: { removeOnComplete: { count: number }; removeOnFail: { count: number } };

  constructor(opts: AuditEmitterOptions) {
    this.queue = new Queue<AuditJobData>(opts.queueName ?? AUDIT_QUEUE_NAME, {
      connection: opts.connection,
      prefix: opts.prefix,
    });
    // Failures surface through emit(); this keeps the queue from reporting them unhandled.
    this.queue.on('error', () => {});
    this.#timeoutMs = opts.timeoutMs ?? 2000;
    this.#jobOpts = {
      removeOnComplete: { count: opts.keepCompleted ?? 1000 },
      removeOnFail: { count: opts.keepFailed ?? 100_000 },
    };
  }

  /** Enqueues one event; resolves when Redis has it. The event must be complete and valid. */
  async emit(event: AuditEvent): Promise<void> {
    const problem = auditEventProblem(event);
    if (problem) throw new AuditEnqueueError(`invalid audit event (${event.action}): ${problem}`);
    await this.#withTimeout(this.queue.add(AUDIT_JOB.event, event, this.#opts(event.id)));
  }

  #opts(jobId: string) {
    return { jobId, attempts: 5, backoff: { type: 'exponential', delay: 1000 }, ...this.#jobOpts };
  }

  /**
   * Enqueues several events in one round trip, packed {@link AUDIT_BATCH_MAX} to a job (`b`), so
   * the queue's cost is per batch rather than per event. A batch re-added after a timeout has the
   * same job id (first and last event id), and the consumer stores each event once by its id.
   */
  async emitMany(events: readonly AuditEvent[]): Promise<void> {
    for (const event of events) {
      const problem = auditEventProblem(event);
      if (problem) throw new AuditEnqueueError(`invalid audit event (${event.action}): ${problem}`);
    }
    const jobs = [];
    for (let i = 0; i < events.length; i += AUDIT_BATCH_MAX) {
      const chunk = events.slice(i, i + AUDIT_BATCH_MAX);
      jobs.push(
        chunk.length === 1
          ? { name: AUDIT_JOB.event, data: chunk[0] as AuditEvent, opts: this.#opts(chunk[0]!.id) }
          : {
              name: AUDIT_JOB.batch,
              data: { events: chunk } satisfies AuditEventBatch,
              opts: this.#opts(`b-${chunk[0]!.id}-${chunk.at(-1)!.id}`),
            },
      );
    }
    if (jobs.length === 0) return;
    // One job needs no MULTI (a pipeline object per call costs more than the add itself).
    const [only] = jobs;
    const work: Promise<unknown> =
      jobs.length === 1 && only ? this.queue.add(only.name, only.data, only.opts) : this.queue.addBulk(jobs);
    await this.#withTimeout(work, Math.max(this.#timeoutMs, events.length));
  }

  /** Closes the queue object; the shared connection stays open (its owner closes it). */
  async close(): Promise<void> {
    await this.queue.close();
  }

  async #withTimeout<T>(work: Promise<T>, ms = this.#timeoutMs): Promise<void> {
    // A late rejection after the timeout must not go unhandled.
    work.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AuditEnqueueError(`the audit queue did not accept the event within ${ms} ms`)),
        ms,
      );
    });
    try {
      await Promise.race([work, timeout]);
    } catch (err) {
      if (err instanceof AuditEnqueueError) throw err;
      throw new AuditEnqueueError(`the audit queue is unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
