/**
 * Child process: the "bare BullMQ" baseline. A BullMQ Worker per queue named in BENCH_BARE_OPTIONS
 * completes each job at once; when the job names a reply channel it publishes `{ j: id }` there
 * first, as Ward's worker does, so the producer need not listen to queue events.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { announce, closeOnSignal, failStart, optionsFromEnv } from './ipc.js';

/** Options of the bare BullMQ worker child. */
export interface BareWorkerOptions {
  redisUrl: string;
  prefix: string;
  queues: string[];
  concurrency: number;
}

try {
  const opts = optionsFromEnv<BareWorkerOptions>('BENCH_BARE_OPTIONS');
  const publisher = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  const workers = opts.queues.map(
    (name) =>
      new Worker<{ replyTo?: string }>(
        name,
        async (job) => {
          if (job.data.replyTo)
            publisher.publish(job.data.replyTo, JSON.stringify({ j: job.id })).catch(() => {});
          return 'ok';
        },
        {
          connection: new Redis(opts.redisUrl, { maxRetriesPerRequest: null }),
          prefix: opts.prefix,
          concurrency: opts.concurrency,
        },
      ),
  );
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  closeOnSignal(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await publisher.quit();
  });
  announce({ type: 'ready' });
} catch (err) {
  failStart(err);
}
