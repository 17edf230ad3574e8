import jwt from '@fastify/jwt';
import { type Actor, isRole, type Role } from '@ward/contracts';
import fp from 'fastify-plugin';
import { Errors } from '../../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on the route. Every route declares `roles` or `public: true`. */
    roles?: readonly Role[];
    public?: boolean;
  }
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyInstance {
    /** Every route with the roles it allows (public routes have none), for docs and the route × role test. */
    routeTable: RouteRule[];
  }
}

/** One route's access rule. */
export interface RouteRule {
  method: string;
  url: string;
  roles: readonly Role[] | 'public';
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; role: Role };
    user: { sub: string; role: Role; jti?: string; exp?: number };
  }
}

/** How the gateway checks bearer tokens. */
export interface AuthOptions {
  algorithm: 'HS256' | 'RS256' | 'ES256';
  /** HS256 secret or PEM public key. */
  key: string;
  issuer: string;
  audience: string;
}

/**
 * Bearer JWT authentication with the algorithm pinned and issuer and audience checked, then a
 * role check against the route's declared roles. A route that declares neither roles nor
 * `public` cannot be registered.
 */
export default fp(
  async (app, opts: AuthOptions) => {
    await app.register(jwt, {
      secret: opts.key,
      verify: {
        algorithms: [opts.algorithm],
        allowedIss: opts.issuer,
        allowedAud: opts.audience,
        cache: 10_000,
        requiredClaims: ['sub', 'exp'],
      },
    });
    app.decorateRequest('actor', undefined as unknown as Actor);
    const table: RouteRule[] = [];
    app.decorate('routeTable', table);

    app.addHook('onRoute', (route) => {
      const cfg = route.config ?? {};
      if (route.url.startsWith('/docs')) {
        route.config = { ...cfg, public: true };
        return;
      }
      if (!cfg.public && !(cfg.roles && cfg.roles.length > 0)) {
        throw new Error(`route ${route.method} ${route.url} declares neither roles nor public`);
      }
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD')
          table.push({ method, url: route.url, roles: cfg.public ? 'public' : cfg.roles! });
      }
    });

    app.addHook('onRequest', async (request) => {
      const cfg = request.routeOptions.config;
      if (cfg.public || !cfg.roles) return;
      const header = request.headers.authorization;
      if (!header || !/^Bearer\s+\S+$/i.test(header))
        throw new Errors.Unauthorized('a bearer token is required');
      let user: { sub: string; role: unknown };
      try {
        user = await request.jwtVerify();
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw new Errors.Unauthorized(
          code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'the token has expired' : 'the token is not valid',
        );
      }
      if (!isRole(user.role) || typeof user.sub !== 'string' || !user.sub)
        throw new Errors.Unauthorized('the token carries no valid role');
      request.actor = { sub: user.sub, role: user.role, method: 'jwt' };
      if (!cfg.roles.includes(user.role)) throw new Errors.Forbidden(user.role);
    });
  },
  { name: 'auth' },
);
