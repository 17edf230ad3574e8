import { createRedis, waitForRedis } from '@ward/queue';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Command connection (fails fast while Redis is down), auto-pipelined: commands issued in one
     * turn of the event loop go to Redis in one write.
     */
    redis: Redis;
    /**
     * Connection for BullMQ queues (jobs, audit). Kept apart from {@link redis}: BullMQ defines
     * its ~50 scripts on the connection it uses, and ioredis copies every defined script onto each
     * pipeline it builds, which would make every auto-pipelined batch cost ~20 µs more.
     */
    redisQueue: Redis;
    /** Subscriber connection for the gateway's reply channel. */
    redisSub: Redis;
  }
}

/** Opens the gateway's Redis connections; start-up fails, naming the URL, when Redis is unreachable. */
export default fp(
  async (app, opts: { url: string }) => {
    const redis = createRedis(opts.url, 'producer', { enableAutoPipelining: true });
    const queue = createRedis(opts.url, 'producer');
    const sub = createRedis(opts.url, 'subscriber');
    // Errors surface through requests and readiness; this keeps ioredis from printing them unhandled.
    redis.on('error', () => {});
    queue.on('error', () => {});
    sub.on('error', () => {});
    try {
      await Promise.all([
        waitForRedis(redis, opts.url),
        waitForRedis(queue, opts.url),
        waitForRedis(sub, opts.url),
      ]);
    } catch (err) {
      redis.disconnect();
      queue.disconnect();
      sub.disconnect();
      throw err;
    }
    app.decorate('redis', redis);
    app.decorate('redisQueue', queue);
    app.decorate('redisSub', sub);
    app.addHook('onClose', async () => {
      sub.disconnect();
      await Promise.all([
        redis.quit().catch(() => redis.disconnect()),
        queue.quit().catch(() => queue.disconnect()),
      ]);
    });
  },
  { name: 'redis' },
);
