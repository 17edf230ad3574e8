/** The small protocol between the bench process and the processes it starts. */

/** What a child tells the bench over IPC. */
export type ChildMessage = { type: 'ready'; url?: string } | { type: 'failed'; message: string };

/** Tells the parent the child is serving (with its URL when it listens). */
export function announce(message: ChildMessage): void {
  process.send?.(message);
}

/**
 * Runs `close` once on SIGTERM, SIGINT or when the parent goes away, then exits 0 (so `--cpu-prof`
 * writes its profile). A close that hangs is cut short after `graceMs`.
 */
export function closeOnSignal(close: () => Promise<void>, graceMs = 10_000): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(1), graceMs).unref();
    close().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`close failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

/** Reports a start-up failure to the parent and exits. */
export function failStart(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  announce({ type: 'failed', message });
  console.error(message);
  process.exit(1);
}

/** Reads a JSON object the parent passed in an environment variable. */
export function optionsFromEnv<T>(name: string): T {
  const raw = process.env[name];
  if (!raw) throw new Error(`${name} is not set`);
  return JSON.parse(raw) as T;
}
