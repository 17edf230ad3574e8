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

/**
 * Sends the commands `redis` issues in one turn of the event loop in one socket write: the first
 * command of a turn corks the socket and the turn's immediates uncork it. ioredis's own
 * auto-pipelining does the same with a pipeline object per turn, which costs more than the
 * writes it saves on a connection carrying BullMQ's scripts (ioredis copies each defined script
 * onto every pipeline).
 */
export function coalesceWrites(redis: Redis): Redis {
  const send = redis.sendCommand.bind(redis);
  let corked: { uncork(): void } | undefined;
  const uncork = () => {
    const socket = corked;
    corked = undefined;
    socket?.uncork();
  };
  redis.sendCommand = ((
    command: Parameters<Redis['sendCommand']>[0],
    stream?: Parameters<Redis['sendCommand']>[1],
  ) => {
    const socket = redis.stream;
    if (!corked && !stream && redis.status === 'ready' && socket?.writable) {
      socket.cork();
      corked = socket;
      setImmediate(uncork);
    }
    return send(command, stream);
  }) as Redis['sendCommand'];
  return redis;
}
