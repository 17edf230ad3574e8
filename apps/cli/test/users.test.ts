import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '@ward/db/testing';
import { verifyPassword } from '@ward/gateway';
import { createRedis } from '@ward/queue';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIO, keysCommand, usersCommand } from '../src/users.js';
import { REDIS_URL } from './helpers/stack.js';

function io(stdinText = ''): CliIO & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  return {
    stdin: Readable.from([stdinText]),
    stdout,
    stderr,
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('ward users and ward keys', () => {
  let tdb: TestDatabase;
  let redis: Redis;
  let env: NodeJS.ProcessEnv;
  const prefix = `test-${randomUUID()}`;
  beforeAll(async () => {
    tdb = await openTestDatabase('postgres');
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${tdb.schema}`);
    env = { DATABASE_URL: url.toString(), REDIS_URL, REDIS_PREFIX: prefix };
    redis = createRedis(REDIS_URL, 'worker');
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await tdb?.dispose();
  });

  const hashOf = async (username: string) =>
    (
      await tdb.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE username = $1', [
        username,
      ])
    ).rows[0]!.password_hash;

  it('adds the first admin with the password read from piped stdin, never from the command line', async () => {
    const t = io('correct horse battery staple\n');
    expect(await usersCommand(['add', 'Chief.Admin', '--role', 'admin'], env, t)).toBe(0);
    expect(t.err()).toMatch(/created admin chief\.admin/);
    expect(await verifyPassword('correct horse battery staple', await hashOf('chief.admin'))).toBe(true);
    const list = io();
    expect(await usersCommand(['list', '--json'], env, list)).toBe(0);
    expect(JSON.parse(list.out())).toMatchObject([
      { username: 'chief.admin', role: 'admin', disabled: false },
    ]);
  });

  it('prompts twice at a terminal without echoing the password', async () => {
    const t = io();
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => tty });
    const typed = async (text: string) => {
      await new Promise((r) => setTimeout(r, 20));
      tty.write(text);
    };
    const done = usersCommand(['add', 'tty.user', '--role', 'auditor'], env, { ...t, stdin: tty });
    await typed('correct horse battery stapleX\u007f\r');
    await typed('correct horse battery staple\r');
    expect(await done).toBe(0);
    expect(t.err()).toMatch(/Password \(at least 12 characters\): \nRepeat the password: \n/);
    expect(t.err()).not.toContain('staple');
    expect(await verifyPassword('correct horse battery staple', await hashOf('tty.user'))).toBe(true);
  });

  it('refuses a short password, a taken name, a missing role and unknown options', async () => {
    const short = io('too short\n');
    expect(await usersCommand(['add', 'nurse.a', '--role', 'staff'], env, short)).toBe(2);
    expect(short.err()).toMatch(/at least 12 characters/);
    const taken = io('correct horse battery staple\n');
    expect(await usersCommand(['add', 'chief.admin', '--role', 'staff'], env, taken)).toBe(1);
    expect(taken.err()).toMatch(/taken/);
    expect(await usersCommand(['add', 'nurse.a'], env, io('x\n'))).toBe(2);
    expect(await usersCommand(['add', 'nurse.a', '--role', 'staff', '--password', 'x'], env, io())).toBe(2);
  });

  it('changes roles, disables (marking Redis so live tokens stop) and resets passwords', async () => {
    expect(
      await usersCommand(['add', 'dr.jones', '--role', 'provider'], env, io('correct horse battery staple')),
    ).toBe(0);
    expect(await usersCommand(['set-role', 'dr.jones', 'staff'], env, io())).toBe(0);
    expect(await usersCommand(['disable', 'dr.jones'], env, io())).toBe(0);
    expect(await redis.exists(`${prefix}:auth:disabled:dr.jones`)).toBe(1);
    expect(await usersCommand(['enable', 'dr.jones'], env, io())).toBe(0);
    expect(await redis.exists(`${prefix}:auth:disabled:dr.jones`)).toBe(0);
    expect(await usersCommand(['reset-password', 'dr.jones'], env, io('a different passphrase\n'))).toBe(0);
    expect(await verifyPassword('a different passphrase', await hashOf('dr.jones'))).toBe(true);
    const last = io();
    expect(await usersCommand(['disable', 'chief.admin'], env, last)).toBe(1);
    expect(last.err()).toMatch(/last active admin/);
    const list = io();
    await usersCommand(['list'], env, list);
    expect(list.out()).toMatch(/^USERNAME\s+ROLE\s+STATE/);
    expect(list.out()).toMatch(/dr\.jones\s+staff\s+active/);
  });

  it('records console account and key changes in the audit queue, as the operating-system user, without secrets', async () => {
    const actions: string[] = [];
    const bodies: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:q:audit:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if ((await redis.type(key)) !== 'hash') continue;
        const data = await redis.hget(key, 'data');
        if (!data) continue;
        const event = JSON.parse(data);
        actions.push(event.action);
        bodies.push(data);
        expect(event.actor.method).toBe('cli');
        expect(event.source.service).toBe('cli');
      }
    } while (cursor !== '0');
    expect(actions).toEqual(
      expect.arrayContaining([
        'user.created',
        'user.role.changed',
        'user.disabled',
        'user.enabled',
        'user.password.changed',
      ]),
    );
    expect(bodies.join('\n')).not.toMatch(/correct horse|different passphrase/);
  });

  it('creates an API key printed once on stdout, stores only its hash, lists and revokes it', async () => {
    const t = io();
    expect(
      await keysCommand(['create', '--name', 'EMR feed', '--role', 'provider', '--days', '30'], env, t),
    ).toBe(0);
    const key = t.out().trim();
    expect(key).toMatch(/^ward_[A-Za-z0-9_-]{43}$/);
    expect(t.err()).toMatch(/not shown again/);
    const { rows } = await tdb.db.query<{ id: string; key_hash: string; expires_at: Date }>(
      'SELECT id, key_hash, expires_at FROM api_keys',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(Math.abs(new Date(rows[0]!.expires_at).getTime() - Date.now() - 30 * 86_400_000)).toBeLessThan(
      60_000,
    );
    const list = io();
    expect(await keysCommand(['list'], env, list)).toBe(0);
    expect(list.out()).toContain(rows[0]!.id);
    expect(list.out()).not.toContain(key.slice(13));
    expect(await keysCommand(['revoke', rows[0]!.id], env, io())).toBe(0);
    const after = io();
    await keysCommand(['list', '--json'], env, after);
    expect(JSON.parse(after.out())[0]).toMatchObject({ state: 'revoked' });
    expect(await keysCommand(['create', '--name', 'x'], env, io())).toBe(2);
    expect(await keysCommand(['revoke', randomUUID()], env, io())).toBe(1);
  });
});
