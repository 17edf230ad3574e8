/** A closed-loop load generator: N concurrent clients, each sending its next request when the last one answers. */
import type { Dispatcher, Pool } from 'undici';

/** One request of a load run; resolves when the answer is complete, rejects when it failed. */
export type LoadTask = (index: number) => Promise<void>;

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Clients running at once. */
  concurrency: number;
  /** Requests in the run, over all clients. */
  total: number;
  task: LoadTask;
  /** Called after each finished request with the number finished so far. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link runLoad} measured. */
export interface LoadResult {
  /** Latency of each successful request in milliseconds, in completion order. */
  latenciesMs: Float64Array;
  /** Requests that failed (not counted in `latenciesMs`). */
  errors: number;
  /** The first failure's message, to say why a run went wrong. */
  firstError?: string;
  /** Wall-clock time of the whole run in milliseconds. */
  elapsedMs: number;
}

/**
 * Runs `total` requests with `concurrency` clients in a closed loop and times each with
 * `performance.now()`. A failed request is counted and the client carries on.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const { total, task, onProgress } = opts;
  const concurrency = Math.max(1, Math.min(opts.concurrency, total));
  const latencies = new Float64Array(total);
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  let done = 0;

  const client = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      const t0 = performance.now();
      try {
        await task(index);
        latencies[ok++] = performance.now() - t0;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      onProgress?.(++done, total);
    }
  };

  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsedMs = performance.now() - start;
  return {
    latenciesMs: latencies.subarray(0, ok),
    errors,
    ...(firstError !== undefined && { firstError }),
    elapsedMs,
  };
}

/** A request {@link httpTask} sends each time. */
export interface HttpTaskRequest {
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  /** Sent as is; serialise JSON once, outside the loop. */
  body?: string;
  /** Status that counts as success (default 200). */
  expectStatus?: number;
}

/** A {@link LoadTask} that sends the same request on an undici `Pool` and reads the whole answer. */
export function httpTask(pool: Pool, req: HttpTaskRequest): LoadTask {
  const expect = req.expectStatus ?? 200;
  const options: Dispatcher.RequestOptions = {
    method: req.method,
    path: req.path,
    ...(req.headers && { headers: req.headers }),
    ...(req.body !== undefined && { body: req.body }),
  };
  return async () => {
    const res = await pool.request(options);
    const text = await res.body.text();
    if (res.statusCode !== expect) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  };
}
