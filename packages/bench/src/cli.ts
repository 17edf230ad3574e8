#!/usr/bin/env node
/** `pnpm bench <scenario>`: runs a benchmark scenario, prints its table, writes it to bench-results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ARRIVAL_MODES, type ArrivalMode } from './arrivals.js';
import { OVERHEAD_DEFAULTS, OVERHEAD_PATHS, type OverheadPath, runOverhead } from './overhead.js';
import { runScale, SCALE_DEFAULTS, SCALE_SYSTEMS, type ScaleSystem } from './scale.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const USAGE = `ward bench — benchmark scenarios on the Ollama simulator

Usage:
  pnpm bench <scenario> [options]

Scenarios:
  overhead   Latency and throughput Ward adds over calling Ollama directly, next to bare BullMQ
             round trips, at several concurrencies (sim, gateway and workers in their own processes)
  scale      Ward vs nginx round-robin and least_conn over four sims (one half-speed, 2 of 3 models
             resident each), mixed workload, random arrivals at 50/85/100% of computed capacity
  audit      Audit events/s into PostgreSQL and PGlite through the real consumer, and the time
             \`ward audit verify\` takes over 1,000,000 rows (DATABASE_URL, default the local test database)
  icd10      ICD-10-CM import time (PostgreSQL and PGlite), lookup µs and search ms on the FY2026 file
             (ICD10_ORDER_FILE, default ../shared/data/icd10cm/icd10cm_order_2026.txt)

Options (overhead):
  --requests N          measured requests per path and concurrency (default ${OVERHEAD_DEFAULTS.requests})
  --warmup N            unmeasured requests before each measurement (default ${OVERHEAD_DEFAULTS.warmup})
  --concurrency LIST    client concurrencies, comma separated (default ${OVERHEAD_DEFAULTS.concurrencies.join(',')})
  --paths LIST          subset of ${OVERHEAD_PATHS.join(',')} (default all)
  --worker-parallel N   Ward worker OLLAMA_NUM_PARALLEL (default ${OVERHEAD_DEFAULTS.workerParallel})
  --out DIR             where overhead.json and overhead.md go (default <repo>/bench-results)
  --no-write            print the table only
  --cpu-prof DIR        write V8 CPU profiles of the sim, gateway and worker processes to DIR
  --strict              exit 1 when a target is missed

Options (scale):
  --loads LIST          offered load as fractions of capacity (default ${SCALE_DEFAULTS.loads.join(',')})
  --systems LIST        subset of ${SCALE_SYSTEMS.join(',')} (default all)
  --warmup-seconds N    unmeasured arrivals before each cell (default ${SCALE_DEFAULTS.warmupSeconds})
  --measure-seconds N   measured arrivals per cell (default ${SCALE_DEFAULTS.measureSeconds})
  --time-scale N        sim time compression (default ${SCALE_DEFAULTS.timeScale})
  --seed N              seed of the arrival sequences (default ${SCALE_DEFAULTS.seed})
  --sequences N         arrival sequences measured per cell; the 100% target's interval needs 2+
                        (default ${SCALE_DEFAULTS.sequences}; each adds a full cell's time)
  --arrivals MODE       exact: each cell offers exactly its load (random times and order, exact
                        count and mix); poisson: independent draws, so a cell offers its load only
                        on average (default ${SCALE_DEFAULTS.arrivals})
  --out DIR             where scale.{json,md,svg} go (default <repo>/bench-results)
  --no-write            print the table only
  --strict              exit 1 when a target is missed

Environment: REDIS_URL (default redis://127.0.0.1:6379). Progress goes to stderr, the table to stdout.`;

function list(raw: string | undefined): string[] | undefined {
  return raw
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function whole(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be a whole number of at least ${min} (got "${raw}")`);
  return n;
}

class UsageError extends Error {}

const OVERHEAD_OPTIONS = {
  requests: { type: 'string' },
  warmup: { type: 'string' },
  concurrency: { type: 'string' },
  paths: { type: 'string' },
  'worker-parallel': { type: 'string' },
  out: { type: 'string' },
  'no-write': { type: 'boolean', default: false },
  'cpu-prof': { type: 'string' },
  strict: { type: 'boolean', default: false },
} as const;

/** The overhead options; an unknown option or a missing value is a usage error. */
function overheadArgs(args: string[]) {
  try {
    return parseArgs({ args, options: OVERHEAD_OPTIONS }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const SCALE_OPTIONS = {
  loads: { type: 'string' },
  systems: { type: 'string' },
  'warmup-seconds': { type: 'string' },
  'measure-seconds': { type: 'string' },
  'time-scale': { type: 'string' },
  arrivals: { type: 'string' },
  seed: { type: 'string' },
  sequences: { type: 'string' },
  out: { type: 'string' },
  'no-write': { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
} as const;

function scaleArgs(args: string[]) {
  try {
    return parseArgs({ args, options: SCALE_OPTIONS }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function main(argv: string[]): Promise<number> {
  const [scenario, ...rest] = argv;
  switch (scenario) {
    case 'overhead': {
      if (rest.includes('--help') || rest.includes('-h')) {
        console.log(USAGE);
        return 0;
      }
      const values = overheadArgs(rest);
      const concurrencies = (list(values.concurrency) ?? OVERHEAD_DEFAULTS.concurrencies.map(String)).map(
        (c) => whole('concurrency', c, 1, 1),
      );
      const paths = list(values.paths);
      const unknown = paths?.filter((p) => !(OVERHEAD_PATHS as readonly string[]).includes(p));
      if (unknown?.length) throw new UsageError(`unknown path(s) ${unknown.join(', ')}`);
      const requests = whole('requests', values.requests, OVERHEAD_DEFAULTS.requests, 1);
      const { markdown, report } = await runOverhead({
        ...OVERHEAD_DEFAULTS,
        concurrencies,
        requests,
        warmup: whole('warmup', values.warmup, OVERHEAD_DEFAULTS.warmup),
        workerParallel: whole(
          'worker-parallel',
          values['worker-parallel'],
          OVERHEAD_DEFAULTS.workerParallel,
          1,
        ),
        ...(paths && { paths: paths as OverheadPath[] }),
        outDir: values['no-write'] ? undefined : (values.out ?? `${REPO_ROOT}bench-results`),
        cpuProfDir: values['cpu-prof'],
      });
      console.log(markdown);
      return values.strict && !report.targets.every((t) => t.pass) ? 1 : 0;
    }
    case 'scale': {
      if (rest.includes('--help') || rest.includes('-h')) {
        console.log(USAGE);
        return 0;
      }
      const values = scaleArgs(rest);
      const systems = list(values.systems);
      const unknown = systems?.filter((p) => !(SCALE_SYSTEMS as readonly string[]).includes(p));
      if (unknown?.length) throw new UsageError(`unknown system(s) ${unknown.join(', ')}`);
      const loads = (list(values.loads) ?? SCALE_DEFAULTS.loads.map(String)).map((l) => {
        const n = Number(l);
        if (!(n > 0 && n <= 2)) throw new UsageError(`--loads: "${l}" is not a fraction in (0, 2]`);
        return n;
      });
      const arrivals = values.arrivals ?? SCALE_DEFAULTS.arrivals;
      if (!(ARRIVAL_MODES as readonly string[]).includes(arrivals))
        throw new UsageError(`--arrivals must be one of ${ARRIVAL_MODES.join(', ')} (got "${arrivals}")`);
      const { markdown, report } = await runScale({
        ...SCALE_DEFAULTS,
        loads,
        warmupSeconds: whole('warmup-seconds', values['warmup-seconds'], SCALE_DEFAULTS.warmupSeconds),
        measureSeconds: whole('measure-seconds', values['measure-seconds'], SCALE_DEFAULTS.measureSeconds, 1),
        timeScale: whole('time-scale', values['time-scale'], SCALE_DEFAULTS.timeScale, 1),
        arrivals: arrivals as ArrivalMode,
        seed: whole('seed', values.seed, SCALE_DEFAULTS.seed),
        sequences: whole('sequences', values.sequences, SCALE_DEFAULTS.sequences, 1),
        ...(systems && { systems: systems as ScaleSystem[] }),
        outDir: values['no-write'] ? undefined : (values.out ?? `${REPO_ROOT}bench-results`),
      });
      console.log(markdown);
      return values.strict && !report.targets.every((t) => t.pass) ? 1 : 0;
    }
    case 'audit': {
      const { benchAudit } = await import('@ward/audit');
      const table = await benchAudit({
        databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        log: (line) => console.error(line),
      });
      const out = `# Ward audit benchmark\n\nRun ${new Date().toISOString()}, Node ${process.version}.\n\n${table}\n`;
      mkdirSync(`${REPO_ROOT}bench-results`, { recursive: true });
      writeFileSync(`${REPO_ROOT}bench-results/audit.md`, out);
      console.log(table);
      return 0;
    }
    case 'icd10': {
      const { benchIcd10 } = await import('@ward/clinical');
      const file =
        process.env.ICD10_ORDER_FILE ?? `${REPO_ROOT}../shared/data/icd10cm/icd10cm_order_2026.txt`;
      const table = await benchIcd10({
        databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        file,
        log: (line) => console.error(line),
      });
      const out = `# Ward ICD-10-CM benchmark\n\nRun ${new Date().toISOString()}, Node ${process.version}.\n\n${table}\n`;
      mkdirSync(`${REPO_ROOT}bench-results`, { recursive: true });
      writeFileSync(`${REPO_ROOT}bench-results/icd10.md`, out);
      console.log(table);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`bench: unknown scenario "${scenario}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(err instanceof UsageError ? `bench: ${err.message}\n\n${USAGE}` : `bench: ${err.message}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
