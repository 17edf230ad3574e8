#!/usr/bin/env node
/** `pnpm bench <scenario>`: runs a benchmark scenario, prints its table, writes it to bench-results/. */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OVERHEAD_DEFAULTS, OVERHEAD_PATHS, type OverheadPath, runOverhead } from './overhead.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const USAGE = `ward bench — benchmark scenarios on the Ollama simulator

Usage:
  pnpm bench <scenario> [options]

Scenarios:
  overhead   Latency and throughput Ward adds over calling Ollama directly, next to bare BullMQ
             round trips, at several concurrencies (sim, gateway and workers in their own processes)
  scale      (planned) throughput as workers and instances are added
  audit      (planned) cost of the audit trail and HIPAA mode on the request path

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
    case 'scale':
    case 'audit':
      console.error(`bench: the "${scenario}" scenario is not written yet`);
      return 2;
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
