/**
 * Drains the `audit` queue into the hash-chained table. A BullMQ Worker takes many jobs at once
 * (concurrency = 2 × batch size); each job (one event, or a batch a producer sent together) hands
 * its events to a local batcher and waits for the transactions that store them to commit, so a
 * job completes only after all its events are stored. A consumer killed mid-batch leaves its jobs
 * locked until the lock expires, then they are redelivered (at-least-once) and the idempotent
 * insert stores each event once.
 */
import { AUDIT_JOB, AUDIT_QUEUE_NAME, type AuditEvent, type AuditEventBatch } from '@ward/contracts';
import { type AuditJobData, createRedis } from '@ward/queue';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type AuditStore, InvalidAuditEventError, storedEventText } from './store.js';

/** The logging calls the consumer makes (pino fits). */
export interface ConsumerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link AuditConsumer}. */
export interface AuditConsumerOptions {
  redisUrl: string;
  /** BullMQ prefix: `redisKeys(REDIS_PREFIX).bull`. */
  prefix: string;
  queueName?: string;
  store: AuditStore;
  logger: ConsumerLogger;
  /** Most events per transaction (default 1000). */
  batchSize?: number;
  /** How long a partial batch waits for more events, in ms (default 20). */
  lingerMs?: number;
  /** Seconds between checkpoints while rows arrive (default 60). */
  checkpointSeconds?: number;
  /** BullMQ lock: how soon events held by a dead consumer are redelivered, in ms (default 30 000). */
  lockDurationMs?: number;
  /** Called with the ids of every batch written (for metrics). */
  onWritten?: (ids: string[]) => void;
}

/** Counters of what the consumer has done, for logs, health and tests. */
export interface ConsumerStats {
  stored: number;
  duplicates: number;
  invalid: number;
  batches: number;
  /** Failed batch writes (each retried until it succeeds). */
  writeErrors: number;
}

interface Pending {
  id: string;
  /** The event's stored text (canonical JSON). */
  text: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class AuditConsumer {
  readonly stats: ConsumerStats = { stored: 0, duplicates: 0, invalid: 0, batches: 0, writeErrors: 0 };
  readonly #opts: AuditConsumerOptions;
  readonly #batchSize: number;
  readonly #lingerMs: number;
  #worker: Worker<AuditJobData> | undefined;
  #connection: Redis | undefined;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(opts: AuditConsumerOptions) {
    this.#opts = opts;
    this.#batchSize = opts.batchSize ?? 1000;
    this.#lingerMs = opts.lingerMs ?? 20;
  }

