import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { RequestLogEntry } from './counters.js';
import { type SimControl, SimEngine } from './engine.js';
import { HttpError } from './http.js';
import type { SimOptions } from './options.js';
import { controlRoutes } from './routes/control.js';
import { inferenceRoutes } from './routes/inference.js';
import { modelRoutes } from './routes/models.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The sim's counters, scripts, failure modes and settings. */
    sim: SimControl;
  }
  interface FastifyRequest {
    simLog: RequestLogEntry | null;
  }
}

const engines = new WeakMap<FastifyInstance, SimEngine>();

/** The engine behind an app made by {@link buildSim}. */
export function engineOf(app: FastifyInstance): SimEngine {
  const engine = engines.get(app);
  if (!engine) throw new Error('ollama-sim: not an app made by buildSim');
  return engine;
}

/** Applies the failure mode in effect to an API request; returns the reply when it has been handled. */
async function applyFailure(engine: SimEngine, req: FastifyRequest, reply: FastifyReply) {
  for (;;) {
    const failure = engine.failure;
    if (!failure) return;
    if (failure.mode === 'error') {
      engine.store.status(failure.status);
      return reply.code(failure.status).send({ error: failure.message });
    }
    if (failure.mode === 'reset' || failure.mode === 'refuse') {
      reply.hijack();
      req.raw.socket?.destroy();
      return reply;
    }
    // hang: hold the request until the failure clears or the client leaves
    const raw = reply.raw;
    await new Promise<void>((resolve) => {
      void engine.waitWhileHung().then(resolve);
      raw.once('close', () => resolve());
    });
    if (raw.destroyed || req.raw.socket?.destroyed) {
      reply.hijack();
      return reply;
    }
  }
}

/**
 * Builds the sim as a Fastify app without listening, for `app.inject()` or your own server.
 * Controls are on `app.sim`; closing the app cancels in-flight work.
 */
export function buildSim(opts: SimOptions = {}): FastifyInstance {
  const engine = new SimEngine(opts);
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024,
    forceCloseConnections: true,
  });
  engines.set(app, engine);
  app.decorate('sim', engine as SimControl);
  app.decorateRequest('simLog', null);

  // Ollama reads every body as JSON whatever its content type (curl -d sends form encoding).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HttpError(400, (err as Error).message), undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?', 1)[0]!;
    if (path.startsWith('/__sim/')) return;
    engine.store.endpoint(path);
    if (engine.failure) return applyFailure(engine, req, reply);
  });

  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (req.simLog) {
      req.simLog.status = status;
      req.simLog.outcome ??= err instanceof HttpError && err.scripted ? 'scripted' : 'error';
    }
    engine.store.status(status);
    if (reply.sent) return;
    return reply.code(status).send({ error: err.message });
  });

  app.setNotFoundHandler((_req, reply) => {
    engine.store.status(404);
    return reply.code(404).type('text/plain; charset=utf-8').send('404 page not found');
  });

  app.register(modelRoutes(engine));
  app.register(inferenceRoutes(engine));
  app.register(controlRoutes(engine));
  app.addHook('onClose', async () => engine.shutdown());
  return app;
}
