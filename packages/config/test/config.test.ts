import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  decodeDataKey,
  gatewayEnv,
  hipaaSecretProblems,
  keyringFrom,
  loadEnv,
  parseBytes,
  workerEnv,
} from '../src/index.js';

describe('loadEnv', () => {
  it('applies defaults when nothing is set', () => {
    const cfg = loadEnv(gatewayEnv, {});
    expect(cfg.PORT).toBe(3001);
    expect(cfg.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(cfg.BODY_LIMIT).toBe(20 * 1024 * 1024);
    expect(cfg.HIPAA_MODE).toBe(false);
    expect(cfg.JWT_SECRET).toBeUndefined();
  });

  it('names every bad variable in one error', () => {
    let err: unknown;
    try {
      loadEnv(gatewayEnv, { PORT: 'eighty', REDIS_URL: 'http://x', HIPAA_MODE: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT must be a whole number/);
    expect(problems).toMatch(/REDIS_URL must use redis or rediss/);
    expect(problems).toMatch(/HIPAA_MODE must be true or false/);
  });

  it('never echoes a secret value in its message', () => {
    try {
      loadEnv(
        {
          S: {
            ...gatewayEnv.JWT_SECRET,
            parse: () => {
              throw new Error('is bad');
            },
          },
        },
        { S: 'super-secret-canary' },
      );
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('S is bad');
      expect((e as Error).message).not.toContain('super-secret-canary');
    }
  });

  it('parses lists of Ollama URLs and strips trailing slashes', () => {
    const cfg = loadEnv(workerEnv, { OLLAMA_URLS: 'http://a:11434/, http://b:11434' });
    expect(cfg.OLLAMA_URLS).toEqual(['http://a:11434', 'http://b:11434']);
    expect(() => loadEnv(workerEnv, { OLLAMA_URLS: 'ftp://a' })).toThrow(
      /OLLAMA_URLS must use http or https/,
    );
    expect(() => loadEnv(workerEnv, { OLLAMA_NUM_PARALLEL: '0' })).toThrow(
      /OLLAMA_NUM_PARALLEL must be at least 1/,
    );
  });

  it('reads sizes with units', () => {
    expect(parseBytes('20mb')).toBe(20 * 1024 * 1024);
    expect(parseBytes('512KB')).toBe(512 * 1024);
    expect(parseBytes('1000')).toBe(1000);
    expect(() => parseBytes('lots')).toThrow();
  });
});

describe('secrets', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('decodes 32-byte keys from base64 and hex and refuses other lengths', () => {
    expect(decodeDataKey(key)).toHaveLength(32);
    expect(decodeDataKey('ab'.repeat(32))).toHaveLength(32);
    expect(() => decodeDataKey(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
  });

  it('builds a keyring with retired keys for rotation', () => {
    const old = Buffer.alloc(32, 1).toString('base64');
    const ring = keyringFrom({
      WARD_DATA_KEY: key,
      WARD_DATA_KEY_ID: 'k2',
      WARD_DATA_KEYS_PREVIOUS: [`k1:${old}`],
    });
    expect(ring?.currentId).toBe('k2');
    expect([...(ring?.keys.keys() ?? [])]).toEqual(['k2', 'k1']);
  });

  it('demands strong secrets only in HIPAA mode', () => {
    expect(hipaaSecretProblems({ HIPAA_MODE: false }, { verifiesTokens: true })).toEqual([]);
    const missing = hipaaSecretProblems({ HIPAA_MODE: true }, { verifiesTokens: true });
    expect(missing.join()).toMatch(/WARD_DATA_KEY is required/);
    expect(missing.join()).toMatch(/JWT_SECRET or JWT_PUBLIC_KEY is required/);
    const weak = hipaaSecretProblems(
      { HIPAA_MODE: true, WARD_DATA_KEY: key, JWT_SECRET: 'changeme' },
      { verifiesTokens: true },
    );
    expect(weak.join()).toMatch(/JWT_SECRET is too weak/);
    const strong = hipaaSecretProblems(
      { HIPAA_MODE: true, WARD_DATA_KEY: key, JWT_SECRET: 'q8VJ2mXr0Lk9sT4wZp7Ny1Bc6Hd3Fg5E' },
      { verifiesTokens: true },
    );
    expect(strong).toEqual([]);
    expect(hipaaSecretProblems({ HIPAA_MODE: true, WARD_DATA_KEY: key }, { verifiesTokens: false })).toEqual(
      [],
    );
  });

  it('judges the key of the algorithm in use: a public key does not excuse a weak HS256 secret', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----';
    const hs256WithPem = hipaaSecretProblems(
      {
        HIPAA_MODE: true,
        WARD_DATA_KEY: key,
        JWT_SECRET: 'changeme',
        JWT_PUBLIC_KEY: pem,
        JWT_ALGORITHM: 'HS256',
      },
      { verifiesTokens: true },
    );
    expect(hs256WithPem.join()).toMatch(/JWT_SECRET is too weak/);
    expect(
      hipaaSecretProblems(
        { HIPAA_MODE: true, WARD_DATA_KEY: key, JWT_PUBLIC_KEY: pem, JWT_ALGORITHM: 'HS256' },
        { verifiesTokens: true },
      ).join(),
    ).toMatch(/JWT_SECRET is required when HIPAA_MODE=true and JWT_ALGORITHM=HS256/);
    expect(
      hipaaSecretProblems(
        {
          HIPAA_MODE: true,
          WARD_DATA_KEY: key,
          JWT_SECRET: 'q8VJ2mXr0Lk9sT4wZp7Ny1Bc6Hd3Fg5E',
          JWT_ALGORITHM: 'ES256',
        },
        { verifiesTokens: true },
      ).join(),
    ).toMatch(/JWT_PUBLIC_KEY is required when HIPAA_MODE=true and JWT_ALGORITHM=ES256/);
    // RS256 by its public key alone is fine.
    expect(
      hipaaSecretProblems(
        { HIPAA_MODE: true, WARD_DATA_KEY: key, JWT_PUBLIC_KEY: pem },
        { verifiesTokens: true },
      ),
    ).toEqual([]);
  });
});
