import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createAuditServer } from '@ward/audit';
import { clinicalTasks, type TaskServices } from '@ward/clinical';
import { auditEnv, type GatewayConfig, gatewayEnv, keyringFrom, loadEnv } from '@ward/config';
import type { Role } from '@ward/contracts';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { createServer, mintToken } from '@ward/gateway';
import { WardMetrics } from '@ward/metrics';
import { type SimHandle, type SimOptions, startSim } from '@ward/ollama-sim';
import { createRedis, deleteByPrefix, Sealer } from '@ward/queue';
import { InstanceWorker } from '@ward/worker';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pino from 'pino';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CLI = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** Collects every log line a test's processes write, so tests can search them for canaries. */
export class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface StackOptions {
  /** One sim per entry; each gets an in-process worker unless `workers: false`. */
  sims?: SimOptions[];
  /** Start in-process workers for the sims (default true). */
  workers?: boolean;
  numParallel?: number;
  lockDurationMs?: number;
  /** Workers' longest accepted silence from Ollama, in ms (default 30 000). */
  requestTimeoutMs?: number;
  /** How often workers read their instance's models, in ms (default 1000). */
  discoveryIntervalMs?: number;
  /** Extra gateway env (strings, as in the environment). */
  env?: Record<string, string>;
  /** Services for clinical tasks (e.g. a loaded ICD-10-CM code set). Tasks are always served. */
  services?: TaskServices;
  /** Give the gateway a database (identity routes) and run the audit service on it. */
  audit?: boolean;
}

/** A whole Ward (gateway + workers) on real Redis with sims in place of Ollama. */
export interface Stack {
  url: string;
  prefix: string;
  env: Record<string, string>;
  config: GatewayConfig;
  app: FastifyInstance;
  /** The test database when `audit` was asked for. */
  db: TestDatabase | undefined;
  sims: SimHandle[];
  workers: InstanceWorker[];
  children: ChildProcess[];
  logs: LogSink;
  metrics: WardMetrics;
  redis: Redis;
  token(role: Role, sub?: string, ttl?: string): string;
  /** Starts a worker as a separate `ward start --target worker` process. */
  spawnWorker(ollamaUrl: string, extraEnv?: Record<string, string>): Promise<ChildProcess>;
  waitForInstances(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const prefix = `test-${randomUUID()}`;
  const env: Record<string, string> = {
    REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    WARD_DATA_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'info',
    HEARTBEAT_INTERVAL_MS: '200',
    ...opts.env,
  };
  const metrics = new WardMetrics({ app: 'test' });
  let tdb: TestDatabase | undefined;
  let auditApp: FastifyInstance | undefined;
  if (opts.audit) {
    tdb = await openTestDatabase('postgres', { migrate: true });
    const auditConfig = loadEnv(auditEnv, {
      ...env,
      AUDIT_PORT: '0',
      AUDIT_HOST: '127.0.0.1',
      AUDIT_BATCH_LINGER_MS: '10',
      WARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'ward-audit-')),
    });
    auditApp = await createAuditServer({
      config: auditConfig,
      db: tdb.db,
      logger: pino({ level: 'warn' }),
      metrics,
    });
    await auditApp.listen({ port: 0, host: '127.0.0.1' });
    env.AUDIT_URL = `http://127.0.0.1:${(auditApp.server.address() as { port: number }).port}`;
  }
  const config = loadEnv(gatewayEnv, env);
  const sealer = new Sealer(keyringFrom(config)!);
  const logs = new LogSink();
  const logger = pino({ level: 'debug' }, logs);
  const sims = await Promise.all((opts.sims ?? []).map((o) => startSim(o)));
  const workers: InstanceWorker[] = [];
  const children: ChildProcess[] = [];
  if (opts.workers !== false) {
    for (const [i, sim] of sims.entries()) {
      const w = new InstanceWorker({
        redisUrl: REDIS_URL,
        redisPrefix: prefix,
        ollamaUrl: sim.url,
        instanceId: `sim-${i}`,
        numParallel: opts.numParallel ?? 4,
        keepAlive: '30m',
        requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
        heartbeatIntervalMs: 200,
        lockDurationMs: opts.lockDurationMs ?? 2000,
        sealer,
        logger,
        discoveryIntervalMs: opts.discoveryIntervalMs ?? 1000,
        metrics,
      });
      await w.start();
      workers.push(w);
    }
  }
  const tasks = { tasks: clinicalTasks(), services: opts.services ?? {}, models: {} };
  const app = await createServer({ config, sealer, logger, tasks, metrics, ...(tdb && { db: tdb.db }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const redis = createRedis(REDIS_URL, 'worker');

  const stack: Stack = {
    url,
    prefix,
    env,
    config,
    app,
    db: tdb,
    sims,
    workers,
    children,
    logs,
    metrics,
    redis,
    token: (role, sub = `user-${role}`, ttl = '15m') =>
      mintToken({
        sub,
        role,
        ttl,
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        key: env.JWT_SECRET!,
      }),
    async spawnWorker(ollamaUrl, extraEnv = {}) {
      const child = spawn(process.execPath, [CLI, 'start', '--target', 'worker'], {
        env: {
          ...process.env,
          ...env,
          OLLAMA_URL: ollamaUrl,
          WORKER_LOCK_DURATION_MS: '2000',
          METRICS_PORT: '0',
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.pipe(logs, { end: false });
      child.stderr!.pipe(logs, { end: false });
      children.push(child);
      return child;
    },
    async waitForInstances(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const list = await app.instances.refresh();
        if (list.filter((i) => i.healthy && i.models.length > 0).length >= n) return;
        await sleep(50);
      }
      throw new Error(`fewer than ${n} healthy instances after ${timeoutMs} ms`);
    },
    async close() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await app.close();
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(sims.map((s) => s.close()));
      await auditApp?.close();
      await tdb?.dispose();
      await deleteByPrefix(redis, prefix);
      redis.disconnect();
    },
  };
  if (workers.length) await stack.waitForInstances(workers.length);
  return stack;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tiny valid PNG (1×1, grey). */
export const PNG_1x1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==';

/** JSON request helper over real HTTP. */
export async function call(
  stack: Stack,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(stack.url + path, {
    method,
    headers: {
      ...(opts.body !== undefined && { 'content-type': 'application/json' }),
      ...(opts.token && { authorization: `Bearer ${opts.token}` }),
      ...opts.headers,
    },
    ...(opts.body !== undefined && {
      body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    }),
    ...(opts.signal && { signal: opts.signal }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body };
}
