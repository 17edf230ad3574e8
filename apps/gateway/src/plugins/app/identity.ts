import type { Database } from '@ward/db';
import fp from 'fastify-plugin';
import { ApiKeyService } from '../../identity/api-keys.js';
import { type LockoutOptions, LoginLockout } from '../../identity/lockout.js';
import { LoginService } from '../../identity/login.js';
import { TokenRevocation } from '../../identity/revocation.js';
import { TokenIssuer, type TokenIssuerOptions } from '../../identity/tokens.js';
import { UserService } from '../../identity/users.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Ward's own accounts, logins and API keys (present only when the gateway has a database). */
    identity: Identity;
  }
}

/** The identity services the routes and the auth plugin use. */
export interface Identity {
  users: UserService;
  apiKeys: ApiKeyService;
  revocation: TokenRevocation;
  lockout: LoginLockout;
  /** Password login, or a reason it is unavailable on this gateway (no signing key). */
  login: LoginService | { unavailable: string };
  /** Lifetime of login tokens in seconds. */
  tokenTtlSeconds: number;
}

/** Options of the identity plugin. */
export interface IdentityOptions {
  db: Database;
  /** Prefix of Ward's Redis keys (`REDIS_PREFIX`). */
  redisPrefix: string;
  /** How login tokens are signed; a string explains why password login is unavailable. */
  signing: TokenIssuerOptions | string;
  lockout: LockoutOptions;
  /** How long API key lookups are cached per gateway, in ms. */
  apiKeyCacheMs: number;
}

/**
 * Accounts, password logins, lockout, token revocation and API keys, on the gateway's database
 * and Redis. At start-up it rewrites the Redis marks of disabled accounts, so a Redis that lost
 * its data still refuses their tokens.
 */
export default fp(
  async (app, opts: IdentityOptions) => {
    const revocation = new TokenRevocation(app.redis, opts.redisPrefix);
    const lockout = new LoginLockout(app.redis, opts.redisPrefix, opts.lockout);
    const users = new UserService(opts.db, revocation, lockout);
    const apiKeys = new ApiKeyService(opts.db, { cacheMs: opts.apiKeyCacheMs });
    let login: Identity['login'];
    if (typeof opts.signing === 'string') {
      login = { unavailable: opts.signing };
      app.log.warn({ reason: opts.signing }, 'password login is unavailable');
    } else {
      const service = new LoginService({ users, lockout, revocation, issuer: new TokenIssuer(opts.signing) });
      await service.warm();
      login = service;
    }
    const restored = await users.restoreDisabledMarks();
    if (restored) app.log.info({ disabled: restored }, 'disabled accounts marked in Redis');
    app.decorate('identity', {
      users,
      apiKeys,
      revocation,
      lockout,
      login,
      tokenTtlSeconds: typeof opts.signing === 'string' ? 0 : opts.signing.ttlSeconds,
    });
  },
  { name: 'identity', dependencies: ['redis'] },
);