  /** Starts pulling events. */
  async start(): Promise<void> {
    const lockDuration = this.#opts.lockDurationMs ?? 30_000;
    this.#connection = createRedis(this.#opts.redisUrl, 'worker');
    this.#worker = new Worker<AuditJobData>(
      this.#opts.queueName ?? AUDIT_QUEUE_NAME,
      (job) => this.#process(job),
      {
        connection: this.#connection,
        prefix: this.#opts.prefix,
        concurrency: this.#batchSize * 2,
        lockDuration,
        stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
        // An event is never given up for stalling: it is redelivered until it is stored.
        maxStalledCount: 1_000_000,
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 100_000 },
        autorun: false,
      },
    );
    this.#worker.on('error', (err) =>
      this.#opts.logger.error({ err: { message: err.message } }, 'audit queue worker error'),
    );
    this.#worker.on('failed', (job, err) => {
      if (job && err instanceof UnrecoverableError)
        this.#opts.logger.error(
          { jobId: job.id, reason: err.message },
          'audit event refused (kept in the failed set)',
        );
    });
    void this.#worker
      .run()
      .catch((err: Error) =>
        this.#opts.logger.error({ err: { message: err.message } }, 'audit queue worker stopped'),
      );
    await this.#worker.waitUntilReady();
    const every = (this.#opts.checkpointSeconds ?? 60) * 1000;
    this.#checkpointTimer = setInterval(() => {
      this.#opts.store
        .checkpoint('periodic')
        .catch((err: Error) =>
          this.#opts.logger.warn({ reason: err.message }, 'audit checkpoint failed; retrying'),
        );
    }, every);
    this.#checkpointTimer.unref();
  }

  /** Stops taking events, stores those in hand, signs a final checkpoint, and disconnects. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#checkpointTimer) clearInterval(this.#checkpointTimer);
    const closing = this.#worker?.close();
    this.#schedule(0);
    await closing;
    await this.#flushing;
    await this.#opts.store
      .checkpoint('shutdown')
      .catch((err: Error) =>
        this.#opts.logger.warn({ reason: err.message }, 'final audit checkpoint failed'),
      );
    await this.#connection?.quit().catch(() => this.#connection?.disconnect());
  }

  /** Resolves once every event of the job is stored; a job holding an invalid event fails for good. */
  async #process(job: Job<AuditJobData>): Promise<void> {
    const events: AuditEvent[] | undefined =
      job.name === AUDIT_JOB.batch
        ? (job.data as Partial<AuditEventBatch> | null)?.events
        : [job.data as AuditEvent];
    if (!Array.isArray(events)) {
      this.stats.invalid++;
      throw new UnrecoverableError('an audit batch job must carry an events array');
    }
    const stored: Promise<void>[] = [];
    const invalid: string[] = [];
    for (const event of events) {
      let text: string;
      try {
        text = storedEventText(event);
      } catch (err) {
        this.stats.invalid++;
        const id = (event as { id?: unknown } | null)?.id;
        invalid.push(`${typeof id === 'string' ? id.slice(0, 40) : '(no id)'}: ${(err as Error).message}`);
        continue;
      }
      stored.push(
        new Promise<void>((resolve, reject) => {
          this.#pending.push({ id: event.id, text, resolve, reject });
        }),
      );
    }
    if (stored.length) this.#schedule(this.#pending.length >= this.#batchSize ? 0 : this.#lingerMs);
    await Promise.all(stored);
    // The valid events are stored; the job stays in the failed set so the refused ones can be inspected.
    if (invalid.length)
      throw new UnrecoverableError(
        `${invalid.length} invalid audit event(s): ${invalid.slice(0, 5).join('; ')}`,
      );
  }

  #schedule(delayMs: number): void {
    if (this.#flushing) return; // the running flush picks up what is pending
    if (delayMs === 0) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#flushing = this.#flushLoop();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (!this.#flushing) this.#flushing = this.#flushLoop();
    }, delayMs);
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.#batchSize);
        await this.#write(batch);
        // A partial batch waits for more unless it filled up meanwhile.
        if (this.#pending.length > 0 && this.#pending.length < this.#batchSize && !this.#closing) {
          break;
        }
      }
    } finally {
      this.#flushing = undefined;
      if (this.#pending.length > 0)
        this.#schedule(this.#closing || this.#pending.length >= this.#batchSize ? 0 : this.#lingerMs);
    }
  }

  async #write(batch: Pending[]): Promise<void> {
    let delay = 100;
    for (;;) {
      try {
        const res = await this.#opts.store.appendPrepared(batch);
        this.stats.stored += res.inserted;
        this.stats.duplicates += res.duplicates;
        this.stats.batches++;
        this.#opts.onWritten?.(batch.map((p) => p.id));
        for (const p of batch) p.resolve();
        return;
      } catch (err) {
        if (err instanceof InvalidAuditEventError) {
          // Cannot happen (events were checked on arrival); refuse them one by one rather than loop.
          for (const p of batch) p.reject(new UnrecoverableError(err.message));
          return;
        }
        this.stats.writeErrors++;
        this.#opts.logger.warn(
          { reason: (err as Error).message, events: batch.length, retryInMs: delay },
          'audit batch not written; retrying',
        );
        if (this.#closing && delay >= 1600) {
          // Shutting down with the database away: hand the events back to the queue.
          for (const p of batch) p.reject(err as Error);
          return;
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}
