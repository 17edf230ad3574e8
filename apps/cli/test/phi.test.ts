import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Stack, sleep, startStack } from './helpers/stack.js';

const PROMPT_CANARY = 'CANARY-PROMPT-7f3a9c John Q Patient MRN 0042';
const ANSWER_CANARY = 'CANARY-ANSWER-b81e2d hypertensive crisis';
const SYSTEM_CANARY = 'CANARY-SYSTEM-55aa';

/** Every value stored under a key prefix, whatever its Redis type. */
async function dumpKeyspace(redis: Redis, prefix: string): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      out.push(key);
      if (type === 'string') out.push((await redis.get(key)) ?? '');
      else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') out.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return out.join('\n');
}

describe('patient data', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sims: [{ models: ['mistral:7b'], numParallel: 2, latency: 'none' }] });
    stack.sims[0]!.script({ prompt: /CANARY-PROMPT/, reply: `The answer is ${ANSWER_CANARY}.` });
  });
  afterAll(() => stack?.close());

  it('keeps prompt and answer canaries out of every log line and the whole Redis keyspace', async () => {
    const token = stack.token('provider');
    const body = { modelName: 'mistral:7b', prompt: PROMPT_CANARY, system: SYSTEM_CANARY };
    const sync = await call(stack, 'POST', '/api/local/process', { token, body });
    expect(sync.status).toBe(200);
    expect(sync.body.response).toContain(ANSWER_CANARY);

    const stream = await call(stack, 'POST', '/api/local/process', {
      token,
      body: { ...body, stream: true },
    });
    expect(stream.status).toBe(200);
    expect(String(stream.body)).toContain('CANARY-ANSWER');

    const accepted = await call(stack, 'POST', '/api/local/process', {
      token,
      body,
      headers: { prefer: 'respond-async' },
    });
    let view: any;
    for (let i = 0; i < 100; i++) {
      view = (await call(stack, 'GET', `/api/jobs/${accepted.body.id}`, { token })).body;
      if (view.state === 'completed') break;
      await sleep(20);
    }
    expect(view.result.response).toContain(ANSWER_CANARY);

    // A failing request must not leak either: a bad option value next to the canary.
    const bad = await call(stack, 'POST', '/api/local/process', {
      token,
      body: { ...body, options: { temperature: 9 } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toContain('CANARY');

    // Query strings are not logged (a client could put anything there); the request line is.
    const queried = await call(stack, 'GET', `/api/jobs/${accepted.body.id}?mrn=CANARY-QUERY-0042`, {
      token,
    });
    expect(queried.status).toBe(200);

    // The async result is still stored (sealed) in Redis, so this scan covers stored outputs too.
    const keyspace = await dumpKeyspace(stack.redis, stack.prefix);
    expect(keyspace.length).toBeGreaterThan(0);
    expect(keyspace).toContain(accepted.body.id);
    for (const canary of ['CANARY-PROMPT', 'CANARY-ANSWER', 'CANARY-SYSTEM', 'John Q Patient']) {
      expect(keyspace).not.toContain(canary);
    }
    await sleep(100);
    expect(stack.logs.lines.length).toBeGreaterThan(3);
    for (const canary of [
      'CANARY-PROMPT',
      'CANARY-ANSWER',
      'CANARY-SYSTEM',
      'John Q Patient',
      'CANARY-QUERY',
    ]) {
      expect(stack.logs.text).not.toContain(canary);
    }
    const parsed = stack.logs.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    });
    const line = parsed.find(
      (l) => l.msg === 'request completed' && l.url === `/api/jobs/${accepted.body.id}`,
    );
    expect(line).toMatchObject({ method: 'GET', route: '/api/jobs/:id', statusCode: 200 });
    expect(line?.reqId).toEqual(expect.any(String));
    expect(line?.response_time).toEqual(expect.any(Number));
  });
});
