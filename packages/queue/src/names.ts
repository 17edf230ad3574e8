import { randomFillSync } from 'node:crypto';
import type { Priority } from '@ward/contracts';
import { monotonicFactory } from 'ulid';

// ulid's default source asks the OS for one byte at a time; draw from a pooled buffer instead.
const pool = new Uint32Array(1024);
let poolAt = pool.length;
function pooledRandom(): number {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool[poolAt++]! / 0x1_0000_0000;
}
const nextUlid = monotonicFactory(pooledRandom);

/** A new monotonic ULID (job ids, audit event ids). */
export function newUlid(): string {
  return nextUlid();
}

/** BullMQ queue name of a model. Model names are validated, so `:` and `/` are the only characters mapped. */
export function queueNameFor(model: string): string {
  return `m.${model.replaceAll(':', '@').replaceAll('/', '+')}`;
}

/** A new job id that also says which model queue holds the job. */
export function newJobId(model: string): string {
  return `${Buffer.from(model).toString('base64url')}.${nextUlid()}`;
}

/** The model a job id belongs to, or undefined when the id is not one of Ward's. */
export function modelFromJobId(id: string): string | undefined {
  const m = /^([A-Za-z0-9_-]{1,300})\.[0-9A-HJKMNP-TV-Z]{26}$/.exec(id);
  if (!m) return undefined;
  const model = Buffer.from(m[1]!, 'base64url').toString('utf8');
  return Buffer.from(model).toString('base64url') === m[1] ? model : undefined;
}

/** BullMQ priorities (lower runs first). Every job gets one so STAT work overtakes routine work. */
export const PRIORITY_VALUE: Record<Priority, number> = { stat: 1, routine: 2, batch: 3 };

/** Every Redis key and channel Ward uses, under one prefix. */
export function redisKeys(prefix: string) {
  return {
    /** BullMQ's own prefix; queue keys are `<prefix>:q:<queue>:…`. */
    bull: `${prefix}:q`,
    instances: `${prefix}:instances`,
    instance: (id: string) => `${prefix}:instance:${id}`,
    reply: (gatewayId: string) => `${prefix}:reply:${gatewayId}`,
    cancel: `${prefix}:cancel`,
    cancelled: (jobId: string) => `${prefix}:cancelled:${jobId}`,
    stats: (model: string) => `${prefix}:stats:${queueNameFor(model)}`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
