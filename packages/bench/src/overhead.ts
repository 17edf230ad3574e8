/**
 * The `overhead` scenario: what Ward's path (gateway → BullMQ → worker → Ollama → reply channel)
 * adds over calling Ollama directly, next to bare BullMQ round trips on the same Redis.
 * Sim, gateway, Ward worker and the bare BullMQ worker each run in their own process, so the
 * machine's cores are shared as they are in production; the load generator runs here.
 */

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { splitSlots } from '@ward/worker';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import type { BareWorkerOptions } from './children/bare-worker.js';
import { CpuMeter } from './cpu.js';
import { httpTask, type LoadTask, runLoad } from './load.js';
import { benchWard, ChildGroup, scenarioCleanup } from './procs.js';
import { localRedisPid, redisVersion } from './redis.js';
import { int, markdownTable, ms, ratio, verdict } from './report.js';
import { type LatencySummary, summarize } from './stats.js';

/** The request paths the scenario compares. */
export const OVERHEAD_PATHS = ['sim', 'ward', 'bullmq-events', 'bullmq-reply', 'bullmq-split'] as const;
export type OverheadPath = (typeof OVERHEAD_PATHS)[number];

/** How each path is named in tables. */
export const PATH_LABELS: Record<OverheadPath, string> = {
  sim: 'Ollama sim, direct',
  ward: 'Ward (gateway → queue → worker → sim)',
  'bullmq-events': 'bare BullMQ + QueueEvents',
  'bullmq-reply': 'bare BullMQ + reply channel',
  'bullmq-split': "bare BullMQ + reply channel, slots split as Ward's",
};

/** The bare paths the throughput target is judged against: one BullMQ Worker, as a plain round trip runs. */
const TARGET_BARE_PATHS: readonly OverheadPath[] = ['bullmq-events', 'bullmq-reply'];

/** Options of {@link runOverhead}. */
export interface OverheadOptions {
  /** Client concurrencies to measure, in order. */
  concurrencies: number[];
  /** Measured requests per (path, concurrency). */
  requests: number;
  /** Unmeasured requests sent first at the same concurrency. */
  warmup: number;
  redisUrl: string;
  /** Where `overhead.json` and `overhead.md` are written; nothing is written when undefined. */
  outDir?: string | undefined;
  /** Directory for `--cpu-prof` profiles of the gateway, worker and sim processes; off when undefined. */
  cpuProfDir?: string | undefined;
  /** Ward worker concurrency (OLLAMA_NUM_PARALLEL). */
  workerParallel: number;
  /** Bare BullMQ worker concurrency. */
  bareConcurrency: number;
  /** Sim parallel slots. */
  simParallel: number;
  /** Paths to run (default all). */
  paths?: readonly OverheadPath[];
}

/** Defaults of the scenario as `pnpm bench overhead` runs it. */
export const OVERHEAD_DEFAULTS: OverheadOptions = {
  concurrencies: [1, 16, 64],
  requests: 5000,
  warmup: 1000,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  workerParallel: 64,
  bareConcurrency: 64,
  simParallel: 256,
};

const MODEL = 'mistral:7b';
const PROMPT = 'Summarise in one line: patient reports a mild headache since this morning, no fever.';

/** One measured (path, concurrency) cell. */
export interface OverheadRow extends LatencySummary {
  path: OverheadPath;
  label: string;
  concurrency: number;
  errors: number;
  firstError?: string;
  /** CPU time each process spent per measured request, microseconds (Linux only). */
  cpuUsPerRequest?: Record<string, number>;
}

/** One target with its measured value and verdict. */
export interface OverheadTarget {
  name: string;
  value: number;
  unit: string;
  goal: string;
  pass: boolean;
}

/** Everything a run produced; written as `overhead.json`. */
export interface OverheadReport {
  scenario: 'overhead';
  startedAt: string;
  durationSeconds: number;
  environment: Record<string, string | number>;
  settings: Omit<OverheadOptions, 'outDir' | 'cpuProfDir'> & { model: string; prompt: string };
  rows: OverheadRow[];
  /** Ward's percentile minus the direct sim's, per concurrency. */
  added: Array<{ concurrency: number; p50: number; p95: number; p99: number }>;
  targets: OverheadTarget[];
}

