import { createHmac } from 'node:crypto';
import { ROLES } from '@ward/contracts';
import { mintToken } from '@ward/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Stack, startStack } from './helpers/stack.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('authentication and roles', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sims: [{ models: ['mistral:7b'], latency: 'none' }], audit: true });
  });
  afterAll(() => stack?.close());

  /** A concrete path for a route pattern. */
  const pathOf = (url: string) => url.replace(':id', 'bWlzdHJhbDo3Yg.01JAAAAAAAAAAAAAAAAAAAAAAA');
  const bodyFor = (method: string) =>
    method === 'POST' ? { modelName: 'mistral:7b', prompt: 'role check' } : undefined;

  it('declares roles or public on every route, and protects every API route', () => {
    const table = stack.app.routeTable;
    expect(table.length).toBeGreaterThanOrEqual(7);
    for (const r of table) {
      if (r.url.startsWith('/api/') && r.url !== '/api/auth/login') expect(r.roles, r.url).not.toBe('public');
    }
    // Identity, admin and audit routes are part of the walk.
    const urls = table.map((r) => r.url);
    for (const u of ['/api/auth/me', '/api/admin/users', '/api/admin/keys', '/api/tasks/soap-note'])
      expect(urls).toContain(u);
    expect(urls.some((u) => u.startsWith('/api/audit'))).toBe(true);
  });

  it('walks every route × role: allowed roles pass, others get 403, no token gets 401', async () => {
    const rows: string[] = [];
    for (const route of stack.app.routeTable.filter((r) => r.roles !== 'public')) {
      const path = pathOf(route.url);
      const none = await call(stack, route.method, path, { body: bodyFor(route.method) });
      expect(none.status, `${route.method} ${route.url} without a token`).toBe(401);
      for (const role of ROLES) {
        const res = await call(stack, route.method, path, {
          token: stack.token(role),
          body: bodyFor(route.method),
        });
        const allowed = (route.roles as readonly string[]).includes(role);
        rows.push(`${route.method} ${route.url} ${role} ${res.status}`);
        if (allowed) expect([401, 403], `${route.method} ${route.url} as ${role}`).not.toContain(res.status);
        else {
          expect(res.status, `${route.method} ${route.url} as ${role}`).toBe(403);
          expect(res.body.code).toBe('WARD_FORBIDDEN');
        }
      }
    }
    expect(rows.length).toBeGreaterThanOrEqual(5 * ROLES.length);
  });

  it('keeps public routes open', async () => {
    for (const route of stack.app.routeTable.filter(
      (r) => r.roles === 'public' && r.method === 'GET' && !r.url.includes('*'),
    )) {
      const res = await call(stack, 'GET', pathOf(route.url));
      expect([401, 403], route.url).not.toContain(res.status);
    }
  });

  describe('refuses bad tokens with 401', () => {
    const path = '/api/local/status';
    const cfg = () => stack.config;
    const cases: Array<[string, () => string]> = [
      [
        'a bad signature',
        () =>
          mintToken({
            sub: 'x',
            role: 'admin',
            issuer: cfg().JWT_ISSUER,
            audience: cfg().JWT_AUDIENCE,
            key: 'another-secret-another-secret-0123456789',
          }),
      ],
      [
        'an expired token',
        () => {
          const now = Math.floor(Date.now() / 1000);
          const h = b64({ alg: 'HS256', typ: 'JWT' });
          const p = b64({
            sub: 'x',
            role: 'admin',
            iss: cfg().JWT_ISSUER,
            aud: cfg().JWT_AUDIENCE,
            iat: now - 3600,
            exp: now - 60,
          });
          return `${h}.${p}.${createHmac('sha256', stack.env.JWT_SECRET!).update(`${h}.${p}`).digest('base64url')}`;
        },
      ],
      [
        'alg none',
        () => {
          const now = Math.floor(Date.now() / 1000);
          return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x', role: 'admin', iss: cfg().JWT_ISSUER, aud: cfg().JWT_AUDIENCE, exp: now + 600 })}.`;
        },
      ],
      [
        'the wrong issuer',
        () =>
          mintToken({
            sub: 'x',
            role: 'admin',
            issuer: 'evil',
            audience: cfg().JWT_AUDIENCE,
            key: stack.env.JWT_SECRET!,
          }),
      ],
      [
        'the wrong audience',
        () =>
          mintToken({
            sub: 'x',
            role: 'admin',
            issuer: cfg().JWT_ISSUER,
            audience: 'other',
            key: stack.env.JWT_SECRET!,
          }),
      ],
      [
        'an unknown role',
        () =>
          mintToken({
            sub: 'x',
            role: 'superuser' as 'admin',
            issuer: cfg().JWT_ISSUER,
            audience: cfg().JWT_AUDIENCE,
            key: stack.env.JWT_SECRET!,
          }),
      ],
      ['garbage', () => 'not.a.token'],
    ];
    for (const [name, make] of cases) {
      it(`${name}, on every protected route`, async () => {
        const token = make();
        const routes = stack.app.routeTable.filter((r) => r.roles !== 'public');
        for (const route of routes) {
          const res = await call(stack, route.method, pathOf(route.url), {
            token,
            body: bodyFor(route.method),
          });
          expect(res.status, `${route.method} ${route.url} with ${name}`).toBe(401);
          expect(res.body.code).toBe('WARD_UNAUTHORIZED');
        }
        expect(routes.length).toBeGreaterThan(20);
      });
    }
    it('a non-Bearer scheme', async () => {
      const res = await call(stack, 'GET', path, {
        headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      });
      expect(res.status).toBe(401);
    });
  });
});
