/**
 * Child process: the "bare BullMQ" baseline. A BullMQ Worker per queue named in BENCH_BARE_OPTIONS
 * completes each job at once; when the job names a reply channel it publishes `{ j: id }` there
 * first, as Ward's worker does, so the producer need not listen to queue events. The `split` queue
 * has several Workers sharing the slots, as Ward's worker has for a model with many slots.
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
  /** A queue served by several Workers with these concurrencies, as Ward's worker splits its slots. */
  split?: { queue: string; concurrencies: number[] };
}

try {
  const opts = optionsFromEnv<BareWorkerOptions>('BENCH_BARE_OPTIONS');
  const publisher = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  const serve = (
    name: string,
    concurrency: number,
    connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null }),
  ) =>
    new Worker<{ replyTo?: string }>(
      name,
      async (job) => {
        if (job.data.replyTo)
          publisher.publish(job.data.replyTo, JSON.stringify({ j: job.id })).catch(() => {});
        return 'ok';
      },
      {
        connection,
        prefix: opts.prefix,
        concurrency,
      },
    );
  // Like Ward's, the split Workers share one command connection (each has its own blocking one).
  const shared = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  const workers = [
    ...opts.queues.map((name) => serve(name, opts.concurrency)),
    ...(opts.split?.concurrencies.map((c) => serve(opts.split!.queue, c, shared)) ?? []),
  ];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  closeOnSignal(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await publisher.quit();
  });
  announce({ type: 'ready' });
} catch (err) {
  failStart(err);
}
