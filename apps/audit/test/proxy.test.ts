import { randomUUID } from 'node:crypto';
import { auditEnv, internalTokenFrom, loadEnv } from '@ward/config';
import type { AuditEvent } from '@ward/contracts';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { redisKeys } from '@ward/queue';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519Signer, generateSigningKeyPem } from '../src/keys.js';
import { createAuditServer } from '../src/server.js';
import { gatewayParts } from './gateway.js';

const { auditPlugin, auth, auditProxy, mintToken, redisPlugin } = await gatewayParts();

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const JWT_SECRET = `proxy-test-${randomUUID()}-${randomUUID()}`;
const token = (sub: string, role: 'admin' | 'auditor' | 'provider' | 'staff') =>
  mintToken({ sub, role, issuer: 'ward', audience: 'ward', key: JWT_SECRET });

/** The gateway's auth, audit and /api/audit proxy on a bare Fastify, in front of a real audit service. */
describe('gateway /api/audit proxy', () => {
  const prefix = `test-${randomUUID()}`;
  let t: TestDatabase;
  let audit: FastifyInstance;
  let gateway: FastifyInstance;

  const events = async (action: string) => {
    const { rows } = await t.db.query<{ event: string }>(
      `SELECT event FROM audit_events WHERE doc ->> 'action' = $1 ORDER BY audit_events.seq`,
      [action],
    );
    return rows.map((r) => JSON.parse(r.event) as AuditEvent);
  };
  const until = async (check: () => Promise<boolean>) => {
    const end = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    t = await openTestDatabase('postgres', { migrate: true });
    const config = loadEnv(auditEnv, {
      JWT_SECRET,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      AUDIT_BATCH_LINGER_MS: '5',
    });
    audit = await createAuditServer({
      config,
      db: t.db,
      signer: ed25519Signer(generateSigningKeyPem()),
      purgeTimer: false,
    });
    const upstream = await audit.listen({ port: 0, host: '127.0.0.1' });

    gateway = Fastify({ logger: false });
    await gateway.register(redisPlugin, { url: REDIS_URL });
    await gateway.register(auth, { algorithm: 'HS256', key: JWT_SECRET, issuer: 'ward', audience: 'ward' });
    await gateway.register(auditPlugin, { keys: redisKeys(prefix), failClosed: true });
    await gateway.register(auditProxy, { upstream, internalToken: internalTokenFrom({ JWT_SECRET })! });
    await gateway.ready();
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await audit?.auditConsumer?.close();
    await audit?.close();
    await t?.dispose();
  });

  it('declares its routes for admin and auditor only', () => {
    const table = (
      gateway as unknown as { routeTable: Array<{ method: string; url: string; roles: unknown }> }
    ).routeTable;
    const rules = table.filter((r) => r.url.startsWith('/api/audit'));
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) expect(r.roles).toEqual(['admin', 'auditor']);
    expect(rules.map((r) => r.method)).not.toContain('POST');
  });

  it('lets auditors and admins through, with the actor the token names', async () => {
    for (const [sub, role] of [
      ['ann.auditor', 'auditor'],
      ['root', 'admin'],
    ] as const) {
      const res = await gateway.inject({
        method: 'GET',
        url: '/api/audit/events?limit=5',
        // A client cannot pick its own actor or internal token: both are replaced.
        headers: {
          authorization: `Bearer ${token(sub, role)}`,
          'x-ward-actor': JSON.stringify({ sub: 'someone-else', role: 'admin' }),
          'x-ward-internal': 'guess',
        },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toHaveProperty('events');
    }
    const queried = await events('audit.queried');
    expect(queried.map((e) => e.actor)).toEqual([
      { sub: 'ann.auditor', role: 'auditor', method: 'jwt' },
      { sub: 'root', role: 'admin', method: 'jwt' },
    ]);
    expect(queried[0]!.source.ip).toBe('127.0.0.1');
  });

  it('streams exports and verification through the proxy', async () => {
    const auth = { authorization: `Bearer ${token('ann.auditor', 'auditor')}` };
    const csv = await gateway.inject({ method: 'GET', url: '/api/audit/export?format=csv', headers: auth });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const verify = await gateway.inject({ method: 'GET', url: '/api/audit/verify', headers: auth });
    expect(verify.json()).toMatchObject({ ok: true });
  });

  it('answers 403 to providers and 401 without a token, never reaching the audit service, and records the denials', async () => {
    const before = (await events('audit.queried')).length;
    const denied = await gateway.inject({
      method: 'GET',
      url: '/api/audit/events',
      headers: { authorization: `Bearer ${token('dr.smith', 'provider')}`, 'user-agent': 'curl/8' },
    });
    expect(denied.statusCode).toBe(403);
    const anonymous = await gateway.inject({ method: 'GET', url: '/api/audit/export' });
    expect(anonymous.statusCode).toBe(401);
    await until(async () => (await events('access.denied')).length === 2);
    const [forbidden, unauthenticated] = await events('access.denied');
    expect(forbidden).toMatchObject({
      outcome: 'denied',
      reason: 'WARD_FORBIDDEN',
      actor: { sub: 'dr.smith', role: 'provider', method: 'jwt' },
      http: { method: 'GET', route: '/api/audit/*', status: 403 },
      source: { service: 'gateway', userAgent: 'curl/8' },
    });
    expect(unauthenticated).toMatchObject({ reason: 'WARD_UNAUTHORIZED', http: { status: 401 } });
    expect(unauthenticated!.actor).toBeUndefined();
    expect((await events('audit.queried')).length).toBe(before);
  });

  it('answers 503 when the audit service is unreachable', async () => {
    const g = Fastify({ logger: false });
    await g.register(redisPlugin, { url: REDIS_URL });
    await g.register(auth, { algorithm: 'HS256', key: JWT_SECRET, issuer: 'ward', audience: 'ward' });
    await g.register(auditProxy, { upstream: 'http://127.0.0.1:9', internalToken: 'x'.repeat(32) });
    try {
      const res = await g.inject({
        method: 'GET',
        url: '/api/audit/events',
        headers: { authorization: `Bearer ${token('ann.auditor', 'auditor')}` },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'WARD_AUDIT_SERVICE_UNAVAILABLE' });
    } finally {
      await g.close();
    }
  });
});
