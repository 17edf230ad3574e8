// Child processes of the end-to-end tests that run Ward, nginx or Prometheus as real programs.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { TestDatabase } from '@ward/db/testing';
import type { SimHandle } from '@ward/ollama-sim';
import { createRedis, deleteByPrefix } from '@ward/queue';
import { REDIS_URL, sleep } from './stack.js';

/** Finds an executable on PATH (and the sbin directories, where Debian puts nginx). */
export function which(bin: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  return dirs.map((d) => join(d, bin)).find((p) => existsSync(p));
}
/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A child process whose output is kept line by line. */
export interface Proc {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

export function startProc(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; stdout?: number },
): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collect = (stream: Readable | null) => {
    let rest = '';
    stream?.on('data', (d: Buffer) => {
      const parts = (rest + d.toString('utf8')).split('\n');
      rest = parts.pop()!;
      lines.push(...parts.filter(Boolean));
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, exited };
}

/** Stops a child with `signal`, and with SIGKILL when it has not exited within 5 s. */
export async function stopProc(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const done = await Promise.race([p.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** After the processes are stopped: closes the sim, deletes the test's Redis keys, schema and directory. */
export async function removeTestState(parts: {
  sim: SimHandle | undefined;
  prefix: string;
  tdb: TestDatabase | undefined;
  dir: string;
}): Promise<void> {
  await parts.sim?.close();
  const redis = createRedis(REDIS_URL, 'worker');
  await deleteByPrefix(redis, parts.prefix);
  redis.disconnect();
  await parts.tdb?.dispose();
  if (parts.dir) rmSync(parts.dir, { recursive: true, force: true });
}
