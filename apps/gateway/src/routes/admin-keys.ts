import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, ROLES } from '@ward/contracts';
import { Type } from 'typebox';
import { invalid } from '../errors.js';
import { DEFAULT_KEY_DAYS, MAX_KEY_DAYS } from '../identity/api-keys.js';
import { audit } from '../identity/audit.js';

const RoleSchema = Type.Enum(ROLES);

const KeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  role: RoleSchema,
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedBy: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
});
const errors = { '4xx': ErrorBody, '5xx': ErrorBody };

/** `/api/admin/keys`: create (the key is shown once), list and revoke API keys. Admins only. */
const adminKeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const admin = { roles: ['admin'] as const };

  app.get(
    '/api/admin/keys',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Every API key (never the key itself)',
        response: { 200: Type.Object({ keys: Type.Array(KeyView) }), ...errors },
      },
    },
    async () => ({ keys: await app.identity.apiKeys.list() }),
  );

  app.post(
    '/api/admin/keys',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Create an API key; the response is the only time the key is shown',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, description: 'What the key is for' }),
            role: RoleSchema,
            expiresInDays: Type.Optional(
              Type.Integer({ minimum: 1, maximum: MAX_KEY_DAYS, description: `Default ${DEFAULT_KEY_DAYS}` }),
            ),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            key: Type.String({ description: 'The API key: store it now, it cannot be shown again' }),
            apiKey: KeyView,
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { name, role, expiresInDays, expiresAt } = request.body;
      if (expiresInDays !== undefined && expiresAt !== undefined)
        throw invalid('expiresAt', 'cannot be given with expiresInDays');
      const created = await app.identity.apiKeys.create({
        name,
        role,
        createdBy: request.actor.sub,
        expiresAt:
          expiresAt !== undefined
            ? new Date(expiresAt)
            : expiresInDays !== undefined
              ? new Date(Date.now() + expiresInDays * 86_400_000)
              : undefined,
      });
      await audit(app, request, {
        action: 'apikey.created',
        outcome: 'success',
        actor: request.actor,
        resource: { type: 'api-key', id: created.apiKey.id },
        detail: { name: created.apiKey.name, role: created.apiKey.role, expiresAt: created.apiKey.expiresAt },
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/api/admin/keys/:id',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Revoke an API key (every gateway refuses it within API_KEY_CACHE_SECONDS)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: KeyView, ...errors },
      },
    },
    async (request) => {
      const key = await app.identity.apiKeys.revoke(request.params.id, request.actor.sub);
      await audit(app, request, {
        action: 'apikey.revoked',
        outcome: 'success',
        actor: request.actor,
        resource: { type: 'api-key', id: key.id },
      });
      return key;
    },
  );
};

export default adminKeyRoutes;
