// The capacity model: which models are resident, who holds a slot, who waits, and how fast tokens come.
import { performance } from 'node:perf_hooks';
import type { ModelEntry } from './catalog.js';
import type { CounterStore, LoadedModelState } from './counters.js';
import { isZeroLatency, type RuntimeConfig } from './options.js';

/** What a request asks of a model. */
export type JobKind = 'generate' | 'embed' | 'load';

/** The work one request brings to the scheduler. */
export interface JobPlan {
  model: ModelEntry;
  kind: JobKind;
  promptTokens: number;
  /** Tokens to generate (0 for embeddings and loads). */
  genTokens: number;
  /** Report tokens as they come (streaming) rather than only at the end. */
  streamTokens: boolean;
  /** Wall-clock milliseconds added to prompt evaluation (scripted delays). */
  extraDelayMs: number;
  /** The request's keep_alive in simulated ms (Infinity = forever), or undefined for the default. */
  keepAliveMs: number | undefined;
}

/** Timings of a finished job, in simulated nanoseconds. */
export interface JobStats {
  loadNs: number;
  promptEvalNs: number;
  evalNs: number;
  totalNs: number;
  triggeredLoad: boolean;
}

/** How the scheduler reports back to the route that submitted a job. */
export interface JobCallbacks {
  /** Tokens `[from, to)` of the plan are now generated (streaming plans only). */
  onTokens?(from: number, to: number): void;
  onDone(stats: JobStats): void;
  /** The sim is shutting down (or the model was deleted) and will not finish the job. */
  onCancel?(reason: string): void;
}

type JobState = 'pending' | 'slot-wait' | 'load-wait' | 'prefill' | 'gen' | 'done' | 'aborted';

/** One request inside the scheduler. */
export class Job {
  state: JobState = 'pending';
  readonly arrivedAt = performance.now();
  assignedAt = 0;
  triggeredLoad = false;
  instance: Instance | null = null;
  holdsSlot = false;
  prefillStart = 0;
  prefillDueAt = 0;
  prefillEnd = 0;
  genStart = 0;
  crossAt = 0;
  progress = 0;
  emitted = 0;
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly plan: JobPlan,
    readonly callbacks: JobCallbacks,
  ) {}

  get finished(): boolean {
    return this.state === 'done' || this.state === 'aborted';
  }
}

/** A model resident in (or loading into) the simulated GPU. */
class Instance {
  state: 'loading' | 'ready' = 'loading';
  /** Wall-clock time the load may finish at, at the earliest (timers can fire a little early). */
  loadDueAt = 0;
  readyAt = Number.POSITIVE_INFINITY;
  lastUsed = performance.now();
  lastSettle = 0;
  keepAliveMs: number;
  /** Wall-clock epoch ms when an idle instance unloads; undefined while busy or kept forever. */
  expiresAtEpoch: number | undefined;
  expiryTimer: NodeJS.Timeout | null = null;
  loadTimer: NodeJS.Timeout | null = null;
  readonly holders = new Set<Job>();
  readonly generating = new Set<Job>();
  readonly slotQueue: Job[] = [];
  readonly loadWaiters: Job[] = [];

  constructor(
    readonly model: ModelEntry,
    keepAliveMs: number,
  ) {
    this.keepAliveMs = keepAliveMs;
  }

  get busy(): boolean {
    return (
      this.state === 'loading' ||
      this.holders.size > 0 ||
      this.slotQueue.length > 0 ||
      this.loadWaiters.length > 0
    );
  }
}

const FOREVER_MS = 9_223_372_036_854; // Go's max time.Duration, as Ollama reports "forever"

/** Allocates slots and loads for jobs, and paces their tokens. */
export class Scheduler {
  readonly #instances = new Map<string, Instance>();
  #pending: Job[] = [];
  #pumping = false;
  #repump = false;

  constructor(
    readonly config: RuntimeConfig,
    readonly counters: CounterStore,
  ) {}

