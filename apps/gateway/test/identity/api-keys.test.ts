import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, startGateway, type TestGateway } from './helpers.js';

describe('API keys', () => {
  let gw: TestGateway;
  let admin: string;
  beforeAll(async () => {
    gw = await startGateway({ env: { API_KEY_CACHE_SECONDS: '1' } });
    await gw.app.identity.users.create({ username: 'it.admin', role: 'admin', password: GOOD_PASSWORD });
    admin = await gw.login('it.admin', GOOD_PASSWORD);
  });
  afterAll(() => gw?.close());

  const createKey = async (body: Record<string, unknown>) => {
    const res = await gw.call('POST', '/api/admin/keys', { token: admin, body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as {
      key: string;
      apiKey: { id: string; prefix: string; expiresAt: string; role: string };
    };
  };

  it('shows a new key once and stores only its SHA-256', async () => {
    const { key, apiKey } = await createKey({ name: 'EMR interface', role: 'provider' });
    expect(key).toMatch(/^ward_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(apiKey.prefix)).toBe(true);
    // Default lifetime: 90 days.
    expect(Math.abs(Date.parse(apiKey.expiresAt) - Date.now() - 90 * 86_400_000)).toBeLessThan(60_000);
    const { rows } = await gw.tdb!.db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [
      apiKey.id,
    ]);
    const row = rows[0]!;
    expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    const secret = key.slice('ward_'.length);
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(key);
      expect(String(value)).not.toContain(secret.slice(8));
    }
    const list = await gw.call('GET', '/api/admin/keys', { token: admin });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(secret.slice(8));
    expect(list.body).not.toContain(row.key_hash as string);
    expect(list.json().keys[0]).toMatchObject({
      id: apiKey.id,
      name: 'EMR interface',
      state: 'active',
      createdBy: 'it.admin',
    });
  });

  it('authenticates as Bearer ward_… or X-API-Key with the key role, as actor key:<id>', async () => {
    const { key, apiKey } = await createKey({ name: 'batch coder', role: 'staff', expiresInDays: 7 });
    const variants: Record<string, string>[] = [{ authorization: `Bearer ${key}` }, { 'x-api-key': key }];
    for (const headers of variants) {
      const me = await gw.call('GET', '/api/auth/me', { headers });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toEqual({ sub: `key:${apiKey.id}`, role: 'staff', method: 'api-key' });
    }
    const forbidden = await gw.call('GET', '/api/admin/users', { headers: { 'x-api-key': key } });
    expect(forbidden.statusCode).toBe(403);
    const wrong = await gw.call('GET', '/api/auth/me', { headers: { 'x-api-key': `${key.slice(0, -2)}xx` } });
    expect(wrong.statusCode).toBe(401);
    const logout = await gw.call('POST', '/api/auth/logout', { headers: { 'x-api-key': key } });
    expect(logout.statusCode).toBe(400);
    await new Promise((r) => setTimeout(r, 50));
    const { rows } = await gw.tdb!.db.query<{ last_used_at: Date | null }>(
      'SELECT last_used_at FROM api_keys WHERE id = $1',
      [apiKey.id],
    );
    expect(rows[0]!.last_used_at).not.toBeNull();
  });

  it('refuses a revoked key: at once on the revoking gateway, within the cache time on the others', async () => {
    const { key, apiKey } = await createKey({ name: 'lab feed', role: 'provider' });
    const other = await gw.sibling();
    const onOther = () => other.inject({ url: '/api/auth/me', headers: { 'x-api-key': key } });
    expect((await onOther()).statusCode).toBe(200); // cached there now
    const revoked = await gw.call('DELETE', `/api/admin/keys/${apiKey.id}`, { token: admin });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ state: 'revoked', revokedBy: 'it.admin' });
    const here = await gw.call('GET', '/api/auth/me', { headers: { 'x-api-key': key } });
    expect(here.statusCode).toBe(401);
    // API_KEY_CACHE_SECONDS=1 here: the other gateway stops accepting it within a second.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await onOther()).statusCode).toBe(401);
    const again = await gw.call('DELETE', `/api/admin/keys/${apiKey.id}`, { token: admin });
    expect(again.statusCode).toBe(200);
    const unknown = await gw.call('DELETE', '/api/admin/keys/00000000-0000-0000-0000-000000000000', {
      token: admin,
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('refuses an expired key', async () => {
    const { key, apiKey } = await createKey({ name: 'old job', role: 'staff' });
    expect((await gw.call('GET', '/api/auth/me', { headers: { 'x-api-key': key } })).statusCode).toBe(200);
    await gw.tdb!.db.query(
      "UPDATE api_keys SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE id = $1",
      [apiKey.id],
    );
    await new Promise((r) => setTimeout(r, 1100));
    const res = await gw.call('GET', '/api/auth/me', { headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode).toBe(401);
    const list = await gw.call('GET', '/api/admin/keys', { token: admin });
    expect(list.json().keys.find((k: { id: string }) => k.id === apiKey.id).state).toBe('expired');
  });

  it('requires an expiry in the future and at most a year away', async () => {
    for (const body of [
      { name: 'x', role: 'staff', expiresAt: new Date(Date.now() - 1000).toISOString() },
      { name: 'x', role: 'staff', expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() },
      { name: 'x', role: 'staff', expiresInDays: 0 },
      { name: 'x', role: 'root' },
    ]) {
      const res = await gw.call('POST', '/api/admin/keys', { token: admin, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
  });
});
