import type { InstanceHeartbeat } from '@ward/contracts';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './names.js';

/** Writes an instance's heartbeat with a TTL; a worker that dies simply stops appearing. */
export async function writeHeartbeat(
  redis: Redis,
  keys: RedisKeys,
  hb: InstanceHeartbeat,
  ttlMs: number,
): Promise<void> {
  await redis
    .multi()
    .set(keys.instance(hb.id), JSON.stringify(hb), 'PX', ttlMs)
    .zadd(keys.instances, hb.updatedAt, hb.id)
    .exec();
}

/** Removes an instance's heartbeat at shutdown so gateways stop routing to it at once. */
export async function clearHeartbeat(redis: Redis, keys: RedisKeys, id: string): Promise<void> {
  await redis.multi().del(keys.instance(id)).zrem(keys.instances, id).exec();
}

/** Every instance whose heartbeat has not expired. */
export async function readHeartbeats(redis: Redis, keys: RedisKeys): Promise<InstanceHeartbeat[]> {
  const ids = await redis.zrange(keys.instances, 0, -1);
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map((id) => keys.instance(id)));
  const live: InstanceHeartbeat[] = [];
  const gone: string[] = [];
  values.forEach((v, i) => {
    if (v) live.push(JSON.parse(v) as InstanceHeartbeat);
    else gone.push(ids[i]!);
  });
  if (gone.length) await redis.zrem(keys.instances, ...gone);
  return live.sort((a, b) => a.id.localeCompare(b.id));
}
