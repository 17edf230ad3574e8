import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { coalesceWrites, createRedis, deleteByPrefix, waitForRedis } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Counts the writes that reach the socket: one per `_write`, one per `_writev` (a corked batch). */
function countWrites(redis: Redis): { writes: number } {
  const socket = redis.stream as Socket & {
    _write: (...a: unknown[]) => void;
    _writev?: (...a: unknown[]) => void;
  };
  const seen = { writes: 0 };
  const write = socket._write.bind(socket);
  socket._write = (...a: unknown[]) => {
    seen.writes++;
    write(...a);
  };
  const writev = socket._writev?.bind(socket);
  if (writev)
    socket._writev = (...a: unknown[]) => {
      seen.writes++;
      writev(...a);
    };
  return seen;
}

describe('coalesceWrites', () => {
  const prefix = `test-${randomUUID()}`;
  const opened: Redis[] = [];
  afterAll(async () => {
    if (opened[0]) await deleteByPrefix(opened[0], prefix);
    await Promise.all(opened.map((r) => r.quit()));
  });

  async function open(coalesce: boolean): Promise<Redis> {
    const r = createRedis(REDIS_URL, 'worker');
    opened.push(r);
    await waitForRedis(r, REDIS_URL);
    return coalesce ? coalesceWrites(r) : r;
  }

  it('sends the commands of one turn in one write, with every reply in order', async () => {
    const plain = await open(false);
    const joined = await open(true);
    const plainWrites = countWrites(plain);
    const joinedWrites = countWrites(joined);
    const run = (r: Redis, tag: string) =>
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          r.incrby(`${prefix}:${tag}`, i + 1).then((n) => [i, n] as const),
        ),
      );
    const [a, b] = await Promise.all([run(plain, 'plain'), run(joined, 'joined')]);
    expect(plainWrites.writes).toBe(20);
    expect(joinedWrites.writes).toBe(1);
    // Running totals 1, 3, 6, …: the replies were matched to their commands in order.
    let total = 0;
    for (const [i, n] of b) {
      total += i + 1;
      expect(n).toBe(total);
    }
    expect(a.map(([, n]) => n)).toEqual(b.map(([, n]) => n));
  });

  it('writes again in the next turn', async () => {
    const joined = await open(true);
    const writes = countWrites(joined);
    await joined.set(`${prefix}:a`, '1');
    await joined.set(`${prefix}:b`, '2');
    expect(writes.writes).toBe(2);
    expect(await joined.mget(`${prefix}:a`, `${prefix}:b`)).toEqual(['1', '2']);
  });
});
