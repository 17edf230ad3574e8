// The state of one sim: installed models, scheduler, counters, scripts and failure mode.
import { ModelCatalog, type ModelEntry } from './catalog.js';
import { CounterStore, type SimCounters } from './counters.js';
import {
  DEFAULT_MODELS,
  type ModelSpec,
  type RuntimeConfig,
  resolveRuntimeConfig,
  type SimOptions,
  validateRuntimeConfig,
} from './options.js';
import { Scheduler } from './scheduler.js';
import { ScriptBook, type ScriptRule } from './scripts.js';
import { hash32 } from './text.js';

/**
 * Makes the sim misbehave on purpose (control endpoints under `/__sim` keep working except with `refuse`).
 * - `refuse`: stop listening, so connections are refused (needs {@link startSim}; with inject it acts as `reset`).
 * - `reset`: accept connections and destroy them at once.
 * - `hang`: hold requests without answering until the failure is cleared, then serve them.
 * - `error` (or `error500`/`error503`): answer every API request with `status` and `{"error": message}`.
 */
export interface FailureSpec {
  mode: 'none' | 'refuse' | 'reset' | 'hang' | 'error' | 'error500' | 'error503';
  /** Status for `error` mode. Default 500. */
  status?: number;
  /** Message for `error` mode. Default `an error was encountered while running the model`. */
  message?: string;
  /** Clear the failure by itself after this many wall-clock milliseconds. */
  forMs?: number;
}

/** A failure in effect, normalised. */
export interface ActiveFailure {
  mode: 'refuse' | 'reset' | 'hang' | 'error';
  status: number;
  message: string;
}

/** What {@link SimControl.reset} clears besides the counters. */
export interface ResetOptions {
  /** Remove script rules. Default true. */
  scripts?: boolean;
  /** Clear the failure mode. Default true. */
  failure?: boolean;
  /** Unload every idle model. Default false. */
  unload?: boolean;
}

/** Controls shared by the Fastify decoration `app.sim` and the {@link SimHandle} of a started sim. */
export interface SimControl {
  /** A fresh snapshot of the counters (with the request log). */
  readonly counters: SimCounters;
  /** Snapshot, optionally without the log. */
  snapshot(opts?: { log?: boolean }): SimCounters;
  /** Zeroes the counters and empties the log. */
  resetCounters(): void;
  /** Counters, log and (by default) scripts and failure mode back to a clean state. */
  reset(opts?: ResetOptions): Promise<void>;
  /** Adds a script rule; returns its id. */
  script(rule: ScriptRule): number;
  /** Removes one script rule. */
  unscript(id: number): boolean;
  clearScripts(): void;
  /** Sets (or with null / `{mode:'none'}` clears) a failure mode; resolves once it is in effect. */
  setFailure(spec: FailureSpec | null): Promise<void>;
  /** The failure in effect, if any. */
  readonly failure: ActiveFailure | null;
  /** Holds new requests unanswered until {@link resume} (same as `setFailure({mode:'hang'})`). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Changes capacity or speed settings while running; returns the settings now in effect. */
  configure(patch: Partial<RuntimeConfig>): RuntimeConfig;
  readonly config: Readonly<RuntimeConfig>;
  /** Installs (or replaces) a model. */
  installModel(name: string, spec?: ModelSpec): void;
  /** Uninstalls a model; true if it was installed. */
  removeModel(name: string): boolean;
  /** Names of the installed models. */
  modelNames(): string[];
  /** Unloads every idle model (busy ones unload when they finish). */
  unloadAll(): void;
}

const DEFAULT_ERROR = 'an error was encountered while running the model';

/** One sim's state and behaviour, independent of HTTP. */
export class SimEngine implements SimControl {
  readonly catalog: ModelCatalog;
  readonly pullable: 'any' | ModelCatalog;
  readonly store: CounterStore;
  readonly scheduler: Scheduler;
  readonly scripts = new ScriptBook();
  readonly runtime: RuntimeConfig;
  readonly version: string;
  readonly baseSeed: number;
  readonly defaultTokens: SimOptions['defaultTokens'];
  /** Set by startSim so `refuse` can stop and restart the listener. */
  refuseHandler: ((refuse: boolean) => Promise<void>) | undefined;
  #failure: ActiveFailure | null = null;
  #failureTimer: NodeJS.Timeout | null = null;
  #parked = new Set<() => void>();
  #nonce = 0;
  #closed = false;

  constructor(opts: SimOptions = {}) {
    this.runtime = resolveRuntimeConfig(opts);
    const started = new Date();
    this.catalog = new ModelCatalog(opts.models ?? DEFAULT_MODELS, started);
    const pullable = opts.pullable ?? 'any';
    this.pullable = pullable === 'any' ? 'any' : new ModelCatalog(pullable, started);
    this.store = new CounterStore(opts.logSize ?? 1000);
    this.scheduler = new Scheduler(this.runtime, this.store);
    this.version = opts.version ?? '0.12.6';
    this.baseSeed = opts.seed ?? 0;
    this.defaultTokens = opts.defaultTokens;
  }

