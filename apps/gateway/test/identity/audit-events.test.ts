import { randomBytes, randomUUID } from 'node:crypto';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { gatewayEnv, loadEnv } from '@ward/config';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { createRedis, redisKeys, Sealer } from '@ward/queue';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { identitySettings } from '../../src/identity/settings.js';
import { GOOD_PASSWORD, REDIS_URL } from './helpers.js';

describe('identity audit events', () => {
  const events: unknown[] = [];
  let app: FastifyInstance;
  let tdb: TestDatabase;
  const prefix = `test-${randomUUID()}`;
  beforeAll(async () => {
    tdb = await openTestDatabase('postgres', { migrate: true });
    const config = loadEnv(gatewayEnv, {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      JWT_SECRET: randomBytes(32).toString('base64url'),
    });
    const identity = identitySettings(config, 'HS256');
    app = Fastify();
    app.setValidatorCompiler(TypeBoxValidatorCompiler);
    await buildApp(app, {
      redisUrl: REDIS_URL,
      keys: redisKeys(prefix),
      sealer: new Sealer({ currentId: 'k1', keys: new Map([['k1', randomBytes(32)]]) }),
      auth: {
        algorithm: 'HS256',
        key: config.JWT_SECRET!,
        issuer: 'ward',
        audience: 'ward',
        redisPrefix: prefix,
      },
      localModelsEnabled: true,
      hipaaMode: false,
      maxQueue: 10,
      jobTimeoutSeconds: 10,
      retentionSeconds: 60,
      docs: false,
      db: tdb.db,
      identity: identity.options,
    });
    await app.ready();
    // Capture what the identity routes hand to the (real) audit plugin.
    (app.audit as { emit: (event: unknown) => Promise<void> }).emit = async (event) =>
      void events.push(event);
  });
  afterAll(async () => {
    await app?.close();
    const redis = createRedis(REDIS_URL, 'worker');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await tdb?.dispose();
  });

  it('records logins, account and key changes without passwords, tokens or keys', async () => {
    await app.identity.users.create({ username: 'aud.admin', role: 'admin', password: GOOD_PASSWORD });
    const post = (url: string, payload: object, token?: string) =>
      app.inject({
        method: 'POST',
        url,
        payload,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    expect(
      (await post('/api/auth/login', { username: 'aud.admin', password: 'not the password' })).statusCode,
    ).toBe(401);
    const login = await post('/api/auth/login', { username: 'aud.admin', password: GOOD_PASSWORD });
    const token = login.json().token as string;
    await post(
      '/api/admin/users',
      { username: 'aud.user', role: 'staff', password: 'first passphrase 1' },
      token,
    );
    await app.inject({
      method: 'PATCH',
      url: '/api/admin/users/aud.user',
      payload: { role: 'auditor', disabled: true },
      headers: { authorization: `Bearer ${token}` },
    });
    await post('/api/admin/users/aud.user/password', { password: 'second passphrase 2' }, token);
    const key = (await post('/api/admin/keys', { name: 'feed', role: 'staff' }, token)).json();
    await app.inject({
      method: 'DELETE',
      url: `/api/admin/keys/${key.apiKey.id}`,
      headers: { authorization: `Bearer ${token}` },
    });
    await post('/api/auth/logout', {}, token);

    expect(events.map((e) => (e as { action: string }).action)).toEqual([
      'auth.login.failed',
      'auth.login.succeeded',
      'user.created',
      'user.role.changed',
      'user.disabled',
      'user.password.changed',
      'apikey.created',
      'apikey.revoked',
      'auth.logout',
    ]);
    expect(events[0]).toMatchObject({
      outcome: 'failure',
      reason: 'bad-credentials',
      actor: { sub: 'aud.admin' },
    });
    expect(events[3]).toMatchObject({
      resource: { type: 'user', id: 'aud.user' },
      detail: { from: 'staff', to: 'auditor' },
    });
    const all = JSON.stringify(events);
    for (const secret of [
      GOOD_PASSWORD,
      'not the password',
      'first passphrase 1',
      'second passphrase 2',
      token,
      key.key,
    ])
      expect(all).not.toContain(secret);
    expect(all).not.toMatch(/scrypt|ward_[A-Za-z0-9_-]{20}/);
  });
});
