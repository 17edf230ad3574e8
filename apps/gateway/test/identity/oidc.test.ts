import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers.js';

interface Idp {
  issuer: string;
  jwksUrl: string;
  hits: { jwks: number; discovery: number };
  close(): Promise<void>;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;

/** A tiny identity provider: a JWKS (and discovery document) on node:http, like Keycloak's realm endpoints. */
async function startIdp(): Promise<Idp> {
  const hits = { jwks: 0, discovery: 0 };
  let base = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/realms/ward/protocol/openid-connect/certs') {
      hits.jwks++;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          keys: [
            { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
            { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
          ],
        }),
      );
    } else if (req.url === '/realms/ward/.well-known/openid-configuration') {
      hits.discovery++;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          issuer: `${base}/realms/ward`,
          jwks_uri: `${base}/realms/ward/protocol/openid-connect/certs`,
        }),
      );
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: `${base}/realms/ward`,
    jwksUrl: `${base}/realms/ward/protocol/openid-connect/certs`,
    hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('OIDC bearer tokens (JWKS)', () => {
  let idp: Idp;
  let gw: TestGateway;
  beforeAll(async () => {
    idp = await startIdp();
    gw = await startGateway({
      env: {
        OIDC_ISSUER: idp.issuer,
        OIDC_JWKS_URL: idp.jwksUrl,
        OIDC_AUDIENCE: 'ward-gateway',
        OIDC_ROLE_CLAIM: 'realm_access.roles',
        OIDC_ROLE_MAP: 'ward-admin=admin,clinician=provider,front-desk=staff',
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await idp?.close();
  });

  const token = (
    claims: Record<string, unknown>,
    opts: {
      key?: string;
      algorithm?: 'RS256' | 'ES256' | 'HS256';
      kid?: string;
      iss?: string;
      aud?: string;
    } = {},
  ) =>
    createSigner({
      key: opts.key ?? pem(rsa.privateKey),
      algorithm: opts.algorithm ?? 'RS256',
      kid: opts.kid ?? 'rsa-1',
      iss: opts.iss ?? idp.issuer,
      aud: opts.aud ?? 'ward-gateway',
      expiresIn: 300_000,
    })({ sub: 'f3b1c2d4-0000-4000-8000-000000000001', jti: randomUUID(), ...claims });
  const me = (t: string) => gw.call('GET', '/api/auth/me', { token: t });

  it('accepts an RS256 token and maps the provider role through OIDC_ROLE_MAP', async () => {
    const res = await me(token({ realm_access: { roles: ['offline_access', 'clinician'] } }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      sub: 'oidc:f3b1c2d4-0000-4000-8000-000000000001',
      role: 'provider',
      method: 'oidc',
    });
    const status = await gw.call('GET', '/api/local/models', {
      token: token({ realm_access: { roles: ['front-desk'] } }),
    });
    expect(status.statusCode).toBe(200);
  });

  it('accepts ES256, and several mapped roles resolve to the most privileged', async () => {
    const res = await me(
      token(
        { realm_access: { roles: ['front-desk', 'ward-admin'] } },
        { key: pem(ec.privateKey), algorithm: 'ES256', kid: 'ec-1' },
      ),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().role).toBe('admin');
  });

  it('enforces the mapped role on routes', async () => {
    const res = await gw.call('GET', '/api/admin/users', {
      token: token({ realm_access: { roles: ['clinician'] } }),
    });
    expect(res.statusCode).toBe(403);
  });

  const refused: Array<[string, () => string, string?]> = [
    [
      'a bad signature (another key under a published kid)',
      () => token({ realm_access: { roles: ['ward-admin'] } }, { key: pem(impostor.privateKey) }),
    ],
    [
      'an unknown issuer',
      () => token({ realm_access: { roles: ['ward-admin'] } }, { iss: 'https://evil.example/realms/ward' }),
    ],
    ['the wrong audience', () => token({ realm_access: { roles: ['ward-admin'] } }, { aud: 'another-app' })],
    [
      'HS256 under the provider issuer',
      () =>
        token(
          { realm_access: { roles: ['ward-admin'] } },
          { key: 'a-shared-secret-a-shared-secret-123', algorithm: 'HS256' },
        ),
    ],
    [
      'no mapped role',
      () => token({ realm_access: { roles: ['offline_access'] } }),
      'the token carries no valid role',
    ],
    [
      'an expired token',
      () =>
        createSigner({
          key: pem(rsa.privateKey),
          algorithm: 'RS256',
          kid: 'rsa-1',
          iss: idp.issuer,
          aud: 'ward-gateway',
        })({
          sub: 'x',
          realm_access: { roles: ['ward-admin'] },
          iat: Math.floor(Date.now() / 1000) - 600,
          exp: Math.floor(Date.now() / 1000) - 300,
        }),
      'the token has expired',
    ],
  ];
  for (const [name, make, message] of refused) {
    it(`refuses ${name}`, async () => {
      const res = await me(make());
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('WARD_UNAUTHORIZED');
      if (message) expect(res.json().message).toBe(message);
    });
  }

  it('does not hammer the provider for unknown key ids', async () => {
    const before = idp.hits.jwks;
    for (let i = 0; i < 5; i++) {
      const res = await me(token({ realm_access: { roles: ['ward-admin'] } }, { kid: `nope-${i}` }));
      expect(res.statusCode).toBe(401);
    }
    expect(idp.hits.jwks - before).toBeLessThanOrEqual(1);
  });

  it('revokes an OIDC token at logout', async () => {
    const t = token({ realm_access: { roles: ['clinician'] } });
    expect((await me(t)).statusCode).toBe(200);
    expect((await gw.call('POST', '/api/auth/logout', { token: t })).statusCode).toBe(204);
    expect((await me(t)).statusCode).toBe(401);
  });

  it('still accepts the gateway’s own tokens beside the provider’s', async () => {
    const { mintToken } = await import('../../src/auth.js');
    const own = mintToken({
      sub: 'ops',
      role: 'staff',
      issuer: 'ward',
      audience: 'ward',
      key: gw.env.JWT_SECRET!,
    });
    expect((await me(own)).json()).toMatchObject({ sub: 'ops', method: 'jwt' });
  });
});

describe('OIDC through discovery, on a gateway without a database', () => {
  let idp: Idp;
  let gw: TestGateway;
  beforeAll(async () => {
    idp = await startIdp();
    gw = await startGateway({
      db: false,
      env: { OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: 'ward-gateway' },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await idp?.close();
  });

  it('finds the JWKS from the discovery document and takes Ward role names when no map is set', async () => {
    const t = createSigner({
      key: pem(rsa.privateKey),
      algorithm: 'RS256',
      kid: 'rsa-1',
      iss: idp.issuer,
      aud: 'ward-gateway',
      expiresIn: 60_000,
    })({
      sub: 'svc',
      roles: ['staff'],
    });
    const res = await gw.call('GET', '/api/local/models', { token: t });
    expect(res.statusCode, res.body).toBe(200);
    expect(idp.hits.discovery).toBe(1);
  });

  it('serves no identity routes and refuses API keys without a database', async () => {
    expect(
      (await gw.call('POST', '/api/auth/login', { body: { username: 'a', password: 'b' } })).statusCode,
    ).toBe(404);
    const key = `ward_${'A'.repeat(43)}`;
    const res = await gw.call('GET', '/api/local/models', { headers: { 'x-api-key': key } });
    expect(res.statusCode).toBe(401);
  });
});
