/** Redis housekeeping for benchmarks: every run writes under its own prefix and deletes it after. */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export { deleteByPrefix } from '@ward/queue';

/** The `redis_version` Redis reports, or `unknown`. */
export async function redisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server').catch(() => '');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}

/** The pid of the Redis server when it runs on this machine (so its CPU time can be read), else undefined. */
export async function localRedisPid(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('server').catch(() => '');
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  if (!pid) return undefined;
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').includes('redis') ? pid : undefined;
  } catch {
    return undefined;
  }
}
