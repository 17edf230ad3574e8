/** Starting, watching and stopping the processes a benchmark runs on. */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mintToken } from '@ward/gateway';
import type { Redis } from 'ioredis';
import type { ChildMessage } from './children/ipc.js';
import { deleteByPrefix } from './redis.js';

/** A child process that has said it is ready. */
export interface RunningChild {
  name: string;
  process: ChildProcess;
  /** Its base URL, when it serves HTTP. */
  url?: string;
}

/** Options of {@link startChild}. */
export interface ChildOptions {
  /** Extra environment, added to the bench's own. */
  env: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  execArgv?: string[];
  /** How long to wait for the child to announce itself. */
  readyTimeoutMs?: number;
  /** Called with the process as soon as it is forked, before it is ready. */
  onFork?: (child: ChildProcess) => void;
}

/**
 * Forks `children/<entry>.js` with an IPC channel, copies its output to our stderr (prefixed with
 * its name) and resolves once it announces itself ready.
 */
export function startChild(name: string, entry: string, opts: ChildOptions): Promise<RunningChild> {
  const file = fileURLToPath(new URL(`./children/${entry}.js`, import.meta.url));
  const child = fork(file, [], {
    env: { ...process.env, ...opts.env },
    execArgv: opts.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  opts.onFork?.(child);
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n'))
      if (line) process.stderr.write(`[${name}] ${line}\n`);
  };
  child.stdout!.on('data', relay);
  child.stderr!.on('data', relay);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${opts.readyTimeoutMs ?? 15_000} ms`));
    }, opts.readyTimeoutMs ?? 15_000);
    const onMessage = (msg: ChildMessage) => {
      cleanup();
      if (msg.type === 'ready') resolve({ name, process: child, ...(msg.url && { url: msg.url }) });
      else reject(new Error(`${name} failed to start: ${msg.message}`));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`${name} exited during start-up (${signal ?? `code ${code}`})`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * The processes of one benchmark run. A child belongs to the group from the moment it is forked,
 * so a run that fails half-way through start-up still stops every child it started.
 */
export class ChildGroup {
  readonly #children: ChildProcess[] = [];

  /** Starts a child (see {@link startChild}) as a member of the group. */
  start(name: string, entry: string, opts: ChildOptions): Promise<RunningChild> {
    return startChild(name, entry, { ...opts, onFork: (c) => this.#children.push(c) });
  }

  /** Stops every child, the last started first. */
  async stopAll(): Promise<void> {
    const all = this.#children.splice(0).reverse();
    for (const c of all) await stopChild(c);
  }
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 8000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A scenario's teardown: steps run in reverse order, then its Redis keys go; also on SIGINT/SIGTERM. */
export interface ScenarioCleanup {
  /** Steps to undo, pushed as things start. */
  teardown: Array<() => Promise<unknown>>;
  /** Runs once however often it is called; stops listening for signals. */
  cleanup(): Promise<void>;
}

/**
 * Sets up the teardown every scenario needs: reverse-order steps, deleting its Redis keys with
 * SCAN + DEL, and the same on Ctrl-C or SIGTERM (a second Ctrl-C exits at once).
 */
export function scenarioCleanup(opts: {
  admin: Redis;
  prefix: string;
  log: (line: string) => void;
  what: string;
}): ScenarioCleanup {
  const teardown: Array<() => Promise<unknown>> = [];
  let tornDown: Promise<void> | undefined;
  const cleanup = () =>
    (tornDown ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      for (const fn of teardown.splice(0).reverse())
        await fn().catch((e: Error) => opts.log(`cleanup: ${e.message}`));
      if (opts.admin.status === 'ready') {
        const n = await deleteByPrefix(opts.admin, opts.prefix).catch(() => 0);
        opts.log(`deleted ${n} Redis keys under ${opts.prefix}`);
      }
      opts.admin.disconnect();
    })());
  const onSignal = () => {
    opts.log(`interrupted: stopping ${opts.what}, cleaning up`);
    process.once('SIGINT', () => process.exit(130));
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { teardown, cleanup };
}

/**
 * What a scenario's Ward processes share: the environment (Redis, the run's key prefix, fresh
 * secrets, warnings-only logs) and a provider token for the load generator.
 */
export function benchWard(redisUrl: string, prefix: string): { env: Record<string, string>; token: string } {
  const jwtSecret = randomBytes(32).toString('base64url');
  return {
    env: {
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      JWT_SECRET: jwtSecret,
      WARD_DATA_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
    },
    token: mintToken({
      sub: 'bench',
      role: 'provider',
      ttl: '1h',
      issuer: 'ward',
      audience: 'ward',
      key: jwtSecret,
    }),
  };
}
