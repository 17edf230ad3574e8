import rateLimit from '@fastify/rate-limit';
import type { Role } from '@ward/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';

/** Requests per minute each user may make, by role; anonymous callers are limited by IP. */
export interface RateLimitOptions {
  perMinute: Record<Role, number>;
  anonymousPerMinute: number;
  /** Requests per minute all users of a role make together; a role left out has no shared limit. */
  perRolePerMinute?: Partial<Record<Role, number>>;
  redisPrefix: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The role's shared count for this request, started in `onRequest` and settled in `preParsing`. */
    roleHit: Promise<RoleHit | undefined> | undefined;
  }
}

interface RoleHit {
  role: Role;
  key: string;
  count: number;
  ttlMs: number;
}

const WINDOW_MS = 60_000;

/** A fixed window per role, as the per-user store keeps: the first hit sets its expiry. */
const ROLE_HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

/** Takes back a hit of a request refused before the role's check (never into an expired window). */
const ROLE_UNHIT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0`;

type RoleCommands = {
  wardRoleHit(key: string, windowMs: number): Promise<[number, number]>;
  wardRoleUnhit(key: string): Promise<number>;
};

/**
 * Per-user rate limits sized by role, counted in Redis so every gateway shares them. Runs right
 * after authentication (its own onRequest hook, before the body is read), so the key is the
 * account, not an IP that many clinicians share.
 * Health probes and docs are not limited. Over the limit: 429 with Retry-After.
 */
export default fp(
  async (app, opts: RateLimitOptions) => {
    const exempt = (req: FastifyRequest) =>
      req.routeOptions.config.public === true && !req.url.startsWith('/api/auth/');
    const perRole = opts.perRolePerMinute ?? {};
    if (Object.keys(perRole).length > 0) sharedRoleLimits(app, opts.redisPrefix, perRole, exempt);

    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      timeWindow: 60_000,
      redis: app.redis,
      nameSpace: `${opts.redisPrefix}:rl:`,
      skipOnError: true,
      keyGenerator: (req) => (req.actor ? `u:${req.actor.sub}` : `ip:${req.ip}`),
      max: (req) => (req.actor ? opts.perMinute[req.actor.role] : opts.anonymousPerMinute),
      allowList: exempt,
      errorResponseBuilder: (_req, ctx) =>
        Object.assign(
          new Error(`rate limit of ${ctx.max} requests per minute reached; retry in ${ctx.after}`),
          {
            statusCode: 429,
            code: 'WARD_RATE_LIMITED',
            retryAfter: Math.max(1, Math.ceil(ctx.ttl / 1000)),
          },
        ),
    });
  },
  { name: 'rate-limit', dependencies: ['redis', 'auth'] },
);

/**
 * Limits shared by all users of a role (`RATE_LIMIT_PER_ROLE_PER_MINUTE`), e.g. so that a batch of
 * staff integrations cannot crowd out providers. The count starts in `onRequest`, before the
 * per-user hook, so both counts and the revocation check reach Redis in one write; it is settled
 * once every `onRequest` hook and the revocation check have run. A request refused before then
 * (by the user's own limit, or a revoked token) is taken back out of the role's count, so one user
 * over their limit does not use up their colleagues' share. When Redis cannot be asked the request
 * passes, as with the per-user limit.
 */
function sharedRoleLimits(
  app: FastifyInstance,
  prefix: string,
  perRole: Partial<Record<Role, number>>,
  exempt: (req: FastifyRequest) => boolean,
): void {
  const redis = app.redis as Redis & RoleCommands;
  redis.defineCommand('wardRoleHit', { numberOfKeys: 1, lua: ROLE_HIT });
  redis.defineCommand('wardRoleUnhit', { numberOfKeys: 1, lua: ROLE_UNHIT });
  app.decorateRequest('roleHit', undefined);

  app.addHook('onRequest', async (request) => {
    const role = request.actor?.role;
    if (!role || perRole[role] === undefined || exempt(request)) return;
    const key = `${prefix}:rl:r:${role}`;
    request.roleHit = redis.wardRoleHit(key, WINDOW_MS).then(
      ([count, ttlMs]) => ({ role, key, count, ttlMs }),
      () => undefined,
    );
  });

  // Runs after every onRequest hook (the per-user limit included) and the revocation check.
  app.addHook('preParsing', async (request, reply) => {
    const hit = await request.roleHit;
    if (!hit) return;
    // From here on the request is the role's: it either goes ahead or is refused by the role's limit.
    request.roleHit = undefined;
    const max = perRole[hit.role];
    if (max === undefined || hit.count <= max) return;
    const seconds = Math.max(1, Math.ceil((hit.ttlMs > 0 ? hit.ttlMs : WINDOW_MS) / 1000));
    // The per-user headers describe another limit than the one that refused the request.
    for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'])
      reply.removeHeader(h);
    throw Object.assign(
      new Error(
        `the ${hit.role} role's shared rate limit of ${max} requests per minute is reached; retry in ${seconds} seconds`,
      ),
      { statusCode: 429, code: 'WARD_RATE_LIMITED', retryAfter: seconds },
    );
  });

  // Refused before that (by the user's own limit, a revoked token, …): not the role's to count.
  app.addHook('onResponse', async (request) => {
    const hit = await request.roleHit;
    if (hit) await redis.wardRoleUnhit(hit.key).catch(() => {});
  });
}