  /** Queued jobs: waiting for the scheduler or for a slot. */
  get queued(): number {
    let n = this.#pending.length;
    for (const inst of this.#instances.values()) n += inst.slotQueue.length;
    return n;
  }

  /** Accepts a job, or returns 'busy' when it would have to wait and the queue is full. */
  submit(plan: JobPlan, callbacks: JobCallbacks): Job | 'busy' {
    const job = new Job(plan, callbacks);
    if (this.#pending.length === 0) {
      const inst = this.#instances.get(plan.model.key);
      const fits = inst === undefined || plan.kind === 'load' || inst.holders.size < this.#slots(inst);
      if (fits && this.#place(job)) return job;
    }
    if (this.queued >= this.config.maxQueue) return 'busy';
    this.#pending.push(job);
    this.#queued(job, 1);
    this.#pump();
    return job;
  }

  /** Takes a job out wherever it is (the client went away). Returns false if it had already ended. */
  abort(job: Job): boolean {
    if (job.finished) return false;
    const inst = job.instance;
    const now = performance.now();
    switch (job.state) {
      case 'pending':
        this.#pending = this.#pending.filter((j) => j !== job);
        this.#queued(job, -1);
        break;
      case 'slot-wait':
        if (inst) inst.slotQueue.splice(inst.slotQueue.indexOf(job), 1);
        this.#queued(job, -1);
        break;
      case 'gen':
        if (inst) {
          this.#settle(inst, now);
          inst.generating.delete(job);
        }
        break;
      default:
        break;
    }
    if (job.timer) clearTimeout(job.timer);
    job.timer = null;
    if (job.plan.kind === 'load' && inst) {
      const i = inst.loadWaiters.indexOf(job);
      if (i >= 0) inst.loadWaiters.splice(i, 1);
    }
    const wasActive = job.state === 'prefill' || job.state === 'gen';
    job.state = 'aborted';
    if (inst) {
      if (wasActive) this.counters.activeDelta(job.plan.model.name, -1);
      this.#release(job, inst, now);
      this.#reschedule(inst);
    }
    this.#pump();
    return true;
  }

  /** Marks a model to unload as soon as it is idle (keep_alive 0 / delete). */
  expire(model: ModelEntry): void {
    const inst = this.#instances.get(model.key);
    if (!inst) return;
    inst.keepAliveMs = 0;
    if (!inst.busy) this.#unload(inst, 'unload');
  }

  /** Unloads every idle model and expires busy ones. */
  unloadAll(): void {
    for (const inst of [...this.#instances.values()]) {
      inst.keepAliveMs = 0;
      if (!inst.busy) this.#unload(inst, 'unload');
    }
  }

  /** Brings progress up to date before rates change (call {@link afterConfigChange} after). */
  beforeConfigChange(): void {
    const now = performance.now();
    for (const inst of this.#instances.values()) this.#settle(inst, now);
  }

  /** Re-paces running jobs and fills slots after a configuration change. */
  afterConfigChange(): void {
    const now = performance.now();
    for (const inst of this.#instances.values()) {
      inst.lastSettle = now;
      this.#fillSlots(inst);
      this.#reschedule(inst);
    }
    this.#pump();
  }

  /** Cancels everything; pending callbacks get onCancel. */
  shutdown(): void {
    const jobs = new Set<Job>(this.#pending);
    for (const inst of this.#instances.values()) {
      if (inst.loadTimer) clearTimeout(inst.loadTimer);
      if (inst.expiryTimer) clearTimeout(inst.expiryTimer);
      for (const j of inst.holders) jobs.add(j);
      for (const j of inst.slotQueue) jobs.add(j);
      for (const j of inst.loadWaiters) jobs.add(j);
    }
    this.#pending = [];
    this.#instances.clear();
    for (const job of jobs) {
      if (job.timer) clearTimeout(job.timer);
      job.timer = null;
      if (job.finished) continue;
      job.state = 'aborted';
      job.callbacks.onCancel?.('the sim is shutting down');
    }
  }

  /** Resident models for /api/ps, with their wall-clock expiry. */
  resident(): Array<{
    model: ModelEntry;
    expiresAt: Date;
    state: 'loading' | 'ready';
    active: number;
    queued: number;
  }> {
    const now = Date.now();
    return [...this.#instances.values()].map((inst) => {
      let expires: number;
      if (inst.expiresAtEpoch !== undefined) expires = inst.expiresAtEpoch;
      else if (inst.keepAliveMs === Number.POSITIVE_INFINITY) expires = now + FOREVER_MS;
      else expires = now + inst.keepAliveMs / this.config.timeScale;
      let active = 0;
      for (const j of inst.holders) if (j.state === 'prefill' || j.state === 'gen') active++;
      return {
        model: inst.model,
        expiresAt: new Date(expires),
        state: inst.state,
        active,
        queued: inst.slotQueue.length,
      };
    });
  }

  loadedStates(): LoadedModelState[] {
    return this.resident().map((r) => {
      const inst = this.#instances.get(r.model.key);
      return {
        model: r.model.name,
        state: r.state,
        active: r.active,
        queued: r.queued,
        expiresAt: inst?.expiresAtEpoch !== undefined ? r.expiresAt.toISOString() : null,
      };
    });
  }

  // ---- internals -------------------------------------------------------------------------------

  #slots(inst: Instance): number {
    return inst.model.numParallel ?? this.config.numParallel;
  }

  #zero(): boolean {
    return isZeroLatency(this.config);
  }

  #queued(job: Job, delta: number): void {
    this.counters.queuedDelta(job.plan.model.name, delta);
  }

  /** Hands pending jobs to instances in arrival order; the head waits when no model can make room. */
  #pump(): void {
    if (this.#pumping) {
      this.#repump = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#repump = false;
        while (this.#pending.length > 0) {
          const job = this.#pending[0]!;
          if (!this.#canPlace(job)) break;
          this.#pending.shift();
          this.#queued(job, -1);
          this.#place(job);
        }
      } while (this.#repump);
    } finally {
      this.#pumping = false;
    }
  }

  #canPlace(job: Job): boolean {
    return (
      this.#instances.has(job.plan.model.key) ||
      this.#instances.size < this.config.maxLoadedModels ||
      this.#lruIdle() !== undefined
    );
  }

