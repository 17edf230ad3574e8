/**
 * One worker process per Ollama instance (one GPU): discovers the instance's models, runs one
 * BullMQ Worker per model with concurrency = OLLAMA_NUM_PARALLEL, announces itself with a
 * heartbeat, stops pulling work while its Ollama is down, and aborts cancelled jobs.
 */

import type { ProcessOutcome } from '@ward/contracts';
import {
  type InstanceHeartbeat,
  JOB_ERROR_CODES,
  LOST_JOB_MESSAGE,
  type ProcessJobData,
  type ProcessJobResult,
} from '@ward/contracts';
import type { WardMetrics } from '@ward/metrics';
import { OllamaClient, type OllamaError } from '@ward/ollama';
import {
  AuditEmitter,
  auditDigest,
  clearHeartbeat,
  coalesceWrites,
  createRedis,
  queueNameFor,
  type RedisKeys,
  redisKeys,
  type Sealer,
  waitForRedis,
  writeHeartbeat,
} from '@ward/queue';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AuditBuffer } from './audit-buffer.js';
import { INSTANCE_FAILED, JobFailure, processJob } from './process-job.js';

/** Options of {@link InstanceWorker}. */
export interface InstanceWorkerOptions {
  redisUrl: string;
  redisPrefix: string;
  ollamaUrl: string;
  /** Name in status and metrics; defaults to the URL's host:port. */
  instanceId?: string | undefined;
  numParallel: number;
  keepAlive: string;
  /** Serve only these models (default: all the instance has). */
  models?: string[] | undefined;
  /** Longest silence accepted from Ollama while it streams (before and between chunks), in ms. */
  requestTimeoutMs: number;
  heartbeatIntervalMs: number;
  sealer: Sealer;
  logger: Logger;
  /** How often to look for newly installed models. */
  discoveryIntervalMs?: number;
  /** BullMQ lock duration: how soon a job held by a dead worker is handed to another. */
  lockDurationMs?: number;
  /** Where to record job, token and instance metrics. */
  metrics?: WardMetrics;
  /** How often an instance out of service is probed (default 1 s). */
  probeIntervalMs?: number;
}

/** A failure this soon after returning to service counts as flapping. */
const FLAP_WINDOW_MS = 30_000;
/** Longest an instance that keeps failing after its probes stays out of service before the next probe. */
const PROBE_MAX_MS = 60_000;

/** How long a job fetched while the instance is out of service waits before another instance may take it. */
const HAND_BACK_DELAY_MS = 250;

/** load_duration above this means the model was really loaded, not just looked up. */
const LOAD_THRESHOLD_MS = 50;

export class InstanceWorker {
  readonly id: string;
  readonly #opts: InstanceWorkerOptions;
  readonly #keys: RedisKeys;
  readonly #ollama: OllamaClient;
  readonly #log: Logger;
  readonly #workers = new Map<string, ModelPuller>();
  readonly #conns = new Map<string, Redis>();
  readonly #running = new Map<string, AbortController>();
  /** Cancellations heard before their job started here (job id → time heard). */
  readonly #cancelled = new Map<string, number>();
  /** Heartbeats and the audit queue (writes coalesced per turn of the event loop). */
  #redis!: Redis;
  #sub!: Redis;
  #audit!: AuditBuffer;
  #healthy = false;
  #lastError: string | undefined;
  #installed: string[] = [];
  #vision = new Set<string>();
  #loaded: string[] = [];
  #version: string | undefined;
  #timers: NodeJS.Timeout[] = [];
  #probe: NodeJS.Timeout | undefined;
  readonly #probeMs: number;
  /** How long the instance stays out of service after its latest failure before the first probe. */
  #outFor: number;
  /** When a probe last brought the instance back into service. */
  #restoredAt = 0;
  #closing = false;
  #discovering: Promise<void> | undefined;
  /** Workers of dropped models, still finishing. */
  readonly #dropping = new Set<Promise<unknown>>();
  /** Moving mean of each model's job time on this instance, in ms. */
  readonly #serviceMs = new Map<string, number>();
  readonly #startedAt = Date.now();

