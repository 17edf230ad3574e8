import { coalesceWrites, createRedis, waitForRedis } from '@ward/queue';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Command connection for everything but the reply subscription (fails fast while Redis is
     * down). Its writes are coalesced per turn of the event loop (`coalesceWrites`): a request's
     * revocation lookup and rate-limit count go to Redis in one write, and so do the jobs and
     * audit batches that many requests add in the same turn.
     */
    redis: Redis;
    /** Subscriber connection for the gateway's reply channel. */
    redisSub: Redis;
  }
}

/** Opens the gateway's Redis connections; start-up fails, naming the URL, when Redis is unreachable. */
export default fp(
  async (app, opts: { url: string }) => {
    const redis = coalesceWrites(createRedis(opts.url, 'producer'));
    const sub = createRedis(opts.url, 'subscriber');
    // Errors surface through requests and readiness; this keeps ioredis from printing them unhandled.
    redis.on('error', () => {});
    sub.on('error', () => {});
    try {
      await Promise.all([waitForRedis(redis, opts.url), waitForRedis(sub, opts.url)]);
    } catch (err) {
      redis.disconnect();
      sub.disconnect();
      throw err;
    }
    app.decorate('redis', redis);
    app.decorate('redisSub', sub);
    app.addHook('onClose', async () => {
      sub.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    });
  },
  { name: 'redis' },
);
