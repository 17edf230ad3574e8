import jwt from '@fastify/jwt';
import { type Actor, isRole, type Role } from '@ward/contracts';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Errors } from '../../errors.js';
import { API_KEY_PREFIX } from '../../identity/api-keys.js';
import { IdentityErrors } from '../../identity/errors.js';
import { type OidcOptions, OidcTokenError, OidcVerifier } from '../../identity/oidc.js';
import { type RevocationClaims, type RevokedReason, TokenRevocation } from '../../identity/revocation.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on the route. Every route declares `roles` or `public: true`. */
    roles?: readonly Role[];
    public?: boolean;
  }
  interface FastifyRequest {
    actor: Actor;
    /** The bearer token's `jti` (as revocation keys it) and `exp`, when the actor came with a token. */
    credential: { jti?: string | undefined; exp?: number | undefined } | undefined;
    /** A gateway token's revocation check, started in `onRequest` and settled in `preParsing`. */
    revocationCheck: Promise<RevocationOutcome> | undefined;
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
    user: { sub: string; role: Role; jti?: string; exp?: number; gen?: number };
  }
}

/** How the gateway checks bearer tokens. */
export interface AuthOptions {
  algorithm: 'HS256' | 'RS256' | 'ES256';
  /** HS256 secret or PEM public key. */
  key: string;
  issuer: string;
  audience: string;
  /**
   * Prefix of Ward's Redis keys. When set, every token is checked against the revocation marks
   * (logged-out `jti`, disabled account, ended sessions) in Redis.
   */
  redisPrefix?: string | undefined;
  /** Also accept tokens of this external OpenID Connect provider. */
  oidc?: OidcOptions | undefined;
}

/** How a revocation check came out: a reason to refuse, none, or Redis could not be asked. */
type RevocationOutcome = RevokedReason | undefined | Error;

const REVOKED_MESSAGE: Record<RevokedReason, string> = {
  revoked: 'the token has been revoked',
  disabled: 'the account is disabled',
  superseded: 'the token has been revoked',
};

function issuerOf(token: string): unknown {
  const part = token.split('.')[1];
  if (!part || part.length > 16_384) return undefined;
  try {
    return (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { iss?: unknown }).iss;
  } catch {
    return undefined;
  }
}

/**
 * Authentication, then a role check against the route's declared roles. A request presents one of:
 * - `Authorization: Bearer <JWT>` signed by the gateway's key (algorithm pinned, issuer and audience
 *   checked), refused when revoked in Redis;
 * - `Authorization: Bearer <JWT>` of the configured OIDC provider (its `iss`), verified with its JWKS;
 * - `Authorization: Bearer ward_…` or `X-API-Key: ward_…`, an API key (needs the identity plugin).
 * A route that declares neither roles nor `public` cannot be registered.
 */
export default fp(
  async (app, opts: AuthOptions) => {
    await app.register(jwt, {
      // A PEM public key goes in verify-only form: @fastify/jwt cannot build a signer from it.
      secret: opts.algorithm === 'HS256' ? opts.key : { public: opts.key },
      verify: {
        algorithms: [opts.algorithm],
        allowedIss: opts.issuer,
        allowedAud: opts.audience,
        cache: 10_000,
        requiredClaims: ['sub', 'exp'],
      },
    });
    app.decorateRequest('actor', undefined as unknown as Actor);
    app.decorateRequest('credential', undefined);
    app.decorateRequest('revocationCheck', undefined);
    const table: RouteRule[] = [];
    app.decorate('routeTable', table);
    const revocation = opts.redisPrefix ? new TokenRevocation(app.redis, opts.redisPrefix) : undefined;
    const oidc = opts.oidc ? new OidcVerifier(opts.oidc) : undefined;
    if (oidc && oidc.issuer === opts.issuer)
      throw new Error(
        'OIDC_ISSUER must differ from JWT_ISSUER (the gateway would not know which key to use)',
      );

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

    /** Never rejects, so a request answered before it is awaited leaves nothing unhandled. */
    function checkRevocation(claims: RevocationClaims): Promise<RevocationOutcome> | undefined {
      return revocation
        ?.check(claims)
        .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    }

    function refuse(outcome: RevocationOutcome): void {
      if (outcome instanceof Error) throw new IdentityErrors.AuthUnavailable();
      if (outcome) throw new Errors.Unauthorized(REVOKED_MESSAGE[outcome]);
    }

    async function refuseRevoked(claims: RevocationClaims): Promise<void> {
      const check = checkRevocation(claims);
      if (check) refuse(await check);
    }

    async function byApiKey(key: string): Promise<Actor> {
      if (!app.hasDecorator('identity'))
        throw new Errors.Unauthorized('API keys are not enabled on this gateway');
      let actor: Actor | undefined;
      try {
        actor = await app.identity.apiKeys.authenticate(key);
      } catch {
        throw new IdentityErrors.AuthUnavailable();
      }
      if (!actor) throw new Errors.Unauthorized('the API key is not valid, has expired or was revoked');
      return actor;
    }

    async function byOidc(request: FastifyRequest, verifier: OidcVerifier, token: string): Promise<Actor> {
      let verified: Awaited<ReturnType<OidcVerifier['verify']>>;
      try {
        verified = await verifier.verify(token);
      } catch (err) {
        throw new Errors.Unauthorized(err instanceof OidcTokenError ? err.message : 'the token is not valid');
      }
      const jti = verified.jti && `oidc:${verified.jti}`;
      await refuseRevoked({ sub: verified.actor.sub, jti });
      request.credential = { jti, exp: verified.exp };
      return verified.actor;
    }

    async function byJwt(request: FastifyRequest): Promise<Actor> {
      let user: { sub: unknown; role: unknown; jti?: unknown; exp?: unknown; gen?: unknown };
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
      const jti = typeof user.jti === 'string' && user.jti ? user.jti : undefined;
      const gen = typeof user.gen === 'number' ? user.gen : undefined;
      // Awaited in preParsing: the rate-limit count (next onRequest hook) goes to Redis in the same
      // write, so a request pays one round trip for both. Nothing is read before the check settles.
      request.revocationCheck = checkRevocation({ sub: user.sub, jti, gen });
      request.credential = { jti, exp: typeof user.exp === 'number' ? user.exp : undefined };
      return { sub: user.sub, role: user.role, method: 'jwt' };
    }

    app.addHook('onRequest', async (request) => {
      const cfg = request.routeOptions.config;
      if (cfg.public || !cfg.roles) return;
      const apiKey = request.headers['x-api-key'];
      const header = request.headers.authorization;
      let actor: Actor;
      if (typeof apiKey === 'string' && apiKey) actor = await byApiKey(apiKey.trim());
      else {
        if (!header || !/^Bearer\s+\S+$/i.test(header))
          throw new Errors.Unauthorized('a bearer token is required');
        const token = header.replace(/^Bearer\s+/i, '');
        if (token.startsWith(API_KEY_PREFIX)) actor = await byApiKey(token);
        else if (oidc && issuerOf(token) === oidc.issuer) actor = await byOidc(request, oidc, token);
        else actor = await byJwt(request);
      }
      request.actor = actor;
      if (!cfg.roles.includes(actor.role)) {
        if (request.revocationCheck) refuse(await request.revocationCheck);
        throw new Errors.Forbidden(actor.role);
      }
    });

    // After every onRequest hook (rate limiting included) and before the body is read.
    app.addHook('preParsing', async (request) => {
      if (request.revocationCheck) refuse(await request.revocationCheck);
    });
  },
  { name: 'auth', dependencies: ['redis'] },
);