  constructor(opts: InstanceWorkerOptions) {
    this.#opts = opts;
    this.id = opts.instanceId ?? new URL(opts.ollamaUrl).host;
    this.#keys = redisKeys(opts.redisPrefix);
    // A streamed answer may pause this long between chunks (and before the first one).
    this.#ollama = new OllamaClient({
      baseUrl: opts.ollamaUrl,
      headersTimeoutMs: opts.requestTimeoutMs,
      bodyTimeoutMs: opts.requestTimeoutMs,
      // Status calls (/api/ps with every heartbeat) answer at once; one that hangs means the instance does.
      metadataTimeoutMs: Math.min(opts.requestTimeoutMs, 10_000),
    });
    this.#log = opts.logger.child({ instance: this.id });
    this.#probeMs = opts.probeIntervalMs ?? 1000;
    this.#outFor = this.#probeMs;
  }

  /** Connects to Redis (failing fast when it is unreachable), then discovers models and starts pulling. */
  async start(): Promise<void> {
    this.#redis = coalesceWrites(createRedis(this.#opts.redisUrl, 'worker'));
    this.#sub = createRedis(this.#opts.redisUrl, 'subscriber');
    this.#audit = new AuditBuffer(
      new AuditEmitter({ connection: this.#redis, prefix: this.#keys.bull }),
      this.#log,
    );
    await Promise.all([
      waitForRedis(this.#redis, this.#opts.redisUrl),
      waitForRedis(this.#sub, this.#opts.redisUrl),
    ]);
    await this.#sub.subscribe(this.#keys.cancel);
    this.#sub.on('message', (_channel, jobId: string) => this.#onCancel(jobId));
    await this.#discover();
    await this.#beat();
    this.#timers.push(
      setInterval(() => void this.#beat(), this.#opts.heartbeatIntervalMs),
      setInterval(() => void this.#discover(), this.#opts.discoveryIntervalMs ?? 15_000),
    );
  }

  /** Whether the instance answered its last check. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Models this worker pulls jobs for. */
  get models(): string[] {
    return [...this.#workers.keys()];
  }

  /** Stops taking jobs, lets running ones finish, then leaves. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#probe) clearTimeout(this.#probe);
    await Promise.all([...this.#workers.values()].map((w) => w.close()));
    await Promise.all(this.#dropping);
    await this.#audit.close().catch(() => {});
    await clearHeartbeat(this.#redis, this.#keys, this.id).catch(() => {});
    this.#sub.disconnect();
    await Promise.all([this.#redis, ...this.#conns.values()].map((c) => c.quit().catch(() => {})));
    await this.#ollama.close();
  }

  #onCancel(jobId: string): void {
    const ctrl = this.#running.get(jobId);
    if (ctrl) ctrl.abort();
    else {
      this.#cancelled.set(jobId, Date.now());
      if (this.#cancelled.size > 1000) {
        const cutoff = Date.now() - 60_000;
        for (const [id, at] of this.#cancelled) if (at < cutoff) this.#cancelled.delete(id);
      }
    }
  }

  /** Reads the instance's models and serves exactly those wanted (one round at a time). */
  #discover(): Promise<void> {
    this.#discovering ??= this.#discoverOnce().finally(() => {
      this.#discovering = undefined;
    });
    return this.#discovering;
  }

  async #discoverOnce(): Promise<void> {
    if (this.#closing) return;
    try {
      const [tags, version] = await Promise.all([this.#ollama.tags(), this.#ollama.version()]);
      this.#version = version.version;
      this.#installed = tags.models.map((m) => m.name).sort();
      const wanted = this.#opts.models
        ? this.#installed.filter((m) => this.#opts.models!.includes(m))
        : this.#installed;
      for (const [model, worker] of this.#workers)
        if (!wanted.includes(model)) this.#dropModel(model, worker);
      for (const model of wanted) {
        if (this.#workers.has(model)) continue;
        const show = await this.#ollama.show(model).catch(() => undefined);
        if (show?.capabilities?.includes('vision')) this.#vision.add(model);
        this.#workers.set(model, this.#makePuller(model));
        this.#log.info({ model }, 'serving model');
      }
      if (this.#opts.models) {
        const missing = this.#opts.models.filter((m) => !this.#installed.includes(m));
        if (missing.length)
          this.#log.warn({ missing }, 'configured models are not installed on the instance');
      }
      // While out of service only the probe brings the instance back (it paces an instance that
      // answers but fails the work).
      if (!this.#probe) this.#markHealthy();
    } catch (err) {
      this.#markUnhealthy(err as Error);
    }
  }

  /**
   * Stops serving a model the instance no longer has (deleted, or no longer configured), so
   * gateways stop routing it here. Jobs of it already running end as Ollama answers them.
   */
  #dropModel(model: string, worker: ModelPuller): void {
    this.#workers.delete(model);
    this.#vision.delete(model);
    const conn = this.#conns.get(model);
    this.#conns.delete(model);
    this.#log.warn({ model }, 'model no longer on the instance; stopped serving it');
    void this.#beat();
    const closing = worker
      .close()
      .catch(() => {})
      .then(() => conn?.quit().catch(() => {}))
      .then(() => {
        this.#dropping.delete(closing);
      });
    this.#dropping.add(closing);
  }

  /**
   * A model's queue connection: its BullMQ Workers' commands and the replies of its jobs. Writes
   * are coalesced per turn of the event loop, so a job's reply and its move to finished (and
   * those of other jobs that ended in the same turn) reach Redis in one write.
   */
  #conn(model: string): Redis {
    let c = this.#conns.get(model);
    if (!c) {
      c = coalesceWrites(createRedis(this.#opts.redisUrl, 'worker'));
      this.#conns.set(model, c);
    }
    return c;
  }

  #makePuller(model: string): ModelPuller {
    const lockDuration = this.#opts.lockDurationMs ?? 10_000;
    const connection = this.#conn(model);
    const workers = splitSlots(this.#opts.numParallel).map((concurrency) => {
      const worker = new Worker<ProcessJobData, ProcessJobResult>(
        queueNameFor(model),
        (job, token) => this.#run(job, token),
        {
          connection,
          prefix: this.#keys.bull,
          concurrency,
          lockDuration,
          stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
          maxStalledCount: 1,
          // Started by resume() once the instance is in service, so none fetches while it is out.
          autorun: false,
        },
      );
      worker.on('error', (err) => this.#log.error({ err: { message: err.message } }, 'queue worker error'));
      // A deferred failure is one BullMQ decided (the job stalled too often); the job never ran here.
      worker.on('failed', (job) => {
        if (job?.deferredFailure) this.#onLost(job);
      });
      return worker;
    });
    const puller = new ModelPuller(workers);
    if (this.#healthy) puller.resume();
    return puller;
  }

  async #run(
    job: Job<ProcessJobData, ProcessJobResult>,
    token: string | undefined,
  ): Promise<ProcessJobResult> {
    const jobId = job.id!;
    const ctrl = new AbortController();
    if (this.#cancelled.delete(jobId)) ctrl.abort();
    this.#running.set(jobId, ctrl);
    const t0 = performance.now();
    const d = job.data;
    // Every message of a job goes over one connection, so chunks, answer and error stay in order.
    const replies = this.#conn(d.model);
    const about = this.#about(jobId, d);
    try {
      if (!this.#healthy) await this.#handBack(job, token);
      this.#audit.push({ ...about, action: 'process.started', outcome: 'success' });
      return await processJob(jobId, job.data, {
        instanceId: this.id,
        ollama: this.#ollama,
        sealer: this.#opts.sealer,
        keepAlive: this.#opts.keepAlive,
        signal: ctrl.signal,
        publish: (channel, message) => void replies.publish(channel, JSON.stringify(message)),
        onInstanceFailure: (err) => this.#markUnhealthy(err),
        onOutcome: (outcome) => {
          this.#observe(job.data.model, job.data.acceptedAt, outcome);
          this.#audit.push({
            ...about,
            action: 'process.completed',
            outcome: 'success',
            durations: {
              totalMs: Math.max(0, outcome.finishedAt - d.acceptedAt),
              queueMs: Math.max(0, outcome.startedAt - d.acceptedAt),
              loadMs: outcome.loadMs,
              promptEvalMs: outcome.promptEvalMs,
              generationMs: outcome.generationMs,
            },
            tokens: { prompt: outcome.promptTokens, completion: outcome.completionTokens },
            digests: { output: auditDigest(outcome.response) },
          });
        },
      });
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      const failure =
        err instanceof JobFailure
          ? err
          : new JobFailure(JOB_ERROR_CODES.internal, 'the worker failed to run the job', false);
      const attempts = job.opts.attempts ?? 1;
      const final = !failure.retryable || job.attemptsMade + 1 >= attempts || Date.now() >= job.data.deadline;
      this.#log.warn(
        { jobId, model: job.data.model, code: failure.code, final, ms: Math.round(performance.now() - t0) },
        'job failed',
      );
      // The instance lost a model it advertised: look again now rather than at the next round.
      if (failure.code === JOB_ERROR_CODES.modelNotFound) void this.#discover();
      if (!final) throw new Error(failure.toReason());
      const cancelled = failure.code === JOB_ERROR_CODES.cancelled;
      this.#audit.push({
        ...about,
        action: cancelled ? 'process.cancelled' : 'process.failed',
        outcome: cancelled ? 'success' : 'error',
        reason: failure.code,
      });
      if (job.data.replyTo) this.#reply(job, failure.code, failure.message, replies);
      throw new UnrecoverableError(failure.toReason());
    } finally {
      this.#running.delete(jobId);
    }
  }

  /**
   * Pausing does not stop a fetch already waiting, so a job can still arrive while out of service.
   * It goes back for a healthy instance without spending one of its attempts; if that fails (the
   * job's lock is gone), it fails as any job whose instance is out of service does.
   */
  async #handBack(job: Job<ProcessJobData, ProcessJobResult>, token: string | undefined): Promise<never> {
    try {
      await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
    } catch {
      throw new JobFailure(JOB_ERROR_CODES.unavailable, `instance ${this.id} is out of service`, true);
    }
    throw new DelayedError();
  }

  /**
   * Tells the gateway waiting for `job` that it failed: over the connection that carried the job's
   * other messages (so they stay in order), or the shared one for a job that never ran here.
   */
  #reply(
    job: Job<ProcessJobData, ProcessJobResult>,
    code: string,
    message: string,
    via: Redis = this.#redis,
  ): void {
    via
      .publish(job.data.replyTo!, JSON.stringify({ j: job.id, t: 'e', c: code, m: message }))
      .catch(() => {});
  }

  /** Who and what a job's audit events are about. */
  #about(jobId: string, d: ProcessJobData) {
    return {
      actor: { sub: d.actor.sub, role: d.actor.role, method: d.actor.method },
      requestId: d.requestId,
      resource: {
        type: d.task ? ('task' as const) : ('job' as const),
        jobId,
        model: d.model,
        instance: this.id,
        ...(d.task && { task: d.task }),
      },
    };
  }

  /**
   * BullMQ failed a job without running it here: its workers stopped while running it more often
   * than allowed (it stalled). The waiting gateway hears so now, rather than at the deadline.
   */
  #onLost(job: Job<ProcessJobData, ProcessJobResult>): void {
    const d = job.data;
    this.#log.warn(
      { jobId: job.id, model: d.model, code: JOB_ERROR_CODES.internal },
      'job lost: it stalled too often',
    );
    this.#audit.push({
      ...this.#about(job.id!, d),
      action: 'process.failed',
      outcome: 'error',
      reason: JOB_ERROR_CODES.internal,
    });
    if (d.replyTo) this.#reply(job, JOB_ERROR_CODES.internal, LOST_JOB_MESSAGE);
  }

  #observe(model: string, acceptedAt: number, o: ProcessOutcome): void {
    // A cold load is a one-off; what drains a queue is the time a loaded model takes.
    const ms = Math.max(0, o.finishedAt - o.startedAt - o.loadMs);
    const prev = this.#serviceMs.get(model);
    this.#serviceMs.set(model, prev === undefined ? ms : prev * 0.9 + ms * 0.1);
    const m = this.#opts.metrics;
    if (!m) return;
    const labels = { model, instance: this.id };
    m.jobWait.observe(labels, Math.max(0, o.startedAt - acceptedAt) / 1000);
    m.jobProcessing.observe(labels, (o.finishedAt - o.startedAt) / 1000);
    m.tokensGenerated.inc({ model }, o.completionTokens);
    if (o.generationMs > 0 && o.completionTokens > 0)
      m.tokensPerSecond.observe({ model }, o.completionTokens / (o.generationMs / 1000));
    if (o.loadMs > LOAD_THRESHOLD_MS) m.modelLoads.inc(labels);
  }

  #markHealthy(): void {
    if (this.#healthy) return;
    this.#healthy = true;
    if (this.#lastError !== undefined) this.#restoredAt = Date.now();
    this.#lastError = undefined;
    // Starts Workers created while out of service, resumes paused ones.
    for (const w of this.#workers.values()) w.resume();
    this.#log.info({ url: this.#opts.ollamaUrl }, 'Ollama instance is reachable');
  }

  /**
   * Takes the instance out of service until a probe succeeds. With `abortRunning` (its health
   * check failed, not just one request) the jobs running there are handed back at once.
   */
  #markUnhealthy(err: Error | OllamaError, opts: { abortRunning?: boolean } = {}): void {
    if (opts.abortRunning) this.#handBackRunning();
    const reason = 'code' in err ? String(err.code) : err.message;
    this.#lastError = reason;
    if (!this.#healthy && this.#probe) return;
    const wasHealthy = this.#healthy;
    this.#healthy = false;
    for (const w of this.#workers.values()) void w.pause(true);
    this.#log[wasHealthy ? 'error' : 'warn'](
      { url: this.#opts.ollamaUrl, reason },
      'Ollama instance is unreachable; retrying',
    );
    // An instance that fails again soon after a probe let it back (it answers the probe but not
    // the work) stays out twice as long each time, so it does not burn jobs' attempts once a second.
    const flapped = wasHealthy && Date.now() - this.#restoredAt < FLAP_WINDOW_MS;
    this.#outFor = flapped ? Math.min(this.#outFor * 2, PROBE_MAX_MS) : this.#probeMs;
    if (flapped)
      this.#log.warn(
        { url: this.#opts.ollamaUrl, outForMs: this.#outFor },
        'Ollama instance failed again soon after returning',
      );
    void this.#beat();
    const probe = async () => {
      if (this.#closing) return;
      if (await this.#ollama.ping().catch(() => false)) {
        this.#probe = undefined;
        // Back in service once the instance's models are read again (a failure there starts over).
        await this.#discover();
        void this.#beat();
      } else {
        // Out of service after one failed request, and now the instance itself does not answer.
        this.#handBackRunning();
        this.#probe = setTimeout(probe, this.#probeMs);
      }
    };
    if (this.#probe) clearTimeout(this.#probe);
    this.#probe = setTimeout(probe, this.#outFor);
  }

  /** The instance failed its health check: jobs running there will not finish, so they run elsewhere. */
  #handBackRunning(): void {
    for (const ctrl of this.#running.values()) ctrl.abort(INSTANCE_FAILED);
  }

  async #beat(): Promise<void> {
    if (this.#closing) return;
    if (this.#healthy) {
      try {
        this.#loaded = (await this.#ollama.ps()).models.map((m) => m.name).sort();
      } catch (err) {
        // The instance itself does not answer: what runs there will not finish either.
        this.#markUnhealthy(err as Error, { abortRunning: true });
      }
    }
    this.#opts.metrics?.instanceUp.set({ instance: this.id }, this.#healthy ? 1 : 0);
    this.#opts.metrics?.instanceInflight.set({ instance: this.id }, this.#running.size);
    const hb: InstanceHeartbeat = {
      id: this.id,
      url: this.#opts.ollamaUrl,
      healthy: this.#healthy,
      models: this.models.sort(),
      installed: this.#installed,
      loaded: this.#loaded,
      vision: [...this.#vision].sort(),
      inFlight: this.#running.size,
      numParallel: this.#opts.numParallel,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
      ...(this.#version !== undefined && { ollamaVersion: this.#version }),
      ...(this.#serviceMs.size > 0 && {
        serviceMs: Object.fromEntries([...this.#serviceMs].map(([m, ms]) => [m, Math.round(ms)])),
      }),
      startedAt: this.#startedAt,
      updatedAt: Date.now(),
    };
    await writeHeartbeat(this.#redis, this.#keys, hb, this.#opts.heartbeatIntervalMs * 3).catch(
      (err: Error) => this.#log.warn({ reason: err.message }, 'heartbeat not written'),
    );
  }
}

/** Slots one BullMQ Worker fetches for; a model with more has several Workers. */
const SLOTS_PER_FETCHER = 4;
/** Most Workers (each with its own blocking Redis connection) for one model. */
const MAX_FETCHERS = 16;

/**
 * Splits a model's parallel slots over BullMQ Workers. A Worker fetches jobs one Redis round trip
 * after another, so with many slots (a small, fast model) a burst would wait on that sequence
 * while slots stand free; several Workers fetch side by side. The parts add up to `numParallel`,
 * so the instance never runs more at once; up to {@link SLOTS_PER_FETCHER} slots it is one Worker.
 */
export function splitSlots(numParallel: number): number[] {
  const n = Math.min(MAX_FETCHERS, Math.max(1, Math.ceil(numParallel / SLOTS_PER_FETCHER)));
  const base = Math.floor(numParallel / n);
  return Array.from({ length: n }, (_, i) => base + (i < numParallel % n ? 1 : 0));
}

/** The BullMQ Workers that pull one model's jobs, paused, resumed and closed together. */
class ModelPuller {
  constructor(readonly workers: readonly Worker<ProcessJobData, ProcessJobResult>[]) {}

  /** Starts Workers not yet running and resumes paused ones (a no-op for one already pulling). */
  resume(): void {
    for (const w of this.workers) {
      if (w.isRunning()) {
        if (w.isPaused()) w.resume();
        continue;
      }
      // BullMQ's resume() would start it without handling a start that fails (Redis gone at that
      // moment): the rejection would go unhandled and end the process. Started here, a failed
      // start is reported as the Worker's error, as BullMQ's own autorun does.
      (w as unknown as { paused: boolean }).paused = false;
      w.run().catch((err: Error) => w.emit('error', err));
    }
  }

  async pause(doNotWaitActive: boolean): Promise<void> {
    await Promise.all(this.workers.map((w) => w.pause(doNotWaitActive)));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
