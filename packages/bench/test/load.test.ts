import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpTask, runLoad } from '../src/load.js';

describe('runLoad', () => {
  let server: Server;
  let pool: Pool;
  let inFlight = 0;
  let maxInFlight = 0;
  let served = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      served++;
      req.resume();
      setTimeout(() => {
        inFlight--;
        res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }, 2);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 8 });
  });

  afterAll(async () => {
    await pool.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends exactly `total` requests with at most `concurrency` in flight and times each one', async () => {
    served = 0;
    maxInFlight = 0;
    const progress: number[] = [];
    const r = await runLoad({
      concurrency: 8,
      total: 200,
      task: httpTask(pool, { method: 'POST', path: '/ok', body: '{"prompt":"hi"}' }),
      onProgress: (done) => progress.push(done),
    });
    expect(served).toBe(200);
    expect(maxInFlight).toBeLessThanOrEqual(8);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(r.errors).toBe(0);
    expect(r.latenciesMs).toHaveLength(200);
    expect(Math.min(...r.latenciesMs)).toBeGreaterThanOrEqual(1.5);
    // 200 requests of ≥2 ms, 8 at a time, cannot finish faster than 25 rounds of 2 ms.
    expect(r.elapsedMs).toBeGreaterThanOrEqual(48);
    expect(progress.at(-1)).toBe(200);
  });

  it('counts failed requests apart from the latencies and keeps the first reason', async () => {
    const r = await runLoad({
      concurrency: 4,
      total: 20,
      task: httpTask(pool, { method: 'GET', path: '/fail' }),
    });
    expect(r.errors).toBe(20);
    expect(r.latenciesMs).toHaveLength(0);
    expect(r.firstError).toMatch(/^HTTP 500/);
  });

  it('never runs more clients than requests', async () => {
    maxInFlight = 0;
    const r = await runLoad({
      concurrency: 64,
      total: 3,
      task: httpTask(pool, { method: 'GET', path: '/ok' }),
    });
    expect(r.latenciesMs).toHaveLength(3);
    expect(maxInFlight).toBeLessThanOrEqual(3);
  });
});
