import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { auditEnv, gatewayEnv, workerEnv } from '@ward/config';
import { openTestDatabase, TEST_DATABASE_URL } from '@ward/db/testing';
import { startSim } from '@ward/ollama-sim';
import { createRedis } from '@ward/queue';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/procs.js';
import { CLI, REDIS_URL, sleep } from './helpers/stack.js';

const run = promisify(execFile);

/** Runs `ward …` in a scratch directory and returns its exit code and output. */
async function ward(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'ward-cli-'));
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH!, ...env },
      cwd,
      timeout: 20_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

const secrets = () => ({
  JWT_SECRET: randomBytes(32).toString('base64url'),
  WARD_DATA_KEY: randomBytes(32).toString('base64'),
});

describe('ward start fails fast, naming the missing piece', () => {
  it('when Redis cannot be reached', async () => {
    const res = await ward(['start'], {
      ...secrets(),
      REDIS_URL: 'redis://127.0.0.1:1',
      PORT: String(await freePort()),
    });
    expect(res.code).not.toBe(0);
    expect(res.out).toContain('Redis is not reachable at redis://127.0.0.1:1');
  });

  it('when HIPAA_MODE=true and secrets are missing', async () => {
    const res = await ward(['start'], { HIPAA_MODE: 'true' });
    expect(res.code).not.toBe(0);
    expect(res.out).toContain('WARD_DATA_KEY is required');
    expect(res.out).toContain('JWT_SECRET or JWT_PUBLIC_KEY is required');
  });

  it('when HIPAA_MODE=true and the JWT secret is weak', async () => {
    const res = await ward(['start'], {
      HIPAA_MODE: 'true',
      WARD_DATA_KEY: secrets().WARD_DATA_KEY,
      JWT_SECRET: 'changeme',
    });
    expect(res.code).not.toBe(0);
    expect(res.out).toContain('JWT_SECRET is too weak');
    expect(res.out).not.toContain('changeme');
  });

  it('when a variable is malformed', async () => {
    const res = await ward(['start'], {
      ...secrets(),
      PORT: 'eighty',
      OLLAMA_NUM_PARALLEL: '-1',
      METRICS_PORT: 'abc',
    });
    expect(res.code).not.toBe(0);
    expect(res.out).toContain('PORT must be a whole number');
    expect(res.out).toContain('OLLAMA_NUM_PARALLEL must be at least 1');
    expect(res.out).toContain('METRICS_PORT must be a whole number');
  });

  it('mints RS256/ES256 tokens with JWT_PRIVATE_KEY, and says what is missing without it', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const env = {
      JWT_ALGORITHM: 'ES256',
      JWT_PUBLIC_KEY: pair.publicKey.export({ format: 'pem', type: 'spki' }) as string,
    };
    const missing = await ward(['token', '--sub', 'ops', '--role', 'admin'], env);
    expect(missing.code).not.toBe(0);
    expect(missing.out).toContain('ES256 tokens need a private key: --private-key PEM or JWT_PRIVATE_KEY');
    const minted = await ward(['token', '--sub', 'ops', '--role', 'admin'], {
      ...env,
      JWT_PRIVATE_KEY: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    });
    expect(minted.code).toBe(0);
    const [header, payload, signature] = minted.out.trim().split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'ES256' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({
      sub: 'ops',
      role: 'admin',
    });
    const signed = Buffer.from(`${header}.${payload}`);
    const sig = Buffer.from(signature, 'base64url');
    expect(verify('sha256', signed, { key: pair.publicKey, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
  });

  it('rejects an unknown target and an unknown role', async () => {
    expect((await ward(['start', '--target', 'nginx'], {})).out).toContain(
      '--target must be all, gateway, worker or audit',
    );
    expect((await ward(['token', '--sub', 'a', '--role', 'root'], secrets())).out).toContain(
      '--role must be one of',
    );
  });
});

describe('ward env and the README', () => {
  it('lists every variable of every schema, and the README table documents exactly those', async () => {
    const schemas = { ...gatewayEnv, ...workerEnv, ...auditEnv };
    const listed = (await ward(['env'], {})).out
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter(Boolean);
    expect(listed.sort()).toEqual(Object.keys(schemas).sort());
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const documented = new Set(
      readme
        .split('\n')
        .filter((line) => /^\| `[A-Z_]+`/.test(line))
        .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)),
    );
    expect([...documented].sort()).toEqual(Object.keys(schemas).sort());
  });
});

