import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, ROLES } from '@ward/contracts';
import { Type } from 'typebox';
import { audit } from '../identity/audit.js';
import { IdentityErrors } from '../identity/errors.js';
import { MAX_PASSWORD_LENGTH } from '../identity/passwords.js';
import type { User } from '../identity/users.js';

const RoleSchema = Type.Enum(ROLES);

const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  passwordChangedAt: Type.String({ format: 'date-time' }),
  lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const Params = Type.Object({ username: Type.String({ minLength: 1, maxLength: 128 }) });
const Password = Type.String({
  minLength: 1,
  maxLength: MAX_PASSWORD_LENGTH,
  description: 'At least 12 characters',
});
const errors = { '4xx': ErrorBody, '5xx': ErrorBody };

/** `/api/admin/users`: create, list, change role, disable or enable, reset password. Admins only. */
const adminUserRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const admin = { roles: ['admin'] as const };

  app.get(
    '/api/admin/users',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Every account',
        response: { 200: Type.Object({ users: Type.Array(UserView) }), ...errors },
      },
    },
    async () => ({ users: await app.identity.users.list() }),
  );

  app.post(
    '/api/admin/users',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Create an account',
        body: Type.Object(
          { username: Type.String({ minLength: 1, maxLength: 128 }), role: RoleSchema, password: Password },
          { additionalProperties: false },
        ),
        response: { 201: UserView, ...errors },
      },
    },
    async (request, reply) => {
      const user = await app.identity.users.create(request.body);
      await audit(app, request, {
        action: 'user.created',
        outcome: 'success',
        actor: request.actor,
        resource: { type: 'user', id: user.username },
        detail: { role: user.role },
      });
      return reply.code(201).send(user);
    },
  );

  app.get(
    '/api/admin/users/:username',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'One account',
        params: Params,
        response: { 200: UserView, ...errors },
      },
    },
    async (request) => {
      const user = await app.identity.users.get(request.params.username);
      if (!user) throw new IdentityErrors.UserNotFound(request.params.username);
      return user;
    },
  );

  app.patch(
    '/api/admin/users/:username',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: "Change an account's role, or disable or enable it (ends its sessions)",
        params: Params,
        body: Type.Object(
          { role: Type.Optional(RoleSchema), disabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserView, ...errors },
      },
    },
    async (request) => {
      const { username } = request.params;
      const users = app.identity.users;
      let user: User | undefined;
      if (request.body.role !== undefined) {
        const changed = await users.setRole(username, request.body.role);
        user = changed.user;
        if (changed.previous !== changed.user.role)
          await audit(app, request, {
            action: 'user.role.changed',
            outcome: 'success',
            actor: request.actor,
            resource: { type: 'user', id: user.username },
            detail: { from: changed.previous, to: user.role },
          });
      }
      if (request.body.disabled !== undefined) {
        const before = user ?? (await users.get(username));
        user = await users.setDisabled(username, request.body.disabled);
        if (before?.disabled !== user.disabled)
          await audit(app, request, {
            action: user.disabled ? 'user.disabled' : 'user.enabled',
            outcome: 'success',
            actor: request.actor,
            resource: { type: 'user', id: user.username },
          });
      }
      return user!;
    },
  );

  app.post(
    '/api/admin/users/:username/password',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: "Reset an account's password (ends its sessions and lifts a lockout)",
        params: Params,
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 200: UserView, ...errors },
      },
    },
    async (request) => {
      const user = await app.identity.users.resetPassword(request.params.username, request.body.password);
      await audit(app, request, {
        action: 'user.password.changed',
        outcome: 'success',
        actor: request.actor,
        resource: { type: 'user', id: user.username },
      });
      return user;
    },
  );
};

export default adminUserRoutes;
