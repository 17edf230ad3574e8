import { generateKeyPairSync } from 'node:crypto';
import { createDecoder, createSigner } from 'fast-jwt';
import { afterEach, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, startGateway, type TestGateway } from './helpers.js';

const pair = () => {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    pub: k.publicKey.export({ format: 'pem', type: 'spki' }) as string,
    priv: k.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
};

describe('login tokens with an asymmetric gateway key', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('signs login tokens with JWT_PRIVATE_KEY (ES256) and honours AUTH_TOKEN_TTL', async () => {
    const { pub, priv } = pair();
    gw = await startGateway({
      env: {
        JWT_SECRET: '',
        JWT_PUBLIC_KEY: pub,
        JWT_PRIVATE_KEY: priv,
        JWT_ALGORITHM: 'ES256',
        AUTH_TOKEN_TTL: '5m',
      },
    });
    await gw.app.identity.users.create({ username: 'es.user', role: 'staff', password: GOOD_PASSWORD });
    const token = await gw.login('es.user', GOOD_PASSWORD);
    const decoded = createDecoder({ complete: true })(token);
    expect(decoded.header.alg).toBe('ES256');
    expect(decoded.payload.exp - decoded.payload.iat).toBe(300);
    expect((await gw.call('GET', '/api/auth/me', { token })).statusCode).toBe(200);
  });

  it('takes RS256 tokens minted elsewhere by their public key, and refuses any other algorithm (no key confusion)', async () => {
    const k = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = k.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const priv = k.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    gw = await startGateway({
      db: false,
      env: { JWT_SECRET: '', JWT_PUBLIC_KEY: pub, JWT_ALGORITHM: 'RS256' },
    });
    const claims = { sub: 'ext.user', role: 'staff' };
    const opts = { iss: gw.config.JWT_ISSUER, aud: gw.config.JWT_AUDIENCE, expiresIn: 60_000 };
    const rs256 = createSigner({ algorithm: 'RS256', key: priv, ...opts })(claims);
    expect((await gw.call('GET', '/api/local/status', { token: rs256 })).statusCode).not.toBe(401);
    // The public key used as an HMAC secret: the classic confusion attack.
    const confused = createSigner({ algorithm: 'HS256', key: pub, ...opts })(claims);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    }) as string;
    const foreign = createSigner({ algorithm: 'RS256', key: other, ...opts })(claims);
    for (const token of [confused, foreign]) {
      const res = await gw.call('GET', '/api/local/status', { token });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('WARD_UNAUTHORIZED');
    }
  });

  it('answers 503 at login when only JWT_PUBLIC_KEY is set', async () => {
    gw = await startGateway({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: pair().pub, JWT_ALGORITHM: 'ES256' } });
    const res = await gw.call('POST', '/api/auth/login', {
      body: { username: 'x', password: GOOD_PASSWORD },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      code: 'WARD_LOGIN_UNAVAILABLE',
      message: expect.stringMatching(/JWT_PRIVATE_KEY/),
    });
  });

  it('refuses to start when JWT_PRIVATE_KEY does not match JWT_PUBLIC_KEY', async () => {
    await expect(
      startGateway({
        db: false,
        env: {
          JWT_SECRET: '',
          JWT_PUBLIC_KEY: pair().pub,
          JWT_PRIVATE_KEY: pair().priv,
          JWT_ALGORITHM: 'ES256',
        },
      }),
    ).rejects.toThrow(/JWT_PRIVATE_KEY does not sign ES256 tokens that JWT_PUBLIC_KEY verifies/);
  });
});