describe('ward icd10 import', () => {
  it('imports a CMS order file into DATABASE_URL and reports the counts', async () => {
    const tdb = await openTestDatabase('postgres');
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ward-icd10-'));
      const file = join(dir, 'icd10cm_order_2030.txt');
      const lines = [
        '00001 A00     0 Cholera                                                      Cholera',
        '11580 I10     1 Essential (primary) hypertension                             Essential (primary) hypertension',
      ];
      writeFileSync(file, `${lines.join('\r\n')}\r\n`);
      const url = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${tdb.schema}`)}`;
      const res = await ward(['icd10', 'import', file], { DATABASE_URL: url });
      expect(res.code, res.out).toBe(0);
      const summary = JSON.parse(res.out.split('\n').find((l) => l.startsWith('{'))!);
      expect(summary).toMatchObject({
        fiscalYear: 2030,
        rowCount: 2,
        billableCount: 1,
        headerCount: 1,
        active: true,
      });
      const bad = await ward(['icd10', 'import', join(dir, 'missing.txt')], { DATABASE_URL: url });
      expect(bad.code).not.toBe(0);
      expect((await ward(['icd10', 'import'], { DATABASE_URL: url })).out).toContain(
        'usage: ward icd10 import',
      );
    } finally {
      await tdb.dispose();
    }
  });
});

describe('ward start with an Ollama that is not up yet', () => {
  const prefix = `test-${randomUUID()}`;
  let child: ReturnType<typeof spawn> | undefined;
  let sim: Awaited<ReturnType<typeof startSim>> | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await sim?.close();
    const redis = createRedis(REDIS_URL, 'worker');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('starts anyway, reports the instance down, and becomes ready once Ollama answers', async () => {
    const env = { ...secrets(), REDIS_URL, REDIS_PREFIX: prefix, HEARTBEAT_INTERVAL_MS: '200' };
    const [port, ollamaPort] = [await freePort(), await freePort()];
    const cwd = mkdtempSync(join(tmpdir(), 'ward-start-'));
    let output = '';
    child = spawn(process.execPath, [CLI, 'start'], {
      cwd,
      env: {
        PATH: process.env.PATH!,
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        OLLAMA_URL: `http://127.0.0.1:${ollamaPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${base}/health/live`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
    expect((await fetch(`${base}/health/ready`)).status).toBe(503);
    expect(output).toContain(`http://127.0.0.1:${ollamaPort}`);
    expect(output).toMatch(/unreachable/);

    const token = (
      await ward(['token', '--sub', 'it-admin', '--role', 'admin', '--ttl', '5m'], env)
    ).out.trim();
    const status = await fetch(`${base}/api/local/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    const body = (await status.json()) as {
      ready: boolean;
      instances: Array<{ healthy: boolean; lastError?: string; url: string }>;
    };
    expect(body.ready).toBe(false);
    expect(body.instances[0]).toMatchObject({ healthy: false, url: `http://127.0.0.1:${ollamaPort}` });
    expect(body.instances[0]!.lastError).toBeTruthy();

    sim = await startSim({ port: ollamaPort, models: ['mistral:7b'], latency: 'none' });
    let ready = 0;
    for (let i = 0; i < 100 && ready !== 200; i++) {
      ready = (await fetch(`${base}/health/ready`)).status;
      if (ready !== 200) await sleep(100);
    }
    expect(ready).toBe(200);
    const res = await fetch(`${base}/api/local/process`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ modelName: 'mistral:7b', prompt: 'hello' }),
    });
    expect(res.status).toBe(200);

    // SIGTERM: the process leaves cleanly.
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child!.on('exit', r));
    expect(code).toBe(0);
  }, 40_000);
});
