/** One received request, as kept in the sim's bounded log. */
export interface RequestLogEntry {
  /** Sequence number, counting from 1 since the last reset. */
  id: number;
  /** Arrival time, RFC 3339. */
  at: string;
  /** Path, e.g. `/api/chat`. */
  endpoint: string;
  /** Model as the client named it, if any. */
  model?: string;
  stream?: boolean;
  hasImages: boolean;
  imageCount: number;
  /** The request's `options` object, as sent. */
  options?: Record<string, unknown>;
  format?: unknown;
  keepAlive?: unknown;
  promptTokens?: number;
  /** Status code sent (200 for streams, even ones that fail mid-way). */
  status?: number;
  /** How it ended. */
  outcome?: 'ok' | 'error' | 'rejected' | 'aborted' | 'scripted';
}

/** Per-model figures within {@link SimCounters}. */
export interface ModelCounters {
  requests: number;
  completed: number;
  aborts: number;
  rejected503: number;
  loads: number;
  evictions: number;
  unloads: number;
  active: number;
  queued: number;
  maxActive: number;
  promptTokens: number;
  evalTokens: number;
}

/** A model resident in the sim, as seen by {@link SimCounters.loaded}. */
export interface LoadedModelState {
  model: string;
  state: 'loading' | 'ready';
  active: number;
  queued: number;
  /** RFC 3339, or null while the model is in use or kept forever. */
  expiresAt: string | null;
}

/** What the sim has seen since it started or was last reset (a snapshot; read it again for fresh values). */
export interface SimCounters {
  requests: { total: number; byEndpoint: Record<string, number>; byModel: Record<string, number> };
  responses: { byStatus: Record<string, number> };
  /** Generations, embeddings and loads that finished. */
  completed: number;
  /** Requests whose client went away before the answer was complete. */
  aborts: number;
  /** Model loads started. */
  loads: number;
  /** Models unloaded to make room for another (LRU). */
  evictions: number;
  /** Models unloaded because their keep_alive ran out, or on request. */
  unloads: number;
  /** Requests refused because the wait queue was full. */
  rejected503: number;
  /** Requests answered by a scripted error. */
  scriptedErrors: number;
  /** Requests holding a slot and being computed now (prompt evaluation or generation). */
  active: number;
  /** Requests waiting for the scheduler or a free slot. */
  queued: number;
  maxActive: number;
  maxQueued: number;
  tokens: { prompt: number; eval: number };
  models: Record<string, ModelCounters>;
  loaded: LoadedModelState[];
  log: RequestLogEntry[];
}

const emptyModel = (): ModelCounters => ({
  requests: 0,
  completed: 0,
  aborts: 0,
  rejected503: 0,
  loads: 0,
  evictions: 0,
  unloads: 0,
  active: 0,
  queued: 0,
  maxActive: 0,
  promptTokens: 0,
  evalTokens: 0,
});

/** The live counters behind {@link SimCounters} snapshots, with a ring buffer for the request log. */
export class CounterStore {
  total = 0;
  byEndpoint: Record<string, number> = {};
  byModel: Record<string, number> = {};
  byStatus: Record<string, number> = {};
  completed = 0;
  aborts = 0;
  loads = 0;
  evictions = 0;
  unloads = 0;
  rejected503 = 0;
  scriptedErrors = 0;
  active = 0;
  queued = 0;
  maxActive = 0;
  maxQueued = 0;
  promptTokens = 0;
  evalTokens = 0;
  models = new Map<string, ModelCounters>();
  #log: RequestLogEntry[] = [];
  #logNext = 0;
  #seq = 0;
  readonly #logSize: number;

  constructor(logSize: number) {
    this.#logSize = Math.max(0, Math.floor(logSize));
  }

  model(name: string): ModelCounters {
    let m = this.models.get(name);
    if (!m) {
      m = emptyModel();
      this.models.set(name, m);
    }
    return m;
  }

  endpoint(path: string): void {
    this.total++;
    this.byEndpoint[path] = (this.byEndpoint[path] ?? 0) + 1;
  }

  status(code: number): void {
    this.byStatus[code] = (this.byStatus[code] ?? 0) + 1;
  }

  modelRequest(name: string): void {
    this.byModel[name] = (this.byModel[name] ?? 0) + 1;
    this.model(name).requests++;
  }

  activeDelta(model: string, delta: number): void {
    this.active += delta;
    const m = this.model(model);
    m.active += delta;
    if (this.active > this.maxActive) this.maxActive = this.active;
    if (m.active > m.maxActive) m.maxActive = m.active;
  }

  queuedDelta(model: string, delta: number): void {
    this.queued += delta;
    this.model(model).queued += delta;
    if (this.queued > this.maxQueued) this.maxQueued = this.queued;
  }

  /** Appends a log entry (overwriting the oldest when full) and returns it for later updates. */
  log(entry: Omit<RequestLogEntry, 'id' | 'at'>): RequestLogEntry {
    const full: RequestLogEntry = { id: ++this.#seq, at: new Date().toISOString(), ...entry };
    if (this.#logSize === 0) return full;
    if (this.#log.length < this.#logSize) this.#log.push(full);
    else {
      this.#log[this.#logNext] = full;
      this.#logNext = (this.#logNext + 1) % this.#logSize;
    }
    return full;
  }

  logEntries(): RequestLogEntry[] {
    if (this.#log.length < this.#logSize) return this.#log.map((e) => ({ ...e }));
    return [...this.#log.slice(this.#logNext), ...this.#log.slice(0, this.#logNext)].map((e) => ({ ...e }));
  }

  /** Zeroes everything except `active`/`queued`, which describe requests still in flight. */
  reset(): void {
    this.total = 0;
    this.byEndpoint = {};
    this.byModel = {};
    this.byStatus = {};
    this.completed = 0;
    this.aborts = 0;
    this.loads = 0;
    this.evictions = 0;
    this.unloads = 0;
    this.rejected503 = 0;
    this.scriptedErrors = 0;
    this.maxActive = this.active;
    this.maxQueued = this.queued;
    this.promptTokens = 0;
    this.evalTokens = 0;
    const live = new Map<string, ModelCounters>();
    for (const [name, m] of this.models) {
      if (m.active > 0 || m.queued > 0)
        live.set(name, { ...emptyModel(), active: m.active, queued: m.queued, maxActive: m.active });
    }
    this.models = live;
    this.#log = [];
    this.#logNext = 0;
    this.#seq = 0;
  }

  snapshot(loaded: LoadedModelState[], withLog = true): SimCounters {
    const models: Record<string, ModelCounters> = {};
    for (const [name, m] of this.models) models[name] = { ...m };
    return {
      requests: { total: this.total, byEndpoint: { ...this.byEndpoint }, byModel: { ...this.byModel } },
      responses: { byStatus: { ...this.byStatus } },
      completed: this.completed,
      aborts: this.aborts,
      loads: this.loads,
      evictions: this.evictions,
      unloads: this.unloads,
      rejected503: this.rejected503,
      scriptedErrors: this.scriptedErrors,
      active: this.active,
      queued: this.queued,
      maxActive: this.maxActive,
      maxQueued: this.maxQueued,
      tokens: { prompt: this.promptTokens, eval: this.evalTokens },
      models,
      loaded,
      log: withLog ? this.logEntries() : [],
    };
  }
}
