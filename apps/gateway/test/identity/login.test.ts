import { ROLES } from '@ward/contracts';
import { createDecoder, createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth.js';
import { GOOD_PASSWORD, startGateway, type TestGateway } from './helpers.js';

const decode = createDecoder();

describe('password login and sessions', () => {
  let gw: TestGateway;
  let adminToken: string;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw?.close());

  const create = (username: string, role: string, password = GOOD_PASSWORD) =>
    gw.call('POST', '/api/admin/users', { token: adminToken, body: { username, role, password } });

  it('has no default account: a fresh database has no users and admin/admin is refused', async () => {
    const { rows } = await gw.tdb!.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    expect(rows[0]!.n).toBe(0);
    for (const [username, password] of [
      ['admin', 'admin'],
      ['admin', 'password'],
      ['ward', 'ward'],
      ['root', 'changeme'],
    ]) {
      const res = await gw.call('POST', '/api/auth/login', { body: { username, password } });
      expect(res.statusCode).toBe(401);
    }
  });

  it('creates the first admin through the service, then logs in with a short-lived token carrying a jti', async () => {
    await gw.app.identity.users.create({ username: 'Admin.One', role: 'admin', password: GOOD_PASSWORD });
    const res = await gw.call('POST', '/api/auth/login', {
      body: { username: 'admin.one', password: GOOD_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      user: { username: 'admin.one', role: 'admin' },
    });
    const claims = decode(body.token);
    expect(claims).toMatchObject({ sub: 'admin.one', role: 'admin', iss: 'ward', aud: 'ward', gen: 0 });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.exp - claims.iat).toBe(900);
    adminToken = body.token;
    const me = await gw.call('GET', '/api/auth/me', { token: adminToken });
    expect(me.json()).toMatchObject({ sub: 'admin.one', role: 'admin', method: 'jwt' });
    expect(Date.parse(me.json().expiresAt)).toBeGreaterThan(Date.now() + 800_000);
    const { rows } = await gw.tdb!.db.query<{ password_hash: string; last_login_at: Date | null }>(
      "SELECT password_hash, last_login_at FROM users WHERE username = 'admin.one'",
    );
    expect(rows[0]!.password_hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(rows[0]!.password_hash).not.toContain(GOOD_PASSWORD);
    expect(rows[0]!.last_login_at).not.toBeNull();
  });

  it('answers an unknown username and a wrong password identically, in similar time', async () => {
    await create('dr.smith', 'provider');
    const attempt = async (username: string) => {
      const t0 = performance.now();
      const res = await gw.call('POST', '/api/auth/login', {
        body: { username, password: 'wrong password 123' },
      });
      return { ms: performance.now() - t0, status: res.statusCode, body: res.json() };
    };
    await attempt('nobody.here'); // warm-up
    const unknown = [await attempt('nobody.1'), await attempt('nobody.2')];
    const wrong = [await attempt('dr.smith'), await attempt('dr.smith')];
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    expect(unknown[0]!.status).toBe(401);
    expect(wrong[0]!.status).toBe(401);
    expect(strip(unknown[0]!.body)).toEqual(strip(wrong[0]!.body));
    expect(unknown[0]!.body.message).toBe('invalid username or password');
    const mean = (xs: { ms: number }[]) => xs.reduce((n, x) => n + x.ms, 0) / xs.length;
    // Both run one scrypt; an unknown user must not answer in a fraction of the time.
    expect(mean(unknown)).toBeGreaterThan(mean(wrong) * 0.5);
    expect(mean(wrong)).toBeLessThan(150 * 2);
  });

  it('refuses passwords shorter than 12 characters and duplicate usernames', async () => {
    const short = await create('short.pw', 'staff', 'elevenchars');
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ code: 'WARD_VALIDATION', field: 'password' });
    const dup = await create('DR.SMITH', 'staff');
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('WARD_USER_EXISTS');
    const bad = await create('bad:name', 'staff');
    expect(bad.statusCode).toBe(400);
  });

  it('locks a username after five failures: the sixth attempt fails even with the right password', async () => {
    await create('nurse.lock', 'staff');
    for (let i = 0; i < 5; i++) {
      const res = await gw.call('POST', '/api/auth/login', {
        body: { username: 'nurse.lock', password: `wrong password ${i}` },
      });
      expect(res.statusCode).toBe(401);
    }
    const sixth = await gw.call('POST', '/api/auth/login', {
      body: { username: 'nurse.lock', password: GOOD_PASSWORD },
    });
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().code).toBe('WARD_LOGIN_LOCKED');
    const retry = Number(sixth.headers['retry-after']);
    expect(retry).toBeGreaterThan(890);
    expect(retry).toBeLessThanOrEqual(900);
    // An unknown username locks the same way, so the lock reveals nothing.
    for (let i = 0; i < 5; i++)
      await gw.call('POST', '/api/auth/login', {
        body: { username: 'ghost', password: `wrong password ${i}` },
      });
    const ghost = await gw.call('POST', '/api/auth/login', { body: { username: 'ghost', password: 'x' } });
    expect(ghost.statusCode).toBe(429);
    // An admin password reset lifts the lock.
    const reset = await gw.call('POST', '/api/admin/users/nurse.lock/password', {
      token: adminToken,
      body: { password: 'a brand new passphrase' },
    });
    expect(reset.statusCode).toBe(200);
    await expect(gw.login('nurse.lock', 'a brand new passphrase')).resolves.toBeTypeOf('string');
  });

  it('counts parallel guesses before checking them, so a burst cannot get past the limit', async () => {
    await create('burst.user', 'staff');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        gw.call('POST', '/api/auth/login', {
          body: { username: 'burst.user', password: `guess number ${i}` },
        }),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('refuses a logged-out token until it expires, and other sessions keep working', async () => {
    const t1 = await gw.login('dr.smith', GOOD_PASSWORD);
    const t2 = await gw.login('dr.smith', GOOD_PASSWORD);
    expect((await gw.call('GET', '/api/auth/me', { token: t1 })).statusCode).toBe(200);
    const out = await gw.call('POST', '/api/auth/logout', { token: t1 });
    expect(out.statusCode).toBe(204);
    const after = await gw.call('GET', '/api/auth/me', { token: t1 });
    expect(after.statusCode).toBe(401);
    expect(after.json().message).toBe('the token has been revoked');
    // Every gateway sharing Redis refuses it.
    const other = await gw.sibling();
    const elsewhere = await other.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${t1}` } });
    expect(elsewhere.statusCode).toBe(401);
    expect((await gw.call('GET', '/api/auth/me', { token: t2 })).statusCode).toBe(200);
    const jti = decode(t1).jti as string;
    const ttl = await gw.redis.ttl(`${gw.prefix}:auth:revoked:${jti}`);
    expect(ttl).toBeGreaterThan(800);
    expect(ttl).toBeLessThanOrEqual(900 + 60);
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = createSigner({ key: gw.env.JWT_SECRET!, iss: 'ward', aud: 'ward' });
    const expired = sign({
      sub: 'dr.smith',
      role: 'provider',
      gen: 0,
      jti: crypto.randomUUID(),
      iat: now - 1000,
      exp: now - 100,
    });
    const res = await gw.call('GET', '/api/auth/me', { token: expired });
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toBe('the token has expired');
  });

  it('refuses a disabled user at login and refuses the tokens it already holds', async () => {
    await create('locum.doc', 'provider');
    const token = await gw.login('locum.doc', GOOD_PASSWORD);
    const minted = mintToken({
      sub: 'locum.doc',
      role: 'provider',
      issuer: 'ward',
      audience: 'ward',
      key: gw.env.JWT_SECRET!,
    });
    const off = await gw.call('PATCH', '/api/admin/users/locum.doc', {
      token: adminToken,
      body: { disabled: true },
    });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ username: 'locum.doc', disabled: true });
    for (const t of [token, minted]) {
      const res = await gw.call('GET', '/api/auth/me', { token: t });
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toBe('the account is disabled');
    }
    const login = await gw.call('POST', '/api/auth/login', {
      body: { username: 'locum.doc', password: GOOD_PASSWORD },
    });
    expect(login.statusCode).toBe(401);
    expect(login.json().message).toBe('invalid username or password');
    // Re-enabled: it can log in again, but tokens from before the disable stay void.
    const on = await gw.call('PATCH', '/api/admin/users/locum.doc', {
      token: adminToken,
      body: { disabled: false },
    });
    expect(on.json().disabled).toBe(false);
    expect((await gw.call('GET', '/api/auth/me', { token })).statusCode).toBe(401);
    const fresh = await gw.login('locum.doc', GOOD_PASSWORD);
    expect((await gw.call('GET', '/api/auth/me', { token: fresh })).statusCode).toBe(200);
  });

  it('refuses a disabled account before its request body is acted on or its role is judged', async () => {
    await create('acting.admin', 'admin');
    const actingToken = await gw.login('acting.admin', GOOD_PASSWORD);
    await create('night.nurse', 'staff');
    const off = await gw.call('PATCH', '/api/admin/users/acting.admin', {
      token: adminToken,
      body: { disabled: true },
    });
    expect(off.statusCode).toBe(200);
    const attempt = await gw.call('PATCH', '/api/admin/users/night.nurse', {
      token: actingToken,
      body: { role: 'admin' },
    });
    expect(attempt.statusCode).toBe(401);
    expect(attempt.json().message).toBe('the account is disabled');
    const { users } = (await gw.call('GET', '/api/admin/users', { token: adminToken })).json();
    expect(users.find((u: { username: string }) => u.username === 'night.nurse')).toMatchObject({
      role: 'staff',
    });
    // A disabled account on a route its role may not use: still 401 (disabled), not 403.
    const nurse = await gw.login('night.nurse', GOOD_PASSWORD);
    await gw.call('PATCH', '/api/admin/users/night.nurse', { token: adminToken, body: { disabled: true } });
    const denied = await gw.call('GET', '/api/admin/users', { token: nurse });
    expect(denied.statusCode).toBe(401);
    expect(denied.json().message).toBe('the account is disabled');
  });

  it('restores the disabled marks from the database when a gateway starts', async () => {
    await create('gone.user', 'staff');
    const token = await gw.login('gone.user', GOOD_PASSWORD);
    await gw.call('PATCH', '/api/admin/users/gone.user', { token: adminToken, body: { disabled: true } });
    await gw.redis.del(`${gw.prefix}:auth:disabled:gone.user`); // Redis lost its data
    expect((await gw.call('GET', '/api/auth/me', { token })).statusCode).toBe(200);
    await gw.sibling(); // a gateway (re)starting
    expect((await gw.call('GET', '/api/auth/me', { token })).statusCode).toBe(401);
  });

  it('ends sessions on a role change and a password reset', async () => {
    await create('clerk', 'staff');
    const before = await gw.login('clerk', GOOD_PASSWORD);
    const changed = await gw.call('PATCH', '/api/admin/users/clerk', {
      token: adminToken,
      body: { role: 'auditor' },
    });
    expect(changed.json().role).toBe('auditor');
    expect((await gw.call('GET', '/api/auth/me', { token: before })).statusCode).toBe(401);
    const after = await gw.login('clerk', GOOD_PASSWORD);
    expect((await gw.call('GET', '/api/auth/me', { token: after })).json().role).toBe('auditor');
    await gw.call('POST', '/api/admin/users/clerk/password', {
      token: adminToken,
      body: { password: 'another long passphrase' },
    });
    expect((await gw.call('GET', '/api/auth/me', { token: after })).statusCode).toBe(401);
    expect(
      (await gw.call('POST', '/api/auth/login', { body: { username: 'clerk', password: GOOD_PASSWORD } }))
        .statusCode,
    ).toBe(401);
  });

  it('keeps at least one active admin', async () => {
    const demote = await gw.call('PATCH', '/api/admin/users/admin.one', {
      token: adminToken,
      body: { role: 'staff' },
    });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().code).toBe('WARD_LAST_ADMIN');
    const disable = await gw.call('PATCH', '/api/admin/users/admin.one', {
      token: adminToken,
      body: { disabled: true },
    });
    expect(disable.statusCode).toBe(409);
    expect((await gw.call('GET', '/api/auth/me', { token: adminToken })).statusCode).toBe(200);
  });

  it('lists users without password hashes', async () => {
    const res = await gw.call('GET', '/api/admin/users', { token: adminToken });
    expect(res.statusCode).toBe(200);
    const users = res.json().users as Array<Record<string, unknown>>;
    expect(users.map((u) => u.username)).toContain('dr.smith');
    expect(res.body).not.toMatch(/scrypt|password_?hash/i);
    const missing = await gw.call('GET', '/api/admin/users/nobody', { token: adminToken });
    expect(missing.statusCode).toBe(404);
  });

  it('declares roles on every identity route: login is the only public /api route, admin routes are admin-only', async () => {
    const table = gw.app.routeTable.filter((r) => r.url.startsWith('/api/'));
    expect(table.filter((r) => r.roles === 'public').map((r) => r.url)).toEqual(['/api/auth/login']);
    const admin = table.filter((r) => r.url.startsWith('/api/admin/'));
    expect(admin.length).toBeGreaterThanOrEqual(8);
    // A fresh token per call: the walk logs some of them out.
    const tokenFor = (role: (typeof ROLES)[number]) =>
      mintToken({ sub: `walk-${role}`, role, issuer: 'ward', audience: 'ward', key: gw.env.JWT_SECRET! });
    for (const r of table.filter((x) => x.url.startsWith('/api/admin/') || x.url.startsWith('/api/auth/'))) {
      if (r.roles === 'public') continue;
      const url = r.url.replace(':username', 'nobody').replace(':id', '00000000-0000-0000-0000-000000000000');
      const none = await gw.call(r.method, url, { body: r.method === 'GET' ? undefined : {} });
      expect(none.statusCode, `${r.method} ${r.url} without credentials`).toBe(401);
      for (const role of ROLES) {
        const res = await gw.call(r.method, url, {
          token: tokenFor(role),
          body: r.method === 'GET' ? undefined : {},
        });
        if (r.roles.includes(role))
          expect([401, 403], `${r.method} ${r.url} as ${role}`).not.toContain(res.statusCode);
        else expect(res.statusCode, `${r.method} ${r.url} as ${role}`).toBe(403);
      }
    }
  });
});
