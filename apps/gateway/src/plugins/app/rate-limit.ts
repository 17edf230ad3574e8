import rateLimit from '@fastify/rate-limit';
import type { Role } from '@ward/contracts';
import fp from 'fastify-plugin';

/** Requests per minute each user may make, by role; anonymous callers are limited by IP. */
export interface RateLimitOptions {
  perMinute: Record<Role, number>;
  anonymousPerMinute: number;
  redisPrefix: string;
}

/**
 * Per-user rate limits sized by role, counted in Redis so every gateway shares them. Runs right
 * after authentication (its own onRequest hook, before the body is read), so the key is the
 * account, not an IP that many clinicians share.
 * Health probes and docs are not limited. Over the limit: 429 with Retry-After.
 */
export default fp(
  async (app, opts: RateLimitOptions) => {
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      timeWindow: 60_000,
      redis: app.redis,
      nameSpace: `${opts.redisPrefix}:rl:`,
      skipOnError: true,
      keyGenerator: (req) => (req.actor ? `u:${req.actor.sub}` : `ip:${req.ip}`),
      max: (req) => (req.actor ? opts.perMinute[req.actor.role] : opts.anonymousPerMinute),
      allowList: (req) => req.routeOptions.config.public === true && !req.url.startsWith('/api/auth/'),
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