type Log = (line: string) => void;
const log: Log = (line) => process.stderr.write(`[overhead] ${line}\n`);

/** Runs the scenario, writes its files when `outDir` is set, and returns the report and its Markdown. */
export async function runOverhead(
  opts: OverheadOptions,
): Promise<{ report: OverheadReport; markdown: string }> {
  const startedAt = new Date();
  const paths = opts.paths ?? OVERHEAD_PATHS;
  const prefix = `bench-${randomUUID()}`;
  const admin = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  await admin.connect().catch((err: Error) => {
    throw new Error(`Redis is not reachable at ${opts.redisUrl}: ${err.message}`);
  });

  const { teardown, cleanup } = scenarioCleanup({ admin, prefix, log, what: 'children' });

  try {
    const { env: common, token } = benchWard(opts.redisUrl, prefix);
    const prof = (name: string) =>
      opts.cpuProfDir
        ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=${name}.cpuprofile`]
        : [];
    const children = new ChildGroup();
    teardown.push(() => children.stopAll());

    log(`starting sim, gateway, worker and bare BullMQ worker (prefix ${prefix})`);
    const sim = await children.start('sim', 'sim', {
      env: {
        BENCH_SIM_OPTIONS: JSON.stringify({
          port: 0,
          models: [MODEL],
          latency: 'none',
          numParallel: opts.simParallel,
          maxQueue: 100_000,
        }),
      },
      execArgv: prof('sim'),
    });
    const [gateway, worker, bareWorker] = await Promise.all([
      children.start('gateway', 'gateway', {
        // The per-user rate limiter stays in the path (its Redis counter is part of the cost), with a
        // limit the bench cannot reach.
        env: {
          ...common,
          DOCS_ENABLED: 'false',
          OLLAMA_MAX_QUEUE: '100000',
          RATE_LIMIT_PER_MINUTE: 'provider=1000000000',
        },
        execArgv: prof('gateway'),
      }),
      children.start('worker', 'worker', {
        env: {
          ...common,
          OLLAMA_URL: sim.url!,
          OLLAMA_NUM_PARALLEL: String(opts.workerParallel),
          WORKER_INSTANCE_ID: 'bench-sim',
        },
        execArgv: prof('worker'),
      }),
      children.start('bare', 'bare-worker', {
        env: {
          BENCH_BARE_OPTIONS: JSON.stringify({
            redisUrl: opts.redisUrl,
            prefix: `${prefix}:bare`,
            queues: ['events', 'reply'],
            concurrency: opts.bareConcurrency,
            split: { queue: 'split', concurrencies: splitSlots(opts.bareConcurrency) },
          } satisfies BareWorkerOptions),
        },
      }),
    ]);

    const bare = await startBareProducer(opts.redisUrl, prefix);
    teardown.push(() => bare.close());

    const simBody = JSON.stringify({ model: MODEL, prompt: PROMPT, stream: false });
    const wardBody = JSON.stringify({ modelName: MODEL, prompt: PROMPT });
    const makeTask = (path: OverheadPath, pool: Pool | undefined): LoadTask => {
      switch (path) {
        case 'sim':
          return httpTask(pool!, {
            method: 'POST',
            path: '/api/generate',
            headers: { 'content-type': 'application/json' },
            body: simBody,
          });
        case 'ward':
          return httpTask(pool!, {
            method: 'POST',
            path: '/api/local/process',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: wardBody,
          });
        case 'bullmq-events':
          return bare.viaEvents;
        case 'bullmq-reply':
          return bare.viaReply;
        case 'bullmq-split':
          return bare.viaSplit;
      }
    };
    const baseUrl = (path: OverheadPath) =>
      path === 'sim' ? sim.url : path === 'ward' ? gateway.url : undefined;

    await waitForWard(gateway.url!, token, wardBody);
    const cpu = new CpuMeter({
      bench: process.pid,
      sim: sim.process.pid,
      gateway: gateway.process.pid,
      worker: worker.process.pid,
      'bare worker': bareWorker.process.pid,
      redis: await localRedisPid(admin),
    });
    log('all processes ready');

    const rows: OverheadRow[] = [];
    for (const concurrency of opts.concurrencies) {
      for (const path of paths) {
        const url = baseUrl(path);
        const pool = url ? new Pool(url, { connections: concurrency, pipelining: 1 }) : undefined;
        try {
          const task = makeTask(path, pool);
          const tag = `${path} c=${concurrency}`;
          if (opts.warmup > 0) {
            const w = await runLoad({
              concurrency,
              total: opts.warmup,
              task,
              onProgress: progress(`${tag} warm-up`, false),
            });
            if (w.latenciesMs.length === 0)
              throw new Error(`${tag}: every warm-up request failed (${w.firstError})`);
          }
          const before = cpu.sample();
          const r = await runLoad({ concurrency, total: opts.requests, task, onProgress: progress(tag) });
          const cpuUsPerRequest = CpuMeter.perRequest(before, cpu.sample(), r.latenciesMs.length + r.errors);
          const s = summarize(r.latenciesMs, r.elapsedMs);
          rows.push({
            path,
            label: PATH_LABELS[path],
            concurrency,
            ...s,
            errors: r.errors,
            ...(r.firstError !== undefined && { firstError: r.firstError }),
            ...(Object.keys(cpuUsPerRequest).length > 0 && { cpuUsPerRequest }),
          });
          log(
            `${tag}: p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms, ${int(s.rps)} req/s` +
              (r.errors ? `, ${r.errors} errors (${r.firstError})` : ''),
          );
        } finally {
          await pool?.close();
        }
      }
    }

    await cleanup();
    const report = buildReport(opts, rows, startedAt, await environment(opts.redisUrl));
    const markdown = renderOverhead(report);
    if (opts.outDir) {
      await mkdir(opts.outDir, { recursive: true });
      await writeFile(join(opts.outDir, 'overhead.json'), `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(join(opts.outDir, 'overhead.md'), `${markdown}\n`);
      log(`wrote ${join(opts.outDir, 'overhead.json')} and overhead.md`);
    }
    return { report, markdown };
  } finally {
    await cleanup();
  }
}

