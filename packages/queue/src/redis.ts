import { Redis, type RedisOptions } from 'ioredis';

/**
 * Opens a Redis connection for a role. Producers fail fast while Redis is down
 * (`enableOfflineQueue: false`); workers and subscribers wait for it (`maxRetriesPerRequest: null`).
 */
export function createRedis(
  url: string,
  role: 'producer' | 'worker' | 'subscriber',
  extra: RedisOptions = {},
): Redis {
  const base: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 }
      : { maxRetriesPerRequest: null, connectTimeout: 5000 };
  return new Redis(url, { lazyConnect: false, connectionName: `ward-${role}`, ...base, ...extra });
}

/** Resolves once `redis` is ready, or rejects with a message naming the URL (without credentials). */
export async function waitForRedis(redis: Redis, url: string, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  const safe = url.replace(/\/\/[^@/]*@/, '//***@');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis is not reachable at ${safe} (waited ${timeoutMs} ms)`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Deletes every key under `prefix:` with SCAN (never KEYS or FLUSHALL); returns how many went. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
