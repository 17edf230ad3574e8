import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, ROLES } from '@ward/contracts';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { audit } from '../identity/audit.js';
import { IdentityErrors } from '../identity/errors.js';

const RoleSchema = Type.Enum(ROLES);

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

const LoginResponse = Type.Object({
  token: Type.String({ description: 'Bearer token for the Authorization header' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the token expires (automatic logoff)' }),
  expiresAt: Type.String({ format: 'date-time' }),
  user: Type.Object({ username: Type.String(), role: RoleSchema }),
});

const MeResponse = Type.Object({
  sub: Type.String(),
  role: RoleSchema,
  method: Type.Union([Type.Literal('jwt'), Type.Literal('api-key'), Type.Literal('oidc')]),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
});

/** The one message every failed login gets, whatever failed. */
const BAD_LOGIN = 'invalid username or password';

/** `POST /api/auth/login` (public), `POST /api/auth/logout` and `GET /api/auth/me`. */
const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a username and password for a short-lived bearer token',
        security: [],
        body: LoginBody,
        response: { 200: LoginResponse, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const login = app.identity.login;
      if ('unavailable' in login) throw new IdentityErrors.LoginUnavailable(login.unavailable);
      let outcome: Awaited<ReturnType<typeof login.login>>;
      try {
        outcome = await login.login(request.body.username, request.body.password);
      } catch (err) {
        // Redis (lockout counters) or the database is unreachable: a retryable 503, not a 500.
        request.log.error({ err: { message: (err as Error).message } }, 'login could not be checked');
        throw new IdentityErrors.AuthUnavailable();
      }
      if (!outcome.ok) {
        request.log.info({ reason: outcome.reason }, 'login refused');
        await audit(app, request, {
          action: 'auth.login.failed',
          outcome: 'failure',
          actor: { sub: outcome.username },
          reason: outcome.reason,
        });
        if (outcome.reason === 'locked')
          throw Object.assign(new IdentityErrors.LoginLocked(), { retryAfter: outcome.retryAfterSeconds });
        throw new Errors.Unauthorized(BAD_LOGIN);
      }
      await audit(app, request, {
        action: 'auth.login.succeeded',
        outcome: 'success',
        actor: { sub: outcome.username, role: outcome.role, method: 'password' },
      });
      reply.header('cache-control', 'no-store');
      return {
        token: outcome.issued.token,
        tokenType: 'Bearer' as const,
        expiresIn: outcome.issued.expiresIn,
        expiresAt: outcome.issued.expiresAt.toISOString(),
        user: { username: outcome.username, role: outcome.role },
      };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['auth'],
        summary: 'Revoke the bearer token of this request until it expires',
        response: { 204: Type.Null(), '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const { jti, exp } = request.credential ?? {};
      if (request.actor.method === 'api-key')
        throw new Errors.Validation('an API key cannot log out; an admin revokes it at /api/admin/keys');
      if (!jti || !exp) throw new Errors.Validation('this token has no jti, so it cannot be revoked');
      await app.identity.revocation.revoke(jti, exp).catch(() => {
        throw new IdentityErrors.AuthUnavailable();
      });
      await audit(app, request, { action: 'auth.logout', outcome: 'success', actor: request.actor });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/auth/me',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['auth'],
        summary: 'Who the credentials of this request act for',
        response: { 200: MeResponse, '4xx': ErrorBody },
      },
    },
    async (request) => {
      const exp = request.credential?.exp;
      return {
        ...request.actor,
        ...(exp !== undefined && { expiresAt: new Date(exp * 1000).toISOString() }),
      };
    },
  );
};

export default authRoutes;