  /** Gives a job to its model's instance, loading the model (evicting the LRU idle one) if needed. */
  #place(job: Job): boolean {
    let inst = this.#instances.get(job.plan.model.key);
    let load = false;
    if (!inst) {
      if (this.#instances.size >= this.config.maxLoadedModels) {
        const victim = this.#lruIdle();
        if (!victim) return false;
        this.#unload(victim, 'evict');
      }
      inst = this.#startLoad(job.plan.model);
      load = true;
    }
    job.triggeredLoad = load;
    this.#assign(job, inst);
    if (load) this.#maybeReady(inst);
    return true;
  }

  #lruIdle(): Instance | undefined {
    let best: Instance | undefined;
    for (const inst of this.#instances.values()) {
      if (inst.busy) continue;
      if (!best || inst.lastUsed < best.lastUsed) best = inst;
    }
    return best;
  }

  #startLoad(model: ModelEntry): Instance {
    const inst = new Instance(model, this.config.keepAliveMs);
    this.#instances.set(model.key, inst);
    this.counters.loads++;
    this.counters.model(model.name).loads++;
    return inst;
  }

  /** Finishes a load now (zero time) or arms its timer. */
  #maybeReady(inst: Instance): void {
    const loadMs = this.#zero()
      ? 0
      : (inst.model.loadTimeMs ?? this.config.loadTimeMs) / this.config.timeScale;
    inst.loadDueAt = performance.now() + loadMs;
    if (loadMs <= 0) this.#ready(inst);
    else inst.loadTimer = setTimeout(() => this.#ready(inst), loadMs);
  }

  #ready(inst: Instance): void {
    if (this.#instances.get(inst.model.key) !== inst) return;
    const now = Math.max(performance.now(), inst.loadDueAt);
    inst.loadTimer = null;
    inst.state = 'ready';
    inst.readyAt = now;
    inst.lastSettle = now;
    for (const job of inst.loadWaiters.splice(0)) this.#finishLoadJob(job, inst, now);
    for (const job of [...inst.holders]) if (job.state === 'load-wait') this.#begin(job, inst);
    this.#maybeIdle(inst);
  }

  #assign(job: Job, inst: Instance): void {
    const now = performance.now();
    job.instance = inst;
    job.assignedAt = now;
    inst.lastUsed = now;
    inst.keepAliveMs = job.plan.keepAliveMs ?? this.config.keepAliveMs;
    this.#cancelExpiry(inst);
    if (job.plan.kind === 'load') {
      if (inst.state === 'ready') this.#finishLoadJob(job, inst, now);
      else {
        job.state = 'load-wait';
        inst.loadWaiters.push(job);
      }
      return;
    }
    if (inst.holders.size < this.#slots(inst)) this.#takeSlot(job, inst);
    else {
      job.state = 'slot-wait';
      inst.slotQueue.push(job);
      this.#queued(job, 1);
    }
  }

  #takeSlot(job: Job, inst: Instance): void {
    inst.holders.add(job);
    job.holdsSlot = true;
    if (inst.state === 'ready') this.#begin(job, inst);
    else job.state = 'load-wait';
  }

  #fillSlots(inst: Instance): void {
    while (
      inst.slotQueue.length > 0 &&
      inst.holders.size < this.#slots(inst) &&
      this.#instances.get(inst.model.key) === inst
    ) {
      const next = inst.slotQueue.shift()!;
      this.#queued(next, -1);
      this.#takeSlot(next, inst);
    }
  }

  /** Starts prompt evaluation. */
  #begin(job: Job, inst: Instance): void {
    const now = performance.now();
    job.state = 'prefill';
    job.prefillStart = now;
    this.counters.activeDelta(job.plan.model.name, 1);
    let ms = job.plan.extraDelayMs;
    if (!this.#zero()) {
      const tps = (inst.model.promptTokensPerSec ?? this.config.promptTokensPerSec) * this.config.speedFactor;
      if (Number.isFinite(tps)) ms += ((job.plan.promptTokens / tps) * 1000) / this.config.timeScale;
    }
    job.prefillDueAt = now + ms;
    if (ms <= 0) this.#startGen(job, inst);
    else job.timer = setTimeout(() => this.#startGen(job, inst), ms);
  }

  #genRate(inst: Instance): number {
    if (this.#zero()) return Number.POSITIVE_INFINITY;
    return (inst.model.genTokensPerSec ?? this.config.genTokensPerSec) * this.config.speedFactor;
  }

  /** Tokens per wall-clock millisecond for each of n jobs generating together. */
  #perJobRate(inst: Instance, n: number): number {
    const aggregate = this.#genRate(inst) * n ** this.config.batchAlpha;
    return ((aggregate / n) * this.config.timeScale) / 1000;
  }

  #startGen(job: Job, inst: Instance): void {
    const now = performance.now();
    job.timer = null;
    job.prefillEnd = Math.max(now, job.prefillDueAt);
    job.genStart = now;
    job.state = 'gen';
    const total = job.plan.genTokens;
    if (total <= 0 || !Number.isFinite(this.#genRate(inst))) {
      job.crossAt = now;
      job.progress = total;
      if (total > 0 && job.plan.streamTokens) {
        job.emitted = total;
        job.callbacks.onTokens?.(0, total);
        if (job.finished) return;
      }
      this.#finish(job, inst, now);
      return;
    }
    this.#settle(inst, now);
    inst.generating.add(job);
    this.#reschedule(inst);
  }

  /** Advances every generating job of an instance to `now` at the rate that held since the last settle. */
  #settle(inst: Instance, now: number): void {
    const n = inst.generating.size;
    const dt = now - inst.lastSettle;
    inst.lastSettle = now;
    if (n === 0 || dt <= 0) return;
    const rate = this.#perJobRate(inst, n);
    for (const job of inst.generating) {
      const total = job.plan.genTokens;
      const before = job.progress;
      job.progress = before + dt * rate;
      if (job.progress >= total && job.crossAt === 0) job.crossAt = now - dt + (total - before) / rate;
    }
  }

  #reschedule(inst: Instance): void {
    for (const job of inst.generating) this.#rescheduleOne(job, inst);
  }

  #tick(job: Job, inst: Instance): void {
    job.timer = null;
    if (job.state !== 'gen') return;
    const now = performance.now();
    this.#settle(inst, now);
    const total = job.plan.genTokens;
    const reached = Math.min(total, Math.floor(job.progress + 1e-9));
    if (job.plan.streamTokens && reached > job.emitted) {
      const from = job.emitted;
      job.emitted = reached;
      job.callbacks.onTokens?.(from, reached);
      if (job.state !== 'gen') return;
    }
    if (reached >= total) {
      if (job.crossAt === 0) job.crossAt = now;
      inst.generating.delete(job);
      this.#finish(job, inst, now);
      this.#reschedule(inst);
    } else {
      this.#rescheduleOne(job, inst);
    }
  }

  /** Arms the job's timer for its next token (streaming, batched to minTickMs) or its last one. */
  #rescheduleOne(job: Job, inst: Instance): void {
    if (job.timer) clearTimeout(job.timer);
    const rate = this.#perJobRate(inst, inst.generating.size);
    const total = job.plan.genTokens;
    const target = job.plan.streamTokens ? Math.min(total, Math.floor(job.progress + 1e-9) + 1) : total;
    let delay = Math.max(0, (target - job.progress) / rate);
    if (job.plan.streamTokens && target < total) delay = Math.max(delay, this.config.minTickMs);
    job.timer = setTimeout(() => this.#tick(job, inst), delay);
  }

  #toNs(wallMs: number): number {
    return Math.max(0, Math.round(wallMs * this.config.timeScale * 1e6));
  }

  #nominalNs(tokens: number, tps: number): number {
    const rate = tps * this.config.speedFactor;
    return Number.isFinite(rate) && tokens > 0 ? Math.round((tokens / rate) * 1e9) : 0;
  }

  #finish(job: Job, inst: Instance, now: number): void {
    const plan = job.plan;
    let stats: JobStats;
    if (this.#zero()) {
      const loadNs = job.triggeredLoad
        ? Math.round((plan.model.loadTimeMs ?? this.config.loadTimeMs) * 1e6)
        : 0;
      const promptEvalNs =
        this.#nominalNs(plan.promptTokens, plan.model.promptTokensPerSec ?? this.config.promptTokensPerSec) +
        this.#toNs(plan.extraDelayMs);
      const evalNs = this.#nominalNs(
        plan.genTokens,
        plan.model.genTokensPerSec ?? this.config.genTokensPerSec,
      );
      stats = {
        loadNs,
        promptEvalNs,
        evalNs,
        totalNs: loadNs + promptEvalNs + evalNs,
        triggeredLoad: job.triggeredLoad,
      };
    } else {
      const loadNs = this.#toNs(Math.max(job.assignedAt, inst.readyAt) - job.arrivedAt);
      const promptEvalNs = this.#toNs(job.prefillEnd - job.prefillStart);
      const evalNs = plan.genTokens > 0 ? this.#toNs(job.crossAt - job.genStart) : 0;
      const totalNs = Math.max(this.#toNs(now - job.arrivedAt), loadNs + promptEvalNs + evalNs);
      stats = { loadNs, promptEvalNs, evalNs, totalNs, triggeredLoad: job.triggeredLoad };
    }
    job.state = 'done';
    this.counters.activeDelta(plan.model.name, -1);
    this.counters.completed++;
    this.counters.promptTokens += plan.promptTokens;
    this.counters.evalTokens += plan.genTokens;
    const mc = this.counters.model(plan.model.name);
    mc.completed++;
    mc.promptTokens += plan.promptTokens;
    mc.evalTokens += plan.genTokens;
    this.#release(job, inst, now);
    job.callbacks.onDone(stats);
    this.#pump();
  }

  #finishLoadJob(job: Job, inst: Instance, now: number): void {
    job.state = 'done';
    this.counters.completed++;
    this.counters.model(job.plan.model.name).completed++;
    const loadNs = this.#zero()
      ? job.triggeredLoad
        ? Math.round((inst.model.loadTimeMs ?? this.config.loadTimeMs) * 1e6)
        : 0
      : this.#toNs(now - job.arrivedAt);
    job.callbacks.onDone({
      loadNs,
      promptEvalNs: 0,
      evalNs: 0,
      totalNs: loadNs,
      triggeredLoad: job.triggeredLoad,
    });
  }

  #release(job: Job, inst: Instance, now: number): void {
    if (job.holdsSlot) {
      inst.holders.delete(job);
      job.holdsSlot = false;
    }
    inst.lastUsed = now;
    this.#fillSlots(inst);
    this.#maybeIdle(inst);
  }

  #cancelExpiry(inst: Instance): void {
    if (inst.expiryTimer) clearTimeout(inst.expiryTimer);
    inst.expiryTimer = null;
    inst.expiresAtEpoch = undefined;
  }

  /** Starts the keep-alive countdown of an instance nobody uses. */
  #maybeIdle(inst: Instance): void {
    if (inst.busy || this.#instances.get(inst.model.key) !== inst) return;
    this.#cancelExpiry(inst);
    if (inst.keepAliveMs <= 0) {
      this.#unload(inst, 'unload');
      return;
    }
    if (!Number.isFinite(inst.keepAliveMs)) return;
    const wallMs = inst.keepAliveMs / this.config.timeScale;
    inst.expiresAtEpoch = Date.now() + wallMs;
    if (wallMs < 2 ** 31 - 1) {
      inst.expiryTimer = setTimeout(() => {
        inst.expiryTimer = null;
        if (!inst.busy) this.#unload(inst, 'unload');
      }, wallMs);
      inst.expiryTimer.unref();
    }
  }

  #unload(inst: Instance, reason: 'evict' | 'unload'): void {
    if (this.#instances.get(inst.model.key) !== inst) return;
    this.#cancelExpiry(inst);
    if (inst.loadTimer) clearTimeout(inst.loadTimer);
    this.#instances.delete(inst.model.key);
    const mc = this.counters.model(inst.model.name);
    if (reason === 'evict') {
      this.counters.evictions++;
      mc.evictions++;
    } else {
      this.counters.unloads++;
      mc.unloads++;
    }
    this.#pump();
  }
}
