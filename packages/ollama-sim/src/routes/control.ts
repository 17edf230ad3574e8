// /__sim/*: counters, reset, scripts, failure modes and settings, for tests and benchmarks in other processes.
import type { FastifyPluginCallback } from 'fastify';
import type { FailureSpec, ResetOptions, SimEngine } from '../engine.js';
import { HttpError } from '../http.js';
import type { RuntimeConfig } from '../options.js';
import { scriptRuleFromJson } from '../scripts.js';

const asObject = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

/** Registers the control endpoints under `/__sim`. */
export function controlRoutes(engine: SimEngine): FastifyPluginCallback {
  return (app, _opts, done) => {
    app.get('/__sim/counters', (req, reply) => {
      const query = asObject(req.query);
      return reply.send(engine.snapshot({ log: query.log !== 'false' && query.log !== '0' }));
    });
    app.post('/__sim/reset', async (req) => {
      const body = asObject(req.body);
      const opts: ResetOptions = {};
      if (typeof body.scripts === 'boolean') opts.scripts = body.scripts;
      if (typeof body.failure === 'boolean') opts.failure = body.failure;
      if (typeof body.unload === 'boolean') opts.unload = body.unload;
      await engine.reset(opts);
      return { ok: true };
    });
    app.post('/__sim/script', async (req) => {
      try {
        return { id: engine.script(scriptRuleFromJson(req.body)) };
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    });
    app.delete('/__sim/script', async () => {
      engine.clearScripts();
      return { ok: true };
    });
    app.delete<{ Params: { id: string } }>('/__sim/script/:id', async (req) => {
      if (!engine.unscript(Number(req.params.id)))
        throw new HttpError(404, `script ${req.params.id} not found`);
      return { ok: true };
    });
    app.get('/__sim/failure', async () => ({ failure: engine.failure }));
    app.post('/__sim/failure', async (req) => {
      const body = asObject(req.body);
      try {
        await engine.setFailure(body.mode === undefined ? null : (body as unknown as FailureSpec));
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
      return { failure: engine.failure };
    });
    app.get('/__sim/config', async () => engine.config);
    app.post('/__sim/config', async (req) => {
      try {
        return engine.configure(asObject(req.body) as Partial<RuntimeConfig>);
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    });
    app.post('/__sim/unload', async (req) => {
      const model = asObject(req.body).model;
      if (typeof model === 'string') {
        const entry = engine.catalog.get(model);
        if (!entry) throw new HttpError(404, `model '${model}' not found`);
        engine.scheduler.expire(entry);
      } else engine.unloadAll();
      return { ok: true };
    });
    done();
  };
}
