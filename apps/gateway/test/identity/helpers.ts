import { randomBytes, randomUUID } from 'node:crypto';
import { type GatewayConfig, gatewayEnv, loadEnv } from '@ward/config';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { createRedis, deleteByPrefix, Sealer } from '@ward/queue';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { createServer } from '../../src/server.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A gateway on real Redis (its own key prefix) and, unless `db: false`, a fresh PostgreSQL schema. */
export interface TestGateway {
  app: FastifyInstance;
  config: GatewayConfig;
  env: Record<string, string>;
  prefix: string;
  tdb: TestDatabase | undefined;
  redis: Redis;
  /** Another gateway on the same database and Redis (as behind nginx). */
  sibling(env?: Record<string, string>): Promise<FastifyInstance>;
  call(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse & { body: string; json: () => any }>;
  login(username: string, password: string): Promise<string>;
  close(): Promise<void>;
}

export async function startGateway(
  opts: { env?: Record<string, string>; db?: boolean } = {},
): Promise<TestGateway> {
  const prefix = `test-${randomUUID()}`;
  const env: Record<string, string> = {
    REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'silent',
    ...opts.env,
  };
  const config = loadEnv(gatewayEnv, env);
  const sealer = new Sealer({ currentId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
  const tdb = opts.db === false ? undefined : await openTestDatabase('postgres', { migrate: true });
  const logger = pino({ level: 'silent' });
  const apps: FastifyInstance[] = [];
  const make = async (extra: Record<string, string> = {}) => {
    const cfg = Object.keys(extra).length ? loadEnv(gatewayEnv, { ...env, ...extra }) : config;
    const app = await createServer({ config: cfg, sealer, logger, db: tdb?.db });
    await app.ready();
    apps.push(app);
    return app;
  };
  const app = await make();
  const redis = createRedis(REDIS_URL, 'worker');
  const gw: TestGateway = {
    app,
    config,
    env,
    prefix,
    tdb,
    redis,
    sibling: make,
    async call(method, url, o = {}) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { ...(o.token && { authorization: `Bearer ${o.token}` }), ...o.headers },
        ...(o.body !== undefined && { payload: o.body as object }),
      });
      return Object.assign(res, { json: () => JSON.parse(res.body) });
    },
    async login(username, password) {
      const res = await gw.call('POST', '/api/auth/login', { body: { username, password } });
      if (res.statusCode !== 200)
        throw new Error(`login of ${username} failed: ${res.statusCode} ${res.body}`);
      return res.json().token as string;
    },
    async close() {
      await Promise.all(apps.map((a) => a.close()));
      await deleteByPrefix(redis, prefix);
      redis.disconnect();
      await tdb?.dispose();
    },
  };
  return gw;
}

/** A password that passes the policy. */
export const GOOD_PASSWORD = 'correct horse battery staple';
