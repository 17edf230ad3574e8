import type { InstanceHeartbeat } from '@ward/contracts';
import { type RedisKeys, readHeartbeats } from '@ward/queue';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { Errors, invalid } from '../../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    instances: InstanceDirectory;
  }
}

/** How fast a model's queue drains: slots on healthy instances, and their mean job time (ms) when known. */
export interface Drain {
  slots: number;
  serviceMs?: number;
}

/** The gateway's view of live workers, refreshed from their heartbeats in the background. */
export class InstanceDirectory {
  #list: InstanceHeartbeat[] = [];
  #at = 0;
  #pending: Promise<InstanceHeartbeat[]> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly maxAgeMs: number,
  ) {}

  /** Live instances, at most `maxAgeMs` old. */
  async list(): Promise<InstanceHeartbeat[]> {
    if (Date.now() - this.#at < this.maxAgeMs) return this.#list;
    if (this.#at === 0) return this.refresh();
    // Stale: answer from what we know and refresh in the background, off the request path.
    void this.refresh().catch(() => {});
    return this.#list;
  }

  /** Reads heartbeats now (concurrent callers share one read). */
  refresh(): Promise<InstanceHeartbeat[]> {
    this.#pending ??= readHeartbeats(this.redis, this.keys)
      .then((list) => {
        this.#list = list;
        this.#at = Date.now();
        return list;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  /** Every model some live instance serves. */
  async models(): Promise<string[]> {
    return [...new Set((await this.list()).flatMap((i) => i.models))].sort();
  }

  /**
   * Checks that a healthy instance serves `model` (and can see images when asked) and returns
   * how fast its queue drains: the slots available for it and the instances' recent job time.
   * 404 when no instance has the model; 503 when none is up.
   */
  async drainFor(model: string, vision: boolean): Promise<Drain> {
    const list = await this.list();
    if (list.length === 0)
      throw Object.assign(new Errors.NoInstance('no worker is connected; retry later'), { retryAfter: 5 });
    const serving = list.filter((i) => i.models.includes(model));
    if (serving.length === 0) {
      throw Object.assign(new Errors.ModelNotFound(model, (await this.models()).join(', ') || 'none'), {
        field: 'modelName',
      });
    }
    if (vision && !serving.some((i) => i.vision.includes(model)))
      throw invalid('modelName', `'${model}' is not a vision model`);
    const healthy = serving.filter((i) => i.healthy);
    if (healthy.length === 0) {
      throw Object.assign(new Errors.NoInstance(`no healthy instance serves model '${model}' right now`), {
        retryAfter: 5,
      });
    }
    const times = healthy.flatMap((i) => (i.serviceMs?.[model] === undefined ? [] : [i.serviceMs[model]]));
    return {
      slots: healthy.reduce((n, i) => n + i.numParallel, 0),
      ...(times.length > 0 && { serviceMs: times.reduce((a, b) => a + b, 0) / times.length }),
    };
  }
}

export default fp(
  async (app, opts: { keys: RedisKeys; maxAgeMs?: number }) => {
    app.decorate('instances', new InstanceDirectory(app.redis, opts.keys, opts.maxAgeMs ?? 1000));
  },
  { name: 'instances', dependencies: ['redis'] },
);