/** Waits until Ward answers a real request: the worker's heartbeat has reached the gateway. */
async function waitForWard(url: string, token: string, body: string, timeoutMs = 20_000): Promise<void> {
  const pool = new Pool(url, { connections: 1 });
  const task = httpTask(pool, {
    method: 'POST',
    path: '/api/local/process',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  const until = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await task(0);
        return;
      } catch (err) {
        if (Date.now() > until)
          throw new Error(`Ward did not answer within ${timeoutMs} ms: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await pool.close();
  }
}

/** The producer side of the bare BullMQ baseline, in this process. */
async function startBareProducer(redisUrl: string, prefix: string) {
  const bullPrefix = `${prefix}:bare`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const eventsConn = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const sub = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const jobOpts = { removeOnComplete: { count: 10_000 }, removeOnFail: { count: 10_000 } };
  const eventsQueue = new Queue('events', { connection, prefix: bullPrefix });
  const replyQueue = new Queue('reply', { connection, prefix: bullPrefix });
  const splitQueue = new Queue('split', { connection, prefix: bullPrefix });
  const queueEvents = new QueueEvents('events', { connection: eventsConn, prefix: bullPrefix });
  // waitUntilFinished adds listeners per waiting job to both; one per client is expected, not a leak.
  queueEvents.setMaxListeners(0);
  eventsQueue.setMaxListeners(0);
  await queueEvents.waitUntilReady();

  const channel = `${prefix}:bare-reply`;
  const waiting = new Map<string, () => void>();
  sub.on('message', (_ch: string, raw: string) => {
    const { j } = JSON.parse(raw) as { j: string };
    const done = waiting.get(j);
    waiting.delete(j);
    done?.();
  });
  await sub.subscribe(channel);
  let seq = 0;
  const viaReplyOn = (queue: Queue) => () =>
    new Promise<void>((resolve, reject) => {
      const id = `r${++seq}`;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`no reply for job ${id} within 30 s`));
      }, 30_000);
      waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      queue.add('j', { replyTo: channel }, { ...jobOpts, jobId: id }).catch((err: Error) => {
        clearTimeout(timer);
        waiting.delete(id);
        reject(err);
      });
    });

  return {
    viaEvents: async () => {
      const job: Job = await eventsQueue.add('j', {}, jobOpts);
      await job.waitUntilFinished(queueEvents, 30_000);
    },
    viaReply: viaReplyOn(replyQueue),
    viaSplit: viaReplyOn(splitQueue),
    async close() {
      await queueEvents.close();
      await Promise.all([eventsQueue.close(), replyQueue.close(), splitQueue.close()]);
      sub.disconnect();
      eventsConn.disconnect();
      await connection.quit();
    },
  };
}

/** Progress on stderr: a live counter on a terminal; otherwise quarters (or nothing when `quarters` is false). */
function progress(label: string, quarters = true): (done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  let last = -1;
  return (done, total) => {
    if (tty) {
      if (done === total || done % 100 === 0) {
        process.stderr.write(`\r[overhead] ${label} ${done}/${total}${done === total ? '\n' : ''}`);
      }
      return;
    }
    const quarter = Math.floor((done / total) * 4);
    if (quarters && quarter !== last && quarter > 0) {
      last = quarter;
      log(`${label} ${done}/${total}`);
    }
  };
}

async function environment(redisUrl: string): Promise<Record<string, string | number>> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const version = await redisVersion(redis);
  redis.disconnect();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim();
  } catch {}
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    redis: version,
    commit,
  };
}

function buildReport(
  opts: OverheadOptions,
  rows: OverheadRow[],
  startedAt: Date,
  env: Record<string, string | number>,
): OverheadReport {
  const row = (path: OverheadPath, c: number) => rows.find((r) => r.path === path && r.concurrency === c);
  const added = opts.concurrencies.flatMap((c) => {
    const w = row('ward', c);
    const s = row('sim', c);
    return w && s ? [{ concurrency: c, p50: w.p50 - s.p50, p95: w.p95 - s.p95, p99: w.p99 - s.p99 }] : [];
  });
  const targets: OverheadTarget[] = [];
  const lowest = Math.min(...opts.concurrencies);
  const highest = Math.max(...opts.concurrencies);
  // The latency targets are set for one client at a time.
  const a1 = lowest === 1 ? added.find((a) => a.concurrency === 1) : undefined;
  if (a1) {
    targets.push(
      { name: `Ward added p50 at c=${lowest}`, value: a1.p50, unit: 'ms', goal: '≤ 3 ms', pass: a1.p50 <= 3 },
      {
        name: `Ward added p99 at c=${lowest}`,
        value: a1.p99,
        unit: 'ms',
        goal: '≤ 10 ms',
        pass: a1.p99 <= 10,
      },
    );
  }
  const wardTop = row('ward', highest);
  if (wardTop) {
    targets.push({
      name: `Ward req/s at c=${highest}`,
      value: wardTop.rps,
      unit: 'req/s',
      goal: '≥ 1,000 req/s',
      pass: wardTop.rps >= 1000,
    });
    const bare = TARGET_BARE_PATHS.map((p) => row(p, highest)).filter(
      (r): r is OverheadRow => r !== undefined,
    );
    if (bare.length) {
      const best = bare.reduce((a, b) => (b.rps > a.rps ? b : a));
      const r = wardTop.rps / best.rps;
      targets.push({
        name: `Ward req/s ÷ ${best.label} req/s at c=${highest}`,
        value: r,
        unit: '×',
        goal: '≥ 0.50',
        pass: r >= 0.5,
      });
    }
  }
  const { outDir: _o, cpuProfDir: _c, ...settings } = opts;
  return {
    scenario: 'overhead',
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    environment: env,
    settings: {
      ...settings,
      redisUrl: settings.redisUrl.replace(/\/\/[^@/]*@/, '//***@'),
      model: MODEL,
      prompt: PROMPT,
    },
    rows,
    added,
    targets,
  };
}

/** The report as Markdown: measurements, Ward's added latency, and targets with PASS/FAIL. */
export function renderOverhead(report: OverheadReport): string {
  const e = report.environment;
  const s = report.settings;
  const rows = report.rows.map((r) => [
    r.label,
    String(r.concurrency),
    int(r.count),
    int(r.errors),
    ms(r.p50),
    ms(r.p95),
    ms(r.p99),
    int(r.rps),
  ]);
  const added = report.added.flatMap((a) => [
    ['Ward added p50', String(a.concurrency), '', '', ms(a.p50), '', '', ''],
    ['Ward added p99', String(a.concurrency), '', '', '', '', ms(a.p99), ''],
  ]);
  const ratios = report.rows
    .filter((r) => r.path === 'ward')
    .flatMap((w) => {
      const bare = report.rows.filter((r) => r.path.startsWith('bullmq') && r.concurrency === w.concurrency);
      return bare.map((b) => [
        `Ward req/s ÷ ${b.label} req/s`,
        String(w.concurrency),
        '',
        '',
        '',
        '',
        '',
        ratio(w.rps / b.rps),
      ]);
    })
    .filter((r) => r[1] === String(Math.max(...s.concurrencies)));
  const right: Array<'left' | 'right'> = [
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
  ];
  const table = markdownTable(
    ['Path', 'Concurrency', 'Requests', 'Errors', 'p50 ms', 'p95 ms', 'p99 ms', 'req/s'],
    [...rows, ...added, ...ratios],
    right,
  );
  const targets = markdownTable(
    ['Target', 'Measured', 'Goal', 'Result'],
    report.targets.map((t) => [
      t.name,
      t.unit === 'ms' ? `${ms(t.value)} ms` : t.unit === '×' ? ratio(t.value) : `${int(t.value)} req/s`,
      t.goal,
      verdict(t.pass),
    ]),
    ['left', 'right', 'left', 'left'],
  );
  const procs = ['bench', 'sim', 'gateway', 'worker', 'bare worker', 'redis'].filter((n) =>
    report.rows.some((r) => r.cpuUsPerRequest?.[n] !== undefined),
  );
  const cpuTable = procs.length
    ? markdownTable(
        ['Path', 'Concurrency', ...procs, 'total'],
        report.rows.map((r) => {
          const c = r.cpuUsPerRequest ?? {};
          const total = Object.values(c).reduce((a, b) => a + b, 0);
          return [r.label, String(r.concurrency), ...procs.map((n) => int(c[n] ?? Number.NaN)), int(total)];
        }),
        ['left', ...Array<'right'>(procs.length + 2).fill('right')],
      )
    : '';
  return [
    '# Ward overhead benchmark',
    '',
    `Run ${report.startedAt} in ${report.durationSeconds} s on ${e.cpus} × ${e.cpu}, ${e.memoryGiB} GiB, ` +
      `Node ${e.node}, Redis ${e.redis}, commit ${e.commit}.`,
    '',
    `Each row: ${s.requests} measured requests after ${s.warmup} warm-up requests, closed loop with ` +
      `"Concurrency" clients (undici Pool, keep-alive, one connection per client). Sim with \`latency: 'none'\` ` +
      `(${s.simParallel} slots), gateway, Ward worker (OLLAMA_NUM_PARALLEL=${s.workerParallel}) and bare BullMQ ` +
      `worker (concurrency ${s.bareConcurrency}) each in their own process; the load generator and the bare ` +
      'BullMQ producer in the bench process; one local Redis.',
    '',
    table,
    '',
    '"Ward added" is Ward\'s percentile minus the direct sim\'s percentile at the same concurrency.',
    ...report.rows
      .filter((r) => r.errors > 0)
      .map(
        (r) =>
          `\n**${r.label} at c=${r.concurrency}: ${r.errors} requests failed** (first: ${r.firstError}).`,
      ),
    '',
    '## Targets',
    '',
    targets,
    ...(cpuTable
      ? [
          '',
          '## CPU time per request (µs, every process)',
          '',
          "Where the machine's cores go: CPU time each process spent during a measured phase divided by its " +
            'requests (from /proc, 10 ms ticks). "bench" is the load generator (and the bare BullMQ producer).',
          '',
          cpuTable,
        ]
      : []),
  ].join('\n');
}
