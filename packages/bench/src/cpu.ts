/** CPU time of processes by pid, from /proc (Linux); elsewhere the figures are simply absent. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time of every thread of `pid` in milliseconds, or undefined when it cannot be read. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) / clockTicks()) * 1000;
  } catch {
    return undefined;
  }
}

/** CPU time of a named set of processes, taken at two moments to see what a phase cost each. */
export class CpuMeter {
  readonly #pids: Map<string, number>;

  constructor(pids: Record<string, number | undefined>) {
    this.#pids = new Map(
      Object.entries(pids).filter(
        (e): e is [string, number] => e[1] !== undefined && cpuTimeMs(e[1]) !== undefined,
      ),
    );
  }

  /** Current CPU time (ms) per process name. */
  sample(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, pid] of this.#pids) {
      const t = cpuTimeMs(pid);
      if (t !== undefined) out.set(name, t);
    }
    return out;
  }

  /** CPU microseconds per request of each process between two samples. */
  static perRequest(
    before: Map<string, number>,
    after: Map<string, number>,
    requests: number,
  ): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, t0] of before) {
      const t1 = after.get(name);
      if (t1 !== undefined && requests > 0) out[name] = ((t1 - t0) * 1000) / requests;
    }
    return out;
  }
}
