import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildSim, engineOf } from './app.js';
import type { SimCounters } from './counters.js';
import type { ActiveFailure, FailureSpec, ResetOptions, SimControl, SimEngine } from './engine.js';
import type { ModelSpec, RuntimeConfig, SimOptions } from './options.js';
import type { ScriptRule } from './scripts.js';

/** Options for {@link startSim}: the sim's options plus where to listen. */
export interface StartSimOptions extends SimOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
}

/** A running sim. */
export interface SimHandle extends SimControl {
  /** Base URL, e.g. `http://127.0.0.1:11434`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The Fastify app behind it. */
  readonly app: FastifyInstance;
  /** Stops listening, drops open connections and cancels in-flight work. Safe to call twice. */
  close(): Promise<void>;
}

class RunningSim implements SimHandle {
  #closed: Promise<void> | undefined;

  constructor(
    readonly app: FastifyInstance,
    readonly engine: SimEngine,
    readonly url: string,
    readonly port: number,
    readonly host: string,
  ) {}

  get counters(): SimCounters {
    return this.engine.counters;
  }
  snapshot(opts?: { log?: boolean }): SimCounters {
    return this.engine.snapshot(opts);
  }
  resetCounters(): void {
    this.engine.resetCounters();
  }
  reset(opts?: ResetOptions): Promise<void> {
    return this.engine.reset(opts);
  }
  script(rule: ScriptRule): number {
    return this.engine.script(rule);
  }
  unscript(id: number): boolean {
    return this.engine.unscript(id);
  }
  clearScripts(): void {
    this.engine.clearScripts();
  }
  setFailure(spec: FailureSpec | null): Promise<void> {
    return this.engine.setFailure(spec);
  }
  get failure(): ActiveFailure | null {
    return this.engine.failure;
  }
  pause(): Promise<void> {
    return this.engine.pause();
  }
  resume(): Promise<void> {
    return this.engine.resume();
  }
  configure(patch: Partial<RuntimeConfig>): RuntimeConfig {
    return this.engine.configure(patch);
  }
  get config(): Readonly<RuntimeConfig> {
    return this.engine.config;
  }
  installModel(name: string, spec?: ModelSpec): void {
    this.engine.installModel(name, spec);
  }
  removeModel(name: string): boolean {
    return this.engine.removeModel(name);
  }
  modelNames(): string[] {
    return this.engine.modelNames();
  }
  unloadAll(): void {
    this.engine.unloadAll();
  }
  close(): Promise<void> {
    this.engine.refuseHandler = undefined;
    this.#closed ??= this.app.close();
    return this.#closed;
  }
}

/**
 * Starts a sim listening on a port. `close()` then `startSim({ port: samePort })` brings it back on
 * the same address, for tests of an unreachable backend.
 */
export async function startSim(opts: StartSimOptions = {}): Promise<SimHandle> {
  const app = buildSim(opts);
  const engine = engineOf(app);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const { port } = app.server.address() as AddressInfo;
  const server = app.server;
  engine.refuseHandler = async (refuse) => {
    if (refuse) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return;
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  };
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new RunningSim(app, engine, url, port, host);
}
