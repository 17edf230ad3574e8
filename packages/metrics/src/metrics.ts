import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets for HTTP and queue waits: 1 ms to 2 min. */
const LATENCY = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Generation times: 50 ms to 10 min. */
const LONG = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];

/** Longest a scrape waits for a value read from Redis. */
const COLLECT_TIMEOUT_MS = 2000;

/** The value, or undefined when it fails or takes longer than {@link COLLECT_TIMEOUT_MS}. */
async function withinCollectTime<T>(value: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), COLLECT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([value.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The queue states `ward_queue_jobs` reports (BullMQ's names). */
export const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** One model queue's job counts, read when Prometheus scrapes. */
export interface QueueCounts {
  model: string;
  counts: Partial<Record<QueueState, number>>;
}

/**
 * Every metric Ward exposes, on one explicit registry. Labels carry routes, models, instances,
 * states and error codes only — never patient data or user identifiers.
 */
export class WardMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'route' | 'method' | 'status_code'>;
  readonly errors: Counter<'code'>;
  readonly queueJobs: Gauge<'model' | 'state'>;
  readonly jobWait: Histogram<'model' | 'instance'>;
  readonly jobProcessing: Histogram<'model' | 'instance'>;
  readonly instanceInflight: Gauge<'instance'>;
  readonly instanceUp: Gauge<'instance'>;
  readonly tokensGenerated: Counter<'model'>;
  readonly tokensPerSecond: Histogram<'model'>;
  readonly timeToFirstToken: Histogram<'model'>;
  readonly modelLoads: Counter<'instance' | 'model'>;
  readonly auditEventsWritten: Counter;
  readonly auditLag: Gauge;
  #queueCounts: (() => Promise<QueueCounts[]>) | undefined;
  #auditBacklog: (() => Promise<number>) | undefined;

  constructor(opts: { registry?: Registry; defaults?: boolean; app?: string } = {}) {
    this.registry = opts.registry ?? new Registry();
    if (opts.app) this.registry.setDefaultLabels({ app: opts.app });
    if (opts.defaults ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client names these gauges `_total`, which Prometheus reserves for counters (promtool refuses them).
      for (const name of [
        'nodejs_active_handles_total',
        'nodejs_active_requests_total',
        'nodejs_active_resources_total',
      ]) {
        this.registry.removeSingleMetric(name);
      }
    }
    const registers = [this.registry];
    this.httpDuration = new Histogram({
      name: 'ward_http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status',
      labelNames: ['route', 'method', 'status_code'],
      buckets: LATENCY,
      registers,
    });
    this.errors = new Counter({
      name: 'ward_errors_total',
      help: 'Errors answered or raised, by stable error code',
      labelNames: ['code'],
      registers,
    });
    const metrics = this;
    this.queueJobs = new Gauge({
      name: 'ward_queue_jobs',
      help: 'Jobs in each model queue by state (read from Redis at scrape time)',
      labelNames: ['model', 'state'],
      registers,
      async collect() {
        const read = metrics.#queueCounts;
        if (!read) return;
        this.reset();
        // A scrape must not fail or stall because Redis does: the series vanish, which alerts can see.
        const queues = (await withinCollectTime(read())) ?? [];
        for (const { model, counts } of queues)
          for (const state of QUEUE_STATES) this.set({ model, state }, counts[state] ?? 0);
      },
    });
    this.jobWait = new Histogram({
      name: 'ward_job_wait_seconds',
      help: 'Time a job waited in its model queue before a worker started it',
      labelNames: ['model', 'instance'],
      buckets: LATENCY,
      registers,
    });
    this.jobProcessing = new Histogram({
      name: 'ward_job_processing_seconds',
      help: 'Time a worker spent running a job on its instance',
      labelNames: ['model', 'instance'],
      buckets: LONG,
      registers,
    });
    this.instanceInflight = new Gauge({
      name: 'ward_instance_inflight',
      help: 'Jobs running on an Ollama instance',
      labelNames: ['instance'],
      registers,
    });
    this.instanceUp = new Gauge({
      name: 'ward_instance_up',
      help: '1 when the Ollama instance answers, 0 when not',
      labelNames: ['instance'],
      registers,
    });
    this.tokensGenerated = new Counter({
      name: 'ward_tokens_generated_total',
      help: 'Tokens generated, by model',
      labelNames: ['model'],
      registers,
    });
    this.tokensPerSecond = new Histogram({
      name: 'ward_generation_tokens_per_second',
      help: 'Generation speed of each job (eval_count / eval_duration)',
      labelNames: ['model'],
      buckets: [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 400, 1000],
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: 'ward_time_to_first_token_seconds',
      help: 'From the gateway accepting a streamed request to its first token',
      labelNames: ['model'],
      buckets: LATENCY,
      registers,
    });
    this.modelLoads = new Counter({
      name: 'ward_model_loads_total',
      help: 'Model loads on an instance (from load_duration)',
      labelNames: ['instance', 'model'],
      registers,
    });
    this.auditEventsWritten = new Counter({
      name: 'ward_audit_events_written_total',
      help: 'Audit events stored in the hash chain',
      registers,
    });
    this.auditLag = new Gauge({
      name: 'ward_audit_lag_seconds',
      help: 'Age of the oldest audit event not yet stored (0 when none waits), read at scrape time',
      // Registered by reportAuditBacklog: only a process that can read the audit queue reports a lag.
      registers: [],
      async collect() {
        const read = metrics.#auditBacklog;
        if (!read) return;
        // Unknown (Redis away or slow) is NaN, not 0: no lag must never be reported by mistake.
        const ms = await withinCollectTime(read());
        this.set(ms === undefined ? Number.NaN : ms / 1000);
      },
    });
  }

  /** Where `ward_queue_jobs` reads the model queues' counts at each scrape (the gateway sets it). */
  reportQueues(read: () => Promise<QueueCounts[]>): void {
    this.#queueCounts = read;
  }

  /** Where `ward_audit_lag_seconds` reads the age of the oldest unstored audit event, in ms (the audit service sets it). */
  reportAuditBacklog(read: () => Promise<number>): void {
    this.#auditBacklog = read;
    if (!this.registry.getSingleMetric('ward_audit_lag_seconds')) this.registry.registerMetric(this.auditLag);
  }

  /**
   * Records one answered HTTP request, from a Fastify request and reply (`onResponse`): by route
   * template, not path, so no ids reach the labels.
   */
  observeReply(
    request: { method: string; routeOptions: { url?: string | undefined } },
    reply: { statusCode: number; elapsedTime: number },
  ): void {
    this.httpDuration.observe(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Serves `GET /metrics` of a registry on an internal port (never through nginx). */
export async function serveMetrics(metrics: WardMetrics, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
