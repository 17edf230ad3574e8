import type { ProcessJobData } from '@ward/contracts';
import { createRedis, newJobId } from '@ward/queue';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../src/auth.js';
import { startGateway, type TestGateway } from './identity/helpers.js';

describe('GET /api/jobs/:id of a failed job', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ db: false });
  });
  afterAll(() => gw?.close());

  /** A job for a model no worker serves, failed by a stand-in worker with `reason`. */
  async function failedJob(reason: string): Promise<string> {
    const model = 'ghost:1b';
    const id = newJobId(model);
    const queue = gw.app.jobs.queue(model);
    const data: ProcessJobData = {
      v: 1,
      requestId: 'req-view',
      actor: { sub: 'dr-view', role: 'provider', method: 'jwt' },
      model,
      priority: 'routine',
      deadline: Date.now() + 60_000,
      acceptedAt: Date.now(),
      replyTo: null,
      stream: false,
      sealed: '',
    };
    await queue.add('process', data, { jobId: id });
    const connection = createRedis(gw.env.REDIS_URL!, 'worker');
    const worker = new Worker(
      queue.name,
      async () => {
        throw new UnrecoverableError(reason);
      },
      { connection, prefix: queue.opts.prefix! },
    );
    try {
      for (let i = 0; i < 100 && (await queue.getJobState(id)) !== 'failed'; i++)
        await new Promise((r) => setTimeout(r, 20));
    } finally {
      await worker.close();
      connection.disconnect();
    }
    return id;
  }

  const token = () =>
    mintToken({
      sub: 'dr-view',
      role: 'provider',
      issuer: gw.config.JWT_ISSUER,
      audience: gw.config.JWT_AUDIENCE,
      key: gw.env.JWT_SECRET!,
    });

  it("shows a worker's error code and message", async () => {
    const id = await failedJob('WARD_UPSTREAM_BAD_REQUEST: Ollama refused the request (400)');
    const res = await gw.call('GET', `/api/jobs/${id}`, { token: token() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      state: 'failed',
      error: { code: 'WARD_UPSTREAM_BAD_REQUEST', message: 'Ollama refused the request (400)' },
    });
  });

  it("shows a failure of BullMQ's own (a job that stalled too often) as WARD_INTERNAL, not its raw text", async () => {
    const id = await failedJob('job stalled more than allowable limit');
    const res = await gw.call('GET', `/api/jobs/${id}`, { token: token() });
    expect(res.json()).toMatchObject({ state: 'failed', error: { code: 'WARD_INTERNAL' } });
    expect(res.body).not.toContain('stalled');
  });
});