  get counters(): SimCounters {
    return this.snapshot();
  }

  snapshot(opts: { log?: boolean } = {}): SimCounters {
    return this.store.snapshot(this.scheduler.loadedStates(), opts.log !== false);
  }

  resetCounters(): void {
    this.store.reset();
  }

  async reset(opts: ResetOptions = {}): Promise<void> {
    this.store.reset();
    if (opts.scripts !== false) this.scripts.clear();
    if (opts.unload === true) this.scheduler.unloadAll();
    if (opts.failure !== false) await this.setFailure(null);
  }

  script(rule: ScriptRule): number {
    return this.scripts.add(rule);
  }

  unscript(id: number): boolean {
    return this.scripts.remove(id);
  }

  clearScripts(): void {
    this.scripts.clear();
  }

  get failure(): ActiveFailure | null {
    return this.#failure ? { ...this.#failure } : null;
  }

  async setFailure(spec: FailureSpec | null): Promise<void> {
    if (this.#failureTimer) clearTimeout(this.#failureTimer);
    this.#failureTimer = null;
    const next = normaliseFailure(spec);
    const wasRefusing = this.#failure?.mode === 'refuse';
    this.#failure = next;
    if (next?.mode !== 'hang') this.#releaseParked();
    const refusing = next?.mode === 'refuse';
    if (refusing !== wasRefusing && this.refuseHandler && !this.#closed) await this.refuseHandler(refusing);
    if (next && spec?.forMs !== undefined && spec.forMs >= 0) {
      this.#failureTimer = setTimeout(() => {
        this.#failureTimer = null;
        void this.setFailure(null);
      }, spec.forMs);
    }
  }

  pause(): Promise<void> {
    return this.setFailure({ mode: 'hang' });
  }

  resume(): Promise<void> {
    return this.setFailure(null);
  }

  /** Resolves when the `hang` failure clears (or the sim closes). */
  waitWhileHung(): Promise<void> {
    if (this.#failure?.mode !== 'hang') return Promise.resolve();
    return new Promise((resolve) => {
      const release = () => {
        this.#parked.delete(release);
        resolve();
      };
      this.#parked.add(release);
    });
  }

  #releaseParked(): void {
    for (const release of [...this.#parked]) release();
  }

  get config(): Readonly<RuntimeConfig> {
    return { ...this.runtime };
  }

  configure(patch: Partial<RuntimeConfig>): RuntimeConfig {
    const next: RuntimeConfig = { ...this.runtime };
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (!(key in next)) throw new RangeError(`ollama-sim: unknown setting ${key}`);
      (next as unknown as Record<string, unknown>)[key] = value;
    }
    validateRuntimeConfig(next);
    this.scheduler.beforeConfigChange();
    Object.assign(this.runtime, next);
    this.scheduler.afterConfigChange();
    return { ...this.runtime };
  }

  installModel(name: string, spec: ModelSpec = {}): void {
    this.catalog.add(name, spec);
  }

  removeModel(name: string): boolean {
    const entry = this.catalog.get(name);
    if (!entry) return false;
    this.scheduler.expire(entry);
    return this.catalog.remove(name);
  }

  modelNames(): string[] {
    return this.catalog.list().map((m) => m.name);
  }

  unloadAll(): void {
    this.scheduler.unloadAll();
  }

  /** A number that differs per call, for unseeded sampling. */
  nextNonce(): number {
    return ++this.#nonce;
  }

  /** Generated tokens when nothing caps them. */
  naturalLength(model: ModelEntry, prompt: string): number {
    const d = this.defaultTokens;
    if (typeof d === 'number') return Math.max(0, Math.floor(d));
    if (typeof d === 'function') return Math.max(0, Math.floor(d({ model: model.name, prompt })));
    return 20 + (hash32(`${model.key}\u0000${prompt}`) % 61);
  }

  /** Stops timers and cancels in-flight work; used on close. */
  shutdown(): void {
    this.#closed = true;
    if (this.#failureTimer) clearTimeout(this.#failureTimer);
    this.#failureTimer = null;
    this.#releaseParked();
    this.scheduler.shutdown();
  }
}

function normaliseFailure(spec: FailureSpec | null): ActiveFailure | null {
  if (!spec || spec.mode === 'none') return null;
  const message = spec.message ?? DEFAULT_ERROR;
  switch (spec.mode) {
    case 'error500':
      return { mode: 'error', status: 500, message };
    case 'error503':
      return { mode: 'error', status: 503, message };
    case 'error':
      return { mode: 'error', status: spec.status ?? 500, message };
    case 'refuse':
    case 'reset':
    case 'hang':
      return { mode: spec.mode, status: 0, message };
    default:
      throw new RangeError(`ollama-sim: unknown failure mode ${String((spec as FailureSpec).mode)}`);
  }
}
