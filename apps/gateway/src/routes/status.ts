import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, ModelsResponse, StatusResponse } from '@ward/contracts';
import { Type } from 'typebox';

/** Status of instances and queues, the model list, and health probes. */
const statusRoutes: FastifyPluginAsyncTypebox<{ localModelsEnabled: boolean; hipaaMode: boolean }> = async (
  app,
  opts,
) => {
  app.get(
    '/api/local/status',
    {
      config: { roles: ['admin', 'provider', 'staff'] },
      schema: {
        tags: ['status'],
        summary: 'Every instance, per-model queue depth and an overall ready flag',
        response: { 200: StatusResponse, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async () => {
      const instances = await app.instances.refresh();
      const models = [...new Set(instances.flatMap((i) => i.models))].sort();
      const queues = await Promise.all(
        models.map(async (model) => {
          const c = await app.jobs.queue(model).getJobCounts('waiting', 'prioritized', 'delayed', 'active');
          const capacity = instances
            .filter((i) => i.healthy && i.models.includes(model))
            .reduce((n, i) => n + i.numParallel, 0);
          return {
            model,
            waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0),
            active: c.active ?? 0,
            capacity,
          };
        }),
      );
      return {
        ready: instances.some((i) => i.healthy),
        localModelsEnabled: opts.localModelsEnabled,
        hipaaMode: opts.hipaaMode,
        instances: instances.map((i) => ({
          id: i.id,
          url: i.url,
          healthy: i.healthy,
          models: i.models,
          installed: i.installed,
          loaded: i.loaded,
          inFlight: i.inFlight,
          numParallel: i.numParallel,
          ...(i.lastError !== undefined && { lastError: i.lastError }),
          ...(i.ollamaVersion !== undefined && { ollamaVersion: i.ollamaVersion }),
          lastSeen: new Date(i.updatedAt).toISOString(),
        })),
        queues,
      };
    },
  );

  app.get(
    '/api/local/models',
    {
      config: { roles: ['admin', 'provider', 'staff'] },
      schema: {
        tags: ['status'],
        summary: 'Models served by live instances',
        response: { 200: ModelsResponse, '4xx': ErrorBody },
      },
    },
    async () => {
      const instances = await app.instances.list();
      const names = [...new Set(instances.flatMap((i) => i.models))].sort();
      return {
        models: names.map((name) => ({
          name,
          vision: instances.some((i) => i.vision.includes(name)),
          instances: instances.filter((i) => i.models.includes(name)).map((i) => i.id),
          loadedOn: instances.filter((i) => i.loaded.includes(name)).map((i) => i.id),
        })),
      };
    },
  );

  const Health = Type.Object({
    status: Type.String(),
    redis: Type.Optional(Type.Boolean()),
    instances: Type.Optional(Type.Integer()),
  });
  app.get(
    '/health/live',
    { config: { public: true }, schema: { tags: ['health'], response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/health/ready',
    { config: { public: true }, schema: { tags: ['health'], response: { 200: Health, 503: Health } } },
    async (_request, reply) => {
      const redis = await app.redis.ping().then(
        () => true,
        () => false,
      );
      const healthy = redis
        ? (await app.instances.refresh().catch(() => [])).filter((i) => i.healthy).length
        : 0;
      const ready = redis && healthy > 0;
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not ready', redis, instances: healthy });
    },
  );
};

export default statusRoutes;
